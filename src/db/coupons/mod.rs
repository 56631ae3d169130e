//! Partner coupons and their records (business rows); coupon quotas and their records in
//! [`quotas`]. Balances are read from the
//! ledger accounts owned by the quota / coupon ids; only `crate::ledger` writes them.
//!
//! Statuses are stored as set by operations and derived against `now` when read: a normal quota
//! past its expiry reads 3; a not-activated coupon past its valid time reads 2 and a usable or
//! not-activated coupon past its expiry reads 4.

mod quotas;

pub use quotas::*;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

const COUPON_SELECT: &str = "select c.id, c.quota_id, c.partner_id, c.customer_id, c.coupon_type,
        c.face_value,
        (case when c.status in (1, 2) and c.expire_time <= (select t from now_param) then 4
              when c.status = 1 and c.effective_time <= (select t from now_param) then 2
              else c.status end)::smallint as status,
        c.status as stored_status, c.effective_time, c.expire_time, c.memo,
        c.cloud_service_types, c.product_ids, c.created_at, c.updated_at,
        greatest(c.created_at, c.effective_time) as active_time,
        coalesce(la.balance, 0) as balance, q.quota_type,
        cu.association_type, cu.partner_id as customer_partner_id, cu.manager_id
    from partner_coupon c
    left join ledger_account la on la.owner_id = c.id and la.purpose = 'customer_coupon_value'
    join coupon_quota q on q.id = c.quota_id
    left join customer cu on cu.account_id = c.customer_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRow {
    pub id: String,
    pub quota_id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub coupon_type: i16,
    pub face_value: i64,
    /// Derived status (1–5).
    pub status: i16,
    pub stored_status: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub memo: Option<String>,
    pub cloud_service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub active_time: DateTime<Utc>,
    pub balance: i64,
    pub quota_type: i16,
    pub association_type: Option<String>,
    pub customer_partner_id: Option<String>,
    pub manager_id: Option<String>,
}

pub struct NewCoupon<'a> {
    pub id: &'a str,
    pub quota_id: &'a str,
    pub partner_id: &'a str,
    pub customer_id: &'a str,
    pub coupon_type: i16,
    pub face_value: i64,
    pub status: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub memo: Option<&'a str>,
    pub cloud_service_types: &'a [String],
    pub product_ids: &'a [String],
    pub at: DateTime<Utc>,
}

pub async fn insert_coupon(conn: &mut PgConnection, c: &NewCoupon<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into partner_coupon (id, quota_id, partner_id, customer_id, coupon_type,
             face_value, status, effective_time, expire_time, memo, cloud_service_types,
             product_ids, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        c.id,
        c.quota_id,
        c.partner_id,
        c.customer_id,
        c.coupon_type,
        c.face_value,
        c.status,
        c.effective_time,
        c.expire_time,
        c.memo,
        c.cloud_service_types,
        c.product_ids,
        c.at
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn with_now<'a>(now: DateTime<Utc>, select: &str, head: &str) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new("with now_param as (select ");
    b.push_bind(now)
        .push("::timestamptz as t), v as (")
        .push(select)
        .push(format!(") {head} from v where true"));
    b
}

/// One coupon; `lock` takes its row lock.
pub async fn find_coupon(
    conn: &mut PgConnection,
    id: &str,
    now: DateTime<Utc>,
    lock: bool,
) -> sqlx::Result<Option<CouponRow>> {
    let mut b = QueryBuilder::new("with now_param as (select ");
    b.push_bind(now)
        .push("::timestamptz as t) ")
        .push(COUPON_SELECT)
        .push(" where c.id = ")
        .push_bind(id.to_string());
    if lock {
        b.push(" for update of c");
    }
    b.build_query_as::<CouponRow>().fetch_optional(conn).await
}

/// A customer's coupons that can still be reclaimed (stored status 1 or 2, not expired), locked.
pub async fn reclaimable_coupons_of(
    conn: &mut PgConnection,
    customer_id: &str,
    partner_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, String, i16)>> {
    let rows = sqlx::query!(
        "select c.id, c.quota_id, q.quota_type from partner_coupon c
         join coupon_quota q on q.id = c.quota_id
         where c.customer_id = $1 and c.partner_id = $2 and c.status in (1, 2)
           and c.expire_time > $3
         order by c.id for update of c",
        customer_id,
        partner_id,
        now
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.quota_id, r.quota_type))
        .collect())
}

