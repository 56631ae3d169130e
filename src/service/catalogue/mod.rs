//! The catalogue and prices: the vendor edits it (`/admin/v1`), partners and customers read it and
//! ask for prices (`/v2/products/*`, `/v2/bases/*`, `/v2/bills/ratings/*`). On-demand quotes use
//! [`crate::domain::rating::rate`], the function usage ingestion charges with.

mod quotes;

pub use quotes::*;

use rust_decimal::Decimal;
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        catalogue::{
            ConversionRow, MeasureUnitRow, OnDemandPriceRow, PeriodPriceRow, ProductRow,
            ResourceTypeRow, ServiceTypeRow, UsageTypeRow,
        },
    },
    domain::rating::{self, Conversion, RatingError},
    error::{ApiError, ApiResult, Code},
    state::App,
};

pub use crate::db::catalogue::Lang;

/// Pricing business codes (50-other.md §D).
pub mod codes {
    pub const PRODUCT_NOT_FOUND: &str = "CBC.99006006";
    pub const WRONG_USAGE_UNIT: &str = "CBC.99006050";
    pub const PRICE_EXCEEDS_MAXIMUM: &str = "CBC.99006055";
    pub const PROJECT_NOT_FOUND: &str = "CBC.99006073";
    pub const DUPLICATE_IDS: &str = "CBC.30050012";
}

/// The largest amount one inquiry answers (yuan); above it CBC.99006055.
pub const MAX_QUOTE_YUAN: i64 = 999_999_999_999;

// ---------------------------------------------------------------------------------------------
// Reads

pub async fn list_service_types(
    app: &App,
    lang: Lang,
    name: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<ServiceTypeRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_service_types(&mut conn, lang, name, offset, limit).await?)
}

pub async fn list_resource_types(
    app: &App,
    service_type_code: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<ResourceTypeRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_resource_types(&mut conn, service_type_code, offset, limit).await?)
}

pub async fn list_usage_types(
    app: &App,
    resource_type_code: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<UsageTypeRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_usage_types(&mut conn, resource_type_code, offset, limit).await?)
}

pub async fn list_measure_units(app: &App) -> ApiResult<Vec<MeasureUnitRow>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_measure_units(&mut conn).await?)
}

pub async fn list_conversions(
    app: &App,
    measure_type: Option<i32>,
) -> ApiResult<Vec<ConversionRow>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_conversion_rows(&mut conn, measure_type).await?)
}

// ---------------------------------------------------------------------------------------------
// Vendor edits

/// A vendor edit naming a missing entry: 400 CBC.0100 naming its key field.
fn not_found(what: &str, key: impl std::fmt::Display) -> ApiError {
    let field = match what {
        "service type" => "service_type_code",
        "resource type" => "resource_type_code",
        "usage type" => "usage_type_code",
        "product" => "product_id",
        _ => "measure_id",
    };
    ApiError::invalid(field, format!("the {what} {key} does not exist"))
}

fn exists(what: &str, key: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Code::ParameterInvalid,
        format!("The {what} {key} already exists."),
    )
}

/// Creates (`update = false`) or overwrites a service type.
pub async fn put_service_type(app: &App, row: ServiceTypeRow, update: bool) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    if !db::catalogue::put_service_type(&mut conn, &row, update).await? {
        return Err(if update {
            not_found("service type", &row.code)
        } else {
            exists("service type", &row.code)
        });
    }
    Ok(())
}

async fn require_service_type(conn: &mut PgConnection, field: &str, code: &str) -> ApiResult<()> {
    if db::catalogue::find_service_type(conn, code)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            field,
            format!("unknown service type {code}"),
        ));
    }
    Ok(())
}

pub async fn put_resource_type(app: &App, row: ResourceTypeRow, update: bool) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    require_service_type(&mut conn, "service_type_code", &row.service_type_code).await?;
    if update {
        if let Some(old) = db::catalogue::find_resource_type(&mut conn, &row.code).await? {
            if old.service_type_code != row.service_type_code {
                // Products of this resource type name the old service type.
                return Err(ApiError::invalid(
                    "service_type_code",
                    "a resource type cannot move to another service type",
                ));
            }
        }
    }
    if !db::catalogue::put_resource_type(&mut conn, &row, update).await? {
        return Err(if update {
            not_found("resource type", &row.code)
        } else {
            exists("resource type", &row.code)
        });
    }
    Ok(())
}

pub struct UsageTypeInput {
    pub code: String,
    pub resource_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub measure_id: i32,
}

