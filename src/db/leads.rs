//! Leads (线索) and their follow-ups.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeadRow {
    pub id: String,
    pub partner_id: String,
    pub origin: String,
    pub status: String,
    pub company: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub industry: Option<String>,
    pub description: Option<String>,
    pub manager_id: Option<String>,
    pub converted_customer_id: Option<String>,
    pub converted_opportunity_id: Option<String>,
    pub close_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, partner_id, origin, status, company, contact_name, phone, email,
    industry, description, manager_id, converted_customer_id, converted_opportunity_id,
    close_reason, created_by, created_at, updated_at";

pub async fn insert(conn: &mut PgConnection, l: &LeadRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into lead ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
         $13, $14, $15, $16, $17)"
    ))
    .bind(&l.id)
    .bind(&l.partner_id)
    .bind(&l.origin)
    .bind(&l.status)
    .bind(&l.company)
    .bind(&l.contact_name)
    .bind(&l.phone)
    .bind(&l.email)
    .bind(&l.industry)
    .bind(&l.description)
    .bind(&l.manager_id)
    .bind(&l.converted_customer_id)
    .bind(&l.converted_opportunity_id)
    .bind(&l.close_reason)
    .bind(&l.created_by)
    .bind(l.created_at)
    .bind(l.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the mutable columns back (the caller holds the row lock).
pub async fn update(conn: &mut PgConnection, l: &LeadRow) -> sqlx::Result<()> {
    sqlx::query(
        "update lead set status = $2, manager_id = $3, converted_customer_id = $4,
            converted_opportunity_id = $5, close_reason = $6, updated_at = $7
         where id = $1",
    )
    .bind(&l.id)
    .bind(&l.status)
    .bind(&l.manager_id)
    .bind(&l.converted_customer_id)
    .bind(&l.converted_opportunity_id)
    .bind(&l.close_reason)
    .bind(l.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: &str, lock: bool) -> sqlx::Result<Option<LeadRow>> {
    let tail = if lock { " for update" } else { "" };
    sqlx::query_as(&format!("select {COLUMNS} from lead where id = $1{tail}"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub partner_id: String,
    pub status: Option<String>,
    pub origin: Option<String>,
    pub manager_id: Option<String>,
    pub managers: Option<Vec<String>>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, f: &Filter) {
    b.push(" where partner_id = ")
        .push_bind(f.partner_id.clone());
    for (col, v) in [
        ("status", &f.status),
        ("origin", &f.origin),
        ("manager_id", &f.manager_id),
    ] {
        if let Some(v) = v {
            b.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(ms) = &f.managers {
        b.push(" and manager_id = any(")
            .push_bind(ms.clone())
            .push(")");
    }
}

pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<LeadRow>)> {
    super::opportunities::paged(
        conn,
        COLUMNS,
        "lead",
        "updated_at desc, id desc",
        |b| push_where(b, f),
        offset,
        limit,
    )
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUpRow {
    pub actor_id: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_follow_up(
    conn: &mut PgConnection,
    lead_id: &str,
    actor_id: &str,
    content: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into lead_follow_up (lead_id, actor_id, content, created_at) values ($1, $2, $3, $4)",
    )
    .bind(lead_id)
    .bind(actor_id)
    .bind(content)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn follow_ups(conn: &mut PgConnection, lead_id: &str) -> sqlx::Result<Vec<FollowUpRow>> {
    sqlx::query_as(
        "select actor_id, content, created_at from lead_follow_up where lead_id = $1 order by id",
    )
    .bind(lead_id)
    .fetch_all(conn)
    .await
}

/// The partner's marketing plan (`1.0` | `2.0`).
pub async fn marketing_plan(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select marketing_plan from partner where account_id = $1")
        .bind(partner_id)
        .fetch_optional(conn)
        .await
}

pub async fn set_marketing_plan(
    conn: &mut PgConnection,
    partner_id: &str,
    plan: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query("update partner set marketing_plan = $2 where account_id = $1")
        .bind(partner_id)
        .bind(plan)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}
