//! A customer's resource consumption records (40-bills.md §6 `list_customerself_resource_records`
//! and §7 `list_customerself_resource_record_details`): its fee records one by one, or summed per
//! usage line for the whole cycle or per UTC+8 day. Customer credentials only (a partner's get
//! 403 CBC.0151 from the `CustomerCaller` extractor).

use axum::{extract::State, http::HeaderMap, Json};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::{
        bills::{DetailFilter, TextFilter},
        resource_bills::Statistic,
    },
    domain::{
        bill_formula::{formula, FormulaParts},
        time::format_ts,
    },
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::{
            bills::{
                bool_param, cycle_text, english, given, int_filter, max_len, paging, parse_cycle,
                parse_date, DecimalNumber, BILL_DETAIL_TYPES, CHARGING_MODES,
            },
            funding::YuanNumber,
        },
        ErrorBody,
    },
    service::{
        auth::CustomerCaller,
        bills::cn_day_start,
        resource_bills::{self, ResLine, ResQuery},
    },
    state::AppState,
};

/// `method` / `sub_customer_id`: whose records a customer reads. Enterprise sub-accounts do not
/// exist here: `all` and `oneself` are the caller's own records, `sub_customer` matches nothing.
fn method_customers(
    me: &str,
    method: Option<String>,
    sub_customer_id: Option<String>,
) -> Result<Vec<String>, ApiError> {
    match given(method).as_deref() {
        None | Some("all") | Some("oneself") => Ok(vec![me.to_string()]),
        Some("sub_customer") => match sub_customer_id {
            // Present (even empty) names the sub-accounts to read: there are none.
            Some(_) => Ok(Vec::new()),
            None => Err(ApiError::invalid(
                "sub_customer_id",
                "is required when method=sub_customer",
            )),
        },
        Some(_) => Err(ApiError::invalid(
            "method",
            "must be oneself, sub_customer or all",
        )),
    }
}

