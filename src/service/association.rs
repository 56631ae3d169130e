//! The life of a partner–customer association: switching between advisory ("1") and resale ("2"),
//! un-association by either side with the other side's consent, expiry of unanswered requests,
//! and the association records.
//!
//! * Leaving resale (2 → 1) is the partner's decision and immediate: the customer's balance goes
//!   back to the partner (`SOURCE_OPERATION_BEUNBIND`).
//! * Entering resale (1 → 2) needs the customer's consent: a request.
//! * Un-association needs the other side's consent: a request. On approval the balance goes back
//!   to the partner, the customer leaves the partner's lists and can no longer be funded; its
//!   adjust and association records stay with the partner.
//! * A request unanswered for [`REQUEST_TTL_DAYS`] days expires (checked whenever requests are
//!   read or acted on).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use crate::{
    db::{self, lifecycle::RequestRow},
    domain::AssociationType,
    error::{codes, ApiError, ApiResult, Code},
    service::{
        auth::{CustomerCaller, PartnerCaller},
        coupons, funding, organisation, partners,
    },
    state::App,
};

pub const REQUEST_TTL_DAYS: i64 = 7;

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not your sub-customer.",
    )
}

fn no_request() -> ApiError {
    ApiError::business(
        codes::ACCOUNT_NOT_FOUND,
        "The association request does not exist.",
    )
}

fn pending_exists() -> ApiError {
    ApiError::new(
        Code::ParameterInvalid,
        "An association request for this customer is already pending.",
    )
}

struct Event<'a> {
    customer_id: &'a str,
    partner_id: &'a str,
    event_type: &'a str,
    actor_id: &'a str,
    actor_kind: &'a str,
    reason: Option<&'a str>,
    outcome: &'a str,
    from_type: Option<&'a str>,
    to_type: Option<&'a str>,
    request_id: Option<i64>,
}

async fn event(conn: &mut PgConnection, at: DateTime<Utc>, e: Event<'_>) -> ApiResult<()> {
    let record = db::lifecycle::NewEvent {
        customer_id: e.customer_id,
        partner_id: e.partner_id,
        event_type: e.event_type,
        actor_id: e.actor_id,
        actor_kind: e.actor_kind,
        reason: e.reason,
        outcome: e.outcome,
        from_type: e.from_type,
        to_type: e.to_type,
        request_id: e.request_id,
        created_at: at,
    };
    db::lifecycle::insert_event(conn, &record).await?;
    crate::service::events::association_recorded(conn, &record).await
}

/// The association-request expiry rule (a rule of `time_rules::run_all`; reads apply it too).
pub async fn expire_overdue(app: &App) -> ApiResult<u64> {
    let mut tx = app.db.begin().await?;
    let n = expire_due(&mut tx, app.now()).await?;
    tx.commit().await?;
    Ok(n)
}

