//! Batches whose items succeed or fail one by one inside the caller's transaction (batch funding,
//! coupon issue, reseller quota issue and reclaim): each item runs under a savepoint; a business
//! rejection (4xx) rolls back just that item and is handed back to be reported with it, while an
//! internal error aborts the whole batch.

use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};

/// Opens the savepoint of the next item.
pub async fn begin_item(conn: &mut PgConnection) -> ApiResult<()> {
    sqlx::query("savepoint batch_item")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends the item opened by [`begin_item`]: keeps its effects when it succeeded, undoes them when
/// it was rejected (`Ok(Err(rejection))`), and propagates internal errors.
pub async fn end_item<T>(
    conn: &mut PgConnection,
    outcome: ApiResult<T>,
) -> ApiResult<Result<T, ApiError>> {
    match outcome {
        Ok(value) => {
            sqlx::query("release savepoint batch_item")
                .execute(&mut *conn)
                .await?;
            Ok(Ok(value))
        }
        Err(e) if e.code.status().is_client_error() => {
            sqlx::query("rollback to savepoint batch_item")
                .execute(&mut *conn)
                .await?;
            Ok(Err(e))
        }
        Err(e) => Err(e),
    }
}
