//! Funding ("拨款") and reclaiming ("回收") between partners, resellers and resale customers, the
//! vendor's deposits and credit lines, and the balance and record views (20-funding.md).
//!
//! Rules live here; money moves only through `crate::ledger`; each operation is one transaction
//! (owned by `service::idempotency::run`) holding the journal and its adjust record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        funding::{AdjustFilter, AdjustRecordRow, ChangeFilter, ChangeRow},
    },
    domain::{ids::new_trans_id, Amount},
    error::{codes, ApiError, ApiResult, Code},
    ledger::{self, AccountRef, Entry, JournalKind, PartnerMoney, Purpose},
    service::{
        auth::{CustomerCaller, PartnerCaller},
        idempotency::Effect,
        lifecycle, organisation,
        partners::{self, Acting},
        read_coalesce,
    },
    state::{App, AppState},
};

mod coalesce;

pub use coalesce::{
    submit as coalesced, submit_batch as coalesced_batch, Coalescer, CustomerMove,
    Kind as MoveKind, MAX_BATCH,
};

pub const OP_FUND: &str = "SOURCE_OPERATION_BEADJUST";
pub const OP_RECLAIM: &str = "SOURCE_OPERATION_BERETRIEVE";
pub const OP_UNBIND: &str = "SOURCE_OPERATION_BEUNBIND";

/// The outcome of one transfer: its transaction id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transferred {
    pub trans_id: String,
}

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not a sub-customer of this partner.",
    )
}

fn not_distributor() -> ApiError {
    ApiError::new(
        Code::IllegalOperation,
        "Illegal operation: only a distributor may fund or reclaim resellers.",
    )
}

/// Whether money goes to the customer (funding) or comes back from it (reclaiming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    ToCustomer,
    FromCustomer,
}

/// The customer must be a sub-customer of the acting partner within the caller's manager scope
/// (CBC.99000035, whether or not it exists elsewhere), resale-type (advisory: CBC.99005024) and,
/// to be funded, not frozen (CBC.8214).
async fn resale_customer_of(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    partner_id: &str,
    customer_id: &str,
    direction: Direction,
) -> ApiResult<()> {
    let c = db::customers::lock_customer_detail_shared(conn, customer_id).await?;
    let c = c.as_ref().map(|c| MovedCustomer {
        partner_id: c.partner_id.as_deref(),
        association_type: c.association_type.as_deref(),
        is_frozen: c.is_frozen,
    });
    let c = c
        .filter(|c| c.partner_id == Some(partner_id))
        .ok_or_else(not_sub_customer)?;
    organisation::ensure_in_scope(conn, caller, partner_id, customer_id)
        .await
        .map_err(|_| not_sub_customer())?;
    customer_rules(Some(&c), partner_id, direction)
}

/// What the rules of a move read of its customer.
struct MovedCustomer<'a> {
    partner_id: Option<&'a str>,
    association_type: Option<&'a str>,
    is_frozen: i16,
}

/// The customer rules of [`resale_customer_of`] without the manager scope.
fn customer_rules(
    c: Option<&MovedCustomer<'_>>,
    partner_id: &str,
    direction: Direction,
) -> ApiResult<()> {
    let c = c
        .filter(|c| c.partner_id == Some(partner_id))
        .ok_or_else(not_sub_customer)?;
    if direction == Direction::ToCustomer {
        lifecycle::ensure_not_frozen(c.is_frozen)?;
    }
    if c.association_type != Some("2") {
        return Err(ApiError::business(
            codes::ASSOCIATION_TYPE_NOT_ALLOWED,
            "The customer's association type does not allow funding or reclaiming (advisory sale).",
        ));
    }
    Ok(())
}

/// The rules of a coalesced customer move (reads only): the partner whose balance moves.
async fn reclaim_or_fund_rules(conn: &mut PgConnection, op: &CustomerMove) -> ApiResult<String> {
    let acting =
        partners::resolve_acting(conn, &op.caller, op.indirect_partner_id.as_deref()).await?;
    let direction = match op.kind {
        MoveKind::Fund => Direction::ToCustomer,
        MoveKind::Reclaim => Direction::FromCustomer,
    };
    resale_customer_of(
        conn,
        &op.caller,
        &acting.partner_id,
        &op.customer_id,
        direction,
    )
    .await?;
    Ok(acting.partner_id)
}

