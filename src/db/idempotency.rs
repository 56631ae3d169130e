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

#[derive(serde::Serialize)]
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

/// [`try_lock`] for many (caller, key) pairs in one statement: whether each was taken, in order.
pub async fn try_lock_many(
    conn: &mut PgConnection,
    keys: &[(&str, &str)],
) -> sqlx::Result<Vec<bool>> {
    let callers: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let names: Vec<&str> = keys.iter().map(|k| k.1).collect();
    sqlx::query_scalar(
        "select pg_try_advisory_xact_lock(hashtextextended(t.c || chr(10) || t.k, 0))
           from unnest($1::text[], $2::text[]) with ordinality as t(c, k, n)
          order by t.n",
    )
    .bind(&callers)
    .bind(&names)
    .fetch_all(conn)
    .await
}

/// [`forget_if_older`] then [`find`] for many (caller, key) pairs in one statement: the outcomes
/// still within retention, each with the index of its pair.
pub async fn forget_and_find_many(
    conn: &mut PgConnection,
    keys: &[(&str, &str)],
    before: DateTime<Utc>,
) -> sqlx::Result<Vec<(usize, StoredOutcome)>> {
    let callers: Vec<&str> = keys.iter().map(|k| k.0).collect();
    let names: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let rows: Vec<(i64, String, i16, String)> = sqlx::query_as(
        "with t as (select * from unnest($1::text[], $2::text[]) with ordinality as t(c, k, n)),
              gone as (delete from idempotency_key i using t
                        where i.caller_id = t.c and i.key = t.k and i.created_at < $3)
         select t.n, i.request_hash, i.status, i.body
           from t join idempotency_key i on i.caller_id = t.c and i.key = t.k
          where i.created_at >= $3",
    )
    .bind(&callers)
    .bind(&names)
    .bind(before)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, request_hash, status, body)| {
            (
                n as usize - 1,
                StoredOutcome {
                    request_hash,
                    status,
                    body,
                },
            )
        })
        .collect())
}

/// [`insert`] of many outcomes in one statement.
pub async fn insert_many(conn: &mut PgConnection, rows: &[NewOutcome<'_>]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let callers: Vec<&str> = rows.iter().map(|r| r.caller_id).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.key).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.request_hash).collect();
    let bodies: Vec<&str> = rows.iter().map(|r| r.body).collect();
    let statuses: Vec<i16> = rows.iter().map(|r| r.status).collect();
    let at: Vec<DateTime<Utc>> = rows.iter().map(|r| r.created_at).collect();
    sqlx::query(
        "insert into idempotency_key (caller_id, key, request_hash, status, body, created_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::int2[], $5::text[],
                              $6::timestamptz[])",
    )
    .bind(&callers)
    .bind(&keys)
    .bind(&hashes)
    .bind(&statuses)
    .bind(&bodies)
    .bind(&at)
    .execute(conn)
    .await?;
    Ok(())
}
