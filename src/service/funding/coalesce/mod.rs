//! Coalescing of concurrent fundings, reclaims and batch fundings into shared database
//! transactions (the hot account of one partner, and one commit for many partners' moves,
//! docs/ledger.md), with or without `Idempotency-Key`.
//!
//! Every `adjust-amount`, `reclaim` and `batch-adjust-amount` joins its caller's lane: one of
//! `funding.coalesce_lanes` queues, chosen by the calling partner (or the caller's own queue
//! when the setting is 0). The first request of an idle lane starts a leader task at once (a lone
//! request is never delayed); while the leader's transaction is in flight, later requests of the
//! lane queue up and the leader takes up to [`MAX_BATCH`] items of them in its next transaction
//! (requests of partners acting for themselves in one, the others in a second one):
//!
//! 0. the keyed requests: one statement takes every key's advisory lock (a key already being
//!    processed, also by an earlier request of the same batch, is that request's 409), one
//!    statement forgets the outcomes past retention and reads the stored ones (a stored outcome
//!    is replayed, or 422 when the key was used with another request); these write nothing else;
//! 1. the rules of every item (reads only; a rejection is that item's answer and writes nothing);
//! 2. one `ledger::lock_accounts` over all accounts of the accepted items (the one lock order:
//!    ascending id, in one statement);
//! 3. one journal per item planned with `ledger::plan_*`, which checks the floors against the
//!    locked balances and carries the new balances to the next item, so an item over the balance
//!    gets its own `CBC.99005003` and writes nothing; then every planned journal, posting and
//!    balance in one statement (`ledger::write_planned`);
//! 4. the adjust records of the posted items in one statement, the outcome of every keyed request
//!    (success or business rejection) in one statement, then one commit, then every waiting
//!    request gets its own answer.
//!
//! If the batch fails at the database before its commit (it is rolled back, nothing is
//! committed and every key's lock is released), every request is re-run alone on the ordinary
//! one-transaction path (`idempotency::run`), so each gets its own outcome. If the commit itself
//! fails its outcome is unknown and every request gets the 500, as a lone request would.

mod locking;
mod one_statement;

use std::{collections::HashMap, sync::Mutex};

use tokio::sync::oneshot;

use super::{
    customer_rules, reclaim_or_fund_rules, resale_customer_of, BatchFund, BatchItemOutcome,
    Direction, MovedCustomer, Transferred, OP_FUND, OP_RECLAIM,
};
use crate::{
    db,
    domain::{ids::new_trans_id, Amount},
    error::{ApiError, ApiResult},
    ledger::{self, AccountRef, Entry, JournalKind, Purpose},
    service::{
        auth::PartnerCaller,
        idempotency::{self, IdemRequest},
        partners,
    },
    state::AppState,
};

/// The most items (moves, or items of batch fundings) one transaction carries; a batch funding
/// is never split.
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

/// What a queued request asks for.
#[derive(Clone)]
enum Request {
    Move(CustomerMove),
    Batch(BatchFund),
}

impl Request {
    fn items(&self) -> usize {
        match self {
            Request::Move(_) => 1,
            Request::Batch(b) => b.items.len().max(1),
        }
    }
}

/// What a request gets back (stored for a keyed request as the inner value's JSON).
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Outcome {
    Moved(Transferred),
    Batch(Vec<BatchItemOutcome>),
}

struct Pending {
    req: Request,
    idem: Option<IdemRequest>,
    reply: oneshot::Sender<ApiResult<Outcome>>,
}

/// Per lane (see [`lane_of`]): the requests waiting for the leader's next transaction. A lane is
/// in the map exactly while its leader task runs.
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

/// The queue a calling partner's requests join: one of `funding.coalesce_lanes` lanes (always the
/// same for one caller, so each caller's requests keep their order of arrival), or the caller's
/// own queue when the setting is 0.
fn lane_of(app: &AppState, caller: &PartnerCaller) -> String {
    match app.config.funding.coalesce_lanes {
        0 => caller.account_id.clone(),
        lanes => {
            // FNV-1a: stable across processes and releases (the std hasher promises neither).
            let h = caller
                .account_id
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
            format!("lane {}", h % u64::from(lanes))
        }
    }
}

/// Runs `op` (with its `Idempotency-Key`, if any), coalesced with the concurrent moves of its
/// lane into one transaction.
pub async fn submit(
    app: &AppState,
    op: CustomerMove,
    idem: Option<IdemRequest>,
) -> ApiResult<Transferred> {
    let key = lane_of(app, &op.caller);
    match queue(app, key, Request::Move(op), idem).await? {
        Outcome::Moved(t) => Ok(t),
        Outcome::Batch(_) => Err(mismatch()),
    }
}

