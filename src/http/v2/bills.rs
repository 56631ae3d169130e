//! Bills (40-bills.md): the partner's view of its sub-customers' consumption (ops 1–3 and a CSV
//! export), and the customer's own monthly sums and fee records (ops 4–5).

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

// ---------------------------------------------------------------------------------------------
// 2. Sub-customer consumption records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubCustomerBillDetailQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    /// The sub-customer (required).
    pub customer_id: Option<String>,
    pub service_type_code: Option<String>,
    pub region_code: Option<String>,
    /// 1, 3, 10 or 11.
    pub charging_mode: Option<String>,
    pub bill_detail_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub trade_id: Option<String>,
    pub account_manager_id: Option<String>,
    /// `1` advisory, `2` resale.
    pub association_type: Option<String>,
    pub offset: Option<String>,
    /// 1–1000, default 10.
    pub limit: Option<String>,
    pub indirect_partner_id: Option<String>,
    /// `YYYY-MM-DD` (UTC+8), with `bill_date_end`, both in the cycle's month.
    pub bill_date_begin: Option<String>,
    pub bill_date_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubCustomerMonthlyBillDetail {
    pub bill_cycle: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub charging_mode: i16,
    pub trade_time: String,
    pub trade_id: String,
    pub id: String,
    pub bill_detail_type: i16,
    pub resource_id: String,
    pub resource_name: String,
    pub region_code: String,
    pub product_id: String,
    pub product_name: String,
    pub consume_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_type: Option<String>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_amount: Option<DecimalNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_measure_id: Option<i32>,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub payment_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
}

