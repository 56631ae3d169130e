//! Customer authorisations (申请客户授权): a partner asks one of its resale customers for the
//! right to act on its behalf (scope `order` or `order_and_resource`); the customer approves or
//! rejects; either side revokes. Every state change is recorded with its actor and time.
//!
//! * Only the partner's main account asks, lists and revokes on the partner side (operators are
//!   refused by the permission table), only for its own resale (`"2"`) customers.
//! * At most one authorisation per partner and customer is open (pending or approved).
//! * An approved authorisation with an `expire_time` expires at that time by the app clock:
//!   lazily on every read and by [`expire_overdue`] (a rule of `time_rules::run_all`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        authorizations::{AuthorizationRow, EventRow, Filter, GrantRow, NewEvent, Transition},
    },
    domain::assume_role::Scope,
    error::{codes, is_constraint, ApiError, ApiResult, Code},
    service::auth::{CustomerCaller, PartnerCaller},
    state::App,
};

fn not_found() -> ApiError {
    ApiError::business(
        codes::AUTHORIZATION_NOT_FOUND,
        "The authorisation does not exist.",
    )
}

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not your sub-customer.",
    )
}

/// 403: no approved, unexpired authorisation (assume-role requests and tokens).
pub fn no_authorization() -> ApiError {
    ApiError::new(
        Code::Forbidden(codes::NO_AUTHORIZATION),
        "No approved, unexpired authorisation of this customer exists for the partner.",
    )
}

/// Records an expiry of each row (at its expiry time, by the system).
async fn record_expired(conn: &mut PgConnection, rows: &[AuthorizationRow]) -> ApiResult<()> {
    for r in rows {
        let at = r.expire_time.unwrap_or(r.updated_at);
        db::authorizations::insert_event(
            conn,
            &NewEvent {
                authorization_id: &r.id,
                event_type: "expired",
                from_status: Some("APPROVED"),
                to_status: "EXPIRED",
                actor_id: "system",
                actor_kind: "system",
                reason: None,
                at,
            },
        )
        .await?;
    }
    Ok(())
}

/// Expires what is due for a partner or a customer (the lazy half of the expiry rule).
async fn expire_for(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: Option<&str>,
    customer_id: Option<&str>,
) -> ApiResult<()> {
    let rows = db::authorizations::expire_due(conn, now, partner_id, customer_id).await?;
    record_expired(conn, &rows).await
}

