//! Funding business rows (adjust records) and read-only views over the ledger's postings. Money
//! itself is written only by `crate::ledger`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub struct NewAdjustRecord<'a> {
    pub trans_id: &'a str,
    pub partner_id: &'a str,
    pub operator_id: &'a str,
    pub counterparty_id: &'a str,
    /// `customer` | `reseller`
    pub counterparty_kind: &'a str,
    pub operation_type: &'a str,
    pub amount_fen: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_adjust_record(
    conn: &mut PgConnection,
    r: &NewAdjustRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into adjust_record (trans_id, partner_id, operator_id, counterparty_id,
                                    counterparty_kind, operation_type, amount, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        r.trans_id,
        r.partner_id,
        r.operator_id,
        r.counterparty_id,
        r.counterparty_kind,
        r.operation_type,
        r.amount_fen,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Many adjust records in one statement (a coalesced batch of fundings).
pub async fn insert_adjust_records(
    conn: &mut PgConnection,
    rs: &[NewAdjustRecord<'_>],
) -> sqlx::Result<()> {
    if rs.is_empty() {
        return Ok(());
    }
    let col = |f: for<'r> fn(&'r NewAdjustRecord<'r>) -> &'r str| -> Vec<String> {
        rs.iter().map(|r| f(r).to_string()).collect()
    };
    sqlx::query(
        "insert into adjust_record (trans_id, partner_id, operator_id, counterparty_id,
                                    counterparty_kind, operation_type, amount, created_at)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::bigint[], $8::timestamptz[])",
    )
    .bind(col(|r| r.trans_id))
    .bind(col(|r| r.partner_id))
    .bind(col(|r| r.operator_id))
    .bind(col(|r| r.counterparty_id))
    .bind(col(|r| r.counterparty_kind))
    .bind(col(|r| r.operation_type))
    .bind(rs.iter().map(|r| r.amount_fen).collect::<Vec<i64>>())
    .bind(
        rs.iter()
            .map(|r| r.created_at)
            .collect::<Vec<DateTime<Utc>>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of list-adjust-records; `None` means "no filter".
#[derive(Debug, Default, Clone)]
pub struct AdjustFilter {
    pub counterparty_id: Option<String>,
    /// Only counterparties that are customers assigned to these managers (a manager's view).
    pub manager_ids: Option<Vec<String>>,
    pub operation_type: Option<String>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub trans_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AdjustRecordRow {
    pub trans_id: String,
    pub counterparty_id: String,
    pub counterparty_name: String,
    pub operation_type: String,
    pub amount: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn list_adjust_records(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &AdjustFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<AdjustRecordRow>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from adjust_record r
           where r.partner_id = $1
             and ($2::text is null or r.counterparty_id = $2)
             and ($3::text is null or r.operation_type = $3)
             and ($4::timestamptz is null or r.created_at >= $4)
             and ($5::timestamptz is null or r.created_at <= $5)
             and ($6::text is null or r.trans_id = $6)
             and ($7::text[] is null or r.counterparty_id in
                  (select account_id from customer where manager_id = any($7)))"#,
        partner_id,
        f.counterparty_id,
        f.operation_type,
        f.begin,
        f.end,
        f.trans_id,
        f.manager_ids.as_deref()
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        AdjustRecordRow,
        r#"select r.trans_id, r.counterparty_id, a.login_name as counterparty_name,
                  r.operation_type, r.amount, r.created_at
           from adjust_record r join account a on a.id = r.counterparty_id
           where r.partner_id = $1
             and ($2::text is null or r.counterparty_id = $2)
             and ($3::text is null or r.operation_type = $3)
             and ($4::timestamptz is null or r.created_at >= $4)
             and ($5::timestamptz is null or r.created_at <= $5)
             and ($6::text is null or r.trans_id = $6)
             and ($9::text[] is null or r.counterparty_id in
                  (select account_id from customer where manager_id = any($9)))
           order by r.created_at desc, r.trans_id desc
           offset $7 limit $8"#,
        partner_id,
        f.counterparty_id,
        f.operation_type,
        f.begin,
        f.end,
        f.trans_id,
        offset,
        limit,
        f.manager_ids.as_deref()
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// Filters of the account-change records of one ledger account.
pub struct ChangeFilter<'a> {
    pub owner_id: &'a str,
    /// `partner_cash` | `partner_credit` | `customer_cash`
    pub purpose: &'a str,
    /// Journal kinds to include; `None` = all.
    pub kinds: Option<Vec<String>>,
    pub trans_id: Option<String>,
    /// 1 = income only, -1 = expense only.
    pub direction: Option<i32>,
    /// Inclusive lower and exclusive upper bound.
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub posting_id: i64,
    pub created_at: DateTime<Utc>,
    pub trans_id: String,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    /// The other party of a fund/reclaim (customer, reseller or distributor).
    pub other_id: Option<String>,
    pub other_name: Option<String>,
}

pub async fn list_changes(
    conn: &mut PgConnection,
    f: &ChangeFilter<'_>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ChangeRow>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!"
           from posting p
           join ledger_account la on la.id = p.account_id
           join journal j on j.id = p.journal_id
           where la.owner_id = $1 and la.purpose = $2
             and ($3::text[] is null or j.kind = any($3))
             and ($4::text is null or j.trans_id = $4)
             and p.created_at >= $5 and p.created_at < $6
             and ($7::int is null or sign(p.amount) = $7)"#,
        f.owner_id,
        f.purpose,
        f.kinds.as_deref(),
        f.trans_id,
        f.from,
        f.until,
        f.direction
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        ChangeRow,
        r#"select p.id as posting_id, p.created_at, j.trans_id, j.kind, p.amount, p.balance_after,
                  o.other_id as "other_id?", a.login_name as "other_name?"
           from posting p
           join ledger_account la on la.id = p.account_id
           join journal j on j.id = p.journal_id
           left join adjust_record r on r.trans_id = j.trans_id
           left join lateral (select case when r.partner_id = $1 then r.counterparty_id
                                          else r.partner_id end as other_id) o on true
           left join account a on a.id = o.other_id
           where la.owner_id = $1 and la.purpose = $2
             and ($3::text[] is null or j.kind = any($3))
             and ($4::text is null or j.trans_id = $4)
             and p.created_at >= $5 and p.created_at < $6
             and ($7::int is null or sign(p.amount) = $7)
           order by p.id desc
           offset $8 limit $9"#,
        f.owner_id,
        f.purpose,
        f.kinds.as_deref(),
        f.trans_id,
        f.from,
        f.until,
        f.direction,
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// The resale-type ("2") sub-customers of `partner_id` among `ids`.
pub async fn resale_customer_ids(
    conn: &mut PgConnection,
    partner_id: &str,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "select account_id from customer
         where partner_id = $1 and association_type = '2' and account_id = any($2)",
        partner_id,
        ids
    )
    .fetch_all(conn)
    .await
}
