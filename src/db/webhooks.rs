//! Webhook endpoints, deliveries and attempts (migration 0014).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub partner_id: String,
    pub url: String,
    pub description: String,
    pub types: Option<Vec<String>>,
    pub enabled: bool,
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ENDPOINT_COLUMNS: &str = "id, partner_id, url, description, types, enabled, failing_since, \
     disabled_reason, created_at, updated_at";

pub struct NewEndpoint<'a> {
    pub id: &'a str,
    pub partner_id: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub types: Option<&'a [String]>,
    pub enabled: bool,
    pub secret_nonce: &'a [u8],
    pub secret_ciphertext: &'a [u8],
    pub at: DateTime<Utc>,
}

pub async fn insert_endpoint(conn: &mut PgConnection, e: &NewEndpoint<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into webhook_endpoint (id, partner_id, url, description, types, enabled,
             secret_nonce, secret_ciphertext, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(e.id)
    .bind(e.partner_id)
    .bind(e.url)
    .bind(e.description)
    .bind(e.types)
    .bind(e.enabled)
    .bind(e.secret_nonce)
    .bind(e.secret_ciphertext)
    .bind(e.at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn select_endpoint(
    conn: &mut PgConnection,
    partner_id: &str,
    id: &str,
    suffix: &str,
) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as::<_, EndpointRow>(&format!(
        "select {ENDPOINT_COLUMNS} from webhook_endpoint where partner_id = $1 and id = $2{suffix}"
    ))
    .bind(partner_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn find_endpoint(
    conn: &mut PgConnection,
    partner_id: &str,
    id: &str,
) -> sqlx::Result<Option<EndpointRow>> {
    select_endpoint(conn, partner_id, id, "").await
}

/// Locks the endpoint for a change. `no key update`: the transactions that write deliveries only
/// key-share-lock it (the foreign key), so they are not held up.
pub async fn lock_endpoint(
    conn: &mut PgConnection,
    partner_id: &str,
    id: &str,
) -> sqlx::Result<Option<EndpointRow>> {
    select_endpoint(conn, partner_id, id, " for no key update").await
}

/// (total, page) of a partner's endpoints, oldest first.
pub async fn list_endpoints(
    conn: &mut PgConnection,
    partner_id: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<EndpointRow>)> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from webhook_endpoint where partner_id = $1")
            .bind(partner_id)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as::<_, EndpointRow>(&format!(
        "select {ENDPOINT_COLUMNS} from webhook_endpoint where partner_id = $1
          order by created_at, id offset $2 limit $3"
    ))
    .bind(partner_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

pub struct EndpointUpdate<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub types: Option<&'a [String]>,
    pub enabled: bool,
    pub at: DateTime<Utc>,
}

/// Replaces the endpoint's settings; enabling it clears its failure state.
pub async fn update_endpoint(
    conn: &mut PgConnection,
    id: &str,
    u: &EndpointUpdate<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update webhook_endpoint
            set url = $2, description = $3, types = $4, enabled = $5, updated_at = $6,
                failing_since = case when $5 and not enabled then null else failing_since end,
                disabled_reason = case when $5 then null else disabled_reason end
          where id = $1",
    )
    .bind(id)
    .bind(u.url)
    .bind(u.description)
    .bind(u.types)
    .bind(u.enabled)
    .bind(u.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_secret(
    conn: &mut PgConnection,
    id: &str,
    nonce: &[u8],
    ciphertext: &[u8],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update webhook_endpoint set secret_nonce = $2, secret_ciphertext = $3, updated_at = $4
          where id = $1",
    )
    .bind(id)
    .bind(nonce)
    .bind(ciphertext)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the endpoint with its deliveries and attempts; false when it was not the partner's.
pub async fn delete_endpoint(
    conn: &mut PgConnection,
    partner_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from webhook_endpoint where partner_id = $1 and id = $2")
        .bind(partner_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A new pending delivery of event `seq`, due at `at`; returns its id.
pub async fn insert_delivery(
    conn: &mut PgConnection,
    endpoint_id: &str,
    seq: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into webhook_delivery (endpoint_id, seq, next_attempt_at, created_at)
         values ($1, $2, $3, $3) returning id",
    )
    .bind(endpoint_id)
    .bind(seq)
    .bind(at)
    .fetch_one(conn)
    .await
}

/// A delivery claimed for one attempt, with what it takes to send it.
#[derive(Debug, sqlx::FromRow)]
pub struct ClaimedRow {
    pub delivery_id: i64,
    /// The number of this attempt (1-based).
    pub attempt: i32,
    pub created_at: DateTime<Utc>,
    pub endpoint_id: String,
    pub partner_id: String,
    pub url: String,
    pub secret_nonce: Vec<u8>,
    pub secret_ciphertext: Vec<u8>,
    pub event_id: String,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub event_partner_id: String,
    pub customer_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub data: String,
}

/// Claims up to `limit` due deliveries of enabled endpoints (`FOR UPDATE SKIP LOCKED`, so two
/// replicas never claim the same one) and leases each until `lease_until`: committed on return,
/// the lease keeps every other worker away while the attempt is in flight.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<ClaimedRow>> {
    sqlx::query_as::<_, ClaimedRow>(
        "with due as (
             select d.id from webhook_delivery d
               join webhook_endpoint w on w.id = d.endpoint_id and w.enabled
              where d.status = 'pending' and d.next_attempt_at <= $1
              order by d.next_attempt_at, d.id
              limit $3
              for update of d skip locked
         )
         update webhook_delivery d
            set next_attempt_at = $2, attempts = d.attempts + 1
           from due, webhook_endpoint w, event e
          where d.id = due.id and w.id = d.endpoint_id and e.seq = d.seq
         returning d.id as delivery_id, d.attempts as attempt, d.created_at, w.id as endpoint_id,
                   w.partner_id, w.url, w.secret_nonce, w.secret_ciphertext, e.event_id, e.type,
                   e.partner_id as event_partner_id, e.customer_id, e.occurred_at,
                   e.data::text as data",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub struct AttemptOutcome<'a> {
    pub delivery_id: i64,
    pub endpoint_id: &'a str,
    pub event_id: &'a str,
    pub attempt: i32,
    pub succeeded: bool,
    pub response_code: Option<i32>,
    pub error: Option<&'a str>,
    pub duration_ms: i32,
    pub at: DateTime<Utc>,
    /// The next attempt of a failed one; `None` ends the delivery.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records an attempt and moves its delivery on; false (nothing written) when the delivery is no
/// longer this attempt's (its lease ran out and another attempt took it over).
pub async fn record_attempt(conn: &mut PgConnection, a: &AttemptOutcome<'_>) -> sqlx::Result<bool> {
    let status = if a.succeeded {
        "succeeded"
    } else if a.next_attempt_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    let moved = sqlx::query(
        "update webhook_delivery
            set status = $3, next_attempt_at = $4,
                finished_at = case when $3 = 'pending' then null else $5 end
          where id = $1 and attempts = $2 and status = 'pending'",
    )
    .bind(a.delivery_id)
    .bind(a.attempt)
    .bind(status)
    .bind(a.next_attempt_at)
    .bind(a.at)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "insert into webhook_attempt (delivery_id, endpoint_id, event_id, attempt, status,
             response_code, error, duration_ms, attempted_at, next_attempt_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.delivery_id)
    .bind(a.endpoint_id)
    .bind(a.event_id)
    .bind(a.attempt)
    .bind(if a.succeeded { "succeeded" } else { "failed" })
    .bind(a.response_code)
    .bind(a.error)
    .bind(a.duration_ms)
    .bind(a.at)
    .bind(a.next_attempt_at)
    .execute(conn)
    .await?;
    Ok(true)
}

/// After a success: the endpoint is healthy again.
pub async fn clear_failing(conn: &mut PgConnection, endpoint_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update webhook_endpoint set failing_since = null
          where id = $1 and failing_since is not null",
    )
    .bind(endpoint_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a failure: starts the failure period (if none) and returns its start, locking the row.
pub async fn mark_failing(
    conn: &mut PgConnection,
    endpoint_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<(DateTime<Utc>, bool)>> {
    sqlx::query_as(
        "update webhook_endpoint set failing_since = coalesce(failing_since, $2)
          where id = $1 returning failing_since, enabled",
    )
    .bind(endpoint_id)
    .bind(at)
    .fetch_optional(conn)
    .await
}

pub async fn disable_endpoint(
    conn: &mut PgConnection,
    endpoint_id: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update webhook_endpoint set enabled = false, disabled_reason = $2, updated_at = $3
          where id = $1",
    )
    .bind(endpoint_id)
    .bind(reason)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub event_id: String,
    pub attempt: i32,
    pub status: String,
    pub response_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub attempted_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// (total, page) of an endpoint's attempts, newest first.
pub async fn list_attempts(
    conn: &mut PgConnection,
    endpoint_id: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<AttemptRow>)> {
    let total: i64 =
        sqlx::query_scalar("select count(*) from webhook_attempt where endpoint_id = $1")
            .bind(endpoint_id)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as::<_, AttemptRow>(
        "select id, delivery_id, event_id, attempt, status, response_code, error, duration_ms,
                attempted_at, next_attempt_at
           from webhook_attempt where endpoint_id = $1
          order by id desc offset $2 limit $3",
    )
    .bind(endpoint_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// When the oldest delivery still pending on an enabled endpoint was created.
pub async fn oldest_pending(conn: &mut PgConnection) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "select min(d.created_at) from webhook_delivery d
           join webhook_endpoint w on w.id = d.endpoint_id and w.enabled
          where d.status = 'pending'",
    )
    .fetch_one(conn)
    .await
}