pub async fn set_coupon_status(
    conn: &mut PgConnection,
    id: &str,
    status: i16,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update partner_coupon set status = $2, updated_at = $3 where id = $1",
        id,
        status,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of the coupon lists; `None` = no filter.
#[derive(Debug, Default, Clone)]
pub struct CouponFilter {
    /// Issuing partner (whose quota).
    pub partner_id: Option<String>,
    /// Holder of the coupons (a customer's own view).
    pub holder_id: Option<String>,
    /// Only coupons of the issuer's current resale customers.
    pub resale_only: bool,
    pub manager_ids: Option<Vec<String>>,
    pub coupon_id: Option<String>,
    pub customer_id: Option<String>,
    /// Coupons are not used by orders here: any order id matches nothing.
    pub order_id: Option<String>,
    pub coupon_type: Option<i16>,
    pub status: Option<i16>,
    pub create_begin: Option<DateTime<Utc>>,
    pub create_end: Option<DateTime<Utc>>,
    pub effective_begin: Option<DateTime<Utc>>,
    pub effective_end: Option<DateTime<Utc>>,
    pub expire_begin: Option<DateTime<Utc>>,
    pub expire_end: Option<DateTime<Utc>>,
    pub active_begin: Option<DateTime<Utc>>,
    pub active_end: Option<DateTime<Utc>>,
    /// Leave out coupons that expired before this time.
    pub expired_after: Option<DateTime<Utc>>,
}

fn coupon_query<'a>(
    now: DateTime<Utc>,
    head: &str,
    f: &'a CouponFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut b = with_now(now, COUPON_SELECT, head);
    if let Some(p) = &f.partner_id {
        b.push(" and v.partner_id = ").push_bind(p.clone());
    }
    if let Some(h) = &f.holder_id {
        b.push(" and v.customer_id = ").push_bind(h.clone());
    }
    if f.resale_only {
        b.push(" and v.association_type = '2' and v.customer_partner_id = v.partner_id");
    }
    if let Some(m) = &f.manager_ids {
        b.push(" and v.manager_id = any(")
            .push_bind(m.clone())
            .push(")");
    }
    if let Some(c) = &f.coupon_id {
        b.push(" and v.id = ").push_bind(c.clone());
    }
    if let Some(c) = &f.customer_id {
        b.push(" and v.customer_id = ").push_bind(c.clone());
    }
    if f.order_id.is_some() {
        b.push(" and false");
    }
    if let Some(t) = f.coupon_type {
        b.push(" and v.coupon_type = ").push_bind(t);
    }
    if let Some(s) = f.status {
        b.push(" and v.status = ").push_bind(s);
    }
    let ranges = [
        ("created_at", ">=", f.create_begin),
        ("created_at", "<=", f.create_end),
        ("effective_time", ">=", f.effective_begin),
        ("effective_time", "<=", f.effective_end),
        ("expire_time", ">=", f.expire_begin),
        ("expire_time", "<=", f.expire_end),
        ("active_time", ">=", f.active_begin),
        ("active_time", "<=", f.active_end),
        ("expire_time", ">=", f.expired_after),
    ];
    for (col, op, v) in ranges {
        if let Some(v) = v {
            b.push(format!(" and v.{col} {op} ")).push_bind(v);
        }
    }
    b
}