struct Move<'a> {
    caller: &'a PartnerCaller,
    /// The partner whose balance moves.
    partner_id: &'a str,
    counterparty_id: &'a str,
    counterparty_kind: &'a str,
    amount: Amount,
}

async fn fund(
    app: &App,
    conn: &mut PgConnection,
    m: Move<'_>,
    kind: JournalKind,
) -> ApiResult<Transferred> {
    let at = app.now();
    let trans_id = new_trans_id("AD", at);
    let purpose = match kind {
        JournalKind::FundReseller => Purpose::PartnerCash,
        _ => Purpose::CustomerCash,
    };
    // The record first: the accounts' row locks are then held only for the journal and commit.
    record(conn, &m, &trans_id, OP_FUND, at).await?;
    let entry = Entry {
        trans_id: &trans_id,
        kind,
        at,
    };
    if kind == JournalKind::FundCustomer {
        // A customer in arrears pays them first from what arrives (SOURCE_OPERAIION_WRITEOFF).
        let writeoff_id = new_trans_id("WO", at);
        ledger::usage::fund_customer(
            conn,
            m.partner_id,
            m.counterparty_id,
            m.amount,
            &entry,
            &Entry {
                trans_id: &writeoff_id,
                kind: JournalKind::DebtWriteoff,
                at,
            },
        )
        .await?;
    } else {
        ledger::fund_from_partner(
            conn,
            m.partner_id,
            AccountRef::new(m.counterparty_id, purpose),
            m.amount,
            &entry,
        )
        .await?;
    }
    Ok(Transferred { trans_id })
}

async fn reclaim(
    app: &App,
    conn: &mut PgConnection,
    m: Move<'_>,
    kind: JournalKind,
) -> ApiResult<Transferred> {
    let at = app.now();
    let trans_id = new_trans_id("RE", at);
    let purpose = match kind {
        JournalKind::ReclaimReseller => Purpose::PartnerCash,
        _ => Purpose::CustomerCash,
    };
    record(conn, &m, &trans_id, OP_RECLAIM, at).await?;
    ledger::return_to_partner(
        conn,
        AccountRef::new(m.counterparty_id, purpose),
        m.partner_id,
        m.amount,
        &Entry {
            trans_id: &trans_id,
            kind,
            at,
        },
    )
    .await?;
    Ok(Transferred { trans_id })
}

async fn record(
    conn: &mut PgConnection,
    m: &Move<'_>,
    trans_id: &str,
    operation_type: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let rec = db::funding::NewAdjustRecord {
        trans_id,
        partner_id: m.partner_id,
        operator_id: m.caller.actor_id(),
        counterparty_id: m.counterparty_id,
        counterparty_kind: m.counterparty_kind,
        operation_type,
        amount_fen: m.amount.fen(),
        created_at: at,
    };
    db::funding::insert_adjust_record(conn, &rec).await?;
    crate::service::events::funding_recorded(conn, std::slice::from_ref(&rec)).await
}

/// Fund (op. 2) or reclaim (op. 3) a resale customer of the partner (or, for a distributor with
/// `indirect_partner_id`, of the reseller, whose money then moves) in the caller's transaction.
impl Effect for CustomerMove {
    type Output = Transferred;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Transferred> {
        let partner_id = reclaim_or_fund_rules(conn, self).await?;
        let m = Move {
            caller: &self.caller,
            partner_id: &partner_id,
            counterparty_id: &self.customer_id,
            counterparty_kind: "customer",
            amount: self.amount,
        };
        match self.kind {
            MoveKind::Fund => fund(app, conn, m, JournalKind::FundCustomer).await,
            MoveKind::Reclaim => reclaim(app, conn, m, JournalKind::ReclaimCustomer).await,
        }
    }
}

async fn own_reseller(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    reseller_id: &str,
) -> ApiResult<Acting> {
    if !caller.is_distributor() {
        return Err(not_distributor());
    }
    partners::resolve_acting(conn, caller, Some(reseller_id)).await
}

/// A distributor funds (op. 9) or reclaims from (op. 10) one of its resellers.
pub struct ResellerMove {
    pub kind: MoveKind,
    pub caller: PartnerCaller,
    pub reseller_id: String,
    pub amount: Amount,
}

