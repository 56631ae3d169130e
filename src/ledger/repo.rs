//! The ledger's SQL. Nothing outside `crate::ledger` may write these tables.

use sqlx::PgConnection;

use chrono::{DateTime, Utc};

use super::{AccountId, AccountRef, Entry, JournalId, LedgerError, Locked, Planned, Purpose};
use crate::error::is_constraint;

pub(super) fn asset_of(purpose: &str) -> &'static str {
    match purpose {
        "partner_coupon_quota" | "coupon_quota_source" => "COUPON_QUOTA",
        "customer_coupon_value" | "coupon_value_source" | "coupon_value_used" => "COUPON_VALUE",
        _ => "CNY",
    }
}

fn split(refs: &[AccountRef<'_>]) -> (Vec<String>, Vec<String>) {
    refs.iter()
        .map(|r| (r.owner_id.to_string(), r.purpose.as_str().to_string()))
        .unzip()
}

/// Locks the existing accounts among `refs` in ascending id order (the one lock order).
pub(super) async fn lock(
    conn: &mut PgConnection,
    refs: &[AccountRef<'_>],
) -> Result<Vec<Locked>, sqlx::Error> {
    let (owners, purposes) = split(refs);
    sqlx::query_as!(
        Locked,
        "select id, owner_id, purpose, balance, floor, credit_limit
         from ledger_account
         where (owner_id, purpose) in (select * from unnest($1::text[], $2::text[]))
         order by id
         for update",
        &owners,
        &purposes
    )
    .fetch_all(conn)
    .await
}

/// Creates the missing accounts among `refs` with their opening floor.
pub(super) async fn open(
    conn: &mut PgConnection,
    refs: &[AccountRef<'_>],
) -> Result<(), sqlx::Error> {
    let (owners, purposes) = split(refs);
    let assets: Vec<String> = refs
        .iter()
        .map(|r| r.purpose.asset().as_str().to_string())
        .collect();
    let floors: Vec<Option<i64>> = refs.iter().map(|r| r.purpose.opening_floor()).collect();
    sqlx::query!(
        "insert into ledger_account (owner_id, purpose, asset, floor)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         order by 1, 2
         on conflict (owner_id, purpose, asset) do nothing",
        &owners,
        &purposes,
        &assets,
        &floors as &[Option<i64>]
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the journal, its postings and the new balances in one statement.
pub(super) async fn write_journal(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    account_ids: &[i64],
    amounts: &[i64],
) -> Result<JournalId, LedgerError> {
    let r = sqlx::query_scalar!(
        r#"with j as (
               insert into journal (trans_id, kind, created_at) values ($1, $2, $3) returning id
           ),
           d as (
               select * from unnest($4::bigint[], $5::bigint[]) as d(account_id, amount)
           ),
           u as (
               update ledger_account a set balance = a.balance + d.amount
               from d where a.id = d.account_id
               returning a.id, a.asset, a.balance
           ),
           p as (
               insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
               select j.id, u.id, u.asset, d.amount, u.balance, $3
               from j cross join u join d on d.account_id = u.id
               returning 1
           )
           select j.id as "id!" from j"#,
        entry.trans_id,
        entry.kind.as_str(),
        entry.at,
        account_ids,
        amounts
    )
    .fetch_one(conn)
    .await;
    r.map_err(|e| {
        if is_constraint(&e, "ledger_account_floor_check") {
            LedgerError::Insufficient
        } else {
            LedgerError::Db(e)
        }
    })
}

/// Writes several planned journals, their postings (in plan order, with the planned running
/// balances) and each account's total change in one statement; returns the accounts' new
/// balances.
pub(super) async fn write_journals(
    conn: &mut PgConnection,
    planned: &Planned,
) -> Result<Vec<(AccountId, i64)>, LedgerError> {
    let trans_ids: Vec<&str> = planned.journals.iter().map(|j| j.0.as_str()).collect();
    let kinds: Vec<&str> = planned.journals.iter().map(|j| j.1.as_str()).collect();
    let ats: Vec<DateTime<Utc>> = planned.journals.iter().map(|j| j.2).collect();
    let journal_ns: Vec<i64> = planned.legs.iter().map(|l| l.0 as i64 + 1).collect();
    let account_ids: Vec<i64> = planned.legs.iter().map(|l| l.1).collect();
    let amounts: Vec<i64> = planned.legs.iter().map(|l| l.2).collect();
    let afters: Vec<i64> = planned.legs.iter().map(|l| l.3).collect();
    let r = sqlx::query!(
        r#"with e as (
               select * from unnest($1::text[], $2::text[], $3::timestamptz[])
                   with ordinality as e (trans_id, kind, created_at, n)
           ),
           j as (
               insert into journal (trans_id, kind, created_at)
               select trans_id, kind, created_at from e order by n
               returning id, trans_id
           ),
           l as (
               select * from unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
                   with ordinality as l (journal_n, account_id, amount, balance_after, n)
           ),
           u as (
               update ledger_account a set balance = a.balance + s.total
               from (select account_id, sum(amount)::bigint as total from l group by account_id) s
               where a.id = s.account_id
               returning a.id, a.asset, a.balance
           ),
           p as (
               insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
               select j.id, l.account_id, u.asset, l.amount, l.balance_after, e.created_at
               from l join e on e.n = l.journal_n
                      join j on j.trans_id = e.trans_id
                      join u on u.id = l.account_id
               order by l.n
               returning 1
           )
           select u.id as "id!", u.balance as "balance!" from u"#,
        &trans_ids as &[&str],
        &kinds as &[&str],
        &ats,
        &journal_ns,
        &account_ids,
        &amounts,
        &afters
    )
    .fetch_all(conn)
    .await;
    match r {
        Ok(rows) => Ok(rows.into_iter().map(|r| (r.id, r.balance)).collect()),
        Err(e) if is_constraint(&e, "ledger_account_floor_check") => Err(LedgerError::Insufficient),
        Err(e) => Err(LedgerError::Db(e)),
    }
}

/// `funding_apply` (migration 0022): see [`super::apply_planned`].
pub(super) async fn apply(
    conn: &mut PgConnection,
    planned: &Planned,
    start: &[Locked],
    with: super::Alongside<'_>,
) -> Result<bool, LedgerError> {
    use serde_json::json;
    let journals: Vec<_> = planned
        .journals
        .iter()
        .enumerate()
        .map(|(n, (trans_id, kind, at))| {
            json!({"n": n + 1, "trans_id": trans_id, "kind": kind.as_str(), "created_at": at})
        })
        .collect();
    let legs: Vec<_> = planned
        .legs
        .iter()
        .map(|(j, account_id, amount, after)| {
            json!({"journal_n": j + 1, "account_id": account_id, "amount": amount,
                   "balance_after": after})
        })
        .collect();
    let accounts: Vec<_> = start
        .iter()
        .map(|a| {
            json!({"id": a.id, "balance": a.balance, "floor": a.floor,
                   "credit_limit": a.credit_limit})
        })
        .collect();
    let keys: Vec<_> = with
        .keys
        .iter()
        .map(|(c, k)| json!({"c": c, "k": k}))
        .collect();
    let doc = json!({
        "keys": keys,
        "cutoff": with.forget_before,
        "customers": with.customers,
        "accounts": accounts,
        "journals": journals,
        "legs": legs,
        "adjust": with.adjust,
        "events": with.events,
        "outcomes": with.outcomes,
    });
    let r = sqlx::query("select funding_apply($1::text::jsonb)")
        .bind(doc.to_string())
        .execute(conn)
        .await;
    match r {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("PC001") => Ok(false),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("PC002") => Err(
            LedgerError::Invalid("the written balances differ from the planned ones"),
        ),
        Err(e) if is_constraint(&e, "ledger_account_floor_check") => Err(LedgerError::Insufficient),
        Err(e) => Err(LedgerError::Db(e)),
    }
}

pub(super) async fn set_credit_limit(
    conn: &mut PgConnection,
    id: AccountId,
    limit: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update ledger_account set credit_limit = $2 where id = $1",
        id,
        limit
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn set_floor(
    conn: &mut PgConnection,
    id: AccountId,
    floor: i64,
) -> Result<(), LedgerError> {
    sqlx::query!(
        "update ledger_account set floor = $2 where id = $1",
        id,
        floor
    )
    .execute(conn)
    .await
    .map_err(|e| {
        if is_constraint(&e, "ledger_account_floor_check") {
            LedgerError::Insufficient
        } else {
            LedgerError::Db(e)
        }
    })?;
    Ok(())
}

pub(super) struct AccountRow {
    pub id: AccountId,
    pub purpose: String,
    pub balance: i64,
    pub floor: Option<i64>,
    pub credit_limit: i64,
}

pub(super) async fn owner_accounts(
    conn: &mut PgConnection,
    owner_id: &str,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as!(
        AccountRow,
        "select id, purpose, balance, floor, credit_limit from ledger_account
         where owner_id = $1 order by id",
        owner_id
    )
    .fetch_all(conn)
    .await
}

/// The cash and credit accounts of many partners: (owner, account).
pub(super) async fn partner_accounts(
    conn: &mut PgConnection,
    partner_ids: &[String],
) -> Result<Vec<(String, AccountRow)>, sqlx::Error> {
    let rows: Vec<(String, AccountId, String, i64, Option<i64>, i64)> = sqlx::query_as(
        "select owner_id, id, purpose, balance, floor, credit_limit from ledger_account
          where owner_id = any($1) and purpose in ('partner_cash', 'partner_credit')",
    )
    .bind(partner_ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(owner, id, purpose, balance, floor, credit_limit)| {
            (
                owner,
                AccountRow {
                    id,
                    purpose,
                    balance,
                    floor,
                    credit_limit,
                },
            )
        })
        .collect())
}

pub(super) async fn balances(
    conn: &mut PgConnection,
    owner_ids: &[String],
    purpose: Purpose,
) -> Result<Vec<(String, AccountId, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select owner_id, id, balance from ledger_account
         where owner_id = any($1) and purpose = $2",
        owner_ids,
        purpose.as_str()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.owner_id, r.id, r.balance))
        .collect())
}
