//! Coupon quotas, partner coupons, customer coupon views and stored-value cards (30-coupons.md),
//! one file per sub-area: `quotas` (own and reseller quotas), `partner_coupons` (issue, list,
//! reclaim, records), `customer_coupons` (own coupons and coupon change records), `cards`.
//!
//! Issue and reclaim accept an `Idempotency-Key` header like funding.

mod cards;
mod customer_coupons;
mod partner_coupons;
mod quotas;

pub use cards::*;
pub use customer_coupons::*;
pub use partner_coupons::*;
pub use quotas::*;

use axum::{extract::State, http::Uri, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    funding::{cn_day_range, parse_amount, YuanNumber},
    max_len, non_empty, time_bound,
};
use crate::{
    db::coupons::{
        CouponChangeFilter, CouponFilter, CouponRow, QuotaFilter, QuotaRecordFilter, QuotaRow,
        RecordFilter,
    },
    domain::{money::fen_to_string, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, IdempotentJson, Paging},
        ErrorBody,
    },
    service::{
        auth::{Caller, CustomerCaller, PartnerCaller},
        coupons::{
            self, Holder, IssueCoupons, IssueResellerQuotas, ItemError, ReclaimCoupon,
            ReclaimResellerQuotas,
        },
        idempotency::{self, IdemRequest},
    },
    state::AppState,
};

fn idem(caller_id: &str, key: Option<String>, digest: String) -> Option<IdemRequest> {
    key.map(|key| IdemRequest {
        caller_id: caller_id.to_string(),
        key,
        request_hash: digest,
    })
}

fn indirect(v: Option<String>) -> Result<Option<String>, ApiError> {
    let v = non_empty(v);
    max_len("indirect_partner_id", v.as_deref(), 64)?;
    Ok(v)
}

/// An integer query parameter given as text: absent ⇒ None; `""` or not a number ⇒ CBC.0100.
pub(crate) fn int_param(field: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be an integer")),
    }
}

fn enum_param(field: &str, v: Option<i64>, allowed: &[i64]) -> Result<Option<i16>, ApiError> {
    match v {
        None => Ok(None),
        Some(x) if allowed.contains(&x) => Ok(Some(x as i16)),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("must be one of {allowed:?}"),
        )),
    }
}

pub(crate) fn paging(offset: Option<&str>, limit: Option<&str>) -> Result<Paging, ApiError> {
    Paging::new(
        int_param("offset", offset)?,
        int_param("limit", limit)?,
        i32::MAX as i64,
    )
}

/// Parses an admin/UTC time that is required.
pub fn required_time(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    time_bound(field, Some(v))?.ok_or_else(|| ApiError::invalid(field, "is required"))
}
