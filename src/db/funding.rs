//! Funding business rows (adjust records) and read-only views over the ledger's postings. Money
//! itself is written only by `crate::ledger`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(serde::Serialize)]
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

/// A move's customer as its rules read it.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct MoveCustomerRow {
    pub id: String,
    pub partner_id: Option<String>,
    pub association_type: Option<String>,
    pub is_frozen: i16,
}

/// A stored Idempotency-Key outcome, with the (1-based) index of its key in the request.
#[derive(Debug, serde::Deserialize)]
pub struct StoredRow {
    pub n: usize,
    pub request_hash: String,
    pub status: i16,
    pub body: String,
}

/// What a coalesced funding batch reads before planning (no locks; `ledger::apply_planned`
/// re-checks it under its locks).
#[derive(Debug, serde::Deserialize)]
pub struct MoveSnapshot {
    pub customers: Vec<MoveCustomerRow>,
    pub accounts: Vec<crate::ledger::Locked>,
    pub stored: Vec<StoredRow>,
}

/// The customers, the existing ledger accounts among (owner, purpose) and the outcomes of
/// (caller, key) stored since `cutoff`: one statement.
pub async fn move_snapshot(
    conn: &mut PgConnection,
    customer_ids: &[&str],
    accounts: &[(&str, &str)],
    keys: &[(&str, &str)],
    cutoff: DateTime<Utc>,
) -> sqlx::Result<MoveSnapshot> {
    let (owners, purposes): (Vec<&str>, Vec<&str>) = accounts.iter().copied().unzip();
    let (callers, names): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
    let doc: String = sqlx::query_scalar(
        "select json_build_object(
             'customers', coalesce((
                 select json_agg(json_build_object('id', account_id, 'partner_id', partner_id,
                            'association_type', association_type, 'is_frozen', is_frozen))
                   from customer where account_id = any($1)), '[]'),
             'accounts', coalesce((
                 select json_agg(json_build_object('id', id, 'owner_id', owner_id,
                            'purpose', purpose, 'balance', balance, 'floor', floor,
                            'credit_limit', credit_limit))
                   from ledger_account
                  where (owner_id, purpose) in (select * from unnest($2::text[], $3::text[]))), '[]'),
             'stored', coalesce((
                 select json_agg(json_build_object('n', t.n, 'request_hash', i.request_hash,
                            'status', i.status, 'body', i.body))
                   from unnest($4::text[], $5::text[]) with ordinality as t(c, k, n)
                   join idempotency_key i on i.caller_id = t.c and i.key = t.k
                  where i.created_at >= $6), '[]'))::text",
    )
    .bind(customer_ids)
    .bind(&owners)
    .bind(&purposes)
    .bind(&callers)
    .bind(&names)
    .bind(cutoff)
    .fetch_one(conn)
    .await?;
    serde_json::from_str(&doc).map_err(|e| sqlx::Error::Decode(Box::new(e)))
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdjustRecordRow {
    pub trans_id: String,
    pub counterparty_id: String,
    pub counterparty_name: String,
    pub operation_type: String,
    pub amount: i64,
    pub created_at: DateTime<Utc>,
}

/// The filters of [`list_adjust_records`] as SQL, built per filter set: the partner's pages
/// from `adjust_record_partner_idx`, one counterparty's from `adjust_record_counterparty_idx`.
fn push_adjust_filters<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    partner_id: &'a str,
    f: &'a AdjustFilter,
) {
    qb.push(" where r.partner_id = ").push_bind(partner_id);
    if let Some(v) = &f.counterparty_id {
        qb.push(" and r.counterparty_id = ").push_bind(v);
    }
    if let Some(v) = &f.operation_type {
        qb.push(" and r.operation_type = ").push_bind(v);
    }
    if let Some(v) = &f.begin {
        qb.push(" and r.created_at >= ").push_bind(v);
    }
    if let Some(v) = &f.end {
        qb.push(" and r.created_at <= ").push_bind(v);
    }
    if let Some(v) = &f.trans_id {
        qb.push(" and r.trans_id = ").push_bind(v);
    }
    if let Some(v) = &f.manager_ids {
        qb.push(
            " and r.counterparty_id in (select account_id from customer where manager_id = any(",
        )
        .push_bind(v)
        .push("))");
    }
}

