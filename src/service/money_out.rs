//! Top-ups (recharges), incentive rebates and withdrawals (提现) with held funds (issue 11).
//!
//! A withdrawal holds its amount in the ledger at request time (cash → `withdrawal_hold`, or
//! rebate → `rebate_withdrawal_hold`) under the balance account's row lock, after checking it
//! against the withdrawable amount (`domain::withdrawable`): two concurrent requests are
//! serialised by that lock, and every later check (funding a customer, another withdrawal) sees
//! the lower balance. Paid: the hold leaves for the vendor's payouts; rejected or cancelled: it
//! returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        money_out::{
            EventRow, EventTable, RechargeFilter, RechargeRow, WithdrawalFilter, WithdrawalRow,
            WithdrawalUpdate,
        },
    },
    domain::{
        ids::new_trans_id,
        money_out::{withdrawal_next, WithdrawalAction},
        permissions::OperatorScope,
        withdrawable::{CashTerms, RebateTerms},
        Amount,
    },
    error::{codes, ApiError, ApiResult},
    ledger::{
        self,
        payouts::{self, Pot},
        Entry, JournalKind, LedgerError,
    },
    service::{auth::PartnerCaller, idempotency::Effect, partner_bills, verification},
    state::App,
};

// ---------------------------------------------------------------------------------------------
// Recharges

/// A partner's top-up request.
pub struct NewRecharge {
    pub caller: PartnerCaller,
    pub amount: Amount,
    pub method: String,
    pub reference: Option<String>,
}

/// A recharge as stored (replayable).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recharge {
    pub id: String,
    pub partner_id: String,
    pub amount: i64,
    pub method: String,
    pub reference: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub trans_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When a confirmed amount stops being unposted.
    pub clears_at: Option<DateTime<Utc>>,
}

pub fn recharge_view(app: &App, r: RechargeRow) -> Recharge {
    let clearing = chrono::Duration::days(app.config.withdrawals.clearing_days);
    Recharge {
        clears_at: r.confirmed_at.map(|t| t + clearing),
        id: r.id,
        partner_id: r.partner_id,
        amount: r.amount,
        method: r.method,
        reference: r.reference,
        status: r.status,
        reason: r.reason,
        trans_id: r.trans_id,
        created_at: r.created_at,
        confirmed_at: r.confirmed_at,
    }
}

impl Effect for NewRecharge {
    type Output = Recharge;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Recharge> {
        let at = app.now();
        let row = RechargeRow {
            id: new_trans_id("RQ", at),
            partner_id: self.caller.account_id.clone(),
            operator_id: self.caller.actor_id().to_string(),
            amount: self.amount.fen(),
            method: self.method.clone(),
            reference: self.reference.clone(),
            status: "PENDING".into(),
            reason: None,
            trans_id: None,
            created_at: at,
            confirmed_at: None,
            updated_at: at,
        };
        db::money_out::insert_recharge(conn, &row).await?;
        Ok(recharge_view(app, row))
    }
}

/// The vendor confirms (the amount is deposited into the partner's cash, shown as
/// `SOURCE_OPERAIION_RECHARGE`) or rejects a pending recharge.
pub struct SettleRecharge {
    pub id: String,
    pub confirm: bool,
    pub reason: Option<String>,
}

impl Effect for SettleRecharge {
    type Output = Recharge;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Recharge> {
        let r = db::money_out::lock_recharge(conn, &self.id)
            .await?
            .ok_or_else(|| {
                ApiError::business(codes::RECHARGE_NOT_FOUND, "The recharge does not exist.")
            })?;
        if r.status != "PENDING" {
            return Err(ApiError::business(
                codes::RECHARGE_STATE,
                format!("The recharge is {}, not PENDING.", r.status),
            ));
        }
        let at = app.now();
        let (status, trans_id) = if self.confirm {
            let trans_id = new_trans_id("RC", at);
            let amount = Amount::from_fen(r.amount).map_err(ApiError::internal)?;
            ledger::deposit(
                conn,
                &r.partner_id,
                amount,
                &Entry {
                    trans_id: &trans_id,
                    kind: JournalKind::Deposit,
                    at,
                },
            )
            .await?;
            ("CONFIRMED", Some(trans_id))
        } else {
            ("REJECTED", None)
        };
        let row = db::money_out::settle_recharge(
            conn,
            &self.id,
            status,
            trans_id.as_deref(),
            self.reason.as_deref(),
            at,
        )
        .await?;
        Ok(recharge_view(app, row))
    }
}

