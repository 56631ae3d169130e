//! Yearly/monthly resources (50-other.md §B): list, renew, auto-renew, unsubscribe, and the
//! refund an unsubscription made.

use super::*;
use crate::{
    db::orders::ResourceFilter,
    service::orders::resources::{self as res, Failure},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseProject {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderInstanceV2 {
    pub id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub region_code: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub resource_type_name: String,
    pub service_type_name: String,
    pub resource_spec_code: String,
    pub project_id: String,
    pub product_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_resource_id: Option<String>,
    /// 1 main, 0 attached.
    pub is_main_resource: i16,
    /// 2 in use, 3 closed, 4 frozen, 5 expired (grace period).
    pub status: i16,
    pub effective_time: String,
    pub expire_time: String,
    /// 0 grace period, 1 to on-demand, 3 auto-renew.
    pub expire_policy: i16,
    pub product_spec_desc: String,
    pub update_time: String,
    pub enterprise_project: EnterpriseProject,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryResourcesReq {
    /// ≤ 50; `[]`/absent = no filter (`null` not allowed).
    #[serde(default, deserialize_with = "no_null")]
    pub resource_ids: Option<Vec<String>>,
    pub order_id: Option<String>,
    /// 0 main + attached (default), 1 main only.
    pub only_main_resource: Option<i16>,
    /// 2, 3, 4, 5.
    pub status_list: Option<Vec<i16>>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub expire_time_begin: Option<String>,
    pub expire_time_end: Option<String>,
    pub service_type_code: Option<String>,
    /// Required for a partner querying a sub-customer.
    pub customer_id: Option<String>,
}

/// `resource_ids: null` is refused (absent is fine).
fn no_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let v: Option<Vec<String>> = Option::deserialize(d)?;
    v.map(Some)
        .ok_or_else(|| serde::de::Error::custom("must not be null"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPayPerUseCustomerResourcesResponse {
    pub data: Vec<OrderInstanceV2>,
    pub total_count: i64,
}

/// The customer's yearly/monthly resources (a partner names its sub-customer).
#[utoipa::path(post, path = "/v2/orders/suscriptions/resources/query", tag = "orders",
    request_body = QueryResourcesReq,
    responses((status = 200, body = ListPayPerUseCustomerResourcesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_pay_per_use_customer_resources(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<QueryResourcesReq>,
) -> ApiResult<Json<ListPayPerUseCustomerResourcesResponse>> {
    let ids = req.resource_ids.filter(|v| !v.is_empty());
    if ids.as_ref().is_some_and(|v| v.len() > 50) {
        return Err(ApiError::invalid("resource_ids", "at most 50 ids"));
    }
    let only_main = match req.only_main_resource {
        None | Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(ApiError::invalid("only_main_resource", "must be 0 or 1")),
    };
    if let Some(s) = &req.status_list {
        if s.iter().any(|x| !matches!(x, 2..=5)) {
            return Err(ApiError::invalid(
                "status_list",
                "each status is 2, 3, 4 or 5",
            ));
        }
    }
    if req.service_type_code.as_deref() == Some("") {
        return Err(ApiError::invalid("service_type_code", "must not be \"\""));
    }
    max_len("customer_id", req.customer_id.as_deref(), 64)?;
    let (offset, limit) = paging(
        req.offset.map(|v| v.to_string()),
        req.limit.map(|v| v.to_string()),
        100,
    )?;
    let (expire_begin, expire_end) = window(
        "expire_time_begin",
        req.expire_time_begin,
        "expire_time_end",
        req.expire_time_end,
    )?;
    let filter = ResourceFilter {
        resource_ids: ids,
        order_id: given(req.order_id),
        only_main,
        status_list: req.status_list.filter(|v| !v.is_empty()),
        expire_begin,
        expire_end,
        service_type_code: req.service_type_code,
    };
    let (total, rows) = res::list(
        &app,
        &caller,
        given(req.customer_id).as_deref(),
        &filter,
        offset,
        limit,
    )
    .await?;
    let mut codes: Vec<String> = rows.iter().map(|r| r.service_type_code.clone()).collect();
    codes.extend(rows.iter().map(|r| r.resource_type_code.clone()));
    let names = orders::names(&app, codes, english(&headers)).await?;
    let name = |c: &String| names.get(c).cloned().unwrap_or_default();
    Ok(Json(ListPayPerUseCustomerResourcesResponse {
        total_count: total,
        data: rows
            .iter()
            .map(|r| OrderInstanceV2 {
                id: r.id.clone(),
                resource_id: r.id.clone(),
                resource_name: r.product_spec_desc.clone(),
                region_code: r.region_code.clone(),
                service_type_code: r.service_type_code.clone(),
                resource_type_code: r.resource_type_code.clone(),
                resource_type_name: name(&r.resource_type_code),
                service_type_name: name(&r.service_type_code),
                resource_spec_code: r.resource_spec_code.clone().unwrap_or_default(),
                project_id: r.customer_id.clone(),
                product_id: r.product_id.clone(),
                parent_resource_id: r.parent_resource_id.clone(),
                is_main_resource: i16::from(r.is_main),
                status: r.status,
                effective_time: format_ts(r.effective_time),
                expire_time: format_ts(r.expire_time),
                expire_policy: if r.to_on_demand { 1 } else { r.expire_policy },
                product_spec_desc: r.product_spec_desc.clone(),
                update_time: format_ts(r.update_time),
                enterprise_project: EnterpriseProject {
                    id: "0".into(),
                    name: "default".into(),
                },
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailResourceInfo {
    pub error_code: String,
    pub error_msg: String,
    pub resource_id: String,
}

pub(super) fn failures(f: Vec<Failure>) -> Vec<FailResourceInfo> {
    f.into_iter()
        .map(|f| FailResourceInfo {
            error_code: f.code.to_string(),
            error_msg: f.message,
            resource_id: f.resource_id,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderIdsResponse {
    pub order_ids: Vec<String>,
    pub fail_resource_infos: Vec<FailResourceInfo>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenewalResourcesReq {
    /// ≤ 10 main resource ids.
    pub resource_ids: Vec<String>,
    /// 2 month, 3 year.
    pub period_type: i16,
    /// Months 1–11, years 1–3.
    pub period_num: i32,
    /// 0 (default) leave the order pending, 1 pay it from the balance at once.
    pub is_auto_pay: Option<i16>,
}

/// Renews resources: one renewal order each.
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/renew", tag = "orders",
    request_body = RenewalResourcesReq,
    responses((status = 200, body = OrderIdsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn renewal_resources(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<RenewalResourcesReq>,
) -> ApiResult<Json<OrderIdsResponse>> {
    if !matches!(req.period_type, 2 | 3) {
        return Err(ApiError::invalid(
            "period_type",
            "must be 2 (month) or 3 (year)",
        ));
    }
    let auto_pay = match req.is_auto_pay {
        None | Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(ApiError::invalid("is_auto_pay", "must be 0 or 1")),
    };
    let (order_ids, fails) = res::renew(
        &app,
        &caller,
        &req.resource_ids,
        req.period_type,
        req.period_num,
        auto_pay,
    )
    .await?;
    Ok(Json(OrderIdsResponse {
        order_ids,
        fail_resource_infos: failures(fails),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AutoRenewalResourcesReq {
    /// 0–99 (0 = unlimited, the default).
    pub auto_renew_times: Option<i32>,
    /// `MONTH` | `YEAR` (default: the resource's period).
    pub period_type: Option<String>,
}

/// Turns on auto-renewal of a resource. Empty body. A resource in its grace period or frozen:
/// 400 `CBC.99003602`.
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/autorenew/{resource_id}", tag = "orders",
    params(("resource_id" = String, Path)),
    request_body = AutoRenewalResourcesReq,
    responses((status = 204, description = "Set"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn auto_renewal_resources(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(resource_id): Path<String>,
    ApiJson(req): ApiJson<AutoRenewalResourcesReq>,
) -> ApiResult<StatusCode> {
    let times = req.auto_renew_times.unwrap_or(0);
    if !(0..=99).contains(&times) {
        return Err(ApiError::invalid(
            "auto_renew_times",
            "must be between 0 and 99",
        ));
    }
    let period = match req.period_type.as_deref() {
        None => None,
        Some("MONTH") => Some(2),
        Some("YEAR") => Some(3),
        Some(_) => return Err(ApiError::invalid("period_type", "must be MONTH or YEAR")),
    };
    res::set_auto_renew(&app, &caller, &resource_id, Some((times, period))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns off auto-renewal of a resource. Empty body. One that does not auto-renew: 400
/// `CBC.99003605`.
#[utoipa::path(delete, path = "/v2/orders/subscriptions/resources/autorenew/{resource_id}", tag = "orders",
    params(("resource_id" = String, Path)),
    responses((status = 204, description = "Cancelled"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn cancel_auto_renewal_resources(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(resource_id): Path<String>,
) -> ApiResult<StatusCode> {
    res::set_auto_renew(&app, &caller, &resource_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnsubscribeResourcesReq {
    /// ≤ 10 main resource ids.
    pub resource_ids: Vec<String>,
    /// 1 the resource and its renewed periods, 2 only the renewed periods not yet begun.
    pub unsubscribe_type: i16,
    /// 1–5.
    pub unsubscribe_reason_type: Option<i16>,
    pub unsubscribe_reason: Option<String>,
}

/// Unsubscribes resources: the unused part goes back where it was paid from (a refund order each).
#[utoipa::path(post, path = "/v2/orders/subscriptions/resources/unsubscribe", tag = "orders",
    request_body = UnsubscribeResourcesReq,
    responses((status = 200, body = OrderIdsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn cancel_resources_subscription(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<UnsubscribeResourcesReq>,
) -> ApiResult<Json<OrderIdsResponse>> {
    if req
        .unsubscribe_reason_type
        .is_some_and(|t| !(1..=5).contains(&t))
    {
        return Err(ApiError::invalid(
            "unsubscribe_reason_type",
            "must be between 1 and 5",
        ));
    }
    max_len(
        "unsubscribe_reason",
        req.unsubscribe_reason.as_deref(),
        1024,
    )?;
    let (order_ids, fails) =
        res::unsubscribe(&app, &caller, &req.resource_ids, req.unsubscribe_type).await?;
    Ok(Json(OrderIdsResponse {
        order_ids,
        fail_resource_infos: failures(fails),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowRefundOrderDetailsQuery {
    /// Required.
    pub order_id: Option<String>,
    /// Required when a partner queries a sub-customer's order.
    pub customer_id: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderRefundInfoV2 {
    /// The refund fee record.
    pub id: String,
    /// Negative: refunded.
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub measure_id: String,
    pub customer_id: String,
    pub resource_type_code: String,
    pub service_type_code: String,
    pub resource_type_name: String,
    pub service_type_name: String,
    pub region_code: String,
    /// The order that paid the refunded period.
    pub base_order_id: String,
    /// Extension: where it went back to (negative yuan per source).
    pub amount_info: AmountInfomationV2,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowRefundOrderDetailsResponse {
    pub total_count: i64,
    pub refund_infos: Vec<OrderRefundInfoV2>,
}

/// Where an unsubscribe order's refund came from and went to (CBC.99005026 for another order).
#[utoipa::path(get, path = "/v2/orders/customer-orders/refund-orders", tag = "orders",
    params(ShowRefundOrderDetailsQuery),
    responses((status = 200, body = ShowRefundOrderDetailsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_refund_order_details(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ShowRefundOrderDetailsQuery>,
) -> ApiResult<Json<ShowRefundOrderDetailsResponse>> {
    let id = required_order_id(q.order_id)?;
    let customer = given(q.customer_id);
    max_len("customer_id", customer.as_deref(), 64)?;
    if matches!(caller, Caller::Partner(_)) && customer.is_none() {
        return Err(ApiError::invalid(
            "customer_id",
            "is required when a partner queries a customer's order",
        ));
    }
    let indirect = given(q.indirect_partner_id);
    let (order, lines) =
        res::refund_details(&app, &caller, &id, customer.as_deref(), indirect.as_deref()).await?;
    let mut codes: Vec<String> = lines.iter().map(|l| l.service_type_code.clone()).collect();
    codes.extend(lines.iter().map(|l| l.resource_type_code.clone()));
    let names = orders::names(&app, codes, english(&headers)).await?;
    let name = |c: &String| names.get(c).cloned().unwrap_or_default();
    Ok(Json(ShowRefundOrderDetailsResponse {
        total_count: lines.len() as i64,
        refund_infos: lines
            .iter()
            .map(|l| OrderRefundInfoV2 {
                id: l.fee_record_id.clone().unwrap_or_else(|| l.id.clone()),
                amount: YuanNumber(l.payable),
                measure_id: "1".into(),
                customer_id: order.customer_id.clone(),
                resource_type_code: l.resource_type_code.clone(),
                service_type_code: l.service_type_code.clone(),
                resource_type_name: name(&l.resource_type_code),
                service_type_name: name(&l.service_type_code),
                region_code: l.region_code.clone(),
                base_order_id: l.base_order_id.clone().unwrap_or_default(),
                amount_info: amount_info(
                    0,
                    None,
                    l.coupon,
                    l.cash_coupon,
                    l.card,
                    l.cash,
                    l.credit,
                ),
                cash_amount: YuanNumber(l.cash),
                credit_amount: YuanNumber(l.credit),
            })
            .collect(),
    }))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_pay_per_use_customer_resources))
        .routes(routes!(renewal_resources))
        .routes(routes!(
            auto_renewal_resources,
            cancel_auto_renewal_resources
        ))
        .routes(routes!(cancel_resources_subscription))
        .routes(routes!(show_refund_order_details))
}