pub async fn list_adjust_records(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &AdjustFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<AdjustRecordRow>)> {
    let only_counterparty = f.operation_type.is_none()
        && f.begin.is_none()
        && f.end.is_none()
        && f.trans_id.is_none()
        && f.manager_ids.is_none();
    let total: i64 = if only_counterparty {
        // The maintained counters (migrations 0019 and 0026): exact, without counting.
        let counted = match &f.counterparty_id {
            None => {
                sqlx::query_scalar(
                    "select adjust_records from partner_list_count where partner_id = $1",
                )
                .bind(partner_id)
                .fetch_optional(&mut *conn)
                .await?
            }
            Some(counterparty) => {
                sqlx::query_scalar(
                    "select adjust_records from counterparty_adjust_count
                      where partner_id = $1 and counterparty_id = $2",
                )
                .bind(partner_id)
                .bind(counterparty)
                .fetch_optional(&mut *conn)
                .await?
            }
        };
        counted.unwrap_or(0)
    } else {
        let mut count = QueryBuilder::new("select count(*) from adjust_record r");
        push_adjust_filters(&mut count, partner_id, f);
        count.build_query_scalar().fetch_one(&mut *conn).await?
    };
    // The page's records first (an index in page order, stopping after the page), then the
    // counterparty names for those rows only: joined before the offset, a deep page looked up
    // every skipped record's name (910 lookups, 13.6 ms at offset 900, docs/explain).
    let mut rows = QueryBuilder::new(
        "select r.trans_id, r.counterparty_id, a.login_name as counterparty_name,
                r.operation_type, r.amount, r.created_at
         from (select r.* from adjust_record r",
    );
    push_adjust_filters(&mut rows, partner_id, f);
    rows.push(" order by r.created_at desc, r.trans_id desc");
    super::push_page(&mut rows, offset, limit);
    rows.push(
        ") r join account a on a.id = r.counterparty_id
         order by r.created_at desc, r.trans_id desc",
    );
    let rows = rows.build_query_as().fetch_all(conn).await?;
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

#[derive(Debug, Clone, sqlx::FromRow)]
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

/// ` where <column> = $n` for one ledger account (the usual case), ` = any($n)` for several. With
/// `= any` the generic plan guesses ten accounts: the page then does not take its order from the
/// index, and the per-day total looked dearer than its custom plan, so it was planned again on
/// every call (0.2 ms at 1M postings).
fn push_accounts<'a>(qb: &mut QueryBuilder<'a, Postgres>, column: &str, accounts: &'a [i64]) {
    match accounts {
        [one] => qb.push(format_args!(" where {column} = ")).push_bind(*one),
        _ => qb
            .push(format_args!(" where {column} = any("))
            .push_bind(accounts)
            .push(")"),
    };
}

/// The filters of [`list_changes`] on the postings of one ledger account (found first, by its
/// unique owner and purpose), built per filter set: the window from
/// `posting_account_created_idx`, the order from `posting_account_idx`.
fn push_change_filters<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    accounts: &'a [i64],
    f: &'a ChangeFilter<'_>,
) {
    // One account (the usual case) by `=`, so the index also gives the order.
    push_accounts(qb, "p.account_id", accounts);
    qb.push(" and p.created_at >= ")
        .push_bind(f.from)
        .push(" and p.created_at < ")
        .push_bind(f.until);
    if let Some(v) = &f.kinds {
        qb.push(" and j.kind = any(").push_bind(v).push(")");
    }
    if let Some(v) = &f.trans_id {
        qb.push(" and j.trans_id = ").push_bind(v);
    }
    match f.direction {
        Some(d) if d > 0 => {
            qb.push(" and p.amount > 0");
        }
        Some(d) if d < 0 => {
            qb.push(" and p.amount < 0");
        }
        Some(_) => {
            qb.push(" and p.amount = 0");
        }
        None => {}
    }
}

