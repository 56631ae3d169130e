//! Opportunities, their history and the working-day calendar.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpportunityRow {
    pub id: String,
    pub partner_id: String,
    pub origin: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub indirect_partner_id: Option<String>,
    pub prospect_name: Option<String>,
    pub prospect_industry: Option<String>,
    pub customer_key: String,
    pub title: String,
    pub industry: Option<String>,
    pub opportunity_type: Option<String>,
    pub stage: Option<String>,
    pub confidence: Option<i16>,
    pub expected_monthly_revenue: Option<i64>,
    pub expected_close_date: Option<NaiveDate>,
    pub product_line: Option<String>,
    pub products: Vec<String>,
    pub description: Option<String>,
    pub next_step: Option<String>,
    pub technical_exchange: Option<String>,
    pub test_status: Option<String>,
    pub customer_consent: bool,
    pub manager_id: Option<String>,
    pub created_by: String,
    pub reason: Option<String>,
    pub duplicate_of: Option<String>,
    pub accept_deadline: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, partner_id, origin, status, customer_id, indirect_partner_id,
    prospect_name, prospect_industry, customer_key, title, industry, opportunity_type, stage,
    confidence, expected_monthly_revenue, expected_close_date, product_line, products, description,
    next_step, technical_exchange, test_status, customer_consent, manager_id, created_by, reason,
    duplicate_of, accept_deadline, approved_at, closed_at, version, created_at, updated_at";

pub async fn insert(conn: &mut PgConnection, o: &OpportunityRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into opportunity ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29,
         $30, $31, $32, $33)"
    ))
    .bind(&o.id)
    .bind(&o.partner_id)
    .bind(&o.origin)
    .bind(&o.status)
    .bind(&o.customer_id)
    .bind(&o.indirect_partner_id)
    .bind(&o.prospect_name)
    .bind(&o.prospect_industry)
    .bind(&o.customer_key)
    .bind(&o.title)
    .bind(&o.industry)
    .bind(&o.opportunity_type)
    .bind(&o.stage)
    .bind(o.confidence)
    .bind(o.expected_monthly_revenue)
    .bind(o.expected_close_date)
    .bind(&o.product_line)
    .bind(&o.products)
    .bind(&o.description)
    .bind(&o.next_step)
    .bind(&o.technical_exchange)
    .bind(&o.test_status)
    .bind(o.customer_consent)
    .bind(&o.manager_id)
    .bind(&o.created_by)
    .bind(&o.reason)
    .bind(&o.duplicate_of)
    .bind(o.accept_deadline)
    .bind(o.approved_at)
    .bind(o.closed_at)
    .bind(o.version)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every mutable column of `o` back (the caller holds the row lock).
