//! The event log: every state change worth telling a partner writes an event in the changing
//! transaction (an outbox), so a rolled-back change writes none and a committed one loses none.
//! Partners read their feed with a cursor (`GET /v2/partners/events`) and receive it on their
//! webhook endpoints (`service::webhooks`).
//!
//! Gap-free paging: each feed row carries the id of the transaction that wrote it
//! (`pg_current_xact_id()`) and the feed is ordered by (xid, seq). A reader returns only rows
//! whose xid is below the oldest transaction still running (`pg_snapshot_xmin`): every such
//! transaction has finished, so no row can later commit at a position the reader has passed. The
//! price is that a long transaction holds the feed back until it ends.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::{
    db::{self, events::NewEvent},
    domain::{
        events::{self as rules, Cursor},
        time::format_ts,
    },
    error::{ApiError, ApiResult},
    service::auth::PartnerCaller,
    state::App,
};

/// One event as the feed returns it and webhooks deliver it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub event_id: String,
    /// One of the event types (README, "Events and webhooks").
    #[serde(rename = "type")]
    pub event_type: String,
    /// The partner the event is about (a reseller's events also reach its distributor).
    pub partner_id: String,
    pub customer_id: Option<String>,
    /// UTC, `yyyy-MM-ddTHH:mm:ssZ`.
    pub occurred_at: String,
    /// The changed object, in the field names of the API.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

/// Writes one event in the caller's transaction: to `partner_id` (and its distributor, if it is
/// a reseller), with a delivery for each of their enabled endpoints that take `event_type`.
pub async fn emit(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: Option<&str>,
    event_type: &str,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    emit_all(
        conn,
        vec![event(partner_id, customer_id, event_type, data, at)],
    )
    .await
}

/// An event about to be emitted with [`emit_all`].
pub fn event<'a>(
    partner_id: &'a str,
    customer_id: Option<&'a str>,
    event_type: &'a str,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> NewEvent<'a> {
    debug_assert!(rules::is_event_type(event_type), "{event_type}");
    NewEvent {
        event_id: new_event_id(),
        event_type,
        partner_id,
        customer_id,
        occurred_at: at,
        data,
    }
}

/// Writes several events in one statement (the coalesced funding batch).
pub async fn emit_all(conn: &mut PgConnection, events: Vec<NewEvent<'_>>) -> ApiResult<()> {
    Ok(db::events::insert_events(conn, &events).await?)
}

/// `customer.arrears`: a customer of `partner_id` fell into arrears (for the consumption work).
pub async fn customer_arrears(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    emit(
        conn,
        partner_id,
        Some(customer_id),
        "customer.arrears",
        data,
        at,
    )
    .await
}

/// The feed events of an association record (`association_event`): creation, freezing,
/// requests and their answers, un-association; `data` has the record's API field names.
pub async fn association_recorded(
    conn: &mut PgConnection,
    r: &db::lifecycle::NewEvent<'_>,
) -> ApiResult<()> {
    let types = rules::association_record_types(r.event_type, r.outcome, r.request_id.is_some());
    if types.is_empty() {
        return Ok(());
    }
    let data = serde_json::json!({
        "customer_id": r.customer_id,
        "event_type": r.event_type,
        "actor_id": r.actor_id,
        "actor_kind": r.actor_kind,
        "reason": r.reason,
        "outcome": r.outcome,
        "from_association_type": r.from_type,
        "to_association_type": r.to_type,
        "request_id": r.request_id,
        "operation_time": format_ts(r.created_at),
    });
    let events = types
        .iter()
        .map(|t| {
            event(
                r.partner_id,
                Some(r.customer_id),
                t,
                data.clone(),
                r.created_at,
            )
        })
        .collect();
    emit_all(conn, events).await
}

