//! A partner's organisation (extension, the console's API authorisation and customer assignment):
//! roles of permission items, operator accounts with their own AK/SK, customer managers.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::organisation::{AssignmentRow, OperatorRow, RoleRow},
    domain::{permissions::OperatorScope, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::max_len,
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        organisation::{self, NewOperatorInput},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// Unique per partner (1–64 characters); ignored on update.
    pub name: Option<String>,
    /// Permission items: customer:read, customer:create, customer:manage, funding:read,
    /// funding:write, reseller:read, coupon:read, coupon:write.
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub role_id: i64,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: String,
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            role_id: r.id,
            name: r.name,
            permissions: r.permissions,
            created_at: format_ts(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    pub roles: Vec<Role>,
}

/// List the partner's roles (main account only).
#[utoipa::path(get, path = "/v2/partners/roles", tag = "organisation",
    responses((status = 200, body = RoleList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_roles(
    State(app): State<AppState>,
    caller: PartnerCaller,
) -> ApiResult<Json<RoleList>> {
    let roles = organisation::list_roles(&app, &caller).await?;
    Ok(Json(RoleList {
        roles: roles.into_iter().map(Role::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCreated {
    pub role_id: i64,
}

/// Create a role of permission items (main account only).
#[utoipa::path(post, path = "/v2/partners/roles", tag = "organisation", request_body = RoleRequest,
    responses((status = 201, body = RoleCreated), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_role(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<(StatusCode, Json<RoleCreated>)> {
    let name = req.name.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    max_len("name", Some(&name), 64)?;
    let role_id = organisation::create_role(&app, &caller, &name, &req.permissions).await?;
    Ok((StatusCode::CREATED, Json(RoleCreated { role_id })))
}

/// Replace a role's permission items (main account only).
#[utoipa::path(put, path = "/v2/partners/roles/{role_id}", tag = "organisation",
    params(("role_id" = i64, Path)), request_body = RoleRequest,
    responses((status = 200, description = "Updated"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_role(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(role_id): Path<i64>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    organisation::update_role(&app, &caller, role_id, &req.permissions).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOperatorRequest {
    pub login_name: String,
    pub password: String,
    pub display_name: Option<String>,
    pub role_id: Option<i64>,
    /// `staff` (default) | `manager` | `supervisor`.
    pub scope: Option<String>,
    /// The supervisor of a manager.
    pub supervisor_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Operator {
    pub operator_id: String,
    pub login_name: String,
    pub display_name: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<i64>,
    pub permissions: Vec<String>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor_id: Option<String>,
    pub created_at: String,
    /// Only when created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// Only when created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
}

impl From<OperatorRow> for Operator {
    fn from(o: OperatorRow) -> Self {
        Operator {
            operator_id: o.account_id,
            login_name: o.login_name,
            display_name: o.display_name,
            status: o.status,
            role_id: o.role_id,
            permissions: o.permissions.unwrap_or_default(),
            scope: o.scope,
            supervisor_id: o.supervisor_id,
            created_at: format_ts(o.created_at),
            access_key: None,
            secret_key: None,
        }
    }
}

fn scope(field: &str, s: Option<&str>) -> ApiResult<Option<OperatorScope>> {
    match s {
        None => Ok(None),
        Some(v) => OperatorScope::parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::invalid(field, "must be staff, manager or supervisor")),
    }
}

/// Create an operator account with its first AK/SK (main account only).
#[utoipa::path(post, path = "/v2/partners/operators", tag = "organisation", request_body = CreateOperatorRequest,
    responses((status = 201, body = Operator), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_operator(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<CreateOperatorRequest>,
) -> ApiResult<(StatusCode, Json<Operator>)> {
    let display_name = req.display_name.unwrap_or_else(|| req.login_name.clone());
    max_len("display_name", Some(&display_name), 64)?;
    let (row, creds) = organisation::create_operator(
        &app,
        &caller,
        NewOperatorInput {
            login_name: req.login_name,
            password: req.password,
            display_name,
            role_id: req.role_id,
            scope: scope("scope", req.scope.as_deref())?.unwrap_or(OperatorScope::Staff),
            supervisor_id: req.supervisor_id,
        },
    )
    .await?;
    let mut op = Operator::from(row);
    op.access_key = Some(creds.access_key);
    op.secret_key = Some(creds.secret_key);
    Ok((StatusCode::CREATED, Json(op)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorList {
    pub operators: Vec<Operator>,
}

/// List the partner's operators (main account only).
#[utoipa::path(get, path = "/v2/partners/operators", tag = "organisation",
    responses((status = 200, body = OperatorList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_operators(
    State(app): State<AppState>,
    caller: PartnerCaller,
) -> ApiResult<Json<OperatorList>> {
    let ops = organisation::list_operators(&app, &caller).await?;
    Ok(Json(OperatorList {
        operators: ops.into_iter().map(Operator::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateOperatorRequest {
    pub role_id: Option<i64>,
    pub scope: Option<String>,
    /// `null` removes the supervisor; absent keeps it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub supervisor_id: Option<Option<String>>,
    /// `active` | `disabled` (a disabled operator's keys and tokens stop working).
    pub status: Option<String>,
    /// A new password (same rules as at creation).
    pub password: Option<String>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// Change an operator's role, scope, supervisor, status or password (main account only).
#[utoipa::path(put, path = "/v2/partners/operators/{operator_id}", tag = "organisation",
    params(("operator_id" = String, Path)), request_body = UpdateOperatorRequest,
    responses((status = 200, body = Operator), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_operator(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(operator_id): Path<String>,
    ApiJson(req): ApiJson<UpdateOperatorRequest>,
) -> ApiResult<Json<Operator>> {
    let enabled = match req.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("disabled") => Some(false),
        Some(_) => return Err(ApiError::invalid("status", "must be active or disabled")),
    };
    let row = organisation::update_operator(
        &app,
        &caller,
        &operator_id,
        organisation::OperatorChanges {
            role_id: req.role_id,
            scope: scope("scope", req.scope.as_deref())?,
            supervisor_id: req.supervisor_id,
            enabled,
            password: req.password,
        },
    )
    .await?;
    Ok(Json(row.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorKey {
    pub access_key: String,
    pub secret_key: String,
}

/// Another AK/SK for an operator (main account only).
#[utoipa::path(post, path = "/v2/partners/operators/{operator_id}/access-keys", tag = "organisation",
    params(("operator_id" = String, Path)),
    responses((status = 201, body = OperatorKey), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_operator_access_key(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(operator_id): Path<String>,
) -> ApiResult<(StatusCode, Json<OperatorKey>)> {
    let c = organisation::create_operator_access_key(&app, &caller, &operator_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(OperatorKey {
            access_key: c.access_key,
            secret_key: c.secret_key,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignRequest {
    pub customer_id: String,
    /// The manager (an operator with scope manager or supervisor); `null` unassigns.
    pub manager_id: Option<String>,
}

/// Assign (or reassign, or unassign) a customer to a customer manager.
#[utoipa::path(post, path = "/v2/partners/sub-customers/assignments", tag = "organisation",
    request_body = AssignRequest,
    responses((status = 200, description = "Assigned"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn assign_customer(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    max_len("customer_id", Some(&req.customer_id), 64)?;
    organisation::assign_customer(&app, &caller, &req.customer_id, req.manager_id.as_deref())
        .await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentQuery {
    pub customer_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Assignment {
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_login_name: Option<String>,
    pub assigned_by: String,
    pub assigned_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentList {
    pub assignments: Vec<Assignment>,
}

/// A customer's assignment history, newest first.
#[utoipa::path(get, path = "/v2/partners/sub-customers/assignments", tag = "organisation", params(AssignmentQuery),
    responses((status = 200, body = AssignmentList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_assignments(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> ApiResult<Json<AssignmentList>> {
    let rows = organisation::list_assignments(&app, &caller, &q.customer_id).await?;
    Ok(Json(AssignmentList {
        assignments: rows
            .into_iter()
            .map(|r: AssignmentRow| Assignment {
                customer_id: r.customer_id,
                manager_id: r.manager_id,
                manager_login_name: r.manager_login,
                assigned_by: r.assigned_by,
                assigned_at: format_ts(r.assigned_at),
                ended_at: r.ended_at.map(format_ts),
            })
            .collect(),
    }))
}