/// Runs a batch funding (with its `Idempotency-Key`, if any), coalesced with the concurrent
/// moves of its lane into one transaction.
pub async fn submit_batch(
    app: &AppState,
    op: BatchFund,
    idem: Option<IdemRequest>,
) -> ApiResult<Vec<BatchItemOutcome>> {
    let key = lane_of(app, &op.caller);
    match queue(app, key, Request::Batch(op), idem).await? {
        Outcome::Batch(b) => Ok(b),
        Outcome::Moved(_) => Err(mismatch()),
    }
}

fn mismatch() -> ApiError {
    ApiError::internal(anyhow::anyhow!("a funding batch answered the wrong kind"))
}

async fn queue(
    app: &AppState,
    key: String,
    req: Request,
    idem: Option<IdemRequest>,
) -> ApiResult<Outcome> {
    let (reply, answer) = oneshot::channel();
    let pending = Pending { req, idem, reply };
    let first = {
        let mut queues = app.funding_batches.lock();
        match queues.get_mut(&key) {
            Some(waiting) => {
                waiting.push(pending);
                None
            }
            None => {
                queues.insert(key.clone(), Vec::new());
                Some(pending)
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
        let (mut n, mut items) = (0, 0);
        while n < waiting.len() && (n == 0 || items + waiting[n].req.items() <= MAX_BATCH) {
            items += waiting[n].req.items();
            n += 1;
        }
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

impl From<ApiError> for Failed {
    fn from(e: ApiError) -> Self {
        Failed::BeforeCommit(e)
    }
}

impl From<ledger::LedgerError> for Failed {
    fn from(e: ledger::LedgerError) -> Self {
        Failed::BeforeCommit(e.into())
    }
}

/// Runs a batch: the requests the one-statement path serves (see [`one_statement::at_once`]) in one
/// transaction, the others (operators with a manager scope, distributors acting for a reseller)
/// in another, so that one of those does not send the whole lane's batch down the locking path.
async fn run(app: &AppState, batch: Vec<Pending>) {
    let (plain, other): (Vec<Pending>, Vec<Pending>) =
        batch.into_iter().partition(|p| is_plain(&p.req));
    for group in [plain, other] {
        if !group.is_empty() {
            run_group(app, group).await;
        }
    }
}

/// A request of a partner acting for itself with no manager scope.
fn is_plain(req: &Request) -> bool {
    let plain = |c: &PartnerCaller, indirect: &Option<String>| {
        c.manager_scope().is_none() && indirect.as_deref().is_none_or(str::is_empty)
    };
    match req {
        Request::Move(op) => plain(&op.caller, &op.indirect_partner_id),
        Request::Batch(op) => plain(&op.caller, &op.indirect_partner_id),
    }
}

async fn run_group(app: &AppState, batch: Vec<Pending>) {
    let reqs: Vec<(&Request, Option<&IdemRequest>)> =
        batch.iter().map(|p| (&p.req, p.idem.as_ref())).collect();
    let result = match one_statement::at_once(app, &reqs).await {
        Ok(Some(outcomes)) => {
            app.metrics.record_funding_batch("one_statement");
            Ok(outcomes)
        }
        Ok(None) => {
            app.metrics.record_funding_batch("locking");
            locking::transact(app, &reqs).await
        }
        Err(Failed::BeforeCommit(e)) => {
            tracing::debug!(error = ?e, "funding batch: the one-statement path failed before writing");
            app.metrics.record_funding_batch("locking");
            locking::transact(app, &reqs).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(outcomes) => {
            for (p, out) in batch.into_iter().zip(outcomes) {
                let _ = p.reply.send(out);
            }
        }
        Err(Failed::BeforeCommit(e)) => {
            tracing::warn!(error = ?e, requests = reqs.len(), "funding batch failed; running its requests alone");
            for p in batch {
                let out = alone(app, &p.req, p.idem.as_ref()).await;
                let _ = p.reply.send(out);
            }
        }
        Err(Failed::Commit(e)) => {
            tracing::error!(error = ?e, requests = reqs.len(), "funding batch commit failed");
            for p in batch {
                let _ = p.reply.send(Err(ApiError::internal(anyhow::anyhow!(
                    "the funding batch's commit failed"
                ))));
            }
        }
    }
}

/// The ordinary one-transaction path.
async fn alone(app: &AppState, req: &Request, idem: Option<&IdemRequest>) -> ApiResult<Outcome> {
    match req {
        Request::Move(op) => idempotency::run(app, idem, op).await.map(Outcome::Moved),
        Request::Batch(op) => idempotency::run(app, idem, op).await.map(Outcome::Batch),
    }
}

/// A business rejection (4xx) is the item's answer; anything else fails the batch.
fn rejection<T>(r: ApiResult<T>) -> Result<Result<T, ApiError>, Failed> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.code.status().is_client_error() => Ok(Err(e)),
        Err(e) => Err(Failed::BeforeCommit(e)),
    }
}

/// One money move of the batch: a move request, or one item of a batch funding.
struct Item<'a> {
    req: usize,
    kind: Kind,
    caller: &'a PartnerCaller,
    customer_id: &'a str,
    amount: Amount,
    /// The partner whose balance moves, once the rules passed; else the item's rejection.
    partner: Result<String, ApiError>,
    /// The posted journal's transaction id.
    posted: Option<String>,
}

/// The keyed requests with their keys, each key once: a key already earlier in the batch is
/// that later request's 409 (the earlier one is still being processed).
fn distinct_keys<'r>(
    reqs: &[(&Request, Option<&'r IdemRequest>)],
    done: &mut [Option<ApiResult<Outcome>>],
) -> Vec<(usize, &'r IdemRequest)> {
    let mut keyed: Vec<(usize, &IdemRequest)> = Vec::new();
    for (i, (_, idem)) in reqs.iter().enumerate() {
        let Some(k) = idem else { continue };
        if keyed
            .iter()
            .any(|(_, o)| o.caller_id == k.caller_id && o.key == k.key)
        {
            done[i] = Some(Err(idempotency::in_progress()));
        } else {
            keyed.push((i, *k));
        }
    }
    keyed
}

/// The stored outcome of the `n`-th distinct key answers its request (a replay, or 422).
fn replay_into(
    reqs: &[(&Request, Option<&IdemRequest>)],
    keyed: &[(usize, &IdemRequest)],
    n: usize,
    outcome: db::idempotency::StoredOutcome,
    done: &mut [Option<ApiResult<Outcome>>],
) {
    let (i, k) = keyed[n];
    if done[i].is_none() {
        done[i] = Some(match reqs[i].0 {
            Request::Move(_) => idempotency::replay_for(k, outcome).map(Outcome::Moved),
            Request::Batch(_) => idempotency::replay_for(k, outcome).map(Outcome::Batch),
        });
    }
}

/// Every account of the accepted items (each once).
fn account_refs<'a>(items: &'a [Item<'_>]) -> Vec<AccountRef<'a>> {
    let mut refs: Vec<AccountRef<'_>> = Vec::new();
    for it in items {
        let Ok(partner_id) = &it.partner else {
            continue;
        };
        for r in [
            AccountRef::new(partner_id, Purpose::PartnerCash),
            AccountRef::new(partner_id, Purpose::PartnerCredit),
            AccountRef::new(it.customer_id, Purpose::CustomerCash),
            // A funded customer's arrears are settled from the new cash in the same batch.
            AccountRef::new(it.customer_id, Purpose::CustomerDebt),
        ] {
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    refs
}

/// A posted item: (index among the items, its journal's transaction id, its time).
type Posted = (usize, String, chrono::DateTime<chrono::Utc>);

/// One journal per accepted item, planned against `locked` (which then holds the new balances);
/// an item over the balance gets its own `CBC.99005003` and plans nothing.
fn plan(
    app: &AppState,
    items: &mut [Item<'_>],
    locked: &mut [ledger::Locked],
) -> Result<(ledger::Planned, Vec<Posted>), Failed> {
    let mut planned = ledger::Planned::default();
    let mut posted: Vec<Posted> = Vec::new();
    for (n, it) in items.iter_mut().enumerate() {
        let Ok(partner_id) = &it.partner else {
            continue;
        };
        let at = app.now();
        let customer = AccountRef::new(it.customer_id, Purpose::CustomerCash);
        let trans_id = match it.kind {
            Kind::Fund => new_trans_id("AD", at),
            Kind::Reclaim => new_trans_id("RE", at),
        };
        let entry = Entry {
            trans_id: &trans_id,
            kind: match it.kind {
                Kind::Fund => JournalKind::FundCustomer,
                Kind::Reclaim => JournalKind::ReclaimCustomer,
            },
            at,
        };
        let result = match it.kind {
            Kind::Fund => ledger::plan_fund_from_partner(
                &mut planned,
                locked,
                partner_id,
                customer,
                it.amount,
                &entry,
            ),
            Kind::Reclaim => ledger::plan_return_to_partner(
                &mut planned,
                locked,
                customer,
                partner_id,
                it.amount,
                &entry,
            ),
        };
        let result = result.and_then(|()| match it.kind {
            Kind::Fund => ledger::usage::plan_debt_writeoff(
                &mut planned,
                locked,
                it.customer_id,
                &Entry {
                    trans_id: &new_trans_id("WO", at),
                    kind: JournalKind::DebtWriteoff,
                    at,
                },
            )
            .map(|_| ()),
            Kind::Reclaim => Ok(()),
        });
        match result {
            Ok(()) => {
                it.posted = Some(trans_id.clone());
                posted.push((n, trans_id, at));
            }
            // Checked before anything is written: the item alone is rejected.
            Err(ledger::LedgerError::Insufficient) => {
                it.partner = Err(ledger::LedgerError::Insufficient.into())
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((planned, posted))
}

/// The adjust records of the posted items.
fn adjust_rows<'a>(
    items: &'a [Item<'_>],
    posted: &'a [Posted],
) -> Vec<db::funding::NewAdjustRecord<'a>> {
    let mut rows = Vec::with_capacity(posted.len());
    for (n, trans_id, at) in posted {
        let it = &items[*n];
        let Ok(partner_id) = &it.partner else {
            continue;
        };
        rows.push(db::funding::NewAdjustRecord {
            trans_id,
            partner_id,
            operator_id: it.caller.actor_id(),
            counterparty_id: it.customer_id,
            counterparty_kind: "customer",
            operation_type: match it.kind {
                Kind::Fund => OP_FUND,
                Kind::Reclaim => OP_RECLAIM,
            },
            amount_fen: it.amount.fen(),
            created_at: *at,
        });
    }
    rows
}

/// Every request's answer, and the outcomes to store: of each keyed request that ran (not
/// `settled` before its rules), as (key, status, body).
fn settle<'r>(
    reqs: &[(&Request, Option<&'r IdemRequest>)],
    done: Vec<Option<ApiResult<Outcome>>>,
    settled: &[bool],
    items: Vec<Item<'_>>,
) -> Result<(Vec<ApiResult<Outcome>>, Vec<Kept<'r>>), Failed> {
    let outcomes = answers(reqs, done, items);
    let mut kept = Vec::new();
    for (i, (_, idem)) in reqs.iter().enumerate() {
        if let (Some(k), false) = (idem, settled[i]) {
            if let Some((status, body)) = idempotency::to_store(&outcomes[i])? {
                kept.push((*k, status, body));
            }
        }
    }
    Ok((outcomes, kept))
}

/// A keyed request's outcome to store: (its key, status, body).
type Kept<'r> = (&'r IdemRequest, i16, String);

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<serde_json::Value, Failed> {
    serde_json::to_value(v).map_err(|e| Failed::BeforeCommit(ApiError::internal(e)))
}

fn new_outcomes<'a>(app: &AppState, kept: &'a [Kept<'a>]) -> Vec<db::idempotency::NewOutcome<'a>> {
    let now = app.now();
    kept.iter()
        .map(|(k, status, body)| db::idempotency::NewOutcome {
            caller_id: &k.caller_id,
            key: &k.key,
            request_hash: &k.request_hash,
            status: *status,
            body,
            created_at: now,
        })
        .collect()
}

/// Each request's answer from its items (request order, items in request order).
fn answers(
    reqs: &[(&Request, Option<&IdemRequest>)],
    mut done: Vec<Option<ApiResult<Outcome>>>,
    items: Vec<Item<'_>>,
) -> Vec<ApiResult<Outcome>> {
    let mut per_req: Vec<Vec<Item<'_>>> = (0..reqs.len()).map(|_| Vec::new()).collect();
    for it in items {
        per_req[it.req].push(it);
    }
    let item_result = |it: Item<'_>| -> Result<String, ApiError> {
        match (it.partner, it.posted) {
            (Ok(_), Some(trans_id)) => Ok(trans_id),
            (Err(e), _) => Err(e),
            (Ok(_), None) => Err(ApiError::internal(anyhow::anyhow!(
                "an item was not posted"
            ))),
        }
    };
    per_req
        .into_iter()
        .enumerate()
        .map(|(i, its)| {
            if let Some(d) = done[i].take() {
                return d;
            }
            match reqs[i].0 {
                Request::Move(_) => {
                    let it = its.into_iter().next().expect("a move has its item");
                    item_result(it).map(|trans_id| Outcome::Moved(Transferred { trans_id }))
                }
                Request::Batch(_) => Ok(Outcome::Batch(
                    its.into_iter()
                        .map(|it| {
                            let customer_id = it.customer_id.to_string();
                            match item_result(it) {
                                Ok(trans_id) => BatchItemOutcome {
                                    customer_id,
                                    trans_id: Some(trans_id),
                                    error_code: None,
                                    error_msg: None,
                                },
                                Err(e) => BatchItemOutcome {
                                    customer_id,
                                    trans_id: None,
                                    error_code: Some(e.code.as_str().to_string()),
                                    error_msg: Some(e.message.into_owned()),
                                },
                            }
                        })
                        .collect(),
                )),
            }
        })
        .collect()
}
