//! Own coupon quotas and a distributor's reseller quotas.

use super::*;

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

pub(super) fn limit_infos(services: &[String], products: &[String]) -> Vec<QuotaLimitInfo> {
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
