//! Business rules. Services own the database transaction and call `db` and `ledger`.

pub mod accounts;
pub mod association;
pub mod auth;
pub mod authorizations;
pub mod batch;
pub mod bills;
pub mod caller_cache;
pub mod catalogue;
pub mod clock;
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
pub mod read_coalesce;
pub mod realname;
pub mod resource_bills;
pub mod sms;
pub mod tasks;
pub mod time_rules;
pub mod usage;
pub mod usage_money;
pub mod verification;
pub mod warnings;
pub mod webhooks;

/// Ends `tx` by `result`: commits it on `Ok`, rolls it back on `Err`, before the outcome is
/// answered. A dropped sqlx transaction is rolled back only when its pooled connection is next
/// used, so the row and advisory locks it took would outlive the response, and the caller's next
/// request could meet them (a `nowait` lock then reads as "being processed").
pub(crate) async fn end_tx<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: crate::error::ApiResult<T>,
) -> crate::error::ApiResult<T> {
    match result {
        Ok(out) => {
            tx.commit().await?;
            Ok(out)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}