pub async fn list_coupons(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    f: &CouponFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CouponRow>)> {
    let total: i64 = coupon_query(now, "select count(*)", f)
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await?;
    let mut b = coupon_query(now, "select v.*", f);
    b.push(" order by v.created_at desc, v.id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b.build_query_as::<CouponRow>().fetch_all(conn).await?;
    Ok((total, rows))
}

pub struct NewCouponRecord<'a> {
    pub id: &'a str,
    pub partner_id: &'a str,
    pub issuer_id: &'a str,
    pub operator_id: &'a str,
    pub operation_type: &'a str,
    pub quota_id: &'a str,
    pub quota_type: i16,
    pub coupon_id: Option<&'a str>,
    pub customer_id: &'a str,
    pub amount: i64,
    pub result: &'a str,
    pub remark: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn insert_coupon_record(
    conn: &mut PgConnection,
    r: &NewCouponRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into coupon_record (id, partner_id, issuer_id, operator_id, operation_type,
             quota_id, quota_type, coupon_id, customer_id, amount, result, remark, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        r.id,
        r.partner_id,
        r.issuer_id,
        r.operator_id,
        r.operation_type,
        r.quota_id,
        r.quota_type,
        r.coupon_id,
        r.customer_id,
        r.amount,
        r.result,
        r.remark,
        r.at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponRecordRow {
    pub id: String,
    pub issuer_id: String,
    pub operation_type: String,
    pub quota_id: String,
    pub quota_type: i16,
    pub coupon_id: Option<String>,
    pub customer_id: String,
    pub amount: i64,
    pub result: String,
    pub remark: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone)]
pub struct RecordFilter {
    pub operation_types: Option<Vec<String>>,
    pub quota_id: Option<String>,
    pub quota_type: Option<i16>,
    pub coupon_ids: Option<Vec<String>>,
    pub customer_id: Option<String>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Some(true) successes only, Some(false) failures only.
    pub success: Option<bool>,
    pub manager_ids: Option<Vec<String>>,
}

fn record_query<'a>(
    partner_id: &str,
    head: &str,
    f: &'a RecordFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new(format!("{head} from coupon_record r where r.partner_id = "));
    b.push_bind(partner_id.to_string());
    if let Some(t) = &f.operation_types {
        b.push(" and r.operation_type = any(")
            .push_bind(t.clone())
            .push(")");
    }
    if let Some(q) = &f.quota_id {
        b.push(" and r.quota_id = ").push_bind(q.clone());
    }
    if let Some(t) = f.quota_type {
        b.push(" and r.quota_type = ").push_bind(t);
    }
    if let Some(c) = &f.coupon_ids {
        b.push(" and r.coupon_id = any(")
            .push_bind(c.clone())
            .push(")");
    }
    if let Some(c) = &f.customer_id {
        b.push(" and r.customer_id = ").push_bind(c.clone());
    }
    if let Some(t) = f.begin {
        b.push(" and r.created_at >= ").push_bind(t);
    }
    if let Some(t) = f.end {
        b.push(" and r.created_at <= ").push_bind(t);
    }
    match f.success {
        Some(true) => {
            b.push(" and r.result = '0'");
        }
        Some(false) => {
            b.push(" and r.result <> '0'");
        }
        None => {}
    }
    if let Some(m) = &f.manager_ids {
        b.push(" and r.customer_id in (select account_id from customer where manager_id = any(")
            .push_bind(m.clone())
            .push("))");
    }
    b
}

pub async fn list_coupon_records(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &RecordFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CouponRecordRow>)> {
    let total: i64 = record_query(partner_id, "select count(*)", f)
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await?;
    let mut b = record_query(
        partner_id,
        "select r.id, r.issuer_id, r.operation_type, r.quota_id, r.quota_type, r.coupon_id,
                r.customer_id, r.amount, r.result, r.remark, r.created_at",
        f,
    );
    b.push(" order by r.created_at desc, r.id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b
        .build_query_as::<CouponRecordRow>()
        .fetch_all(conn)
        .await?;
    Ok((total, rows))
}

/// Whether the customer was never un-associated from a partner (a first-time association).
pub async fn is_first_association(
    conn: &mut PgConnection,
    customer_id: &str,
) -> sqlx::Result<bool> {
    let n = sqlx::query_scalar!(
        r#"select count(*) as "n!" from association_event
           where customer_id = $1 and event_type = 'unassociate'"#,
        customer_id
    )
    .fetch_one(conn)
    .await?;
    Ok(n == 0)
}

/// Coupon-value postings of a customer's coupons (its coupon ledger).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CouponChangeRow {
    pub posting_id: i64,
    pub coupon_id: String,
    pub kind: String,
    pub trans_id: String,
    pub amount: i64,
    pub balance_after: i64,
    pub created_at: DateTime<Utc>,
}

pub struct CouponChangeFilter {
    pub kinds: Option<Vec<String>>,
    pub direction: Option<i32>,
    pub trans_id: Option<String>,
    pub coupon_id: Option<String>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

fn change_query<'a>(
    customer_id: &str,
    head: &str,
    f: &'a CouponChangeFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new(format!(
        "{head} from posting p
         join ledger_account la on la.id = p.account_id and la.purpose = 'customer_coupon_value'
         join partner_coupon c on c.id = la.owner_id
         join journal j on j.id = p.journal_id
         where c.customer_id = "
    ));
    b.push_bind(customer_id.to_string());
    if let Some(k) = &f.kinds {
        b.push(" and j.kind = any(").push_bind(k.clone()).push(")");
    }
    if let Some(d) = f.direction {
        b.push(" and sign(p.amount) = ").push_bind(d);
    }
    if let Some(t) = &f.trans_id {
        b.push(" and j.trans_id = ").push_bind(t.clone());
    }
    if let Some(c) = &f.coupon_id {
        b.push(" and c.id = ").push_bind(c.clone());
    }
    b.push(" and p.created_at >= ").push_bind(f.from);
    b.push(" and p.created_at < ").push_bind(f.until);
    b
}

