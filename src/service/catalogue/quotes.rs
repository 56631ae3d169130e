//! Price quotes (`/v2/bills/ratings/*`): on-demand products rated with
//! [`crate::domain::rating::rate`] and yearly/monthly products priced per period.

use super::*;

// ---------------------------------------------------------------------------------------------
// Price inquiries

/// What both inquiries name a product by.
pub struct ProductKey {
    pub id: String,
    pub cloud_service_type: String,
    pub resource_type: String,
    pub resource_spec: String,
    pub region: String,
}

pub struct DemandItem {
    pub key: ProductKey,
    pub usage_factor: String,
    pub usage_value: Decimal,
    pub usage_measure_id: i32,
    pub subscription_num: i64,
}

pub struct PeriodItem {
    pub key: ProductKey,
    pub period_type: i16,
    pub period_num: i64,
    pub subscription_num: i64,
}

/// One product's quote: `official − discount = amount`.
pub struct Quote {
    pub id: String,
    pub product_id: String,
    pub official: Decimal,
    pub discount: Decimal,
    pub amount: Decimal,
}

/// The project a price inquiry names: this platform has one project per account, whose id is the
/// account id (`X-Domain-Id`); any other id is CBC.99006073.
fn check_project(caller_account_id: &str, project_id: &str) -> ApiResult<()> {
    if project_id != caller_account_id {
        return Err(ApiError::business(
            codes::PROJECT_NOT_FOUND,
            format!("The project {project_id} does not exist."),
        ));
    }
    Ok(())
}

fn check_unique_ids<'a>(ids: impl Iterator<Item = &'a str>) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(ApiError::business(
                codes::DUPLICATE_IDS,
                format!("The id {id} is repeated in product_infos."),
            ));
        }
    }
    Ok(())
}

async fn rated_product(conn: &mut PgConnection, i: usize, k: &ProductKey) -> ApiResult<ProductRow> {
    db::catalogue::find_rated_product(
        conn,
        &k.cloud_service_type,
        &k.resource_type,
        &k.resource_spec,
        &k.region,
    )
    .await?
    .ok_or_else(|| {
        ApiError::business(
            codes::PRODUCT_NOT_FOUND,
            format!(
                "product_infos[{i}]: no product of {} / {} / {} in region {}.",
                k.cloud_service_type, k.resource_type, k.resource_spec, k.region
            ),
        )
    })
}

fn too_large(i: usize) -> ApiError {
    ApiError::business(
        codes::PRICE_EXCEEDS_MAXIMUM,
        format!("product_infos[{i}]: the price exceeds the maximum."),
    )
}

fn within_max(i: usize, v: Decimal) -> ApiResult<Decimal> {
    if v > Decimal::from(MAX_QUOTE_YUAN) {
        return Err(too_large(i));
    }
    Ok(v)
}

/// On-demand quotes (`list_on_demand_resource_ratings`): usage_value × subscription_num rated by
/// [`rating::rate`] at the product's price for the usage factor; amounts truncated to `scale`
/// decimals (6 by default, 10 for `inquiry_precision` 1). `discount_rate` is the caller's
/// customer-level discount, if any.
pub async fn rate_on_demand(
    app: &App,
    caller_account_id: &str,
    project_id: &str,
    scale: u32,
    items: &[DemandItem],
    discount_rate: Option<Decimal>,
) -> ApiResult<Vec<Quote>> {
    check_project(caller_account_id, project_id)?;
    check_unique_ids(items.iter().map(|d| d.key.id.as_str()))?;
    let mut conn = app.db.acquire().await?;
    let conversions: Vec<Conversion> = db::catalogue::conversions(&mut conn).await?;
    let mut out = Vec::with_capacity(items.len());
    for (i, d) in items.iter().enumerate() {
        let product = rated_product(&mut conn, i, &d.key).await?;
        let no_price = || {
            ApiError::business(
                codes::PRODUCT_NOT_FOUND,
                format!(
                    "product_infos[{i}]: product {} has no on-demand price for {}.",
                    product.id, d.usage_factor
                ),
            )
        };
        let usage_type = db::catalogue::find_usage_type_of_resource(
            &mut conn,
            &d.key.resource_type,
            &d.usage_factor,
        )
        .await?
        .ok_or_else(no_price)?;
        let price = db::catalogue::on_demand_price(&mut conn, &product.id, &usage_type.code)
            .await?
            .ok_or_else(no_price)?;
        let usage = d
            .usage_value
            .checked_mul(Decimal::from(d.subscription_num))
            .ok_or_else(|| too_large(i))?;
        let rated = rating::rate(
            usage,
            d.usage_measure_id,
            price.usage_measure_id,
            price.unit_price,
            &conversions,
            discount_rate,
        )
        .map_err(|e| match e {
            RatingError::NoConversion { from, to } => ApiError::business(
                codes::WRONG_USAGE_UNIT,
                format!("product_infos[{i}]: usage_measure_id {from} does not convert to the price's unit {to}."),
            ),
            RatingError::Overflow => too_large(i),
            other => ApiError::invalid(&format!("product_infos[{i}].usage_value"), other),
        })?;
        let official = within_max(i, rated.official_amount.trunc_with_scale(scale))?;
        let amount = (rated.official_amount - rated.discount_amount).trunc_with_scale(scale);
        out.push(Quote {
            id: d.key.id.clone(),
            product_id: product.id,
            official,
            discount: official - amount,
            amount,
        });
    }
    Ok(out)
}

/// Yearly/monthly quotes (`list_rate_on_period_detail`): the product's price for the period type
/// × period_num × subscription_num (2 decimals, exact).
pub async fn rate_on_period(
    app: &App,
    caller_account_id: &str,
    project_id: &str,
    items: &[PeriodItem],
) -> ApiResult<Vec<Quote>> {
    check_project(caller_account_id, project_id)?;
    check_unique_ids(items.iter().map(|d| d.key.id.as_str()))?;
    let mut conn = app.db.acquire().await?;
    let mut out = Vec::with_capacity(items.len());
    for (i, d) in items.iter().enumerate() {
        let product = rated_product(&mut conn, i, &d.key).await?;
        let price = db::catalogue::period_prices(&mut conn, &product.id)
            .await?
            .into_iter()
            .find(|p| p.period_type == d.period_type)
            .ok_or_else(|| {
                ApiError::business(
                    codes::PRODUCT_NOT_FOUND,
                    format!(
                        "product_infos[{i}]: product {} has no price for period_type {}.",
                        product.id, d.period_type
                    ),
                )
            })?;
        let official = price
            .price
            .checked_mul(Decimal::from(d.period_num))
            .and_then(|v| v.checked_mul(Decimal::from(d.subscription_num)))
            .ok_or_else(|| too_large(i))?;
        let official = within_max(i, official)?;
        out.push(Quote {
            id: d.key.id.clone(),
            product_id: product.id,
            official,
            discount: Decimal::ZERO,
            amount: official,
        });
    }
    Ok(out)
}
