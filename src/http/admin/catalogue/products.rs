//! The vendor's products: on-demand and yearly/monthly prices, tax rates, capacities by region.

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
    db::catalogue::ProductRow,
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        admin::PageQuery,
        extract::{ApiJson, ApiQuery},
        ErrorBody,
    },
    service::catalogue::{
        self as svc, OnDemandPriceInput, PeriodPriceInput, ProductDetail, ProductInput,
    },
    state::AppState,
};

use super::{code_field, name_field, page};

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
