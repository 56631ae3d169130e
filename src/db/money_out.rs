//! Recharges, rebate grants and withdrawals (issue 11): business rows only; their money is in the
//! ledger. Lists are built per filter set, each served by a `(partner_id[, status], created_at)`
//! index.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RechargeRow {
    pub id: String,
    pub partner_id: String,
    pub operator_id: String,
    pub amount: i64,
    pub method: String,
    pub reference: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub trans_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const RECHARGE_COLUMNS: &str = "id, partner_id, operator_id, amount, method, reference, status,
    reason, trans_id, created_at, confirmed_at, updated_at";

pub async fn insert_recharge(conn: &mut PgConnection, r: &RechargeRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into recharge ({RECHARGE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9,
         $10, $11, $12)"
    ))
    .bind(&r.id)
    .bind(&r.partner_id)
    .bind(&r.operator_id)
    .bind(r.amount)
    .bind(&r.method)
    .bind(&r.reference)
    .bind(&r.status)
    .bind(&r.reason)
    .bind(&r.trans_id)
    .bind(r.created_at)
    .bind(r.confirmed_at)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn lock_recharge(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<RechargeRow>> {
    sqlx::query_as(&format!(
        "select {RECHARGE_COLUMNS} from recharge where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Confirms (with its journal) or rejects (with a reason) a pending recharge.
pub async fn settle_recharge(
    conn: &mut PgConnection,
    id: &str,
    status: &str,
    trans_id: Option<&str>,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<RechargeRow> {
    sqlx::query_as(&format!(
        "update recharge set status = $2, trans_id = $3, reason = $4, updated_at = $5,
             confirmed_at = case when $2 = 'CONFIRMED' then $5 end
         where id = $1 returning {RECHARGE_COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .bind(trans_id)
    .bind(reason)
    .bind(at)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, Default)]
pub struct RechargeFilter {
    pub status: Option<String>,
    pub method: Option<String>,
}

pub async fn list_recharges(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &RechargeFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<RechargeRow>)> {
    let eq = [
        ("status", f.status.as_deref()),
        ("method", f.method.as_deref()),
    ];
    page(
        conn,
        "recharge",
        RECHARGE_COLUMNS,
        "",
        partner_id,
        &eq,
        offset,
        limit,
    )
    .await
}

/// One page (newest first) of a partner's rows of `table` matching the `eq` filters (column,
/// value; `None` = no filter) and the fixed condition `extra` (`"… and "` or `""`), with the
/// total. Each filter set is served by a `(partner_id[, status], created_at)` index.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn page<T>(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    extra: &str,
    partner_id: &str,
    eq: &[(&str, Option<&str>)],
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<T>)>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let filtered = |qb: &mut QueryBuilder<'_, Postgres>| {
        qb.push(format!(" from {table} where {extra}partner_id = "))
            .push_bind(partner_id.to_string());
        for (col, v) in eq {
            if let Some(v) = v {
                qb.push(format!(" and {col} = ")).push_bind(v.to_string());
            }
        }
    };
    let mut count = QueryBuilder::new("select count(*)");
    filtered(&mut count);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut qb = QueryBuilder::new(format!("select {columns}"));
    filtered(&mut qb);
    qb.push(" order by created_at desc, id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = qb.build_query_as().fetch_all(conn).await?;
    Ok((total, rows))
}

/// Confirmed top-ups still inside the clearing period (confirmed after `since`), fen.
pub async fn unposted(
    conn: &mut PgConnection,
    partner_id: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select coalesce(sum(amount), 0)::bigint from recharge
         where partner_id = $1 and status = 'CONFIRMED' and confirmed_at > $2",
    )
    .bind(partner_id)
    .bind(since)
    .fetch_one(conn)
    .await
}

pub async fn insert_rebate_grant(
    conn: &mut PgConnection,
    trans_id: &str,
    partner_id: &str,
    amount: i64,
    remark: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into rebate_grant (trans_id, partner_id, amount, remark, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(trans_id)
    .bind(partner_id)
    .bind(amount)
    .bind(remark)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The arrears-bearing customers of a partner: its resale sub-customers.
pub async fn resale_customer_ids(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select account_id from customer where partner_id = $1 and association_type = '2'",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WithdrawalRow {
    pub id: String,
    pub partner_id: String,
    pub operator_id: String,
    pub withdrawal_type: String,
    pub amount: i64,
    pub status: String,
    pub account_name: String,
    pub account_no: String,
    pub bank_name: String,
    pub branch: Option<String>,
    pub rebate_invoice_reference: Option<String>,
    pub payout_reference: Option<String>,
    pub reject_reason: Option<String>,
    pub hold_trans_id: String,
    pub settle_trans_id: Option<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const WITHDRAWAL_COLUMNS: &str = "id, partner_id, operator_id, withdrawal_type, amount, status,
    account_name, account_no, bank_name, branch, rebate_invoice_reference, payout_reference,
    reject_reason, hold_trans_id, settle_trans_id, deleted_at, created_at, updated_at";

pub async fn insert_withdrawal(conn: &mut PgConnection, w: &WithdrawalRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into withdrawal ({WITHDRAWAL_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8,
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
    ))
    .bind(&w.id)
    .bind(&w.partner_id)
    .bind(&w.operator_id)
    .bind(&w.withdrawal_type)
    .bind(w.amount)
    .bind(&w.status)
    .bind(&w.account_name)
    .bind(&w.account_no)
    .bind(&w.bank_name)
    .bind(&w.branch)
    .bind(&w.rebate_invoice_reference)
    .bind(&w.payout_reference)
    .bind(&w.reject_reason)
    .bind(&w.hold_trans_id)
    .bind(&w.settle_trans_id)
    .bind(w.deleted_at)
    .bind(w.created_at)
    .bind(w.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A withdrawal, locked for a state change; `partner_id` narrows to one partner's (not deleted).
pub async fn lock_withdrawal(
    conn: &mut PgConnection,
    id: &str,
    partner_id: Option<&str>,
) -> sqlx::Result<Option<WithdrawalRow>> {
    let row: Option<WithdrawalRow> = sqlx::query_as(&format!(
        "select {WITHDRAWAL_COLUMNS} from withdrawal where id = $1 and deleted_at is null
         for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.filter(|w| partner_id.is_none_or(|p| p == w.partner_id)))
}

pub async fn find_withdrawal(
    conn: &mut PgConnection,
    id: &str,
    partner_id: &str,
) -> sqlx::Result<Option<WithdrawalRow>> {
    sqlx::query_as(&format!(
        "select {WITHDRAWAL_COLUMNS} from withdrawal
         where id = $1 and partner_id = $2 and deleted_at is null"
    ))
    .bind(id)
    .bind(partner_id)
    .fetch_optional(conn)
    .await
}

/// The changed fields of a withdrawal after a transition.
#[derive(Debug, Default)]
pub struct WithdrawalUpdate<'a> {
    pub status: &'a str,
    pub settle_trans_id: Option<&'a str>,
    pub payout_reference: Option<&'a str>,
    pub reject_reason: Option<&'a str>,
    pub rebate_invoice_reference: Option<&'a str>,
    pub deleted: bool,
}

pub async fn update_withdrawal(
    conn: &mut PgConnection,
    id: &str,
    u: &WithdrawalUpdate<'_>,
    at: DateTime<Utc>,
) -> sqlx::Result<WithdrawalRow> {
    sqlx::query_as(&format!(
        "update withdrawal set status = $2,
             settle_trans_id = coalesce($3, settle_trans_id),
             payout_reference = coalesce($4, payout_reference),
             reject_reason = coalesce($5, reject_reason),
             rebate_invoice_reference = coalesce($6, rebate_invoice_reference),
             deleted_at = case when $7 then $8 else deleted_at end,
             updated_at = $8
         where id = $1 returning {WITHDRAWAL_COLUMNS}"
    ))
    .bind(id)
    .bind(u.status)
    .bind(u.settle_trans_id)
    .bind(u.payout_reference)
    .bind(u.reject_reason)
    .bind(u.rebate_invoice_reference)
    .bind(u.deleted)
    .bind(at)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Appends to the history of a withdrawal (`table` = `withdrawal_event`) or an invoice
/// (`invoice_event`).
pub async fn insert_event(
    conn: &mut PgConnection,
    table: EventTable,
    owner_id: &str,
    e: &EventRow,
) -> sqlx::Result<()> {
    let (t, col) = table.names();
    sqlx::query(&format!(
        "insert into {t} ({col}, from_status, to_status, actor, note, created_at)
         values ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(owner_id)
    .bind(&e.from_status)
    .bind(&e.to_status)
    .bind(&e.actor)
    .bind(&e.note)
    .bind(e.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum EventTable {
    Withdrawal,
    Invoice,
}

impl EventTable {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            EventTable::Withdrawal => ("withdrawal_event", "withdrawal_id"),
            EventTable::Invoice => ("invoice_event", "invoice_id"),
        }
    }
}

pub async fn events(
    conn: &mut PgConnection,
    table: EventTable,
    owner_id: &str,
) -> sqlx::Result<Vec<EventRow>> {
    let (t, col) = table.names();
    sqlx::query_as(&format!(
        "select from_status, to_status, actor, note, created_at from {t}
         where {col} = $1 order by id"
    ))
    .bind(owner_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Default)]
pub struct WithdrawalFilter {
    pub status: Option<String>,
    pub withdrawal_type: Option<String>,
}

pub async fn list_withdrawals(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &WithdrawalFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<WithdrawalRow>)> {
    let eq = [
        ("status", f.status.as_deref()),
        ("withdrawal_type", f.withdrawal_type.as_deref()),
    ];
    let extra = "deleted_at is null and ";
    page(
        conn,
        "withdrawal",
        WITHDRAWAL_COLUMNS,
        extra,
        partner_id,
        &eq,
        offset,
        limit,
    )
    .await
}

/// The partner's withdrawal verification mobile, when it enabled verification.
pub async fn verification_mobile(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "select verification_mobile from withdrawal_setting where partner_id = $1",
    )
    .bind(partner_id)
    .fetch_optional(conn)
    .await?
    .flatten())
}

pub async fn set_verification_mobile(
    conn: &mut PgConnection,
    partner_id: &str,
    mobile: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into withdrawal_setting (partner_id, verification_mobile, updated_at)
         values ($1, $2, $3)
         on conflict (partner_id) do update set verification_mobile = $2, updated_at = $3",
    )
    .bind(partner_id)
    .bind(mobile)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