pub async fn update(conn: &mut PgConnection, o: &OpportunityRow) -> sqlx::Result<()> {
    sqlx::query(
        "update opportunity set status = $2, title = $3, industry = $4, opportunity_type = $5,
            stage = $6, confidence = $7, expected_monthly_revenue = $8, expected_close_date = $9,
            product_line = $10, products = $11, description = $12, next_step = $13,
            technical_exchange = $14, test_status = $15, reason = $16, duplicate_of = $17,
            approved_at = $18, closed_at = $19, version = $20, updated_at = $21,
            prospect_name = $22, prospect_industry = $23, customer_key = $24,
            customer_consent = $25
         where id = $1",
    )
    .bind(&o.id)
    .bind(&o.status)
    .bind(&o.title)
    .bind(&o.industry)
    .bind(&o.opportunity_type)
    .bind(&o.stage)
    .bind(o.confidence)
    .bind(o.expected_monthly_revenue)
    .bind(o.expected_close_date)
    .bind(&o.product_line)
    .bind(&o.products)
    .bind(&o.description)
    .bind(&o.next_step)
    .bind(&o.technical_exchange)
    .bind(&o.test_status)
    .bind(&o.reason)
    .bind(&o.duplicate_of)
    .bind(o.approved_at)
    .bind(o.closed_at)
    .bind(o.version)
    .bind(o.updated_at)
    .bind(&o.prospect_name)
    .bind(&o.prospect_industry)
    .bind(&o.customer_key)
    .bind(o.customer_consent)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<OpportunityRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from opportunity where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<OpportunityRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from opportunity where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Serialises the duplicate rule per customer and product line (transaction-scoped).
pub async fn lock_dedup_key(
    conn: &mut PgConnection,
    customer_key: &str,
    product_line: &str,
) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 12))")
        .bind(format!("{customer_key}\u{1f}{product_line}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Registrations of the customer and product line holding their place (other than `except_id`):
/// (id, origin, created_at, approved_at).
pub async fn place_holders(
    conn: &mut PgConnection,
    customer_key: &str,
    product_line: &str,
    except_id: &str,
) -> sqlx::Result<Vec<(String, String, DateTime<Utc>, Option<DateTime<Utc>>)>> {
    sqlx::query_as(
        "select id, origin, created_at, approved_at from opportunity
         where customer_key = $1 and product_line = $2 and id <> $3
           and status in ('APPROVED', 'PENDING_ACCEPTANCE', 'ACCEPTED', 'WON')",
    )
    .bind(customer_key)
    .bind(product_line)
    .bind(except_id)
    .fetch_all(conn)
    .await
}

pub struct NewEvent<'a> {
    pub opportunity_id: &'a str,
    pub action: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub changes: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

pub async fn insert_event(conn: &mut PgConnection, e: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into opportunity_event (opportunity_id, action, from_status, to_status, actor_kind,
            actor_id, reason, changes, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.opportunity_id)
    .bind(e.action)
    .bind(e.from_status)
    .bind(e.to_status)
    .bind(e.actor_kind)
    .bind(e.actor_id)
    .bind(e.reason)
    .bind(&e.changes)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub changes: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

pub async fn events(conn: &mut PgConnection, id: &str) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "select action, from_status, to_status, actor_kind, actor_id, reason, changes, created_at
         from opportunity_event where opportunity_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// The filters of an opportunity list; each is served by an index led by `partner_id` (or by
/// `status` for the vendor's list without a partner).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub partner_id: Option<String>,
    pub origin: Option<String>,
    pub status: Option<String>,
    pub stage: Option<String>,
    pub customer_id: Option<String>,
    pub manager_id: Option<String>,
    /// A manager's or supervisor's scope: only these managers' opportunities.
    pub managers: Option<Vec<String>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, f: &Filter) {
    b.push(" where true");
    if let Some(v) = &f.partner_id {
        b.push(" and partner_id = ").push_bind(v.clone());
    }
    let eq = [
        ("origin", &f.origin),
        ("status", &f.status),
        ("stage", &f.stage),
        ("customer_id", &f.customer_id),
        ("manager_id", &f.manager_id),
    ];
    for (col, v) in eq {
        if let Some(v) = v {
            b.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(ms) = &f.managers {
        b.push(" and manager_id = any(")
            .push_bind(ms.clone())
            .push(")");
    }
    if let Some(t) = f.updated_from {
        b.push(" and updated_at >= ").push_bind(t);
    }
    if let Some(t) = f.updated_to {
        b.push(" and updated_at <= ").push_bind(t);
    }
}

/// (total_count, one page newest-updated first).
pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<OpportunityRow>)> {
    paged(
        conn,
        COLUMNS,
        "opportunity",
        "updated_at desc, id desc",
        |b| push_where(b, f),
        offset,
        limit,
    )
    .await
}

/// One page of `select {columns} from {from} <where> order by {order}` and the total count of
/// the same `where` (which `push_where` appends, starting with " where").
pub async fn paged<T>(
    conn: &mut PgConnection,
    columns: &str,
    from: &str,
    order: &str,
    push_where: impl Fn(&mut QueryBuilder<'_, Postgres>),
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<T>)>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut count = QueryBuilder::new(format!("select count(*) from {from}"));
    push_where(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut b = QueryBuilder::new(format!("select {columns} from {from}"));
    push_where(&mut b);
    b.push(format!(" order by {order} offset "))
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b.build_query_as().fetch_all(conn).await?;
    Ok((total, rows))
}

/// Locks the HO opportunities past their acceptance deadline (of one partner, or all).
pub async fn lock_overdue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<OpportunityRow>> {
    let mut b = QueryBuilder::new(format!(
        "select {COLUMNS} from opportunity where status = 'PENDING_ACCEPTANCE' and accept_deadline <= "
    ));
    b.push_bind(now);
    if let Some(p) = partner_id {
        b.push(" and partner_id = ").push_bind(p.to_string());
    }
    b.push(" order by accept_deadline limit ")
        .push_bind(limit)
        .push(" for update skip locked");
    let rows = b.build_query_as().fetch_all(conn).await?;
    Ok(rows)
}

/// Calendar exceptions between two dates (inclusive).
pub async fn calendar(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<(NaiveDate, String, String)>> {
    sqlx::query_as(
        "select day, kind, name from calendar_day where day between $1 and $2 order by day",
    )
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

pub async fn upsert_calendar_day(
    conn: &mut PgConnection,
    day: NaiveDate,
    kind: &str,
    name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into calendar_day (day, kind, name) values ($1, $2, $3)
         on conflict (day) do update set kind = excluded.kind, name = excluded.name",
    )
    .bind(day)
    .bind(kind)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_calendar_day(conn: &mut PgConnection, day: NaiveDate) -> sqlx::Result<bool> {
    let r = sqlx::query("delete from calendar_day where day = $1")
        .bind(day)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A customer's partner, association and manager (for registering an opportunity).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerLink {
    pub partner_id: Option<String>,
    pub manager_id: Option<String>,
}

pub async fn customer_link(
    conn: &mut PgConnection,
    customer_id: &str,
) -> sqlx::Result<Option<CustomerLink>> {
    sqlx::query_as("select partner_id, manager_id from customer where account_id = $1")
        .bind(customer_id)
        .fetch_optional(conn)
        .await
}
