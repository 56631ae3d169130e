//! Usage ingestion's rows: what a batch needs to rate and pay its records (customers, prices,
//! conversions, coupons and cards), the dedup of usage events, fee records and monthly sums.
//! Money itself is written only by `crate::ledger`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// A customer as a charge sees it: its association at charge time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChargedCustomer {
    pub account_id: String,
    pub partner_id: Option<String>,
    pub distributor_id: Option<String>,
    pub association_type: Option<String>,
    pub manager_id: Option<String>,
    pub partner_discount_rate: Option<Decimal>,
}

pub async fn customers(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<ChargedCustomer>> {
    sqlx::query_as(
        "select c.account_id, c.partner_id, p.distributor_id, c.association_type, c.manager_id,
                c.partner_discount_rate
         from customer c left join partner p on p.account_id = c.partner_id
         where c.account_id = any($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// A product with one of its on-demand prices (`usage_type` null when it has none).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PricedProduct {
    pub product_id: String,
    pub service_type_code: String,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub usage_type: Option<String>,
    pub usage_measure_id: Option<i32>,
    pub unit_price: Option<Decimal>,
}

pub async fn priced_products(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<PricedProduct>> {
    sqlx::query_as(
        "select p.id as product_id, p.cloud_service_type as service_type_code,
                p.resource_type_code, p.region_code, o.usage_type, o.usage_measure_id, o.unit_price
         from product p left join on_demand_price o on o.product_id = p.id
         where p.id = any($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Every measure conversion `(measure_id, ref_measure_id, ratio)`.
pub async fn conversions(conn: &mut PgConnection) -> sqlx::Result<Vec<(i32, i32, i64)>> {
    sqlx::query_as("select measure_id, ref_measure_id, conversion_ratio from measure_conversion")
        .fetch_all(conn)
        .await
}

/// A coupon or card that may pay: `kind` 1 voucher, 4 cash coupon, 0 stored-value card.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BenefitRow {
    pub id: String,
    pub customer_id: String,
    pub kind: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub service_types: Vec<String>,
    pub product_ids: Vec<String>,
}

/// The customers' coupons and cards that are not used up, reclaimed or expired at `now`.
pub async fn benefits(
    conn: &mut PgConnection,
    customer_ids: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<BenefitRow>> {
    sqlx::query_as(
        "select id, customer_id, coupon_type as kind, effective_time, expire_time,
                cloud_service_types as service_types, product_ids
         from partner_coupon
         where customer_id = any($1) and status in (1, 2) and expire_time > $2
         union all
         select id, customer_id, 0::smallint, effective_time, expire_time, '{}', '{}'
         from stored_value_card
         where customer_id = any($1) and status = 1 and expire_time > $2",
    )
    .bind(customer_ids)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Claims usage events (sorted, so concurrent batches lock the keys in one order); returns the
/// event ids that were new. An event already claimed — committed or still in flight — is left
/// alone: the insert waits for an in-flight one and then skips it.
pub async fn claim_events(
    conn: &mut PgConnection,
    events: &[(String, String)],
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<String>> {
    let (ids, fees): (Vec<String>, Vec<String>) = events.iter().cloned().unzip();
    sqlx::query_scalar(
        "insert into usage_event (event_id, fee_record_id, created_at)
         select e, f, $3 from unnest($1::text[], $2::text[]) as t(e, f) order by e
         on conflict (event_id) do nothing
         returning event_id",
    )
    .bind(ids)
    .bind(fees)
    .bind(at)
    .fetch_all(conn)
    .await
}

/// The fee record each already-charged event produced.
pub async fn charged_events(
    conn: &mut PgConnection,
    event_ids: &[String],
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("select event_id, fee_record_id from usage_event where event_id = any($1)")
        .bind(event_ids)
        .fetch_all(conn)
        .await
}

/// Creates the monthly partitions of these cycles when missing.
pub async fn ensure_partitions(conn: &mut PgConnection, cycles: &[NaiveDate]) -> sqlx::Result<()> {
    for c in cycles {
        sqlx::query("select fee_record_partition($1)")
            .bind(c)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A fee record to write (amounts in fen unless decimal).
#[derive(Debug, Clone)]
pub struct NewFeeRecord {
    pub id: String,
    pub cycle: NaiveDate,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub distributor_id: Option<String>,
    pub association_type: Option<i16>,
    pub manager_id: Option<String>,
    pub event_id: Option<String>,
    pub original_id: Option<String>,
    pub bill_type: i16,
    pub charging_mode: i16,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub product_id: String,
    pub usage_type: Option<String>,
    pub usage: Option<Decimal>,
    pub usage_measure_id: Option<i32>,
    pub unit_price: Option<Decimal>,
    pub price_measure_id: Option<i32>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub trade_time: DateTime<Utc>,
    pub trade_id: String,
    pub official_amount: Decimal,
    pub discount_amount: Decimal,
    pub erase_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub reason: Option<String>,
}

impl NewFeeRecord {
    /// Summary bill type of the monthly sums: 1 consumption, 2 refund, 3 adjustment.
    pub fn summary_bill_type(&self) -> i16 {
        match self.bill_type {
            4 | 20 | 24 => 2,
            9 | 16 => 3,
            _ => 1,
        }
    }
}

/// Rows per statement: 39 binds a row stays under PostgreSQL's 65,535 parameters.
const FEE_ROWS_PER_STATEMENT: usize = 1_000;

pub async fn insert_fee_records(conn: &mut PgConnection, rs: &[NewFeeRecord]) -> sqlx::Result<()> {
    for chunk in rs.chunks(FEE_ROWS_PER_STATEMENT) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "insert into fee_record (id, cycle, customer_id, partner_id, distributor_id,
                 association_type, manager_id, event_id, original_id, bill_type, charging_mode,
                 service_type_code, resource_type_code, region_code, product_id, usage_type, usage,
                 usage_measure_id, unit_price, price_measure_id, resource_id, resource_name,
                 enterprise_project_id, begin_time, end_time, trade_time, trade_id,
                 official_amount, discount_amount, erase_amount, payable, coupon, cash_coupon,
                 card, cash, credit, debt, writeoff, reason) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(&r.id)
                .push_bind(r.cycle)
                .push_bind(&r.customer_id)
                .push_bind(&r.partner_id)
                .push_bind(&r.distributor_id)
                .push_bind(r.association_type)
                .push_bind(&r.manager_id)
                .push_bind(&r.event_id)
                .push_bind(&r.original_id)
                .push_bind(r.bill_type)
                .push_bind(r.charging_mode)
                .push_bind(&r.service_type_code)
                .push_bind(&r.resource_type_code)
                .push_bind(&r.region_code)
                .push_bind(&r.product_id)
                .push_bind(&r.usage_type)
                .push_bind(r.usage)
                .push_bind(r.usage_measure_id)
                .push_bind(r.unit_price)
                .push_bind(r.price_measure_id)
                .push_bind(&r.resource_id)
                .push_bind(&r.resource_name)
                .push_bind(&r.enterprise_project_id)
                .push_bind(r.begin_time)
                .push_bind(r.end_time)
                .push_bind(r.trade_time)
                .push_bind(&r.trade_id)
                .push_bind(r.official_amount)
                .push_bind(r.discount_amount)
                .push_bind(r.erase_amount)
                .push_bind(r.payable)
                .push_bind(r.coupon)
                .push_bind(r.cash_coupon)
                .push_bind(r.card)
                .push_bind(r.cash)
                .push_bind(r.credit)
                .push_bind(r.debt)
                .push_bind(r.writeoff)
                .push_bind(&r.reason);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// The key of a monthly-sum row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SumKey {
    pub cycle: NaiveDate,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub distributor_id: Option<String>,
    pub association_type: Option<i16>,
    pub manager_id: Option<String>,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub charging_mode: i16,
    pub bill_type: i16,
    pub enterprise_project_id: Option<String>,
}

/// What fee records add to a monthly-sum row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SumDelta {
    pub official_amount: Decimal,
    pub discount_amount: Decimal,
    pub erase_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub records: i64,
}

/// The monthly-sum deltas of fee records, sorted by key (so concurrent upserts lock rows in one
/// order).
pub fn sum_deltas(rs: &[NewFeeRecord]) -> Vec<(SumKey, SumDelta)> {
    let mut m: std::collections::BTreeMap<SumKey, SumDelta> = Default::default();
    for r in rs {
        let k = SumKey {
            cycle: r.cycle,
            customer_id: r.customer_id.clone(),
            partner_id: r.partner_id.clone(),
            distributor_id: r.distributor_id.clone(),
            association_type: r.association_type,
            manager_id: r.manager_id.clone(),
            service_type_code: r.service_type_code.clone(),
            resource_type_code: r.resource_type_code.clone(),
            charging_mode: r.charging_mode,
            bill_type: r.summary_bill_type(),
            enterprise_project_id: r.enterprise_project_id.clone(),
        };
        let d = m.entry(k).or_default();
        d.official_amount += r.official_amount;
        d.discount_amount += r.discount_amount;
        d.erase_amount += r.erase_amount;
        d.payable += r.payable;
        d.coupon += r.coupon;
        d.cash_coupon += r.cash_coupon;
        d.card += r.card;
        d.cash += r.cash;
        d.credit += r.credit;
        d.debt += r.debt;
        d.writeoff += r.writeoff;
        d.records += 1;
    }
    m.into_iter().collect()
}

/// Adds the fee records to their monthly sums (one upsert statement per chunk, in key order).
pub async fn add_to_sums(conn: &mut PgConnection, rs: &[NewFeeRecord]) -> sqlx::Result<()> {
    let deltas = sum_deltas(rs);
    for chunk in deltas.chunks(2_000) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "insert into bill_sum (cycle, customer_id, partner_id, distributor_id, association_type,
                 manager_id, service_type_code, resource_type_code, charging_mode, bill_type,
                 enterprise_project_id, official_amount, discount_amount, erase_amount, payable,
                 coupon, cash_coupon, card, cash, credit, debt, writeoff, records) ",
        );
        q.push_values(chunk, |mut b, (k, d)| {
            b.push_bind(k.cycle)
                .push_bind(&k.customer_id)
                .push_bind(&k.partner_id)
                .push_bind(&k.distributor_id)
                .push_bind(k.association_type)
                .push_bind(&k.manager_id)
                .push_bind(&k.service_type_code)
                .push_bind(&k.resource_type_code)
                .push_bind(k.charging_mode)
                .push_bind(k.bill_type)
                .push_bind(&k.enterprise_project_id)
                .push_bind(d.official_amount)
                .push_bind(d.discount_amount)
                .push_bind(d.erase_amount)
                .push_bind(d.payable)
                .push_bind(d.coupon)
                .push_bind(d.cash_coupon)
                .push_bind(d.card)
                .push_bind(d.cash)
                .push_bind(d.credit)
                .push_bind(d.debt)
                .push_bind(d.writeoff)
                .push_bind(d.records);
        });
        q.push(
            " on conflict on constraint bill_sum_key do update set
                 official_amount = bill_sum.official_amount + excluded.official_amount,
                 discount_amount = bill_sum.discount_amount + excluded.discount_amount,
                 erase_amount = bill_sum.erase_amount + excluded.erase_amount,
                 payable = bill_sum.payable + excluded.payable,
                 coupon = bill_sum.coupon + excluded.coupon,
                 cash_coupon = bill_sum.cash_coupon + excluded.cash_coupon,
                 card = bill_sum.card + excluded.card,
                 cash = bill_sum.cash + excluded.cash,
                 credit = bill_sum.credit + excluded.credit,
                 debt = bill_sum.debt + excluded.debt,
                 writeoff = bill_sum.writeoff + excluded.writeoff,
                 records = bill_sum.records + excluded.records",
        );
        q.build().execute(&mut *conn).await?;
    }
    // The daily performance and consumption rollups (migration 0017), in the same transaction.
    crate::db::performance::add_to_days(conn, rs).await
}

/// Marks coupons used up (status 3) and cards used up (status 2) whose balance reached 0, and
/// usable again those a refund gave money back to.
pub async fn set_benefit_status(
    conn: &mut PgConnection,
    used_up: &[String],
    refilled: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    if !used_up.is_empty() {
        sqlx::query(
            "update partner_coupon set status = 3, updated_at = $2 where id = any($1) and status in (1, 2)",
        )
        .bind(used_up)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("update stored_value_card set status = 2 where id = any($1) and status = 1")
            .bind(used_up)
            .execute(&mut *conn)
            .await?;
    }
    if !refilled.is_empty() {
        sqlx::query(
            "update partner_coupon set status = 2, updated_at = $2 where id = any($1) and status = 3",
        )
        .bind(refilled)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("update stored_value_card set status = 1 where id = any($1) and status = 2")
            .bind(refilled)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One fee record (for an adjustment), by its id and cycle.
pub async fn fee_record(
    conn: &mut PgConnection,
    cycle: NaiveDate,
    id: &str,
) -> sqlx::Result<Option<FeeRow>> {
    sqlx::query_as("select * from fee_record where cycle = $1 and id = $2")
        .bind(cycle)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A stored fee record, every column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeeRow {
    pub id: String,
    pub cycle: NaiveDate,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub distributor_id: Option<String>,
    pub association_type: Option<i16>,
    pub manager_id: Option<String>,
    pub event_id: Option<String>,
    pub original_id: Option<String>,
    pub bill_type: i16,
    pub charging_mode: i16,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub product_id: String,
    pub usage_type: Option<String>,
    pub usage: Option<Decimal>,
    pub usage_measure_id: Option<i32>,
    pub unit_price: Option<Decimal>,
    pub price_measure_id: Option<i32>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub trade_time: DateTime<Utc>,
    pub trade_id: String,
    pub official_amount: Decimal,
    pub discount_amount: Decimal,
    pub erase_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub reason: Option<String>,
}

/// A stored-value card with its balance (fen) from the ledger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardRow {
    pub id: String,
    pub card_name: String,
    pub status: i16,
    pub face_value: i64,
    pub balance: i64,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
}

/// A customer's cards of one status, nearest expiry first, and their count.
pub async fn cards(
    conn: &mut PgConnection,
    customer_id: &str,
    status: i16,
    card_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CardRow>)> {
    let mut c: QueryBuilder<Postgres> =
        QueryBuilder::new("select count(*) from stored_value_card s where s.customer_id = ");
    c.push_bind(customer_id)
        .push(" and s.status = ")
        .push_bind(status);
    if let Some(id) = card_id {
        c.push(" and s.id = ").push_bind(id);
    }
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "select s.id, s.card_name, s.status, s.face_value, coalesce(a.balance, 0) as balance,
                s.effective_time, s.expire_time
         from stored_value_card s
         left join ledger_account a on a.owner_id = s.id and a.purpose = 'stored_value_card'
         where s.customer_id = ",
    );
    q.push_bind(customer_id)
        .push(" and s.status = ")
        .push_bind(status);
    if let Some(id) = card_id {
        q.push(" and s.id = ").push_bind(id);
    }
    q.push(" order by s.expire_time, s.id offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok((total, rows))
}

/// Stored-value card rows.
pub async fn insert_card(
    conn: &mut PgConnection,
    id: &str,
    customer_id: &str,
    card_name: &str,
    face_fen: i64,
    effective: DateTime<Utc>,
    expire: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into stored_value_card (id, customer_id, card_name, face_value, status,
                                        effective_time, expire_time, created_at)
         values ($1, $2, $3, $4, 1, $5, $6, $5)",
    )
    .bind(id)
    .bind(customer_id)
    .bind(card_name)
    .bind(face_fen)
    .bind(effective)
    .bind(expire)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_discount_rate(
    conn: &mut PgConnection,
    customer_id: &str,
    rate: Option<Decimal>,
) -> sqlx::Result<()> {
    sqlx::query("update customer set partner_discount_rate = $2 where account_id = $1")
        .bind(customer_id)
        .bind(rate)
        .execute(conn)
        .await?;
    Ok(())
}

/// The ids of the refund/adjustment rows of a charge.
pub async fn refund_ids(conn: &mut PgConnection, original_id: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select id from fee_record where original_id = $1")
        .bind(original_id)
        .fetch_all(conn)
        .await
}

/// `(coupon id, coupon_type)` of these coupons.
pub async fn coupon_kinds(
    conn: &mut PgConnection,
    coupon_ids: &[String],
) -> sqlx::Result<Vec<(String, i16)>> {
    sqlx::query_as("select id, coupon_type from partner_coupon where id = any($1)")
        .bind(coupon_ids)
        .fetch_all(conn)
        .await
}
