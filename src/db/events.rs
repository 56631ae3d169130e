//! The event log and its per-receiver feed (migration 0014). Writers insert inside the changing
//! transaction; the feed reader pages by (xid, seq) below its snapshot's xmin.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::domain::events::Cursor;

#[derive(serde::Serialize)]
pub struct NewEvent<'a> {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub partner_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub data: serde_json::Value,
}

/// Inserts events, their feed rows (the partner and, for a reseller, its distributor) and a
/// pending delivery for every enabled endpoint of a receiver that takes the type: one statement
/// (the SQL function `event_insert_many`, migration 0022, which `funding_apply` calls too).
pub async fn insert_events(conn: &mut PgConnection, events: &[NewEvent<'_>]) -> sqlx::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let doc = serde_json::to_string(events).expect("events serialise");
    sqlx::query("select event_insert_many($1::text::jsonb)")
        .bind(doc)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub xid: String,
    pub seq: i64,
    pub event_id: String,
    #[sqlx(rename = "type")]
    pub event_type: String,
    pub partner_id: String,
    pub customer_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// The `data` object as JSON text.
    pub data: String,
}

pub struct FeedQuery<'a> {
    pub receiver_id: &'a str,
    pub after: Cursor,
    /// `None`: every type.
    pub types: Option<&'a [String]>,
    /// `Some`: only events of customers assigned to these managers (an operator's scope).
    pub managers: Option<&'a [String]>,
    /// Events older than this are past retention.
    pub since: DateTime<Utc>,
    pub limit: i64,
}

/// One index range scan of the receiver's feed after the cursor (per type when filtered),
/// stopping below the oldest transaction still running.
fn push_branch<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    q: &FeedQuery<'a>,
    event_type: Option<&'a str>,
) {
    qb.push("(select f.xid, f.seq from event_feed f where f.receiver_id = ")
        .push_bind(q.receiver_id);
    if let Some(t) = event_type {
        qb.push(" and f.type = ").push_bind(t);
    }
    qb.push(" and (f.xid, f.seq) > (")
        .push_bind(q.after.xid.to_string())
        .push("::xid8, ")
        .push_bind(q.after.seq)
        .push(") and f.xid < pg_snapshot_xmin(pg_current_snapshot()) and f.occurred_at >= ")
        .push_bind(q.since);
    if let Some(m) = q.managers {
        qb.push(
            " and exists (select 1 from customer c where c.account_id = f.customer_id and c.manager_id = any (",
        )
        .push_bind(m)
        .push("))");
    }
    qb.push(" order by f.xid, f.seq limit ")
        .push_bind(q.limit)
        .push(")");
}

/// The next page of a receiver's feed, in feed order.
pub async fn list_feed(conn: &mut PgConnection, q: &FeedQuery<'_>) -> sqlx::Result<Vec<EventRow>> {
    let mut qb = QueryBuilder::new(
        "select p.xid::text as xid, e.seq, e.event_id, e.type, e.partner_id, e.customer_id, e.occurred_at, e.data::text as data from (",
    );
    match q.types {
        None => push_branch(&mut qb, q, None),
        Some(types) => {
            for (i, t) in types.iter().enumerate() {
                if i > 0 {
                    qb.push(" union all ");
                }
                push_branch(&mut qb, q, Some(t.as_str()));
            }
        }
    }
    qb.push(") p join event e on e.seq = p.seq order by p.xid, p.seq limit ")
        .push_bind(q.limit);
    qb.build_query_as::<EventRow>().fetch_all(conn).await
}

/// The event `event_id` if it is in `receiver_id`'s feed.
pub async fn find_received(
    conn: &mut PgConnection,
    receiver_id: &str,
    event_id: &str,
) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as::<_, EventRow>(
        "select f.xid::text as xid, e.seq, e.event_id, e.type, e.partner_id, e.customer_id, e.occurred_at, e.data::text as data
           from event e join event_feed f on f.seq = e.seq and f.receiver_id = $1
          where e.event_id = $2",
    )
    .bind(receiver_id)
    .bind(event_id)
    .fetch_optional(conn)
    .await
}

/// Deletes up to `batch` events that occurred before `cutoff` (with their feed rows, deliveries
/// and attempts); returns how many.
pub async fn sweep(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "delete from event where seq in
             (select seq from event where occurred_at < $1 order by occurred_at limit $2)",
    )
    .bind(cutoff)
    .bind(batch)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
