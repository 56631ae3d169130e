//! Yearly/monthly ↔ pay-per-use, renewal settings and quotes, and the partner's view of a
//! customer's on-demand resources (50-other.md §B).

use super::*;
use crate::{
    db::orders::RenewSetting,
    service::orders::on_demand::{self, Instantly, OnDemandQuery},
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodToOnDemandReq {
    /// `SET_UP` (switch at expiry) | `CANCEL`.
    pub operation: String,
    /// ≤ 100 main resource ids.
    pub resource_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub error_code: String,
    pub error_msg: String,
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatePeriodToOnDemandResponse {
    pub error_details: Vec<ErrorDetail>,
}

/// Switches resources to pay-per-use at their expiry (or takes that back); failures per resource
/// (`CBC.99003623`: the resource is in an order pending payment).
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/to-on-demand", tag = "orders",
    request_body = PeriodToOnDemandReq,
    responses((status = 200, body = UpdatePeriodToOnDemandResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_period_to_on_demand(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<PeriodToOnDemandReq>,
) -> ApiResult<Json<UpdatePeriodToOnDemandResponse>> {
    let set_up = match req.operation.as_str() {
        "SET_UP" => true,
        "CANCEL" => false,
        _ => return Err(ApiError::invalid("operation", "must be SET_UP or CANCEL")),
    };
    let fails = on_demand::to_on_demand_at_expiry(&app, &caller, &req.resource_ids, set_up).await?;
    Ok(Json(UpdatePeriodToOnDemandResponse {
        error_details: fails
            .into_iter()
            .map(|f| ErrorDetail {
                error_code: f.code.to_string(),
                error_msg: f.message,
                id: f.resource_id,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodToOnDemandInstantlyReq {
    /// 1–10 ids, each 1–64 characters.
    pub resource_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ToOndemandServiceResult {
    pub resource_id: String,
    /// `SUCCESS` | `FAIL`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    /// The period → on-demand order (type 10) holding the refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatePeriodToOnDemandInstantlyResponse {
    pub to_ondemand_service_results: Vec<ToOndemandServiceResult>,
}

/// Ends resources' yearly/monthly periods now (they continue pay-per-use); the unused part is
/// refunded back where it was paid from.
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/to-on-demand/instantly", tag = "orders",
    request_body = PeriodToOnDemandInstantlyReq,
    responses((status = 200, body = UpdatePeriodToOnDemandInstantlyResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_period_to_on_demand_instantly(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<PeriodToOnDemandInstantlyReq>,
) -> ApiResult<Json<UpdatePeriodToOnDemandInstantlyResponse>> {
    let out = on_demand::to_on_demand_now(&app, &caller, &req.resource_ids).await?;
    Ok(Json(UpdatePeriodToOnDemandInstantlyResponse {
        to_ondemand_service_results: out
            .into_iter()
            .map(|(id, o)| match o {
                Instantly::Done { order_id } => ToOndemandServiceResult {
                    resource_id: id,
                    result: "SUCCESS".into(),
                    error_code: None,
                    error_msg: None,
                    order_id: Some(order_id),
                },
                Instantly::Failed(f) => ToOndemandServiceResult {
                    resource_id: id,
                    result: "FAIL".into(),
                    error_code: Some(f.code.to_string()),
                    error_msg: Some(f.message),
                    order_id: None,
                },
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenewResourceConfigReq {
    /// `DEDUCTION_DATE`: auto-renewals deduct `config_value` = 2–7 days before expiry.
    /// `EXPIRE_DATE`: renewals end on the unified expiry day `config_value` of the month in
    /// UTC+8, "1"–"28" or "-1" (the month's last day): the renewal's normal end (whole periods)
    /// moves to the first such date on or after it, at the same UTC+8 time of day, and the 0–30
    /// days added are charged `monthly price × copies × days / 30` (yearly-only products
    /// `yearly / 365` a day), rounded half-up to the fen, in the renewal line's official amount.
    /// Each setting leaves the other as it is. Another name or value: CBC.0100.
    pub config_name: String,
    pub config_value: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SetResourcesRenewConfigResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}

/// Sets the customer's auto-renewal deduction date or unified expiry day.
///
/// `DEDUCTION_DATE` (days before expiry auto-renewals are paid) or `EXPIRE_DATE` (the day of
/// the month, UTC+8, renewals end on; the days added charged pro rata). Bad values: CBC.0100.
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/renew/config", tag = "orders",
    request_body = RenewResourceConfigReq,
    responses((status = 200, body = SetResourcesRenewConfigResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn set_resources_renew_config(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<RenewResourceConfigReq>,
) -> ApiResult<Json<SetResourcesRenewConfigResponse>> {
    if req.config_name == "EXPIRE_DATE" {
        let day: i16 = req
            .config_value
            .parse()
            .ok()
            .filter(|d| crate::domain::orders::valid_expire_day(*d))
            .ok_or_else(|| {
                ApiError::invalid(
                    "config_value",
                    "must be 1 to 28, or -1 (the month's last day)",
                )
            })?;
        on_demand::set_renew_setting(&app, &caller, RenewSetting::ExpireDay, day).await?;
        return Ok(Json(SetResourcesRenewConfigResponse {
            error_code: None,
            error_msg: None,
        }));
    }
    if req.config_name != "DEDUCTION_DATE" {
        return Err(ApiError::invalid(
            "config_name",
            "must be DEDUCTION_DATE or EXPIRE_DATE",
        ));
    }
    let days: i16 = req
        .config_value
        .parse()
        .ok()
        .filter(|d| (2..=7).contains(d))
        .ok_or_else(|| ApiError::invalid("config_value", "must be 2 to 7 (days before expiry)"))?;
    on_demand::set_renew_setting(&app, &caller, RenewSetting::DeductionDays, days).await?;
    Ok(Json(SetResourcesRenewConfigResponse {
        error_code: None,
        error_msg: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListRenewRateOnPeriodReq {
    pub resource_ids: Vec<String>,
    /// 2 month, 3 year.
    pub period_type: i16,
    pub period_num: i32,
    /// Attached resources are not modelled: accepted and ignored.
    pub include_relative_resources: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RenewInquiryResultInfo {
    pub resource_id: String,
    /// Yuan, 2 decimals.
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficialWebsiteRatingResultV2 {
    pub official_website_amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptionalDiscountRatingResultV2 {
    pub discount_id: String,
    pub amount: String,
    pub official_website_amount: String,
    pub discount_amount: String,
    /// 3 partner-granted.
    pub discount_type: i16,
    pub discount_name: String,
    /// 1 the best offer.
    pub best_offer: i16,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListRenewRateOnPeriodResponse {
    pub currency: String,
    pub renew_inquiry_results: Vec<RenewInquiryResultInfo>,
    pub official_website_rating_result: OfficialWebsiteRatingResultV2,
    pub optional_discount_rating_results: Vec<OptionalDiscountRatingResultV2>,
    pub fail_resource_infos: Vec<FailResourceInfo>,
}

/// What renewing the customer's resources would cost.
///
/// In whole periods: the days a unified expiry day (`EXPIRE_DATE`) adds are charged on the
/// renewal order, not quoted here.
#[utoipa::path(post, path = "/v2/bills/ratings/period-resources/renew-rate", tag = "orders",
    request_body = ListRenewRateOnPeriodReq,
    responses((status = 200, body = ListRenewRateOnPeriodResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_renew_rate_on_period(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<ListRenewRateOnPeriodReq>,
) -> ApiResult<Json<ListRenewRateOnPeriodResponse>> {
    if !matches!(req.period_type, 2 | 3) {
        return Err(ApiError::invalid(
            "period_type",
            "must be 2 (month) or 3 (year)",
        ));
    }
    let (quotes, fails) = on_demand::renew_rates(
        &app,
        &caller,
        &req.resource_ids,
        req.period_type,
        req.period_num,
    )
    .await?;
    let official: i64 = quotes.iter().map(|q| q.official).sum();
    let s = |fen: i64| format!("{:.2}", on_demand::yuan(fen));
    let discounted: Option<(String, i64)> =
        quotes
            .first()
            .and_then(|q| q.discounted.clone())
            .map(|(id, _)| {
                (
                    id,
                    quotes
                        .iter()
                        .filter_map(|q| q.discounted.as_ref().map(|d| d.1))
                        .sum(),
                )
            });
    Ok(Json(ListRenewRateOnPeriodResponse {
        currency: "CNY".into(),
        renew_inquiry_results: quotes
            .iter()
            .map(|q| RenewInquiryResultInfo {
                resource_id: q.resource_id.clone(),
                amount: s(q.discounted.as_ref().map_or(q.official, |d| d.1)),
            })
            .collect(),
        official_website_rating_result: OfficialWebsiteRatingResultV2 {
            official_website_amount: s(official),
        },
        optional_discount_rating_results: discounted
            .into_iter()
            .map(|(id, amount)| OptionalDiscountRatingResultV2 {
                discount_id: id,
                amount: s(amount),
                official_website_amount: s(official),
                discount_amount: s(official - amount),
                discount_type: 3,
                discount_name: "partner discount".into(),
                best_offer: 1,
            })
            .collect(),
        fail_resource_infos: failures(fails),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryCustomerOnDemandResourcesReq {
    pub customer_id: String,
    pub region_code: Option<String>,
    pub service_type_code: Option<String>,
    /// ≤ 50.
    pub resource_ids: Option<Vec<String>>,
    pub effective_time_begin: Option<String>,
    pub effective_time_end: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    /// 1 normal, 2 grace period, 3 frozen, 4 changing, 5 closing, 6 closed.
    pub status: Option<i16>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOnDemandResource {
    pub customer_id: String,
    pub region_code: String,
    pub availability_zone_code: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub resource_id: String,
    pub resource_name: String,
    pub effective_time: String,
    pub status: i16,
    pub resource_spec_code: String,
    pub product_spec_desc: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerOnDemandResourcesResponse {
    pub resources: Vec<CustomerOnDemandResource>,
    pub total_count: i64,
}

/// Partner: a resale customer's pay-per-use resources (from its usage records).
#[utoipa::path(post, path = "/v2/partners/sub-customers/on-demand-resources/query", tag = "orders",
    request_body = QueryCustomerOnDemandResourcesReq,
    params(("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListCustomerOnDemandResourcesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_on_demand_resources(
    State(app): State<AppState>,
    caller: crate::service::auth::PartnerCaller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<QueryCustomerOnDemandResourcesReq>,
) -> ApiResult<Json<ListCustomerOnDemandResourcesResponse>> {
    if req.customer_id.is_empty() {
        return Err(ApiError::invalid("customer_id", "is required"));
    }
    max_len("customer_id", Some(&req.customer_id), 64)?;
    if req.resource_ids.as_ref().is_some_and(|v| v.len() > 50) {
        return Err(ApiError::invalid("resource_ids", "at most 50 ids"));
    }
    if req.status.is_some_and(|s| !(1..=6).contains(&s)) {
        return Err(ApiError::invalid("status", "must be between 1 and 6"));
    }
    let (offset, limit) = paging(
        req.offset.map(|v| v.to_string()),
        req.limit.map(|v| v.to_string()),
        100,
    )?;
    let (effective_begin, effective_end) = window(
        "effective_time_begin",
        req.effective_time_begin,
        "effective_time_end",
        req.effective_time_end,
    )?;
    let q = OnDemandQuery {
        customer_id: req.customer_id.clone(),
        indirect_partner_id: given(req.indirect_partner_id),
        region_code: given(req.region_code),
        service_type_code: given(req.service_type_code),
        resource_ids: req.resource_ids.filter(|v| !v.is_empty()),
        effective_begin,
        effective_end,
        status: req.status,
    };
    let (total, rows) = on_demand::on_demand_resources(&app, &caller, &q, offset, limit).await?;
    let mut codes: Vec<String> = rows.iter().map(|r| r.service_type_code.clone()).collect();
    codes.extend(rows.iter().map(|r| r.resource_type_code.clone()));
    let names = orders::names(&app, codes, english(&headers)).await?;
    let name = |c: &String| names.get(c).cloned().unwrap_or_default();
    Ok(Json(ListCustomerOnDemandResourcesResponse {
        total_count: total,
        resources: rows
            .iter()
            .map(|r| CustomerOnDemandResource {
                customer_id: req.customer_id.clone(),
                region_code: r.region_code.clone(),
                availability_zone_code: String::new(),
                service_type_code: r.service_type_code.clone(),
                resource_type_code: r.resource_type_code.clone(),
                service_type_name: name(&r.service_type_code),
                resource_type_name: name(&r.resource_type_code),
                resource_id: r.resource_id.clone(),
                resource_name: r.resource_name.clone().unwrap_or_default(),
                effective_time: format_ts(r.effective_time),
                status: 1,
                resource_spec_code: r.product_id.clone(),
                product_spec_desc: r.product_id.clone(),
            })
            .collect(),
    }))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(update_period_to_on_demand))
        .routes(routes!(update_period_to_on_demand_instantly))
        .routes(routes!(set_resources_renew_config))
        .routes(routes!(list_renew_rate_on_period))
        .routes(routes!(list_customer_on_demand_resources))
}