pub async fn put_usage_type(app: &App, u: UsageTypeInput, update: bool) -> ApiResult<UsageTypeRow> {
    let mut tx = app.db.begin().await?;
    if db::catalogue::find_resource_type(&mut tx, &u.resource_type_code)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "resource_type_code",
            format!("unknown resource type {}", u.resource_type_code),
        ));
    }
    if db::catalogue::find_measure_unit(&mut tx, u.measure_id)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(
            "measure_id",
            format!("unknown measure unit {}", u.measure_id),
        ));
    }
    if update {
        // Existing prices must stay valid: their units convertible, their products of this
        // resource type.
        let conversions = db::catalogue::conversions(&mut tx).await?;
        for m in db::catalogue::price_measures_of_usage_type(&mut tx, &u.code).await? {
            if !rating::convertible(m, u.measure_id, &conversions) {
                return Err(ApiError::invalid(
                    "measure_id",
                    format!("prices of this usage type are quoted in measure unit {m}, which does not convert to {}", u.measure_id),
                ));
            }
        }
        if db::catalogue::usage_type_priced_elsewhere(&mut tx, &u.code, &u.resource_type_code)
            .await?
        {
            return Err(ApiError::invalid(
                "resource_type_code",
                "products of another resource type price this usage type",
            ));
        }
    }
    if !db::catalogue::put_usage_type(
        &mut tx,
        &u.code,
        &u.resource_type_code,
        &u.name_zh,
        &u.name_en,
        u.measure_id,
        update,
    )
    .await?
    {
        return Err(if update {
            not_found("usage type", &u.code)
        } else {
            exists("usage type", &u.code)
        });
    }
    let row = db::catalogue::find_usage_type(&mut tx, &u.code)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("usage type vanished")))?;
    tx.commit().await?;
    Ok(row)
}

pub async fn put_measure_unit(
    app: &App,
    row: MeasureUnitRow,
    update: bool,
) -> ApiResult<MeasureUnitRow> {
    let mut conn = app.db.acquire().await?;
    if !db::catalogue::put_measure_unit(&mut conn, &row, update).await? {
        return Err(if update {
            not_found("measure unit", row.measure_id)
        } else {
            exists("measure unit", row.measure_id)
        });
    }
    db::catalogue::find_measure_unit(&mut conn, row.measure_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("measure unit vanished")))
}

/// Creates a conversion (`1 measure_id = ratio ref_measure_id`) or changes its ratio. Both units
/// must exist and share the measure type; a new conversion may not join units that already
/// convert (the graph stays a forest, so every pair has one factor).
pub async fn put_conversion(app: &App, c: ConversionRow, update: bool) -> ApiResult<ConversionRow> {
    let mut tx = app.db.begin().await?;
    let from = db::catalogue::find_measure_unit(&mut tx, c.measure_id).await?;
    let to = db::catalogue::find_measure_unit(&mut tx, c.ref_measure_id).await?;
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (None, _) => {
            return Err(ApiError::invalid(
                "measure_id",
                format!("unknown measure unit {}", c.measure_id),
            ))
        }
        (_, None) => {
            return Err(ApiError::invalid(
                "ref_measure_id",
                format!("unknown measure unit {}", c.ref_measure_id),
            ))
        }
    };
    if from.measure_type != to.measure_type {
        return Err(ApiError::invalid(
            "ref_measure_id",
            format!(
                "measure type {} differs from measure_id's {}",
                to.measure_type, from.measure_type
            ),
        ));
    }
    let conversions = db::catalogue::conversions(&mut tx).await?;
    let stored = conversions
        .iter()
        .any(|&(m, r, _)| (m, r) == (c.measure_id, c.ref_measure_id));
    if !update && !stored && rating::convertible(c.measure_id, c.ref_measure_id, &conversions) {
        return Err(ApiError::invalid(
            "ref_measure_id",
            "the units already convert through other conversions",
        ));
    }
    let row = ConversionRow {
        measure_type: from.measure_type,
        ..c
    };
    if !db::catalogue::put_conversion(&mut tx, &row, update).await? {
        return Err(if update {
            not_found(
                "conversion",
                format!("{} -> {}", row.measure_id, row.ref_measure_id),
            )
        } else {
            exists(
                "conversion",
                format!("{} -> {}", row.measure_id, row.ref_measure_id),
            )
        });
    }
    tx.commit().await?;
    Ok(row)
}

pub struct ProductInput {
    pub id: String,
    pub cloud_service_type: String,
    pub name: String,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub resource_spec: Option<String>,
    /// `None`: keep (update) / none (create).
    pub on_demand_prices: Option<Vec<OnDemandPriceInput>>,
    pub period_prices: Option<Vec<PeriodPriceInput>>,
    /// `None`: [`DEFAULT_TAX_RATE`] (create) / keep (update); `Some(None)`: no tax rate.
    pub tax_rate: Option<Option<Decimal>>,
}

/// The tax rate of a product registered without one named: the 6 % VAT of cloud services (also
/// what migration 0024 gave existing products).
pub const DEFAULT_TAX_RATE: Decimal = Decimal::from_parts(6, 0, 0, false, 2);

