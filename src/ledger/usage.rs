//! Consumption through the ledger: fee records paid in the deduction order (the order itself is
//! the caller's: `domain::deduction`), refunds back to where they came from, arrears settled by
//! new cash, stored-value card sales, a customer's own top-ups and credit line.
//!
//! What a customer spends goes to accounts owned by that customer (`usage_charged` in CNY,
//! `coupon_value_used` in coupon value), not to one system row, so charges of different customers
//! never wait on a shared lock.

use sqlx::PgConnection;

use super::{
    held, lock_accounts, repo, transfer, AccountRef, Entry, JournalId, LedgerError, Locked,
    Planned, Purpose,
};
use crate::domain::Amount;

pub use crate::domain::deduction::SourceKind;

/// One account that may pay (a coupon or card is owned by its id; cash and credit by the customer).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub account: AccountRef<'a>,
    pub kind: SourceKind,
}

impl<'a> Source<'a> {
    pub fn new(kind: SourceKind, owner_id: &'a str) -> Self {
        let purpose = match kind {
            SourceKind::Voucher | SourceKind::CashCoupon => Purpose::CustomerCouponValue,
            SourceKind::Card => Purpose::StoredValueCard,
            SourceKind::Cash => Purpose::CustomerCash,
            SourceKind::Credit => Purpose::CustomerCredit,
        };
        Source {
            account: AccountRef::new(owner_id, purpose),
            kind,
        }
    }
}

/// How a charge (or, negated, a refund) was paid, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
}

impl Split {
    pub fn total(&self) -> i64 {
        self.coupon + self.cash_coupon + self.card + self.cash + self.credit + self.debt
    }

    fn add(&mut self, kind: SourceKind, fen: i64) {
        match kind {
            SourceKind::Voucher => self.coupon += fen,
            SourceKind::CashCoupon => self.cash_coupon += fen,
            SourceKind::Card => self.card += fen,
            SourceKind::Cash => self.cash += fen,
            SourceKind::Credit => self.credit += fen,
        }
    }

    pub fn negated(&self) -> Split {
        Split {
            coupon: -self.coupon,
            cash_coupon: -self.cash_coupon,
            card: -self.card,
            cash: -self.cash,
            credit: -self.credit,
            debt: -self.debt,
        }
    }
}

/// The accounts of `customer_id` a charge or refund touches besides its sources: arrears and the
/// two spending accounts. Lock them (with the sources) in one [`lock_accounts`] call.
pub fn customer_accounts(customer_id: &str) -> [AccountRef<'_>; 5] {
    [
        AccountRef::new(customer_id, Purpose::CustomerCash),
        AccountRef::new(customer_id, Purpose::CustomerCredit),
        AccountRef::new(customer_id, Purpose::CustomerDebt),
        AccountRef::new(customer_id, Purpose::UsageCharged),
        AccountRef::new(customer_id, Purpose::CouponValueUsed),
    ]
}

/// Where spent money of this kind goes.
fn sink(customer_id: &str, kind: SourceKind) -> AccountRef<'_> {
    if kind.is_coupon() {
        AccountRef::new(customer_id, Purpose::CouponValueUsed)
    } else {
        AccountRef::new(customer_id, Purpose::UsageCharged)
    }
}

