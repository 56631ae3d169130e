//! The deduction order of a pay-per-use charge (no I/O): the customer's applicable vouchers
//! (代金券), then cash coupons (现金券), then stored-value cards, each nearest expiry first, then
//! its cash, then its own credit line; what is left becomes arrears. Refunds go back in the reverse
//! order.

use chrono::{DateTime, Utc};

/// What pays for a charge, in the deduction order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// 代金券 (coupon_type 1): `coupon_amount`.
    Voucher,
    /// 现金券 (coupon_type 4): `flexipurchase_coupon_amount`.
    CashCoupon,
    /// Stored-value card: `stored_value_card_amount`.
    Card,
    /// The customer's cash balance: `cash_amount`.
    Cash,
    /// The customer's own credit line: `credit_amount`.
    Credit,
}

impl SourceKind {
    pub fn is_coupon(self) -> bool {
        matches!(self, SourceKind::Voucher | SourceKind::CashCoupon)
    }
}

/// A coupon or card of the customer that might pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    pub id: String,
    pub kind: SourceKind,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    /// Service-type restriction (empty = any service).
    pub service_types: Vec<String>,
    /// Product restriction (empty = any product).
    pub product_ids: Vec<String>,
}

impl Benefit {
    /// Whether it may pay for a charge of this service type and product at `now`.
    pub fn applies(&self, service_type: &str, product_id: &str, now: DateTime<Utc>) -> bool {
        self.effective_time <= now
            && now < self.expire_time
            && (self.service_types.is_empty()
                || self.service_types.iter().any(|s| s == service_type))
            && (self.product_ids.is_empty() || self.product_ids.iter().any(|p| p == product_id))
    }
}

/// The benefits that may pay for a charge, in the order they pay: by kind (vouchers, cash coupons,
/// cards), then nearest expiry first, then id (so the order is total and repeatable). Cash and
/// credit follow them; the caller appends those.
pub fn order<'a>(
    benefits: &'a [Benefit],
    service_type: &str,
    product_id: &str,
    now: DateTime<Utc>,
) -> Vec<&'a Benefit> {
    let mut v: Vec<&Benefit> = benefits
        .iter()
        .filter(|b| b.kind < SourceKind::Cash && b.applies(service_type, product_id, now))
        .collect();
    v.sort_by(|a, b| (a.kind, a.expire_time, &a.id).cmp(&(b.kind, b.expire_time, &b.id)));
    v
}

/// How much of a refund of `amount` goes back to each part of what was paid, in the reverse of the
/// deduction order: `paid` lists what each source still holds of the charge (already net of earlier
/// refunds) in deduction order, with the arrears last. Returns the amount for each, same order.
/// `None` when `amount` exceeds what is left to refund.
pub fn refund_parts(paid: &[i64], amount: i64) -> Option<Vec<i64>> {
    let left: i64 = paid.iter().sum();
    if amount < 0 || amount > left {
        return None;
    }
    let mut out = vec![0; paid.len()];
    let mut rest = amount;
    for (i, &p) in paid.iter().enumerate().rev() {
        if rest == 0 {
            break;
        }
        let take = rest.min(p.max(0));
        out[i] = take;
        rest -= take;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, 0, 0, 0).unwrap()
    }

    fn b(id: &str, kind: SourceKind, expire_day: u32, services: &[&str]) -> Benefit {
        Benefit {
            id: id.into(),
            kind,
            effective_time: at(1),
            expire_time: at(expire_day),
            service_types: services.iter().map(|s| s.to_string()).collect(),
            product_ids: vec![],
        }
    }

    #[test]
    fn vouchers_then_cash_coupons_then_cards_nearest_expiry_first() {
        let all = [
            b("card-late", SourceKind::Card, 30, &[]),
            b("cash-coupon", SourceKind::CashCoupon, 28, &[]),
            b("voucher-late", SourceKind::Voucher, 29, &[]),
            b("card-soon", SourceKind::Card, 10, &[]),
            b("voucher-soon", SourceKind::Voucher, 20, &[]),
            b(
                "voucher-obs",
                SourceKind::Voucher,
                5,
                &["hws.service.type.obs"],
            ),
        ];
        let ids: Vec<&str> = order(&all, "hws.service.type.ec2", "p", at(2))
            .iter()
            .map(|b| b.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "voucher-soon",
                "voucher-late",
                "cash-coupon",
                "card-soon",
                "card-late"
            ]
        );
        let obs: Vec<&str> = order(&all, "hws.service.type.obs", "p", at(2))
            .iter()
            .map(|b| b.id.as_str())
            .collect();
        assert_eq!(obs[0], "voucher-obs");
    }

    #[test]
    fn expired_or_not_yet_effective_benefits_do_not_pay() {
        let mut v = b("v", SourceKind::Voucher, 10, &[]);
        assert!(v.applies("s", "p", at(5)));
        assert!(!v.applies("s", "p", at(10)), "expires at expire_time");
        v.effective_time = at(6);
        assert!(!v.applies("s", "p", at(5)));
        v.product_ids = vec!["other".into()];
        assert!(!v.applies("s", "p", at(7)));
        assert!(v.applies("s", "other", at(7)));
    }

    #[test]
    fn refunds_go_back_in_reverse_order() {
        // voucher 300, card 200, cash 100, arrears 50
        assert_eq!(
            refund_parts(&[300, 200, 100, 50], 120),
            Some(vec![0, 0, 70, 50])
        );
        assert_eq!(
            refund_parts(&[300, 200, 100, 50], 650),
            Some(vec![300, 200, 100, 50])
        );
        assert_eq!(refund_parts(&[300, 200, 100, 50], 651), None);
        assert_eq!(refund_parts(&[300, 0, 0, 0], 0), Some(vec![0, 0, 0, 0]));
    }
}
