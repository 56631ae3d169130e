//! Customer authorisations of partners, their history, and the assume-role request log.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorizationRow {
    pub id: String,
    pub partner_id: String,
    pub customer_id: String,
    pub scope: String,
    pub reason: String,
    pub status: String,
    pub expire_time: Option<DateTime<Utc>>,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by_kind: Option<String>,
}

const COLUMNS: &str = "id, partner_id, customer_id, scope, reason, status, expire_time,
    requested_by, created_at, updated_at, decided_at, decision_reason, ended_at, ended_by_kind";

/// Inserts a pending authorisation; violates `customer_authorization_one_open` when one is
/// already pending or approved for the pair.
pub async fn insert(conn: &mut PgConnection, a: &AuthorizationRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into customer_authorization ({COLUMNS})
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&a.id)
    .bind(&a.partner_id)
    .bind(&a.customer_id)
    .bind(&a.scope)
    .bind(&a.reason)
    .bind(&a.status)
    .bind(a.expire_time)
    .bind(&a.requested_by)
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(a.decided_at)
    .bind(&a.decision_reason)
    .bind(a.ended_at)
    .bind(&a.ended_by_kind)
    .execute(conn)
    .await?;
    Ok(())
}

/// One authorisation, locked for the caller's transaction.
pub async fn lock(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<AuthorizationRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from customer_authorization where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves an authorisation to `status`; `decided` marks an approval or rejection (else an end).
pub struct Transition<'a> {
    pub id: &'a str,
    pub status: &'a str,
    pub at: DateTime<Utc>,
    pub decided: bool,
    pub reason: Option<&'a str>,
    pub ended_by_kind: Option<&'a str>,
}

pub async fn transition(
    conn: &mut PgConnection,
    t: &Transition<'_>,
) -> sqlx::Result<AuthorizationRow> {
    let sql = if t.decided {
        format!(
            "update customer_authorization set status = $2, updated_at = $3, decided_at = $3,
                    decision_reason = $4, ended_by_kind = coalesce($5, ended_by_kind)
             where id = $1 returning {COLUMNS}"
        )
    } else {
        format!(
            "update customer_authorization set status = $2, updated_at = $3, ended_at = $3,
                    ended_by_kind = $5, decision_reason = coalesce(decision_reason, $4)
             where id = $1 returning {COLUMNS}"
        )
    };
    sqlx::query_as(&sql)
        .bind(t.id)
        .bind(t.status)
        .bind(t.at)
        .bind(t.reason)
        .bind(t.ended_by_kind)
        .fetch_one(conn)
        .await
}

/// Marks every approved authorisation whose expiry time is ≤ `now` expired (at its expiry time),
/// optionally only a partner's or a customer's; returns them.
pub async fn expire_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: Option<&str>,
    customer_id: Option<&str>,
) -> sqlx::Result<Vec<AuthorizationRow>> {
    let mut b = QueryBuilder::<Postgres>::new(
        "update customer_authorization set status = 'EXPIRED', updated_at = expire_time,
                ended_at = expire_time, ended_by_kind = 'system'
         where status = 'APPROVED' and expire_time is not null and expire_time <= ",
    );
    b.push_bind(now);
    for (col, v) in [("partner_id", partner_id), ("customer_id", customer_id)] {
        if let Some(v) = v {
            b.push(format!(" and {col} = ")).push_bind(v.to_string());
        }
    }
    b.push(format!(" returning {COLUMNS}"));
    b.build_query_as().fetch_all(conn).await
}

