//! The ledger: the ONLY code that writes balances, journals and postings (a test scans `src/` to
//! keep it so).
//!
//! * Double entry: every operation is one journal of ≥ 2 postings summing to zero per asset; the
//!   database re-checks this at commit (deferred constraint trigger) and refuses UPDATE/DELETE of
//!   journals and postings.
//! * Balances are materialised on `ledger_account` in the same transaction as the postings, with a
//!   `CHECK (balance >= floor)` as the backstop of the floor checks done here.
//! * Accounts are locked in ascending id order (`select … order by id for update`), so two
//!   transactions touching the same accounts can never deadlock.
//! * Functions take the caller's connection (normally its transaction) and never commit, so
//!   business rows and money commit or roll back together.

pub mod audit;
mod coupons;
pub mod orders;
pub mod payouts;
mod reads;
mod repo;
pub mod usage;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub use audit::{audit, audit_incremental, audit_snapshot, AuditReport, IncrementalReport};
pub use coupons::*;
pub use reads::*;

use crate::domain::Amount;

/// Owner id of the vendor's own accounts.
pub const SYSTEM: &str = "system";

pub type AccountId = i64;
pub type JournalId = i64;

/// What an account is for. The schema accepts every purpose; later issues (coupons, withdrawals,
/// usage) use the ones not yet written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// A partner's (or reseller's) cash balance; floor = its designated amount.
    PartnerCash,
    /// A partner's unused credit line; floor 0; `credit_limit` is the total line.
    PartnerCredit,
    /// A resale customer's available balance; floor 0.
    CustomerCash,
    /// System: where vendor deposits come from (no floor).
    VendorDeposits,
    /// System: where credit lines come from (no floor).
    CreditLines,
    /// A partner's coupon quota.
    PartnerCouponQuota,
    /// System: source of coupon quotas.
    CouponQuotaSource,
    /// A customer's coupon value.
    CustomerCouponValue,
    /// System: source of coupon value.
    CouponValueSource,
    /// System: withdrawals between request and payout.
    WithdrawalClearing,
    /// System: customer usage charged.
    UsageCharged,
    /// System: money paid out.
    Payouts,
    /// A customer's own credit line (unused credit; floor 0; `credit_limit` is the total line).
    CustomerCredit,
    /// A customer's arrears: the balance is minus the debt (0 or less; no floor).
    CustomerDebt,
    /// A stored-value card's balance (owned by the card id); floor 0.
    StoredValueCard,
    /// System: coupon value spent on consumption.
    CouponValueUsed,
    /// A partner's incentive rebate balance (granted by the vendor); floor 0.
    PartnerRebate,
    /// A partner's cash held by pending withdrawals; floor 0.
    WithdrawalHold,
    /// A partner's rebate held by pending rebate withdrawals; floor 0.
    RebateWithdrawalHold,
    /// System: where rebates come from (no floor).
    RebateSource,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PartnerCash => "partner_cash",
            Purpose::PartnerCredit => "partner_credit",
            Purpose::CustomerCash => "customer_cash",
            Purpose::VendorDeposits => "vendor_deposits",
            Purpose::CreditLines => "credit_lines",
            Purpose::PartnerCouponQuota => "partner_coupon_quota",
            Purpose::CouponQuotaSource => "coupon_quota_source",
            Purpose::CustomerCouponValue => "customer_coupon_value",
            Purpose::CouponValueSource => "coupon_value_source",
            Purpose::WithdrawalClearing => "withdrawal_clearing",
            Purpose::UsageCharged => "usage_charged",
            Purpose::Payouts => "payouts",
            Purpose::CustomerCredit => "customer_credit",
            Purpose::CustomerDebt => "customer_debt",
            Purpose::StoredValueCard => "stored_value_card",
            Purpose::CouponValueUsed => "coupon_value_used",
            Purpose::PartnerRebate => "partner_rebate",
            Purpose::WithdrawalHold => "withdrawal_hold",
            Purpose::RebateWithdrawalHold => "rebate_withdrawal_hold",
            Purpose::RebateSource => "rebate_source",
        }
    }

    pub fn asset(self) -> Asset {
        match self {
            Purpose::PartnerCouponQuota | Purpose::CouponQuotaSource => Asset::CouponQuota,
            Purpose::CustomerCouponValue
            | Purpose::CouponValueSource
            | Purpose::CouponValueUsed => Asset::CouponValue,
            _ => Asset::Cny,
        }
    }

    /// The floor an account of this purpose opens with: none for system sources, 0 otherwise.
    pub fn opening_floor(self) -> Option<i64> {
        match self {
            Purpose::VendorDeposits
            | Purpose::CreditLines
            | Purpose::CouponQuotaSource
            | Purpose::CouponValueSource
            | Purpose::WithdrawalClearing
            | Purpose::UsageCharged
            | Purpose::Payouts
            | Purpose::CustomerDebt
            | Purpose::CouponValueUsed
            | Purpose::RebateSource => None,
            _ => Some(0),
        }
    }
}

