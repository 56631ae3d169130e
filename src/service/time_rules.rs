//! Every time-driven rule of the server, run by the app clock: the background loop calls
//! [`run_all`] every minute, and so does anything that moves a sandbox clock before it answers.
//! A rule added by a new area gets one line here, so none is forgotten by either caller.

use crate::{error::ApiResult, state::App};

/// What one pass did, by rule (for logs and for the sandbox clock's answer).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Pass {
    pub idempotency_keys_forgotten: u64,
    pub opportunities_taken_back: u64,
    pub warnings_raised: u64,
    pub association_requests_expired: u64,
    pub authorizations_expired: u64,
    /// Steps of yearly/monthly resources: auto-renewals, grace, freeze, deletion.
    pub resource_steps: u64,
}

/// Runs each time-driven rule once for the app clock's "now".
pub async fn run_all(app: &App) -> ApiResult<Pass> {
    Ok(Pass {
        idempotency_keys_forgotten: crate::service::idempotency::sweep_expired(app).await?,
        opportunities_taken_back: crate::service::opportunities::expire_overdue(app, None).await?,
        warnings_raised: crate::service::warnings::scan(app, None).await?,
        association_requests_expired: crate::service::association::expire_overdue(app).await?,
        authorizations_expired: crate::service::authorizations::expire_overdue(app).await?,
        resource_steps: crate::service::orders::run_due(app).await?,
    })
}
