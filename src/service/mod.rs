//! Business rules. Services own the database transaction and call `db` and `ledger`.

pub mod accounts;
pub mod association;
pub mod auth;
pub mod batch;
pub mod bills;
pub mod catalogue;
pub mod coupons;
pub mod customers;
pub mod dashboards;
pub mod events;
pub mod funding;
pub mod idempotency;
pub mod leads;
pub mod lifecycle;
pub mod opportunities;
pub mod organisation;
pub mod partners;
pub mod realname;
pub mod resource_bills;
pub mod sms;
pub mod tasks;
pub mod usage;
pub mod usage_money;
pub mod verification;
pub mod warnings;
pub mod webhooks;