fn detail(r: FeeDetail) -> SubCustomerMonthlyBillDetail {
    SubCustomerMonthlyBillDetail {
        bill_cycle: cycle_text(r.cycle),
        customer_id: r.customer_id,
        association_type: r.association_type.map(|a| a.to_string()),
        service_type_name: r.service_type_name.unwrap_or_default(),
        resource_type_name: r.resource_type_name.unwrap_or_default(),
        service_type_code: r.service_type_code,
        resource_type_code: r.resource_type_code,
        charging_mode: r.charging_mode,
        trade_time: format_ts(r.trade_time),
        trade_id: r.trade_id,
        id: r.id,
        bill_detail_type: r.bill_type,
        resource_id: r.resource_id,
        resource_name: r.resource_name.unwrap_or_default(),
        region_code: r.region_code,
        product_id: r.product_id,
        product_name: r.product_name.unwrap_or_default(),
        consume_time: format_ts(r.begin_time),
        usage_type: r.usage_type,
        usage_amount: r.usage.map(DecimalNumber),
        usage_measure_id: r.usage_measure_id,
        official_amount: DecimalNumber(r.official_amount),
        official_discount_amount: DecimalNumber(r.discount_amount),
        payment_amount: YuanNumber(r.payable),
        cash_amount: YuanNumber(r.cash),
        credit_amount: YuanNumber(r.credit),
        coupon_amount: YuanNumber(r.coupon),
        flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
        stored_value_card_amount: YuanNumber(r.card),
        debt_amount: YuanNumber(r.debt),
        writeoff_amount: YuanNumber(r.writeoff),
        account_manager_id: r.manager_id,
        partner_id: r.partner_id,
        enterprise_project_id: r.enterprise_project_id,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomerBillDetailResponse {
    pub total_count: i64,
    pub currency: String,
    pub fee_records: Vec<SubCustomerMonthlyBillDetail>,
}

/// Near real-time consumption records of one sub-customer, charged while it was associated with
/// the partner (a distributor's include its resellers' customers; `indirect_partner_id` narrows
/// to one reseller). A customer manager sees only records charged while the customer was assigned
/// to it; a supervisor must name `account_manager_id`.
#[utoipa::path(get, path = "/v2/bills/subcustomer-bills/res-fee-records", tag = "bills",
    params(ListSubCustomerBillDetailQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListSubCustomerBillDetailResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customer_bill_detail(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListSubCustomerBillDetailQuery>,
) -> ApiResult<Json<ListSubCustomerBillDetailResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let customer_id =
        given(q.customer_id).ok_or_else(|| ApiError::invalid("customer_id", "is required"))?;
    if customer_id.chars().count() > 64 {
        return Err(ApiError::invalid(
            "customer_id",
            "must be at most 64 characters",
        ));
    }
    let service_type_code = text_filter(q.service_type_code);
    let region_code = text_filter(q.region_code);
    if q.charging_mode.as_deref() == Some("\"\"") {
        return Err(ApiError::invalid("charging_mode", "must not be \"\""));
    }
    let charging_mode = int_filter("charging_mode", q.charging_mode, CHARGING_MODES, true)?;
    if q.bill_detail_type.as_deref() == Some("\"\"") {
        return Err(ApiError::invalid("bill_detail_type", "must not be \"\""));
    }
    let bill_type = int_filter(
        "bill_detail_type",
        q.bill_detail_type,
        BILL_DETAIL_TYPES,
        true,
    )?;
    let resource_id = strict_filter("resource_id", q.resource_id)?;
    let resource_name = strict_filter("resource_name", q.resource_name)?;
    let trade_id = strict_filter("trade_id", q.trade_id)?;
    let manager = strict_filter("account_manager_id", q.account_manager_id)?;
    for (f, v, n) in [
        ("service_type_code", &service_type_code, 64),
        ("region_code", &region_code, 64),
        ("resource_id", &resource_id, 128),
        ("resource_name", &resource_name, 256),
        ("trade_id", &trade_id, 128),
        ("account_manager_id", &manager, 64),
    ] {
        max_len(f, v, n)?;
    }
    let association_type = match q.association_type.as_deref() {
        None | Some("") => None,
        Some("1") => Some(1),
        Some("2") => Some(2),
        Some(_) => return Err(ApiError::invalid("association_type", "must be 1 or 2")),
    };
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let (from, until) = date_window(cycle, q.bill_date_begin, q.bill_date_end)?;
    let (account_manager_id, manager_null) = match manager {
        Some(TextFilter::Is(m)) => (Some(m), false),
        Some(_) => (None, true),
        None => (None, false),
    };
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code,
        region_code,
        resource_id,
        resource_name,
        trade_id,
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        association_type,
        from,
        until,
        manager_null,
        ..Default::default()
    };
    let (total_count, rows) = bills::partner_details(
        &app,
        &caller,
        PartnerDetailQuery {
            filter,
            customer_id,
            indirect_partner_id: given(q.indirect_partner_id),
            account_manager_id,
            english: english(&headers),
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListSubCustomerBillDetailResponse {
        total_count,
        currency: "CNY".into(),
        fee_records: rows.into_iter().map(detail).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 1. Sub-customer monthly sums

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubcustomerMonthlyBillsQuery {
    pub customer_id: Option<String>,
    /// `YYYY-MM` (required).
    pub cycle: Option<String>,
    pub cloud_service_type: Option<String>,
    /// `1` yearly/monthly, `3` pay-per-use, `11` savings plan (required).
    pub charge_mode: Option<String>,
    pub offset: Option<String>,
    /// 1–100, default 10.
    pub limit: Option<String>,
    /// `0` consumption, `1` unsubscribe (refund), `2` write-off (adjustment).
    pub bill_type: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceTypeDeductSumV2 {
    pub balance_type: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub bill_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillSumInfoV2 {
    pub customer_id: String,
    pub cloud_service_type: String,
    pub cloud_service_type_name: String,
    pub resource_type_code: String,
    pub resource_type_name: String,
    pub bill_type: String,
    pub charge_mode: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_amount: Option<YuanNumber>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustment_amount: Option<YuanNumber>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<DecimalNumber>,
    pub measure_id: i32,
    pub account_details: Vec<BalanceTypeDeductSumV2>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubcustomerMonthlyBillsResponse {
    pub count: i64,
    pub currency: String,
    pub bill_sums: Vec<BillSumInfoV2>,
}

/// The payment split of a sum as `account_details` (non-zero parts only).
fn account_details(r: &SumRow, bill_type: &str) -> Vec<BalanceTypeDeductSumV2> {
    [
        ("BALANCE_TYPE_DEBIT", r.cash),
        ("BALANCE_TYPE_CREDIT", r.credit),
        ("BALANCE_TYPE_COUPON", r.coupon),
        ("BALANCE_TYPE_RCASH_COUPON", r.cash_coupon),
        ("BALANCE_TYPE_STORED_VALUE_CARD", r.card),
    ]
    .into_iter()
    .filter(|(_, fen)| *fen != 0)
    .map(|(t, fen)| BalanceTypeDeductSumV2 {
        balance_type: t.into(),
        amount: YuanNumber(fen),
        bill_type: bill_type.into(),
    })
    .collect()
}

/// Monthly consumption of the partner's resale customers paid with partner-allocated funds, one
/// row per (customer, service type, resource type, bill type, charge mode).
#[utoipa::path(get, path = "/v2/bills/partner-bills/subcustomer-bills/monthly-sum", tag = "bills",
    params(ListSubcustomerMonthlyBillsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListSubcustomerMonthlyBillsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_subcustomer_monthly_bills(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListSubcustomerMonthlyBillsQuery>,
) -> ApiResult<Json<ListSubcustomerMonthlyBillsResponse>> {
    let cycle = parse_cycle("cycle", q.cycle)?;
    let charge_mode = match given(q.charge_mode).as_deref() {
        None => return Err(ApiError::invalid("charge_mode", "is required")),
        Some("1") => 1,
        Some("3") => 3,
        Some("11") => 11,
        Some(_) => return Err(ApiError::invalid("charge_mode", "must be 1, 3 or 11")),
    };
    let bill_type = match given(q.bill_type).as_deref() {
        None => None,
        Some("0") => Some(1),
        Some("1") => Some(2),
        Some("2") => Some(3),
        Some(_) => return Err(ApiError::invalid("bill_type", "must be 0, 1 or 2")),
    };
    let customer_id = given(q.customer_id);
    if customer_id.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(ApiError::invalid(
            "customer_id",
            "must be at most 64 characters",
        ));
    }
    let service = given(q.cloud_service_type);
    if service.as_ref().is_some_and(|c| c.chars().count() > 256) {
        return Err(ApiError::invalid(
            "cloud_service_type",
            "must be at most 256 characters",
        ));
    }
    let (offset, limit) = paging(q.offset, q.limit, 100)?;
    let (count, rows) = bills::partner_sums(
        &app,
        &caller,
        PartnerSumQuery {
            filter: SumFilter {
                cycle: Some(cycle),
                service_type_code: service,
                charging_mode: Some(charge_mode),
                bill_type,
                ..Default::default()
            },
            customer_id,
            indirect_partner_id: given(q.indirect_partner_id),
            english: english(&headers),
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListSubcustomerMonthlyBillsResponse {
        count,
        currency: "CNY".into(),
        bill_sums: rows
            .into_iter()
            .map(|r| {
                let wire_type = match r.bill_type {
                    2 => "1",
                    3 => "2",
                    _ => "0",
                };
                let consumption = wire_type == "0";
                BillSumInfoV2 {
                    account_details: account_details(&r, wire_type),
                    cloud_service_type_name: r.service_type_name.clone().unwrap_or_default(),
                    resource_type_name: r.resource_type_name.clone().unwrap_or_default(),
                    customer_id: r.customer_id,
                    cloud_service_type: r.service_type_code,
                    resource_type_code: r.resource_type_code,
                    bill_type: wire_type.into(),
                    charge_mode: r.charging_mode.to_string(),
                    amount: YuanNumber(r.payable),
                    debt_amount: consumption.then_some(YuanNumber(r.debt)),
                    adjustment_amount: consumption.then_some(YuanNumber(r.writeoff)),
                    discount_amount: consumption.then_some(DecimalNumber(r.discount_amount)),
                    measure_id: 1,
                }
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 3. Sub-customers with consumption in a cycle

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListConsumeSubCustomersReq {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubCustomerInfoV3 {
    pub customer_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListConsumeSubCustomersResponse {
    pub sub_customers: Vec<SubCustomerInfoV3>,
    pub total_count: i64,
}

/// Customers that consumed during the cycle while associated with the partner (also those no
/// longer associated).
#[utoipa::path(post, path = "/v2/bills/subcustomer-bills/res-fee-records/sub-customers/query", tag = "bills",
    request_body = ListConsumeSubCustomersReq,
    responses((status = 200, body = ListConsumeSubCustomersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_consume_sub_customers(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ListConsumeSubCustomersReq>,
) -> ApiResult<Json<ListConsumeSubCustomersResponse>> {
    let cycle = parse_cycle("bill_cycle", req.bill_cycle)?;
    let offset = req.offset.unwrap_or(0);
    let limit = req.limit.unwrap_or(10);
    if !(0..=2_147_483_646).contains(&offset) {
        return Err(ApiError::invalid(
            "offset",
            "must be between 0 and 2147483646",
        ));
    }
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let (total_count, ids) =
        bills::consuming_customers(&app, &caller, cycle, offset, limit).await?;
    Ok(Json(ListConsumeSubCustomersResponse {
        sub_customers: ids
            .into_iter()
            .map(|customer_id| SubCustomerInfoV3 { customer_id })
            .collect(),
        total_count,
    }))
}

// ---------------------------------------------------------------------------------------------
// Export (extension): a cycle's consumption records as CSV, streamed

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    pub indirect_partner_id: Option<String>,
}

/// CSV header of the export; one row per fee record, in the detail API's field names.
pub const EXPORT_HEADER: &str = "bill_cycle,id,customer_id,account_name,association_type,\
account_manager_id,service_type_code,service_type_name,resource_type_code,resource_type_name,\
region_code,product_id,product_name,resource_id,resource_name,charging_mode,bill_detail_type,\
usage_type,usage_amount,usage_measure_id,consume_time,trade_time,trade_id,official_amount,\
official_discount_amount,erase_amount,payment_amount,coupon_amount,flexipurchase_coupon_amount,\
stored_value_card_amount,cash_amount,credit_amount,debt_amount,writeoff_amount\n";

fn csv_field(out: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// One fee record as a CSV line.
pub fn csv_line(r: &FeeDetail) -> String {
    let yuan = |f: i64| fen_to_yuan(f).to_string();
    let fields: [String; 34] = [
        cycle_text(r.cycle),
        r.id.clone(),
        r.customer_id.clone(),
        r.account_name.clone().unwrap_or_default(),
        r.association_type
            .map(|a| a.to_string())
            .unwrap_or_default(),
        r.manager_id.clone().unwrap_or_default(),
        r.service_type_code.clone(),
        r.service_type_name.clone().unwrap_or_default(),
        r.resource_type_code.clone(),
        r.resource_type_name.clone().unwrap_or_default(),
        r.region_code.clone(),
        r.product_id.clone(),
        r.product_name.clone().unwrap_or_default(),
        r.resource_id.clone(),
        r.resource_name.clone().unwrap_or_default(),
        r.charging_mode.to_string(),
        r.bill_type.to_string(),
        r.usage_type.clone().unwrap_or_default(),
        r.usage
            .map(|u| u.normalize().to_string())
            .unwrap_or_default(),
        r.usage_measure_id
            .map(|m| m.to_string())
            .unwrap_or_default(),
        format_ts(r.begin_time),
        format_ts(r.trade_time),
        r.trade_id.clone(),
        r.official_amount.normalize().to_string(),
        r.discount_amount.normalize().to_string(),
        r.erase_amount.normalize().to_string(),
        yuan(r.payable),
        yuan(r.coupon),
        yuan(r.cash_coupon),
        yuan(r.card),
        yuan(r.cash),
        yuan(r.credit),
        yuan(r.debt),
        yuan(r.writeoff),
    ];
    let mut out = String::with_capacity(256);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, f);
    }
    out.push('\n');
    out
}

/// A cycle's consumption records of the partner's sub-customers as CSV (UTF-8, header row),
/// streamed from the database: rows are never all in memory.
#[utoipa::path(get, path = "/v2/bills/subcustomer-bills/res-fee-records/export", tag = "bills",
    params(ExportQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn export_sub_customer_bill_detail(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let (scope, managers) =
        bills::export_scope(&app, &caller, given(q.indirect_partner_id).as_deref()).await?;
    let en = english(&headers);
    let pool = app.db.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
    tokio::spawn(async move {
        let _ = tx.send(Ok(EXPORT_HEADER.to_string())).await;
        let mut q = crate::db::bills::export_query(&scope, cycle, en);
        let mut rows = q.build_query_as::<FeeDetail>().fetch(&pool);
        let mut chunk = String::with_capacity(64 * 1024);
        loop {
            match rows.try_next().await {
                Ok(Some(r)) => {
                    if managers
                        .as_ref()
                        .is_some_and(|ms| !r.manager_id.as_ref().is_some_and(|m| ms.contains(m)))
                    {
                        continue;
                    }
                    chunk.push_str(&csv_line(&r));
                    if chunk.len() >= 60 * 1024 {
                        let full = std::mem::replace(&mut chunk, String::with_capacity(64 * 1024));
                        if tx.send(Ok(full)).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.send(Ok(chunk)).await;
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let name = format!(
        "attachment; filename=\"fee-records-{}.csv\"",
        cycle_text(cycle)
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, name)
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}

// ---------------------------------------------------------------------------------------------
// 4. Customer monthly summary

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowCustomerMonthlySumQuery {
    /// `YYYY-MM` (UTC+8, required).
    pub bill_cycle: Option<String>,
    pub service_type_code: Option<String>,
    /// `0` default project, `-1` not grouped; `null` filters; `""` invalid.
    pub enterprise_project_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// `oneself` | `sub_customer` | `all` (default).
    pub method: Option<String>,
    /// Required iff `method=sub_customer`.
    pub sub_customer_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillSumRecordInfoV2 {
    pub bill_cycle: String,
    pub resource_type_code: String,
    pub service_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub charging_mode: i16,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub truncated_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    pub measure_id: i32,
    /// `1` consumption, `2` refund, `3` adjustment.
    pub bill_type: i16,
    pub customer_id: String,
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowCustomerMonthlySumResponse {
    pub total_count: i64,
    pub bill_sums: Vec<BillSumRecordInfoV2>,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    pub measure_id: i32,
    pub currency: String,
}

/// `method` / `sub_customer_id`: whose records a customer reads. Enterprise sub-accounts do not
/// exist here, so `sub_customer` names a customer that is not the caller's and matches nothing.
fn method_customers(
    me: &str,
    method: Option<String>,
    sub_customer_id: Option<String>,
) -> Result<Vec<String>, ApiError> {
    match given(method).as_deref() {
        None | Some("all") | Some("oneself") => Ok(vec![me.to_string()]),
        Some("sub_customer") => {
            let sub = given(sub_customer_id).ok_or_else(|| {
                ApiError::invalid("sub_customer_id", "is required when method=sub_customer")
            })?;
            // No enterprise sub-accounts: no sub-customer (not even the caller itself) matches.
            let _ = sub;
            Ok(vec![])
        }
        Some(_) => Err(ApiError::invalid(
            "method",
            "must be oneself, sub_customer or all",
        )),
    }
}

/// The calling customer's consumption summary of one month.
#[utoipa::path(get, path = "/v2/bills/customer-bills/monthly-sum", tag = "bills",
    params(ShowCustomerMonthlySumQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ShowCustomerMonthlySumResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_monthly_sum(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ShowCustomerMonthlySumQuery>,
) -> ApiResult<Json<ShowCustomerMonthlySumResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let ep = strict_filter("enterprise_project_id", q.enterprise_project_id)?;
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let customers = method_customers(&caller.account_id, q.method, q.sub_customer_id)?;
    let filter = SumFilter {
        cycle: Some(cycle),
        service_type_code: given(q.service_type_code),
        enterprise_project_id: ep,
        ..Default::default()
    };
    let (total_count, rows, t) = if customers.is_empty() {
        (0, Vec::new(), Default::default())
    } else {
        bills::own_sums(
            &app,
            &caller.account_id,
            filter,
            english(&headers),
            offset,
            limit,
        )
        .await?
    };
    Ok(Json(ShowCustomerMonthlySumResponse {
        total_count,
        bill_sums: rows
            .into_iter()
            .map(|r| BillSumRecordInfoV2 {
                bill_cycle: cycle_text(cycle),
                service_type_name: r.service_type_name.unwrap_or_default(),
                resource_type_name: r.resource_type_name.unwrap_or_default(),
                resource_type_code: r.resource_type_code,
                service_type_code: r.service_type_code,
                charging_mode: r.charging_mode,
                official_amount: DecimalNumber(r.official_amount),
                official_discount_amount: DecimalNumber(r.discount_amount),
                truncated_amount: DecimalNumber(r.erase_amount),
                consume_amount: YuanNumber(r.payable),
                coupon_amount: YuanNumber(r.coupon),
                flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
                stored_value_card_amount: YuanNumber(r.card),
                debt_amount: YuanNumber(r.debt),
                writeoff_amount: YuanNumber(r.writeoff),
                cash_amount: YuanNumber(r.cash),
                credit_amount: YuanNumber(r.credit),
                measure_id: 1,
                bill_type: r.bill_type,
                customer_id: r.customer_id,
                account_name: r.account_name.unwrap_or_default(),
            })
            .collect(),
        consume_amount: YuanNumber(t.payable),
        debt_amount: YuanNumber(t.debt),
        coupon_amount: YuanNumber(t.coupon),
        flexipurchase_coupon_amount: YuanNumber(t.cash_coupon),
        stored_value_card_amount: YuanNumber(t.card),
        cash_amount: YuanNumber(t.cash),
        credit_amount: YuanNumber(t.credit),
        writeoff_amount: YuanNumber(t.writeoff),
        measure_id: 1,
        currency: "CNY".into(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 5. Customer fee records (流水账单)

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerBillsFeeRecordsQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    /// `1` Huawei Cloud, `2` marketplace.
    pub provider_type: Option<String>,
    pub service_type_code: Option<String>,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub charging_mode: Option<String>,
    pub bill_type: Option<String>,
    pub trade_id: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// Include records whose payable amount is 0 (default false).
    pub include_zero_record: Option<String>,
    /// `1` paid, `2` not settled (arrears), `3` not billed.
    pub status: Option<String>,
    pub method: Option<String>,
    pub sub_customer_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub bill_date_begin: Option<String>,
    pub bill_date_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyBillRecord {
    pub bill_cycle: String,
    pub customer_id: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub region_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    pub charging_mode: i16,
    pub consume_time: String,
    pub trade_time: String,
    pub provider_type: i16,
    pub trade_id: String,
    pub id: String,
    pub bill_type: i16,
    pub status: i16,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub erase_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub bonus_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerBillsFeeRecordsResponse {
    pub total_count: i64,
    pub records: Vec<MonthlyBillRecord>,
    pub currency: String,
}

pub(crate) fn bool_param(field: &str, v: Option<String>) -> Result<Option<bool>, ApiError> {
    match given(v).as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(field, "must be true or false")),
    }
}

/// The calling customer's fee records of one month.
#[utoipa::path(get, path = "/v2/bills/customer-bills/fee-records", tag = "bills",
    params(ListCustomerBillsFeeRecordsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListCustomerBillsFeeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_bills_fee_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListCustomerBillsFeeRecordsQuery>,
) -> ApiResult<Json<ListCustomerBillsFeeRecordsResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let provider = int_filter("provider_type", q.provider_type, &[1, 2], false)?;
    let charging_mode = int_filter("charging_mode", q.charging_mode, CHARGING_MODES, false)?;
    let bill_type = int_filter("bill_type", q.bill_type, BILL_DETAIL_TYPES, false)?;
    let status = int_filter("status", q.status, &[1, 2, 3], false)?;
    let include_zero = bool_param("include_zero_record", q.include_zero_record)?.unwrap_or(false);
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let (from, until) = date_window(cycle, q.bill_date_begin, q.bill_date_end)?;
    let customers = method_customers(&caller.account_id, q.method, q.sub_customer_id)?;
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code: given(q.service_type_code).map(TextFilter::Is),
        resource_type_code: given(q.resource_type_code).map(TextFilter::Is),
        region_code: given(q.region_code).map(TextFilter::Is),
        trade_id: given(q.trade_id).map(TextFilter::Is),
        enterprise_project_id: given(q.enterprise_project_id).map(TextFilter::Is),
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        from,
        until,
        skip_zero: !include_zero,
        in_arrears: status.map(|s| s == 2),
        ..Default::default()
    };
    // Every record here is a Huawei Cloud one and billed: marketplace or not-billed filters match
    // nothing.
    let none = provider == Some(2) || status == Some(3) || customers.is_empty();
    let (total_count, rows) = if none {
        (0, Vec::new())
    } else {
        bills::own_details(
            &app,
            &caller.account_id,
            filter,
            english(&headers),
            offset,
            limit,
        )
        .await?
    };
    Ok(Json(ListCustomerBillsFeeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows
            .into_iter()
            .map(|r| MonthlyBillRecord {
                bill_cycle: cycle_text(r.cycle),
                customer_id: r.customer_id,
                service_type_name: r.service_type_name.unwrap_or_default(),
                resource_type_name: r.resource_type_name.unwrap_or_default(),
                service_type_code: r.service_type_code,
                resource_type_code: r.resource_type_code,
                region_code: r.region_code,
                enterprise_project_id: r.enterprise_project_id,
                charging_mode: r.charging_mode,
                consume_time: format_ts(r.begin_time),
                trade_time: format_ts(r.trade_time),
                provider_type: 1,
                trade_id: r.trade_id,
                id: r.id,
                bill_type: r.bill_type,
                status: if r.debt != 0 { 2 } else { 1 },
                official_amount: DecimalNumber(r.official_amount),
                official_discount_amount: DecimalNumber(r.discount_amount),
                erase_amount: DecimalNumber(r.erase_amount),
                consume_amount: YuanNumber(r.payable),
                cash_amount: YuanNumber(r.cash),
                credit_amount: YuanNumber(r.credit),
                coupon_amount: YuanNumber(r.coupon),
                flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
                stored_value_card_amount: YuanNumber(r.card),
                bonus_amount: YuanNumber(0),
                debt_amount: YuanNumber(r.debt),
                writeoff_amount: YuanNumber(r.writeoff),
                account_name: r.account_name.unwrap_or_default(),
            })
            .collect(),
    }))
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

// ---------------------------------------------------------------------------------------------
// Partner-granted discount (extension): discount_type 3 on the customer's charges

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetCustomerDiscountReq {
    pub customer_id: String,
    /// A decimal string in (0, 1] with at most 4 decimals (`"0.85"` = pay 85 %); `null` removes
    /// the discount.
    pub discount_rate: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDiscountResponse {
    pub customer_id: String,
    /// `3` partner-granted.
    pub discount_type: i32,
    /// The rate in force (`null` when none).
    pub discount_rate: Option<String>,
}

/// Set or remove the discount rate a partner grants one of its sub-customers; charges from then
/// on are payable at official price × rate (`official_discount_amount` shows the difference).
#[utoipa::path(put, path = "/v2/partners/sub-customers/discounts", tag = "bills",
    request_body = SetCustomerDiscountReq,
    responses((status = 200, body = CustomerDiscountResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn set_customer_discount(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<SetCustomerDiscountReq>,
) -> ApiResult<Json<CustomerDiscountResponse>> {
    if req.customer_id.is_empty() || req.customer_id.chars().count() > 64 {
        return Err(ApiError::invalid("customer_id", "must be 1-64 characters"));
    }
    let rate = match req.discount_rate.as_deref() {
        None => None,
        Some(s) => {
            let d = Decimal::from_str(s)
                .map_err(|_| ApiError::invalid("discount_rate", "must be a decimal string"))?;
            if d <= Decimal::ZERO || d > Decimal::ONE || d.normalize().scale() > 4 {
                return Err(ApiError::invalid(
                    "discount_rate",
                    "must be greater than 0 and at most 1, with at most 4 decimals",
                ));
            }
            Some(d.normalize())
        }
    };
    let set = crate::service::usage_money::set_partner_discount(
        &app,
        &caller,
        &req.customer_id,
        given(req.indirect_partner_id).as_deref(),
        rate,
    )
    .await?;
    Ok(Json(CustomerDiscountResponse {
        customer_id: req.customer_id,
        discount_type: 3,
        discount_rate: set.map(|d| d.to_string()),
    }))
}
