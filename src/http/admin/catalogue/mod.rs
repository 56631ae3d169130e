//! The vendor edits the catalogue: service, resource and usage types, measure units, conversions,
//! and products with their on-demand and yearly/monthly prices. Names are kept in Chinese and
//! English; the SDK reads pick one by `X-Language`.
//!
//! Split by sub-area: the type tables here, [`units`] (measure units and conversions),
//! [`products`] (products, their prices and capacities).

pub mod products;
pub mod units;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::catalogue::{ResourceTypeRow, ServiceTypeRow, UsageTypeRow},
    error::{ApiError, ApiResult},
    http::{
        admin::PageQuery,
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::catalogue::{self as svc, UsageTypeInput},
    state::AppState,
};

pub(super) fn code_field(field: &str, v: &str) -> Result<(), ApiError> {
    if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            field,
            "must be 1-64 characters without spaces",
        ));
    }
    Ok(())
}

pub(super) fn name_field(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.trim().is_empty() || v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(())
}

pub(super) fn page(q: PageQuery) -> Result<Paging, ApiError> {
    Paging::new(q.offset, q.limit, i32::MAX as i64)
}

// ---------------------------------------------------------------------------------------------
// Service types

#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceTypeFields {
    pub name_zh: String,
    pub name_en: String,
    /// E.g. `ECS`.
    pub abbreviation: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateServiceTypeRequest {
    /// E.g. `hws.service.type.ec2`.
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTypeAdmin {
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTypeAdminList {
    pub total_count: i64,
    pub service_types: Vec<ServiceTypeAdmin>,
}

fn service_type_row(code: String, f: ServiceTypeFields) -> Result<ServiceTypeRow, ApiError> {
    code_field("service_type_code", &code)?;
    name_field("name_zh", &f.name_zh, 128)?;
    name_field("name_en", &f.name_en, 128)?;
    name_field("abbreviation", &f.abbreviation, 32)?;
    Ok(ServiceTypeRow {
        code,
        name_zh: f.name_zh,
        name_en: f.name_en,
        abbreviation: f.abbreviation,
    })
}

fn service_type_view(r: ServiceTypeRow) -> ServiceTypeAdmin {
    ServiceTypeAdmin {
        service_type_code: r.code,
        name_zh: r.name_zh,
        name_en: r.name_en,
        abbreviation: r.abbreviation,
    }
}

/// Add a cloud service type.
#[utoipa::path(post, path = "/admin/v1/service-types", tag = "admin",
    request_body = CreateServiceTypeRequest,
    responses((status = 201, body = ServiceTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_service_type(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateServiceTypeRequest>,
) -> ApiResult<(StatusCode, Json<ServiceTypeAdmin>)> {
    let row = service_type_row(
        req.service_type_code,
        ServiceTypeFields {
            name_zh: req.name_zh,
            name_en: req.name_en,
            abbreviation: req.abbreviation,
        },
    )?;
    svc::put_service_type(&app, row.clone(), false).await?;
    Ok((StatusCode::CREATED, Json(service_type_view(row))))
}

/// Rename a cloud service type.
#[utoipa::path(put, path = "/admin/v1/service-types/{service_type_code}", tag = "admin",
    params(("service_type_code" = String, Path)), request_body = ServiceTypeFields,
    responses((status = 200, body = ServiceTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_service_type(
    State(app): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<ServiceTypeFields>,
) -> ApiResult<Json<ServiceTypeAdmin>> {
    let row = service_type_row(code, req)?;
    svc::put_service_type(&app, row.clone(), true).await?;
    Ok(Json(service_type_view(row)))
}

/// List cloud service types with both names.
#[utoipa::path(get, path = "/admin/v1/service-types", tag = "admin", operation_id = "admin_list_service_types", params(PageQuery),
    responses((status = 200, body = ServiceTypeAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_service_types(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ServiceTypeAdminList>> {
    let p = page(q)?;
    let (total_count, rows) =
        svc::list_service_types(&app, svc::Lang::En, None, p.offset, p.limit).await?;
    Ok(Json(ServiceTypeAdminList {
        total_count,
        service_types: rows.into_iter().map(service_type_view).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Resource types

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResourceTypeFields {
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateResourceTypeRequest {
    /// E.g. `hws.resource.type.vm`.
    pub resource_type_code: String,
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceTypeAdmin {
    pub resource_type_code: String,
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceTypeAdminList {
    pub total_count: i64,
    pub resource_types: Vec<ResourceTypeAdmin>,
}

fn resource_type_row(code: String, f: ResourceTypeFields) -> Result<ResourceTypeRow, ApiError> {
    code_field("resource_type_code", &code)?;
    code_field("service_type_code", &f.service_type_code)?;
    name_field("name_zh", &f.name_zh, 128)?;
    name_field("name_en", &f.name_en, 128)?;
    if f.description.chars().count() > 512 {
        return Err(ApiError::invalid(
            "description",
            "must be at most 512 characters",
        ));
    }
    Ok(ResourceTypeRow {
        code,
        service_type_code: f.service_type_code,
        name_zh: f.name_zh,
        name_en: f.name_en,
        description: f.description,
    })
}

fn resource_type_view(r: ResourceTypeRow) -> ResourceTypeAdmin {
    ResourceTypeAdmin {
        resource_type_code: r.code,
        service_type_code: r.service_type_code,
        name_zh: r.name_zh,
        name_en: r.name_en,
        description: r.description,
    }
}

/// Add a resource type to a service type.
#[utoipa::path(post, path = "/admin/v1/resource-types", tag = "admin",
    request_body = CreateResourceTypeRequest,
    responses((status = 201, body = ResourceTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_resource_type(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateResourceTypeRequest>,
) -> ApiResult<(StatusCode, Json<ResourceTypeAdmin>)> {
    let row = resource_type_row(
        req.resource_type_code,
        ResourceTypeFields {
            service_type_code: req.service_type_code,
            name_zh: req.name_zh,
            name_en: req.name_en,
            description: req.description,
        },
    )?;
    svc::put_resource_type(&app, row.clone(), false).await?;
    Ok((StatusCode::CREATED, Json(resource_type_view(row))))
}

/// Rename or re-describe a resource type (it stays in its service type).
#[utoipa::path(put, path = "/admin/v1/resource-types/{resource_type_code}", tag = "admin",
    params(("resource_type_code" = String, Path)), request_body = ResourceTypeFields,
    responses((status = 200, body = ResourceTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_resource_type(
    State(app): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<ResourceTypeFields>,
) -> ApiResult<Json<ResourceTypeAdmin>> {
    let row = resource_type_row(code, req)?;
    svc::put_resource_type(&app, row.clone(), true).await?;
    Ok(Json(resource_type_view(row)))
}

/// List resource types with both names.
#[utoipa::path(get, path = "/admin/v1/resource-types", tag = "admin", operation_id = "admin_list_resource_types", params(PageQuery),
    responses((status = 200, body = ResourceTypeAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_resource_types(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ResourceTypeAdminList>> {
    let p = page(q)?;
    let (total_count, rows) = svc::list_resource_types(&app, None, p.offset, p.limit).await?;
    Ok(Json(ResourceTypeAdminList {
        total_count,
        resource_types: rows.into_iter().map(resource_type_view).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Usage types

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageTypeFields {
    pub resource_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The unit usage of this type is measured in by default.
    pub measure_id: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUsageTypeRequest {
    /// E.g. `duration`.
    pub usage_type_code: String,
    pub resource_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub measure_id: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageTypeAdmin {
    pub usage_type_code: String,
    pub resource_type_code: String,
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub measure_id: i32,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageTypeAdminList {
    pub total_count: i64,
    pub usage_types: Vec<UsageTypeAdmin>,
}

fn usage_type_input(code: String, f: UsageTypeFields) -> Result<UsageTypeInput, ApiError> {
    code_field("usage_type_code", &code)?;
    code_field("resource_type_code", &f.resource_type_code)?;
    name_field("name_zh", &f.name_zh, 128)?;
    name_field("name_en", &f.name_en, 128)?;
    Ok(UsageTypeInput {
        code,
        resource_type_code: f.resource_type_code,
        name_zh: f.name_zh,
        name_en: f.name_en,
        measure_id: f.measure_id,
    })
}

fn usage_type_view(r: UsageTypeRow) -> UsageTypeAdmin {
    UsageTypeAdmin {
        usage_type_code: r.code,
        resource_type_code: r.resource_type_code,
        service_type_code: r.service_type_code,
        name_zh: r.name_zh,
        name_en: r.name_en,
        measure_id: r.measure_id,
        measure_type: r.measure_type,
    }
}

/// Add a usage type (a usage factor rating names) to a resource type.
#[utoipa::path(post, path = "/admin/v1/usage-types", tag = "admin",
    request_body = CreateUsageTypeRequest,
    responses((status = 201, body = UsageTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_usage_type(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateUsageTypeRequest>,
) -> ApiResult<(StatusCode, Json<UsageTypeAdmin>)> {
    let input = usage_type_input(
        req.usage_type_code,
        UsageTypeFields {
            resource_type_code: req.resource_type_code,
            name_zh: req.name_zh,
            name_en: req.name_en,
            measure_id: req.measure_id,
        },
    )?;
    let row = svc::put_usage_type(&app, input, false).await?;
    Ok((StatusCode::CREATED, Json(usage_type_view(row))))
}

/// Change a usage type; its prices must stay valid (their units convertible to the new unit).
#[utoipa::path(put, path = "/admin/v1/usage-types/{usage_type_code}", tag = "admin",
    params(("usage_type_code" = String, Path)), request_body = UsageTypeFields,
    responses((status = 200, body = UsageTypeAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_usage_type(
    State(app): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<UsageTypeFields>,
) -> ApiResult<Json<UsageTypeAdmin>> {
    let input = usage_type_input(code, req)?;
    Ok(Json(usage_type_view(
        svc::put_usage_type(&app, input, true).await?,
    )))
}

/// List usage types with both names.
#[utoipa::path(get, path = "/admin/v1/usage-types", tag = "admin", operation_id = "admin_list_usage_types", params(PageQuery),
    responses((status = 200, body = UsageTypeAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_usage_types(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<UsageTypeAdminList>> {
    let p = page(q)?;
    let (total_count, rows) = svc::list_usage_types(&app, None, p.offset, p.limit).await?;
    Ok(Json(UsageTypeAdminList {
        total_count,
        usage_types: rows.into_iter().map(usage_type_view).collect(),
    }))
}