/// Expires unanswered requests (and records it); returns how many.
async fn expire_due(conn: &mut PgConnection, now: DateTime<Utc>) -> ApiResult<u64> {
    let rows = db::lifecycle::expire_due(conn, now).await?;
    for r in &rows {
        event(
            conn,
            now,
            Event {
                customer_id: &r.customer_id,
                partner_id: &r.partner_id,
                event_type: "request_expired",
                actor_id: "system",
                actor_kind: "system",
                reason: None,
                outcome: "expired",
                from_type: None,
                to_type: None,
                request_id: Some(r.id),
            },
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

pub enum SwitchOutcome {
    /// 2 → 1 done; the balance returned under this transaction id (if there was one).
    Completed { trans_id: Option<String> },
    /// 1 → 2 waits for the customer.
    Pending { request: Box<RequestRow> },
}

pub async fn switch_type(
    app: &App,
    caller: &PartnerCaller,
    customer_id: &str,
    to: AssociationType,
    reason: &str,
    indirect_partner_id: Option<&str>,
) -> ApiResult<SwitchOutcome> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, now).await?;
    let acting = partners::resolve_acting(&mut tx, caller, indirect_partner_id).await?;
    let c = db::lifecycle::lock_partner_customer(&mut tx, &acting.partner_id, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    organisation::ensure_in_scope(&mut tx, caller, &acting.partner_id, customer_id).await?;
    let from = c.association_type.clone().unwrap_or_default();
    if from == to.code() {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "The customer already has this association type.",
        ));
    }
    let outcome = match to {
        AssociationType::Advisory => {
            let trans_id = funding::unbind_balance(
                app,
                &mut tx,
                caller.actor_id(),
                &acting.partner_id,
                customer_id,
            )
            .await?;
            // Leaving reseller mode also reclaims the customer's usable partner coupons.
            coupons::unbind_coupons(
                app,
                &mut tx,
                caller.actor_id(),
                &acting.partner_id,
                customer_id,
                true,
            )
            .await?;
            db::lifecycle::set_association_type(&mut tx, customer_id, to.code()).await?;
            event(
                &mut tx,
                now,
                Event {
                    customer_id,
                    partner_id: &acting.partner_id,
                    event_type: "switch_type",
                    actor_id: caller.actor_id(),
                    actor_kind: "partner",
                    reason: Some(reason),
                    outcome: "completed",
                    from_type: Some(&from),
                    to_type: Some(to.code()),
                    request_id: None,
                },
            )
            .await?;
            SwitchOutcome::Completed { trans_id }
        }
        AssociationType::Resale => {
            let request = open_request(
                &mut tx,
                now,
                &acting.partner_id,
                customer_id,
                "switch_to_resale",
                "partner",
                caller.actor_id(),
                reason,
            )
            .await?;
            SwitchOutcome::Pending {
                request: Box::new(request),
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

#[expect(clippy::too_many_arguments, reason = "one row's fields, all required")]
async fn open_request(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    partner_id: &str,
    customer_id: &str,
    kind: &str,
    initiated_by: &str,
    initiator_id: &str,
    reason: &str,
) -> ApiResult<RequestRow> {
    let id = db::lifecycle::insert_request(
        conn,
        &db::lifecycle::NewRequest {
            customer_id,
            partner_id,
            kind,
            initiated_by,
            initiator_id,
            reason,
            created_at: now,
            expires_at: now + Duration::days(REQUEST_TTL_DAYS),
        },
    )
    .await
    .map_err(|e| {
        if crate::error::is_constraint(&e, "association_request_one_pending") {
            pending_exists()
        } else {
            e.into()
        }
    })?;
    event(
        conn,
        now,
        Event {
            customer_id,
            partner_id,
            event_type: if kind == "unassociate" {
                "unassociate_request"
            } else {
                "switch_request"
            },
            actor_id: initiator_id,
            actor_kind: initiated_by,
            reason: Some(reason),
            outcome: "pending",
            from_type: None,
            to_type: (kind == "switch_to_resale").then_some("2"),
            request_id: Some(id),
        },
    )
    .await?;
    db::lifecycle::lock_request(conn, id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("request vanished")))
}

/// The partner asks to end the association; the customer decides.
pub async fn partner_requests_unassociation(
    app: &App,
    caller: &PartnerCaller,
    customer_id: &str,
    reason: &str,
    indirect_partner_id: Option<&str>,
) -> ApiResult<RequestRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, now).await?;
    let acting = partners::resolve_acting(&mut tx, caller, indirect_partner_id).await?;
    db::lifecycle::lock_partner_customer(&mut tx, &acting.partner_id, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    organisation::ensure_in_scope(&mut tx, caller, &acting.partner_id, customer_id).await?;
    let r = open_request(
        &mut tx,
        now,
        &acting.partner_id,
        customer_id,
        "unassociate",
        "partner",
        caller.actor_id(),
        reason,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// The customer asks to leave its partner; the partner decides.
pub async fn customer_requests_unassociation(
    app: &App,
    caller: &CustomerCaller,
    reason: &str,
) -> ApiResult<RequestRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, now).await?;
    let c = db::customers::find_customer(&mut tx, &caller.account_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("customer row missing")))?;
    let partner_id = c.partner_id.ok_or_else(|| {
        ApiError::new(
            Code::ParameterInvalid,
            "The customer is not associated with a partner.",
        )
    })?;
    let r = open_request(
        &mut tx,
        now,
        &partner_id,
        &caller.account_id,
        "unassociate",
        "customer",
        &caller.account_id,
        reason,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

/// Who answers a request.
pub enum Decider<'a> {
    Partner(&'a PartnerCaller),
    Customer(&'a CustomerCaller),
}

/// Approves or rejects a pending request. Only the other side of the request may answer it; a
/// request the caller cannot see does not exist for it.
pub async fn decide(
    app: &App,
    decider: Decider<'_>,
    request_id: i64,
    approve: bool,
    reason: Option<&str>,
) -> ApiResult<RequestRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, now).await?;
    let r = db::lifecycle::lock_request(&mut tx, request_id)
        .await?
        .ok_or_else(no_request)?;
    let (side, actor_id) = match decider {
        Decider::Customer(c) => {
            if r.customer_id != c.account_id {
                return Err(no_request());
            }
            ("customer", c.account_id.clone())
        }
        Decider::Partner(p) => {
            let own = r.partner_id == p.account_id
                || (p.is_distributor()
                    && partners::resolve_acting(&mut tx, p, Some(&r.partner_id))
                        .await
                        .is_ok());
            if !own {
                return Err(no_request());
            }
            organisation::ensure_in_scope(&mut tx, p, &r.partner_id, &r.customer_id)
                .await
                .map_err(|_| no_request())?;
            ("partner", p.actor_id().to_string())
        }
    };
    if r.initiated_by == side {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Access denied: the other side answers this request.",
        ));
    }
    if r.status != "pending" {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            format!("The request is no longer pending (status {}).", r.status),
        ));
    }
    if approve {
        match r.kind.as_str() {
            "unassociate" => {
                let c =
                    db::lifecycle::lock_partner_customer(&mut tx, &r.partner_id, &r.customer_id)
                        .await?
                        .ok_or_else(not_sub_customer)?;
                let trans_id = if c.association_type.as_deref() == Some("2") {
                    funding::unbind_balance(app, &mut tx, &actor_id, &r.partner_id, &r.customer_id)
                        .await?
                } else {
                    None
                };
                // Un-association reclaims the customer's usable partner coupons.
                coupons::unbind_coupons(
                    app,
                    &mut tx,
                    &actor_id,
                    &r.partner_id,
                    &r.customer_id,
                    false,
                )
                .await?;
                db::lifecycle::clear_association(&mut tx, &r.customer_id).await?;
                event(
                    &mut tx,
                    now,
                    Event {
                        customer_id: &r.customer_id,
                        partner_id: &r.partner_id,
                        event_type: "unassociate",
                        actor_id: &actor_id,
                        actor_kind: side,
                        reason,
                        outcome: "completed",
                        from_type: c.association_type.as_deref(),
                        to_type: None,
                        request_id: Some(r.id),
                    },
                )
                .await?;
                tracing::info!(customer_id = %r.customer_id, partner_id = %r.partner_id, ?trans_id, "association ended");
            }
            _ => {
                db::lifecycle::lock_partner_customer(&mut tx, &r.partner_id, &r.customer_id)
                    .await?
                    .ok_or_else(not_sub_customer)?;
                db::lifecycle::set_association_type(&mut tx, &r.customer_id, "2").await?;
                event(
                    &mut tx,
                    now,
                    Event {
                        customer_id: &r.customer_id,
                        partner_id: &r.partner_id,
                        event_type: "switch_type",
                        actor_id: &actor_id,
                        actor_kind: side,
                        reason,
                        outcome: "completed",
                        from_type: Some("1"),
                        to_type: Some("2"),
                        request_id: Some(r.id),
                    },
                )
                .await?;
            }
        }
    } else {
        event(
            &mut tx,
            now,
            Event {
                customer_id: &r.customer_id,
                partner_id: &r.partner_id,
                event_type: "request_rejected",
                actor_id: &actor_id,
                actor_kind: side,
                reason,
                outcome: "rejected",
                from_type: None,
                to_type: None,
                request_id: Some(r.id),
            },
        )
        .await?;
    }
    db::lifecycle::decide_request(
        &mut tx,
        r.id,
        if approve { "approved" } else { "rejected" },
        &actor_id,
        reason,
        now,
    )
    .await?;
    let done = db::lifecycle::lock_request(&mut tx, r.id)
        .await?
        .ok_or_else(no_request)?;
    tx.commit().await?;
    Ok(done)
}