/// What is counted: cash in fen, or units of a non-cash asset. Journals balance per asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Asset {
    Cny,
    CouponQuota,
    CouponValue,
}

impl Asset {
    pub fn as_str(self) -> &'static str {
        match self {
            Asset::Cny => "CNY",
            Asset::CouponQuota => "COUPON_QUOTA",
            Asset::CouponValue => "COUPON_VALUE",
        }
    }
}

/// The business operation a journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalKind {
    Deposit,
    CreditLine,
    FundCustomer,
    ReclaimCustomer,
    FundReseller,
    ReclaimReseller,
    Adjustment,
    /// A customer's balance returned to its partner when the association ends or leaves resale.
    UnbindCustomer,
    /// The vendor grants a partner a coupon quota.
    CouponQuotaGrant,
    /// The vendor raises or lowers a coupon quota's value.
    CouponQuotaAdjust,
    /// A coupon issued to a customer from a quota.
    CouponIssue,
    /// A coupon's remaining balance returned to its quota (manual reclaim).
    CouponReclaim,
    /// A coupon reclaimed automatically when the association ends or leaves resale.
    CouponUnbind,
    /// A distributor carves a reseller quota out of its own.
    CouponQuotaIssue,
    /// A reseller quota's remaining balance returned to the distributor's quota.
    CouponQuotaReclaim,
    /// A fee record paid (coupons, cards, cash, credit, arrears).
    UsageCharge,
    /// A fee record refunded or adjusted: money back where it came from, in reverse order.
    UsageRefund,
    /// Arrears settled from newly arrived cash.
    DebtWriteoff,
    /// The vendor sells a stored-value card to a customer.
    CardSale,
    /// The vendor deposits a customer's own top-up (advisory customers pay themselves).
    CustomerDeposit,
    /// The vendor sets a customer's own credit line.
    CustomerCreditLine,
    /// The vendor grants a partner an incentive rebate.
    RebateGrant,
    /// A withdrawal request holds the amount (balance → hold).
    WithdrawalHold,
    /// A rejected or cancelled withdrawal releases its hold (hold → balance).
    WithdrawalRelease,
    /// A paid withdrawal: the hold leaves for the vendor's payouts.
    WithdrawalPayout,
    /// A partner repays used credit from its cash.
    CreditRepayment,
    /// An order's line item paid (coupons, cards, cash, credit; never arrears).
    OrderPayment,
    /// An unsubscription's refund of one charge back where it came from.
    OrderRefund,
}

