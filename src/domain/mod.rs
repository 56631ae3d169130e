//! Domain types: identifiers, enums and value types. No I/O lives here.

pub mod assume_role;
pub mod bill_formula;
pub mod deduction;
pub mod events;
pub mod ids;
pub mod money;
pub mod money_out;
pub mod net;
pub mod orders;
pub mod performance;
pub mod permissions;
pub mod rating;
pub mod selling;
pub mod time;
pub mod validate;
pub mod withdrawable;

pub use ids::{new_access_key, new_account_id, new_secret_key, AccountId};
pub use money::Amount;

use serde::{Deserialize, Serialize};

/// What kind of partner an account is (the vendor assigns it at creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerType {
    /// 解决方案提供商: owns sub-customers directly.
    SolutionProvider,
    /// 总经销商 (tier-1): has resellers, acts for them with `indirect_partner_id`.
    Distributor,
    /// 云经销商 (tier-2, "indirect partner"): belongs to exactly one distributor.
    Reseller,
}

impl PartnerType {
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerType::SolutionProvider => "solution_provider",
            PartnerType::Distributor => "distributor",
            PartnerType::Reseller => "reseller",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "solution_provider" => Some(PartnerType::SolutionProvider),
            "distributor" => Some(PartnerType::Distributor),
            "reseller" => Some(PartnerType::Reseller),
            _ => None,
        }
    }
}

/// Association type of a customer with its partner (values are strings on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssociationType {
    /// "1" 顾问销售: the customer pays the vendor directly.
    Advisory,
    /// "2" 代售: the partner funds the customer's account.
    Resale,
}

impl AssociationType {
    pub fn code(self) -> &'static str {
        match self {
            AssociationType::Advisory => "1",
            AssociationType::Resale => "2",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        match s {
            "1" => Some(AssociationType::Advisory),
            "2" => Some(AssociationType::Resale),
            _ => None,
        }
    }

    /// `cooperation_type` of create-sub-customer: `"1"` is advisory, anything else resale.
    pub fn from_cooperation_type(cooperation_type: Option<&str>) -> Self {
        match cooperation_type {
            Some("1") => AssociationType::Advisory,
            _ => AssociationType::Resale,
        }
    }
}

/// The kind of account a credential belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Partner,
    Customer,
    /// A partner's staff account: acts for its partner within its role and scope.
    Operator,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Partner => "partner",
            AccountKind::Customer => "customer",
            AccountKind::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "partner" => Some(AccountKind::Partner),
            "customer" => Some(AccountKind::Customer),
            "operator" => Some(AccountKind::Operator),
            _ => None,
        }
    }
}
