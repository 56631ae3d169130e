//! Liveness, readiness and metrics.

use axum::{extract::State, Json};

use crate::{
    error::{ApiError, ApiResult, Code},
    state::AppState,
};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// The database is reachable.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, body = crate::http::ErrorBody)))]
pub async fn readyz(State(app): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let ok = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        sqlx::query_scalar::<_, i32>("select 1").fetch_one(app.db.pool()),
    )
    .await;
    match ok {
        Ok(Ok(_)) => Ok(Json(serde_json::json!({"status": "ready"}))),
        _ => Err(ApiError::new(
            Code::Unavailable,
            "The database is not reachable.",
        )),
    }
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text", content_type = "text/plain")))]
pub async fn metrics(state: State<AppState>) -> impl axum::response::IntoResponse {
    crate::http::metrics::render(state).await
}