pub async fn list_coupon_changes(
    conn: &mut PgConnection,
    customer_id: &str,
    f: &CouponChangeFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CouponChangeRow>)> {
    let total: i64 = change_query(customer_id, "select count(*)", f)
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await?;
    let mut b = change_query(
        customer_id,
        "select p.id as posting_id, c.id as coupon_id, j.kind, j.trans_id, p.amount,
                p.balance_after, p.created_at",
        f,
    );
    b.push(" order by p.id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b
        .build_query_as::<CouponChangeRow>()
        .fetch_all(conn)
        .await?;
    Ok((total, rows))
}

// ---------------------------------------------------------------------------------------------
// Product catalogue and the flags that gate issuing

/// Of `codes`, those that are not a known cloud service type (in the given order).
pub async fn unknown_service_types(
    conn: &mut PgConnection,
    codes: &[String],
) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query_scalar!(
        r#"select t.code as "code!" from unnest($1::text[]) with ordinality as t (code, n)
           where not exists (select 1 from cloud_service_type s where s.code = t.code)
           order by t.n"#,
        codes
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Of `ids`, those that are not a registered product (in the given order).
pub async fn unknown_products(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    let rows = sqlx::query_scalar!(
        r#"select t.id as "id!" from unnest($1::text[]) with ordinality as t (id, n)
           where not exists (select 1 from product p where p.id = t.id)
           order by t.n"#,
        ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Whether the partner is in "partner coupon usage" mode (it cannot issue vouchers).
pub async fn in_coupon_usage_mode(conn: &mut PgConnection, partner_id: &str) -> sqlx::Result<bool> {
    let v = sqlx::query_scalar!(
        "select coupon_usage_mode from partner where account_id = $1",
        partner_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(v.unwrap_or(false))
}

/// Whether the customer is a financially-custodied enterprise sub-account.
pub async fn is_financially_custodied(
    conn: &mut PgConnection,
    customer_id: &str,
) -> sqlx::Result<bool> {
    let v = sqlx::query_scalar!(
        "select financially_custodied from customer where account_id = $1",
        customer_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(v.unwrap_or(false))
}