/// The first and last day of a cycle.
fn cycle_days(cycle: NaiveDate) -> (NaiveDate, NaiveDate) {
    let next = if cycle.month() == 12 {
        NaiveDate::from_ymd_opt(cycle.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(cycle.year(), cycle.month() + 1, 1)
    }
    .expect("a month's successor");
    (cycle, next.pred_opt().expect("a month's last day"))
}

/// `bill_date_begin`/`bill_date_end` style bounds (either may be left out: the cycle's first /
/// last day) as the UTC window over the usage's begin time; none when both are absent.
fn day_window(
    cycle: NaiveDate,
    (begin_field, begin): (&str, Option<String>),
    (end_field, end): (&str, Option<String>),
) -> Result<DetailFilter, ApiError> {
    let (begin, end) = (given(begin), given(end));
    if begin.is_none() && end.is_none() {
        return Ok(DetailFilter::default());
    }
    let (first, last) = cycle_days(cycle);
    let b = begin.map(|b| parse_date(begin_field, &b)).transpose()?;
    let e = end.map(|e| parse_date(end_field, &e)).transpose()?;
    let (b, e) = (b.unwrap_or(first), e.unwrap_or(last));
    for (field, d) in [(begin_field, b), (end_field, e)] {
        if !(first..=last).contains(&d) {
            return Err(ApiError::invalid(
                field,
                "must be in the month of the cycle",
            ));
        }
    }
    if b > e {
        return Err(ApiError::invalid(
            begin_field,
            format!("must not be after {end_field}"),
        ));
    }
    let (from, until) = (cn_day_start(b), cn_day_start(e) + Duration::days(1));
    Ok(DetailFilter {
        from: Some(from),
        until: Some(until),
        ..Default::default()
    })
}

fn statistic(v: Option<i64>, default: Statistic) -> Result<Statistic, ApiError> {
    match v {
        None => Ok(default),
        Some(n) => Statistic::from_code(n)
            .ok_or_else(|| ApiError::invalid("statistic_type", "must be 1, 2 or 3")),
    }
}

fn int_text(field: &str, v: Option<String>) -> Result<Option<i64>, ApiError> {
    given(v)
        .map(|s| {
            s.parse()
                .map_err(|_| ApiError::invalid(field, "must be an integer"))
        })
        .transpose()
}

// ---------------------------------------------------------------------------------------------
// 6. list_customerself_resource_records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerselfResourceRecordsQuery {
    /// `YYYY-MM` (UTC+8, required).
    pub cycle: Option<String>,
    /// Absent ⇒ no filter; present (even empty, or `""`/`null` literally) ⇒ filter.
    pub cloud_service_type: Option<String>,
    pub region: Option<String>,
    /// `1`, `3`, `10` or `11`; empty or `null` is invalid.
    pub charge_mode: Option<String>,
    /// A detailed bill type (5 usage, 4 refund, …).
    pub bill_type: Option<String>,
    pub offset: Option<String>,
    /// 1–1000, default 10.
    pub limit: Option<String>,
    pub resource_id: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// `false` leaves out records whose amount is 0; absent or `true` includes them.
    pub include_zero_record: Option<String>,
    /// `oneself` | `sub_customer` | `all` (default).
    pub method: Option<String>,
    /// Required iff `method=sub_customer`.
    pub sub_customer_id: Option<String>,
    pub trade_id: Option<String>,
    /// `YYYY-MM-DD` (UTC+8) in the cycle, default its first day; ignored for `statistic_type=1`.
    pub bill_date_begin: Option<String>,
    /// `YYYY-MM-DD` (UTC+8) in the cycle, default its last day; ignored for `statistic_type=1`.
    pub bill_date_end: Option<String>,
    /// `1` per cycle, `2` per day, `3` per detail (default).
    pub statistic_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResFeeRecordV2 {
    /// The UTC+8 day (`YYYY-MM-DD`); absent for `statistic_type=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_date: Option<String>,
    pub bill_type: i16,
    pub customer_id: String,
    pub region: String,
    pub cloud_service_type: String,
    pub resource_type: String,
    pub cloud_service_type_name: String,
    pub resource_type_name: String,
    /// Usage begin (earliest of the group).
    pub effective_time: String,
    /// Usage end (latest of the group).
    pub expire_time: String,
    pub resource_id: String,
    pub resource_name: String,
    pub product_id: String,
    pub product_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_spec_desc: Option<String>,
    /// The group's trade id when all its records share one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    /// The fee record (per day: the day's first); absent for `statistic_type=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub trade_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// `1`, `3`, `10` or `11`.
    pub charge_mode: String,
    /// `19` year, `20` month, `24` day, `25` hour, `5` one-off; absent for pay-per-use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_type: Option<String>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<DecimalNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_measure_id: Option<i32>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<DecimalNumber>,
    /// `元/小时`, `CNY/hour`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub discount_amount: DecimalNumber,
    /// = cash + credit + coupon + flexipurchase_coupon + stored_card + bonus + debt + adjustment.
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub bonus_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    /// Arrears written off.
    #[schema(value_type = f64)]
    pub adjustment_amount: YuanNumber,
    /// `1` yuan.
    pub measure_id: i32,
    /// How `amount − coupon_amount` came about; absent for `statistic_type=1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The usage's begin time (`statistic_type=3` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_time: Option<String>,
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerselfResourceRecordsResponse {
    pub fee_records: Vec<ResFeeRecordV2>,
    pub total_count: i64,
    pub currency: String,
}

fn unit(name: Option<&str>, english: bool) -> Option<String> {
    name.map(|n| {
        if english {
            format!("CNY/{n}")
        } else {
            format!("元/{n}")
        }
    })
}

fn res_fee_record(l: ResLine, s: Statistic, english: bool) -> ResFeeRecordV2 {
    let r = l.record;
    let formula = match (s, r.usage, r.unit_price, l.factor) {
        (Statistic::Day | Statistic::Detail, Some(usage), Some(unit_price), Some(factor)) => {
            Some(formula(
                &FormulaParts {
                    usage,
                    factor,
                    unit_price,
                    discount: r.discount_amount,
                    erase: r.erase_amount,
                    coupon_fen: r.coupon,
                },
                english,
            ))
        }
        _ => None,
    };
    ResFeeRecordV2 {
        bill_date: r.bill_date.map(|d| d.format("%Y-%m-%d").to_string()),
        bill_type: r.bill_type,
        cloud_service_type_name: r.service_type_name.unwrap_or_default(),
        resource_type_name: r.resource_type_name.unwrap_or_default(),
        customer_id: r.customer_id,
        region: r.region_code,
        cloud_service_type: r.service_type_code,
        resource_type: r.resource_type_code,
        effective_time: format_ts(r.begin_time),
        expire_time: format_ts(r.end_time),
        resource_id: r.resource_id,
        resource_name: r.resource_name.unwrap_or_default(),
        product_id: r.product_id,
        product_name: r.product_name.unwrap_or_default(),
        product_spec_desc: r.product_spec,
        trade_id: r.trade_id,
        id: r.id,
        trade_time: format_ts(r.trade_time),
        enterprise_project_id: r.enterprise_project_id,
        charge_mode: r.charging_mode.to_string(),
        period_type: None,
        usage_type: r.usage_type,
        usage: r.usage.map(DecimalNumber),
        usage_measure_id: r.usage_measure_id,
        unit_price: r.unit_price.map(DecimalNumber),
        unit: unit(r.price_unit_name.as_deref(), english),
        official_amount: DecimalNumber(r.official_amount),
        discount_amount: DecimalNumber(r.discount_amount),
        amount: YuanNumber(r.payable),
        cash_amount: YuanNumber(r.cash),
        credit_amount: YuanNumber(r.credit),
        coupon_amount: YuanNumber(r.coupon),
        flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
        stored_card_amount: YuanNumber(r.card),
        bonus_amount: YuanNumber(0),
        debt_amount: YuanNumber(r.debt),
        adjustment_amount: YuanNumber(r.writeoff),
        measure_id: 1,
        formula,
        consume_time: (s == Statistic::Detail).then(|| format_ts(r.begin_time)),
        account_name: r.account_name.unwrap_or_default(),
    }
}

/// A text filter of this API: absent ⇒ none; present ⇒ a filter, where empty (or `""`) matches
/// an empty value and `null` a missing one.
fn present_filter(
    field: &str,
    v: Option<String>,
    max: usize,
) -> Result<Option<TextFilter>, ApiError> {
    let f = v.map(|s| match s.as_str() {
        "" | "\"\"" => TextFilter::Empty,
        "null" => TextFilter::Null,
        _ => TextFilter::Is(s),
    });
    max_len(field, &f, max)?;
    Ok(f)
}

/// The calling customer's resource consumption records of one cycle: every fee record
/// (`statistic_type=3`, default), or their sums per usage line (resource, product, usage type and
/// unit, unit price, bill type, charging mode, region, enterprise project) per UTC+8 day (`2`) or
/// for the whole cycle (`1`).
#[utoipa::path(get, path = "/v2/bills/customer-bills/res-fee-records", tag = "bills",
    params(ListCustomerselfResourceRecordsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListCustomerselfResourceRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customerself_resource_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListCustomerselfResourceRecordsQuery>,
) -> ApiResult<Json<ListCustomerselfResourceRecordsResponse>> {
    let cycle = parse_cycle("cycle", q.cycle)?;
    let service_type_code = present_filter("cloud_service_type", q.cloud_service_type, 64)?;
    let region_code = present_filter("region", q.region, 64)?;
    let resource_id = present_filter("resource_id", q.resource_id, 128)?;
    let trade_id = present_filter("trade_id", q.trade_id, 128)?;
    let enterprise_project_id =
        present_filter("enterprise_project_id", q.enterprise_project_id, 64)?;
    let charging_mode = match q.charge_mode {
        None => None,
        Some(s) => Some(
            s.parse::<i16>()
                .ok()
                .filter(|m| CHARGING_MODES.contains(m))
                .ok_or_else(|| ApiError::invalid("charge_mode", "must be 1, 3, 10 or 11"))?,
        ),
    };
    let bill_type = int_filter("bill_type", q.bill_type, BILL_DETAIL_TYPES, false)?;
    let include_zero = bool_param("include_zero_record", q.include_zero_record)?.unwrap_or(true);
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let statistic = statistic(
        int_text("statistic_type", q.statistic_type)?,
        Statistic::Detail,
    )?;
    let customers = method_customers(&caller.account_id, q.method, q.sub_customer_id)?;
    let window = if statistic == Statistic::Cycle {
        DetailFilter::default()
    } else {
        day_window(
            cycle,
            ("bill_date_begin", q.bill_date_begin),
            ("bill_date_end", q.bill_date_end),
        )?
    };
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code,
        region_code,
        resource_id,
        trade_id,
        enterprise_project_id,
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        skip_zero: !include_zero,
        ..window
    };
    let english = english(&headers);
    let (total_count, lines) = resource_bills::own_records(
        &app,
        customers,
        ResQuery {
            statistic,
            filter,
            english,
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListCustomerselfResourceRecordsResponse {
        fee_records: lines
            .into_iter()
            .map(|l| res_fee_record(l, statistic, english))
            .collect(),
        total_count,
        currency: "CNY".into(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 7. list_customerself_resource_record_details

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryResRecordsDetailReq {
    /// `YYYY-MM` (UTC+8, required).
    pub cycle: Option<String>,
    /// Absent, `""` or `null` ⇒ no filter (all text filters).
    pub cloud_service_type: Option<String>,
    pub resource_type: Option<String>,
    pub region: Option<String>,
    pub res_instance_id: Option<String>,
    /// 1, 3, 10 or 11; `null` ⇒ no filter.
    pub charge_mode: Option<i64>,
    pub bill_type: Option<i64>,
    pub enterprise_project_id: Option<String>,
    /// `false` leaves out records whose amount is 0; absent/`null`/`true` includes them.
    pub include_zero_record: Option<bool>,
    pub offset: Option<i64>,
    /// 1–1000, default 10.
    pub limit: Option<i64>,
    /// `oneself` | `sub_customer` | `all` (default).
    pub method: Option<String>,
    /// Required (non-empty) iff `method=sub_customer`.
    pub sub_customer_id: Option<String>,
    /// `1` per cycle (default), `2` per day, `3` per detail.
    pub statistic_type: Option<i64>,
    /// `BILLCYCLE` (default) or `DAILY` (with `statistic_type` 2 or 3, and both bounds).
    pub query_type: Option<String>,
    /// `YYYY-MM-DD` (UTC+8) in the cycle; required for `query_type=DAILY`.
    pub bill_cycle_begin: Option<String>,
    pub bill_cycle_end: Option<String>,
    /// Absent or the caller's own id: its records; any other id: none (no enterprise members).
    pub payer_account_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyBillRes {
    pub cycle: String,
    /// The UTC+8 day (`statistic_type=2` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_date: Option<String>,
    pub bill_type: i16,
    pub customer_id: String,
    pub region: String,
    pub cloud_service_type: String,
    #[serde(rename = "resource_Type_code")]
    pub resource_type_code: String,
    pub cloud_service_type_name: String,
    pub resource_type_name: String,
    pub res_instance_id: String,
    pub resource_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    pub charge_mode: i16,
    /// = cash + credit + coupon + flexipurchase_coupon + stored_card + bonus + debt + adjustment.
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
    pub stored_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub bonus_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub adjustment_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub discount_amount: DecimalNumber,
    pub measure_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade_id: Option<String>,
    /// The fee record (`statistic_type=3` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_spec_desc: Option<String>,
    pub payer_account_id: String,
    /// Usage begin / end / consume time (`statistic_type=3` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consume_time: Option<String>,
    pub account_name: String,
    /// `N`: no spot instances (`statistic_type=3` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_spot: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerselfResourceRecordDetailsResponse {
    pub monthly_records: Vec<MonthlyBillRes>,
    pub total_count: i64,
    pub currency: String,
}

fn monthly_bill_res(l: ResLine, s: Statistic) -> MonthlyBillRes {
    let r = l.record;
    let detail = s == Statistic::Detail;
    let when = |t| detail.then(|| format_ts(t));
    MonthlyBillRes {
        cycle: cycle_text(r.cycle),
        bill_date: r
            .bill_date
            .filter(|_| s == Statistic::Day)
            .map(|d| d.format("%Y-%m-%d").to_string()),
        bill_type: r.bill_type,
        cloud_service_type_name: r.service_type_name.unwrap_or_default(),
        resource_type_name: r.resource_type_name.unwrap_or_default(),
        payer_account_id: r.customer_id.clone(),
        customer_id: r.customer_id,
        region: r.region_code,
        cloud_service_type: r.service_type_code,
        resource_type_code: r.resource_type_code,
        res_instance_id: r.resource_id,
        resource_name: r.resource_name.unwrap_or_default(),
        enterprise_project_id: r.enterprise_project_id,
        charge_mode: r.charging_mode,
        consume_amount: YuanNumber(r.payable),
        cash_amount: YuanNumber(r.cash),
        credit_amount: YuanNumber(r.credit),
        coupon_amount: YuanNumber(r.coupon),
        flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
        stored_card_amount: YuanNumber(r.card),
        bonus_amount: YuanNumber(0),
        debt_amount: YuanNumber(r.debt),
        adjustment_amount: YuanNumber(r.writeoff),
        official_amount: DecimalNumber(r.official_amount),
        discount_amount: DecimalNumber(r.discount_amount),
        measure_id: 1,
        trade_id: r.trade_id,
        id: r.id.filter(|_| detail),
        product_spec_desc: r.product_spec,
        effective_time: when(r.begin_time),
        expire_time: when(r.end_time),
        consume_time: when(r.begin_time),
        account_name: r.account_name.unwrap_or_default(),
        is_spot: detail.then(|| "N".to_string()),
    }
}

fn int_enum(field: &str, v: Option<i64>, allowed: &[i16]) -> Result<Option<i16>, ApiError> {
    v.map(|n| {
        i16::try_from(n)
            .ok()
            .filter(|n| allowed.contains(n))
            .ok_or_else(|| ApiError::invalid(field, format!("must be one of {allowed:?}")))
    })
    .transpose()
}

/// The calling customer's resource detail records of one cycle: sums per usage line for the
/// cycle (`statistic_type=1`, default) or per UTC+8 day (`2`), or every fee record (`3`);
/// `query_type=DAILY` narrows to `bill_cycle_begin`…`bill_cycle_end`.
#[utoipa::path(post, path = "/v2/bills/customer-bills/res-records/query", tag = "bills",
    request_body = QueryResRecordsDetailReq,
    params(("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListCustomerselfResourceRecordDetailsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customerself_resource_record_details(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<QueryResRecordsDetailReq>,
) -> ApiResult<Json<ListCustomerselfResourceRecordDetailsResponse>> {
    let cycle = parse_cycle("cycle", req.cycle)?;
    let text = |field: &str, v: Option<String>, max: usize| {
        let f = given(v).filter(|s| s != "null").map(TextFilter::Is);
        max_len(field, &f, max).map(|_| f)
    };
    let service_type_code = text("cloud_service_type", req.cloud_service_type, 64)?;
    let resource_type_code = text("resource_type", req.resource_type, 64)?;
    let region_code = text("region", req.region, 64)?;
    let resource_id = text("res_instance_id", req.res_instance_id, 128)?;
    let enterprise_project_id = text("enterprise_project_id", req.enterprise_project_id, 64)?;
    let charging_mode = int_enum("charge_mode", req.charge_mode, CHARGING_MODES)?;
    let bill_type = int_enum("bill_type", req.bill_type, BILL_DETAIL_TYPES)?;
    let offset = req.offset.unwrap_or(0);
    let limit = req.limit.unwrap_or(10);
    if !(0..=i64::from(i32::MAX)).contains(&offset) {
        return Err(ApiError::invalid(
            "offset",
            "must be between 0 and 2147483647",
        ));
    }
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let statistic = statistic(req.statistic_type, Statistic::Cycle)?;
    let daily = match given(req.query_type).as_deref() {
        None | Some("BILLCYCLE") => false,
        Some("DAILY") if statistic != Statistic::Cycle => true,
        Some("DAILY") => {
            return Err(ApiError::invalid(
                "query_type",
                "DAILY needs statistic_type 2 or 3",
            ))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "query_type",
                "must be BILLCYCLE or DAILY",
            ))
        }
    };
    if daily {
        for (f, v) in [
            ("bill_cycle_begin", &req.bill_cycle_begin),
            ("bill_cycle_end", &req.bill_cycle_end),
        ] {
            if given(v.clone()).is_none() {
                return Err(ApiError::invalid(f, "is required when query_type=DAILY"));
            }
        }
    }
    let window = day_window(
        cycle,
        ("bill_cycle_begin", req.bill_cycle_begin),
        ("bill_cycle_end", req.bill_cycle_end),
    )?;
    let mut customers = match req.method.as_deref() {
        Some("sub_customer") if given(req.sub_customer_id.clone()).is_none() => {
            return Err(ApiError::invalid(
                "sub_customer_id",
                "is required when method=sub_customer",
            ))
        }
        _ => method_customers(&caller.account_id, req.method, req.sub_customer_id)?,
    };
    if given(req.payer_account_id).is_some_and(|p| p != caller.account_id) {
        customers.clear();
    }
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code,
        resource_type_code,
        region_code,
        resource_id,
        enterprise_project_id,
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        skip_zero: req.include_zero_record == Some(false),
        ..window
    };
    let (total_count, lines) = resource_bills::own_records(
        &app,
        customers,
        ResQuery {
            statistic,
            filter,
            english: english(&headers),
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListCustomerselfResourceRecordDetailsResponse {
        monthly_records: lines
            .into_iter()
            .map(|l| monthly_bill_res(l, statistic))
            .collect(),
        total_count,
        currency: "CNY".into(),
    }))
}

/// The routes of this file.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_customerself_resource_records))
        .routes(routes!(list_customerself_resource_record_details))
}
