//! Money out of a partner (issue 11): incentive rebates granted by the vendor, withdrawals held at
//! request time and then paid out or released, and the repayment of used credit.
//!
//! A withdrawal moves the amount from the partner's cash (or rebate) account to its hold account
//! at once, under the cash account's row lock: every later check (funding a customer, another
//! withdrawal) sees the lower balance, and two concurrent requests are serialised by that lock.

use sqlx::PgConnection;

use super::{
    find, lock_accounts, post, repo, transfer, AccountRef, Entry, JournalId, LedgerError, Purpose,
};
use crate::domain::Amount;

/// Which balance a withdrawal draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pot {
    Cash,
    Rebate,
}

impl Pot {
    fn balance(self, partner_id: &str) -> AccountRef<'_> {
        match self {
            Pot::Cash => AccountRef::new(partner_id, Purpose::PartnerCash),
            Pot::Rebate => AccountRef::new(partner_id, Purpose::PartnerRebate),
        }
    }
    fn hold(self, partner_id: &str) -> AccountRef<'_> {
        match self {
            Pot::Cash => AccountRef::new(partner_id, Purpose::WithdrawalHold),
            Pot::Rebate => AccountRef::new(partner_id, Purpose::RebateWithdrawalHold),
        }
    }
}

/// The vendor grants an incentive rebate: rebate source → the partner's rebate account.
pub async fn grant_rebate(
    conn: &mut PgConnection,
    partner_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let src = AccountRef::system(Purpose::RebateSource);
    let dst = AccountRef::new(partner_id, Purpose::PartnerRebate);
    transfer(conn, src, dst, amount, entry).await
}

/// Holds `amount` for a withdrawal: balance → hold, when the balance above its floor, less
/// `reserved` fen that must stay (invoice owed, unposted top-ups, customers' arrears), covers it
/// (else `Insufficient`). The check reads the balance under the account's row lock.
pub async fn hold(
    conn: &mut PgConnection,
    partner_id: &str,
    pot: Pot,
    amount: Amount,
    reserved: i64,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let (bal, hold) = (pot.balance(partner_id), pot.hold(partner_id));
    let locked = lock_accounts(conn, &[bal, hold]).await?;
    let b = find(&locked, bal);
    let available = b.balance - b.floor.unwrap_or(0) - reserved.max(0);
    if amount.fen() > available {
        return Err(LedgerError::Insufficient);
    }
    let postings = [
        (b.id, -amount.fen()),
        (find(&locked, hold).id, amount.fen()),
    ];
    post(conn, entry, &locked, &postings).await
}

/// A rejected or cancelled withdrawal: its hold goes back to the balance.
pub async fn release(
    conn: &mut PgConnection,
    partner_id: &str,
    pot: Pot,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let (bal, hold) = (pot.balance(partner_id), pot.hold(partner_id));
    transfer(conn, hold, bal, amount, entry).await
}

/// A paid withdrawal: its hold leaves for the vendor's payouts account.
pub async fn pay_out(
    conn: &mut PgConnection,
    partner_id: &str,
    pot: Pot,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let (hold, out) = (pot.hold(partner_id), AccountRef::system(Purpose::Payouts));
    transfer(conn, hold, out, amount, entry).await
}

/// Repays `amount` of used credit from the partner's cash (cash → its credit account). `None`
/// (nothing posted) when more is repaid than is used; `Insufficient` when the cash above its
/// floor does not cover it.
pub async fn repay_credit(
    conn: &mut PgConnection,
    partner_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<Option<JournalId>, LedgerError> {
    let cash = AccountRef::new(partner_id, Purpose::PartnerCash);
    let credit = AccountRef::new(partner_id, Purpose::PartnerCredit);
    let locked = lock_accounts(conn, &[cash, credit]).await?;
    let (c, k) = (find(&locked, cash), find(&locked, credit));
    if amount.fen() > (k.credit_limit - k.balance).max(0) {
        return Ok(None);
    }
    let postings = [(c.id, -amount.fen()), (k.id, amount.fen())];
    post(conn, entry, &locked, &postings).await.map(Some)
}

/// A partner's money-out balances (fen; absent accounts read as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutBalances {
    pub cash_hold: i64,
    pub rebate: i64,
    pub rebate_hold: i64,
}

/// Reads (without locking) the rebate and hold balances of a partner.
pub async fn out_balances(
    conn: &mut PgConnection,
    partner_id: &str,
) -> Result<OutBalances, sqlx::Error> {
    let mut b = OutBalances::default();
    for row in repo::owner_accounts(conn, partner_id).await? {
        match row.purpose.as_str() {
            "withdrawal_hold" => b.cash_hold = row.balance,
            "partner_rebate" => b.rebate = row.balance,
            "rebate_withdrawal_hold" => b.rebate_hold = row.balance,
            _ => {}
        }
    }
    Ok(b)
}
