//! What a partner can withdraw (可提现金额), as the console computes it:
//! withdrawable = cash − invoice owed − unposted − sub-customers' arrears, floored at 0.
//!
//! Pending withdrawals are already out of the cash balance (held in the ledger), so they are
//! reported, not subtracted again. The designated ("专款专用") amount is the cash account's floor:
//! it can never leave, so it is subtracted too. Rebates are separate: only the rebate balance.

/// Every term of the cash formula (fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CashTerms {
    /// The cash balance (pending withdrawals already held out of it).
    pub cash: i64,
    /// The earmarked part of the cash balance (its floor).
    pub designated: i64,
    /// 欠票: refunds in invoiced cycles not yet covered by a return or a later invoice.
    pub invoice_owed: i64,
    /// 未入账: confirmed top-ups still inside the clearing period.
    pub unposted: i64,
    /// 子用户欠费总额: the arrears of the partner's resale customers.
    pub sub_customer_debt: i64,
    /// Held by withdrawals pending review or payment (reported only).
    pub pending: i64,
}

impl CashTerms {
    /// What must stay in the cash account beyond its floor.
    pub fn reserved(&self) -> i64 {
        self.invoice_owed.max(0) + self.unposted.max(0) + self.sub_customer_debt.max(0)
    }

    /// cash − designated − invoice owed − unposted − arrears, never below 0.
    pub fn withdrawable(&self) -> i64 {
        (self.cash - self.designated.max(0) - self.reserved()).max(0)
    }
}

/// The rebate side: only the rebate balance (pending rebate withdrawals already held out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebateTerms {
    pub rebate: i64,
    pub pending: i64,
}

impl RebateTerms {
    pub fn withdrawable(&self) -> i64 {
        self.rebate.max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cash(cash: i64) -> CashTerms {
        CashTerms {
            cash,
            ..Default::default()
        }
    }

    #[test]
    fn every_term_lowers_the_withdrawable_cash() {
        assert_eq!(cash(10_000).withdrawable(), 10_000);
        let t = CashTerms {
            cash: 10_000,
            designated: 1_000,
            invoice_owed: 2_000,
            unposted: 3_000,
            sub_customer_debt: 500,
            pending: 6_000,
        };
        assert_eq!(t.reserved(), 5_500);
        // Pending withdrawals are already out of the cash balance: not subtracted twice.
        assert_eq!(t.withdrawable(), 10_000 - 1_000 - 2_000 - 3_000 - 500);
        for (field, t2) in [
            (
                "owed",
                CashTerms {
                    invoice_owed: 2_001,
                    ..t
                },
            ),
            (
                "unposted",
                CashTerms {
                    unposted: 3_001,
                    ..t
                },
            ),
            (
                "debt",
                CashTerms {
                    sub_customer_debt: 501,
                    ..t
                },
            ),
            (
                "designated",
                CashTerms {
                    designated: 1_001,
                    ..t
                },
            ),
        ] {
            assert_eq!(t2.withdrawable(), t.withdrawable() - 1, "{field}");
        }
    }

    #[test]
    fn the_withdrawable_amount_is_never_negative() {
        let t = CashTerms {
            cash: 100,
            sub_customer_debt: 5_000,
            ..Default::default()
        };
        assert_eq!(t.withdrawable(), 0);
        assert_eq!(cash(-5).withdrawable(), 0);
        // A negative term (never produced) does not raise the amount.
        let t = CashTerms {
            cash: 100,
            unposted: -50,
            ..Default::default()
        };
        assert_eq!(t.withdrawable(), 100);
    }

    #[test]
    fn rebates_count_only_the_rebate_balance() {
        let r = RebateTerms {
            rebate: 300,
            pending: 200,
        };
        assert_eq!(r.withdrawable(), 300);
        assert_eq!(RebateTerms::default().withdrawable(), 0);
    }
}
