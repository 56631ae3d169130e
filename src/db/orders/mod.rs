//! Orders and their line items (migration 0021), here; the resources paying creates, their events
//! and renewal settings in [`resources`]. Money itself is written only by `crate::ledger`.

mod resources;

pub use resources::*;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// An order, every column (amounts in fen).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct OrderRow {
    pub id: String,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub distributor_id: Option<String>,
    pub association_type: Option<i16>,
    pub manager_id: Option<String>,
    pub order_type: i16,
    pub status: i16,
    pub source_type: i16,
    pub service_type_code: String,
    pub base_order_id: Option<String>,
    pub official_amount: i64,
    pub discount_amount: i64,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub discount_id: Option<String>,
    pub discount_type: Option<i16>,
    pub is_auto_renew: bool,
    pub create_time: DateTime<Utc>,
    pub payment_time: Option<DateTime<Utc>>,
    pub pending_payment_end_time: Option<DateTime<Utc>>,
    pub cancel_time: Option<DateTime<Utc>>,
    pub actor_id: String,
    pub actor_kind: String,
    /// A sub-order of a combined transaction: its parent (migration 0023) and its place (1..n).
    pub parent_order_id: Option<String>,
    pub sub_seq: Option<i16>,
    /// A combined-transaction parent: no line items of its own; its sub-orders have them.
    pub is_combined: bool,
}

/// A line item, every column (amounts in fen).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LineRow {
    pub id: String,
    pub order_id: String,
    pub seq: i16,
    pub resource_id: Option<String>,
    pub is_main: bool,
    pub product_id: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub product_spec_desc: String,
    pub period_type: Option<i16>,
    pub period_num: Option<i32>,
    pub subscription_num: i32,
    pub official_amount: i64,
    pub discount_amount: i64,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub effective_time: Option<DateTime<Utc>>,
    pub expire_time: Option<DateTime<Utc>>,
    pub fee_record_id: Option<String>,
    pub refunded_fee_id: Option<String>,
    pub base_order_id: Option<String>,
}

/// Locks the customer's account row (`for no key update`: rows referencing the account can still be
/// inserted meanwhile), so orders of one customer are created one at a time, then
/// counts its new-purchase orders created at or after `minute_ago` and `day_start` (by the index
/// on `(customer_id, create_time)`; a combined transaction counts once: its sub-orders are not
/// top-level).
pub async fn lock_and_count_recent(
    conn: &mut PgConnection,
    customer_id: &str,
    minute_ago: DateTime<Utc>,
    day_start: DateTime<Utc>,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query("select 1 from account where id = $1 for no key update")
        .bind(customer_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(
        "select count(*) filter (where create_time >= $2), count(*)
           from customer_order
          where customer_id = $1 and order_type = 1 and create_time >= least($2, $3)
            and parent_order_id is null",
    )
    .bind(customer_id)
    .bind(minute_ago)
    .bind(day_start)
    .fetch_one(conn)
    .await
}

pub async fn insert_order(conn: &mut PgConnection, o: &OrderRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into customer_order (id, customer_id, partner_id, distributor_id, association_type,
             manager_id, order_type, status, source_type, service_type_code, base_order_id,
             official_amount, discount_amount, payable, coupon, cash_coupon, card, cash, credit,
             discount_id, discount_type, is_auto_renew, create_time, payment_time,
             pending_payment_end_time, cancel_time, actor_id, actor_kind, parent_order_id, sub_seq,
             is_combined)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)",
    )
    .bind(&o.id)
    .bind(&o.customer_id)
    .bind(&o.partner_id)
    .bind(&o.distributor_id)
    .bind(o.association_type)
    .bind(&o.manager_id)
    .bind(o.order_type)
    .bind(o.status)
    .bind(o.source_type)
    .bind(&o.service_type_code)
    .bind(&o.base_order_id)
    .bind(o.official_amount)
    .bind(o.discount_amount)
    .bind(o.payable)
    .bind(o.coupon)
    .bind(o.cash_coupon)
    .bind(o.card)
    .bind(o.cash)
    .bind(o.credit)
    .bind(&o.discount_id)
    .bind(o.discount_type)
    .bind(o.is_auto_renew)
    .bind(o.create_time)
    .bind(o.payment_time)
    .bind(o.pending_payment_end_time)
    .bind(o.cancel_time)
    .bind(&o.actor_id)
    .bind(&o.actor_kind)
    .bind(&o.parent_order_id)
    .bind(o.sub_seq)
    .bind(o.is_combined)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an order's outcome: status, amounts, discount and times.
