//! Stored outcomes of requests that carried an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Takes the per-(caller, key) transaction-scoped advisory lock without waiting; `false` when
/// another transaction is processing the same key right now.
pub async fn try_lock(conn: &mut PgConnection, caller_id: &str, key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock(hashtextextended($1 || chr(10) || $2, 0)) as "locked!""#,
        caller_id,
        key
    )
    .fetch_one(conn)
    .await
}

pub struct StoredOutcome {
    pub request_hash: String,
    pub status: i16,
    pub body: String,
}

pub async fn find(
    conn: &mut PgConnection,
    caller_id: &str,
    key: &str,
) -> sqlx::Result<Option<StoredOutcome>> {
    sqlx::query_as!(
        StoredOutcome,
        "select request_hash, status, body from idempotency_key where caller_id = $1 and key = $2",
        caller_id,
        key
    )
    .fetch_optional(conn)
    .await
}

pub struct NewOutcome<'a> {
    pub caller_id: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status: i16,
    pub body: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, o: &NewOutcome<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into idempotency_key (caller_id, key, request_hash, status, body, created_at)
         values ($1, $2, $3, $4, $5, $6)",
        o.caller_id,
        o.key,
        o.request_hash,
        o.status,
        o.body,
        o.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets this key's outcome when it was stored before `before` (retention over).
pub async fn forget_if_older(
    conn: &mut PgConnection,
    caller_id: &str,
    key: &str,
    before: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from idempotency_key where caller_id = $1 and key = $2 and created_at < $3",
        caller_id,
        key,
        before
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every outcome stored before `before`; returns how many.
pub async fn sweep(conn: &mut PgConnection, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!("delete from idempotency_key where created_at < $1", before)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
