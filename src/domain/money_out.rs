//! The rules of money out (issue 11) that need no I/O: the withdrawal and invoice state machines,
//! the invoice title/medium rules and when a partner bill cycle is posted.

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate, TimeZone, Utc};

/// What moves a withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalAction {
    /// The vendor approves (→ `PAYING`).
    Approve,
    /// The vendor paid it out (→ `PAID`, the hold leaves).
    Paid,
    /// The vendor rejects (→ `REJECTED`, the hold is released).
    Reject,
    /// The partner cancels (→ `CANCELLED`, the hold is released).
    Cancel,
    /// The partner deletes the record (it leaves its lists; the state stays).
    Delete,
    /// The partner attaches its invoice to the vendor (rebate withdrawals).
    AttachInvoice,
}

/// The state a withdrawal in `status` moves to, or `None` when the action is not allowed there.
/// `Delete` and `AttachInvoice` keep the state.
pub fn withdrawal_next(status: &str, action: WithdrawalAction) -> Option<&'static str> {
    use WithdrawalAction::*;
    Some(match (status, action) {
        ("PENDING_REVIEW", Approve) => "PAYING",
        ("PAYING", Paid) => "PAID",
        ("PENDING_REVIEW" | "PAYING", Reject) => "REJECTED",
        ("PENDING_REVIEW", Cancel) => "CANCELLED",
        ("REJECTED", Delete) => "REJECTED",
        ("CANCELLED", Delete) => "CANCELLED",
        ("PENDING_REVIEW", AttachInvoice) => "PENDING_REVIEW",
        ("PAYING", AttachInvoice) => "PAYING",
        _ => return None,
    })
}

/// Whether the amount of a withdrawal in this state is still held.
pub fn withdrawal_holds(status: &str) -> bool {
    matches!(status, "PENDING_REVIEW" | "PAYING")
}

pub const INVOICE_STATES: &[&str] = &[
    "DRAFT",
    "ISSUING",
    "ISSUE_FAILED",
    "PENDING_RECEIPT",
    "ISSUED",
    "REVOKING",
    "REVOKE_FAILED",
    "REVOKED",
    "RETURNING",
    "RETURN_FAILED",
    "RETURNED",
];

/// The vendor's invoice actions (`POST /admin/v1/invoices/{id}/{action}`), in wire form.
pub const INVOICE_ACTIONS: &[&str] = &[
    "issue",
    "issue-failed",
    "deliver",
    "confirm-receipt",
    "revoke",
    "revoke-failed",
    "revoked",
    "return",
    "return-failed",
    "returned",
];

/// The state an invoice in `status` moves to by `action`, or `None` when not allowed.
pub fn invoice_next(status: &str, action: &str) -> Option<&'static str> {
    Some(match (action, status) {
        ("issue", "DRAFT" | "ISSUE_FAILED") => "ISSUING",
        ("issue-failed", "ISSUING") => "ISSUE_FAILED",
        ("deliver", "ISSUING") => "PENDING_RECEIPT",
        ("confirm-receipt", "PENDING_RECEIPT") => "ISSUED",
        ("revoke", "PENDING_RECEIPT" | "ISSUED" | "REVOKE_FAILED") => "REVOKING",
        ("revoke-failed", "REVOKING") => "REVOKE_FAILED",
        ("revoked", "REVOKING") => "REVOKED",
        ("return", "ISSUED" | "RETURN_FAILED") => "RETURNING",
        ("return-failed", "RETURNING") => "RETURN_FAILED",
        ("returned", "RETURNING") => "RETURNED",
        _ => return None,
    })
}

/// An invoice in this state no longer covers its cycles: they may be invoiced again.
pub fn invoice_released(status: &str) -> bool {
    matches!(status, "REVOKED" | "RETURNED")
}

/// Why an invoice request breaks the title/medium rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceRuleError {
    /// A special VAT invoice needs an enterprise title.
    SpecialNeedsEnterprise,
    /// An enterprise title needs a tax id.
    EnterpriseNeedsTaxId,
    /// Special: paper or digital; normal: paper or electronic.
    MediumNotAllowed,
}

/// Checks the rules of `invoice_type` (`VAT_NORMAL` | `VAT_SPECIAL`), `medium` and `title_type`.
pub fn check_invoice(
    invoice_type: &str,
    medium: &str,
    title_type: &str,
    tax_id: Option<&str>,
) -> Result<(), InvoiceRuleError> {
    let special = invoice_type == "VAT_SPECIAL";
    if special && title_type != "ENTERPRISE" {
        return Err(InvoiceRuleError::SpecialNeedsEnterprise);
    }
    if title_type == "ENTERPRISE" && tax_id.is_none_or(str::is_empty) {
        return Err(InvoiceRuleError::EnterpriseNeedsTaxId);
    }
    let allowed: &[&str] = if special {
        &["PAPER", "DIGITAL"]
    } else {
        &["PAPER", "ELECTRONIC"]
    };
    if !allowed.contains(&medium) {
        return Err(InvoiceRuleError::MediumNotAllowed);
    }
    Ok(())
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// When the partner bill of `cycle` (its first day) is posted: the 5th of the next month, 12:00
/// UTC+8.
pub fn posting_time(cycle: NaiveDate) -> DateTime<Utc> {
    let next = cycle
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .expect("a representable month");
    beijing()
        .with_ymd_and_hms(next.year(), next.month(), 5, 12, 0, 0)
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&Utc)
}

