//! The ledger audit: checks every invariant over the whole ledger (read-only).

mod incremental;

use serde::Serialize;
use sqlx::PgConnection;

pub use incremental::{audit_incremental, IncrementalReport};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditReport {
    pub ok: bool,
    /// One line per violated invariant.
    pub violations: Vec<String>,
    pub journals: i64,
    pub postings: i64,
    pub accounts: i64,
}

/// Runs [`audit`] in its own read-only REPEATABLE READ transaction: one consistent snapshot.
pub async fn audit_snapshot(pool: &sqlx::PgPool) -> Result<AuditReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let report = audit(&mut tx).await?;
    tx.commit().await?;
    Ok(report)
}

/// Checks: every journal has ≥ 2 postings and sums to zero per asset; every posting's asset is its
/// account's; every balance equals the sum of its postings and the last posting's balance_after;
/// every posting's balance_after is the running balance of its account;
/// no account is below its floor; every asset's balances sum to zero.
pub async fn audit(conn: &mut PgConnection) -> Result<AuditReport, sqlx::Error> {
    let mut violations = Vec::new();

    for r in sqlx::query!(
        r#"select j.id as "id!", j.trans_id as "trans_id!", count(p.id) as "n!"
           from journal j left join posting p on p.journal_id = j.id
           group by j.id having count(p.id) < 2 order by j.id"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "journal {} ({}) has {} posting(s)",
            r.id, r.trans_id, r.n
        ));
    }

    for r in sqlx::query!(
        r#"select journal_id as "journal_id!", asset as "asset!", sum(amount)::bigint as "sum!"
           from posting group by journal_id, asset having sum(amount) <> 0 order by journal_id"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "journal {} does not balance in {}: sum {}",
            r.journal_id, r.asset, r.sum
        ));
    }

    for r in sqlx::query!(
        r#"select p.id as "id!" from posting p join ledger_account a on a.id = p.account_id
           where p.asset <> a.asset order by p.id"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "posting {} has another asset than its account",
            r.id
        ));
    }

    for r in sqlx::query!(
        r#"select a.id as "id!", a.balance as "balance!",
                  coalesce(s.sum, 0)::bigint as "sum!", l.balance_after as "last?"
           from ledger_account a
           left join (select account_id, sum(amount) as sum from posting group by account_id) s
                  on s.account_id = a.id
           left join lateral (select balance_after from posting p where p.account_id = a.id
                              order by p.id desc limit 1) l on true
           where a.balance <> coalesce(s.sum, 0) or a.balance <> coalesce(l.balance_after, 0)
           order by a.id"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "account {} balance {} but postings sum to {} (last balance_after {:?})",
            r.id, r.balance, r.sum, r.last
        ));
    }

    // Every posting's balance_after is its account's running balance in posting order (journals
    // written together in one statement must keep that order too).
    for r in sqlx::query!(
        r#"select id as "id!", account_id as "account_id!", balance_after as "balance_after!",
                  running as "running!"
           from (select p.id, p.account_id, p.balance_after,
                        (sum(p.amount) over (partition by p.account_id order by p.id))::bigint
                            as running
                 from posting p) r
           where balance_after <> running order by id limit 100"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "posting {} of account {} has balance_after {} but the running balance is {}",
            r.id, r.account_id, r.balance_after, r.running
        ));
    }

    let (floors, conservation) = state_checks(&mut *conn).await?;
    violations.extend(floors);
    violations.extend(conservation);

    let counts = sqlx::query!(
        r#"select (select count(*) from journal) as "journals!",
                  (select count(*) from posting) as "postings!",
                  (select count(*) from ledger_account) as "accounts!""#
    )
    .fetch_one(&mut *conn)
    .await?;

    Ok(AuditReport {
        ok: violations.is_empty(),
        violations,
        journals: counts.journals,
        postings: counts.postings,
        accounts: counts.accounts,
    })
}

/// The checks of the accounts' current state (no history): floors, and every asset's balances
/// summing to zero.
async fn state_checks(conn: &mut PgConnection) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let mut floors = Vec::new();
    for r in sqlx::query!(
        r#"select id as "id!", balance as "balance!", floor as "floor!" from ledger_account
           where floor is not null and balance < floor order by id"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        floors.push(format!(
            "account {} balance {} is below its floor {}",
            r.id, r.balance, r.floor
        ));
    }
    let mut conservation = Vec::new();
    for r in sqlx::query!(
        r#"select asset as "asset!", sum(balance)::bigint as "sum!" from ledger_account
           group by asset having sum(balance) <> 0 order by asset"#
    )
    .fetch_all(&mut *conn)
    .await?
    {
        conservation.push(format!(
            "asset {} is not conserved: balances sum to {}",
            r.asset, r.sum
        ));
    }
    Ok((floors, conservation))
}
