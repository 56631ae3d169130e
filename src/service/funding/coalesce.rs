//! Coalescing of concurrent fundings and reclaims of one partner into one database transaction
//! (the hot account, docs/ledger.md).
//!
//! A request without an `Idempotency-Key` for `adjust-amount` or `reclaim` joins its caller's
//! queue. The first request of an idle caller starts a leader task at once (a lone request is
//! never delayed); while the leader's transaction is in flight, later requests of the same caller
//! queue up and the leader takes up to [`MAX_BATCH`] of them in its next transaction:
//!
//! 1. the rules of every item (reads only; a rejection is that item's answer and writes nothing);
//! 2. one `ledger::lock_accounts` over all accounts of the accepted items (the one lock order:
//!    ascending id, in one statement);
//! 3. one journal per item planned with `ledger::plan_*`, which checks the floors against the
//!    locked balances and carries the new balances to the next item, so an item over the balance
//!    gets its own `CBC.99005003` and writes nothing; then every planned journal, posting and
//!    balance in one statement (`ledger::write_planned`);
//! 4. the adjust records of the posted items in one statement, then one commit, then every waiting
//!    request gets its own answer.
//!
//! If the batch fails at the database before its commit (nothing is committed), every item is
//! re-run alone on the ordinary one-transaction path, so each gets its own outcome. If the commit
//! itself fails its outcome is unknown and every item gets the 500, as a lone request would.

use std::{collections::HashMap, sync::Mutex};

use sqlx::PgConnection;
use tokio::sync::oneshot;

use super::{reclaim_or_fund_rules, Transferred, OP_FUND, OP_RECLAIM};
use crate::{
    db,
    domain::{ids::new_trans_id, Amount},
    error::{ApiError, ApiResult},
    ledger::{self, AccountRef, Entry, JournalKind, Purpose},
    service::{auth::PartnerCaller, idempotency},
    state::AppState,
};

/// The most items one transaction carries.
pub const MAX_BATCH: usize = 256;

/// Funding (to the customer) or reclaiming (from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fund,
    Reclaim,
}

/// One `adjust-amount` or `reclaim` of a resale customer.
#[derive(Debug, Clone)]
pub struct CustomerMove {
    pub kind: Kind,
    pub caller: PartnerCaller,
    pub customer_id: String,
    pub amount: Amount,
    pub indirect_partner_id: Option<String>,
}

struct Pending {
    op: CustomerMove,
    reply: oneshot::Sender<ApiResult<Transferred>>,
}

/// Per calling partner: the requests waiting for the leader's next transaction. A caller is in
/// the map exactly while its leader task runs.
#[derive(Default)]
pub struct Coalescer {
    queues: Mutex<HashMap<String, Vec<Pending>>>,
}

impl Coalescer {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Pending>>> {
        // A panic while holding this lock cannot leave the map half-updated (single operations).
        self.queues.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs `op`, coalesced with the caller's concurrent moves into one transaction.
pub async fn submit(app: &AppState, op: CustomerMove) -> ApiResult<Transferred> {
    let (reply, answer) = oneshot::channel();
    let key = op.caller.account_id.clone();
    let first = {
        let mut queues = app.funding_batches.lock();
        match queues.get_mut(&key) {
            Some(waiting) => {
                waiting.push(Pending { op, reply });
                None
            }
            None => {
                queues.insert(key.clone(), Vec::new());
                Some(Pending { op, reply })
            }
        }
    };
    if let Some(first) = first {
        // A task of its own: the leader finishes its batches even if this request is dropped.
        tokio::spawn(lead(app.clone(), key, first));
    }
    answer.await.unwrap_or_else(|_| {
        Err(ApiError::internal(anyhow::anyhow!(
            "the funding batch leader stopped"
        )))
    })
}

/// Removes the caller's queue if the leader stops early (a panic): the waiting requests' reply
/// channels are dropped, so they answer 500 instead of hanging.
struct Leading {
    app: AppState,
    key: Option<String>,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.app.funding_batches.lock().remove(&key);
        }
    }
}

async fn lead(app: AppState, key: String, first: Pending) {
    let mut leading = Leading {
        app: app.clone(),
        key: Some(key.clone()),
    };
    let mut batch = vec![first];
    loop {
        run(&app, batch).await;
        let mut queues = app.funding_batches.lock();
        let waiting = queues.entry(key.clone()).or_default();
        if waiting.is_empty() {
            queues.remove(&key);
            leading.key = None;
            return;
        }
        let n = waiting.len().min(MAX_BATCH);
        batch = waiting.drain(..n).collect();
    }
}

enum Failed {
    /// Nothing was committed.
    BeforeCommit(ApiError),
    /// The commit failed: its outcome is unknown.
    Commit(ApiError),
}

impl From<sqlx::Error> for Failed {
    fn from(e: sqlx::Error) -> Self {
        Failed::BeforeCommit(e.into())
    }
}

async fn run(app: &AppState, batch: Vec<Pending>) {
    let ops: Vec<CustomerMove> = batch.iter().map(|p| p.op.clone()).collect();
    match transact(app, &ops).await {
        Ok(outcomes) => {
            for (p, out) in batch.into_iter().zip(outcomes) {
                let _ = p.reply.send(out);
            }
        }
        Err(Failed::BeforeCommit(e)) => {
            tracing::warn!(error = ?e, items = ops.len(), "funding batch failed; running its items alone");
            for p in batch {
                let out = alone(app, &p.op).await;
                let _ = p.reply.send(out);
            }
        }
        Err(Failed::Commit(e)) => {
            tracing::error!(error = ?e, items = ops.len(), "funding batch commit failed");
            for p in batch {
                let _ = p.reply.send(Err(ApiError::internal(anyhow::anyhow!(
                    "the funding batch's commit failed"
                ))));
            }
        }
    }
}