pub async fn update_order(conn: &mut PgConnection, o: &OrderRow) -> sqlx::Result<()> {
    sqlx::query(
        "update customer_order set status = $2, official_amount = $3, discount_amount = $4,
                payable = $5, coupon = $6, cash_coupon = $7, card = $8, cash = $9, credit = $10,
                discount_id = $11, discount_type = $12, payment_time = $13, cancel_time = $14
          where id = $1",
    )
    .bind(&o.id)
    .bind(o.status)
    .bind(o.official_amount)
    .bind(o.discount_amount)
    .bind(o.payable)
    .bind(o.coupon)
    .bind(o.cash_coupon)
    .bind(o.card)
    .bind(o.cash)
    .bind(o.credit)
    .bind(&o.discount_id)
    .bind(o.discount_type)
    .bind(o.payment_time)
    .bind(o.cancel_time)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_lines(conn: &mut PgConnection, lines: &[LineRow]) -> sqlx::Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "insert into order_line_item (id, order_id, seq, resource_id, is_main, product_id,
             service_type_code, resource_type_code, region_code, product_spec_desc, period_type,
             period_num, subscription_num, official_amount, discount_amount, payable, coupon,
             cash_coupon, card, cash, credit, effective_time, expire_time, fee_record_id,
             refunded_fee_id, base_order_id) ",
    );
    q.push_values(lines, |mut b, l| {
        b.push_bind(&l.id)
            .push_bind(&l.order_id)
            .push_bind(l.seq)
            .push_bind(&l.resource_id)
            .push_bind(l.is_main)
            .push_bind(&l.product_id)
            .push_bind(&l.service_type_code)
            .push_bind(&l.resource_type_code)
            .push_bind(&l.region_code)
            .push_bind(&l.product_spec_desc)
            .push_bind(l.period_type)
            .push_bind(l.period_num)
            .push_bind(l.subscription_num)
            .push_bind(l.official_amount)
            .push_bind(l.discount_amount)
            .push_bind(l.payable)
            .push_bind(l.coupon)
            .push_bind(l.cash_coupon)
            .push_bind(l.card)
            .push_bind(l.cash)
            .push_bind(l.credit)
            .push_bind(l.effective_time)
            .push_bind(l.expire_time)
            .push_bind(&l.fee_record_id)
            .push_bind(&l.refunded_fee_id)
            .push_bind(&l.base_order_id);
    });
    q.build().execute(conn).await?;
    Ok(())
}

