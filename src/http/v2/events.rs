//! Events and webhooks (extension): the partner's event feed with a gap-free cursor, and its
//! webhook endpoints, their signing secrets, delivery attempts and redelivery.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::max_len;
use crate::{
    db::webhooks::{AttemptRow, EndpointRow},
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        events::{self, Event, FeedRequest},
        webhooks::{self, EndpointChange, EndpointInput},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFeedQuery {
    /// The `next_cursor` of the previous page; absent: from the oldest retained event.
    pub after: Option<String>,
    /// Comma-separated event types; absent: every type.
    pub types: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventFeed {
    pub events: Vec<Event>,
    /// Pass as `after` to get the next events (the same cursor again when there were none).
    pub next_cursor: String,
}

/// The partner's events after a cursor, oldest first. Paging with `next_cursor` reads every
/// event exactly once: an event appears only once every transaction that could still write an
/// earlier one has finished. Operators with a manager scope see only their customers' events.
#[utoipa::path(get, path = "/v2/partners/events", tag = "events", params(EventFeedQuery),
    responses((status = 200, body = EventFeed), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_events(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<EventFeedQuery>,
) -> ApiResult<Json<EventFeed>> {
    let types = q.types.filter(|t| !t.is_empty()).map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    });
    let page = events::feed(
        &app,
        &caller,
        FeedRequest {
            after: q.after,
            types,
            limit: q.limit.unwrap_or(100),
        },
    )
    .await?;
    Ok(Json(EventFeed {
        events: page.events,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// `https://…` (plain `http://` only to loopback, and only with
    /// `webhooks.allow_private_targets`); must not resolve to a private, loopback or link-local
    /// address.
    pub url: String,
    /// At most 256 characters.
    pub description: Option<String>,
    /// Event types to deliver; absent or empty: every type.
    pub types: Option<Vec<String>>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub description: Option<String>,
    /// Replaces the filter; an empty list: every type.
    pub types: Option<Vec<String>>,
    /// Enabling a disabled endpoint resumes its pending deliveries.
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub endpoint_id: String,
    pub url: String,
    pub description: String,
    /// Empty: every type.
    pub types: Vec<String>,
    pub enabled: bool,
    /// The first failure since the last success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The signing secret (`whsec_…`): only in the answer that creates the endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(e: EndpointRow) -> Self {
        WebhookEndpoint {
            endpoint_id: e.id,
            url: e.url,
            description: e.description,
            types: e.types.unwrap_or_default(),
            enabled: e.enabled,
            failing_since: e.failing_since.map(format_ts),
            disabled_reason: e.disabled_reason,
            created_at: format_ts(e.created_at),
            updated_at: format_ts(e.updated_at),
            secret: None,
        }
    }
}

fn description(d: Option<&str>) -> ApiResult<()> {
    max_len("description", d, 256)
}

/// Register a webhook endpoint (main account). The answer holds its signing secret, shown only
/// here (and on rotation).
#[utoipa::path(post, path = "/v2/partners/webhooks", tag = "events", request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookEndpoint), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_webhook(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookEndpoint>)> {
    description(req.description.as_deref())?;
    let (row, secret) = webhooks::create_endpoint(
        &app,
        &caller,
        EndpointInput {
            url: req.url,
            description: req.description.unwrap_or_default(),
            types: req.types,
            enabled: req.enabled.unwrap_or(true),
        },
    )
    .await?;
    let mut out = WebhookEndpoint::from(row);
    out.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub total_count: i64,
    pub endpoints: Vec<WebhookEndpoint>,
}

/// List the partner's webhook endpoints, oldest first (main account).
#[utoipa::path(get, path = "/v2/partners/webhooks", tag = "events", params(PageQuery),
    responses((status = 200, body = WebhookList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_webhooks(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<WebhookList>> {
    let p = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let (total_count, rows) = webhooks::list_endpoints(&app, &caller, p.offset, p.limit).await?;
    Ok(Json(WebhookList {
        total_count,
        endpoints: rows.into_iter().map(WebhookEndpoint::from).collect(),
    }))
}

/// Show a webhook endpoint (main account).
#[utoipa::path(get, path = "/v2/partners/webhooks/{endpoint_id}", tag = "events",
    params(("endpoint_id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_webhook(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookEndpoint>> {
    Ok(Json(
        webhooks::show_endpoint(&app, &caller, &id).await?.into(),
    ))
}

/// Change a webhook endpoint; absent fields keep their value (main account).
#[utoipa::path(put, path = "/v2/partners/webhooks/{endpoint_id}", tag = "events",
    params(("endpoint_id" = String, Path)), request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookEndpoint), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_webhook(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<Json<WebhookEndpoint>> {
    description(req.description.as_deref())?;
    let row = webhooks::update_endpoint(
        &app,
        &caller,
        &id,
        EndpointChange {
            url: req.url,
            description: req.description,
            types: req.types.map(Some),
            enabled: req.enabled,
        },
    )
    .await?;
    Ok(Json(row.into()))
}

/// Delete a webhook endpoint with its pending deliveries and attempts (main account).
#[utoipa::path(delete, path = "/v2/partners/webhooks/{endpoint_id}", tag = "events",
    params(("endpoint_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn delete_webhook(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete_endpoint(&app, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecret {
    /// `whsec_` and the base64 key (Standard Webhooks); shown only here.
    pub secret: String,
}

/// Replace an endpoint's signing secret; the old one stops signing at once (main account).
#[utoipa::path(post, path = "/v2/partners/webhooks/{endpoint_id}/rotate-secret", tag = "events",
    params(("endpoint_id" = String, Path)),
    responses((status = 200, body = WebhookSecret), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn rotate_webhook_secret(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    let secret = webhooks::rotate_secret(&app, &caller, &id).await?;
    Ok(Json(WebhookSecret { secret }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub attempt_id: i64,
    pub delivery_id: i64,
    pub event_id: String,
    /// 1 for the first attempt of a delivery.
    pub attempt: i32,
    /// `succeeded` | `failed`.
    pub status: String,
    /// The HTTP status the endpoint answered (absent: no answer).
    pub response_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub attempted_at: String,
    /// When the next attempt is due (absent: the delivery ended).
    pub next_attempt_at: Option<String>,
}

impl From<AttemptRow> for WebhookAttempt {
    fn from(a: AttemptRow) -> Self {
        WebhookAttempt {
            attempt_id: a.id,
            delivery_id: a.delivery_id,
            event_id: a.event_id,
            attempt: a.attempt,
            status: a.status,
            response_code: a.response_code,
            error: a.error,
            duration_ms: a.duration_ms,
            attempted_at: format_ts(a.attempted_at),
            next_attempt_at: a.next_attempt_at.map(format_ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttemptList {
    pub total_count: i64,
    pub attempts: Vec<WebhookAttempt>,
}

/// Delivery attempts of an endpoint, newest first (main account).
#[utoipa::path(get, path = "/v2/partners/webhooks/{endpoint_id}/attempts", tag = "events",
    params(("endpoint_id" = String, Path), PageQuery),
    responses((status = 200, body = WebhookAttemptList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_webhook_attempts(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<WebhookAttemptList>> {
    let p = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let (total_count, rows) =
        webhooks::list_attempts(&app, &caller, &id, p.offset, p.limit).await?;
    Ok(Json(WebhookAttemptList {
        total_count,
        attempts: rows.into_iter().map(WebhookAttempt::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redelivery {
    pub delivery_id: i64,
}

/// Send an event of the partner's feed to the endpoint again, now (main account).
#[utoipa::path(post, path = "/v2/partners/webhooks/{endpoint_id}/events/{event_id}/redeliver", tag = "events",
    params(("endpoint_id" = String, Path), ("event_id" = String, Path)),
    responses((status = 202, body = Redelivery), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn redeliver_webhook_event(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Redelivery>)> {
    if event_id.is_empty() {
        return Err(ApiError::invalid("event_id", "must not be empty"));
    }
    let delivery_id = webhooks::redeliver(&app, &caller, &id, &event_id).await?;
    Ok((StatusCode::ACCEPTED, Json(Redelivery { delivery_id })))
}