impl JournalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalKind::Deposit => "deposit",
            JournalKind::CreditLine => "credit_line",
            JournalKind::FundCustomer => "fund_customer",
            JournalKind::ReclaimCustomer => "reclaim_customer",
            JournalKind::FundReseller => "fund_reseller",
            JournalKind::ReclaimReseller => "reclaim_reseller",
            JournalKind::Adjustment => "adjustment",
            JournalKind::UnbindCustomer => "unbind_customer",
            JournalKind::CouponQuotaGrant => "coupon_quota_grant",
            JournalKind::CouponQuotaAdjust => "coupon_quota_adjust",
            JournalKind::CouponIssue => "coupon_issue",
            JournalKind::CouponReclaim => "coupon_reclaim",
            JournalKind::CouponUnbind => "coupon_unbind",
            JournalKind::CouponQuotaIssue => "coupon_quota_issue",
            JournalKind::CouponQuotaReclaim => "coupon_quota_reclaim",
            JournalKind::UsageCharge => "usage_charge",
            JournalKind::UsageRefund => "usage_refund",
            JournalKind::DebtWriteoff => "debt_writeoff",
            JournalKind::CardSale => "card_sale",
            JournalKind::CustomerDeposit => "customer_deposit",
            JournalKind::CustomerCreditLine => "customer_credit_line",
            JournalKind::RebateGrant => "rebate_grant",
            JournalKind::WithdrawalHold => "withdrawal_hold",
            JournalKind::WithdrawalRelease => "withdrawal_release",
            JournalKind::WithdrawalPayout => "withdrawal_payout",
            JournalKind::CreditRepayment => "credit_repayment",
            JournalKind::OrderPayment => "order_payment",
            JournalKind::OrderRefund => "order_refund",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// An account would go below its floor (insufficient balance).
    #[error("insufficient balance")]
    Insufficient,
    /// The journal is malformed (fewer than 2 postings, not balanced, zero amounts).
    #[error("invalid journal: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Identifies a journal: the transaction id shown to clients, the kind and the time.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub trans_id: &'a str,
    pub kind: JournalKind,
    pub at: DateTime<Utc>,
}

/// An account by owner and purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRef<'a> {
    pub owner_id: &'a str,
    pub purpose: Purpose,
}

impl<'a> AccountRef<'a> {
    pub fn new(owner_id: &'a str, purpose: Purpose) -> Self {
        AccountRef { owner_id, purpose }
    }
    pub fn system(purpose: Purpose) -> AccountRef<'static> {
        AccountRef {
            owner_id: SYSTEM,
            purpose,
        }
    }
}

/// A locked account row (or, for [`apply_planned`], one read without a lock that the write
/// re-checks under its lock).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Locked {
    pub id: AccountId,
    pub owner_id: String,
    pub purpose: String,
    pub balance: i64,
    pub floor: Option<i64>,
    pub credit_limit: i64,
}

impl Locked {
    fn is(&self, r: AccountRef<'_>) -> bool {
        self.owner_id == r.owner_id && self.purpose == r.purpose.as_str()
    }
    /// What can leave the account without breaking its floor (unbounded without a floor).
    fn available(&self) -> i64 {
        match self.floor {
            Some(f) => self.balance - f,
            None => i64::MAX,
        }
    }
}

fn find<'l>(locked: &'l [Locked], r: AccountRef<'_>) -> &'l Locked {
    locked
        .iter()
        .find(|l| l.is(r))
        .expect("lock_accounts returns every requested account")
}

/// `r` among accounts the caller locked, or `Invalid` when it did not lock it.
fn held<'l>(locked: &'l [Locked], r: AccountRef<'_>) -> Result<&'l Locked, LedgerError> {
    locked
        .iter()
        .find(|l| l.is(r))
        .ok_or(LedgerError::Invalid("the account is not locked"))
}