pub struct NewEvent<'a> {
    pub authorization_id: &'a str,
    pub event_type: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: &'a str,
    pub actor_id: &'a str,
    pub actor_kind: &'a str,
    pub reason: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn insert_event(conn: &mut PgConnection, e: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into customer_authorization_event
             (authorization_id, event_type, from_status, to_status, actor_id, actor_kind, reason, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.authorization_id)
    .bind(e.event_type)
    .bind(e.from_status)
    .bind(e.to_status)
    .bind(e.actor_id)
    .bind(e.actor_kind)
    .bind(e.reason)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub event_type: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: String,
    pub actor_kind: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The history of one authorisation, oldest first.
pub async fn events(conn: &mut PgConnection, id: &str) -> sqlx::Result<Vec<EventRow>> {
    sqlx::query_as(
        "select event_type, from_status, to_status, actor_id, actor_kind, reason, at
         from customer_authorization_event where authorization_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// A list's filter: one side's id (the partner's or the customer's), optional customer and
/// status. Each combination is one statement with its own index.
pub struct Filter<'a> {
    pub partner_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub status: Option<&'a str>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, f: &Filter<'_>) {
    let mut sep = " where ";
    for (col, v) in [
        ("partner_id", f.partner_id),
        ("customer_id", f.customer_id),
        ("status", f.status),
    ] {
        if let Some(v) = v {
            b.push(format!("{sep}{col} = ")).push_bind(v.to_string());
            sep = " and ";
        }
    }
}

pub async fn list(
    conn: &mut PgConnection,
    f: &Filter<'_>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<AuthorizationRow>)> {
    let mut count = QueryBuilder::<Postgres>::new("select count(*) from customer_authorization");
    push_where(&mut count, f);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut rows =
        QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from customer_authorization"));
    push_where(&mut rows, f);
    rows.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = rows.build_query_as().fetch_all(conn).await?;
    Ok((total, rows))
}

/// What verifying an assume-role token needs, in one read: the authorisation, whether the
/// partner's account is active and whether the customer is still its resale customer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantRow {
    pub partner_id: String,
    pub customer_id: String,
    pub scope: String,
    pub status: String,
    pub expire_time: Option<DateTime<Utc>>,
    pub partner_active: bool,
    pub still_resale: bool,
}

const GRANT_SELECT: &str = "select a.partner_id, a.customer_id, a.scope, a.status, a.expire_time,
           pa.status = 'active' as partner_active,
           (c.partner_id is not distinct from a.partner_id and c.association_type = '2') as still_resale
    from customer_authorization a
    join account pa on pa.id = a.partner_id
    join customer c on c.account_id = a.customer_id";

pub async fn grant(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<GrantRow>> {
    sqlx::query_as(&format!("{GRANT_SELECT} where a.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The open authorisation of a partner–customer pair (at most one), with its grant facts.
pub async fn open_grant(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
) -> sqlx::Result<Option<(String, GrantRow)>> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from customer_authorization
         where partner_id = $1 and customer_id = $2 and status = 'APPROVED'",
    )
    .bind(partner_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id,)) = row else {
        return Ok(None);
    };
    Ok(grant(conn, &id).await?.map(|g| (id, g)))
}

pub struct NewRequestLog<'a> {
    pub authorization_id: &'a str,
    pub partner_id: &'a str,
    pub customer_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub at: DateTime<Utc>,
}

/// Records a request made with an assume-role token before it runs; returns its id.
pub async fn log_request(conn: &mut PgConnection, r: &NewRequestLog<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into assumed_role_request (authorization_id, partner_id, customer_id, method, path, at)
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(r.authorization_id)
    .bind(r.partner_id)
    .bind(r.customer_id)
    .bind(r.method)
    .bind(r.path)
    .bind(r.at)
    .fetch_one(conn)
    .await
}

/// Completes a logged request with its answer's status.
pub async fn finish_request(conn: &mut PgConnection, id: i64, status: u16) -> sqlx::Result<()> {
    sqlx::query("update assumed_role_request set status = $2 where id = $1")
        .bind(id)
        .bind(status as i16)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestLogRow {
    pub method: String,
    pub path: String,
    pub status: Option<i16>,
    pub at: DateTime<Utc>,
}

/// The requests made under one authorisation, newest first.
pub async fn list_requests(
    conn: &mut PgConnection,
    authorization_id: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<RequestLogRow>)> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from assumed_role_request where authorization_id = $1")
            .bind(authorization_id)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as(
        "select method, path, status, at from assumed_role_request
         where authorization_id = $1 order by at desc, id desc offset $2 limit $3",
    )
    .bind(authorization_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}