/// The expiry rule: every approved authorisation whose `expire_time` is ≤ now becomes
/// `EXPIRED` (recorded at its expiry time). Returns how many.
pub async fn expire_overdue(app: &App) -> ApiResult<u64> {
    let mut tx = app.db.begin().await?;
    let rows = db::authorizations::expire_due(&mut tx, app.now(), None, None).await?;
    record_expired(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(rows.len() as u64)
}

pub struct NewAuthorization {
    pub customer_id: String,
    pub scope: Scope,
    pub reason: String,
    pub expire_time: Option<DateTime<Utc>>,
}

/// The partner asks one of its resale customers for an authorisation (status `PENDING`).
pub async fn request(
    app: &App,
    caller: &PartnerCaller,
    input: NewAuthorization,
) -> ApiResult<AuthorizationRow> {
    let now = app.now();
    if input.expire_time.is_some_and(|t| t <= now) {
        return Err(ApiError::invalid("expire_time", "must be later than now"));
    }
    let mut tx = app.db.begin().await?;
    let c = db::customers::find_customer(&mut tx, &input.customer_id)
        .await?
        .filter(|c| c.partner_id.as_deref() == Some(caller.account_id.as_str()))
        .ok_or_else(not_sub_customer)?;
    if c.association_type.as_deref() != Some("2") {
        return Err(ApiError::business(
            codes::ASSOCIATION_TYPE_NOT_ALLOWED,
            "Only a resale customer can authorise its partner (this customer is advisory).",
        ));
    }
    expire_for(
        &mut tx,
        now,
        Some(&caller.account_id),
        Some(&input.customer_id),
    )
    .await?;
    let row = AuthorizationRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        partner_id: caller.account_id.clone(),
        customer_id: input.customer_id,
        scope: input.scope.as_str().to_string(),
        reason: input.reason,
        status: "PENDING".into(),
        expire_time: input.expire_time,
        requested_by: caller.actor_id().to_string(),
        created_at: now,
        updated_at: now,
        decided_at: None,
        decision_reason: None,
        ended_at: None,
        ended_by_kind: None,
    };
    db::authorizations::insert(&mut tx, &row)
        .await
        .map_err(|e| {
            if is_constraint(&e, "customer_authorization_one_open") {
                ApiError::business(
                    codes::AUTHORIZATION_OPEN_EXISTS,
                    "An authorisation of this customer is already pending or approved; revoke it first.",
                )
            } else {
                e.into()
            }
        })?;
    db::authorizations::insert_event(
        &mut tx,
        &NewEvent {
            authorization_id: &row.id,
            event_type: "requested",
            from_status: None,
            to_status: "PENDING",
            actor_id: caller.actor_id(),
            actor_kind: "partner",
            reason: Some(&row.reason),
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub struct ListQuery {
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// One side of an authorisation acting on it.
pub enum Side<'a> {
    Partner(&'a PartnerCaller),
    Customer(&'a CustomerCaller),
}

impl Side<'_> {
    fn owns(&self, r: &AuthorizationRow) -> bool {
        match self {
            Side::Partner(p) => r.partner_id == p.account_id,
            Side::Customer(c) => r.customer_id == c.account_id,
        }
    }
    fn actor(&self) -> (&str, &'static str) {
        match self {
            Side::Partner(p) => (p.actor_id(), "partner"),
            Side::Customer(c) => (c.actor_id(), "customer"),
        }
    }
}

/// The side's authorisations (the partner's may be filtered by customer), newest first.
pub async fn list(
    app: &App,
    side: Side<'_>,
    q: &ListQuery,
) -> ApiResult<(i64, Vec<AuthorizationRow>)> {
    let (partner_id, customer_id) = match &side {
        Side::Partner(p) => (Some(p.account_id.as_str()), q.customer_id.as_deref()),
        Side::Customer(c) => (None, Some(c.account_id.as_str())),
    };
    let mut tx = app.db.begin().await?;
    let due_customer = if partner_id.is_none() {
        customer_id
    } else {
        None
    };
    expire_for(&mut tx, app.now(), partner_id, due_customer).await?;
    let r = db::authorizations::list(
        &mut tx,
        &Filter {
            partner_id,
            customer_id,
            status: q.status.as_deref(),
        },
        q.offset,
        q.limit,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Locks an authorisation the caller's side may see, with its due expiry applied.
async fn lock_own(
    conn: &mut PgConnection,
    side: &Side<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<AuthorizationRow> {
    let r = db::authorizations::lock(conn, id)
        .await?
        .filter(|r| side.owns(r))
        .ok_or_else(not_found)?;
    if r.status == "APPROVED" && r.expire_time.is_some_and(|t| t <= now) {
        expire_for(conn, now, Some(&r.partner_id), Some(&r.customer_id)).await?;
        return db::authorizations::lock(conn, id)
            .await?
            .ok_or_else(not_found);
    }
    Ok(r)
}

async fn change(
    conn: &mut PgConnection,
    side: &Side<'_>,
    r: &AuthorizationRow,
    event_type: &str,
    to: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> ApiResult<AuthorizationRow> {
    let (actor_id, actor_kind) = side.actor();
    let decided = matches!(event_type, "approved" | "rejected");
    let done = db::authorizations::transition(
        conn,
        &Transition {
            id: &r.id,
            status: to,
            at: now,
            decided,
            reason,
            ended_by_kind: (!decided).then_some(actor_kind),
        },
    )
    .await?;
    db::authorizations::insert_event(
        conn,
        &NewEvent {
            authorization_id: &r.id,
            event_type,
            from_status: Some(&r.status),
            to_status: to,
            actor_id,
            actor_kind,
            reason,
            at: now,
        },
    )
    .await?;
    Ok(done)
}

/// The customer approves or rejects a pending authorisation.
pub async fn customer_decide(
    app: &App,
    caller: &CustomerCaller,
    id: &str,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<AuthorizationRow> {
    let now = app.now();
    let side = Side::Customer(caller);
    let mut tx = app.db.begin().await?;
    let r = lock_own(&mut tx, &side, id, now).await?;
    if r.status != "PENDING" {
        return Err(ApiError::business(
            codes::AUTHORIZATION_NOT_PENDING,
            format!(
                "Only a pending authorisation can be approved or rejected (status {}).",
                r.status
            ),
        ));
    }
    if approve && r.expire_time.is_some_and(|t| t <= now) {
        return Err(ApiError::business(
            codes::AUTHORIZATION_NOT_PENDING,
            "The authorisation's expire_time has passed; it can only be rejected.",
        ));
    }
    let (event, to) = if approve {
        ("approved", "APPROVED")
    } else {
        ("rejected", "REJECTED")
    };
    let done = change(&mut tx, &side, &r, event, to, reason, now).await?;
    tx.commit().await?;
    Ok(done)
}

/// Either side revokes a pending (withdrawn) or approved authorisation.
pub async fn revoke(
    app: &App,
    side: Side<'_>,
    id: &str,
    reason: Option<&str>,
) -> ApiResult<AuthorizationRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let r = lock_own(&mut tx, &side, id, now).await?;
    if !matches!(r.status.as_str(), "PENDING" | "APPROVED") {
        return Err(ApiError::business(
            codes::AUTHORIZATION_NOT_REVOCABLE,
            format!(
                "Only a pending or approved authorisation can be revoked (status {}).",
                r.status
            ),
        ));
    }
    let done = change(&mut tx, &side, &r, "revoked", "REVOKED", reason, now).await?;
    tx.commit().await?;
    // Tokens re-check the authorisation on every request; this replica's cached callers go too.
    app.callers.clear();
    Ok(done)
}

/// One of the partner's authorisations with its history.
pub async fn partner_detail(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<(AuthorizationRow, Vec<EventRow>)> {
    let mut tx = app.db.begin().await?;
    let r = lock_own(&mut tx, &Side::Partner(caller), id, app.now()).await?;
    let events = db::authorizations::events(&mut tx, id).await?;
    tx.commit().await?;
    Ok((r, events))
}

/// The requests made with assume-role tokens under one of the partner's or the customer's
/// authorisations, newest first.
pub async fn requests_made(
    app: &App,
    side: Side<'_>,
    id: &str,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<db::authorizations::RequestLogRow>)> {
    let mut conn = app.db.acquire().await?;
    let visible = db::authorizations::grant(&mut conn, id)
        .await?
        .is_some_and(|g| match &side {
            Side::Partner(p) => g.partner_id == p.account_id,
            Side::Customer(c) => g.customer_id == c.account_id,
        });
    if !visible {
        return Err(not_found());
    }
    Ok(db::authorizations::list_requests(&mut conn, id, offset, limit).await?)
}

/// Whether a grant is in force at `now`: approved, unexpired, the partner active and the
/// customer still its resale customer.
fn in_force(g: &GrantRow, now: DateTime<Utc>) -> bool {
    g.status == "APPROVED"
        && g.expire_time.is_none_or(|t| t > now)
        && g.partner_active
        && g.still_resale
}

/// The approved authorisation that lets `partner_id` assume `customer_id`'s role: its id, scope
/// and expiry. Otherwise 403 CBC.99014005.
pub async fn grant_to_assume(
    app: &App,
    partner_id: &str,
    customer_id: &str,
) -> ApiResult<(String, Scope, Option<DateTime<Utc>>)> {
    let mut conn = app.db.acquire().await?;
    let (id, g) = db::authorizations::open_grant(&mut conn, partner_id, customer_id)
        .await?
        .ok_or_else(no_authorization)?;
    if !in_force(&g, app.now()) {
        return Err(no_authorization());
    }
    let scope =
        Scope::parse(&g.scope).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad scope")))?;
    Ok((id, scope, g.expire_time))
}

/// Re-checks the authorisation behind an assume-role token (every request: a revocation takes
/// effect at once on every replica). Returns its current scope.
pub async fn check_grant(
    app: &App,
    authorization_id: &str,
    partner_id: &str,
    customer_id: &str,
) -> ApiResult<Scope> {
    let mut conn = app.db.acquire().await?;
    let g = db::authorizations::grant(&mut conn, authorization_id)
        .await?
        .filter(|g| g.partner_id == partner_id && g.customer_id == customer_id)
        .ok_or_else(no_authorization)?;
    if !in_force(&g, app.now()) {
        return Err(no_authorization());
    }
    Scope::parse(&g.scope).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad scope")))
}

/// Logs a request made with an assume-role token before it runs.
pub async fn log_request(
    app: &App,
    caller: &CustomerCaller,
    method: &str,
    path: &str,
) -> ApiResult<Option<i64>> {
    let Some(acting) = &caller.acting else {
        return Ok(None);
    };
    let mut conn = app.db.acquire().await?;
    let id = db::authorizations::log_request(
        &mut conn,
        &db::authorizations::NewRequestLog {
            authorization_id: &acting.authorization_id,
            partner_id: &acting.partner_id,
            customer_id: &caller.account_id,
            method,
            path,
            at: app.now(),
        },
    )
    .await?;
    Ok(Some(id))
}

/// Completes a logged request with its answer's status.
pub async fn finish_request(app: &App, id: i64, status: u16) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    db::authorizations::finish_request(&mut conn, id, status).await?;
    Ok(())
}
