use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// Serialises code requests and checks for one mobile number until the transaction ends.
pub async fn lock_mobile(conn: &mut PgConnection, mobile: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtext('sms:' || $1))",
        mobile
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn count_sent_since(
    conn: &mut PgConnection,
    mobile: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from verification_code where mobile_phone = $1 and created_at > $2"#,
        mobile,
        since
    )
    .fetch_one(conn)
    .await
}

pub struct NewCode<'a> {
    pub mobile_phone: &'a str,
    pub scene: i32,
    pub customer_id: Option<&'a str>,
    pub code: &'a str,
    pub lang: &'a str,
    pub requested_by: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_code(conn: &mut PgConnection, c: &NewCode<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into verification_code (mobile_phone, scene, customer_id, code, lang, requested_by,
                                        created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        c.mobile_phone,
        c.scene,
        c.customer_id,
        c.code,
        c.lang,
        c.requested_by,
        c.created_at,
        c.expires_at
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug)]
pub struct CodeRow {
    pub id: i64,
    pub mobile_phone: String,
    pub scene: i32,
    pub customer_id: Option<String>,
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub failed_attempts: i32,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// The newest unconsumed code for a number and scene, locked for the check.
pub async fn lock_latest_code(
    conn: &mut PgConnection,
    mobile: &str,
    scene: i32,
    customer_id: Option<&str>,
) -> sqlx::Result<Option<CodeRow>> {
    sqlx::query_as!(
        CodeRow,
        "select id, mobile_phone, scene, customer_id, code, created_at, expires_at, failed_attempts,
                consumed_at
         from verification_code
         where mobile_phone = $1 and scene = $2 and consumed_at is null
           and ($3::text is null or customer_id = $3)
         order by created_at desc, id desc limit 1
         for update",
        mobile,
        scene,
        customer_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn record_failed_attempt(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "update verification_code set failed_attempts = failed_attempts + 1 where id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a code used; false when it was already used (a concurrent request won).
pub async fn consume_code(
    conn: &mut PgConnection,
    id: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        "update verification_code set consumed_at = $2 where id = $1 and consumed_at is null",
        id,
        at
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn list_codes(conn: &mut PgConnection, mobile: &str) -> sqlx::Result<Vec<CodeRow>> {
    sqlx::query_as!(
        CodeRow,
        "select id, mobile_phone, scene, customer_id, code, created_at, expires_at, failed_attempts,
                consumed_at
         from verification_code where mobile_phone = $1
         order by created_at desc, id desc limit 100",
        mobile
    )
    .fetch_all(conn)
    .await
}
