//! Permission items of a partner's operator roles. The partner's main account holds them all.

/// (item, what it allows). Documented in the README and the OpenAPI document.
pub const ITEMS: &[(&str, &str)] = &[
    (
        "customer:read",
        "list sub-customers, new-customer tags, real-name review results, association records",
    ),
    (
        "customer:create",
        "check registration identities, send verification codes, create sub-customers",
    ),
    (
        "customer:manage",
        "freeze/unfreeze, real-name submissions, association switches and un-associations",
    ),
    (
        "funding:read",
        "partner and customer balances, adjust records, account-change records",
    ),
    ("funding:write", "fund and reclaim customers and resellers"),
    ("reseller:read", "list resellers (indirect partners)"),
    (
        "coupon:read",
        "coupon quotas, issued coupons and coupon records",
    ),
    ("coupon:write", "issue and reclaim coupons and quotas"),
    (
        "billing:read",
        "sub-customers' consumption: monthly sums, fee records, consuming customers, export; performance and its dashboards; the partner bill and invoices",
    ),
    (
        "event:read",
        "the event feed (a manager sees its customers' events only)",
    ),
    (
        "opportunity:read",
        "list and read opportunities (a manager its own, a supervisor its managers')",
    ),
    (
        "opportunity:write",
        "report, edit, submit, accept/decline and close opportunities (never a supervisor)",
    ),
    ("lead:read", "list and read leads (a manager its own)"),
    (
        "lead:write",
        "record, assign, follow up, convert and close leads (never a supervisor)",
    ),
    ("warning:read", "customer warnings and the warning settings"),
    (
        "warning:write",
        "handle warnings (only as the customer's responsible manager)",
    ),
    ("task:read", "sales-expansion tasks"),
    ("task:write", "record sales-expansion task results"),
    (
        "invoice:write",
        "request invoices for posted partner-bill cycles",
    ),
    (
        "withdrawal:write",
        "request, cancel and delete withdrawals (never a supervisor or a customer manager)",
    ),
];

pub fn is_item(s: &str) -> bool {
    ITEMS.iter().any(|(item, _)| *item == s)
}

/// Scope of an operator over the partner's customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorScope {
    /// Every customer its role allows.
    Staff,
    /// Only the customers assigned to it.
    Manager,
    /// The customers of the managers it supervises (and its own); never moves money.
    Supervisor,
}

impl OperatorScope {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staff" => Some(OperatorScope::Staff),
            "manager" => Some(OperatorScope::Manager),
            "supervisor" => Some(OperatorScope::Supervisor),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorScope::Staff => "staff",
            OperatorScope::Manager => "manager",
            OperatorScope::Supervisor => "supervisor",
        }
    }
}
