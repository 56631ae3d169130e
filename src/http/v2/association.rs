//! Association lifecycle (extension in the `/v2` style): switching association types,
//! un-association with the other side's consent, requests, and association records. Requests
//! expire after 7 days unanswered.

use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{max_len, non_empty, time_bound};
use crate::{
    db::lifecycle::{EventRow, RequestRow},
    domain::{time::format_ts, AssociationType},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::{
        association::{self, Decider, RecordQuery, RequestQuery, SwitchOutcome},
        auth::{CustomerCaller, PartnerCaller},
    },
    state::AppState,
};

fn reason(v: &str) -> ApiResult<()> {
    if v.trim().is_empty() {
        return Err(ApiError::invalid("reason", "must not be empty"));
    }
    max_len("reason", Some(v), 256)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationRequest {
    pub request_id: i64,
    pub customer_id: String,
    pub partner_id: String,
    /// `switch_to_resale` | `unassociate`.
    pub request_type: String,
    /// `partner` | `customer`.
    pub initiated_by: String,
    pub reason: String,
    /// `pending` | `approved` | `rejected` | `expired`.
    pub status: String,
    pub created_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
}

impl From<RequestRow> for AssociationRequest {
    fn from(r: RequestRow) -> Self {
        AssociationRequest {
            request_id: r.id,
            customer_id: r.customer_id,
            partner_id: r.partner_id,
            request_type: r.kind,
            initiated_by: r.initiated_by,
            reason: r.reason,
            status: r.status,
            created_at: format_ts(r.created_at),
            expires_at: format_ts(r.expires_at),
            decided_at: r.decided_at.map(format_ts),
            decision_reason: r.decision_reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SwitchAssociationTypeReq {
    pub customer_id: String,
    /// `"1"` advisory (immediate; the balance returns to the partner) | `"2"` resale (needs the
    /// customer's consent).
    pub association_type: String,
    pub reason: String,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SwitchAssociationTypeResponse {
    /// `completed` | `pending`.
    pub status: String,
    /// The BEUNBIND transaction that returned the balance (2 → 1 with a balance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trans_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<AssociationRequest>,
}

/// Switch a customer's association type.
#[utoipa::path(post, path = "/v2/partners/sub-customers/association-type", tag = "association",
    request_body = SwitchAssociationTypeReq,
    responses((status = 200, body = SwitchAssociationTypeResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn switch_association_type(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<SwitchAssociationTypeReq>,
) -> ApiResult<Json<SwitchAssociationTypeResponse>> {
    max_len("customer_id", Some(&req.customer_id), 64)?;
    reason(&req.reason)?;
    let to = AssociationType::from_code(&req.association_type)
        .ok_or_else(|| ApiError::invalid("association_type", "must be \"1\" or \"2\""))?;
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    let out = association::switch_type(
        &app,
        &caller,
        &req.customer_id,
        to,
        &req.reason,
        non_empty(req.indirect_partner_id).as_deref(),
    )
    .await?;
    Ok(Json(match out {
        SwitchOutcome::Completed { trans_id } => SwitchAssociationTypeResponse {
            status: "completed".into(),
            trans_id,
            request: None,
        },
        SwitchOutcome::Pending { request } => SwitchAssociationTypeResponse {
            status: "pending".into(),
            trans_id: None,
            request: Some((*request).into()),
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UnassociateReq {
    pub customer_id: String,
    pub reason: String,
    pub indirect_partner_id: Option<String>,
}

/// Ask a customer to end the association (the customer approves or rejects).
#[utoipa::path(post, path = "/v2/partners/sub-customers/unassociate", tag = "association",
    request_body = UnassociateReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn request_unassociation(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<UnassociateReq>,
) -> ApiResult<Json<AssociationRequest>> {
    max_len("customer_id", Some(&req.customer_id), 64)?;
    reason(&req.reason)?;
    max_len(
        "indirect_partner_id",
        req.indirect_partner_id.as_deref(),
        64,
    )?;
    let r = association::partner_requests_unassociation(
        &app,
        &caller,
        &req.customer_id,
        &req.reason,
        non_empty(req.indirect_partner_id).as_deref(),
    )
    .await?;
    Ok(Json(r.into()))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    pub customer_id: Option<String>,
    /// `pending` | `approved` | `rejected` | `expired`.
    pub status: Option<String>,
    pub indirect_partner_id: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationRequestList {
    pub total_count: i64,
    pub requests: Vec<AssociationRequest>,
}

fn request_query(q: RequestListQuery) -> ApiResult<RequestQuery> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if let Some(s) = status.as_deref() {
        if !["pending", "approved", "rejected", "expired"].contains(&s) {
            return Err(ApiError::invalid(
                "status",
                "must be pending, approved, rejected or expired",
            ));
        }
    }
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    Ok(RequestQuery {
        customer_id,
        status,
        offset: paging.offset,
        limit: paging.limit,
    })
}

fn request_list((total_count, rows): (i64, Vec<RequestRow>)) -> Json<AssociationRequestList> {
    Json(AssociationRequestList {
        total_count,
        requests: rows.into_iter().map(Into::into).collect(),
    })
}

/// The partner's association requests (both directions), newest first.
#[utoipa::path(get, path = "/v2/partners/sub-customers/association-requests", tag = "association",
    params(RequestListQuery),
    responses((status = 200, body = AssociationRequestList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_requests(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<RequestListQuery>,
) -> ApiResult<Json<AssociationRequestList>> {
    let indirect = non_empty(q.indirect_partner_id.clone());
    let query = request_query(q)?;
    Ok(request_list(
        association::partner_requests(&app, &caller, indirect.as_deref(), &query).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct DecisionReq {
    pub reason: Option<String>,
}

async fn decide(
    app: &AppState,
    decider: Decider<'_>,
    request_id: i64,
    approve: bool,
    req: DecisionReq,
) -> ApiResult<Json<AssociationRequest>> {
    max_len("reason", req.reason.as_deref(), 256)?;
    let r = association::decide(
        app,
        decider,
        request_id,
        approve,
        non_empty(req.reason).as_deref(),
    )
    .await?;
    Ok(Json(r.into()))
}

/// Approve a customer's request.
#[utoipa::path(post, path = "/v2/partners/sub-customers/association-requests/{request_id}/approve", tag = "association",
    params(("request_id" = i64, Path)), request_body = DecisionReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn partner_approve(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(request_id): Path<i64>,
    ApiJson(req): ApiJson<DecisionReq>,
) -> ApiResult<Json<AssociationRequest>> {
    decide(&app, Decider::Partner(&caller), request_id, true, req).await
}

/// Reject a customer's request.
#[utoipa::path(post, path = "/v2/partners/sub-customers/association-requests/{request_id}/reject", tag = "association",
    params(("request_id" = i64, Path)), request_body = DecisionReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn partner_reject(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(request_id): Path<i64>,
    ApiJson(req): ApiJson<DecisionReq>,
) -> ApiResult<Json<AssociationRequest>> {
    decide(&app, Decider::Partner(&caller), request_id, false, req).await
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    pub customer_id: Option<String>,
    /// `associate` | `switch_type` | `switch_request` | `unassociate_request` | `unassociate` |
    /// `request_rejected` | `request_expired` | `freeze` | `unfreeze`.
    pub event_type: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, inclusive.
    pub time_begin: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, inclusive.
    pub time_end: Option<String>,
    pub indirect_partner_id: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationRecord {
    pub record_id: i64,
    pub customer_id: String,
    pub customer_name: String,
    pub event_type: String,
    pub actor_id: String,
    /// `partner` | `customer` | `system`.
    pub actor_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `completed` | `pending` | `rejected` | `expired`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_association_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_association_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    pub operation_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssociationRecordList {
    pub total_count: i64,
    pub records: Vec<AssociationRecord>,
}

const EVENT_TYPES: [&str; 9] = [
    "associate",
    "switch_type",
    "switch_request",
    "unassociate_request",
    "unassociate",
    "request_rejected",
    "request_expired",
    "freeze",
    "unfreeze",
];

/// Association records (关联关系操作记录), newest first; kept after a customer leaves.
#[utoipa::path(get, path = "/v2/partners/sub-customers/association-records", tag = "association",
    params(RecordListQuery),
    responses((status = 200, body = AssociationRecordList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_association_records(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<RecordListQuery>,
) -> ApiResult<Json<AssociationRecordList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let event_type = non_empty(q.event_type);
    if let Some(e) = event_type.as_deref() {
        if !EVENT_TYPES.contains(&e) {
            return Err(ApiError::invalid("event_type", "is not a known event type"));
        }
    }
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let query = RecordQuery {
        customer_id,
        event_type,
        begin: time_bound("time_begin", non_empty(q.time_begin).as_deref())?,
        end: time_bound("time_end", non_empty(q.time_end).as_deref())?,
        offset: paging.offset,
        limit: paging.limit,
    };
    let (total_count, rows) = association::records(
        &app,
        &caller,
        non_empty(q.indirect_partner_id).as_deref(),
        &query,
    )
    .await?;
    Ok(Json(AssociationRecordList {
        total_count,
        records: rows
            .into_iter()
            .map(|e: EventRow| AssociationRecord {
                record_id: e.id,
                customer_id: e.customer_id,
                customer_name: e.customer_name,
                event_type: e.event_type,
                actor_id: e.actor_id,
                actor_kind: e.actor_kind,
                reason: e.reason,
                outcome: e.outcome,
                from_association_type: e.from_type,
                to_association_type: e.to_type,
                request_id: e.request_id,
                operation_time: format_ts(e.created_at),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPartnerResponse {
    /// Absent when the customer is not associated with a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associated_on: Option<String>,
}

/// The calling customer's partner and association type.
#[utoipa::path(get, path = "/v2/customers/partner-association", tag = "association",
    responses((status = 200, body = CustomerPartnerResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_partner(
    State(app): State<AppState>,
    caller: CustomerCaller,
) -> ApiResult<Json<CustomerPartnerResponse>> {
    let p = association::current_partner(&app, &caller).await?;
    Ok(Json(match p {
        None => CustomerPartnerResponse {
            partner_id: None,
            partner_name: None,
            association_type: None,
            associated_on: None,
        },
        Some(p) => CustomerPartnerResponse {
            partner_id: Some(p.partner_id),
            partner_name: Some(p.partner_name),
            association_type: Some(p.association_type),
            associated_on: Some(format_ts(p.associated_on)),
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerRequestQuery {
    pub status: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

/// The calling customer's association requests, newest first.
#[utoipa::path(get, path = "/v2/customers/association-requests", tag = "association",
    params(CustomerRequestQuery),
    responses((status = 200, body = AssociationRequestList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_requests(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<CustomerRequestQuery>,
) -> ApiResult<Json<AssociationRequestList>> {
    let query = request_query(RequestListQuery {
        customer_id: None,
        status: q.status,
        indirect_partner_id: None,
        offset: q.offset,
        limit: q.limit,
    })?;
    Ok(request_list(
        association::customer_requests(&app, &caller, &query).await?,
    ))
}

/// Approve the partner's request.
#[utoipa::path(post, path = "/v2/customers/association-requests/{request_id}/approve", tag = "association",
    params(("request_id" = i64, Path)), request_body = DecisionReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_approve(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(request_id): Path<i64>,
    ApiJson(req): ApiJson<DecisionReq>,
) -> ApiResult<Json<AssociationRequest>> {
    decide(&app, Decider::Customer(&caller), request_id, true, req).await
}

/// Reject the partner's request.
#[utoipa::path(post, path = "/v2/customers/association-requests/{request_id}/reject", tag = "association",
    params(("request_id" = i64, Path)), request_body = DecisionReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_reject(
    State(app): State<AppState>,
    caller: CustomerCaller,
    Path(request_id): Path<i64>,
    ApiJson(req): ApiJson<DecisionReq>,
) -> ApiResult<Json<AssociationRequest>> {
    decide(&app, Decider::Customer(&caller), request_id, false, req).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerUnassociateReq {
    pub reason: String,
}

/// Ask the partner to end the association (the partner approves or rejects).
#[utoipa::path(post, path = "/v2/customers/unassociate", tag = "association",
    request_body = CustomerUnassociateReq,
    responses((status = 200, body = AssociationRequest), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn customer_request_unassociation(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<CustomerUnassociateReq>,
) -> ApiResult<Json<AssociationRequest>> {
    reason(&req.reason)?;
    let r = association::customer_requests_unassociation(&app, &caller, &req.reason).await?;
    Ok(Json(r.into()))
}
