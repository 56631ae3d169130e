//! The sandbox clock (`sandbox.clock = true`; without it these routes do not exist: 404).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    domain::time::{format_ts, parse_ts},
    error::{ApiError, ApiResult},
    http::{extract::ApiJson, ErrorBody},
    service::clock::{self, Target, MAX_ADVANCE_SECS},
    state::{AppState, SandboxClock},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_clock, move_clock))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockResponse {
    /// The server's "now", UTC.
    pub now: String,
    /// How far ahead of system time the clock runs, in seconds.
    pub offset_seconds: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockMoved {
    pub now: String,
    pub offset_seconds: i64,
    /// Passes of the time-driven rules run (one per day moved, at least one).
    pub steps: u64,
    /// What the rules did while the clock moved, summed by rule.
    #[schema(value_type = Object)]
    pub rules: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveClockRequest {
    /// Seconds to move forward (0 to ten years); or give `now`.
    pub advance_seconds: Option<i64>,
    /// The new "now", UTC `yyyy-MM-ddTHH:mm:ssZ`, not before the current one.
    pub now: Option<String>,
}

fn sandbox(app: &AppState) -> ApiResult<&SandboxClock> {
    // The routes are mounted only with a sandbox clock; fail closed anyway.
    app.clock.sandbox().ok_or_else(|| {
        ApiError::new(
            crate::error::Code::NotFound,
            "The API does not exist or has not been published.",
        )
    })
}

/// The sandbox clock's time and offset.
#[utoipa::path(get, path = "/admin/v1/clock", tag = "admin",
    responses((status = 200, body = ClockResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn show_clock(State(app): State<AppState>) -> ApiResult<Json<ClockResponse>> {
    let c = sandbox(&app)?;
    Ok(Json(ClockResponse {
        now: format_ts(app.now()),
        offset_seconds: c.offset_seconds(),
    }))
}

/// Move the sandbox clock forward; every time-driven rule runs for the time passed (in steps of
/// at most a day) before the answer. Backwards: 400 CBC.99014010.
#[utoipa::path(post, path = "/admin/v1/clock", tag = "admin",
    request_body = MoveClockRequest,
    responses((status = 200, body = ClockMoved), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn move_clock(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<MoveClockRequest>,
) -> ApiResult<Json<ClockMoved>> {
    let c = sandbox(&app)?;
    let target = match (req.advance_seconds, req.now.as_deref()) {
        (Some(s), None) => {
            if s > MAX_ADVANCE_SECS {
                return Err(ApiError::invalid(
                    "advance_seconds",
                    format!("must be at most {MAX_ADVANCE_SECS}"),
                ));
            }
            Target::By { seconds: s }
        }
        (None, Some(t)) => Target::At(parse_ts(t).ok_or_else(|| {
            ApiError::invalid("now", "must be a UTC time like 2024-01-31T16:00:00Z")
        })?),
        _ => {
            return Err(ApiError::invalid(
                "body",
                "give exactly one of advance_seconds and now",
            ))
        }
    };
    let moved = clock::advance(&app, c, target).await?;
    Ok(Json(ClockMoved {
        now: format_ts(moved.now),
        offset_seconds: moved.offset_seconds,
        steps: moved.steps,
        rules: moved.rules,
    }))
}
