//! Coupon quotas, partner coupons, customer coupon views and stored-value cards (30-coupons.md).
//!
//! Issue and reclaim accept an `Idempotency-Key` header like funding.

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

#[derive(Debug, Serialize, ToSchema)]
pub struct LimitValue {
    pub value1: String,
    pub value2: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaLimitInfo {
    pub limit_key: String,
    pub limit_values: Vec<LimitValue>,
}

fn limit_infos(services: &[String], products: &[String]) -> Vec<QuotaLimitInfo> {
    let mut out = Vec::new();
    if !services.is_empty() {
        out.push(QuotaLimitInfo {
            limit_key: "cloudServiceType".into(),
            limit_values: services
                .iter()
                .map(|s| LimitValue {
                    value1: s.clone(),
                    value2: String::new(),
                })
                .collect(),
        });
    }
    if !products.is_empty() {
        out.push(QuotaLimitInfo {
            limit_key: "productId".into(),
            limit_values: vec![LimitValue {
                value1: products.join(","),
                value2: String::new(),
            }],
        });
    }
    out
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponQuotaV2 {
    pub quota_id: String,
    /// 0 voucher quota, 1 cash-coupon quota.
    pub quota_type: i32,
    pub create_time: String,
    pub last_update_time: String,
    #[schema(value_type = f64)]
    pub quota_value: YuanNumber,
    /// 0 normal, 3 invalid/expired, 4 being adjusted, 5 frozen, 6 reclaimed.
    pub quota_status: i32,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    pub measure_id: i32,
    pub currency: String,
    pub effective_time: String,
    pub expire_time: String,
    pub limit_infos: Vec<QuotaLimitInfo>,
}

pub fn quota_view(q: &QuotaRow) -> CouponQuotaV2 {
    CouponQuotaV2 {
        quota_id: q.id.clone(),
        quota_type: q.quota_type.into(),
        create_time: format_ts(q.created_at),
        last_update_time: format_ts(q.updated_at),
        quota_value: YuanNumber(q.quota_value),
        quota_status: q.status.into(),
        balance: YuanNumber(q.balance),
        measure_id: 1,
        currency: "CNY".into(),
        effective_time: format_ts(q.effective_time),
        expire_time: format_ts(q.expire_time),
        limit_infos: limit_infos(&q.cloud_service_types, &q.product_ids),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Query own quotas

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryCouponQuotasReqExt {
    pub quota_ids: Option<Vec<String>>,
    /// 0, 3, 4, 5.
    pub quota_status_list: Option<Vec<i64>>,
    /// 0 voucher quota (default), 1 cash-coupon quota.
    pub quota_type: Option<i64>,
    pub create_time_begin: Option<String>,
    pub create_time_end: Option<String>,
    pub effective_time_begin: Option<String>,
    pub effective_time_end: Option<String>,
    pub expire_time_begin: Option<String>,
    pub expire_time_end: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListQuotaCouponsResponse {
    pub total_count: i64,
    pub quotas: Vec<CouponQuotaV2>,
}

/// The caller's (or a reseller's) coupon quotas.
#[utoipa::path(post, path = "/v2/partners/coupon-quotas/query", tag = "coupons",
    request_body = QueryCouponQuotasReqExt,
    responses((status = 200, body = ListQuotaCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_quota_coupons(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<QueryCouponQuotasReqExt>,
) -> ApiResult<Json<ListQuotaCouponsResponse>> {
    let p = Paging::new(req.offset, req.limit, i32::MAX as i64)?;
    let statuses = match req.quota_status_list.filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => {
            let mut out = Vec::new();
            for s in l {
                out.push(
                    enum_param("quota_status_list", Some(s), &[0, 3, 4, 5])?.unwrap_or_default(),
                );
            }
            Some(out)
        }
    };
    let filter = QuotaFilter {
        ids: req.quota_ids.filter(|l| !l.is_empty()),
        statuses,
        quota_type: Some(enum_param("quota_type", req.quota_type, &[0, 1])?.unwrap_or(0)),
        create_begin: time_bound("create_time_begin", req.create_time_begin.as_deref())?,
        create_end: time_bound("create_time_end", req.create_time_end.as_deref())?,
        effective_begin: time_bound("effective_time_begin", req.effective_time_begin.as_deref())?,
        effective_end: time_bound("effective_time_end", req.effective_time_end.as_deref())?,
        expire_begin: time_bound("expire_time_begin", req.expire_time_begin.as_deref())?,
        expire_end: time_bound("expire_time_end", req.expire_time_end.as_deref())?,
        ..Default::default()
    };
    let ind = indirect(req.indirect_partner_id)?;
    let (total_count, rows) =
        coupons::list_quotas(&app, &caller, ind.as_deref(), filter, p.offset, p.limit).await?;
    Ok(Json(ListQuotaCouponsResponse {
        total_count,
        quotas: rows.iter().map(quota_view).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 2. Issue coupons

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePartnerCouponsReq {
    pub quota_id: String,
    /// One coupon per customer (1–100).
    pub customer_ids: Vec<String>,
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub face_value: serde_json::Number,
    /// UTC; default the quota's effective time.
    pub valid_time: Option<String>,
    /// UTC; default the quota's expiry time.
    pub expire_time: Option<String>,
    pub cloud_service_types: Option<Vec<String>>,
    pub product_ids: Option<Vec<String>>,
    pub memo: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponSimpleInfo {
    /// The customer id.
    pub id: String,
    pub coupon_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub id: String,
    pub error_code: String,
    pub error_msg: String,
}

fn details(errors: Vec<ItemError>) -> Vec<ErrorDetail> {
    errors
        .into_iter()
        .map(|e| ErrorDetail {
            id: e.id,
            error_code: e.error_code,
            error_msg: e.error_msg,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatePartnerCouponsResponse {
    pub coupon_infos: Vec<CouponSimpleInfo>,
    pub error_details: Vec<ErrorDetail>,
}

fn short_list(field: &str, v: Option<Vec<String>>, max: usize) -> Result<Vec<String>, ApiError> {
    let v = v.unwrap_or_default();
    if v.len() > max {
        return Err(ApiError::invalid(field, format!("at most {max} items")));
    }
    if v.iter().any(|s| s.is_empty() || s.len() > 64) {
        return Err(ApiError::invalid(field, "items must be 1 to 64 characters"));
    }
    Ok(v)
}

/// Issue one coupon of `face_value` per customer from a quota (partial success;
/// `Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/promotions/benefits/partner-coupons", tag = "coupons",
    request_body = CreatePartnerCouponsReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = CreatePartnerCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_partner_coupons(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<CreatePartnerCouponsReq>,
) -> ApiResult<Json<CreatePartnerCouponsResponse>> {
    let b = req.body;
    if b.quota_id.is_empty() || b.quota_id.len() > 64 {
        return Err(ApiError::invalid("quota_id", "must be 1 to 64 characters"));
    }
    if !(1..=100).contains(&b.customer_ids.len()) {
        return Err(ApiError::invalid(
            "customer_ids",
            "must have 1 to 100 items",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for c in &b.customer_ids {
        if c.is_empty() || c.len() > 64 || !seen.insert(c) {
            return Err(ApiError::invalid(
                "customer_ids",
                "items must be distinct ids of 1 to 64 characters",
            ));
        }
    }
    let face_value = parse_amount("face_value", &b.face_value)?;
    max_len("memo", b.memo.as_deref(), 256)?;
    let op = IssueCoupons {
        quota_id: b.quota_id,
        customer_ids: b.customer_ids,
        face_value,
        valid_time: time_bound("valid_time", b.valid_time.as_deref())?,
        expire_time: time_bound("expire_time", b.expire_time.as_deref())?,
        cloud_service_types: short_list("cloud_service_types", b.cloud_service_types, 10)?,
        product_ids: short_list("product_ids", b.product_ids, 10)?,
        memo: b.memo,
        indirect_partner_id: indirect(b.indirect_partner_id)?,
        caller,
    };
    let key = idem(&op.caller.account_id, req.key, req.digest);
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(CreatePartnerCouponsResponse {
        coupon_infos: out
            .issued
            .into_iter()
            .map(|i| CouponSimpleInfo {
                id: i.customer_id,
                coupon_id: i.coupon_id,
            })
            .collect(),
        error_details: details(out.errors),
    }))
}

// ---------------------------------------------------------------------------------------------
// 3. List issued coupons

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIssuedPartnerCouponsQuery {
    pub coupon_id: Option<String>,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    /// 1 voucher, 4 cash coupon.
    pub coupon_type: Option<String>,
    /// 1 not activated, 2 usable, 3 used, 4 expired, 5 reclaimed.
    pub status: Option<String>,
    pub create_time_begin: Option<String>,
    pub create_time_end: Option<String>,
    pub effective_time_begin: Option<String>,
    pub effective_time_end: Option<String>,
    pub expire_time_begin: Option<String>,
    pub expire_time_end: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ICouponUseLimitInfoV2 {
    pub use_limiti_info_id: String,
    pub limit_key: String,
    pub value1: String,
    pub value2: String,
    pub value_unit: String,
    pub limit_type: String,
    pub promotion_plan_id: String,
}

fn use_limits(c: &CouponRow) -> Vec<ICouponUseLimitInfoV2> {
    limit_infos(&c.cloud_service_types, &c.product_ids)
        .into_iter()
        .flat_map(|l| {
            let key = l.limit_key;
            l.limit_values.into_iter().map(move |v| (key.clone(), v))
        })
        .enumerate()
        .map(|(i, (key, v))| ICouponUseLimitInfoV2 {
            use_limiti_info_id: format!("{}-{i}", c.id),
            limit_key: key,
            value1: v.value1,
            value2: v.value2,
            value_unit: String::new(),
            limit_type: String::new(),
            promotion_plan_id: String::new(),
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IQueryUserPartnerCouponsResultV2 {
    pub coupon_id: String,
    pub status: i32,
    pub customer_id: String,
    pub coupon_type: i32,
    pub measure_id: i32,
    #[schema(value_type = f64)]
    pub face_value: YuanNumber,
    pub effective_time: String,
    pub expire_time: String,
    pub order_id: String,
    pub promotion_plan_id: String,
    pub promotion_plan_name: String,
    pub promotion_plan_desc: String,
    pub media_type: i32,
    pub fetch_method: i32,
    pub use_limits: Vec<ICouponUseLimitInfoV2>,
    pub active_time: String,
    /// Never used here: `null` (the SDK model's unset time).
    pub last_used_time: Option<String>,
    pub promotion_id: String,
    pub create_time: String,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    pub lock_order_id: String,
    pub is_frozen: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListIssuedPartnerCouponsResponse {
    pub total_count: i64,
    pub user_coupons: Vec<IQueryUserPartnerCouponsResultV2>,
}

struct CouponQueryParts {
    coupon_type: Option<i16>,
    status: Option<i16>,
    paging: Paging,
}

fn coupon_enums(
    coupon_type: Option<&str>,
    types: &[i64],
    status: Option<&str>,
    offset: Option<&str>,
    limit: Option<&str>,
) -> Result<CouponQueryParts, ApiError> {
    Ok(CouponQueryParts {
        coupon_type: enum_param("coupon_type", int_param("coupon_type", coupon_type)?, types)?,
        status: enum_param("status", int_param("status", status)?, &[1, 2, 3, 4, 5])?,
        paging: paging(offset, limit)?,
    })
}

fn id_filter(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
    let v = non_empty(v);
    max_len(field, v.as_deref(), 64)?;
    Ok(v)
}

/// Coupons the partner (or a reseller) issued to its resale customers.
#[utoipa::path(get, path = "/v2/promotions/benefits/partner-coupons", tag = "coupons",
    params(ListIssuedPartnerCouponsQuery),
    responses((status = 200, body = ListIssuedPartnerCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_issued_partner_coupons(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListIssuedPartnerCouponsQuery>,
) -> ApiResult<Json<ListIssuedPartnerCouponsResponse>> {
    let parts = coupon_enums(
        q.coupon_type.as_deref(),
        &[1, 4],
        q.status.as_deref(),
        q.offset.as_deref(),
        q.limit.as_deref(),
    )?;
    let filter = CouponFilter {
        coupon_id: id_filter("coupon_id", q.coupon_id)?,
        customer_id: id_filter("customer_id", q.customer_id)?,
        order_id: id_filter("order_id", q.order_id)?,
        coupon_type: parts.coupon_type,
        status: parts.status,
        create_begin: time_bound("create_time_begin", q.create_time_begin.as_deref())?,
        create_end: time_bound("create_time_end", q.create_time_end.as_deref())?,
        effective_begin: time_bound("effective_time_begin", q.effective_time_begin.as_deref())?,
        effective_end: time_bound("effective_time_end", q.effective_time_end.as_deref())?,
        expire_begin: time_bound("expire_time_begin", q.expire_time_begin.as_deref())?,
        expire_end: time_bound("expire_time_end", q.expire_time_end.as_deref())?,
        ..Default::default()
    };
    let ind = indirect(q.indirect_partner_id)?;
    let (total_count, rows) = coupons::list_issued(
        &app,
        &caller,
        ind.as_deref(),
        filter,
        parts.paging.offset,
        parts.paging.limit,
    )
    .await?;
    Ok(Json(ListIssuedPartnerCouponsResponse {
        total_count,
        user_coupons: rows
            .iter()
            .map(|c| IQueryUserPartnerCouponsResultV2 {
                coupon_id: c.id.clone(),
                status: c.status.into(),
                customer_id: c.customer_id.clone(),
                coupon_type: c.coupon_type.into(),
                measure_id: 1,
                face_value: YuanNumber(c.face_value),
                effective_time: format_ts(c.effective_time),
                expire_time: format_ts(c.expire_time),
                order_id: String::new(),
                promotion_plan_id: String::new(),
                promotion_plan_name: String::new(),
                promotion_plan_desc: c.memo.clone().unwrap_or_default(),
                media_type: 1,
                fetch_method: 3,
                use_limits: use_limits(c),
                active_time: format_ts(c.active_time),
                last_used_time: None,
                promotion_id: c.quota_id.clone(),
                create_time: format_ts(c.created_at),
                balance: YuanNumber(c.balance),
                lock_order_id: String::new(),
                is_frozen: "0".into(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 4. Reclaim a coupon

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReclaimPartnerCouponsReq {
    pub coupon_id: String,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReclaimPartnerCouponsResponse {}

/// Reclaim a usable coupon: its whole remaining balance returns to the quota
/// (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/promotions/benefits/partner-coupons/reclaim", tag = "coupons",
    request_body = ReclaimPartnerCouponsReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = ReclaimPartnerCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn reclaim_partner_coupons(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<ReclaimPartnerCouponsReq>,
) -> ApiResult<Json<ReclaimPartnerCouponsResponse>> {
    if req.body.coupon_id.is_empty() || req.body.coupon_id.len() > 64 {
        return Err(ApiError::invalid("coupon_id", "must be 1 to 64 characters"));
    }
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = ReclaimCoupon {
        caller,
        coupon_id: req.body.coupon_id,
        indirect_partner_id: indirect(req.body.indirect_partner_id)?,
    };
    idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(ReclaimPartnerCouponsResponse {}))
}

// ---------------------------------------------------------------------------------------------
// 5. Coupon records (repeated-key arrays: the raw query is parsed here)

/// Documented for the OpenAPI document; the handler parses the raw query itself because
/// `operation_types` and `coupon_ids` repeat their key per element.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPartnerCouponsRecordQuery {
    /// Repeated key: `operation_types=1&operation_types=2`. Absent ⇒ no filter; present ⇒ filter.
    pub operation_types: Option<Vec<String>>,
    pub quota_id: Option<String>,
    pub quota_type: Option<i32>,
    /// Repeated key; absent ⇒ no filter; present (even empty) ⇒ filter.
    pub coupon_ids: Option<Vec<String>>,
    pub customer_id: Option<String>,
    pub operation_time_begin: Option<String>,
    pub operation_time_end: Option<String>,
    /// "0" success, "-1" failure; other values ⇒ no filter.
    pub result: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub indirect_partner_id: Option<String>,
}

struct RawQuery(Vec<(String, String)>);

impl RawQuery {
    fn parse(uri: &Uri) -> Self {
        RawQuery(
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn all(&self, name: &str) -> Option<Vec<String>> {
        let v: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect();
        (!v.is_empty()).then_some(v)
    }
    fn one(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.all(name) {
            None => Ok(None),
            Some(v) if v.len() == 1 => Ok(v.into_iter().next()),
            Some(_) => Err(ApiError::invalid(name, "must be given once")),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponRecordV2 {
    pub id: String,
    pub operation_type: String,
    pub quota_id: String,
    pub quota_type: i32,
    pub coupon_id: String,
    pub customer_id: String,
    #[schema(value_type = f64)]
    pub operation_amount: YuanNumber,
    pub operation_time: String,
    pub result: String,
    pub remark: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPartnerCouponsRecordResponse {
    pub total_count: i64,
    pub records: Vec<CouponRecordV2>,
}

const OPERATION_TYPES: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Issue and reclaim records of partner coupons.
#[utoipa::path(get, path = "/v2/promotions/benefits/partner-coupons/records/query", tag = "coupons",
    params(ListPartnerCouponsRecordQuery),
    responses((status = 200, body = ListPartnerCouponsRecordResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_coupons_record(
    State(app): State<AppState>,
    caller: PartnerCaller,
    uri: Uri,
) -> ApiResult<Json<ListPartnerCouponsRecordResponse>> {
    let q = RawQuery::parse(&uri);
    let operation_types = q.all("operation_types");
    if let Some(t) = &operation_types {
        if t.iter()
            .any(|v| !v.is_empty() && !OPERATION_TYPES.contains(&v.as_str()))
        {
            return Err(ApiError::invalid("operation_types", "must be 1 to 9"));
        }
    }
    let coupon_ids = q.all("coupon_ids");
    for id in coupon_ids.iter().flatten() {
        max_len("coupon_ids", Some(id), 64)?;
    }
    // `quota_id=` and `customer_id=` are filters (matching nothing), unlike absent ones.
    let quota_id = q.one("quota_id")?;
    max_len("quota_id", quota_id.as_deref(), 64)?;
    let customer_id = q.one("customer_id")?;
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let quota_type = enum_param(
        "quota_type",
        int_param("quota_type", q.one("quota_type")?.as_deref())?,
        &[0, 1],
    )?;
    let success = match q.one("result")?.as_deref() {
        Some("0") => Some(true),
        Some("-1") => Some(false),
        _ => None,
    };
    let filter = RecordFilter {
        operation_types,
        quota_id,
        quota_type,
        coupon_ids,
        customer_id,
        begin: time_bound(
            "operation_time_begin",
            q.one("operation_time_begin")?.as_deref(),
        )?,
        end: time_bound(
            "operation_time_end",
            q.one("operation_time_end")?.as_deref(),
        )?,
        success,
        manager_ids: None,
    };
    let p = paging(q.one("offset")?.as_deref(), q.one("limit")?.as_deref())?;
    let ind = indirect(q.one("indirect_partner_id")?)?;
    let (total_count, rows) =
        coupons::list_records(&app, &caller, ind.as_deref(), filter, p.offset, p.limit).await?;
    Ok(Json(ListPartnerCouponsRecordResponse {
        total_count,
        records: rows
            .into_iter()
            .map(|r| CouponRecordV2 {
                id: r.id,
                operation_type: r.operation_type,
                quota_id: r.quota_id,
                quota_type: r.quota_type.into(),
                coupon_id: r.coupon_id.unwrap_or_default(),
                customer_id: r.customer_id,
                operation_amount: YuanNumber(r.amount),
                operation_time: format_ts(r.created_at),
                result: r.result,
                remark: r.remark.unwrap_or_default(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 10. Own coupons (partner or customer)

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubCustomerCouponsQuery {
    pub coupon_id: Option<String>,
    pub order_id: Option<String>,
    pub promotion_plan_id: Option<String>,
    /// 1 voucher, 2 discount, 3 product, 4 cash coupon.
    pub coupon_type: Option<String>,
    pub status: Option<String>,
    pub active_start_time: Option<String>,
    pub active_end_time: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// Issuer id (the partner for partner coupons).
    pub source_id: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IQueryUserCouponsResultV2 {
    pub coupon_id: String,
    pub coupon_code: String,
    pub status: i32,
    pub customer_id: String,
    pub coupon_type: i32,
    pub measure_id: i32,
    #[schema(value_type = f64)]
    pub face_value: YuanNumber,
    pub valid_time: String,
    pub expire_time: String,
    pub order_id: String,
    pub promotion_plan_id: String,
    pub plan_name: String,
    pub plan_desc: String,
    pub media_type: i32,
    pub fetch_method: i32,
    pub use_limits: Vec<ICouponUseLimitInfoV2>,
    pub active_time: String,
    /// No reservations here: `null` (the SDK model's unset time).
    pub reserve_time: Option<String>,
    pub promotion_id: String,
    pub create_time: String,
    pub coupon_version: i32,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    pub lock_order_id: String,
    pub coupon_usage: String,
    pub is_frozen: String,
    pub currency: String,
    pub extend_param1: String,
    pub source_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomerCouponsResponse {
    pub count: i64,
    pub user_coupons: Vec<IQueryUserCouponsResultV2>,
}

/// The caller's own coupons (a customer's partner coupons; a partner holds none here).
#[utoipa::path(get, path = "/v2/promotions/benefits/coupons", tag = "coupons",
    params(ListSubCustomerCouponsQuery),
    responses((status = 200, body = ListSubCustomerCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customer_coupons(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListSubCustomerCouponsQuery>,
) -> ApiResult<Json<ListSubCustomerCouponsResponse>> {
    let parts = coupon_enums(
        q.coupon_type.as_deref(),
        &[1, 2, 3, 4],
        q.status.as_deref(),
        q.offset.as_deref(),
        q.limit.as_deref(),
    )?;
    // `""` for coupon_id / order_id / promotion_plan_id is a filter (matching nothing).
    for (f, v) in [
        ("coupon_id", &q.coupon_id),
        ("order_id", &q.order_id),
        ("promotion_plan_id", &q.promotion_plan_id),
        ("source_id", &q.source_id),
    ] {
        max_len(f, v.as_deref(), 64)?;
    }
    let active_begin = time_bound("active_start_time", q.active_start_time.as_deref())?;
    let active_end = time_bound("active_end_time", q.active_end_time.as_deref())?;
    let mut filter = CouponFilter {
        coupon_id: q.coupon_id,
        order_id: q.order_id,
        coupon_type: parts.coupon_type,
        status: parts.status,
        active_begin,
        active_end,
        ..Default::default()
    };
    if q.promotion_plan_id.is_some() {
        // Partner coupons belong to no promotion plan.
        filter.order_id = Some(String::new());
    }
    if let Some(s) = non_empty(q.source_id) {
        filter.partner_id = Some(s);
    }
    let ind = indirect(q.indirect_partner_id)?;
    let (count, rows) = match &caller {
        Caller::Partner(p) => {
            coupons::list_own(
                &app,
                Holder::Partner(p, ind.as_deref()),
                filter,
                parts.paging.offset,
                parts.paging.limit,
            )
            .await?
        }
        Caller::Customer(c) => {
            coupons::list_own(
                &app,
                Holder::Customer(c),
                filter,
                parts.paging.offset,
                parts.paging.limit,
            )
            .await?
        }
    };
    Ok(Json(ListSubCustomerCouponsResponse {
        count,
        user_coupons: rows
            .iter()
            .map(|c| IQueryUserCouponsResultV2 {
                coupon_id: c.id.clone(),
                coupon_code: c.id.clone(),
                status: c.status.into(),
                customer_id: c.customer_id.clone(),
                coupon_type: c.coupon_type.into(),
                measure_id: 1,
                face_value: YuanNumber(c.face_value),
                valid_time: format_ts(c.effective_time),
                expire_time: format_ts(c.expire_time),
                order_id: String::new(),
                promotion_plan_id: String::new(),
                plan_name: String::new(),
                plan_desc: String::new(),
                media_type: 1,
                fetch_method: 3,
                use_limits: use_limits(c),
                active_time: format_ts(c.active_time),
                reserve_time: None,
                promotion_id: String::new(),
                create_time: format_ts(c.created_at),
                coupon_version: 2,
                balance: YuanNumber(c.balance),
                lock_order_id: String::new(),
                coupon_usage: String::new(),
                is_frozen: "0".into(),
                currency: "CNY".into(),
                extend_param1: String::new(),
                source_id: c.partner_id.clone(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 11. Customer coupon change records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerCouponChangeRecordsQuery {
    /// BALANCE_TYPE_COUPON (required).
    pub balance_type: Option<String>,
    /// REVENUE | EXPENSE
    pub revenue_expense_type: Option<String>,
    /// ADJUST | DEDEUCT | REFUND | RFROZEN | EXPIRED | COUPONADJUST | COUPONCANCEL
    pub trade_type: Option<String>,
    pub trade_id: Option<String>,
    /// `YYYY-MM-DD` (UTC+8); default one year ago.
    pub trade_time_begin: Option<String>,
    /// `YYYY-MM-DD` (UTC+8); default today.
    pub trade_time_end: Option<String>,
    pub coupon_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCouponChangeRecord {
    pub coupon_id: String,
    pub trade_detail_type: String,
    pub trade_time: String,
    pub trade_id: String,
    pub change_amount: String,
    pub balance_after_change: String,
    pub revenue_expense_type: String,
    pub bill_cycle: String,
    pub account_name: String,
    pub cloud_service_type_name: String,
    pub resource_type_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerCouponChangeRecordsResponse {
    pub total_count: i64,
    pub currency: String,
    pub records: Vec<CustomerCouponChangeRecord>,
}

fn coupon_trade_kinds(t: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let kinds: &[&str] = match t {
        None => return Ok(None),
        Some("ADJUST") => &["coupon_issue"],
        Some("COUPONCANCEL") => &["coupon_reclaim", "coupon_unbind"],
        Some("DEDEUCT") => &["usage_charge"],
        Some("REFUND") => &["usage_refund"],
        Some("RFROZEN" | "EXPIRED" | "COUPONADJUST") => &[],
        Some(_) => return Err(ApiError::invalid("trade_type", "unknown trade type")),
    };
    Ok(Some(kinds.iter().map(|s| s.to_string()).collect()))
}

/// The customer's own coupon ledger (not for a partner's resale customers: CBC.99000084).
#[utoipa::path(get, path = "/v2/promotions/benefits/account-change-records", tag = "coupons",
    params(ListCustomerCouponChangeRecordsQuery),
    responses((status = 200, body = ListCustomerCouponChangeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_coupon_change_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<ListCustomerCouponChangeRecordsQuery>,
) -> ApiResult<Json<ListCustomerCouponChangeRecordsResponse>> {
    if q.balance_type.as_deref() != Some("BALANCE_TYPE_COUPON") {
        return Err(ApiError::invalid(
            "balance_type",
            "must be BALANCE_TYPE_COUPON",
        ));
    }
    let direction = match q.revenue_expense_type.as_deref() {
        None => None,
        Some("REVENUE") => Some(1),
        Some("EXPENSE") => Some(-1),
        Some(_) => {
            return Err(ApiError::invalid(
                "revenue_expense_type",
                "must be REVENUE or EXPENSE",
            ))
        }
    };
    let kinds = coupon_trade_kinds(q.trade_type.as_deref())?;
    max_len("trade_id", q.trade_id.as_deref(), 128)?;
    max_len("coupon_id", q.coupon_id.as_deref(), 64)?;
    let p = Paging::new(
        int_param("offset", q.offset.as_deref())?,
        int_param("limit", q.limit.as_deref())?,
        i32::MAX as i64,
    )?;
    for (f, v) in [
        ("trade_time_begin", &q.trade_time_begin),
        ("trade_time_end", &q.trade_time_end),
    ] {
        if v.as_deref() == Some("") {
            return Err(ApiError::invalid(f, "must not be empty"));
        }
    }
    let (from, until) = cn_day_range(app.now(), q.trade_time_begin, q.trade_time_end)?;
    let (total_count, rows) = coupons::customer_changes(
        &app,
        &caller,
        CouponChangeFilter {
            kinds,
            direction,
            trans_id: non_empty(q.trade_id),
            coupon_id: non_empty(q.coupon_id),
            from,
            until,
        },
        p.offset,
        p.limit,
    )
    .await?;
    Ok(Json(ListCustomerCouponChangeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows
            .into_iter()
            .map(|r| CustomerCouponChangeRecord {
                coupon_id: r.coupon_id,
                trade_detail_type: match r.kind.as_str() {
                    "coupon_issue" => "SOURCE_OPERAIION_PRIZE",
                    "usage_charge" => "SOURCE_OPERAIION_USAGE",
                    "usage_refund" => "SOURCE_OPERAIION_BILLREFUND",
                    _ => "SOURCE_OPERATION_COUPONCANCEL",
                }
                .into(),
                trade_time: format_ts(r.created_at),
                trade_id: r.trans_id,
                change_amount: fen_to_string(r.amount),
                balance_after_change: fen_to_string(r.balance_after),
                revenue_expense_type: if r.amount > 0 { "REVENUE" } else { "EXPENSE" }.into(),
                bill_cycle: r
                    .created_at
                    .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                    .format("%Y-%m")
                    .to_string(),
                account_name: caller.login_name.clone(),
                cloud_service_type_name: String::new(),
                resource_type_name: String::new(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 12. Stored-value cards

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListStoredValueCardsQuery {
    /// 1 usable, 2 used up (required).
    pub status: Option<String>,
    pub card_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserStoredValueCard {
    pub card_id: String,
    pub card_name: String,
    pub status: i32,
    pub face_value: String,
    pub balance: String,
    pub effective_time: String,
    pub expire_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListStoredValueCardsResponse {
    pub total_count: i64,
    pub stored_value_cards: Vec<UserStoredValueCard>,
}

/// The customer's stored-value cards (sold by the vendor, used up by consumption).
#[utoipa::path(get, path = "/v2/promotions/benefits/stored-value-cards", tag = "coupons",
    params(ListStoredValueCardsQuery),
    responses((status = 200, body = ListStoredValueCardsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_stored_value_cards(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<ListStoredValueCardsQuery>,
) -> ApiResult<Json<ListStoredValueCardsResponse>> {
    let status = int_param("status", q.status.as_deref())?
        .ok_or_else(|| ApiError::invalid("status", "is required"))?;
    enum_param("status", Some(status), &[1, 2])?;
    max_len("card_id", q.card_id.as_deref(), 64)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let card_id = q.card_id.filter(|c| !c.is_empty());
    let (total_count, cards) = crate::service::usage_money::stored_value_cards(
        &app,
        &caller.account_id,
        status as i16,
        card_id.as_deref(),
        p.offset,
        p.limit,
    )
    .await?;
    Ok(Json(ListStoredValueCardsResponse {
        total_count,
        stored_value_cards: cards
            .into_iter()
            .map(|c| UserStoredValueCard {
                card_id: c.id,
                card_name: c.card_name,
                status: i32::from(c.status),
                face_value: fen_to_string(c.face_value),
                balance: fen_to_string(c.balance),
                effective_time: format_ts(c.effective_time),
                expire_time: format_ts(c.expire_time),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 6.–9. Distributor: reseller quotas

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustCouponQuotasReq {
    /// The distributor's own quota.
    pub quota_id: String,
    pub indirect_partner_ids: Vec<String>,
    /// Yuan given to each reseller.
    #[schema(value_type = f64)]
    pub quota_amount: serde_json::Number,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaSimpleInfo {
    /// The reseller id.
    pub id: String,
    pub quota_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateCouponQuotasResponse {
    pub simple_quota_infos: Vec<QuotaSimpleInfo>,
    pub error_details: Vec<ErrorDetail>,
}

/// A distributor issues quota to its resellers (partial success; `Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/partners/coupon-quotas/indirect-partner-adjust", tag = "coupons",
    request_body = AdjustCouponQuotasReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = UpdateCouponQuotasResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_coupon_quotas(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<AdjustCouponQuotasReq>,
) -> ApiResult<Json<UpdateCouponQuotasResponse>> {
    let b = req.body;
    if b.quota_id.is_empty() || b.quota_id.len() > 64 {
        return Err(ApiError::invalid("quota_id", "must be 1 to 64 characters"));
    }
    if !(1..=100).contains(&b.indirect_partner_ids.len())
        || b.indirect_partner_ids
            .iter()
            .any(|i| i.is_empty() || i.len() > 64)
    {
        return Err(ApiError::invalid(
            "indirect_partner_ids",
            "must have 1 to 100 ids of 1 to 64 characters",
        ));
    }
    let amount = parse_amount("quota_amount", &b.quota_amount)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = IssueResellerQuotas {
        caller,
        quota_id: b.quota_id,
        reseller_ids: b.indirect_partner_ids,
        amount,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(UpdateCouponQuotasResponse {
        simple_quota_infos: out
            .issued
            .into_iter()
            .map(|i| QuotaSimpleInfo {
                id: i.reseller_id,
                quota_id: i.quota_id,
            })
            .collect(),
        error_details: details(out.errors),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReclaimCouponQuotasReq {
    pub quota_ids: Vec<String>,
    pub remark: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaReclaim {
    pub quota_id: String,
    #[schema(value_type = f64)]
    pub quota_balance: YuanNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReclaimCouponQuotasResponse {
    pub simple_quota_infos: Vec<QuotaReclaim>,
    pub error_details: Vec<ErrorDetail>,
}

/// A distributor reclaims its resellers' quotas (partial success; `Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/partners/coupon-quotas/indirect-partner-reclaim", tag = "coupons",
    request_body = ReclaimCouponQuotasReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = ReclaimCouponQuotasResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn reclaim_coupon_quotas(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<ReclaimCouponQuotasReq>,
) -> ApiResult<Json<ReclaimCouponQuotasResponse>> {
    let b = req.body;
    if !(1..=100).contains(&b.quota_ids.len())
        || b.quota_ids.iter().any(|i| i.is_empty() || i.len() > 64)
    {
        return Err(ApiError::invalid(
            "quota_ids",
            "must have 1 to 100 ids of 1 to 64 characters",
        ));
    }
    max_len("remark", b.remark.as_deref(), 256)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = ReclaimResellerQuotas {
        caller,
        quota_ids: b.quota_ids,
        remark: b.remark,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(ReclaimCouponQuotasResponse {
        simple_quota_infos: out
            .reclaimed
            .into_iter()
            .map(|r| QuotaReclaim {
                quota_id: r.quota_id,
                quota_balance: YuanNumber(r.balance),
            })
            .collect(),
        error_details: details(out.errors),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCouponQuotasRecordsQuery {
    pub indirect_partner_id: Option<String>,
    pub quota_id: Option<String>,
    pub operation_time_begin: Option<String>,
    pub operation_time_end: Option<String>,
    /// Absent ⇒ no filter; present (also empty) ⇒ filter.
    pub parent_quota_id: Option<String>,
    /// "10" issue, "11" reclaim; other values ⇒ no filter.
    pub operation_type: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaRecord {
    pub id: String,
    pub operator: String,
    pub operation_type: String,
    pub quota_id: String,
    pub parent_quota_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub operation_time: String,
    pub result: String,
    pub indirect_partner_account_name: String,
    pub indirect_partner_id: String,
    pub indirect_partner_name: String,
    pub remark: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCouponQuotasRecordsResponse {
    pub total_count: i64,
    pub records: Vec<QuotaRecord>,
}

/// A distributor's quota issue/reclaim records.
#[utoipa::path(get, path = "/v2/partners/coupon-quotas/records", tag = "coupons",
    params(ListCouponQuotasRecordsQuery),
    responses((status = 200, body = ListCouponQuotasRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_coupon_quotas_records(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListCouponQuotasRecordsQuery>,
) -> ApiResult<Json<ListCouponQuotasRecordsResponse>> {
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let filter = QuotaRecordFilter {
        indirect_partner_id: indirect(q.indirect_partner_id)?,
        quota_id: id_filter("quota_id", q.quota_id)?,
        parent_quota_id: q.parent_quota_id,
        operation_type: q.operation_type.filter(|t| t == "10" || t == "11"),
        begin: time_bound("operation_time_begin", q.operation_time_begin.as_deref())?,
        end: time_bound("operation_time_end", q.operation_time_end.as_deref())?,
    };
    let (total_count, rows) =
        coupons::list_quota_records(&app, &caller, filter, p.offset, p.limit).await?;
    Ok(Json(ListCouponQuotasRecordsResponse {
        total_count,
        records: rows
            .into_iter()
            .map(|r| QuotaRecord {
                id: r.id,
                operator: r.operator_login.unwrap_or_default(),
                operation_type: r.operation_type,
                quota_id: r.quota_id,
                parent_quota_id: r.parent_quota_id,
                amount: YuanNumber(r.amount),
                operation_time: format_ts(r.created_at),
                result: r.result,
                indirect_partner_account_name: r.indirect_partner_login,
                indirect_partner_id: r.indirect_partner_id,
                indirect_partner_name: r.indirect_partner_name,
                remark: r.remark.unwrap_or_default(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListIssuedCouponQuotasQuery {
    pub quota_id: Option<String>,
    pub indirect_partner_id: Option<String>,
    /// Absent ⇒ no filter; present (also empty) ⇒ filter.
    pub parent_quota_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCouponQuota {
    pub quota_id: String,
    pub quota_type: i32,
    pub create_time: String,
    pub last_update_time: String,
    #[schema(value_type = f64)]
    pub quota_value: YuanNumber,
    pub quota_status: i32,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    pub measure_id: i32,
    pub currency: String,
    pub effective_time: String,
    pub expire_time: String,
    pub limit_infos: Vec<QuotaLimitInfo>,
    pub indirect_partner_id: String,
    pub indirect_partner_account_name: String,
    pub indirect_partner_name: String,
    pub parent_quota_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListIssuedCouponQuotasResponse {
    pub total_count: i64,
    pub quotas: Vec<IssuedCouponQuota>,
}

/// Quotas a distributor issued to its resellers.
#[utoipa::path(get, path = "/v2/partners/issued-coupon-quotas", tag = "coupons",
    params(ListIssuedCouponQuotasQuery),
    responses((status = 200, body = ListIssuedCouponQuotasResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_issued_coupon_quotas(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListIssuedCouponQuotasQuery>,
) -> ApiResult<Json<ListIssuedCouponQuotasResponse>> {
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let filter = QuotaFilter {
        ids: id_filter("quota_id", q.quota_id)?.map(|i| vec![i]),
        partner_id: indirect(q.indirect_partner_id)?,
        parent_quota_id: q.parent_quota_id,
        ..Default::default()
    };
    let (total_count, rows) =
        coupons::list_issued_quotas(&app, &caller, filter, p.offset, p.limit).await?;
    Ok(Json(ListIssuedCouponQuotasResponse {
        total_count,
        quotas: rows
            .iter()
            .map(|r| {
                let v = quota_view(r);
                IssuedCouponQuota {
                    quota_id: v.quota_id,
                    quota_type: v.quota_type,
                    create_time: v.create_time,
                    last_update_time: v.last_update_time,
                    quota_value: v.quota_value,
                    quota_status: v.quota_status,
                    balance: v.balance,
                    measure_id: 1,
                    currency: v.currency,
                    effective_time: v.effective_time,
                    expire_time: v.expire_time,
                    limit_infos: v.limit_infos,
                    indirect_partner_id: r.partner_id.clone(),
                    indirect_partner_account_name: r.partner_login.clone(),
                    indirect_partner_name: r.partner_name.clone(),
                    parent_quota_id: r.parent_quota_id.clone().unwrap_or_default(),
                }
            })
            .collect(),
    }))
}

/// Parses an admin/UTC time that is required.
pub fn required_time(field: &str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    time_bound(field, Some(v))?.ok_or_else(|| ApiError::invalid(field, "is required"))
}