/// Writes a paid line item's outcome.
pub async fn update_line(conn: &mut PgConnection, l: &LineRow) -> sqlx::Result<()> {
    sqlx::query(
        "update order_line_item set resource_id = $2, discount_amount = $3, payable = $4,
                coupon = $5, cash_coupon = $6, card = $7, cash = $8, credit = $9,
                effective_time = $10, expire_time = $11, fee_record_id = $12
          where id = $1",
    )
    .bind(&l.id)
    .bind(&l.resource_id)
    .bind(l.discount_amount)
    .bind(l.payable)
    .bind(l.coupon)
    .bind(l.cash_coupon)
    .bind(l.card)
    .bind(l.cash)
    .bind(l.credit)
    .bind(l.effective_time)
    .bind(l.expire_time)
    .bind(&l.fee_record_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_order(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as("select * from customer_order where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The order locked for a state change; `Err` with SQLSTATE 55P03 when another transaction
/// holds it (a payment in progress).
pub async fn lock_order_nowait(
    conn: &mut PgConnection,
    id: &str,
) -> sqlx::Result<Option<OrderRow>> {
    sqlx::query_as("select * from customer_order where id = $1 for update nowait")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// An order's line items in order, one page.
pub async fn lines(
    conn: &mut PgConnection,
    order_id: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<LineRow>)> {
    let total: i64 = sqlx::query_scalar("select count(*) from order_line_item where order_id = $1")
        .bind(order_id)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as(
        "select * from order_line_item where order_id = $1 order by seq offset $2 limit $3",
    )
    .bind(order_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// The sub-orders of combined transactions `parent_ids`, by parent and item order.
pub async fn sub_orders(
    conn: &mut PgConnection,
    parent_ids: &[String],
) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as(
        "select * from customer_order where parent_order_id = any($1)
          order by parent_order_id, sub_seq",
    )
    .bind(parent_ids)
    .fetch_all(conn)
    .await
}

/// A combined transaction's sub-orders locked for a state change, in item order; `Err` with
/// SQLSTATE 55P03 when another transaction holds one.
pub async fn lock_sub_orders_nowait(
    conn: &mut PgConnection,
    parent_id: &str,
) -> sqlx::Result<Vec<OrderRow>> {
    sqlx::query_as(
        "select * from customer_order where parent_order_id = $1 order by sub_seq
            for update nowait",
    )
    .bind(parent_id)
    .fetch_all(conn)
    .await
}

/// The line items of a combined transaction's sub-orders (item order, then line order), one page.
pub async fn combined_lines(
    conn: &mut PgConnection,
    parent_id: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<LineRow>)> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from order_line_item l join customer_order o on o.id = l.order_id
          where o.parent_order_id = $1",
    )
    .bind(parent_id)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as(
        "select l.* from order_line_item l join customer_order o on o.id = l.order_id
          where o.parent_order_id = $1 order by o.sub_seq, l.seq offset $2 limit $3",
    )
    .bind(parent_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// Whose orders a list reads.
#[derive(Debug, Clone)]
pub enum OrderOwner {
    Customer(String),
    /// Every customer's orders of this (direct) partner.
    Partner(String),
}

/// The filters of `list_customer_orders`; only the given ones reach the SQL.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    pub create_begin: Option<DateTime<Utc>>,
    pub create_end: Option<DateTime<Utc>>,
    pub payment_begin: Option<DateTime<Utc>>,
    pub payment_end: Option<DateTime<Utc>>,
    pub service_type_code: Option<String>,
    pub status: Option<i16>,
    pub order_type: Option<i16>,
    /// `createTime` ascending (else descending).
    pub ascending: bool,
}

fn push_order_filters<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    owner: &'a OrderOwner,
    f: &'a OrderFilter,
) {
    match owner {
        OrderOwner::Customer(id) => q.push(" where o.customer_id = ").push_bind(id),
        OrderOwner::Partner(id) => q.push(" where o.partner_id = ").push_bind(id),
    };
    // Top-level orders only (the list indexes are partial on this): a combined transaction's
    // sub-orders are shown inside their parent's `sub_order_infos`.
    q.push(" and o.parent_order_id is null");
    if let Some(v) = &f.customer_id {
        q.push(" and o.customer_id = ").push_bind(v);
    }
    if let Some(v) = &f.order_id {
        q.push(" and lower(o.id) = lower(").push_bind(v).push(")");
    }
    if let Some(v) = f.create_begin {
        q.push(" and o.create_time >= ").push_bind(v);
    }
    if let Some(v) = f.create_end {
        q.push(" and o.create_time <= ").push_bind(v);
    }
    if let Some(v) = f.payment_begin {
        q.push(" and o.payment_time >= ").push_bind(v);
    }
    if let Some(v) = f.payment_end {
        q.push(" and o.payment_time <= ").push_bind(v);
    }
    if let Some(v) = &f.service_type_code {
        q.push(" and o.service_type_code = ").push_bind(v);
    }
    if let Some(v) = f.status {
        q.push(" and o.status = ").push_bind(v);
    }
    if let Some(v) = f.order_type {
        q.push(" and o.order_type = ").push_bind(v);
    }
}

/// One page of orders, newest first (or oldest with `ascending`), and the exact total.
pub async fn list_orders(
    conn: &mut PgConnection,
    owner: &OrderOwner,
    f: &OrderFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<OrderRow>)> {
    let dir = if f.ascending { "asc" } else { "desc" };
    page(
        conn,
        ("select count(*)", "select o.*"),
        |q| {
            q.push(" from customer_order o");
            push_order_filters(q, owner, f)
        },
        &format!("o.create_time {dir}, o.id {dir}"),
        (offset, limit),
    )
    .await
}

/// The exact count (`selects.0`) and one page (`selects.1`, in `order`) of the rows `from`
/// pushes (its FROM and WHERE clauses): one statement for each, with the same filters.
async fn page<'a, T>(
    conn: &mut PgConnection,
    selects: (&str, &str),
    from: impl Fn(&mut QueryBuilder<'a, Postgres>),
    order: &str,
    (offset, limit): (i64, i64),
) -> sqlx::Result<(i64, Vec<T>)>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut count = QueryBuilder::new(selects.0);
    from(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut rows = QueryBuilder::new(selects.1);
    from(&mut rows);
    rows.push(" order by ")
        .push(order)
        .push(" offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    Ok((total, rows.build_query_as().fetch_all(conn).await?))
}

/// A coupon of the customer as an order payment sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRow {
    pub id: String,
    pub customer_id: String,
    pub kind: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub face_value: i64,
    pub status: i16,
    pub created_at: DateTime<Utc>,
}

/// The customer's vouchers and cash coupons not used up, reclaimed or expired at `now`.
pub async fn live_coupons(
    conn: &mut PgConnection,
    customer_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<CouponRow>> {
    sqlx::query_as(
        "select id, customer_id, coupon_type as kind, effective_time, expire_time,
                cloud_service_types as service_types, product_ids, face_value, status, created_at
           from partner_coupon
          where customer_id = $1 and status in (1, 2) and expire_time > $2
          order by expire_time, id",
    )
    .bind(customer_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Chinese and English names of service and resource type codes: `(code, name_zh, name_en)`.
pub async fn type_names(
    conn: &mut PgConnection,
    codes: &[String],
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "select code, name_zh, name from cloud_service_type where code = any($1)
         union all
         select code, name_zh, name_en from resource_type where code = any($1)",
    )
    .bind(codes)
    .fetch_all(conn)
    .await
}

/// Cancels the pending orders whose payment window ended by `now` (cancelled at the window's end).
pub async fn cancel_unpaid(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update customer_order set status = 4, cancel_time = pending_payment_end_time
          where status = 6 and pending_payment_end_time <= $1",
    )
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}