/// The ordinary one-transaction path.
async fn alone(app: &AppState, op: &CustomerMove) -> ApiResult<Transferred> {
    idempotency::run(app, None, op).await
}

/// Rules (reads only): the partner whose balance moves, or the item's business rejection.
async fn rules(conn: &mut PgConnection, op: &CustomerMove) -> Result<ApiResult<String>, Failed> {
    match reclaim_or_fund_rules(conn, op).await {
        Ok(partner_id) => Ok(Ok(partner_id)),
        Err(e) if e.code.status().is_client_error() => Ok(Err(e)),
        Err(e) => Err(Failed::BeforeCommit(e)),
    }
}

async fn transact(
    app: &AppState,
    ops: &[CustomerMove],
) -> Result<Vec<ApiResult<Transferred>>, Failed> {
    let mut tx = app.db.begin().await?;
    // 1. Rules.
    let mut accepted: Vec<(usize, String)> = Vec::with_capacity(ops.len());
    let mut outcomes: Vec<Option<ApiResult<Transferred>>> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        match rules(&mut tx, op).await? {
            Ok(partner_id) => {
                accepted.push((i, partner_id));
                outcomes.push(None);
            }
            Err(e) => outcomes.push(Some(Err(e))),
        }
    }
    // 2. Every account of the accepted items, locked once, in the one lock order.
    let mut refs: Vec<AccountRef<'_>> = Vec::new();
    for (i, partner_id) in &accepted {
        for r in [
            AccountRef::new(partner_id, Purpose::PartnerCash),
            AccountRef::new(partner_id, Purpose::PartnerCredit),
            AccountRef::new(&ops[*i].customer_id, Purpose::CustomerCash),
            // A funded customer's arrears are settled from the new cash in the same batch.
            AccountRef::new(&ops[*i].customer_id, Purpose::CustomerDebt),
        ] {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    let mut locked = if refs.is_empty() {
        Vec::new()
    } else {
        ledger::lock_accounts(&mut tx, &refs)
            .await
            .map_err(|e| Failed::BeforeCommit(e.into()))?
    };
    // 3. One journal per item, planned against the locked balances, all written in one statement.
    let mut planned = ledger::Planned::default();
    let mut records: Vec<(
        usize,
        &str,
        String,
        &'static str,
        chrono::DateTime<chrono::Utc>,
    )> = Vec::with_capacity(accepted.len());
    for (i, partner_id) in &accepted {
        let op = &ops[*i];
        let at = app.now();
        let customer = AccountRef::new(&op.customer_id, Purpose::CustomerCash);
        let (trans_id, operation) = match op.kind {
            Kind::Fund => (new_trans_id("AD", at), OP_FUND),
            Kind::Reclaim => (new_trans_id("RE", at), OP_RECLAIM),
        };
        let entry = Entry {
            trans_id: &trans_id,
            kind: match op.kind {
                Kind::Fund => JournalKind::FundCustomer,
                Kind::Reclaim => JournalKind::ReclaimCustomer,
            },
            at,
        };
        let posted = match op.kind {
            Kind::Fund => ledger::plan_fund_from_partner(
                &mut planned,
                &mut locked,
                partner_id,
                customer,
                op.amount,
                &entry,
            ),
            Kind::Reclaim => ledger::plan_return_to_partner(
                &mut planned,
                &mut locked,
                customer,
                partner_id,
                op.amount,
                &entry,
            ),
        };
        let posted = posted.and_then(|()| match op.kind {
            Kind::Fund => ledger::usage::plan_debt_writeoff(
                &mut planned,
                &mut locked,
                &op.customer_id,
                &Entry {
                    trans_id: &new_trans_id("WO", at),
                    kind: JournalKind::DebtWriteoff,
                    at,
                },
            )
            .map(|_| ()),
            Kind::Reclaim => Ok(()),
        });
        match posted {
            Ok(_) => records.push((*i, partner_id, trans_id, operation, at)),
            // Checked before anything is written: the item alone is rejected.
            Err(ledger::LedgerError::Insufficient) => {
                outcomes[*i] = Some(Err(ledger::LedgerError::Insufficient.into()))
            }
            Err(e) => return Err(Failed::BeforeCommit(e.into())),
        }
    }
    ledger::write_planned(&mut tx, &planned, &locked)
        .await
        .map_err(|e| Failed::BeforeCommit(e.into()))?;
    // 4. The adjust records in one statement, one commit.
    let rows: Vec<db::funding::NewAdjustRecord<'_>> = records
        .iter()
        .map(
            |(i, partner_id, trans_id, operation, at)| db::funding::NewAdjustRecord {
                trans_id,
                partner_id,
                operator_id: ops[*i].caller.actor_id(),
                counterparty_id: &ops[*i].customer_id,
                counterparty_kind: "customer",
                operation_type: operation,
                amount_fen: ops[*i].amount.fen(),
                created_at: *at,
            },
        )
        .collect();
    db::funding::insert_adjust_records(&mut tx, &rows).await?;
    crate::service::events::funding_recorded(&mut tx, &rows)
        .await
        .map_err(Failed::BeforeCommit)?;
    tx.commit().await.map_err(|e| Failed::Commit(e.into()))?;
    for (i, _, trans_id, _, _) in records {
        outcomes[i] = Some(Ok(Transferred { trans_id }));
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every item has an outcome"))
        .collect())
}
