//! The vendor's side of selling: sharing HO opportunities, reviewing POs, the working-day
//! calendar of acceptance deadlines.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Json,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::selling::DayKind,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::{
            max_len,
            opportunities::{
                list_body, respond, with_history, Opportunity, OpportunityInput, OpportunityList,
                OpportunityListQuery, ReasonRequest,
            },
        },
        ErrorBody,
    },
    service::opportunities::{self as svc, NewHo},
    state::AppState,
};

/// Share an opportunity with a partner (HO): `PENDING_ACCEPTANCE` until the partner accepts or
/// declines it; after 3 working days unanswered it is taken back (`EXPIRED`).
#[utoipa::path(post, path = "/admin/v1/opportunities", tag = "admin",
    request_body = OpportunityInput,
    responses((status = 201, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_ho_opportunity(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<OpportunityInput>,
) -> ApiResult<Response> {
    let partner_id = req
        .partner_id
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::invalid("partner_id", "is required"))?;
    max_len("partner_id", Some(&partner_id), 64)?;
    let fields = req.fields()?;
    if fields.title.is_none() {
        return Err(ApiError::invalid("title", "is required"));
    }
    let subject = req
        .subject()?
        .ok_or_else(|| ApiError::invalid("customer_id", "give a customer_id or a prospect"))?;
    let o = svc::create_ho(
        &app,
        NewHo {
            partner_id,
            subject,
            fields,
        },
    )
    .await?;
    Ok(respond(StatusCode::CREATED, o.into()))
}

/// Every partner's opportunities (filter by partner, origin, status, …), newest-updated first.
#[utoipa::path(get, path = "/admin/v1/opportunities", tag = "admin",
    params(OpportunityListQuery),
    responses((status = 200, body = OpportunityList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_all_opportunities(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<OpportunityListQuery>,
) -> ApiResult<Json<OpportunityList>> {
    let (f, paging) = q.filter()?;
    let (total, rows) = svc::list_for_vendor(&app, f, paging.offset, paging.limit).await?;
    Ok(Json(list_body(total, rows)))
}

/// One opportunity with its history.
#[utoipa::path(get, path = "/admin/v1/opportunities/{opportunity_id}", tag = "admin",
    params(("opportunity_id" = String, Path)),
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn show_any_opportunity(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (o, events) = svc::get_for_vendor(&app, &id).await?;
    Ok(respond(StatusCode::OK, with_history(o, events)))
}

/// Approve a submitted PO: `APPROVED`, or `DUPLICATE` (with `duplicate_of`) when an earlier
/// registration of the same customer and product line holds its place.
#[utoipa::path(post, path = "/admin/v1/opportunities/{opportunity_id}/approve", tag = "admin",
    params(("opportunity_id" = String, Path)), request_body = ReasonRequest,
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn approve_opportunity(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Response> {
    max_len("reason", req.reason.as_deref(), 500)?;
    let o = svc::review(&app, &id, true, req.reason).await?;
    Ok(respond(StatusCode::OK, o.into()))
}

/// Reject a submitted PO with a reason (`REJECTED`: the partner may edit and resubmit it).
#[utoipa::path(post, path = "/admin/v1/opportunities/{opportunity_id}/reject", tag = "admin",
    params(("opportunity_id" = String, Path)), request_body = ReasonRequest,
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn reject_opportunity(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Response> {
    let reason = req.reason.filter(|r| !r.trim().is_empty());
    if reason.is_none() {
        return Err(ApiError::invalid("reason", "is required"));
    }
    max_len("reason", reason.as_deref(), 500)?;
    let o = svc::review(&app, &id, false, reason).await?;
    Ok(respond(StatusCode::OK, o.into()))
}

fn parse_day(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be a date yyyy-MM-dd"))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolidayQuery {
    /// `yyyy-MM-dd`, inclusive.
    pub from: String,
    /// `yyyy-MM-dd`, inclusive; at most 366 days after `from`.
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDay {
    /// `yyyy-MM-dd` (Beijing date).
    pub day: String,
    /// `holiday` (a weekday off) | `workday` (a weekend day worked).
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    pub days: Vec<CalendarDay>,
}

/// The exceptions to the Monday–Friday working week used for HO acceptance deadlines.
#[utoipa::path(get, path = "/admin/v1/holidays", tag = "admin", params(HolidayQuery),
    responses((status = 200, body = CalendarList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_holidays(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<HolidayQuery>,
) -> ApiResult<Json<CalendarList>> {
    let from = parse_day("from", &q.from)?;
    let to = parse_day("to", &q.to)?;
    let days = svc::list_calendar(&app, from, to).await?;
    Ok(Json(CalendarList {
        days: days
            .into_iter()
            .map(|(d, kind, name)| CalendarDay {
                day: d.to_string(),
                kind,
                name,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HolidayRequest {
    /// `holiday` (default) | `workday`.
    pub kind: Option<String>,
    /// E.g. "National Day", up to 64 characters.
    pub name: Option<String>,
}

/// Mark a date a holiday (or a worked weekend day). Deadlines already set do not move.
#[utoipa::path(put, path = "/admin/v1/holidays/{day}", tag = "admin",
    params(("day" = String, Path, description = "yyyy-MM-dd")), request_body = HolidayRequest,
    responses((status = 200, body = CalendarDay), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn set_holiday(
    State(app): State<AppState>,
    Path(day): Path<String>,
    ApiJson(req): ApiJson<HolidayRequest>,
) -> ApiResult<Json<CalendarDay>> {
    let d = parse_day("day", &day)?;
    let kind = match req.kind.as_deref() {
        None => DayKind::Holiday,
        Some(k) => DayKind::parse(k)
            .ok_or_else(|| ApiError::invalid("kind", "must be holiday or workday"))?,
    };
    let name = req.name.unwrap_or_default();
    max_len("name", Some(&name), 64)?;
    svc::set_calendar_day(&app, d, kind, &name).await?;
    Ok(Json(CalendarDay {
        day: d.to_string(),
        kind: kind.as_str().into(),
        name,
    }))
}

/// Remove a date from the calendar (it follows the Monday–Friday rule again).
#[utoipa::path(delete, path = "/admin/v1/holidays/{day}", tag = "admin",
    params(("day" = String, Path, description = "yyyy-MM-dd")),
    responses((status = 204, description = "Removed"), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn delete_holiday(
    State(app): State<AppState>,
    Path(day): Path<String>,
) -> ApiResult<StatusCode> {
    let d = parse_day("day", &day)?;
    svc::delete_calendar_day(&app, d).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Dispatch a lead to a partner (`VENDOR`, `NEW`).
#[utoipa::path(post, path = "/admin/v1/leads", tag = "admin",
    request_body = crate::http::v2::leads::LeadInput,
    responses((status = 201, body = DispatchedLead), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn dispatch_lead(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<crate::http::v2::leads::LeadInput>,
) -> ApiResult<(StatusCode, Json<DispatchedLead>)> {
    let (partner_id, input) = req.checked()?;
    let partner_id = partner_id.ok_or_else(|| ApiError::invalid("partner_id", "is required"))?;
    max_len("partner_id", Some(&partner_id), 64)?;
    let l = crate::service::leads::dispatch(&app, &partner_id, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(DispatchedLead {
            lead_id: l.id,
            partner_id: l.partner_id,
            status: l.status,
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DispatchedLead {
    pub lead_id: String,
    pub partner_id: String,
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VendorWarningRequest {
    pub customer_id: String,
    /// `INFO` | `WARNING` (default) | `CRITICAL`.
    pub level: Option<String>,
    /// 1–500 characters.
    pub detail: String,
}

/// Raise a warning on a partner's customer (scene `VENDOR`).
#[utoipa::path(post, path = "/admin/v1/customer-warnings", tag = "admin",
    request_body = VendorWarningRequest,
    responses((status = 201, body = crate::http::v2::warnings::CustomerWarning), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn raise_customer_warning(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<VendorWarningRequest>,
) -> ApiResult<(StatusCode, Json<crate::http::v2::warnings::CustomerWarning>)> {
    use crate::service::warnings::{self, Level};
    let level = match req.level.as_deref() {
        None => Level::Warning,
        Some(l) => Level::parse(l)
            .ok_or_else(|| ApiError::invalid("level", "must be INFO, WARNING or CRITICAL"))?,
    };
    if req.detail.trim().is_empty() {
        return Err(ApiError::invalid("detail", "must not be empty"));
    }
    max_len("detail", Some(&req.detail), 500)?;
    max_len("customer_id", Some(&req.customer_id), 64)?;
    let w = warnings::vendor_raise(&app, &req.customer_id, level, &req.detail).await?;
    Ok((StatusCode::CREATED, Json(w.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTaskRequest {
    pub customer_id: String,
    /// `RENEWAL_DUE` | `CROSS_SELL` | `LEAD_MINING`.
    pub task_type: String,
    /// 1–200 characters.
    pub title: String,
    pub description: Option<String>,
    /// `yyyy-MM-dd`.
    pub due_date: Option<String>,
}

/// Create a sales-expansion task on a partner's customer (a reseller's customer's task is
/// handled by the distributor).
#[utoipa::path(post, path = "/admin/v1/sales-tasks", tag = "admin",
    request_body = NewTaskRequest,
    responses((status = 201, body = crate::http::v2::tasks::SalesTask), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_sales_task(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<NewTaskRequest>,
) -> ApiResult<(StatusCode, Json<crate::http::v2::tasks::SalesTask>)> {
    use crate::service::tasks::{self, NewTask};
    if !tasks::TASK_TYPES.contains(&req.task_type.as_str()) {
        return Err(ApiError::invalid(
            "task_type",
            "must be RENEWAL_DUE, CROSS_SELL or LEAD_MINING",
        ));
    }
    if req.title.trim().is_empty() {
        return Err(ApiError::invalid("title", "must not be empty"));
    }
    max_len("title", Some(&req.title), 200)?;
    max_len("description", req.description.as_deref(), 2000)?;
    max_len("customer_id", Some(&req.customer_id), 64)?;
    let due_date = match req.due_date.as_deref() {
        None => None,
        Some(d) => Some(parse_day("due_date", d)?),
    };
    let t = tasks::create(
        &app,
        NewTask {
            customer_id: req.customer_id,
            task_type: req.task_type,
            title: req.title,
            description: req.description,
            due_date,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}
