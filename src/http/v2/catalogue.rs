//! The catalogue reads and price inquiries of the SDK (50-other.md §D): service, resource and usage
//! types, measure units and conversions, on-demand and yearly/monthly price inquiries. Callable by
//! partners (and their operators) and customers.

use std::str::FromStr;

use axum::{extract::State, http::HeaderMap, Json};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::{
            coupons::{int_param, paging},
            funding::decimal,
            max_len,
        },
        ErrorBody,
    },
    service::{
        auth::Caller,
        catalogue::{self as svc, DemandItem, Lang, PeriodItem, ProductKey, Quote},
    },
    state::AppState,
};

/// `X-Language`: `zh_CN` (default) or `en_US`, case-insensitive (`zh-cn`/`en-us` too); anything
/// else is CBC.0100.
pub fn language(headers: &HeaderMap) -> Result<Lang, ApiError> {
    let Some(v) = headers.get("x-language") else {
        return Ok(Lang::Zh);
    };
    let s = v
        .to_str()
        .map(|s| s.trim().to_ascii_lowercase().replace('-', "_"))
        .unwrap_or_default();
    match s.as_str() {
        "" | "zh_cn" => Ok(Lang::Zh),
        "en_us" => Ok(Lang::En),
        _ => Err(ApiError::invalid("X-Language", "must be zh_CN or en_US")),
    }
}