pub async fn list_recharges(
    app: &App,
    caller: &PartnerCaller,
    f: &RechargeFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<Recharge>)> {
    let mut conn = app.db.acquire().await?;
    let (total, rows) =
        db::money_out::list_recharges(&mut conn, &caller.account_id, f, offset, limit).await?;
    Ok((
        total,
        rows.into_iter().map(|r| recharge_view(app, r)).collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Rebates

/// The vendor grants a partner an incentive rebate.
pub struct GrantRebate {
    pub partner_id: String,
    pub amount: Amount,
    pub remark: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Granted {
    pub trans_id: String,
    pub rebate_balance: i64,
}

impl Effect for GrantRebate {
    type Output = Granted;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Granted> {
        db::partners::find_partner(conn, &self.partner_id)
            .await?
            .ok_or_else(|| {
                ApiError::business(codes::ACCOUNT_NOT_FOUND, "The partner does not exist.")
            })?;
        let at = app.now();
        let trans_id = new_trans_id("RB", at);
        payouts::grant_rebate(
            conn,
            &self.partner_id,
            self.amount,
            &Entry {
                trans_id: &trans_id,
                kind: JournalKind::RebateGrant,
                at,
            },
        )
        .await?;
        db::money_out::insert_rebate_grant(
            conn,
            &trans_id,
            &self.partner_id,
            self.amount.fen(),
            self.remark.as_deref(),
            at,
        )
        .await?;
        let b = payouts::out_balances(conn, &self.partner_id).await?;
        Ok(Granted {
            trans_id,
            rebate_balance: b.rebate,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The withdrawable amount

/// Every term of the formula, for cash and for rebates.
#[derive(Debug, Clone, Copy)]
pub struct Withdrawable {
    pub cash: CashTerms,
    pub rebate: RebateTerms,
}

/// Reads every term (the balances without locking: [`payouts::hold`] re-checks under the lock).
pub async fn terms(
    app: &App,
    conn: &mut PgConnection,
    partner_id: &str,
) -> ApiResult<Withdrawable> {
    let money = ledger::partner_money(conn, partner_id).await?;
    let out = payouts::out_balances(conn, partner_id).await?;
    let since = app.now() - chrono::Duration::days(app.config.withdrawals.clearing_days);
    let unposted = db::money_out::unposted(conn, partner_id, since).await?;
    let customers = db::money_out::resale_customer_ids(conn, partner_id).await?;
    let sub_customer_debt = ledger::usage::debts(conn, &customers)
        .await?
        .iter()
        .map(|(_, d)| *d)
        .sum();
    let invoice_owed = partner_bills::invoice_owed(conn, partner_id).await?;
    Ok(Withdrawable {
        cash: CashTerms {
            cash: money.cash,
            designated: money.designated,
            invoice_owed,
            unposted,
            sub_customer_debt,
            pending: out.cash_hold,
        },
        rebate: RebateTerms {
            rebate: out.rebate,
            pending: out.rebate_hold,
        },
    })
}

pub async fn withdrawable(app: &App, caller: &PartnerCaller) -> ApiResult<Withdrawable> {
    let mut conn = app.db.acquire().await?;
    terms(app, &mut conn, &caller.account_id).await
}

// ---------------------------------------------------------------------------------------------
// Withdrawals

/// Supervisors and customer managers never withdraw, whatever their role holds.
fn ensure_may_withdraw(caller: &PartnerCaller) -> ApiResult<()> {
    match &caller.operator {
        Some(op) if op.scope != OperatorScope::Staff => Err(ApiError::new(
            crate::error::Code::AccessDenied,
            "Access denied: supervisors and customer managers never withdraw.",
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone)]
pub struct BankAccount {
    pub account_name: String,
    pub account_no: String,
    pub bank_name: String,
    pub branch: Option<String>,
}

pub struct NewWithdrawal {
    pub caller: PartnerCaller,
    pub pot: Pot,
    pub amount: Amount,
    pub bank: BankAccount,
    pub verification_code: Option<String>,
}

/// The partner's verification mobile (`None`: withdrawals need no code).
pub async fn verification_mobile(app: &App, caller: &PartnerCaller) -> ApiResult<Option<String>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::money_out::verification_mobile(&mut conn, &caller.account_id).await?)
}

/// Enables (a mobile) or disables (`None`) withdrawal verification; the main account only.
pub async fn set_verification_mobile(
    app: &App,
    caller: &PartnerCaller,
    mobile: Option<&str>,
) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    db::money_out::set_verification_mobile(&mut conn, &caller.account_id, mobile, app.now())
        .await?;
    Ok(())
}

/// A withdrawal with its history (replayable).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithdrawalView {
    pub id: String,
    pub partner_id: String,
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
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<HistoryItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryItem {
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<EventRow> for HistoryItem {
    fn from(e: EventRow) -> Self {
        HistoryItem {
            from_status: e.from_status,
            to_status: e.to_status,
            actor: e.actor,
            note: e.note,
            created_at: e.created_at,
        }
    }
}

fn bare(w: WithdrawalRow) -> WithdrawalView {
    WithdrawalView {
        deleted: w.deleted_at.is_some(),
        id: w.id,
        partner_id: w.partner_id,
        withdrawal_type: w.withdrawal_type,
        amount: w.amount,
        status: w.status,
        account_name: w.account_name,
        account_no: w.account_no,
        bank_name: w.bank_name,
        branch: w.branch,
        rebate_invoice_reference: w.rebate_invoice_reference,
        payout_reference: w.payout_reference,
        reject_reason: w.reject_reason,
        hold_trans_id: w.hold_trans_id,
        settle_trans_id: w.settle_trans_id,
        created_at: w.created_at,
        updated_at: w.updated_at,
        history: Vec::new(),
    }
}

async fn with_history(conn: &mut PgConnection, w: WithdrawalRow) -> ApiResult<WithdrawalView> {
    let history = db::money_out::events(conn, EventTable::Withdrawal, &w.id)
        .await?
        .into_iter()
        .map(HistoryItem::from)
        .collect();
    Ok(WithdrawalView { history, ..bare(w) })
}

fn pot_of(withdrawal_type: &str) -> Pot {
    if withdrawal_type == "REBATE" {
        Pot::Rebate
    } else {
        Pot::Cash
    }
}

fn type_of(pot: Pot) -> &'static str {
    match pot {
        Pot::Cash => "CASH",
        Pot::Rebate => "REBATE",
    }
}

async fn event(
    conn: &mut PgConnection,
    id: &str,
    from: Option<&str>,
    to: &str,
    actor: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let e = EventRow {
        from_status: from.map(str::to_string),
        to_status: to.into(),
        actor: actor.into(),
        note: note.map(str::to_string),
        created_at: at,
    };
    Ok(db::money_out::insert_event(conn, EventTable::Withdrawal, id, &e).await?)
}

impl Effect for NewWithdrawal {
    type Output = WithdrawalView;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<WithdrawalView> {
        ensure_may_withdraw(&self.caller)?;
        let p = &self.caller.account_id;
        if let Some(mobile) = db::money_out::verification_mobile(conn, p).await? {
            let code = self.verification_code.as_deref().ok_or_else(|| {
                ApiError::invalid(
                    "verification_code",
                    "is required: the partner enabled withdrawal verification",
                )
            })?;
            let id = verification::check_code(app, &mobile, verification::SCENE_REGISTRATION, code)
                .await?;
            verification::consume(app, conn, id).await?;
        }
        let t = terms(app, conn, p).await?;
        let reserved = match self.pot {
            Pot::Cash => t.cash.reserved(),
            Pot::Rebate => 0,
        };
        let at = app.now();
        let id = new_trans_id("WD", at);
        let hold_trans_id = new_trans_id("WH", at);
        payouts::hold(
            conn,
            p,
            self.pot,
            self.amount,
            reserved,
            &Entry {
                trans_id: &hold_trans_id,
                kind: JournalKind::WithdrawalHold,
                at,
            },
        )
        .await
        .map_err(|e| match e {
            LedgerError::Insufficient => ApiError::business(
                codes::WITHDRAWAL_EXCEEDS_WITHDRAWABLE,
                "The amount exceeds the withdrawable amount.",
            ),
            other => other.into(),
        })?;
        let row = WithdrawalRow {
            id: id.clone(),
            partner_id: p.clone(),
            operator_id: self.caller.actor_id().to_string(),
            withdrawal_type: type_of(self.pot).into(),
            amount: self.amount.fen(),
            status: "PENDING_REVIEW".into(),
            account_name: self.bank.account_name.clone(),
            account_no: self.bank.account_no.clone(),
            bank_name: self.bank.bank_name.clone(),
            branch: self.bank.branch.clone(),
            rebate_invoice_reference: None,
            payout_reference: None,
            reject_reason: None,
            hold_trans_id,
            settle_trans_id: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
        };
        db::money_out::insert_withdrawal(conn, &row).await?;
        event(
            conn,
            &id,
            None,
            "PENDING_REVIEW",
            self.caller.actor_id(),
            None,
            at,
        )
        .await?;
        with_history(conn, row).await
    }
}

/// A state change of a withdrawal, by the partner (`partner` set: only its own) or the vendor.
pub struct MoveWithdrawal {
    pub id: String,
    pub partner: Option<PartnerCaller>,
    pub action: WithdrawalAction,
    /// `paid`: the payout reference; `reject`: the reason; attach: the invoice reference.
    pub text: Option<String>,
}

impl Effect for MoveWithdrawal {
    type Output = WithdrawalView;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<WithdrawalView> {
        if let Some(c) = &self.partner {
            ensure_may_withdraw(c)?;
        }
        let partner_id = self.partner.as_ref().map(|c| c.account_id.as_str());
        let w = db::money_out::lock_withdrawal(conn, &self.id, partner_id)
            .await?
            .ok_or_else(|| {
                ApiError::business(
                    codes::WITHDRAWAL_NOT_FOUND,
                    "The withdrawal does not exist.",
                )
            })?;
        let next = withdrawal_next(&w.status, self.action).ok_or_else(|| {
            ApiError::business(
                codes::WITHDRAWAL_STATE,
                format!(
                    "A withdrawal in {} does not allow this operation ({:?}).",
                    w.status, self.action
                ),
            )
        })?;
        let at = app.now();
        let pot = pot_of(&w.withdrawal_type);
        let amount = Amount::from_fen(w.amount).map_err(ApiError::internal)?;
        let mut u = WithdrawalUpdate {
            status: next,
            ..Default::default()
        };
        let settle_id = new_trans_id("WS", at);
        let entry = |kind| Entry {
            trans_id: &settle_id,
            kind,
            at,
        };
        let text = self.text.as_deref();
        match self.action {
            WithdrawalAction::Paid => {
                if pot == Pot::Rebate && w.rebate_invoice_reference.is_none() {
                    return Err(ApiError::business(
                        codes::REBATE_INVOICE_REQUIRED,
                        "A rebate withdrawal needs the partner's invoice reference before it is paid.",
                    ));
                }
                payouts::pay_out(
                    conn,
                    &w.partner_id,
                    pot,
                    amount,
                    &entry(JournalKind::WithdrawalPayout),
                )
                .await?;
                u.settle_trans_id = Some(&settle_id);
                u.payout_reference = text;
            }
            WithdrawalAction::Reject | WithdrawalAction::Cancel => {
                payouts::release(
                    conn,
                    &w.partner_id,
                    pot,
                    amount,
                    &entry(JournalKind::WithdrawalRelease),
                )
                .await?;
                u.settle_trans_id = Some(&settle_id);
                if self.action == WithdrawalAction::Reject {
                    u.reject_reason = text;
                }
            }
            WithdrawalAction::AttachInvoice => {
                if pot != Pot::Rebate {
                    return Err(ApiError::business(
                        codes::WITHDRAWAL_STATE,
                        "Only a rebate withdrawal takes an invoice reference.",
                    ));
                }
                u.rebate_invoice_reference = text;
            }
            WithdrawalAction::Delete => u.deleted = true,
            WithdrawalAction::Approve => {}
        }
        let row = db::money_out::update_withdrawal(conn, &self.id, &u, at).await?;
        let actor = self
            .partner
            .as_ref()
            .map_or("vendor", |c| c.actor_id())
            .to_string();
        let note = match self.action {
            WithdrawalAction::Delete => Some("deleted"),
            WithdrawalAction::AttachInvoice => Some("invoice reference attached"),
            _ => text,
        };
        event(conn, &self.id, Some(&w.status), next, &actor, note, at).await?;
        with_history(conn, row).await
    }
}

pub async fn show_withdrawal(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<WithdrawalView> {
    let mut conn = app.db.acquire().await?;
    let w = db::money_out::find_withdrawal(&mut conn, id, &caller.account_id)
        .await?
        .ok_or_else(|| {
            ApiError::business(
                codes::WITHDRAWAL_NOT_FOUND,
                "The withdrawal does not exist.",
            )
        })?;
    with_history(&mut conn, w).await
}

pub async fn list_withdrawals(
    app: &App,
    caller: &PartnerCaller,
    f: &WithdrawalFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<WithdrawalView>)> {
    let mut conn = app.db.acquire().await?;
    let (total, rows) =
        db::money_out::list_withdrawals(&mut conn, &caller.account_id, f, offset, limit).await?;
    Ok((total, rows.into_iter().map(bare).collect()))
}
