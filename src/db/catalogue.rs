//! The vendor's catalogue (migrations 0011, 0016): service types, resource types, usage types,
//! measure units, conversions, products and their on-demand / yearly-monthly prices.
//!
//! Names come in Chinese and English; `Lang` picks the column. Lists page by their primary key (or
//! the (parent, code) index of their filter) and count with the same WHERE.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::domain::rating::Conversion;

/// The language names are answered in (`X-Language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceTypeRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResourceTypeRow {
    pub code: String,
    pub service_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub description: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsageTypeRow {
    pub code: String,
    pub resource_type_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub measure_id: i32,
    pub service_type_code: String,
    pub resource_type_name_zh: String,
    pub resource_type_name_en: String,
    pub service_type_name_zh: String,
    pub service_type_name_en: String,
    /// The measure type of `measure_id`.
    pub measure_type: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeasureUnitRow {
    pub measure_id: i32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviation: String,
    pub measure_type: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversionRow {
    pub measure_id: i32,
    pub ref_measure_id: i32,
    pub conversion_ratio: i64,
    pub measure_type: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: String,
    pub cloud_service_type: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub resource_spec: Option<String>,
    /// E.g. 0.06; `None`: no tax rate (orders of it are refused with CBC.99006093).
    pub tax_rate: Option<Decimal>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OnDemandPriceRow {
    pub product_id: String,
    pub usage_type: String,
    pub usage_measure_id: i32,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PeriodPriceRow {
    pub product_id: String,
    pub period_type: i16,
    pub price: Decimal,
}

fn name_col(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// `%`, `_` and `\` taken literally in an ILIKE pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

async fn count_and_page<T>(
    conn: &mut PgConnection,
    select: &str,
    from_where: impl Fn(&mut QueryBuilder<'_, Postgres>),
    order: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<T>)>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut count = QueryBuilder::new("select count(*) ");
    from_where(&mut count);
    let total = count
        .build_query_scalar::<i64>()
        .fetch_one(&mut *conn)
        .await?;
    let mut page = QueryBuilder::new(select);
    from_where(&mut page);
    page.push(" order by ")
        .push(order)
        .push(" offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = page.build_query_as::<T>().fetch_all(&mut *conn).await?;
    Ok((total, rows))
}

// ---------------------------------------------------------------------------------------------
// Service types

const SERVICE_TYPE_COLS: &str = "select s.code, s.name_zh, s.name as name_en, s.abbreviation ";

/// Service types, optionally whose name (in `lang`) contains `name` (case-insensitive). The
/// catalogue is vendor-sized (hundreds of rows), so the substring match scans it.
pub async fn list_service_types(
    conn: &mut PgConnection,
    lang: Lang,
    name: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ServiceTypeRow>)> {
    let pattern = name.map(like_escape);
    let col = name_col(lang, "s.name_zh", "s.name");
    count_and_page(
        conn,
        SERVICE_TYPE_COLS,
        |b| {
            b.push("from cloud_service_type s");
            if let Some(p) = &pattern {
                b.push(" where ")
                    .push(col)
                    .push(" ilike ")
                    .push_bind(p.clone());
            }
        },
        "s.code",
        offset,
        limit,
    )
    .await
}

pub async fn find_service_type(
    conn: &mut PgConnection,
    code: &str,
) -> sqlx::Result<Option<ServiceTypeRow>> {
    sqlx::query_as::<_, ServiceTypeRow>(&format!(
        "{SERVICE_TYPE_COLS} from cloud_service_type s where s.code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await
}

/// Inserts or (when `update`) overwrites a service type; `false` when the insert met an existing
/// code or the update found none.
pub async fn put_service_type(
    conn: &mut PgConnection,
    r: &ServiceTypeRow,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update cloud_service_type set name_zh = $2, name = $3, abbreviation = $4 where code = $1"
    } else {
        "insert into cloud_service_type (code, name_zh, name, abbreviation) values ($1, $2, $3, $4)
         on conflict (code) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(&r.code)
        .bind(&r.name_zh)
        .bind(&r.name_en)
        .bind(&r.abbreviation)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------------------------------------
// Resource types

const RESOURCE_TYPE_COLS: &str =
    "select r.code, r.service_type_code, r.name_zh, r.name_en, r.description ";

/// Resource types, all or those of one service type (`list_service_resources`).
pub async fn list_resource_types(
    conn: &mut PgConnection,
    service_type_code: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ResourceTypeRow>)> {
    let service = service_type_code.map(str::to_string);
    count_and_page(
        conn,
        RESOURCE_TYPE_COLS,
        |b| {
            b.push("from resource_type r");
            if let Some(s) = &service {
                b.push(" where r.service_type_code = ").push_bind(s.clone());
            }
        },
        if service.is_some() {
            "r.service_type_code, r.code"
        } else {
            "r.code"
        },
        offset,
        limit,
    )
    .await
}

pub async fn find_resource_type(
    conn: &mut PgConnection,
    code: &str,
) -> sqlx::Result<Option<ResourceTypeRow>> {
    sqlx::query_as::<_, ResourceTypeRow>(&format!(
        "{RESOURCE_TYPE_COLS} from resource_type r where r.code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await
}

pub async fn put_resource_type(
    conn: &mut PgConnection,
    r: &ResourceTypeRow,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update resource_type set service_type_code = $2, name_zh = $3, name_en = $4,
                description = $5 where code = $1"
    } else {
        "insert into resource_type (code, service_type_code, name_zh, name_en, description)
         values ($1, $2, $3, $4, $5) on conflict (code) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(&r.code)
        .bind(&r.service_type_code)
        .bind(&r.name_zh)
        .bind(&r.name_en)
        .bind(&r.description)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------------------------------------
// Usage types

const USAGE_TYPE_COLS: &str = "select u.code, u.resource_type_code, u.name_zh, u.name_en, \
     u.measure_id, r.service_type_code, r.name_zh as resource_type_name_zh, \
     r.name_en as resource_type_name_en, s.name_zh as service_type_name_zh, \
     s.name as service_type_name_en, m.measure_type ";
const USAGE_TYPE_FROM: &str =
    "from usage_type u join resource_type r on r.code = u.resource_type_code \
     join cloud_service_type s on s.code = r.service_type_code \
     join measure_unit m on m.measure_id = u.measure_id";

/// Usage types, all or those of one resource type.
pub async fn list_usage_types(
    conn: &mut PgConnection,
    resource_type_code: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<UsageTypeRow>)> {
    let resource = resource_type_code.map(str::to_string);
    count_and_page(
        conn,
        USAGE_TYPE_COLS,
        |b| {
            b.push(USAGE_TYPE_FROM);
            if let Some(r) = &resource {
                b.push(" where u.resource_type_code = ")
                    .push_bind(r.clone());
            }
        },
        if resource.is_some() {
            "u.resource_type_code, u.code"
        } else {
            "u.code"
        },
        offset,
        limit,
    )
    .await
}

pub async fn find_usage_type(
    conn: &mut PgConnection,
    code: &str,
) -> sqlx::Result<Option<UsageTypeRow>> {
    sqlx::query_as::<_, UsageTypeRow>(&format!(
        "{USAGE_TYPE_COLS} {USAGE_TYPE_FROM} where u.code = $1"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await
}

/// Usage types by code, case-insensitively (the price inquiry's `usage_factor`), of one resource
/// type.
pub async fn find_usage_type_of_resource(
    conn: &mut PgConnection,
    resource_type_code: &str,
    code: &str,
) -> sqlx::Result<Option<UsageTypeRow>> {
    sqlx::query_as::<_, UsageTypeRow>(&format!(
        "{USAGE_TYPE_COLS} {USAGE_TYPE_FROM} where u.resource_type_code = $1 \
         and lower(u.code) = lower($2) order by u.code = $2 desc limit 1"
    ))
    .bind(resource_type_code)
    .bind(code)
    .fetch_optional(conn)
    .await
}

pub async fn put_usage_type(
    conn: &mut PgConnection,
    code: &str,
    resource_type_code: &str,
    name_zh: &str,
    name_en: &str,
    measure_id: i32,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update usage_type set resource_type_code = $2, name_zh = $3, name_en = $4,
                measure_id = $5 where code = $1"
    } else {
        "insert into usage_type (code, resource_type_code, name_zh, name_en, measure_id)
         values ($1, $2, $3, $4, $5) on conflict (code) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(code)
        .bind(resource_type_code)
        .bind(name_zh)
        .bind(name_en)
        .bind(measure_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The measure units the prices of a usage type are quoted in.
pub async fn price_measures_of_usage_type(
    conn: &mut PgConnection,
    usage_type: &str,
) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar(
        "select distinct usage_measure_id from on_demand_price where usage_type = $1 order by 1",
    )
    .bind(usage_type)
    .fetch_all(conn)
    .await
}

/// Whether any price names a usage type that does not belong to `resource_type_code` any more
/// (a usage type moved to another resource type while products of the old one price it).
pub async fn usage_type_priced_elsewhere(
    conn: &mut PgConnection,
    usage_type: &str,
    resource_type_code: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from on_demand_price o join product p on p.id = o.product_id
                         where o.usage_type = $1 and p.resource_type_code <> $2)",
    )
    .bind(usage_type)
    .bind(resource_type_code)
    .fetch_one(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Measure units and conversions

const MEASURE_COLS: &str =
    "select measure_id, name_zh, name_en, abbreviation, measure_type from measure_unit";

pub async fn list_measure_units(conn: &mut PgConnection) -> sqlx::Result<Vec<MeasureUnitRow>> {
    sqlx::query_as::<_, MeasureUnitRow>(&format!("{MEASURE_COLS} order by measure_id"))
        .fetch_all(conn)
        .await
}

pub async fn find_measure_unit(
    conn: &mut PgConnection,
    measure_id: i32,
) -> sqlx::Result<Option<MeasureUnitRow>> {
    sqlx::query_as::<_, MeasureUnitRow>(&format!("{MEASURE_COLS} where measure_id = $1"))
        .bind(measure_id)
        .fetch_optional(conn)
        .await
}

/// Inserts a unit, or updates its names and abbreviation (its measure type is fixed: conversions
/// and usage types depend on it).
pub async fn put_measure_unit(
    conn: &mut PgConnection,
    r: &MeasureUnitRow,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update measure_unit set name_zh = $2, name_en = $3, abbreviation = $4
          where measure_id = $1"
    } else {
        "insert into measure_unit (measure_id, name_zh, name_en, abbreviation, measure_type)
         values ($1, $2, $3, $4, $5) on conflict (measure_id) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(r.measure_id)
        .bind(&r.name_zh)
        .bind(&r.name_en)
        .bind(&r.abbreviation)
        .bind(r.measure_type)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

const CONVERSION_COLS: &str =
    "select measure_id, ref_measure_id, conversion_ratio, measure_type from measure_conversion";

/// Conversions, all or of one measure type.
pub async fn list_conversion_rows(
    conn: &mut PgConnection,
    measure_type: Option<i32>,
) -> sqlx::Result<Vec<ConversionRow>> {
    match measure_type {
        Some(t) => {
            sqlx::query_as::<_, ConversionRow>(&format!(
                "{CONVERSION_COLS} where measure_type = $1 order by measure_id, ref_measure_id"
            ))
            .bind(t)
            .fetch_all(conn)
            .await
        }
        None => {
            sqlx::query_as::<_, ConversionRow>(&format!(
                "{CONVERSION_COLS} order by measure_id, ref_measure_id"
            ))
            .fetch_all(conn)
            .await
        }
    }
}

/// Every conversion, in the shape [`crate::domain::rating::rate`] takes.
pub async fn conversions(conn: &mut PgConnection) -> sqlx::Result<Vec<Conversion>> {
    Ok(list_conversion_rows(conn, None)
        .await?
        .into_iter()
        .map(|c| (c.measure_id, c.ref_measure_id, c.conversion_ratio))
        .collect())
}

/// Inserts a conversion or changes its ratio; `false` when the insert met the pair or the update
/// found none.
pub async fn put_conversion(
    conn: &mut PgConnection,
    r: &ConversionRow,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update measure_conversion set conversion_ratio = $3
          where measure_id = $1 and ref_measure_id = $2"
    } else {
        "insert into measure_conversion (measure_id, ref_measure_id, conversion_ratio, measure_type)
         values ($1, $2, $3, $4) on conflict (measure_id, ref_measure_id) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(r.measure_id)
        .bind(r.ref_measure_id)
        .bind(r.conversion_ratio)
        .bind(r.measure_type)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------------------------------------
// Products and prices

const PRODUCT_COLS: &str = "select id, cloud_service_type, name, created_at, resource_type_code, \
     region_code, resource_spec, tax_rate from product";

pub async fn find_product(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as::<_, ProductRow>(&format!("{PRODUCT_COLS} where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn list_products(
    conn: &mut PgConnection,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ProductRow>)> {
    count_and_page(
        conn,
        "select id, cloud_service_type, name, created_at, resource_type_code, region_code, \
         resource_spec, tax_rate ",
        |b| {
            b.push("from product");
        },
        "id",
        offset,
        limit,
    )
    .await
}

/// The product a price inquiry names: its service type, resource type and spec, in `region` or,
/// failing that, region-less (served through `product_rating_key`).
pub async fn find_rated_product(
    conn: &mut PgConnection,
    cloud_service_type: &str,
    resource_type_code: &str,
    resource_spec: &str,
    region: &str,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as::<_, ProductRow>(&format!(
        "{PRODUCT_COLS} where cloud_service_type = $1 and resource_type_code = $2
           and resource_spec = $3 and coalesce(region_code, '') in ($4, '')
         order by coalesce(region_code, '') = $4 desc limit 1"
    ))
    .bind(cloud_service_type)
    .bind(resource_type_code)
    .bind(resource_spec)
    .bind(region)
    .fetch_optional(conn)
    .await
}

/// Inserts a product (`false` when the id is taken) or overwrites one (`false` when missing).
/// A second product for the same rating key (service, resource type, spec, region) is a unique
/// violation of `product_rating_key`, reported as `Err`.
pub async fn put_product(
    conn: &mut PgConnection,
    p: &ProductRow,
    update: bool,
) -> sqlx::Result<bool> {
    let sql = if update {
        "update product set cloud_service_type = $2, name = $3, resource_type_code = $5,
                region_code = $6, resource_spec = $7, tax_rate = $8 where id = $1"
    } else {
        "insert into product (id, cloud_service_type, name, created_at, resource_type_code,
                              region_code, resource_spec, tax_rate)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (id) do nothing"
    };
    let done = sqlx::query(sql)
        .bind(&p.id)
        .bind(&p.cloud_service_type)
        .bind(&p.name)
        .bind(p.created_at)
        .bind(&p.resource_type_code)
        .bind(&p.region_code)
        .bind(&p.resource_spec)
        .bind(p.tax_rate)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn on_demand_prices(
    conn: &mut PgConnection,
    product_id: &str,
) -> sqlx::Result<Vec<OnDemandPriceRow>> {
    sqlx::query_as::<_, OnDemandPriceRow>(
        "select product_id, usage_type, usage_measure_id, unit_price from on_demand_price
          where product_id = $1 order by usage_type",
    )
    .bind(product_id)
    .fetch_all(conn)
    .await
}

pub async fn on_demand_price(
    conn: &mut PgConnection,
    product_id: &str,
    usage_type: &str,
) -> sqlx::Result<Option<OnDemandPriceRow>> {
    sqlx::query_as::<_, OnDemandPriceRow>(
        "select product_id, usage_type, usage_measure_id, unit_price from on_demand_price
          where product_id = $1 and usage_type = $2",
    )
    .bind(product_id)
    .bind(usage_type)
    .fetch_optional(conn)
    .await
}

pub async fn period_prices(
    conn: &mut PgConnection,
    product_id: &str,
) -> sqlx::Result<Vec<PeriodPriceRow>> {
    sqlx::query_as::<_, PeriodPriceRow>(
        "select product_id, period_type, price from period_price where product_id = $1
          order by period_type",
    )
    .bind(product_id)
    .fetch_all(conn)
    .await
}

/// Replaces a product's on-demand prices.
pub async fn replace_on_demand_prices(
    conn: &mut PgConnection,
    product_id: &str,
    prices: &[OnDemandPriceRow],
) -> sqlx::Result<()> {
    sqlx::query("delete from on_demand_price where product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    if prices.is_empty() {
        return Ok(());
    }
    let mut b = QueryBuilder::<Postgres>::new(
        "insert into on_demand_price (product_id, usage_type, usage_measure_id, unit_price) ",
    );
    b.push_values(prices, |mut row, p| {
        row.push_bind(product_id)
            .push_bind(&p.usage_type)
            .push_bind(p.usage_measure_id)
            .push_bind(p.unit_price);
    });
    b.build().execute(conn).await?;
    Ok(())
}

/// Replaces a product's yearly/monthly prices.
pub async fn replace_period_prices(
    conn: &mut PgConnection,
    product_id: &str,
    prices: &[PeriodPriceRow],
) -> sqlx::Result<()> {
    sqlx::query("delete from period_price where product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    if prices.is_empty() {
        return Ok(());
    }
    let mut b =
        QueryBuilder::<Postgres>::new("insert into period_price (product_id, period_type, price) ");
    b.push_values(prices, |mut row, p| {
        row.push_bind(product_id)
            .push_bind(p.period_type)
            .push_bind(p.price);
    });
    b.build().execute(conn).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Capacities (per product and region; no row: unlimited)

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CapacityRow {
    pub product_id: String,
    pub region_code: String,
    pub capacity: i64,
    pub updated_at: DateTime<Utc>,
    /// Copies (`subscription_num`) of live resources of the product in the region.
    pub used: i64,
}

const CAPACITY_COLS: &str = "select c.product_id, c.region_code, c.capacity, c.updated_at,
        coalesce((select sum(r.subscription_num) from order_resource r
                   where r.product_id = c.product_id and r.region_code = c.region_code
                     and r.status <> 3), 0)::bigint as used
   from product_capacity c";

/// Sets a product's capacity in a region.
pub async fn put_capacity(
    conn: &mut PgConnection,
    product_id: &str,
    region_code: &str,
    capacity: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into product_capacity (product_id, region_code, capacity, updated_at)
         values ($1, $2, $3, $4)
         on conflict (product_id, region_code)
         do update set capacity = excluded.capacity, updated_at = excluded.updated_at",
    )
    .bind(product_id)
    .bind(region_code)
    .bind(capacity)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a product's capacity in a region (unlimited again); `false` when there was none.
pub async fn delete_capacity(
    conn: &mut PgConnection,
    product_id: &str,
    region_code: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("delete from product_capacity where product_id = $1 and region_code = $2")
            .bind(product_id)
            .bind(region_code)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A product's capacities, by region, with the copies in use.
pub async fn capacities(
    conn: &mut PgConnection,
    product_id: &str,
) -> sqlx::Result<Vec<CapacityRow>> {
    sqlx::query_as::<_, CapacityRow>(&format!(
        "{CAPACITY_COLS} where c.product_id = $1 order by c.region_code"
    ))
    .bind(product_id)
    .fetch_all(conn)
    .await
}

/// Locks the capacity row of `(product, region)` (waiting for a concurrent payment holding it)
/// and then reads the copies in use — a separate statement, so under READ COMMITTED it sees what
/// the payment that held the lock committed. `None`: no capacity (unlimited).
pub async fn lock_capacity(
    conn: &mut PgConnection,
    product_id: &str,
    region_code: &str,
) -> sqlx::Result<Option<CapacityRow>> {
    let locked: Option<String> = sqlx::query_scalar(
        "select product_id from product_capacity where product_id = $1 and region_code = $2
            for update",
    )
    .bind(product_id)
    .bind(region_code)
    .fetch_optional(&mut *conn)
    .await?;
    if locked.is_none() {
        return Ok(None);
    }
    sqlx::query_as::<_, CapacityRow>(&format!(
        "{CAPACITY_COLS} where c.product_id = $1 and c.region_code = $2"
    ))
    .bind(product_id)
    .bind(region_code)
    .fetch_optional(conn)
    .await
}