/// `funding.completed` for each fund or reclaim record: about the customer's partner, or about
/// the reseller a distributor funded (so both hear of it); `data` has the API's field names.
pub async fn funding_recorded(
    conn: &mut PgConnection,
    records: &[db::funding::NewAdjustRecord<'_>],
) -> ApiResult<()> {
    emit_all(conn, funding_events(records)).await
}

/// The `funding.completed` events of [`funding_recorded`], to be written by the caller.
pub fn funding_events<'a>(records: &'a [db::funding::NewAdjustRecord<'a>]) -> Vec<NewEvent<'a>> {
    records
        .iter()
        .map(|r| {
            let (about, customer_id, counterparty) = match r.counterparty_kind {
                "customer" => (r.partner_id, Some(r.counterparty_id), "customer_id"),
                _ => (r.counterparty_id, None, "indirect_partner_id"),
            };
            let mut data = serde_json::json!({
                "trans_id": r.trans_id,
                "operation_type": r.operation_type,
                "amount": yuan(r.amount_fen),
            });
            data[counterparty] = r.counterparty_id.into();
            event(about, customer_id, "funding.completed", data, r.created_at)
        })
        .collect()
}

/// An amount in fen as the API writes it: a JSON number of yuan with two decimals.
pub fn yuan(fen: i64) -> serde_json::Value {
    crate::domain::money::fen_to_string(fen)
        .parse::<serde_json::Number>()
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// `realname.approved` / `realname.rejected` when the vendor reviews an application.
pub async fn realname_reviewed(
    conn: &mut PgConnection,
    a: &db::lifecycle::ApplicationRow,
    approved: bool,
    opinion: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let (event_type, review_result) = if approved {
        ("realname.approved", 2)
    } else {
        ("realname.rejected", 1)
    };
    let data = serde_json::json!({
        "customer_id": a.customer_id,
        "application_id": a.id,
        "identify_type": a.identify_type,
        "review_result": review_result,
        "opinion": opinion,
    });
    emit(
        conn,
        &a.partner_id,
        Some(&a.customer_id),
        event_type,
        data,
        at,
    )
    .await
}

pub struct FeedRequest {
    pub after: Option<String>,
    pub types: Option<Vec<String>>,
    pub limit: i64,
}

pub struct FeedPage {
    pub events: Vec<Event>,
    pub next_cursor: String,
}

pub const MAX_FEED_LIMIT: i64 = 500;

/// The events of the calling partner after the cursor, in order; a scoped operator sees only
/// events of the customers in its scope.
pub async fn feed(app: &App, caller: &PartnerCaller, req: FeedRequest) -> ApiResult<FeedPage> {
    let after = match req.after.as_deref() {
        None | Some("") => Cursor::START,
        Some(s) => Cursor::parse(s)
            .ok_or_else(|| ApiError::invalid("after", "is not a cursor of this feed"))?,
    };
    if let Some(types) = &req.types {
        if let Some(bad) = types.iter().find(|t| !rules::is_event_type(t)) {
            return Err(ApiError::invalid(
                "types",
                format!("unknown event type {bad}"),
            ));
        }
    }
    if !(1..=MAX_FEED_LIMIT).contains(&req.limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_FEED_LIMIT}"),
        ));
    }
    let mut conn = app.db.acquire().await?;
    let rows = db::events::list_feed(
        &mut conn,
        &db::events::FeedQuery {
            receiver_id: &caller.account_id,
            after,
            types: req.types.as_deref(),
            managers: caller.manager_scope(),
            since: retention_cutoff(app),
            limit: req.limit,
        },
    )
    .await?;
    let mut next = after;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        next = Cursor {
            xid: r.xid.parse().map_err(ApiError::internal)?,
            seq: r.seq,
        };
        events.push(to_event(r)?);
    }
    Ok(FeedPage {
        events,
        next_cursor: next.to_string(),
    })
}

pub fn to_event(r: db::events::EventRow) -> ApiResult<Event> {
    Ok(Event {
        event_id: r.event_id,
        event_type: r.event_type,
        partner_id: r.partner_id,
        customer_id: r.customer_id,
        occurred_at: format_ts(r.occurred_at),
        data: serde_json::from_str(&r.data).map_err(ApiError::internal)?,
    })
}

/// Events that occurred before this instant are past `events.retention_days`.
pub fn retention_cutoff(app: &App) -> DateTime<Utc> {
    app.now() - chrono::Duration::days(app.config.events.retention_days)
}

/// Deletes the events past retention, with their deliveries and attempts (run periodically by
/// the server); returns how many events.
pub async fn sweep_expired(app: &App) -> ApiResult<u64> {
    let mut conn = app.db.acquire().await?;
    let cutoff = retention_cutoff(app);
    let mut total = 0;
    loop {
        let n = db::events::sweep(&mut conn, cutoff, 5000).await?;
        total += n;
        if n < 5000 {
            return Ok(total);
        }
    }
}