/// Plans the payment of `payable` fen by `customer_id`: each source in order gives what it can
/// (its balance above its floor), the rest becomes arrears. Returns the split and what each
/// source gave (same order as `sources`). A zero charge plans nothing.
pub fn plan_usage_charge(
    planned: &mut Planned,
    locked: &mut [Locked],
    customer_id: &str,
    sources: &[Source<'_>],
    payable: i64,
    entry: &Entry<'_>,
) -> Result<(Split, Vec<i64>), LedgerError> {
    if payable < 0 {
        return Err(LedgerError::Invalid("a charge is not negative"));
    }
    let mut split = Split::default();
    let mut given = vec![0; sources.len()];
    if payable == 0 {
        return Ok((split, given));
    }
    let mut left = payable;
    let mut postings = Vec::with_capacity(sources.len() * 2 + 2);
    for (i, s) in sources.iter().enumerate() {
        if left == 0 {
            break;
        }
        let acc = held(locked, s.account)?;
        let take = left.min(acc.available().max(0));
        if take == 0 {
            continue;
        }
        postings.push((acc.id, -take));
        postings.push((held(locked, sink(customer_id, s.kind))?.id, take));
        split.add(s.kind, take);
        given[i] = take;
        left -= take;
    }
    if left > 0 {
        let debt = held(locked, AccountRef::new(customer_id, Purpose::CustomerDebt))?;
        postings.push((debt.id, -left));
        postings.push((held(locked, sink(customer_id, SourceKind::Cash))?.id, left));
        split.debt = left;
    }
    planned.add(entry, locked, &postings)?;
    Ok((split, given))
}

/// Plans a refund: each `(source, fen)` gets its money back from the spending account, and
/// `debt` fen of arrears are cancelled (the caller computes the parts from the original charge, in
/// reverse order). The arrears cancelled cannot exceed the arrears owed.
pub fn plan_usage_refund(
    planned: &mut Planned,
    locked: &mut [Locked],
    customer_id: &str,
    parts: &[(Source<'_>, i64)],
    debt: i64,
    entry: &Entry<'_>,
) -> Result<Split, LedgerError> {
    let mut split = Split::default();
    let mut postings = Vec::with_capacity(parts.len() * 2 + 2);
    for &(s, fen) in parts {
        if fen < 0 {
            return Err(LedgerError::Invalid("a refund part is not negative"));
        }
        if fen == 0 {
            continue;
        }
        postings.push((held(locked, sink(customer_id, s.kind))?.id, -fen));
        postings.push((held(locked, s.account)?.id, fen));
        split.add(s.kind, fen);
    }
    if debt > 0 {
        let d = held(locked, AccountRef::new(customer_id, Purpose::CustomerDebt))?;
        if debt > -d.balance {
            return Err(LedgerError::Invalid("cancels more arrears than are owed"));
        }
        postings.push((held(locked, sink(customer_id, SourceKind::Cash))?.id, -debt));
        postings.push((d.id, debt));
        split.debt = debt;
    }
    if split.total() > 0 {
        planned.add(entry, locked, &postings)?;
    }
    Ok(split)
}

/// Plans the settlement of `customer_id`'s arrears from its cash (as much as the cash covers).
/// Returns the fen settled; 0 plans nothing.
pub fn plan_debt_writeoff(
    planned: &mut Planned,
    locked: &mut [Locked],
    customer_id: &str,
    entry: &Entry<'_>,
) -> Result<i64, LedgerError> {
    let cash = held(locked, AccountRef::new(customer_id, Purpose::CustomerCash))?;
    let debt = held(locked, AccountRef::new(customer_id, Purpose::CustomerDebt))?;
    let amount = cash.available().max(0).min(-debt.balance);
    if amount <= 0 {
        return Ok(0);
    }
    let postings = [(cash.id, -amount), (debt.id, amount)];
    planned.add(entry, locked, &postings)?;
    Ok(amount)
}

/// Settles `customer_id`'s arrears from its cash now (after money arrived). Returns the fen
/// settled (0 when there were no arrears or no cash).
pub async fn settle_debt(
    conn: &mut PgConnection,
    customer_id: &str,
    entry: &Entry<'_>,
) -> Result<i64, LedgerError> {
    let refs = [
        AccountRef::new(customer_id, Purpose::CustomerCash),
        AccountRef::new(customer_id, Purpose::CustomerDebt),
    ];
    let mut locked = lock_accounts(conn, &refs).await?;
    let mut planned = Planned::default();
    let amount = plan_debt_writeoff(&mut planned, &mut locked, customer_id, entry)?;
    super::write_planned(conn, &planned, &locked).await?;
    Ok(amount)
}

/// The arrears (fen, ≥ 0) of each customer that has an arrears account.
pub async fn debts(
    conn: &mut PgConnection,
    customer_ids: &[String],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    Ok(repo::balances(conn, customer_ids, Purpose::CustomerDebt)
        .await?
        .into_iter()
        .map(|(owner, _, balance)| (owner, -balance))
        .collect())
}

/// The vendor sells a stored-value card: its face value enters the card (owned by the card id)
/// from vendor deposits (the customer paid the vendor).
pub async fn sell_card(
    conn: &mut PgConnection,
    card_id: &str,
    face: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    move_in(
        conn,
        AccountRef::new(card_id, Purpose::StoredValueCard),
        face,
        entry,
    )
    .await
}

/// The vendor records a customer's own top-up (advisory customers pay the vendor directly).
pub async fn deposit_customer(
    conn: &mut PgConnection,
    customer_id: &str,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    move_in(
        conn,
        AccountRef::new(customer_id, Purpose::CustomerCash),
        amount,
        entry,
    )
    .await
}

async fn move_in(
    conn: &mut PgConnection,
    to: AccountRef<'_>,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let src = AccountRef::system(Purpose::VendorDeposits);
    transfer(conn, src, to, amount, entry).await
}

/// Sets a customer's own credit line (see [`super::set_credit_line`] for a partner's).
pub async fn set_customer_credit_line(
    conn: &mut PgConnection,
    customer_id: &str,
    limit_fen: i64,
    entry: &Entry<'_>,
) -> Result<Option<JournalId>, LedgerError> {
    super::set_line(
        conn,
        AccountRef::new(customer_id, Purpose::CustomerCredit),
        limit_fen,
        entry,
    )
    .await
}

/// One account's part in a charge: what it gave (fen), net of what refunds already returned.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChargePart {
    pub owner_id: String,
    pub purpose: String,
    pub given: i64,
}

/// The parts of the charge journal `trans_id` (in the order it was paid), net of the refund
/// journals `refund_ids`. The arrears part is the `customer_debt` row.
pub async fn charge_parts(
    conn: &mut PgConnection,
    trans_id: &str,
    refund_ids: &[String],
) -> Result<Vec<ChargePart>, sqlx::Error> {
    sqlx::query_as(
        "with charged as (
             select p.account_id, p.id as n, -p.amount as given
             from journal j join posting p on p.journal_id = j.id
             where j.trans_id = $1 and p.amount < 0
         ),
         returned as (
             select p.account_id, sum(p.amount) as back
             from journal j join posting p on p.journal_id = j.id
             where j.trans_id = any($2) and p.amount > 0
             group by p.account_id
         )
         select a.owner_id, a.purpose, (c.given - coalesce(r.back, 0))::bigint as given
         from charged c join ledger_account a on a.id = c.account_id
              left join returned r on r.account_id = c.account_id
         order by c.n",
    )
    .bind(trans_id)
    .bind(refund_ids)
    .fetch_all(conn)
    .await
}

/// The source a charge part names (`None` for the arrears part).
pub fn part_source(
    part: &ChargePart,
    coupon_kind: impl Fn(&str) -> SourceKind,
) -> Option<Source<'_>> {
    let kind = match part.purpose.as_str() {
        "customer_coupon_value" => coupon_kind(&part.owner_id),
        "stored_value_card" => SourceKind::Card,
        "customer_cash" => SourceKind::Cash,
        "customer_credit" => SourceKind::Credit,
        _ => return None,
    };
    Some(Source::new(kind, &part.owner_id))
}