pub async fn list_changes(
    conn: &mut PgConnection,
    f: &ChangeFilter<'_>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ChangeRow>)> {
    let accounts: Vec<i64> =
        sqlx::query_scalar("select id from ledger_account where owner_id = $1 and purpose = $2")
            .bind(f.owner_id)
            .bind(f.purpose)
            .fetch_all(&mut *conn)
            .await?;
    if accounts.is_empty() {
        return Ok((0, Vec::new()));
    }
    let accounts = &accounts;
    let journal_filter = f.kinds.is_some() || f.trans_id.is_some();
    let whole_days = [f.from, f.until]
        .iter()
        .all(|t| (*t + chrono::Duration::hours(8)).time() == chrono::NaiveTime::MIN);
    let total: i64 = if journal_filter || !whole_days {
        let mut count = QueryBuilder::new("select count(*) from posting p");
        if journal_filter {
            count.push(" join journal j on j.id = p.journal_id");
        }
        push_change_filters(&mut count, accounts, f);
        count.build_query_scalar().fetch_one(&mut *conn).await?
    } else {
        // The windows are whole UTC+8 days: the maintained per-day counts (migration 0022)
        // give the exact total from at most one row per account and day.
        let n = match f.direction {
            Some(d) if d > 0 => "n_in",
            Some(d) if d < 0 => "n_out",
            Some(_) => "0",
            None => "n_in + n_out",
        };
        let mut count = QueryBuilder::new(format!(
            "select coalesce(sum({n}), 0)::bigint from posting_day_count"
        ));
        push_accounts(&mut count, "account_id", accounts);
        count
            .push(" and day >= posting_day_of(")
            .push_bind(f.from)
            .push(") and day < posting_day_of(")
            .push_bind(f.until)
            .push(")");
        count.build_query_scalar().fetch_one(&mut *conn).await?
    };
    // The page's postings first, newest first in the order of `posting_account_created_idx`
    // (account, time, id): a backward scan of the window that stops after the page (ids only:
    // the index holds them), also in a generic plan; then the rows and joins for those ids only,
    // in a statement of their own. (Ordered by id instead, the generic plan scanned the whole
    // window and sorted it: 39 s at 1,000,000 postings, docs/benchmarks.md. Joined in one
    // statement, a deep page's window made PostgreSQL plan the five-way join on every call:
    // 0.57 ms at 1M postings, more than running it.)
    let mut page = QueryBuilder::new("select p.id from posting p");
    if journal_filter {
        page.push(" join journal j on j.id = p.journal_id");
    }
    push_change_filters(&mut page, accounts, f);
    page.push(" order by p.created_at desc, p.id desc");
    super::push_page(&mut page, offset, limit);
    let ids: Vec<i64> = page.build_query_scalar().fetch_all(&mut *conn).await?;
    if ids.is_empty() {
        return Ok((total, Vec::new()));
    }
    let rows = sqlx::query_as(
        "select p.id as posting_id, p.created_at, j.trans_id, j.kind, p.amount, p.balance_after,
                o.other_id, a.login_name as other_name
           from posting p
           join journal j on j.id = p.journal_id
           left join adjust_record r on r.trans_id = j.trans_id
           left join lateral (select case when r.partner_id = $1
                                          then r.counterparty_id else r.partner_id end
                                     as other_id) o on true
           left join account a on a.id = o.other_id
          where p.id = any($2)
          order by p.created_at desc, p.id desc",
    )
    .bind(f.owner_id)
    .bind(&ids)
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
