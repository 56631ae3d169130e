//! The vendor edits the catalogue: service, resource and usage types, measure units, conversions,
//! and products with their on-demand and yearly/monthly prices. Names are kept in Chinese and
//! English; the SDK reads pick one by `X-Language`.

use std::str::FromStr;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::catalogue::{
        ConversionRow, MeasureUnitRow, ProductRow, ResourceTypeRow, ServiceTypeRow, UsageTypeRow,
    },
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        admin::PageQuery,
        extract::{ApiJson, ApiQuery, Paging},
        ErrorBody,
    },
    service::catalogue::{
        self as svc, OnDemandPriceInput, PeriodPriceInput, ProductDetail, ProductInput,
        UsageTypeInput,
    },
    state::AppState,
};

fn code_field(field: &str, v: &str) -> Result<(), ApiError> {
    if v.is_empty() || v.chars().count() > 64 || v.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            field,
            "must be 1-64 characters without spaces",
        ));
    }
    Ok(())
}

fn name_field(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.trim().is_empty() || v.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(())
}

fn page(q: PageQuery) -> Result<Paging, ApiError> {
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

// ---------------------------------------------------------------------------------------------
// Measure units and conversions

#[derive(Debug, Deserialize, ToSchema)]
pub struct MeasureUnitFields {
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateMeasureUnitRequest {
    /// 1–2147483647.
    pub measure_id: i32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
    /// 1 currency, 2 duration, 3 data size, 4 count, 5 capacity × time, or another positive type.
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureUnitAdmin {
    pub measure_id: i32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureUnitAdminList {
    pub measure_units: Vec<MeasureUnitAdmin>,
}

fn measure_unit_view(r: MeasureUnitRow) -> MeasureUnitAdmin {
    MeasureUnitAdmin {
        measure_id: r.measure_id,
        name_zh: r.name_zh,
        name_en: r.name_en,
        abbreviation: r.abbreviation,
        measure_type: r.measure_type,
    }
}

fn measure_unit_row(
    measure_id: i32,
    measure_type: i32,
    f: MeasureUnitFields,
) -> Result<MeasureUnitRow, ApiError> {
    if measure_id < 1 {
        return Err(ApiError::invalid("measure_id", "must be at least 1"));
    }
    if measure_type < 1 {
        return Err(ApiError::invalid("measure_type", "must be at least 1"));
    }
    name_field("name_zh", &f.name_zh, 64)?;
    name_field("name_en", &f.name_en, 64)?;
    name_field("abbreviation", &f.abbreviation, 32)?;
    Ok(MeasureUnitRow {
        measure_id,
        name_zh: f.name_zh,
        name_en: f.name_en,
        abbreviation: f.abbreviation,
        measure_type,
    })
}

/// Add a measure unit.
#[utoipa::path(post, path = "/admin/v1/measure-units", tag = "admin",
    request_body = CreateMeasureUnitRequest,
    responses((status = 201, body = MeasureUnitAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_measure_unit(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateMeasureUnitRequest>,
) -> ApiResult<(StatusCode, Json<MeasureUnitAdmin>)> {
    let row = measure_unit_row(
        req.measure_id,
        req.measure_type,
        MeasureUnitFields {
            name_zh: req.name_zh,
            name_en: req.name_en,
            abbreviation: req.abbreviation,
        },
    )?;
    let row = svc::put_measure_unit(&app, row, false).await?;
    Ok((StatusCode::CREATED, Json(measure_unit_view(row))))
}

/// Rename a measure unit (its measure type is fixed).
#[utoipa::path(put, path = "/admin/v1/measure-units/{measure_id}", tag = "admin",
    params(("measure_id" = i32, Path)), request_body = MeasureUnitFields,
    responses((status = 200, body = MeasureUnitAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_measure_unit(
    State(app): State<AppState>,
    Path(measure_id): Path<i32>,
    ApiJson(req): ApiJson<MeasureUnitFields>,
) -> ApiResult<Json<MeasureUnitAdmin>> {
    // The stored type is kept; 1 only passes validation.
    let row = measure_unit_row(measure_id, 1, req)?;
    Ok(Json(measure_unit_view(
        svc::put_measure_unit(&app, row, true).await?,
    )))
}

/// List measure units with both names.
#[utoipa::path(get, path = "/admin/v1/measure-units", tag = "admin", operation_id = "admin_list_measure_units",
    responses((status = 200, body = MeasureUnitAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_measure_units(
    State(app): State<AppState>,
) -> ApiResult<Json<MeasureUnitAdminList>> {
    Ok(Json(MeasureUnitAdminList {
        measure_units: svc::list_measure_units(&app)
            .await?
            .into_iter()
            .map(measure_unit_view)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateConversionRequest {
    /// `1 measure_id = conversion_ratio ref_measure_id`; both of one measure type.
    pub measure_id: i32,
    pub ref_measure_id: i32,
    /// ≥ 1.
    pub conversion_ratio: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateConversionRequest {
    pub conversion_ratio: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionAdmin {
    pub measure_id: i32,
    pub ref_measure_id: i32,
    pub conversion_ratio: i64,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionAdminList {
    pub conversions: Vec<ConversionAdmin>,
}

fn conversion_view(r: ConversionRow) -> ConversionAdmin {
    ConversionAdmin {
        measure_id: r.measure_id,
        ref_measure_id: r.ref_measure_id,
        conversion_ratio: r.conversion_ratio,
        measure_type: r.measure_type,
    }
}

fn conversion_row(
    measure_id: i32,
    ref_measure_id: i32,
    ratio: i64,
) -> Result<ConversionRow, ApiError> {
    if ratio < 1 {
        return Err(ApiError::invalid("conversion_ratio", "must be at least 1"));
    }
    if measure_id == ref_measure_id {
        return Err(ApiError::invalid(
            "ref_measure_id",
            "must differ from measure_id",
        ));
    }
    Ok(ConversionRow {
        measure_id,
        ref_measure_id,
        conversion_ratio: ratio,
        measure_type: 0,
    })
}

/// Add a conversion between two units of one measure type that do not convert yet.
#[utoipa::path(post, path = "/admin/v1/conversions", tag = "admin",
    request_body = CreateConversionRequest,
    responses((status = 201, body = ConversionAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_conversion(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<CreateConversionRequest>,
) -> ApiResult<(StatusCode, Json<ConversionAdmin>)> {
    let row = conversion_row(req.measure_id, req.ref_measure_id, req.conversion_ratio)?;
    let row = svc::put_conversion(&app, row, false).await?;
    Ok((StatusCode::CREATED, Json(conversion_view(row))))
}

/// Change a conversion's ratio.
#[utoipa::path(put, path = "/admin/v1/conversions/{measure_id}/{ref_measure_id}", tag = "admin",
    params(("measure_id" = i32, Path), ("ref_measure_id" = i32, Path)),
    request_body = UpdateConversionRequest,
    responses((status = 200, body = ConversionAdmin), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_conversion(
    State(app): State<AppState>,
    Path((measure_id, ref_measure_id)): Path<(i32, i32)>,
    ApiJson(req): ApiJson<UpdateConversionRequest>,
) -> ApiResult<Json<ConversionAdmin>> {
    let row = conversion_row(measure_id, ref_measure_id, req.conversion_ratio)?;
    Ok(Json(conversion_view(
        svc::put_conversion(&app, row, true).await?,
    )))
}

/// List every conversion.
#[utoipa::path(get, path = "/admin/v1/conversions", tag = "admin", operation_id = "admin_list_conversions",
    responses((status = 200, body = ConversionAdminList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_conversions(State(app): State<AppState>) -> ApiResult<Json<ConversionAdminList>> {
    Ok(Json(ConversionAdminList {
        conversions: svc::list_conversions(&app, None)
            .await?
            .into_iter()
            .map(conversion_view)
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Products and prices

#[derive(Debug, Deserialize, ToSchema)]
pub struct OnDemandPriceSpec {
    /// A usage type of the product's resource type.
    pub usage_type: String,
    /// The unit the price is per (convertible to the usage type's unit).
    pub usage_measure_id: i32,
    /// Yuan per one `usage_measure_id`, a decimal string, ≥ 0, at most 8 decimals.
    #[schema(value_type = String)]
    pub unit_price: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodPriceSpec {
    /// 2 month, 3 year.
    pub period_type: i64,
    /// Yuan per period, a decimal string, ≥ 0, at most 2 decimals.
    #[schema(value_type = String)]
    pub price: serde_json::Value,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductFields {
    /// A known cloud service type code, e.g. `hws.service.type.ec2`.
    pub cloud_service_type: String,
    pub name: String,
    /// A resource type of the service type; required for on-demand prices and price inquiries.
    pub resource_type_code: Option<String>,
    /// Absent: the product serves every region.
    pub region_code: Option<String>,
    /// E.g. `s6.small.1.linux`; price inquiries name the product by it.
    pub resource_spec: Option<String>,
    /// Absent: none (create) / unchanged (update); given: the complete list.
    pub on_demand_prices: Option<Vec<OnDemandPriceSpec>>,
    pub period_prices: Option<Vec<PeriodPriceSpec>>,
    /// The tax rate, a decimal string 0 ≤ rate < 1 with at most 4 decimals (`"0.06"` = 6 %).
    /// Absent: unchanged; `null`: none (orders of the product are then refused, CBC.99006093).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub tax_rate: Option<Option<serde_json::Value>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterProductRequest {
    /// 1–64 characters.
    pub product_id: String,
    pub cloud_service_type: String,
    pub name: String,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub resource_spec: Option<String>,
    pub on_demand_prices: Option<Vec<OnDemandPriceSpec>>,
    pub period_prices: Option<Vec<PeriodPriceSpec>>,
    /// The tax rate, a decimal string 0 ≤ rate < 1 with at most 4 decimals. Absent: `"0.06"`
    /// (6 % VAT); `null`: none (orders of the product are then refused, CBC.99006093).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub tax_rate: Option<Option<serde_json::Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OnDemandPriceView {
    pub usage_type: String,
    pub usage_measure_id: i32,
    pub unit_price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodPriceView {
    pub period_type: i16,
    pub price: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductResponse {
    pub product_id: String,
    pub cloud_service_type: String,
    pub name: String,
    pub created_at: String,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub resource_spec: Option<String>,
    /// E.g. `"0.06"`; `null`: no tax rate.
    pub tax_rate: Option<String>,
    pub on_demand_prices: Vec<OnDemandPriceView>,
    pub period_prices: Vec<PeriodPriceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductSummary {
    pub product_id: String,
    pub cloud_service_type: String,
    pub name: String,
    pub created_at: String,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub resource_spec: Option<String>,
    /// E.g. `"0.06"`; `null`: no tax rate.
    pub tax_rate: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    pub total_count: i64,
    pub products: Vec<ProductSummary>,
}

/// A decimal string with at most `scale` decimals, ≥ 0 and below 10^`int_digits`.
fn price_string(
    field: &str,
    v: &serde_json::Value,
    scale: u32,
    int_digits: u32,
) -> Result<Decimal, ApiError> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::invalid(field, "must be a decimal string, e.g. \"0.5\""))?;
    let ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.matches('.').count() <= 1
        && !s.starts_with('.')
        && !s.ends_with('.');
    let d = Decimal::from_str(s)
        .ok()
        .filter(|_| ok)
        .ok_or_else(|| ApiError::invalid(field, "must be a non-negative decimal string"))?;
    if d.scale() > scale {
        return Err(ApiError::invalid(
            field,
            format!("must have at most {scale} decimal places"),
        ));
    }
    if d >= Decimal::from(10i64.pow(int_digits)) {
        return Err(ApiError::invalid(
            field,
            format!("must be below 10^{int_digits}"),
        ));
    }
    Ok(d)
}

/// A tax rate: a decimal string, 0 ≤ rate < 1, at most 4 decimals.
fn tax_rate(v: &serde_json::Value) -> Result<Decimal, ApiError> {
    let why = "must be a decimal string 0 <= rate < 1 with at most 4 decimals, e.g. \"0.06\"";
    price_string("tax_rate", v, 4, 18)
        .ok()
        .filter(|d| *d < Decimal::ONE)
        .ok_or_else(|| ApiError::invalid("tax_rate", why))
}

fn optional_code(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    if let Some(s) = &v {
        if s.is_empty() || s.chars().count() > max || s.chars().any(char::is_whitespace) {
            return Err(ApiError::invalid(
                field,
                format!("must be 1-{max} characters without spaces"),
            ));
        }
    }
    Ok(v)
}

fn product_input(id: String, f: ProductFields) -> Result<ProductInput, ApiError> {
    if id.is_empty() || id.chars().count() > 64 {
        return Err(ApiError::invalid("product_id", "must be 1-64 characters"));
    }
    if f.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    name_field("name", &f.name, 256)?;
    let on_demand_prices = f
        .on_demand_prices
        .map(|ps| {
            ps.into_iter()
                .enumerate()
                .map(|(i, p)| {
                    Ok(OnDemandPriceInput {
                        unit_price: price_string(
                            &format!("on_demand_prices[{i}].unit_price"),
                            &p.unit_price,
                            8,
                            12,
                        )?,
                        usage_type: p.usage_type,
                        usage_measure_id: p.usage_measure_id,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    let period_prices = f
        .period_prices
        .map(|ps| {
            ps.into_iter()
                .enumerate()
                .map(|(i, p)| {
                    if ![2, 3].contains(&p.period_type) {
                        return Err(ApiError::invalid(
                            &format!("period_prices[{i}].period_type"),
                            "must be 2 (month) or 3 (year)",
                        ));
                    }
                    Ok(PeriodPriceInput {
                        period_type: p.period_type as i16,
                        price: price_string(&format!("period_prices[{i}].price"), &p.price, 2, 18)?,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .transpose()?;
    let tax_rate = f
        .tax_rate
        .map(|t| t.map(|v| tax_rate(&v)).transpose())
        .transpose()?;
    Ok(ProductInput {
        tax_rate,
        id,
        cloud_service_type: f.cloud_service_type,
        name: f.name,
        resource_type_code: optional_code("resource_type_code", f.resource_type_code, 64)?,
        region_code: optional_code("region_code", f.region_code, 64)?,
        resource_spec: optional_code("resource_spec", f.resource_spec, 128)?,
        on_demand_prices,
        period_prices,
    })
}

fn summary(p: ProductRow) -> ProductSummary {
    ProductSummary {
        product_id: p.id,
        cloud_service_type: p.cloud_service_type,
        name: p.name,
        created_at: format_ts(p.created_at),
        resource_type_code: p.resource_type_code,
        region_code: p.region_code,
        resource_spec: p.resource_spec,
        tax_rate: p.tax_rate.map(|t| t.normalize().to_string()),
    }
}

fn product_view(d: ProductDetail) -> ProductResponse {
    let s = summary(d.product);
    ProductResponse {
        product_id: s.product_id,
        cloud_service_type: s.cloud_service_type,
        name: s.name,
        created_at: s.created_at,
        resource_type_code: s.resource_type_code,
        region_code: s.region_code,
        resource_spec: s.resource_spec,
        tax_rate: s.tax_rate,
        on_demand_prices: d
            .on_demand_prices
            .into_iter()
            .map(|o| OnDemandPriceView {
                usage_type: o.usage_type,
                usage_measure_id: o.usage_measure_id,
                unit_price: o.unit_price.normalize().to_string(),
            })
            .collect(),
        period_prices: d
            .period_prices
            .into_iter()
            .map(|p| PeriodPriceView {
                period_type: p.period_type,
                price: format!("{:.2}", p.price),
            })
            .collect(),
    }
}

/// Register a product (coupon restrictions name it; price inquiries and usage rating price it).
#[utoipa::path(post, path = "/admin/v1/products", tag = "admin",
    request_body = RegisterProductRequest,
    responses((status = 201, body = ProductResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn register_product(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<RegisterProductRequest>,
) -> ApiResult<(StatusCode, Json<ProductResponse>)> {
    let input = product_input(
        req.product_id,
        ProductFields {
            cloud_service_type: req.cloud_service_type,
            name: req.name,
            resource_type_code: req.resource_type_code,
            region_code: req.region_code,
            resource_spec: req.resource_spec,
            on_demand_prices: req.on_demand_prices,
            period_prices: req.period_prices,
            tax_rate: req.tax_rate,
        },
    )?;
    let d = svc::put_product(&app, input, false).await?;
    Ok((StatusCode::CREATED, Json(product_view(d))))
}

/// Change a product; given price lists replace the old ones.
#[utoipa::path(put, path = "/admin/v1/products/{product_id}", tag = "admin",
    params(("product_id" = String, Path)), request_body = ProductFields,
    responses((status = 200, body = ProductResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn update_product(
    State(app): State<AppState>,
    Path(product_id): Path<String>,
    ApiJson(req): ApiJson<ProductFields>,
) -> ApiResult<Json<ProductResponse>> {
    let input = product_input(product_id, req)?;
    Ok(Json(product_view(
        svc::put_product(&app, input, true).await?,
    )))
}

/// Show a product with its prices.
#[utoipa::path(get, path = "/admin/v1/products/{product_id}", tag = "admin",
    params(("product_id" = String, Path)),
    responses((status = 200, body = ProductResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn show_product(
    State(app): State<AppState>,
    Path(product_id): Path<String>,
) -> ApiResult<Json<ProductResponse>> {
    Ok(Json(product_view(
        svc::show_product(&app, &product_id).await?,
    )))
}

/// List products, by id.
#[utoipa::path(get, path = "/admin/v1/products", tag = "admin", params(PageQuery),
    responses((status = 200, body = ProductList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_products(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<ProductList>> {
    let p = page(q)?;
    let (total_count, rows) = svc::list_products(&app, p.offset, p.limit).await?;
    Ok(Json(ProductList {
        total_count,
        products: rows.into_iter().map(summary).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Capacities per product and region

#[derive(Debug, Deserialize, ToSchema)]
pub struct CapacityFields {
    /// Copies (`subscription_num`) of the product that may be live (not deleted) in the region,
    /// 0–1,000,000,000. `pay_orders` refuses a new order whose copies exceed what is left
    /// (capacity − copies of live resources) with CBC.99003141. No capacity set: unlimited.
    pub capacity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityView {
    pub product_id: String,
    pub region_code: String,
    pub capacity: i64,
    /// Copies of live resources of the product in the region.
    pub used: i64,
    /// `capacity − used` (0 when more are in use than the capacity allows).
    pub available: i64,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CapacityList {
    /// By region; a region not listed is unlimited.
    pub capacities: Vec<CapacityView>,
}

fn capacity_view(r: crate::db::catalogue::CapacityRow) -> CapacityView {
    CapacityView {
        available: (r.capacity - r.used).max(0),
        product_id: r.product_id,
        region_code: r.region_code,
        capacity: r.capacity,
        used: r.used,
        updated_at: format_ts(r.updated_at),
    }
}

/// Set a product's capacity in a region (copies that may be live there; paying beyond it is
/// CBC.99003141). A product with a region may have a capacity only in that region.
#[utoipa::path(put, path = "/admin/v1/products/{product_id}/capacities/{region_code}", tag = "admin",
    params(("product_id" = String, Path), ("region_code" = String, Path)),
    request_body = CapacityFields,
    responses((status = 200, body = CapacityView), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn put_capacity(
    State(app): State<AppState>,
    Path((product_id, region_code)): Path<(String, String)>,
    ApiJson(req): ApiJson<CapacityFields>,
) -> ApiResult<Json<CapacityView>> {
    code_field("region_code", &region_code)?;
    if !(0..=1_000_000_000).contains(&req.capacity) {
        return Err(ApiError::invalid(
            "capacity",
            "must be between 0 and 1000000000",
        ));
    }
    Ok(Json(capacity_view(
        svc::put_capacity(&app, &product_id, &region_code, req.capacity).await?,
    )))
}

/// Remove a product's capacity in a region (unlimited again).
#[utoipa::path(delete, path = "/admin/v1/products/{product_id}/capacities/{region_code}", tag = "admin",
    params(("product_id" = String, Path), ("region_code" = String, Path)),
    responses((status = 204, description = "Removed"), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn delete_capacity(
    State(app): State<AppState>,
    Path((product_id, region_code)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete_capacity(&app, &product_id, &region_code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A product's capacities by region, with the copies in use and left.
#[utoipa::path(get, path = "/admin/v1/products/{product_id}/capacities", tag = "admin",
    params(("product_id" = String, Path)),
    responses((status = 200, body = CapacityList), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn list_capacities(
    State(app): State<AppState>,
    Path(product_id): Path<String>,
) -> ApiResult<Json<CapacityList>> {
    Ok(Json(CapacityList {
        capacities: svc::list_capacities(&app, &product_id)
            .await?
            .into_iter()
            .map(capacity_view)
            .collect(),
    }))
}
