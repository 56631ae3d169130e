//! Customer warnings, the partner's warning settings and the scans that raise warnings.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WarningRow {
    pub id: i64,
    pub partner_id: String,
    pub customer_id: String,
    pub scene: String,
    pub level: String,
    pub detail: String,
    pub source_ref: Option<String>,
    pub status: String,
    pub action: Option<String>,
    pub remark: Option<String>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub raised_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, partner_id, customer_id, scene, level, detail, source_ref, status,
    action, remark, handled_by, handled_at, raised_at";

/// The columns qualified with the list's alias `w`.
static W_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    COLUMNS
        .split(',')
        .map(|c| format!("w.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
});

pub struct NewWarning<'a> {
    pub partner_id: &'a str,
    pub customer_id: &'a str,
    pub scene: &'a str,
    pub level: &'a str,
    pub detail: &'a str,
    pub source_ref: Option<&'a str>,
    pub raised_at: DateTime<Utc>,
}

/// Inserts a warning unless one from the same source (or an open low-balance one of the
/// customer) exists; returns its id when inserted.
pub async fn insert(conn: &mut PgConnection, w: &NewWarning<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "insert into customer_warning (partner_id, customer_id, scene, level, detail, source_ref, raised_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict do nothing
         returning id",
    )
    .bind(w.partner_id)
    .bind(w.customer_id)
    .bind(w.scene)
    .bind(w.level)
    .bind(w.detail)
    .bind(w.source_ref)
    .bind(w.raised_at)
    .fetch_optional(conn)
    .await
}

pub async fn lock(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<WarningRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from customer_warning where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn mark_handled(
    conn: &mut PgConnection,
    id: i64,
    action: &str,
    remark: Option<&str>,
    by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<WarningRow> {
    sqlx::query_as(&format!(
        "update customer_warning set status = 'HANDLED', action = $2, remark = $3, handled_by = $4,
                handled_at = $5
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(action)
    .bind(remark)
    .bind(by)
    .bind(at)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub partner_id: String,
    pub status: Option<String>,
    pub scene: Option<String>,
    pub customer_id: Option<String>,
    /// A manager's scope: only customers assigned to these managers.
    pub managers: Option<Vec<String>>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, f: &Filter) {
    b.push(" where w.partner_id = ")
        .push_bind(f.partner_id.clone());
    for (col, v) in [
        ("status", &f.status),
        ("scene", &f.scene),
        ("customer_id", &f.customer_id),
    ] {
        if let Some(v) = v {
            b.push(format!(" and w.{col} = ")).push_bind(v.clone());
        }
    }
    if let Some(ms) = &f.managers {
        b.push(" and w.customer_id in (select account_id from customer where manager_id = any(")
            .push_bind(ms.clone())
            .push("))");
    }
}

pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<WarningRow>)> {
    super::opportunities::paged(
        conn,
        &W_COLUMNS,
        "customer_warning w",
        "w.raised_at desc, w.id desc",
        |b| push_where(b, f),
        offset,
        limit,
    )
    .await
}

pub async fn set_threshold(
    conn: &mut PgConnection,
    partner_id: &str,
    fen: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into partner_warning_setting (partner_id, low_balance_threshold, updated_at)
         values ($1, $2, $3)
         on conflict (partner_id) do update set low_balance_threshold = excluded.low_balance_threshold,
             updated_at = excluded.updated_at",
    )
    .bind(partner_id)
    .bind(fen)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn clear_threshold(conn: &mut PgConnection, partner_id: &str) -> sqlx::Result<()> {
    sqlx::query("delete from partner_warning_setting where partner_id = $1")
        .bind(partner_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn threshold(conn: &mut PgConnection, partner_id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "select low_balance_threshold from partner_warning_setting where partner_id = $1",
    )
    .bind(partner_id)
    .fetch_optional(conn)
    .await
}

/// Raises a LOW_BALANCE warning for every resale customer (of one partner, or of every partner
/// with a threshold) whose cash balance is below the partner's threshold, unless it has an open
/// one or had one today (UTC): handled warnings come back the next day while the balance stays
/// low. Reads the ledger's `customer_cash` balances (never writes them). Returns how many.
pub async fn raise_low_balances(
    conn: &mut PgConnection,
    partner_id: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let day = at.date_naive().to_string();
    let mut b = QueryBuilder::new(
        "insert into customer_warning (partner_id, customer_id, scene, level, detail, source_ref, raised_at)
         select c.partner_id, c.account_id, 'LOW_BALANCE',
                case when coalesce(la.balance, 0) <= 0 then 'CRITICAL' else 'WARNING' end,
                'cash balance ' || to_char(coalesce(la.balance, 0) / 100.0, 'FM999999999990.00')
                    || ' is below the threshold ' || to_char(s.low_balance_threshold / 100.0, 'FM999999999990.00'),
                'low_balance:' || c.account_id || ':' || ",
    );
    b.push_bind(day);
    b.push(", ").push_bind(at);
    b.push(
        " from partner_warning_setting s
         join customer c on c.partner_id = s.partner_id and c.association_type = '2'
         left join ledger_account la on la.owner_id = c.account_id and la.purpose = 'customer_cash'
         where coalesce(la.balance, 0) < s.low_balance_threshold",
    );
    if let Some(p) = partner_id {
        b.push(" and s.partner_id = ").push_bind(p.to_string());
    }
    b.push(" on conflict do nothing");
    Ok(b.build().execute(conn).await?.rows_affected())
}

/// How many ids behind its watermark the un-association scan looks again.
const SCAN_OVERLAP: i64 = 1000;

/// Raises an UNASSOCIATED warning for every completed un-association after the scan's
/// watermark, then moves the watermark. Returns how many.
pub async fn raise_unassociations(conn: &mut PgConnection, at: DateTime<Utc>) -> sqlx::Result<u64> {
    sqlx::query(
        "insert into selling_watermark (name, last_id) values ('unassociations', 0)
         on conflict do nothing",
    )
    .execute(&mut *conn)
    .await?;
    let last: i64 = sqlx::query_scalar(
        "select last_id from selling_watermark where name = 'unassociations' for update",
    )
    .fetch_one(&mut *conn)
    .await?;
    let hi: Option<i64> = sqlx::query_scalar(
        "select max(id) from association_event where event_type = 'unassociate'",
    )
    .fetch_one(&mut *conn)
    .await?;
    let Some(hi) = hi else { return Ok(0) };
    // Ids of concurrent transactions may commit out of order: rescan an overlap behind the
    // watermark (the source_ref key makes that idempotent).
    let n = sqlx::query(
        "insert into customer_warning (partner_id, customer_id, scene, level, detail, source_ref, raised_at)
         select e.partner_id, e.customer_id, 'UNASSOCIATED', 'WARNING',
                'the customer un-associated' || coalesce(': ' || e.reason, ''),
                'association_event:' || e.id, $3
         from association_event e
         where e.event_type = 'unassociate' and e.id > $1 and e.id <= $2
         on conflict do nothing",
    )
    .bind(last - SCAN_OVERLAP)
    .bind(hi)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("update selling_watermark set last_id = $1 where name = 'unassociations'")
        .bind(hi)
        .execute(conn)
        .await?;
    Ok(n)
}