/// The cycle (first day of the month, UTC+8) `t` falls in.
pub fn cycle_of(t: DateTime<Utc>) -> NaiveDate {
    let local = t.with_timezone(&beijing());
    NaiveDate::from_ymd_opt(local.year(), local.month(), 1).expect("first of month")
}

/// The month after `cycle`.
pub fn next_cycle(cycle: NaiveDate) -> NaiveDate {
    cycle
        .checked_add_months(Months::new(1))
        .expect("a representable month")
}

#[cfg(test)]
mod tests {
    use super::*;
    use WithdrawalAction::*;

    #[test]
    fn withdrawals_move_only_along_the_review_path() {
        assert_eq!(withdrawal_next("PENDING_REVIEW", Approve), Some("PAYING"));
        assert_eq!(withdrawal_next("PAYING", Paid), Some("PAID"));
        assert_eq!(withdrawal_next("PENDING_REVIEW", Reject), Some("REJECTED"));
        assert_eq!(withdrawal_next("PAYING", Reject), Some("REJECTED"));
        assert_eq!(withdrawal_next("PENDING_REVIEW", Cancel), Some("CANCELLED"));
        for s in ["PAID", "REJECTED", "CANCELLED"] {
            for a in [Approve, Paid, Reject, Cancel, AttachInvoice] {
                assert_eq!(withdrawal_next(s, a), None, "{s} {a:?}");
            }
        }
        assert_eq!(withdrawal_next("PENDING_REVIEW", Paid), None);
        assert_eq!(withdrawal_next("PAYING", Cancel), None);
        assert_eq!(withdrawal_next("PENDING_REVIEW", Delete), None);
        assert_eq!(withdrawal_next("PAYING", Delete), None);
        assert_eq!(withdrawal_next("PAID", Delete), None);
        assert!(withdrawal_next("REJECTED", Delete).is_some());
        assert!(withdrawal_holds("PAYING") && !withdrawal_holds("PAID"));
    }

    #[test]
    fn invoices_move_only_along_their_paths() {
        let path = [
            ("issue", "ISSUING"),
            ("deliver", "PENDING_RECEIPT"),
            ("confirm-receipt", "ISSUED"),
            ("return", "RETURNING"),
            ("return-failed", "RETURN_FAILED"),
            ("return", "RETURNING"),
            ("returned", "RETURNED"),
        ];
        let mut s = "DRAFT";
        for (a, to) in path {
            s = invoice_next(s, a).unwrap_or_else(|| panic!("{a} from {s}"));
            assert_eq!(s, to);
        }
        assert!(invoice_released(s));
        for a in INVOICE_ACTIONS {
            assert_eq!(invoice_next("RETURNED", a), None);
            assert_eq!(invoice_next("REVOKED", a), None);
        }
        assert_eq!(invoice_next("DRAFT", "confirm-receipt"), None);
        assert_eq!(invoice_next("ISSUED", "issue"), None);
        assert_eq!(invoice_next("DRAFT", "nonsense"), None);
        assert_eq!(
            invoice_next("ISSUING", "issue-failed"),
            Some("ISSUE_FAILED")
        );
        assert_eq!(invoice_next("ISSUE_FAILED", "issue"), Some("ISSUING"));
        assert_eq!(invoice_next("ISSUED", "revoke"), Some("REVOKING"));
        assert_eq!(invoice_next("REVOKING", "revoked"), Some("REVOKED"));
        for s in INVOICE_STATES {
            let reachable = INVOICE_ACTIONS.iter().any(|a| invoice_next(s, a).is_some());
            assert_eq!(reachable, !invoice_released(s), "{s}");
        }
    }

    #[test]
    fn invoice_rules_follow_type_title_and_medium() {
        use InvoiceRuleError::*;
        let ok = |t, m, tt, tax| check_invoice(t, m, tt, tax);
        assert_eq!(
            ok("VAT_SPECIAL", "PAPER", "INDIVIDUAL", None),
            Err(SpecialNeedsEnterprise)
        );
        assert_eq!(
            ok("VAT_SPECIAL", "PAPER", "ENTERPRISE", None),
            Err(EnterpriseNeedsTaxId)
        );
        assert_eq!(
            ok("VAT_SPECIAL", "PAPER", "ENTERPRISE", Some("9111")),
            Ok(())
        );
        assert_eq!(
            ok("VAT_SPECIAL", "DIGITAL", "ENTERPRISE", Some("9111")),
            Ok(())
        );
        assert_eq!(
            ok("VAT_SPECIAL", "ELECTRONIC", "ENTERPRISE", Some("9111")),
            Err(MediumNotAllowed)
        );
        assert_eq!(ok("VAT_NORMAL", "ELECTRONIC", "INDIVIDUAL", None), Ok(()));
        assert_eq!(ok("VAT_NORMAL", "PAPER", "INDIVIDUAL", None), Ok(()));
        assert_eq!(
            ok("VAT_NORMAL", "DIGITAL", "INDIVIDUAL", None),
            Err(MediumNotAllowed)
        );
    }

    #[test]
    fn a_cycle_is_posted_on_the_fifth_at_noon_beijing_time() {
        let mar = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            posting_time(mar),
            Utc.with_ymd_and_hms(2026, 4, 5, 4, 0, 0).unwrap()
        );
        let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            posting_time(dec),
            Utc.with_ymd_and_hms(2027, 1, 5, 4, 0, 0).unwrap()
        );
        // 16:00 UTC on the last day of a month is already the next month in UTC+8.
        let t = Utc.with_ymd_and_hms(2026, 3, 31, 16, 0, 0).unwrap();
        assert_eq!(cycle_of(t), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(
            next_cycle(dec),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
    }
}