pub struct OnDemandPriceInput {
    pub usage_type: String,
    pub usage_measure_id: i32,
    pub unit_price: Decimal,
}

pub struct PeriodPriceInput {
    pub period_type: i16,
    pub price: Decimal,
}

pub struct ProductDetail {
    pub product: ProductRow,
    pub on_demand_prices: Vec<OnDemandPriceRow>,
    pub period_prices: Vec<PeriodPriceRow>,
}

async fn check_on_demand_prices(
    conn: &mut PgConnection,
    resource_type_code: Option<&str>,
    prices: &[OnDemandPriceInput],
) -> ApiResult<()> {
    if prices.is_empty() {
        return Ok(());
    }
    let Some(resource_type_code) = resource_type_code else {
        return Err(ApiError::invalid(
            "on_demand_prices",
            "need resource_type_code (the usage types belong to it)",
        ));
    };
    let conversions = db::catalogue::conversions(conn).await?;
    for (i, p) in prices.iter().enumerate() {
        let field = |f: &str| format!("on_demand_prices[{i}].{f}");
        if prices[..i].iter().any(|q| q.usage_type == p.usage_type) {
            return Err(ApiError::invalid(&field("usage_type"), "is repeated"));
        }
        let usage = db::catalogue::find_usage_type(conn, &p.usage_type)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    &field("usage_type"),
                    format!("unknown usage type {}", p.usage_type),
                )
            })?;
        if usage.resource_type_code != resource_type_code {
            return Err(ApiError::invalid(
                &field("usage_type"),
                format!(
                    "belongs to resource type {}, not {resource_type_code}",
                    usage.resource_type_code
                ),
            ));
        }
        if db::catalogue::find_measure_unit(conn, p.usage_measure_id)
            .await?
            .is_none()
        {
            return Err(ApiError::invalid(
                &field("usage_measure_id"),
                format!("unknown measure unit {}", p.usage_measure_id),
            ));
        }
        if !rating::convertible(p.usage_measure_id, usage.measure_id, &conversions) {
            return Err(ApiError::invalid(
                &field("usage_measure_id"),
                format!(
                    "does not convert to the usage type's unit {} (measure type {})",
                    usage.measure_id, usage.measure_type
                ),
            ));
        }
    }
    Ok(())
}

fn is_rating_key_conflict(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.constraint() == Some("product_rating_key"))
}

