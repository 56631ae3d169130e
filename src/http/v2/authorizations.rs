//! Customer authorisations (申请客户授权, extension in the `/v2` style): the partner asks a resale
//! customer for the right to order (and manage resources) on its behalf with assume-role tokens;
//! the customer approves or rejects; either side revokes. States: `PENDING` → `APPROVED` |
//! `REJECTED`; `PENDING`/`APPROVED` → `REVOKED`; `APPROVED` → `EXPIRED` at `expire_time`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{max_len, non_empty, time_bound};
use crate::{
    db::authorizations::{AuthorizationRow, EventRow, RequestLogRow},
    domain::{assume_role::Scope, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::{
        auth::{CustomerCaller, PartnerCaller},
        authorizations::{self, ListQuery, NewAuthorization, Side},
    },
    state::AppState,
};

/// The partner-side and customer-side authorisation routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_authorization, list_partner_authorizations))
        .routes(routes!(show_partner_authorization))
        .routes(routes!(list_partner_assumed_requests))
        .routes(routes!(partner_revoke_authorization))
        .routes(routes!(list_customer_authorizations))
        .routes(routes!(customer_approve_authorization))
        .routes(routes!(customer_reject_authorization))
        .routes(routes!(customer_revoke_authorization))
        .routes(routes!(list_customer_assumed_requests))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Authorization {
    pub authorization_id: String,
    pub partner_id: String,
    pub customer_id: String,
    /// `order` | `order_and_resource`.
    pub scope: String,
    pub reason: String,
    /// `PENDING` | `APPROVED` | `REJECTED` | `REVOKED` | `EXPIRED`.
    pub status: String,
    /// UTC; absent: until revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    /// The partner account that asked.
    pub requested_by: String,
    pub create_time: String,
    pub update_time: String,
    /// When the customer approved or rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decide_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// When it was revoked or expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Who ended it: `partner` | `customer` | `system` (expiry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

impl From<AuthorizationRow> for Authorization {
    fn from(r: AuthorizationRow) -> Self {
        Authorization {
            authorization_id: r.id,
            partner_id: r.partner_id,
            customer_id: r.customer_id,
            scope: r.scope,
            reason: r.reason,
            status: r.status,
            expire_time: r.expire_time.map(format_ts),
            requested_by: r.requested_by,
            create_time: format_ts(r.created_at),
            update_time: format_ts(r.updated_at),
            decide_time: r.decided_at.map(format_ts),
            decision_reason: r.decision_reason,
            end_time: r.ended_at.map(format_ts),
            ended_by: r.ended_by_kind,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateAuthorizationReq {
    /// One of the partner's resale (`"2"`) customers.
    pub customer_id: String,
    /// `order` | `order_and_resource`.
    pub scope: String,
    /// 1–256 characters.
    pub reason: String,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, later than now; absent: until revoked.
    pub expire_time: Option<String>,
}

fn reason(field: &str, v: Option<&str>, required: bool) -> ApiResult<()> {
    if required && v.is_none_or(|s| s.trim().is_empty()) {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    max_len(field, v, 256)
}

/// Ask a resale customer for authorisation to order (and manage resources) on its behalf.
#[utoipa::path(post, path = "/v2/partners/sub-customers/authorizations", tag = "authorizations",
    request_body = CreateAuthorizationReq,
    responses((status = 201, body = Authorization), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_authorization(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<CreateAuthorizationReq>,
) -> ApiResult<(StatusCode, Json<Authorization>)> {
    if req.customer_id.is_empty() {
        return Err(ApiError::invalid("customer_id", "must not be empty"));
    }
    max_len("customer_id", Some(&req.customer_id), 64)?;
    let scope = Scope::parse(&req.scope)
        .ok_or_else(|| ApiError::invalid("scope", "must be \"order\" or \"order_and_resource\""))?;
    reason("reason", Some(&req.reason), true)?;
    let expire_time = time_bound("expire_time", req.expire_time.as_deref())?;
    let row = authorizations::request(
        &app,
        &caller,
        NewAuthorization {
            customer_id: req.customer_id,
            scope,
            reason: req.reason,
            expire_time,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizationListQuery {
    /// Partner side only.
    pub customer_id: Option<String>,
    /// `PENDING` | `APPROVED` | `REJECTED` | `REVOKED` | `EXPIRED`.
    pub status: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationList {
    pub total_count: i64,
    pub authorizations: Vec<Authorization>,
}

const STATUSES: [&str; 5] = ["PENDING", "APPROVED", "REJECTED", "REVOKED", "EXPIRED"];

fn list_query(q: AuthorizationListQuery) -> ApiResult<ListQuery> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::invalid(
            "status",
            "must be PENDING, APPROVED, REJECTED, REVOKED or EXPIRED",
        ));
    }
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    Ok(ListQuery {
        customer_id,
        status,
        offset: paging.offset,
        limit: paging.limit,
    })
}

fn list((total_count, rows): (i64, Vec<AuthorizationRow>)) -> Json<AuthorizationList> {
    Json(AuthorizationList {
        total_count,
        authorizations: rows.into_iter().map(Into::into).collect(),
    })
}

/// The partner's authorisation requests, newest first.
#[utoipa::path(get, path = "/v2/partners/sub-customers/authorizations", tag = "authorizations",
    params(AuthorizationListQuery),
    responses((status = 200, body = AuthorizationList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_authorizations(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<AuthorizationListQuery>,
) -> ApiResult<Json<AuthorizationList>> {
    let q = list_query(q)?;
    Ok(list(
        authorizations::list(&app, Side::Partner(&caller), &q).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationRecord {
    /// `requested` | `approved` | `rejected` | `revoked` | `expired`.
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: String,
    /// `partner` | `customer` | `system`.
    pub actor_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub operation_time: String,
}

impl From<EventRow> for AuthorizationRecord {
    fn from(e: EventRow) -> Self {
        AuthorizationRecord {
            event_type: e.event_type,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_id: e.actor_id,
            actor_kind: e.actor_kind,
            reason: e.reason,
            operation_time: format_ts(e.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizationDetail {
    #[serde(flatten)]
    pub authorization: Authorization,
    /// Every state change, oldest first.
    pub records: Vec<AuthorizationRecord>,
}

/// One of the partner's authorisations with its history.
#[utoipa::path(get, path = "/v2/partners/sub-customers/authorizations/{authorization_id}", tag = "authorizations",
    params(("authorization_id" = String, Path)),
    responses((status = 200, body = AuthorizationDetail), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_partner_authorization(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<AuthorizationDetail>> {
    let (row, events) = authorizations::partner_detail(&app, &caller, &id).await?;
    Ok(Json(AuthorizationDetail {
        authorization: row.into(),
        records: events.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumedRoleRequest {
    pub method: String,
    pub path: String,
    /// HTTP status of the answer (absent while it runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i16>,
    pub request_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssumedRoleRequestList {
    pub total_count: i64,
    pub requests: Vec<AssumedRoleRequest>,
}

async fn requests_made(
    app: &AppState,
    side: Side<'_>,
    id: &str,
    q: PageQuery,
) -> ApiResult<Json<AssumedRoleRequestList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let (total_count, rows) =
        authorizations::requests_made(app, side, id, paging.offset, paging.limit).await?;
    Ok(Json(AssumedRoleRequestList {
        total_count,
        requests: rows
            .into_iter()
            .map(|r: RequestLogRow| AssumedRoleRequest {
                method: r.method,
                path: r.path,
                status: r.status,
                request_time: format_ts(r.at),
            })
            .collect(),
    }))
}

/// The requests the partner made with assume-role tokens under an authorisation, newest first.
#[utoipa::path(get, path = "/v2/partners/sub-customers/authorizations/{authorization_id}/requests", tag = "authorizations",
    params(("authorization_id" = String, Path), PageQuery),
    responses((status = 200, body = AssumedRoleRequestList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_assumed_requests(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AssumedRoleRequestList>> {
    requests_made(&app, Side::Partner(&caller), &id, q).await
}

/// What the partner did as this customer under an authorisation, newest first.
#[utoipa::path(get, path = "/v2/customers/authorizations/{authorization_id}/requests", tag = "authorizations",
    params(("authorization_id" = String, Path), PageQuery),
    responses((status = 200, body = AssumedRoleRequestList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_assumed_requests(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AssumedRoleRequestList>> {
    requests_made(&app, Side::Customer(&caller), &id, q).await
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct AuthorizationDecisionReq {
    /// Optional, at most 256 characters.
    pub reason: Option<String>,
}

fn decision_reason(req: AuthorizationDecisionReq) -> ApiResult<Option<String>> {
    reason("reason", req.reason.as_deref(), false)?;
    Ok(non_empty(req.reason))
}

/// Revoke (or withdraw, while pending) an authorisation; tokens issued under it stop working.
#[utoipa::path(post, path = "/v2/partners/sub-customers/authorizations/{authorization_id}/revoke", tag = "authorizations",
    params(("authorization_id" = String, Path)), request_body = AuthorizationDecisionReq,
    responses((status = 200, body = Authorization), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn partner_revoke_authorization(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AuthorizationDecisionReq>,
) -> ApiResult<Json<Authorization>> {
    let reason = decision_reason(req)?;
    let r = authorizations::revoke(&app, Side::Partner(&caller), &id, reason.as_deref()).await?;
    Ok(Json(r.into()))
}

/// The customer's authorisations of its partner, newest first.
#[utoipa::path(get, path = "/v2/customers/authorizations", tag = "authorizations",
    params(AuthorizationListQuery),
    responses((status = 200, body = AuthorizationList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_authorizations(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(mut q): ApiQuery<AuthorizationListQuery>,
) -> ApiResult<Json<AuthorizationList>> {
    // The customer's own list: a customer_id filter has no meaning here.
    q.customer_id = None;
    let q = list_query(q)?;
    Ok(list(
        authorizations::list(&app, Side::Customer(&caller), &q).await?,
    ))
}

async fn decide(
    app: &AppState,
    caller: &CustomerCaller,
    id: &str,
    approve: bool,
    req: AuthorizationDecisionReq,
) -> ApiResult<Json<Authorization>> {
    let reason = decision_reason(req)?;
    let r = authorizations::customer_decide(app, caller, id, approve, reason.as_deref()).await?;
    Ok(Json(r.into()))
}

/// Approve a pending authorisation: the partner may then obtain assume-role tokens.
#[utoipa::path(post, path = "/v2/customers/authorizations/{authorization_id}/approve", tag = "authorizations",
    params(("authorization_id" = String, Path)), request_body = AuthorizationDecisionReq,
    responses((status = 200, body = Authorization), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_approve_authorization(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AuthorizationDecisionReq>,
) -> ApiResult<Json<Authorization>> {
    decide(&app, &caller, &id, true, req).await
}

/// Reject a pending authorisation.
#[utoipa::path(post, path = "/v2/customers/authorizations/{authorization_id}/reject", tag = "authorizations",
    params(("authorization_id" = String, Path)), request_body = AuthorizationDecisionReq,
    responses((status = 200, body = Authorization), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_reject_authorization(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AuthorizationDecisionReq>,
) -> ApiResult<Json<Authorization>> {
    decide(&app, &caller, &id, false, req).await
}

/// Revoke an approved (or pending) authorisation; the partner's tokens stop working at once.
#[utoipa::path(post, path = "/v2/customers/authorizations/{authorization_id}/revoke", tag = "authorizations",
    params(("authorization_id" = String, Path)), request_body = AuthorizationDecisionReq,
    responses((status = 200, body = Authorization), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_revoke_authorization(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AuthorizationDecisionReq>,
) -> ApiResult<Json<Authorization>> {
    let reason = decision_reason(req)?;
    let r = authorizations::revoke(&app, Side::Customer(&caller), &id, reason.as_deref()).await?;
    Ok(Json(r.into()))
}
