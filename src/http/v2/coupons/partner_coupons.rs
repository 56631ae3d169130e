//! Partner coupons: issue, list, reclaim and their records.

use super::*;

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

pub(super) fn details(errors: Vec<ItemError>) -> Vec<ErrorDetail> {
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

pub(super) fn use_limits(c: &CouponRow) -> Vec<ICouponUseLimitInfoV2> {
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

pub(super) struct CouponQueryParts {
    pub(super) coupon_type: Option<i16>,
    pub(super) status: Option<i16>,
    pub(super) paging: Paging,
}

pub(super) fn coupon_enums(
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

pub(super) fn id_filter(field: &str, v: Option<String>) -> Result<Option<String>, ApiError> {
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