/// Creates the accounts that do not exist yet (at partner/customer creation).
pub async fn open_accounts(
    conn: &mut PgConnection,
    refs: &[AccountRef<'_>],
) -> Result<(), sqlx::Error> {
    repo::open(conn, refs).await
}

/// Opens (if needed) and locks the accounts in ascending id order.
pub async fn lock_accounts(
    conn: &mut PgConnection,
    refs: &[AccountRef<'_>],
) -> Result<Vec<Locked>, LedgerError> {
    let locked = repo::lock(conn, refs).await?;
    if locked.len() == refs.len() {
        return Ok(locked);
    }
    repo::open(conn, refs).await?;
    let locked = repo::lock(conn, refs).await?;
    if locked.len() != refs.len() {
        return Err(LedgerError::Invalid("an account is requested twice"));
    }
    Ok(locked)
}

/// Posts one journal over already-locked accounts: checks shape and floors, then writes the
/// journal, the postings and the new balances in one statement.
pub async fn post(
    conn: &mut PgConnection,
    entry: &Entry<'_>,
    locked: &[Locked],
    postings: &[(AccountId, i64)],
) -> Result<JournalId, LedgerError> {
    let merged = checked(locked, postings)?;
    let ids: Vec<i64> = merged.iter().map(|p| p.0).collect();
    let amounts: Vec<i64> = merged.iter().map(|p| p.1).collect();
    repo::write_journal(conn, entry, &ids, &amounts).await
}

/// The postings of one journal merged per account, after checking its shape (≥ 2 postings, zero
/// sum per asset, only locked accounts) and the floors against the locked balances.
fn checked(
    locked: &[Locked],
    postings: &[(AccountId, i64)],
) -> Result<Vec<(AccountId, i64)>, LedgerError> {
    // Merge postings per account; a journal touches each account once.
    let mut merged: Vec<(AccountId, i64)> = Vec::with_capacity(postings.len());
    for &(id, amount) in postings {
        match merged.iter_mut().find(|(a, _)| *a == id) {
            Some((_, sum)) => {
                *sum = sum
                    .checked_add(amount)
                    .ok_or(LedgerError::Invalid("overflow"))?
            }
            None => merged.push((id, amount)),
        }
    }
    merged.retain(|(_, a)| *a != 0);
    if merged.len() < 2 {
        return Err(LedgerError::Invalid("a journal needs at least 2 postings"));
    }
    let mut sums: Vec<(&str, i64)> = Vec::new();
    for &(id, amount) in &merged {
        let acc = locked
            .iter()
            .find(|l| l.id == id)
            .ok_or(LedgerError::Invalid(
                "posting to an account that is not locked",
            ))?;
        let asset = repo::asset_of(&acc.purpose);
        match sums.iter_mut().find(|(a, _)| *a == asset) {
            Some((_, s)) => *s += amount,
            None => sums.push((asset, amount)),
        }
        let after = acc
            .balance
            .checked_add(amount)
            .ok_or(LedgerError::Invalid("overflow"))?;
        if amount < 0 && acc.floor.is_some_and(|f| after < f) {
            return Err(LedgerError::Insufficient);
        }
    }
    if sums.iter().any(|(_, s)| *s != 0) {
        return Err(LedgerError::Invalid(
            "postings do not sum to zero per asset",
        ));
    }
    Ok(merged)
}

/// Journals checked one after another against locked balances and written together by
/// [`write_planned`]: the coalesced hot path posts a whole batch of transfers in one statement.
/// Planning a journal moves the balances in `locked`, so the next one is checked against them; a
/// rejected journal (`Insufficient`) is left out and changes nothing.
#[derive(Debug, Default)]
pub struct Planned {
    journals: Vec<(String, JournalKind, DateTime<Utc>)>,
    /// (index of the journal, account, amount, the account's balance after this posting)
    legs: Vec<(usize, AccountId, i64, i64)>,
}

impl Planned {
    pub fn is_empty(&self) -> bool {
        self.journals.is_empty()
    }

    fn add(
        &mut self,
        entry: &Entry<'_>,
        locked: &mut [Locked],
        postings: &[(AccountId, i64)],
    ) -> Result<(), LedgerError> {
        let merged = checked(locked, postings)?;
        let journal = self.journals.len();
        self.journals
            .push((entry.trans_id.to_string(), entry.kind, entry.at));
        for (id, amount) in merged {
            let l = locked
                .iter_mut()
                .find(|l| l.id == id)
                .expect("checked postings are on locked accounts");
            l.balance += amount;
            self.legs.push((journal, id, amount, l.balance));
        }
        Ok(())
    }
}

/// Writes every planned journal, its postings and the accounts' final balances in one
/// statement; the balances the database ends with must be the planned ones (else `Invalid`, and
/// the caller's transaction must roll back).
pub async fn write_planned(
    conn: &mut PgConnection,
    planned: &Planned,
    locked: &[Locked],
) -> Result<(), LedgerError> {
    if planned.is_empty() {
        return Ok(());
    }
    let written = repo::write_journals(conn, planned).await?;
    for (id, balance) in written {
        if locked.iter().any(|l| l.id == id && l.balance != balance) {
            return Err(LedgerError::Invalid(
                "the written balances differ from the planned ones",
            ));
        }
    }
    Ok(())
}

/// What [`apply_planned`] writes in the same statement as the planned journals, and the business
/// rows it re-checks under their locks (JSON arrays, shapes in migration 0022).
pub struct Alongside<'a> {
    /// (caller, key) of the Idempotency-Keys whose outcomes are written: locked, and their
    /// outcomes older than `forget_before` forgotten first.
    pub keys: &'a [(&'a str, &'a str)],
    pub forget_before: DateTime<Utc>,
    /// `[{id, partner_id, association_type, is_frozen}]` as the rules saw them.
    pub customers: serde_json::Value,
    pub adjust: serde_json::Value,
    pub events: serde_json::Value,
    pub outcomes: serde_json::Value,
}

/// Writes planned journals in **one statement** outside any explicit transaction (so it is also
/// its own commit), with the rows of `alongside`: under the locks (Idempotency-Keys, customers
/// `FOR SHARE`, accounts `FOR UPDATE` in id order) the accounts must still hold `start`, the
/// balances the plan began from, and the customers must be as the rules saw them. `Ok(false)`:
/// something changed (or a key is in use) and nothing was written; plan again under locks.
pub async fn apply_planned(
    conn: &mut PgConnection,
    planned: &Planned,
    start: &[Locked],
    alongside: Alongside<'_>,
) -> Result<bool, LedgerError> {
    repo::apply(conn, planned, start, alongside).await
}

/// `amount` from `from` to `to`, the two accounts locked in the one lock order (floors checked by
/// [`post`]): the plain two-posting journal the ledger's simple moves share.
async fn transfer(
    conn: &mut PgConnection,
    from: AccountRef<'_>,
    to: AccountRef<'_>,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let locked = lock_accounts(conn, &[from, to]).await?;
    let postings = [
        (find(&locked, from).id, -amount.fen()),
        (find(&locked, to).id, amount.fen()),
    ];
    post(conn, entry, &locked, &postings).await
}

/// Vendor deposit: vendor deposits → the partner's cash.
pub async fn deposit(
    conn: &mut PgConnection,
    partner_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let src = AccountRef::system(Purpose::VendorDeposits);
    let dst = AccountRef::new(partner_id, Purpose::PartnerCash);
    transfer(conn, src, dst, amount, entry).await
}

/// Moves `amount` from a partner's fundable balance (cash above its designated amount first,
/// then unused credit) to `to` (a customer's or a reseller's cash).
pub async fn fund_from_partner(
    conn: &mut PgConnection,
    partner_id: &str,
    to: AccountRef<'_>,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let credit = AccountRef::new(partner_id, Purpose::PartnerCredit);
    let locked = lock_accounts(conn, &[cash, credit, to]).await?;
    let postings = fund_postings(&locked, partner_id, to, amount)?;
    post(conn, entry, &locked, &postings).await
}

/// [`fund_from_partner`] planned into `planned` over accounts the caller already locked (with
/// [`lock_accounts`], in the one lock order) for several operations in one transaction.
pub fn plan_fund_from_partner(
    planned: &mut Planned,
    locked: &mut [Locked],
    partner_id: &str,
    to: AccountRef<'_>,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<(), LedgerError> {
    let postings = fund_postings(locked, partner_id, to, amount)?;
    planned.add(entry, locked, &postings)
}

fn fund_postings(
    locked: &[Locked],
    partner_id: &str,
    to: AccountRef<'_>,
    amount: Amount,
) -> Result<[(AccountId, i64); 3], LedgerError> {
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let credit = AccountRef::new(partner_id, Purpose::PartnerCredit);
    let (c, k, d) = (
        held(locked, cash)?,
        held(locked, credit)?,
        held(locked, to)?,
    );
    let from_cash = amount.fen().min(c.available().max(0));
    let from_credit = amount.fen() - from_cash;
    if from_credit > k.available().max(0) {
        return Err(LedgerError::Insufficient);
    }
    Ok([
        (c.id, -from_cash),
        (k.id, -from_credit),
        (d.id, amount.fen()),
    ])
}

/// Moves `amount` from `from` (a customer's or a reseller's cash) back to a partner: first
/// restoring its used credit, the rest to its cash.
pub async fn return_to_partner(
    conn: &mut PgConnection,
    from: AccountRef<'_>,
    partner_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let credit = AccountRef::new(partner_id, Purpose::PartnerCredit);
    let locked = lock_accounts(conn, &[from, cash, credit]).await?;
    let postings = return_postings(&locked, from, partner_id, amount)?;
    post(conn, entry, &locked, &postings).await
}

/// [`return_to_partner`] planned over already-locked accounts (see [`plan_fund_from_partner`]).
pub fn plan_return_to_partner(
    planned: &mut Planned,
    locked: &mut [Locked],
    from: AccountRef<'_>,
    partner_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<(), LedgerError> {
    let postings = return_postings(locked, from, partner_id, amount)?;
    planned.add(entry, locked, &postings)
}

fn return_postings(
    locked: &[Locked],
    from: AccountRef<'_>,
    partner_id: &str,
    amount: Amount,
) -> Result<[(AccountId, i64); 3], LedgerError> {
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let credit = AccountRef::new(partner_id, Purpose::PartnerCredit);
    let (s, c, k) = (
        held(locked, from)?,
        held(locked, cash)?,
        held(locked, credit)?,
    );
    if amount.fen() > s.available() {
        return Err(LedgerError::Insufficient);
    }
    let used_credit = (k.credit_limit - k.balance).max(0);
    let to_credit = amount.fen().min(used_credit);
    Ok([
        (s.id, -amount.fen()),
        (k.id, to_credit),
        (c.id, amount.fen() - to_credit),
    ])
}

/// Sets a partner's total credit line; the change moves between the system credit-lines account
/// and the partner's credit account. Lowering it below what is already used is `Insufficient`.
/// Returns the journal, or `None` when the line did not change.
pub async fn set_credit_line(
    conn: &mut PgConnection,
    partner_id: &str,
    limit_fen: i64,
    entry: &Entry<'_>,
) -> Result<Option<JournalId>, LedgerError> {
    set_line(
        conn,
        AccountRef::new(partner_id, Purpose::PartnerCredit),
        limit_fen,
        entry,
    )
    .await
}

/// Sets the total line of a credit account (partner or customer credit).
pub(crate) async fn set_line(
    conn: &mut PgConnection,
    credit: AccountRef<'_>,
    limit_fen: i64,
    entry: &Entry<'_>,
) -> Result<Option<JournalId>, LedgerError> {
    if limit_fen < 0 {
        return Err(LedgerError::Invalid("a credit line is not negative"));
    }
    let src = AccountRef::system(Purpose::CreditLines);
    let locked = lock_accounts(conn, &[src, credit]).await?;
    let (s, k) = (find(&locked, src), find(&locked, credit));
    let delta = limit_fen - k.credit_limit;
    if delta == 0 {
        return Ok(None);
    }
    if k.balance + delta < 0 {
        return Err(LedgerError::Insufficient);
    }
    let journal = post(conn, entry, &locked, &[(s.id, -delta), (k.id, delta)]).await?;
    repo::set_credit_limit(conn, k.id, limit_fen).await?;
    Ok(Some(journal))
}

/// Sets a partner's designated ("专款专用") amount: the floor of its cash account. It cannot exceed
/// the current cash balance (`Insufficient`).
pub async fn set_designated(
    conn: &mut PgConnection,
    partner_id: &str,
    designated_fen: i64,
) -> Result<(), LedgerError> {
    if designated_fen < 0 {
        return Err(LedgerError::Invalid("a designated amount is not negative"));
    }
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let locked = lock_accounts(conn, &[cash]).await?;
    let c = find(&locked, cash);
    if c.balance < designated_fen {
        return Err(LedgerError::Insufficient);
    }
    repo::set_floor(conn, c.id, designated_fen).await?;
    Ok(())
}