pub struct RequestQuery {
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

pub async fn partner_requests(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    q: &RequestQuery,
) -> ApiResult<(i64, Vec<RequestRow>)> {
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, app.now()).await?;
    let acting = partners::resolve_acting(&mut tx, caller, indirect_partner_id).await?;
    if let Some(c) = q.customer_id.as_deref() {
        if organisation::ensure_in_scope(&mut tx, caller, &acting.partner_id, c)
            .await
            .is_err()
        {
            return Ok((0, Vec::new()));
        }
    }
    let r = db::lifecycle::list_requests(
        &mut tx,
        Some(&acting.partner_id),
        q.customer_id.as_deref(),
        q.status.as_deref(),
        q.offset,
        q.limit,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

pub async fn customer_requests(
    app: &App,
    caller: &CustomerCaller,
    q: &RequestQuery,
) -> ApiResult<(i64, Vec<RequestRow>)> {
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, app.now()).await?;
    let r = db::lifecycle::list_requests(
        &mut tx,
        None,
        Some(&caller.account_id),
        q.status.as_deref(),
        q.offset,
        q.limit,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

pub struct RecordQuery {
    pub customer_id: Option<String>,
    pub event_type: Option<String>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub offset: i64,
    pub limit: i64,
}

/// Association records of the acting partner (kept after the customer leaves).
pub async fn records(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    q: &RecordQuery,
) -> ApiResult<(i64, Vec<db::lifecycle::EventRow>)> {
    let mut tx = app.db.begin().await?;
    expire_due(&mut tx, app.now()).await?;
    let acting = partners::resolve_acting(&mut tx, caller, indirect_partner_id).await?;
    let r = db::lifecycle::list_events(
        &mut tx,
        &acting.partner_id,
        &db::lifecycle::EventFilter {
            customer_id: q.customer_id.as_deref(),
            event_type: q.event_type.as_deref(),
            begin: q.begin,
            end: q.end,
        },
        q.offset,
        q.limit,
    )
    .await?;
    tx.commit().await?;
    Ok(r)
}

pub struct CurrentPartner {
    pub partner_id: String,
    pub partner_name: String,
    pub association_type: String,
    pub associated_on: DateTime<Utc>,
}

/// The calling customer's current partner and mode, if any.
pub async fn current_partner(
    app: &App,
    caller: &CustomerCaller,
) -> ApiResult<Option<CurrentPartner>> {
    let mut conn = app.db.acquire().await?;
    let Some(c) = db::customers::find_customer(&mut conn, &caller.account_id).await? else {
        return Ok(None);
    };
    let (Some(pid), Some(t), Some(on)) = (c.partner_id, c.association_type, c.associated_on) else {
        return Ok(None);
    };
    let p = db::partners::find_partner(&mut conn, &pid)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner missing")))?;
    Ok(Some(CurrentPartner {
        partner_id: pid,
        partner_name: p.name,
        association_type: t,
        associated_on: on,
    }))
}
