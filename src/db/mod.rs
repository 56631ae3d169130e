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

use sqlx::{Postgres, QueryBuilder};

/// Appends ` offset N limit M` to a page query with the two numbers written into the SQL text.
///
/// Bound as parameters, they leave PostgreSQL's generic plan of a pooled connection's prepared
/// statement guessing that the page is a tenth of the matching rows: at 1M rows that plan looks
/// far dearer than the custom one, so every call was planned again (0.3–0.4 ms, more than the
/// query itself at 1M adjust records), while at 1k rows the generic plan was kept. Written in,
/// the generic plan costs what the custom one does and is kept at any size. They are integers
/// (validated at the edge), so nothing but digits enters the text; each distinct page shape is
/// one more cached statement.
pub fn push_page(qb: &mut QueryBuilder<'_, Postgres>, offset: i64, limit: i64) {
    qb.push(format_args!(" offset {offset} limit {limit}"));
}
