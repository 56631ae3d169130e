//! Customer warnings (extension, issue 12): list, handle (only the customer's responsible
//! person), and the partner's low-balance threshold.

use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::warnings::{Filter, WarningRow},
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        v2::{
            funding::{parse_amount, YuanNumber},
            max_len, non_empty,
        },
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        warnings::{self as svc, Scene},
    },
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerWarning {
    pub warning_id: i64,
    pub customer_id: String,
    /// `LOW_BALANCE` | `ARREARS` | `RESOURCE_EXPIRING` | `UNASSOCIATED` | `VENDOR`.
    pub scene: String,
    /// `INFO` | `WARNING` | `CRITICAL`.
    pub level: String,
    pub detail: String,
    /// `OPEN` | `HANDLED`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_at: Option<String>,
    pub raised_at: String,
}

impl From<WarningRow> for CustomerWarning {
    fn from(w: WarningRow) -> Self {
        CustomerWarning {
            warning_id: w.id,
            customer_id: w.customer_id,
            scene: w.scene,
            level: w.level,
            detail: w.detail,
            status: w.status,
            action: w.action,
            remark: w.remark,
            handled_by: w.handled_by,
            handled_at: w.handled_at.map(format_ts),
            raised_at: format_ts(w.raised_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WarningListQuery {
    /// `OPEN` | `HANDLED`.
    pub status: Option<String>,
    pub scene: Option<String>,
    pub customer_id: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningList {
    pub total_count: i64,
    pub warnings: Vec<CustomerWarning>,
}

/// The partner's customer warnings (a manager's customers only), newest first. Low balances and
/// un-associations are evaluated first, so the list is current.
#[utoipa::path(get, path = "/v2/partners/customer-warnings", tag = "selling",
    params(WarningListQuery),
    responses((status = 200, body = WarningList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_warnings(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<WarningListQuery>,
) -> ApiResult<Json<WarningList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if status
        .as_deref()
        .is_some_and(|s| !matches!(s, "OPEN" | "HANDLED"))
    {
        return Err(ApiError::invalid("status", "must be OPEN or HANDLED"));
    }
    let scene = non_empty(q.scene);
    if scene.as_deref().is_some_and(|s| Scene::parse(s).is_none()) {
        return Err(ApiError::invalid("scene", "is not a warning scene"));
    }
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let f = Filter {
        status,
        scene,
        customer_id,
        ..Default::default()
    };
    let (total, rows) = svc::list(&app, &caller, f, paging.offset, paging.limit).await?;
    Ok(Json(WarningList {
        total_count: total,
        warnings: rows.into_iter().map(CustomerWarning::from).collect(),
    }))
}

/// What handling records: a non-empty outcome of up to 64 characters and a remark of up to 500.
pub fn check_outcome(field: &str, outcome: &str, remark: Option<&str>) -> ApiResult<()> {
    if outcome.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    max_len(field, Some(outcome), 64)?;
    max_len("remark", remark, 500)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HandleRequest {
    /// What was done (e.g. `contacted`, `funded`), 1–64 characters.
    pub action: String,
    /// Up to 500 characters.
    pub remark: Option<String>,
}

/// Handle an open warning: only the customer's responsible person (its assigned manager, else
/// the main account); anyone else gets 403 CBC.0151.
#[utoipa::path(post, path = "/v2/partners/customer-warnings/{warning_id}/handle", tag = "selling",
    params(("warning_id" = i64, Path)), request_body = HandleRequest,
    responses((status = 200, body = CustomerWarning), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn handle_customer_warning(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<HandleRequest>,
) -> ApiResult<Json<CustomerWarning>> {
    check_outcome("action", &req.action, req.remark.as_deref())?;
    let w = svc::handle(&app, &caller, id, &req.action, req.remark.as_deref()).await?;
    Ok(Json(w.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningSettings {
    /// Yuan; a resale customer whose cash balance is below it gets a `LOW_BALANCE` warning.
    #[schema(value_type = Option<f64>)]
    pub low_balance_threshold: Option<YuanNumber>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WarningSettingsInput {
    /// Yuan (> 0, at most two decimals); `null` switches the low-balance warning off.
    #[schema(value_type = Option<f64>)]
    pub low_balance_threshold: Option<serde_json::Number>,
}

/// The partner's warning settings.
#[utoipa::path(get, path = "/v2/partners/customer-warnings/settings", tag = "selling",
    responses((status = 200, body = WarningSettings), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_warning_settings(
    State(app): State<AppState>,
    caller: PartnerCaller,
) -> ApiResult<Json<WarningSettings>> {
    let t = svc::threshold(&app, &caller).await?;
    Ok(Json(WarningSettings {
        low_balance_threshold: t.map(YuanNumber),
    }))
}

/// Set (or clear) the low-balance threshold (main account only).
#[utoipa::path(put, path = "/v2/partners/customer-warnings/settings", tag = "selling",
    request_body = WarningSettingsInput,
    responses((status = 200, body = WarningSettings), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_warning_settings(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<WarningSettingsInput>,
) -> ApiResult<Json<WarningSettings>> {
    let fen = match &req.low_balance_threshold {
        None => None,
        Some(n) => Some(parse_amount("low_balance_threshold", n)?.fen()),
    };
    svc::set_threshold(&app, &caller, fen).await?;
    Ok(Json(WarningSettings {
        low_balance_threshold: fen.map(YuanNumber),
    }))
}
