//! Sales-expansion tasks.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: String,
    pub partner_id: String,
    pub handler_partner_id: String,
    pub customer_id: String,
    pub task_type: String,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: String,
    pub result: Option<String>,
    pub remark: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, partner_id, handler_partner_id, customer_id, task_type, title,
    description, due_date, status, result, remark, handled_by, handled_at, created_at";

pub async fn insert(conn: &mut PgConnection, t: &TaskRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into sales_task ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
         $12, $13, $14)"
    ))
    .bind(&t.id)
    .bind(&t.partner_id)
    .bind(&t.handler_partner_id)
    .bind(&t.customer_id)
    .bind(&t.task_type)
    .bind(&t.title)
    .bind(&t.description)
    .bind(t.due_date)
    .bind(&t.status)
    .bind(&t.result)
    .bind(&t.remark)
    .bind(&t.handled_by)
    .bind(t.handled_at)
    .bind(t.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: &str, lock: bool) -> sqlx::Result<Option<TaskRow>> {
    let tail = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select {COLUMNS} from sales_task where id = $1{tail}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn mark_done(
    conn: &mut PgConnection,
    id: &str,
    result: &str,
    remark: Option<&str>,
    by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<TaskRow> {
    sqlx::query_as(&format!(
        "update sales_task set status = 'DONE', result = $2, remark = $3, handled_by = $4,
                handled_at = $5
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(result)
    .bind(remark)
    .bind(by)
    .bind(at)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// The caller: tasks on its own customers or handled by it.
    pub partner_id: String,
    pub status: Option<String>,
    pub task_type: Option<String>,
    pub customer_id: Option<String>,
    pub managers: Option<Vec<String>>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, f: &Filter) {
    // Two indexed arms (own customers, handled for resellers), combined by a bitmap OR.
    b.push(" where (partner_id = ")
        .push_bind(f.partner_id.clone())
        .push(" or handler_partner_id = ")
        .push_bind(f.partner_id.clone())
        .push(")");
    for (col, v) in [
        ("status", &f.status),
        ("task_type", &f.task_type),
        ("customer_id", &f.customer_id),
    ] {
        if let Some(v) = v {
            b.push(format!(" and {col} = ")).push_bind(v.clone());
        }
    }
    if let Some(ms) = &f.managers {
        b.push(" and customer_id in (select account_id from customer where manager_id = any(")
            .push_bind(ms.clone())
            .push("))");
    }
}

pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<TaskRow>)> {
    super::opportunities::paged(
        conn,
        COLUMNS,
        "sales_task",
        "created_at desc, id desc",
        |b| push_where(b, f),
        offset,
        limit,
    )
    .await
}
