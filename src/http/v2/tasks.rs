//! Sales-expansion tasks (extension, issue 12).

use axum::{
    extract::{Path, State},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::tasks::{Filter, TaskRow},
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        v2::{max_len, non_empty},
        ErrorBody,
    },
    service::{auth::PartnerCaller, tasks as svc},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesTask {
    pub task_id: String,
    /// The customer's partner.
    pub partner_id: String,
    /// Who handles it: the partner, or a reseller's distributor.
    pub handler_partner_id: String,
    pub customer_id: String,
    /// `RENEWAL_DUE` | `CROSS_SELL` | `LEAD_MINING`.
    pub task_type: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `OPEN` | `DONE`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled_at: Option<String>,
    pub created_at: String,
}

impl From<TaskRow> for SalesTask {
    fn from(t: TaskRow) -> Self {
        SalesTask {
            task_id: t.id,
            partner_id: t.partner_id,
            handler_partner_id: t.handler_partner_id,
            customer_id: t.customer_id,
            task_type: t.task_type,
            title: t.title,
            description: t.description,
            due_date: t.due_date.map(|d| d.to_string()),
            status: t.status,
            result: t.result,
            remark: t.remark,
            handled_by: t.handled_by,
            handled_at: t.handled_at.map(format_ts),
            created_at: format_ts(t.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// `OPEN` | `DONE`.
    pub status: Option<String>,
    pub task_type: Option<String>,
    pub customer_id: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub total_count: i64,
    pub tasks: Vec<SalesTask>,
}

/// Tasks on the caller's customers and those it handles for its resellers, newest first.
#[utoipa::path(get, path = "/v2/partners/sales-tasks", tag = "selling", params(TaskListQuery),
    responses((status = 200, body = TaskList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sales_tasks(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<TaskListQuery>,
) -> ApiResult<Json<TaskList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if status
        .as_deref()
        .is_some_and(|s| !matches!(s, "OPEN" | "DONE"))
    {
        return Err(ApiError::invalid("status", "must be OPEN or DONE"));
    }
    let task_type = non_empty(q.task_type);
    if task_type
        .as_deref()
        .is_some_and(|t| !svc::TASK_TYPES.contains(&t))
    {
        return Err(ApiError::invalid(
            "task_type",
            "must be RENEWAL_DUE, CROSS_SELL or LEAD_MINING",
        ));
    }
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let f = Filter {
        status,
        task_type,
        customer_id,
        ..Default::default()
    };
    let (total, rows) = svc::list(&app, &caller, f, paging.offset, paging.limit).await?;
    Ok(Json(TaskList {
        total_count: total,
        tasks: rows.into_iter().map(SalesTask::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HandleTaskRequest {
    /// The outcome (e.g. `renewed`, `declined`), 1–64 characters.
    pub result: String,
    /// Up to 500 characters.
    pub remark: Option<String>,
}

/// Record a task's result (its handler only: a reseller reads its customers' tasks, its
/// distributor handles them).
#[utoipa::path(post, path = "/v2/partners/sales-tasks/{task_id}/handle", tag = "selling",
    params(("task_id" = String, Path)), request_body = HandleTaskRequest,
    responses((status = 200, body = SalesTask), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn handle_sales_task(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<HandleTaskRequest>,
) -> ApiResult<Json<SalesTask>> {
    crate::http::v2::warnings::check_outcome("result", &req.result, req.remark.as_deref())?;
    Ok(Json(
        svc::handle(&app, &caller, &id, &req.result, req.remark.as_deref())
            .await?
            .into(),
    ))
}
