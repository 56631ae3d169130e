//! Business rules. Services own the database transaction and call `db` and `ledger`.

pub mod accounts;
pub mod association;
pub mod auth;
pub mod batch;
pub mod catalogue;
pub mod coupons;
pub mod customers;
pub mod funding;
pub mod idempotency;
pub mod lifecycle;
pub mod organisation;
pub mod partners;
pub mod realname;
pub mod sms;
pub mod verification;
