//! The ledger audit from a checkpoint: a run reads the postings and journals written since the
//! last clean run (plus the accounts, which are the current state, not history), checks the same
//! invariants as the full audit over them, and moves the checkpoint forward when they hold.
//!
//! Ids come from sequences, so a posting with a lower id can commit after one with a higher id.
//! A run therefore reads the sequences' positions first, waits until every transaction that was
//! running then has ended (they are the only ones that can still hold an uncommitted id at or
//! below those positions), and only then takes its snapshot: every posting and journal up to the
//! positions is final in it, and the checkpoint never moves past one that could still appear.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::AuditReport;

/// Longest wait for the transactions running at the start of a run.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize)]
pub struct IncrementalReport {
    #[serde(flatten)]
    pub report: AuditReport,
    /// Postings and journals this run read (written since the checkpoint it started from).
    pub postings_read: i64,
    pub journals_read: i64,
    /// The posting id the run started after, and the one the next run starts after (unchanged
    /// when the run found a violation).
    pub from_posting_id: i64,
    pub checkpoint_posting_id: i64,
}

#[derive(sqlx::FromRow)]
struct Checkpoint {
    posting_id: i64,
    journal_id: i64,
    journals: i64,
    postings: i64,
}

/// Audits what was written since the checkpoint; on success, moves the checkpoint to the
/// sequences' positions read at the start.
pub async fn audit_incremental(pool: &PgPool) -> Result<IncrementalReport, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let (posting_end, journal_end, horizon): (i64, i64, String) = sqlx::query_as(
        "select coalesce(pg_sequence_last_value(pg_get_serial_sequence('posting', 'id')), 0),
                coalesce(pg_sequence_last_value(pg_get_serial_sequence('journal', 'id')), 0),
                pg_snapshot_xmax(pg_current_snapshot())::text",
    )
    .fetch_one(&mut *conn)
    .await?;
    let started = Instant::now();
    loop {
        let settled: bool =
            sqlx::query_scalar("select pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8")
                .bind(&horizon)
                .fetch_one(&mut *conn)
                .await?;
        if settled {
            break;
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            return Err(sqlx::Error::Protocol(
                "ledger audit: transactions running at its start did not end within 60 s".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(conn);

    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let cp: Checkpoint = sqlx::query_as(
        "select posting_id, journal_id, journals, postings from ledger_audit_checkpoint
         union all select 0, 0, 0, 0 where not exists (select 1 from ledger_audit_checkpoint)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let (report, postings_read, journals_read, new_postings, new_journals) =
        check(&mut tx, &cp, posting_end, journal_end).await?;
    tx.commit().await?;

    let mut checkpoint = cp.posting_id;
    if report.ok {
        let mut w = pool.begin().await?;
        sqlx::query(
            "insert into ledger_audit_account as c (account_id, sum)
             select account_id, sum(amount)::bigint from posting
              where id > $1 and id <= $2 group by account_id
             on conflict (account_id) do update set sum = c.sum + excluded.sum",
        )
        .bind(cp.posting_id)
        .bind(posting_end)
        .execute(&mut *w)
        .await?;
        sqlx::query(
            "insert into ledger_audit_checkpoint (posting_id, journal_id, journals, postings, audited_at)
             values ($1, $2, $3, $4, now())
             on conflict (id) do update set posting_id = excluded.posting_id,
                 journal_id = excluded.journal_id, journals = excluded.journals,
                 postings = excluded.postings, audited_at = excluded.audited_at",
        )
        .bind(posting_end)
        .bind(journal_end)
        .bind(cp.journals + new_journals)
        .bind(cp.postings + new_postings)
        .execute(&mut *w)
        .await?;
        w.commit().await?;
        checkpoint = posting_end;
    }
    Ok(IncrementalReport {
        report,
        postings_read,
        journals_read,
        from_posting_id: cp.posting_id,
        checkpoint_posting_id: checkpoint,
    })
}

/// The checks over the snapshot; also how many postings and journals up to the ends are new.
async fn check(
    conn: &mut PgConnection,
    cp: &Checkpoint,
    posting_end: i64,
    journal_end: i64,
) -> Result<(AuditReport, i64, i64, i64, i64), sqlx::Error> {
    let mut violations = Vec::new();
    let p = cp.posting_id;

    // Journals written since (any number of postings, also none) and journals that gained a
    // posting since: at least 2 postings, zero sum per asset (over all their postings).
    for (id, trans_id, n, unbalanced) in sqlx::query_as::<_, (i64, String, i64, bool)>(
        "with touched as (
             select id from journal where id > $2
             union select distinct journal_id from posting where id > $1
         )
         select id, trans_id, n, unbalanced from (
             select j.id, j.trans_id,
                    (select count(*) from posting p where p.journal_id = j.id) as n,
                    exists (select 1 from posting q where q.journal_id = j.id
                             group by q.asset having sum(q.amount) <> 0) as unbalanced
               from touched t join journal j on j.id = t.id) r
          where n < 2 or unbalanced
          order by id",
    )
    .bind(p)
    .bind(cp.journal_id)
    .fetch_all(&mut *conn)
    .await?
    {
        if n < 2 {
            violations.push(format!("journal {id} ({trans_id}) has {n} posting(s)"));
        }
        if unbalanced {
            violations.push(format!("journal {id} does not balance in some asset"));
        }
    }

    for (id,) in sqlx::query_as::<_, (i64,)>(
        "select p.id from posting p join ledger_account a on a.id = p.account_id
          where p.id > $1 and p.asset <> a.asset order by p.id",
    )
    .bind(p)
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!("posting {id} has another asset than its account"));
    }

    // Every balance is the checkpoint's sum plus the new postings, and its last balance_after.
    for (id, balance, sum, last) in sqlx::query_as::<_, (i64, i64, i64, Option<i64>)>(
        "with np as (select account_id, sum(amount) as s from posting where id > $1
                      group by account_id),
              last as (select distinct on (account_id) account_id, balance_after from posting
                        where id > $1 order by account_id, id desc)
         select a.id, a.balance, (coalesce(c.sum, 0) + coalesce(np.s, 0))::bigint,
                last.balance_after
           from ledger_account a
           left join ledger_audit_account c on c.account_id = a.id
           left join np on np.account_id = a.id
           left join last on last.account_id = a.id
          where a.balance <> coalesce(c.sum, 0) + coalesce(np.s, 0)
             or a.balance <> coalesce(last.balance_after, a.balance)
          order by a.id",
    )
    .bind(p)
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "account {id} balance {balance} but postings sum to {sum} (last balance_after {last:?})"
        ));
    }

    // The new postings' balance_after: the running balance from the checkpoint's sum.
    for (id, account_id, after, running) in sqlx::query_as::<_, (i64, i64, i64, i64)>(
        "select id, account_id, balance_after, running from (
             select p.id, p.account_id, p.balance_after,
                    (coalesce(c.sum, 0)
                     + sum(p.amount) over (partition by p.account_id order by p.id))::bigint
                        as running
               from posting p left join ledger_audit_account c on c.account_id = p.account_id
              where p.id > $1) r
          where balance_after <> running order by id limit 100",
    )
    .bind(p)
    .fetch_all(&mut *conn)
    .await?
    {
        violations.push(format!(
            "posting {id} of account {account_id} has balance_after {after} but the running balance is {running}"
        ));
    }

    let (floors, conservation) = super::state_checks(&mut *conn).await?;
    violations.extend(floors);
    violations.extend(conservation);

    let (postings_read, journals_read, new_postings, new_journals, accounts): (
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(
        "select (select count(*) from posting where id > $1),
                (select count(*) from journal where id > $2),
                (select count(*) from posting where id > $1 and id <= $3),
                (select count(*) from journal where id > $2 and id <= $4),
                (select count(*) from ledger_account)",
    )
    .bind(p)
    .bind(cp.journal_id)
    .bind(posting_end)
    .bind(journal_end)
    .fetch_one(&mut *conn)
    .await?;
    let report = AuditReport {
        ok: violations.is_empty(),
        violations,
        journals: cp.journals + journals_read,
        postings: cp.postings + postings_read,
        accounts,
    };
    Ok((
        report,
        postings_read,
        journals_read,
        new_postings,
        new_journals,
    ))
}
