//! Association events, real-name applications and freezes.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub struct NewEvent<'a> {
    pub customer_id: &'a str,
    pub partner_id: &'a str,
    pub event_type: &'a str,
    pub actor_id: &'a str,
    pub actor_kind: &'a str,
    pub reason: Option<&'a str>,
    pub outcome: &'a str,
    pub from_type: Option<&'a str>,
    pub to_type: Option<&'a str>,
    pub request_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_event(conn: &mut PgConnection, e: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into association_event (customer_id, partner_id, event_type, actor_id, actor_kind,
                                        reason, outcome, from_type, to_type, request_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        e.customer_id,
        e.partner_id,
        e.event_type,
        e.actor_id,
        e.actor_kind,
        e.reason,
        e.outcome,
        e.from_type,
        e.to_type,
        e.request_id,
        e.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The customer row of one partner, locked for a state change.
#[derive(Debug)]
pub struct OwnedCustomer {
    pub account_id: String,
    pub association_type: Option<String>,
    pub verified_status: String,
    pub customer_type: i16,
    pub is_frozen: i16,
}

pub async fn lock_partner_customer(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
) -> sqlx::Result<Option<OwnedCustomer>> {
    sqlx::query_as!(
        OwnedCustomer,
        "select account_id, association_type, verified_status, customer_type, is_frozen
         from customer where account_id = $2 and partner_id = $1 for update",
        partner_id,
        customer_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_frozen(
    conn: &mut PgConnection,
    customer_id: &str,
    is_frozen: i16,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set is_frozen = $2 where account_id = $1",
        customer_id,
        is_frozen
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewApplication<'a> {
    pub customer_id: &'a str,
    pub partner_id: &'a str,
    pub kind: &'a str,
    pub identify_type: i32,
    pub name: &'a str,
    pub verified_number: &'a str,
    pub details: serde_json::Value,
    pub submitted_at: DateTime<Utc>,
}

pub async fn insert_application(
    conn: &mut PgConnection,
    a: &NewApplication<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into realname_application (customer_id, partner_id, kind, identify_type, name,
                                           verified_number, details, submitted_at)
         values ($1, $2, $3, $4, $5, $6, ($7::text)::jsonb, $8) returning id",
        a.customer_id,
        a.partner_id,
        a.kind,
        a.identify_type,
        a.name,
        a.verified_number,
        a.details.to_string(),
        a.submitted_at
    )
    .fetch_one(conn)
    .await
}

pub async fn set_verified_status(
    conn: &mut PgConnection,
    customer_id: &str,
    status: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set verified_status = $2 where account_id = $1",
        customer_id,
        status
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ApplicationRow {
    pub id: i64,
    pub customer_id: String,
    pub partner_id: String,
    pub kind: String,
    pub identify_type: i32,
    pub name: String,
    pub verified_number: String,
    pub status: String,
    pub opinion: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

pub async fn latest_application(
    conn: &mut PgConnection,
    customer_id: &str,
) -> sqlx::Result<Option<ApplicationRow>> {
    sqlx::query_as!(
        ApplicationRow,
        "select id, customer_id, partner_id, kind, identify_type, name, verified_number, status,
                opinion, submitted_at, reviewed_at
         from realname_application where customer_id = $1
         order by submitted_at desc, id desc limit 1",
        customer_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn lock_application(
    conn: &mut PgConnection,
    id: i64,
) -> sqlx::Result<Option<ApplicationRow>> {
    sqlx::query_as!(
        ApplicationRow,
        "select id, customer_id, partner_id, kind, identify_type, name, verified_number, status,
                opinion, submitted_at, reviewed_at
         from realname_application where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn list_applications(
    conn: &mut PgConnection,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ApplicationRow>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from realname_application where ($1::text is null or status = $1)"#,
        status
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        ApplicationRow,
        "select id, customer_id, partner_id, kind, identify_type, name, verified_number, status,
                opinion, submitted_at, reviewed_at
         from realname_application where ($1::text is null or status = $1)
         order by submitted_at, id offset $2 limit $3",
        status,
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

pub async fn finish_review(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    opinion: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update realname_application set status = $2, opinion = $3, reviewed_at = $4 where id = $1",
        id,
        status,
        opinion,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records an approved real-name identity on the customer.
pub async fn set_verified(
    conn: &mut PgConnection,
    customer_id: &str,
    customer_type: i16,
    real_name: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set verified_status = '2', customer_type = $2, real_name = $3,
                             verified_at = coalesce(verified_at, $4)
         where account_id = $1",
        customer_id,
        customer_type,
        real_name,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct TagRow {
    pub customer_id: String,
    pub verified_status: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub registered_here: bool,
}

/// The partner's customers for the new-customer-tag query (`ids` = None ⇒ all), stable order.
pub async fn list_tag_rows(
    conn: &mut PgConnection,
    partner_id: &str,
    ids: Option<&[String]>,
    manager_ids: Option<&[String]>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<Vec<TagRow>> {
    sqlx::query_as!(
        TagRow,
        "select account_id as customer_id, verified_status, verified_at, registered_here
         from customer
         where partner_id = $1 and ($2::text[] is null or account_id = any($2))
           and ($5::text[] is null or manager_id = any($5))
         order by associated_on desc, account_id desc
         offset $3 limit $4",
        partner_id,
        ids,
        offset,
        limit,
        manager_ids
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: i64,
    pub customer_id: String,
    pub partner_id: String,
    pub kind: String,
    pub initiated_by: String,
    pub initiator_id: String,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub struct NewRequest<'a> {
    pub customer_id: &'a str,
    pub partner_id: &'a str,
    pub kind: &'a str,
    pub initiated_by: &'a str,
    pub initiator_id: &'a str,
    pub reason: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_request(conn: &mut PgConnection, r: &NewRequest<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into association_request (customer_id, partner_id, kind, initiated_by, initiator_id,
                                          reason, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        r.customer_id,
        r.partner_id,
        r.kind,
        r.initiated_by,
        r.initiator_id,
        r.reason,
        r.created_at,
        r.expires_at
    )
    .fetch_one(conn)
    .await
}

pub async fn lock_request(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<RequestRow>> {
    sqlx::query_as!(
        RequestRow,
        "select id, customer_id, partner_id, kind, initiated_by, initiator_id, reason, status,
                decided_by, decision_reason, created_at, expires_at, decided_at
         from association_request where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn decide_request(
    conn: &mut PgConnection,
    id: i64,
    status: &str,
    decided_by: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update association_request set status = $2, decided_by = $3, decision_reason = $4, decided_at = $5
         where id = $1",
        id,
        status,
        decided_by,
        reason,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks pending requests past their expiry as expired; returns them.
pub async fn expire_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<RequestRow>> {
    sqlx::query_as!(
        RequestRow,
        "update association_request set status = 'expired', decided_by = 'system', decided_at = $1
         where status = 'pending' and expires_at <= $1
         returning id, customer_id, partner_id, kind, initiated_by, initiator_id, reason, status,
                   decided_by, decision_reason, created_at, expires_at, decided_at",
        now
    )
    .fetch_all(conn)
    .await
}

/// Requests of a partner (`partner_id`) or of a customer (`customer_id`), newest first.
pub async fn list_requests(
    conn: &mut PgConnection,
    partner_id: Option<&str>,
    customer_id: Option<&str>,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<RequestRow>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from association_request
           where ($1::text is null or partner_id = $1) and ($2::text is null or customer_id = $2)
             and ($3::text is null or status = $3)"#,
        partner_id,
        customer_id,
        status
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        RequestRow,
        "select id, customer_id, partner_id, kind, initiated_by, initiator_id, reason, status,
                decided_by, decision_reason, created_at, expires_at, decided_at
         from association_request
         where ($1::text is null or partner_id = $1) and ($2::text is null or customer_id = $2)
           and ($3::text is null or status = $3)
         order by created_at desc, id desc offset $4 limit $5",
        partner_id,
        customer_id,
        status,
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// Ends the association: the customer no longer belongs to any partner.
pub async fn clear_association(conn: &mut PgConnection, customer_id: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set partner_id = null, association_type = null, associated_on = null,
                             manager_id = null
         where account_id = $1",
        customer_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_association_type(
    conn: &mut PgConnection,
    customer_id: &str,
    t: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set association_type = $2 where account_id = $1",
        customer_id,
        t
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct EventRow {
    pub id: i64,
    pub customer_id: String,
    pub customer_name: String,
    pub event_type: String,
    pub actor_id: String,
    pub actor_kind: String,
    pub reason: Option<String>,
    pub outcome: String,
    pub from_type: Option<String>,
    pub to_type: Option<String>,
    pub request_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub struct EventFilter<'a> {
    pub customer_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

pub async fn list_events(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &EventFilter<'_>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<EventRow>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from association_event
           where partner_id = $1 and ($2::text is null or customer_id = $2)
             and ($3::text is null or event_type = $3)
             and ($4::timestamptz is null or created_at >= $4)
             and ($5::timestamptz is null or created_at <= $5)"#,
        partner_id,
        f.customer_id,
        f.event_type,
        f.begin,
        f.end
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        EventRow,
        "select e.id, e.customer_id, a.login_name as customer_name, e.event_type, e.actor_id,
                e.actor_kind, e.reason, e.outcome, e.from_type, e.to_type, e.request_id, e.created_at
         from association_event e join account a on a.id = e.customer_id
         where e.partner_id = $1 and ($2::text is null or e.customer_id = $2)
           and ($3::text is null or e.event_type = $3)
           and ($4::timestamptz is null or e.created_at >= $4)
           and ($5::timestamptz is null or e.created_at <= $5)
         order by e.created_at desc, e.id desc offset $6 limit $7",
        partner_id,
        f.customer_id,
        f.event_type,
        f.begin,
        f.end,
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

pub async fn insert_qr_code(
    conn: &mut PgConnection,
    token: &str,
    customer_id: &str,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into realname_qr_code (token, customer_id, created_at, expires_at) values ($1, $2, $3, $4)",
        token,
        customer_id,
        at,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a code scanned; `None` when it does not exist, was already scanned or has expired.
pub async fn scan_qr_code(
    conn: &mut PgConnection,
    token: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "update realname_qr_code set scanned_at = $2
         where token = $1 and scanned_at is null and expires_at > $2
         returning customer_id",
        token,
        at
    )
    .fetch_optional(conn)
    .await
}