/// Registers (`update = false`) or overwrites a product with its prices, in one transaction.
pub async fn put_product(app: &App, p: ProductInput, update: bool) -> ApiResult<ProductDetail> {
    let mut tx = app.db.begin().await?;
    require_service_type(&mut tx, "cloud_service_type", &p.cloud_service_type).await?;
    if let Some(code) = &p.resource_type_code {
        let r = db::catalogue::find_resource_type(&mut tx, code)
            .await?
            .ok_or_else(|| {
                ApiError::invalid(
                    "resource_type_code",
                    format!("unknown resource type {code}"),
                )
            })?;
        if r.service_type_code != p.cloud_service_type {
            return Err(ApiError::invalid(
                "resource_type_code",
                format!(
                    "belongs to service type {}, not {}",
                    r.service_type_code, p.cloud_service_type
                ),
            ));
        }
    }
    if let Some(prices) = &p.on_demand_prices {
        check_on_demand_prices(&mut tx, p.resource_type_code.as_deref(), prices).await?;
    } else if update {
        // Kept prices must still belong to the (possibly new) resource type.
        let kept: Vec<OnDemandPriceInput> = db::catalogue::on_demand_prices(&mut tx, &p.id)
            .await?
            .into_iter()
            .map(|o| OnDemandPriceInput {
                usage_type: o.usage_type,
                usage_measure_id: o.usage_measure_id,
                unit_price: o.unit_price,
            })
            .collect();
        check_on_demand_prices(&mut tx, p.resource_type_code.as_deref(), &kept).await?;
    }
    if let Some(prices) = &p.period_prices {
        for (i, q) in prices.iter().enumerate() {
            if prices[..i].iter().any(|o| o.period_type == q.period_type) {
                return Err(ApiError::invalid(
                    &format!("period_prices[{i}].period_type"),
                    "is repeated",
                ));
            }
        }
    }
    let (created_at, tax_rate) = match update {
        true => {
            let old = db::catalogue::find_product(&mut tx, &p.id)
                .await?
                .ok_or_else(|| not_found("product", &p.id))?;
            (old.created_at, p.tax_rate.unwrap_or(old.tax_rate))
        }
        false => (app.now(), p.tax_rate.unwrap_or(Some(DEFAULT_TAX_RATE))),
    };
    let row = ProductRow {
        id: p.id.clone(),
        cloud_service_type: p.cloud_service_type,
        name: p.name,
        created_at,
        resource_type_code: p.resource_type_code,
        region_code: p.region_code,
        resource_spec: p.resource_spec,
        tax_rate,
    };
    match db::catalogue::put_product(&mut tx, &row, update).await {
        Ok(true) => {}
        Ok(false) if update => return Err(not_found("product", &p.id)),
        Ok(false) => {
            return Err(ApiError::new(
                Code::ParameterInvalid,
                "The product id is already registered.",
            ))
        }
        Err(e) if is_rating_key_conflict(&e) => {
            return Err(ApiError::invalid(
                "resource_spec",
                "another product already has this service type, resource type, spec and region",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    if let Some(prices) = p.on_demand_prices {
        let rows: Vec<OnDemandPriceRow> = prices
            .into_iter()
            .map(|o| OnDemandPriceRow {
                product_id: p.id.clone(),
                usage_type: o.usage_type,
                usage_measure_id: o.usage_measure_id,
                unit_price: o.unit_price,
            })
            .collect();
        db::catalogue::replace_on_demand_prices(&mut tx, &p.id, &rows).await?;
    }
    if let Some(prices) = p.period_prices {
        let rows: Vec<PeriodPriceRow> = prices
            .into_iter()
            .map(|o| PeriodPriceRow {
                product_id: p.id.clone(),
                period_type: o.period_type,
                price: o.price,
            })
            .collect();
        db::catalogue::replace_period_prices(&mut tx, &p.id, &rows).await?;
    }
    let detail = product_detail(&mut tx, &p.id).await?;
    tx.commit().await?;
    detail.ok_or_else(|| ApiError::internal(anyhow::anyhow!("product vanished")))
}

async fn product_detail(conn: &mut PgConnection, id: &str) -> ApiResult<Option<ProductDetail>> {
    let Some(product) = db::catalogue::find_product(conn, id).await? else {
        return Ok(None);
    };
    Ok(Some(ProductDetail {
        on_demand_prices: db::catalogue::on_demand_prices(conn, id).await?,
        period_prices: db::catalogue::period_prices(conn, id).await?,
        product,
    }))
}

pub async fn show_product(app: &App, id: &str) -> ApiResult<ProductDetail> {
    let mut conn = app.db.acquire().await?;
    product_detail(&mut conn, id)
        .await?
        .ok_or_else(|| not_found("product", id))
}

pub async fn list_products(
    app: &App,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<ProductRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::catalogue::list_products(&mut conn, offset, limit).await?)
}

// ---------------------------------------------------------------------------------------------
// Capacities: copies of a product that may be live in a region (no capacity: unlimited);
// `pay_orders` refuses what exceeds the capacity left with CBC.99003141.

/// The product a capacity is set on, sold in `region_code` (a product with a region is sold
/// only there).
async fn capacity_product(
    conn: &mut PgConnection,
    product_id: &str,
    region_code: &str,
) -> ApiResult<ProductRow> {
    let p = db::catalogue::find_product(conn, product_id)
        .await?
        .ok_or_else(|| not_found("product", product_id))?;
    if p.region_code.as_deref().is_some_and(|r| r != region_code) {
        return Err(ApiError::invalid(
            "region_code",
            format!(
                "the product {product_id} is sold only in {}",
                p.region_code.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(p)
}

/// Sets a product's capacity in a region; answers it with the copies in use.
pub async fn put_capacity(
    app: &App,
    product_id: &str,
    region_code: &str,
    capacity: i64,
) -> ApiResult<db::catalogue::CapacityRow> {
    let mut tx = app.db.begin().await?;
    capacity_product(&mut tx, product_id, region_code).await?;
    db::catalogue::put_capacity(&mut tx, product_id, region_code, capacity, app.now()).await?;
    let row = db::catalogue::lock_capacity(&mut tx, product_id, region_code)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("capacity vanished")))?;
    tx.commit().await?;
    Ok(row)
}

/// Removes a product's capacity in a region (unlimited again); none set: CBC.0100.
pub async fn delete_capacity(app: &App, product_id: &str, region_code: &str) -> ApiResult<()> {
    let mut tx = app.db.begin().await?;
    capacity_product(&mut tx, product_id, region_code).await?;
    if !db::catalogue::delete_capacity(&mut tx, product_id, region_code).await? {
        return Err(ApiError::invalid(
            "region_code",
            format!("the product {product_id} has no capacity in {region_code}"),
        ));
    }
    tx.commit().await?;
    Ok(())
}

/// A product's capacities by region with the copies in use.
pub async fn list_capacities(
    app: &App,
    product_id: &str,
) -> ApiResult<Vec<db::catalogue::CapacityRow>> {
    let mut conn = app.db.acquire().await?;
    db::catalogue::find_product(&mut conn, product_id)
        .await?
        .ok_or_else(|| not_found("product", product_id))?;
    Ok(db::catalogue::capacities(&mut conn, product_id).await?)
}