impl Effect for ResellerMove {
    type Output = Transferred;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Transferred> {
        let reseller = own_reseller(conn, &self.caller, &self.reseller_id).await?;
        let m = Move {
            caller: &self.caller,
            partner_id: &self.caller.account_id,
            counterparty_id: &reseller.partner_id,
            counterparty_kind: "reseller",
            amount: self.amount,
        };
        match self.kind {
            MoveKind::Fund => fund(app, conn, m, JournalKind::FundReseller).await,
            MoveKind::Reclaim => reclaim(app, conn, m, JournalKind::ReclaimReseller).await,
        }
    }
}

/// One item of a batch funding outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchItemOutcome {
    pub customer_id: String,
    pub trans_id: Option<String>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
}

/// Batch funding (批量拨款, an extension): each item is its own journal under its own savepoint,
/// so one rejected item leaves the others standing (on the lone path; coalesced, each item is
/// planned against the locked balances and a rejected one writes nothing).
#[derive(Clone)]
pub struct BatchFund {
    pub caller: PartnerCaller,
    pub indirect_partner_id: Option<String>,
    pub items: Vec<(String, Amount)>,
}

impl Effect for BatchFund {
    type Output = Vec<BatchItemOutcome>;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Self::Output> {
        let acting =
            partners::resolve_acting(conn, &self.caller, self.indirect_partner_id.as_deref())
                .await?;
        let mut out = Vec::with_capacity(self.items.len());
        for (customer_id, amount) in &self.items {
            super::batch::begin_item(conn).await?;
            let r = async {
                resale_customer_of(
                    conn,
                    &self.caller,
                    &acting.partner_id,
                    customer_id,
                    Direction::ToCustomer,
                )
                .await?;
                fund(
                    app,
                    conn,
                    Move {
                        caller: &self.caller,
                        partner_id: &acting.partner_id,
                        counterparty_id: customer_id,
                        counterparty_kind: "customer",
                        amount: *amount,
                    },
                    JournalKind::FundCustomer,
                )
                .await
            }
            .await;
            match super::batch::end_item(conn, r).await? {
                Ok(t) => {
                    out.push(BatchItemOutcome {
                        customer_id: customer_id.clone(),
                        trans_id: Some(t.trans_id),
                        error_code: None,
                        error_msg: None,
                    });
                }
                Err(e) => {
                    out.push(BatchItemOutcome {
                        customer_id: customer_id.clone(),
                        trans_id: None,
                        error_code: Some(e.code.as_str().to_string()),
                        error_msg: Some(e.message.into_owned()),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn no_partner() -> ApiError {
    ApiError::business(codes::ACCOUNT_NOT_FOUND, "The partner does not exist.")
}

async fn existing_partner(conn: &mut PgConnection, partner_id: &str) -> ApiResult<()> {
    db::partners::find_partner(conn, partner_id)
        .await?
        .map(|_| ())
        .ok_or_else(no_partner)
}

/// The vendor deposits money into a partner's cash account (admin).
pub struct Deposit {
    pub partner_id: String,
    pub amount: Amount,
}

impl Effect for Deposit {
    type Output = Transferred;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Transferred> {
        existing_partner(conn, &self.partner_id).await?;
        let at = app.now();
        let trans_id = new_trans_id("DE", at);
        ledger::deposit(
            conn,
            &self.partner_id,
            self.amount,
            &Entry {
                trans_id: &trans_id,
                kind: JournalKind::Deposit,
                at,
            },
        )
        .await?;
        Ok(Transferred { trans_id })
    }
}

/// Sets a partner's total credit line (admin); lowering it below the credit in use is
/// CBC.99005003.
pub async fn set_credit_line(
    app: &App,
    partner_id: &str,
    limit_fen: i64,
) -> ApiResult<PartnerMoney> {
    let mut tx = app.db.begin().await?;
    existing_partner(&mut tx, partner_id).await?;
    let at = app.now();
    let trans_id = new_trans_id("CR", at);
    ledger::set_credit_line(
        &mut tx,
        partner_id,
        limit_fen,
        &Entry {
            trans_id: &trans_id,
            kind: JournalKind::CreditLine,
            at,
        },
    )
    .await?;
    let money = ledger::partner_money(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(money)
}

/// Sets a partner's designated ("专款专用") amount (admin); it cannot exceed the cash balance
/// (CBC.99005003).
pub async fn set_designated(
    app: &App,
    partner_id: &str,
    designated_fen: i64,
) -> ApiResult<PartnerMoney> {
    let mut tx = app.db.begin().await?;
    existing_partner(&mut tx, partner_id).await?;
    ledger::set_designated(&mut tx, partner_id, designated_fen).await?;
    let money = ledger::partner_money(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(money)
}

/// The ledger audit over one consistent snapshot.
pub async fn audit(app: &App) -> ApiResult<ledger::AuditReport> {
    Ok(ledger::audit_snapshot(&app.db).await?)
}

/// Balances of the caller, or of the reseller a distributor names (op. 1).
pub async fn partner_balances(
    app: &AppState,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
) -> ApiResult<PartnerMoney> {
    if indirect_partner_id.is_none_or(str::is_empty) {
        // The caller's own balances: concurrent reads share one query.
        let money = read_coalesce::read(
            app,
            |app| &app.balance_reads,
            load_partners_money,
            caller.account_id.clone(),
        )
        .await?;
        return Ok(money.unwrap_or_default());
    }
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    Ok(ledger::partner_money(&mut conn, &acting.partner_id).await?)
}

fn load_partners_money(app: AppState, ids: Vec<String>) -> read_coalesce::Loading<PartnerMoney> {
    Box::pin(async move {
        let mut conn = app.db.acquire().await?;
        let found = ledger::partners_money(&mut conn, &ids).await?;
        // Answered from this task, not the requests': behind a pooler, end the checkout here.
        conn.settle().await?;
        Ok(found)
    })
}

/// Balance and arrears (fen) of each requested id that is a resale sub-customer of the acting
/// partner, in request order, duplicates and other ids silently dropped (op. 6).
pub async fn customer_balances(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    ids: &[String],
) -> ApiResult<Vec<(String, i64, i64)>> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    let mut own = db::funding::resale_customer_ids(&mut conn, &acting.partner_id, ids).await?;
    if caller.manager_scope().is_some() {
        let mut visible = Vec::with_capacity(own.len());
        for id in own {
            if organisation::ensure_in_scope(&mut conn, caller, &acting.partner_id, &id)
                .await
                .is_ok()
            {
                visible.push(id);
            }
        }
        own = visible;
    }
    let balances = ledger::balances(&mut conn, &own, Purpose::CustomerCash).await?;
    let debts = ledger::usage::debts(&mut conn, &own).await?;
    let mut out: Vec<(String, i64, i64)> = Vec::new();
    for id in ids {
        if own.contains(id) && !out.iter().any(|(o, _, _)| o == id) {
            let b = balances
                .iter()
                .find(|(o, _, _)| o == id)
                .map_or(0, |(_, _, b)| *b);
            let d = debts.iter().find(|(o, _)| o == id).map_or(0, |(_, d)| *d);
            out.push((id.clone(), b, d));
        }
    }
    Ok(out)
}

/// A customer's own cash account: (ledger account id, balance fen, arrears fen) (op. 7).
pub async fn own_balance(app: &App, caller: &CustomerCaller) -> ApiResult<(Option<i64>, i64, i64)> {
    let mut conn = app.db.acquire().await?;
    let me = std::slice::from_ref(&caller.account_id);
    let b = ledger::balances(&mut conn, me, Purpose::CustomerCash).await?;
    let debt = ledger::usage::debts(&mut conn, me)
        .await?
        .first()
        .map_or(0, |(_, d)| *d);
    let (id, bal) = b
        .first()
        .map_or((None, 0), |(_, id, bal)| (Some(*id), *bal));
    Ok((id, bal, debt))
}

pub struct AdjustQuery {
    pub filter: AdjustFilter,
    pub indirect_partner_id: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// Fund/reclaim records of the acting partner (op. 4); a counterparty that is not the caller's
/// simply matches nothing.
pub async fn adjust_records(
    app: &App,
    caller: &PartnerCaller,
    q: &AdjustQuery,
) -> ApiResult<(i64, Vec<AdjustRecordRow>)> {
    let mut conn = app.db.acquire().await?;
    let acting =
        partners::resolve_acting(&mut conn, caller, q.indirect_partner_id.as_deref()).await?;
    let mut filter = q.filter.clone();
    filter.manager_ids = caller.manager_scope().map(<[String]>::to_vec);
    Ok(
        db::funding::list_adjust_records(&mut conn, &acting.partner_id, &filter, q.offset, q.limit)
            .await?,
    )
}

/// Cash (`BALANCE_TYPE_DEBIT`) or credit (`BALANCE_TYPE_CREDIT`) account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceType {
    Debit,
    Credit,
}

pub struct ChangeQuery {
    pub balance_type: BalanceType,
    pub kinds: Option<Vec<String>>,
    pub trans_id: Option<String>,
    /// 1 income only, -1 expense only.
    pub direction: Option<i32>,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub offset: i64,
    pub limit: i64,
}

/// Account-change records of the acting partner (op. 5).
pub async fn partner_changes(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
    q: ChangeQuery,
) -> ApiResult<(i64, Vec<ChangeRow>)> {
    let mut conn = app.db.acquire().await?;
    let acting = partners::resolve_acting(&mut conn, caller, indirect_partner_id).await?;
    let purpose = match q.balance_type {
        BalanceType::Debit => Purpose::PartnerCash,
        BalanceType::Credit => Purpose::PartnerCredit,
    };
    changes(&mut conn, &acting.partner_id, purpose, q).await
}

/// A customer's own account-change records (op. 8); a partner's resale customer gets
/// CBC.99000084.
pub async fn customer_changes(
    app: &App,
    caller: &CustomerCaller,
    q: ChangeQuery,
) -> ApiResult<(i64, Vec<ChangeRow>)> {
    let mut conn = app.db.acquire().await?;
    let c = db::customers::find_customer(&mut conn, &caller.account_id).await?;
    if c.and_then(|c| c.association_type).as_deref() == Some("2") {
        return Err(ApiError::business(
            codes::CHANGE_RECORDS_NOT_SUPPORTED,
            "Account-change records are not supported for a partner's resale-type customers.",
        ));
    }
    if q.balance_type == BalanceType::Credit {
        return Ok((0, Vec::new()));
    }
    changes(&mut conn, &caller.account_id, Purpose::CustomerCash, q).await
}

async fn changes(
    conn: &mut PgConnection,
    owner_id: &str,
    purpose: Purpose,
    q: ChangeQuery,
) -> ApiResult<(i64, Vec<ChangeRow>)> {
    let f = ChangeFilter {
        owner_id,
        purpose: purpose.as_str(),
        kinds: q.kinds,
        trans_id: q.trans_id,
        direction: q.direction,
        from: q.from,
        until: q.until,
    };
    Ok(db::funding::list_changes(conn, &f, q.offset, q.limit).await?)
}

/// Returns a resale customer's whole cash balance to its partner (journal `unbind_customer`,
/// adjust record `SOURCE_OPERATION_BEUNBIND`) inside the caller's transaction, when the
/// association ends or leaves reseller mode. `None` when there was nothing to return.
pub async fn unbind_balance(
    app: &App,
    conn: &mut PgConnection,
    actor_id: &str,
    partner_id: &str,
    customer_id: &str,
) -> ApiResult<Option<String>> {
    let customer = AccountRef::new(customer_id, Purpose::CustomerCash);
    let locked = ledger::lock_accounts(conn, &[customer]).await?;
    let balance = locked.first().map_or(0, |l| l.balance);
    let Ok(amount) = Amount::from_fen(balance) else {
        return Ok(None);
    };
    let at = app.now();
    let trans_id = new_trans_id("UB", at);
    ledger::return_to_partner(
        conn,
        customer,
        partner_id,
        amount,
        &Entry {
            trans_id: &trans_id,
            kind: JournalKind::UnbindCustomer,
            at,
        },
    )
    .await?;
    db::funding::insert_adjust_record(
        conn,
        &db::funding::NewAdjustRecord {
            trans_id: &trans_id,
            partner_id,
            operator_id: actor_id,
            counterparty_id: customer_id,
            counterparty_kind: "customer",
            operation_type: OP_UNBIND,
            amount_fen: amount.fen(),
            created_at: at,
        },
    )
    .await?;
    Ok(Some(trans_id))
}
