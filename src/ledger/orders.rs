//! Yearly/monthly orders through the ledger: a line item paid from the chosen coupons, the
//! customer's cards, cash and own credit (in that order, never into arrears), and an
//! unsubscription's refund back where the money came from (reverse order).
//!
//! Spent money goes to the customer's own spending accounts, as consumption does
//! (`usage_charged`, `coupon_value_used`), so bills and the audit see one kind of spending.

use super::{
    held,
    usage::{Source, Split},
    AccountRef, Entry, LedgerError, Locked, Planned, Purpose,
};

/// One source of an order payment and the most it may give (a coupon's cap is its balance; cash
/// and credit are capped by their accounts only: pass `i64::MAX`).
#[derive(Debug, Clone, Copy)]
pub struct Payer<'a> {
    pub source: Source<'a>,
    pub cap: i64,
}

/// Plans the payment of `payable` fen of one line item: each payer in order gives what it can
/// (within its cap and its balance above its floor). `Insufficient` when they do not cover it:
/// orders are paid in full or not at all. Returns the split and what each payer gave (same
/// order as `payers`). Zero plans nothing.
pub fn plan_order_payment(
    planned: &mut Planned,
    locked: &mut [Locked],
    customer_id: &str,
    payers: &[Payer<'_>],
    payable: i64,
    entry: &Entry<'_>,
) -> Result<(Split, Vec<i64>), LedgerError> {
    if payable < 0 {
        return Err(LedgerError::Invalid("a payment is not negative"));
    }
    let mut split = Split::default();
    let mut given = vec![0; payers.len()];
    if payable == 0 {
        return Ok((split, given));
    }
    let spent = held(locked, AccountRef::new(customer_id, Purpose::UsageCharged))?.id;
    let coupons_spent = held(
        locked,
        AccountRef::new(customer_id, Purpose::CouponValueUsed),
    )?
    .id;
    let mut left = payable;
    let mut postings = Vec::with_capacity(payers.len() * 2);
    for (i, p) in payers.iter().enumerate() {
        if left == 0 {
            break;
        }
        let acc = held(locked, p.source.account)?;
        let take = left.min(p.cap.max(0)).min(acc.available().max(0));
        if take == 0 {
            continue;
        }
        let sink = if p.source.kind.is_coupon() {
            coupons_spent
        } else {
            spent
        };
        postings.push((acc.id, -take));
        postings.push((sink, take));
        split_add(&mut split, p.source, take);
        given[i] = take;
        left -= take;
    }
    if left > 0 {
        return Err(LedgerError::Insufficient);
    }
    planned.add(entry, locked, &postings)?;
    Ok((split, given))
}

fn split_add(split: &mut Split, s: Source<'_>, fen: i64) {
    use super::usage::SourceKind::*;
    match s.kind {
        Voucher => split.coupon += fen,
        CashCoupon => split.cash_coupon += fen,
        Card => split.card += fen,
        Cash => split.cash += fen,
        Credit => split.credit += fen,
    }
}

/// Plans a refund of parts of one charge back to their sources (the caller computes the parts
/// in reverse deduction order from the charge's journal): the same postings as a usage refund,
/// under the `order_refund` journal the entry names. Orders never create arrears, so none are
/// cancelled.
pub fn plan_order_refund(
    planned: &mut Planned,
    locked: &mut [Locked],
    customer_id: &str,
    parts: &[(Source<'_>, i64)],
    entry: &Entry<'_>,
) -> Result<Split, LedgerError> {
    super::usage::plan_usage_refund(planned, locked, customer_id, parts, 0, entry)
}