/// A customer's total own credit line (fen; 0 without one).
pub async fn credit_limit(conn: &mut PgConnection, customer_id: &str) -> Result<i64, sqlx::Error> {
    Ok(repo::owner_accounts(conn, customer_id)
        .await?
        .into_iter()
        .find(|a| a.purpose == Purpose::CustomerCredit.as_str())
        .map(|a| a.credit_limit)
        .unwrap_or(0))
}

/// Funds a customer from its partner (see [`super::fund_from_partner`]) and settles the customer's
/// arrears from the new cash right away, with the four accounts locked once in the one lock order.
/// Returns the fen of arrears settled.
pub async fn fund_customer(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
    amount: Amount,
    fund: &Entry<'_>,
    writeoff: &Entry<'_>,
) -> Result<i64, LedgerError> {
    let to = AccountRef::new(customer_id, Purpose::CustomerCash);
    let refs = [
        AccountRef::new(partner_id, Purpose::PartnerCash),
        AccountRef::new(partner_id, Purpose::PartnerCredit),
        to,
        AccountRef::new(customer_id, Purpose::CustomerDebt),
    ];
    let mut locked = lock_accounts(conn, &refs).await?;
    let mut planned = Planned::default();
    super::plan_fund_from_partner(&mut planned, &mut locked, partner_id, to, amount, fund)?;
    let settled = plan_debt_writeoff(&mut planned, &mut locked, customer_id, writeoff)?;
    super::write_planned(conn, &planned, &locked).await?;
    Ok(settled)
}
