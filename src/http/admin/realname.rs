//! The vendor reviews real-name applications.

use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::lifecycle::ApplicationRow,
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::realname,
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct RealnameApplication {
    pub application_id: i64,
    pub customer_id: String,
    pub partner_id: String,
    /// `individual` | `enterprise` | `change_to_enterprise`.
    pub kind: String,
    pub identify_type: i32,
    pub name: String,
    pub verified_number: String,
    /// `reviewing` | `approved` | `rejected`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
    pub submitted_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
}

impl From<ApplicationRow> for RealnameApplication {
    fn from(a: ApplicationRow) -> Self {
        RealnameApplication {
            application_id: a.id,
            customer_id: a.customer_id,
            partner_id: a.partner_id,
            kind: a.kind,
            identify_type: a.identify_type,
            name: a.name,
            verified_number: a.verified_number,
            status: a.status,
            opinion: a.opinion,
            submitted_at: format_ts(a.submitted_at),
            reviewed_at: a.reviewed_at.map(format_ts),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationsQuery {
    /// `reviewing` | `approved` | `rejected`; absent ⇒ all.
    pub status: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RealnameApplicationList {
    pub total_count: i64,
    pub applications: Vec<RealnameApplication>,
}

/// List real-name applications, oldest first.
#[utoipa::path(get, path = "/admin/v1/realname-applications", tag = "admin", params(ApplicationsQuery),
    responses((status = 200, body = RealnameApplicationList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_realname_applications(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ApplicationsQuery>,
) -> ApiResult<Json<RealnameApplicationList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = status.as_deref() {
        if !["reviewing", "approved", "rejected"].contains(&s) {
            return Err(ApiError::invalid(
                "status",
                "must be reviewing, approved or rejected",
            ));
        }
    }
    let (total_count, rows) =
        realname::list_applications(&app, status.as_deref(), paging.offset, paging.limit).await?;
    Ok(Json(RealnameApplicationList {
        total_count,
        applications: rows.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewRequest {
    pub approved: bool,
    /// Required when rejecting (≤ 256 characters).
    pub opinion: Option<String>,
}

/// Approve or reject a real-name application under review.
#[utoipa::path(post, path = "/admin/v1/realname-applications/{application_id}/review", tag = "admin",
    params(("application_id" = i64, Path)), request_body = ReviewRequest,
    responses((status = 200, body = RealnameApplication), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn review_realname_application(
    State(app): State<AppState>,
    Path(application_id): Path<i64>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> ApiResult<Json<RealnameApplication>> {
    crate::http::v2::max_len("opinion", req.opinion.as_deref(), 256)?;
    let done = realname::review(&app, application_id, req.approved, req.opinion.as_deref()).await?;
    Ok(Json(done.into()))
}
