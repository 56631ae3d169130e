//! Plain queries on the non-ledger tables. Functions take a connection (or the caller's
//! transaction) and never commit; partner-owned queries take the partner id first.

pub mod accounts;
pub mod authorizations;
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
pub mod money_out;
pub mod opportunities;
pub mod orders;
pub mod organisation;
pub mod partner_bills;
pub mod partners;
pub mod performance;
pub mod pool;
pub mod resource_bills;
pub mod tasks;
pub mod usage;
pub mod verification;
pub mod warnings;
pub mod webhooks;
