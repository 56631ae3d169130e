//! Bills (40-bills.md): the partner's view of its sub-customers' consumption (`partner`: ops 1–3;
//! `export`: a CSV export), the customer's own monthly sums and fee records (`customer`: ops 4–5)
//! and the partner-granted discount (`discounts`). Shared parsing helpers live here.

mod customer;
mod discounts;
mod export;
mod partner;

pub use customer::*;
pub use discounts::*;
pub use export::*;
pub use partner::*;

use std::str::FromStr;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap},
    response::Response,
    Json,
};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::bills::{DetailFilter, FeeDetail, SumFilter, SumRow, TextFilter},
    domain::{money::fen_to_yuan, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::funding::YuanNumber,
        ErrorBody,
    },
    service::{
        auth::{CustomerCaller, PartnerCaller},
        bills::{self, PartnerDetailQuery, PartnerSumQuery},
    },
    state::AppState,
};

/// An exact decimal as a JSON number (no float on the way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalNumber(pub Decimal);

impl Serialize for DecimalNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = serde_json::Number::from_str(&self.0.normalize().to_string())
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
}

/// `X-Language`: `en_us` (any case) names things in English; anything else in Chinese.
pub fn english(headers: &HeaderMap) -> bool {
    headers
        .get("x-language")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("en_us"))
}

pub(crate) fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// `YYYY-MM` → the first day of that month.
pub fn parse_cycle(field: &str, v: Option<String>) -> Result<NaiveDate, ApiError> {
    let s = given(v).ok_or_else(|| ApiError::invalid(field, "is required"))?;
    if s.len() != 7 {
        return Err(ApiError::invalid(field, "must be YYYY-MM"));
    }
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be YYYY-MM"))
}

pub(crate) fn parse_date(field: &str, v: &str) -> Result<NaiveDate, ApiError> {
    if v.len() != 10 {
        return Err(ApiError::invalid(field, "must be YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be YYYY-MM-DD"))
}

/// A text filter where `""` and `null` are filters (they match records with an empty / no value).
fn text_filter(v: Option<String>) -> Option<TextFilter> {
    match given(v)?.as_str() {
        "\"\"" => Some(TextFilter::Empty),
        "null" => Some(TextFilter::Null),
        s => Some(TextFilter::Is(s.to_string())),
    }
}

/// A text filter where `null` is a filter and `""` is invalid.
fn strict_filter(field: &str, v: Option<String>) -> Result<Option<TextFilter>, ApiError> {
    match text_filter(v) {
        Some(TextFilter::Empty) => Err(ApiError::invalid(field, "must not be \"\"")),
        other => Ok(other),
    }
}

pub(crate) fn max_len(field: &str, v: &Option<TextFilter>, max: usize) -> Result<(), ApiError> {
    if let Some(TextFilter::Is(s)) = v {
        if s.chars().count() > max {
            return Err(ApiError::invalid(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
    Ok(())
}

/// An integer enum filter: absent/empty (and `null` when `null_is_absent`) ⇒ none; `""` invalid.
pub(crate) fn int_filter(
    field: &str,
    v: Option<String>,
    allowed: &[i16],
    null_is_absent: bool,
) -> Result<Option<i16>, ApiError> {
    let Some(s) = given(v) else { return Ok(None) };
    if s == "null" && null_is_absent {
        return Ok(None);
    }
    let n: i16 = s
        .parse()
        .map_err(|_| ApiError::invalid(field, "must be an integer"))?;
    if !allowed.contains(&n) {
        return Err(ApiError::invalid(
            field,
            format!("must be one of {allowed:?}"),
        ));
    }
    Ok(Some(n))
}

fn int_param(field: &str, v: Option<String>) -> Result<Option<i64>, ApiError> {
    match given(v) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be an integer")),
    }
}

pub(crate) fn paging(
    offset: Option<String>,
    limit: Option<String>,
    max_limit: i64,
) -> Result<(i64, i64), ApiError> {
    let offset = int_param("offset", offset)?.unwrap_or(0);
    let limit = int_param("limit", limit)?.unwrap_or(10);
    if !(0..=i64::from(i32::MAX)).contains(&offset) {
        return Err(ApiError::invalid(
            "offset",
            "must be between 0 and 2147483647",
        ));
    }
    if !(1..=max_limit).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {max_limit}"),
        ));
    }
    Ok((offset, limit))
}

/// The detailed bill types (`bill_type` / `bill_detail_type`).
pub const BILL_DETAIL_TYPES: &[i16] = &[1, 2, 3, 4, 5, 8, 9, 14, 16, 18, 20, 23, 24, 25, 103];
pub(crate) const CHARGING_MODES: &[i16] = &[1, 3, 10, 11];

/// A usage time window (UTC): `bill_date_begin`/`bill_date_end` both given, or none.
type Window = (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

fn date_window(
    cycle: NaiveDate,
    begin: Option<String>,
    end: Option<String>,
) -> Result<Window, ApiError> {
    match (given(begin), given(end)) {
        (Some(b), Some(e)) => {
            let (from, until) = bills::date_window(
                cycle,
                parse_date("bill_date_begin", &b)?,
                parse_date("bill_date_end", &e)?,
            )?;
            Ok((Some(from), Some(until)))
        }
        // Only both together narrow the cycle.
        _ => Ok((None, None)),
    }
}

pub(crate) fn cycle_text(c: NaiveDate) -> String {
    c.format("%Y-%m").to_string()
}

pub(crate) fn bool_param(field: &str, v: Option<String>) -> Result<Option<bool>, ApiError> {
    match given(v).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(field, "must be true or false")),
    }
}

/// The routes of this file.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_subcustomer_monthly_bills))
        .routes(routes!(list_sub_customer_bill_detail))
        .routes(routes!(list_consume_sub_customers))
        .routes(routes!(export_sub_customer_bill_detail))
        .routes(routes!(show_customer_monthly_sum))
        .routes(routes!(list_customer_bills_fee_records))
        .routes(routes!(set_customer_discount))
}
