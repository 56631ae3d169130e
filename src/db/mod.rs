//! Plain queries on the non-ledger tables. Functions take a connection (or the caller's
//! transaction) and never commit; partner-owned queries take the partner id first.

pub mod accounts;
pub mod catalogue;
pub mod coupons;
pub mod customers;
pub mod funding;
pub mod idempotency;
pub mod lifecycle;
pub mod organisation;
pub mod partners;
pub mod verification;
