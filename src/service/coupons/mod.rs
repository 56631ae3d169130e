//! Coupon quotas and partner coupons (30-coupons.md): the vendor grants quotas, partners issue
//! coupons from them to resale customers and reclaim them, distributors carve reseller quotas.
//!
//! Value moves only through `crate::ledger` (quota and coupon balances are ledger accounts owned
//! by the quota / coupon ids); each operation is one transaction with its business rows.
//!
//! One file per sub-area: `quotas` (the vendor's grants and changes, a partner's quotas, a
//! distributor's reseller quotas) and `partner_coupons` (issue, list, reclaim, unbind, records).

mod partner_coupons;
mod quotas;

pub use partner_coupons::*;
pub use quotas::*;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        coupons::{
            CouponChangeFilter, CouponChangeRow, CouponFilter, CouponRecordRow, CouponRow,
            NewCoupon, NewCouponRecord, NewQuota, NewQuotaRecord, QuotaFilter, QuotaRecordFilter,
            QuotaRecordRow, QuotaRow, RecordFilter,
        },
    },
    domain::{ids::new_trans_id, Amount},
    error::{codes, ApiError, ApiResult},
    ledger::{self, AccountRef, Entry, JournalKind, LedgerError, Purpose},
    service::{
        auth::{CustomerCaller, PartnerCaller},
        idempotency::{self, Effect, IdemRequest},
        organisation,
        partners::{self, Acting},
    },
    state::App,
};

pub const OP_ISSUE: &str = "1";
pub const OP_RECLAIM: &str = "2";
pub const OP_UNBIND_RECLAIM: &str = "3";
pub const OP_SWITCH_RECLAIM: &str = "8";
pub const OP_QUOTA_ISSUE: &str = "10";
pub const OP_QUOTA_RECLAIM: &str = "11";

pub(super) fn quota_invalid() -> ApiError {
    ApiError::business(
        codes::QUOTA_INVALID,
        "The coupon quota does not exist or its status is not normal.",
    )
}

pub(super) fn quota_entry(trans_id: &str, kind: JournalKind, at: DateTime<Utc>) -> Entry<'_> {
    Entry { trans_id, kind, at }
}

pub(super) fn quota_ref(id: &str) -> AccountRef<'_> {
    AccountRef::new(id, Purpose::PartnerCouponQuota)
}

pub(super) fn insufficient_quota(e: LedgerError) -> ApiError {
    match e {
        LedgerError::Insufficient => ApiError::business(
            codes::QUOTA_INSUFFICIENT,
            "The coupon quota balance is insufficient.",
        ),
        other => other.into(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemError {
    pub id: String,
    pub error_code: String,
    pub error_msg: String,
}

impl ItemError {
    /// The rejection of one batch item, reported against its id.
    pub(super) fn new(id: &str, e: ApiError) -> Self {
        ItemError {
            id: id.to_string(),
            error_code: e.code.as_str().to_string(),
            error_msg: e.message.into_owned(),
        }
    }
}