fn pick(lang: Lang, zh: String, en: String) -> String {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A decimal as a JSON number with at least two decimals (`1` → `1.00`, `0.033335` kept).
pub fn money(d: Decimal) -> serde_json::Number {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    serde_json::Number::from_str(&d.to_string()).expect("a decimal is a JSON number")
}

// ---------------------------------------------------------------------------------------------
// list_service_types

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServiceTypesQuery {
    /// Substring of the name in the `X-Language` language (case-insensitive), 1–128 characters.
    pub service_type_name: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTypes {
    pub service_type_name: String,
    pub service_type_code: String,
    pub abbreviation: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServiceTypesResponse {
    pub total_count: i64,
    pub service_types: Vec<ServiceTypes>,
}

/// Cloud service types, by code.
#[utoipa::path(get, path = "/v2/products/service-types", tag = "catalogue",
    params(ListServiceTypesQuery, ("X-Language" = Option<String>, Header, description = "zh_CN (default) / en_US")),
    responses((status = 200, body = ListServiceTypesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_service_types(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListServiceTypesQuery>,
) -> ApiResult<Json<ListServiceTypesResponse>> {
    let lang = language(&headers)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let name = q.service_type_name.filter(|s| !s.is_empty());
    max_len("service_type_name", name.as_deref(), 128)?;
    let (total_count, rows) =
        svc::list_service_types(&app, lang, name.as_deref(), p.offset, p.limit).await?;
    Ok(Json(ListServiceTypesResponse {
        total_count,
        service_types: rows
            .into_iter()
            .map(|r| ServiceTypes {
                service_type_name: pick(lang, r.name_zh, r.name_en),
                service_type_code: r.code,
                abbreviation: r.abbreviation,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// list_resource_types, list_service_resources

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceTypes {
    pub resource_type_code: String,
    pub resource_type_name: String,
    pub resource_type_desc: String,
    pub service_type_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListResourceTypesResponse {
    pub total_count: i64,
    pub resource_types: Vec<ResourceTypes>,
}

/// Resource types, by code.
#[utoipa::path(get, path = "/v2/products/resource-types", tag = "catalogue",
    params(PageParams, ("X-Language" = Option<String>, Header, description = "zh_CN (default) / en_US")),
    responses((status = 200, body = ListResourceTypesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_resource_types(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<ListResourceTypesResponse>> {
    let lang = language(&headers)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let (total_count, rows) = svc::list_resource_types(&app, None, p.offset, p.limit).await?;
    Ok(Json(ListResourceTypesResponse {
        total_count,
        resource_types: rows
            .into_iter()
            .map(|r| ResourceTypes {
                resource_type_name: pick(lang, r.name_zh, r.name_en),
                resource_type_code: r.code,
                resource_type_desc: r.description,
                service_type_code: r.service_type_code,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListServiceResourcesQuery {
    /// Required.
    pub service_type_code: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceBasicInfo {
    pub resource_type_code: String,
    /// The service type the resource type belongs to.
    pub product_owner_service: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceResourceInfo {
    pub basic_info: ResourceBasicInfo,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListServiceResourcesResponse {
    pub total_count: i64,
    pub infos: Vec<ServiceResourceInfo>,
}

/// The resource types of one service type.
#[utoipa::path(get, path = "/v2/products/service-resources", tag = "catalogue",
    params(ListServiceResourcesQuery, ("X-Language" = Option<String>, Header, description = "zh_CN (default) / en_US")),
    responses((status = 200, body = ListServiceResourcesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_service_resources(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListServiceResourcesQuery>,
) -> ApiResult<Json<ListServiceResourcesResponse>> {
    let lang = language(&headers)?;
    let service = q
        .service_type_code
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("service_type_code", "is required"))?;
    max_len("service_type_code", Some(&service), 64)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let (total_count, rows) =
        svc::list_resource_types(&app, Some(&service), p.offset, p.limit).await?;
    Ok(Json(ListServiceResourcesResponse {
        total_count,
        infos: rows
            .into_iter()
            .map(|r| ServiceResourceInfo {
                basic_info: ResourceBasicInfo {
                    name: pick(lang, r.name_zh, r.name_en),
                    resource_type_code: r.code,
                    product_owner_service: r.service_type_code,
                    description: r.description,
                },
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// list_usage_types

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsageTypesQuery {
    /// Absent ⇒ all; present (also empty) ⇒ a filter (`resource_type_code=` matches nothing).
    pub resource_type_code: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageType {
    pub code: String,
    pub name: String,
    pub resource_type_code: String,
    pub service_type_code: String,
    pub resource_type_name: String,
    pub service_type_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListUsageTypesResponse {
    pub total_count: i64,
    pub usage_types: Vec<UsageType>,
}

/// Usage types (the usage factors rating names), by code.
#[utoipa::path(get, path = "/v2/products/usage-types", tag = "catalogue",
    params(ListUsageTypesQuery, ("X-Language" = Option<String>, Header, description = "zh_CN (default) / en_US")),
    responses((status = 200, body = ListUsageTypesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_usage_types(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListUsageTypesQuery>,
) -> ApiResult<Json<ListUsageTypesResponse>> {
    let lang = language(&headers)?;
    max_len("resource_type_code", q.resource_type_code.as_deref(), 64)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let (total_count, rows) =
        svc::list_usage_types(&app, q.resource_type_code.as_deref(), p.offset, p.limit).await?;
    Ok(Json(ListUsageTypesResponse {
        total_count,
        usage_types: rows
            .into_iter()
            .map(|r| UsageType {
                code: r.code,
                name: pick(lang, r.name_zh, r.name_en),
                resource_type_code: r.resource_type_code,
                service_type_code: r.service_type_code,
                resource_type_name: pick(lang, r.resource_type_name_zh, r.resource_type_name_en),
                service_type_name: pick(lang, r.service_type_name_zh, r.service_type_name_en),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// list_measure_units, list_conversions

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureUnitRest {
    pub measure_id: i32,
    pub measure_name: String,
    pub abbreviation: String,
    /// 1 currency, 2 duration, 3 data size, 4 count, 5 capacity × time.
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListMeasureUnitsResponse {
    pub measure_units: Vec<MeasureUnitRest>,
}

/// Every measure unit (no paging), by id.
#[utoipa::path(get, path = "/v2/bases/measurements", tag = "catalogue",
    params(("X-Language" = Option<String>, Header, description = "zh_CN (default) / en_US")),
    responses((status = 200, body = ListMeasureUnitsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_measure_units(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<ListMeasureUnitsResponse>> {
    let lang = language(&headers)?;
    let rows = svc::list_measure_units(&app).await?;
    Ok(Json(ListMeasureUnitsResponse {
        measure_units: rows
            .into_iter()
            .map(|r| MeasureUnitRest {
                measure_id: r.measure_id,
                measure_name: pick(lang, r.name_zh, r.name_en),
                abbreviation: r.abbreviation,
                measure_type: r.measure_type,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListConversionsQuery {
    /// Absent ⇒ all; `""` ⇒ CBC.0100.
    pub measure_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Conversion {
    /// `1 measure_id = conversion_ratio ref_measure_id`.
    pub measure_id: i32,
    pub ref_measure_id: i32,
    pub conversion_ratio: i64,
    pub measure_type: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListConversionsResponse {
    pub conversions: Vec<Conversion>,
}

/// Unit conversions (no paging), by measure id and reference id.
#[utoipa::path(get, path = "/v2/bases/conversions", tag = "catalogue",
    params(ListConversionsQuery, ("X-Language" = Option<String>, Header, description = "reserved")),
    responses((status = 200, body = ListConversionsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_conversions(
    State(app): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListConversionsQuery>,
) -> ApiResult<Json<ListConversionsResponse>> {
    language(&headers)?;
    let measure_type = int_param("measure_type", q.measure_type.as_deref())?
        .map(|t| i32::try_from(t).map_err(|_| ApiError::invalid("measure_type", "is out of range")))
        .transpose()?;
    let rows = svc::list_conversions(&app, measure_type).await?;
    Ok(Json(ListConversionsResponse {
        conversions: rows
            .into_iter()
            .map(|r| Conversion {
                measure_id: r.measure_id,
                ref_measure_id: r.ref_measure_id,
                conversion_ratio: r.conversion_ratio,
                measure_type: r.measure_type,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Price inquiries

/// At most this many products per inquiry.
pub const MAX_PRODUCT_INFOS: usize = 100;

fn required<T>(field: &str, v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::invalid(field, "is required"))
}

fn required_str(field: &str, v: Option<String>, max: usize) -> Result<String, ApiError> {
    let s = required(field, v.filter(|s| !s.is_empty()))?;
    max_len(field, Some(&s), max)?;
    Ok(s)
}

fn positive_int(field: &str, v: Option<i64>, max: i64) -> Result<i64, ApiError> {
    let n = required(field, v)?;
    if !(1..=max).contains(&n) {
        return Err(ApiError::invalid(
            field,
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(n)
}

struct KeyFields {
    id: Option<String>,
    cloud_service_type: Option<String>,
    resource_type: Option<String>,
    resource_spec: Option<String>,
    region: Option<String>,
    available_zone: Option<String>,
    resource_size: Option<i64>,
    size_measure_id: Option<i64>,
}

fn product_key(i: usize, k: KeyFields) -> Result<ProductKey, ApiError> {
    let f = |name: &str| format!("product_infos[{i}].{name}");
    max_len(&f("available_zone"), k.available_zone.as_deref(), 64)?;
    if let Some(s) = k.resource_size {
        if s < 1 {
            return Err(ApiError::invalid(&f("resource_size"), "must be at least 1"));
        }
    }
    if let Some(m) = k.size_measure_id {
        if !(0..=i64::from(i32::MAX)).contains(&m) {
            return Err(ApiError::invalid(&f("size_measure_id"), "is out of range"));
        }
    }
    Ok(ProductKey {
        id: required_str(&f("id"), k.id, 64)?,
        cloud_service_type: required_str(&f("cloud_service_type"), k.cloud_service_type, 64)?,
        resource_type: required_str(&f("resource_type"), k.resource_type, 64)?,
        resource_spec: required_str(&f("resource_spec"), k.resource_spec, 128)?,
        region: required_str(&f("region"), k.region, 64)?,
    })
}

fn product_infos<T>(v: Option<Vec<T>>) -> Result<Vec<T>, ApiError> {
    let v = required("product_infos", v)?;
    if v.is_empty() || v.len() > MAX_PRODUCT_INFOS {
        return Err(ApiError::invalid(
            "product_infos",
            format!("must hold 1 to {MAX_PRODUCT_INFOS} products"),
        ));
    }
    Ok(v)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DemandProductInfo {
    /// Unique within the inquiry (else CBC.30050012); echoed in the result.
    pub id: Option<String>,
    pub cloud_service_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_spec: Option<String>,
    pub region: Option<String>,
    pub available_zone: Option<String>,
    pub resource_size: Option<i64>,
    pub size_measure_id: Option<i64>,
    /// A usage type code of the resource type (case-insensitive), e.g. `duration`.
    pub usage_factor: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub usage_value: Option<serde_json::Number>,
    pub usage_measure_id: Option<i64>,
    pub subscription_num: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RateOnDemandReq {
    /// The caller's project: on this platform, its account id (else CBC.99006073).
    pub project_id: Option<String>,
    /// 0 (default): amounts truncated to 6 decimals; 1: to 10 decimals.
    pub inquiry_precision: Option<i64>,
    pub product_infos: Option<Vec<DemandProductInfo>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DemandDiscountRatingResult {
    pub discount_id: String,
    /// 607: partner-set discount (rate).
    pub discount_type: i32,
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    pub measure_id: i32,
    pub discount_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DemandProductRatingResult {
    pub id: String,
    pub product_id: String,
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    #[schema(value_type = f64)]
    pub discount_amount: serde_json::Number,
    #[schema(value_type = f64)]
    pub official_website_amount: serde_json::Number,
    pub measure_id: i32,
    pub discount_rating_results: Vec<DemandDiscountRatingResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListOnDemandResourceRatingsResponse {
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    #[schema(value_type = f64)]
    pub discount_amount: serde_json::Number,
    #[schema(value_type = f64)]
    pub official_website_amount: serde_json::Number,
    pub measure_id: i32,
    pub currency: String,
    pub product_rating_results: Vec<DemandProductRatingResult>,
}

struct Totals {
    official: Decimal,
    discount: Decimal,
    amount: Decimal,
}

fn totals(quotes: &[Quote]) -> Totals {
    quotes.iter().fold(
        Totals {
            official: Decimal::ZERO,
            discount: Decimal::ZERO,
            amount: Decimal::ZERO,
        },
        |t, q| Totals {
            official: t.official + q.official,
            discount: t.discount + q.discount,
            amount: t.amount + q.amount,
        },
    )
}

/// On-demand price inquiry: each product's price for `usage_value × subscription_num` of its usage
/// factor, rated exactly as usage is charged (`domain::rating::rate`).
#[utoipa::path(post, path = "/v2/bills/ratings/on-demand-resources", tag = "catalogue",
    request_body = RateOnDemandReq,
    responses((status = 200, body = ListOnDemandResourceRatingsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_on_demand_resource_ratings(
    State(app): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RateOnDemandReq>,
) -> ApiResult<Json<ListOnDemandResourceRatingsResponse>> {
    let project_id = required_str("project_id", req.project_id, 64)?;
    let scale = match req.inquiry_precision {
        None | Some(0) => 6,
        Some(1) => 10,
        Some(_) => return Err(ApiError::invalid("inquiry_precision", "must be 0 or 1")),
    };
    let infos = product_infos(req.product_infos)?;
    let mut items = Vec::with_capacity(infos.len());
    for (i, p) in infos.into_iter().enumerate() {
        let f = |name: &str| format!("product_infos[{i}].{name}");
        let usage_value = decimal(
            &f("usage_value"),
            &required(&f("usage_value"), p.usage_value)?,
        )?;
        if usage_value.is_sign_negative() && !usage_value.is_zero() {
            return Err(ApiError::invalid(&f("usage_value"), "must not be negative"));
        }
        let usage_measure_id = required(&f("usage_measure_id"), p.usage_measure_id)?;
        let usage_measure_id = i32::try_from(usage_measure_id)
            .map_err(|_| ApiError::invalid(&f("usage_measure_id"), "is out of range"))?;
        items.push(DemandItem {
            usage_factor: required_str(&f("usage_factor"), p.usage_factor, 64)?,
            usage_value,
            usage_measure_id,
            subscription_num: positive_int(
                &f("subscription_num"),
                p.subscription_num,
                i32::MAX.into(),
            )?,
            key: product_key(
                i,
                KeyFields {
                    id: p.id,
                    cloud_service_type: p.cloud_service_type,
                    resource_type: p.resource_type,
                    resource_spec: p.resource_spec,
                    region: p.region,
                    available_zone: p.available_zone,
                    resource_size: p.resource_size,
                    size_measure_id: p.size_measure_id,
                },
            )?,
        });
    }
    let quotes =
        svc::rate_on_demand(&app, caller.account_id(), &project_id, scale, &items, None).await?;
    let t = totals(&quotes);
    Ok(Json(ListOnDemandResourceRatingsResponse {
        amount: money(t.amount),
        discount_amount: money(t.discount),
        official_website_amount: money(t.official),
        measure_id: 1,
        currency: "CNY".into(),
        product_rating_results: quotes
            .into_iter()
            .map(|q| DemandProductRatingResult {
                discount_rating_results: if q.discount.is_zero() {
                    Vec::new()
                } else {
                    vec![DemandDiscountRatingResult {
                        discount_id: format!("partner-discount-{}", q.product_id),
                        discount_type: 607,
                        amount: money(q.discount),
                        measure_id: 1,
                        discount_name: "Partner discount".into(),
                    }]
                },
                id: q.id,
                product_id: q.product_id,
                amount: money(q.amount),
                discount_amount: money(q.discount),
                official_website_amount: money(q.official),
                measure_id: 1,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodProductInfo {
    /// Unique within the inquiry (else CBC.30050012).
    pub id: Option<String>,
    pub cloud_service_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_spec: Option<String>,
    pub region: Option<String>,
    pub available_zone: Option<String>,
    pub resource_size: Option<i64>,
    pub size_measure_id: Option<i64>,
    /// 0 day, 2 month, 3 year, 4 hour (products are priced per month and per year).
    pub period_type: Option<i64>,
    pub period_num: Option<i64>,
    pub subscription_num: Option<i64>,
    /// `NA` (default); installments (`HALF_PAY`, `ZERO_PAY`) are CloudPond-only: CBC.0100.
    pub fee_installment_mode: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RateOnPeriodReq {
    /// The caller's project: on this platform, its account id (else CBC.99006073).
    pub project_id: Option<String>,
    pub product_infos: Option<Vec<PeriodProductInfo>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodProductOfficialRatingResult {
    pub id: String,
    pub product_id: String,
    #[schema(value_type = f64)]
    pub official_website_amount: serde_json::Number,
    pub measure_id: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfficialWebsiteRatingResult {
    #[schema(value_type = f64)]
    pub official_website_amount: serde_json::Number,
    pub measure_id: i32,
    pub product_rating_results: Vec<PeriodProductOfficialRatingResult>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListRateOnPeriodDetailResponse {
    pub official_website_rating_result: OfficialWebsiteRatingResult,
    /// Optional discounts (business, partner, promotion): none are offered on this platform yet.
    #[schema(value_type = Vec<Object>)]
    pub optional_discount_rating_results: Vec<serde_json::Value>,
    pub currency: String,
}

/// Yearly/monthly price inquiry: each product's period price × `period_num` × `subscription_num`.
#[utoipa::path(post, path = "/v2/bills/ratings/period-resources/subscribe-rate", tag = "catalogue",
    request_body = RateOnPeriodReq,
    responses((status = 200, body = ListRateOnPeriodDetailResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_rate_on_period_detail(
    State(app): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RateOnPeriodReq>,
) -> ApiResult<Json<ListRateOnPeriodDetailResponse>> {
    let project_id = required_str("project_id", req.project_id, 64)?;
    let infos = product_infos(req.product_infos)?;
    let mut items = Vec::with_capacity(infos.len());
    for (i, p) in infos.into_iter().enumerate() {
        let f = |name: &str| format!("product_infos[{i}].{name}");
        let period_type = required(&f("period_type"), p.period_type)?;
        if ![0, 2, 3, 4].contains(&period_type) {
            return Err(ApiError::invalid(&f("period_type"), "must be 0, 2, 3 or 4"));
        }
        match p.fee_installment_mode.as_deref() {
            None | Some("") | Some("NA") => {}
            Some("HALF_PAY") | Some("ZERO_PAY") => {
                return Err(ApiError::invalid(
                    &f("fee_installment_mode"),
                    "installments are offered for CloudPond products only",
                ))
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    &f("fee_installment_mode"),
                    "must be NA, HALF_PAY or ZERO_PAY",
                ))
            }
        }
        items.push(PeriodItem {
            period_type: period_type as i16,
            period_num: positive_int(&f("period_num"), p.period_num, i32::MAX.into())?,
            subscription_num: positive_int(
                &f("subscription_num"),
                p.subscription_num,
                i32::MAX.into(),
            )?,
            key: product_key(
                i,
                KeyFields {
                    id: p.id,
                    cloud_service_type: p.cloud_service_type,
                    resource_type: p.resource_type,
                    resource_spec: p.resource_spec,
                    region: p.region,
                    available_zone: p.available_zone,
                    resource_size: p.resource_size,
                    size_measure_id: p.size_measure_id,
                },
            )?,
        });
    }
    let quotes = svc::rate_on_period(&app, caller.account_id(), &project_id, &items).await?;
    let t = totals(&quotes);
    Ok(Json(ListRateOnPeriodDetailResponse {
        official_website_rating_result: OfficialWebsiteRatingResult {
            official_website_amount: money(t.official),
            measure_id: 1,
            product_rating_results: quotes
                .into_iter()
                .map(|q| PeriodProductOfficialRatingResult {
                    id: q.id,
                    product_id: q.product_id,
                    official_website_amount: money(q.official),
                    measure_id: 1,
                })
                .collect(),
        },
        optional_discount_rating_results: Vec::new(),
        currency: "CNY".into(),
    }))
}
