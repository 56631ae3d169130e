//! `Idempotency-Key` for money-moving calls: the first outcome (success or business rejection) is
//! stored per caller in the same transaction as the effect and replayed for the same request; the
//! same key with another request is 422; a duplicate arriving while the first is still running is
//! 409 (a non-blocking advisory lock per caller and key). Outcomes are kept for
//! `idempotency.retention_hours`; an older key is forgotten and the request runs anew.

use std::future::Future;

use serde::{de::DeserializeOwned, Serialize};
use sqlx::PgConnection;

use crate::{
    db,
    error::{ApiError, ApiResult, Code},
    state::App,
};

/// A request that carried an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdemRequest {
    /// Keys are scoped per caller (a partner's account id, or `admin`).
    pub caller_id: String,
    pub key: String,
    /// Hash of method, path and the canonical JSON body.
    pub request_hash: String,
}

/// A money-moving operation run inside the caller's transaction.
pub trait Effect: Sync {
    type Output: Serialize + DeserializeOwned + Send;
    fn apply<'a>(
        &'a self,
        app: &'a App,
        conn: &'a mut PgConnection,
    ) -> impl Future<Output = ApiResult<Self::Output>> + Send + 'a;
}

/// Runs `effect` in one transaction; with a key, stores or replays its outcome.
pub async fn run<E: Effect>(
    app: &App,
    idem: Option<&IdemRequest>,
    effect: &E,
) -> ApiResult<E::Output> {
    let mut tx = app.db.begin().await?;
    let Some(k) = idem else {
        let result = effect.apply(app, &mut tx).await;
        return crate::service::end_tx(tx, result).await;
    };
    if !db::idempotency::try_lock(&mut tx, &k.caller_id, &k.key).await? {
        return Err(in_progress());
    }
    db::idempotency::forget_if_older(&mut tx, &k.caller_id, &k.key, retention_cutoff(app)).await?;
    if let Some(stored) = db::idempotency::find(&mut tx, &k.caller_id, &k.key).await? {
        // Roll back explicitly, not by `drop`: a dropped sqlx transaction ends only when its
        // connection is next used, so the transaction-scoped lock would outlive this response and
        // the caller's next request with this key would wrongly see 409.
        tx.rollback().await?;
        return replay_for(k, stored);
    }
    // A savepoint lets a business rejection be stored while its partial effect is rolled back.
    sqlx::query("savepoint effect").execute(&mut *tx).await?;
    let result = effect.apply(app, &mut tx).await;
    let Some((status, body)) = to_store(&result)? else {
        // Internal errors are not stored: the transaction rolls back (and the lock is released)
        // before answering, so a retry may succeed.
        tx.rollback().await?;
        return result;
    };
    if status != 200 {
        sqlx::query("rollback to savepoint effect")
            .execute(&mut *tx)
            .await?;
    }
    db::idempotency::insert(
        &mut tx,
        &db::idempotency::NewOutcome {
            caller_id: &k.caller_id,
            key: &k.key,
            request_hash: &k.request_hash,
            status,
            body: &body,
            created_at: app.now(),
        },
    )
    .await?;
    tx.commit().await?;
    result
}

/// 409: another request with this key is being processed right now.
pub(crate) fn in_progress() -> ApiError {
    ApiError::new(
        Code::RequestInProgress,
        "A request with this Idempotency-Key is still being processed; retry later.",
    )
}

/// The stored form (status, body) of an outcome; `None` for an internal error (never stored).
pub(crate) fn to_store<T: Serialize>(result: &ApiResult<T>) -> ApiResult<Option<(i16, String)>> {
    Ok(match result {
        Ok(out) => Some((200, serde_json::to_string(out).map_err(ApiError::internal)?)),
        Err(e) if e.code.status().is_client_error() => {
            let body = serde_json::json!({"error_code": e.code.as_str(), "error_msg": e.message});
            Some((e.code.status().as_u16() as i16, body.to_string()))
        }
        Err(_) => None,
    })
}

/// The answer to a request whose key already has an outcome: its replay, or 422 when the key
/// was used with another request.
pub(crate) fn replay_for<T: DeserializeOwned>(
    k: &IdemRequest,
    stored: db::idempotency::StoredOutcome,
) -> ApiResult<T> {
    if stored.request_hash != k.request_hash {
        return Err(ApiError::new(
            Code::IdempotencyKeyReused,
            "This Idempotency-Key was used with a different request.",
        ));
    }
    replay(stored)
}

/// Outcomes stored before this instant are past `idempotency.retention_hours`.
pub(crate) fn retention_cutoff(app: &App) -> chrono::DateTime<chrono::Utc> {
    app.now() - chrono::Duration::hours(app.config.idempotency.retention_hours)
}

/// Deletes the outcomes past retention (run periodically by the server); returns how many.
pub async fn sweep_expired(app: &App) -> ApiResult<u64> {
    let mut conn = app.db.acquire().await?;
    Ok(db::idempotency::sweep(&mut conn, retention_cutoff(app)).await?)
}

fn replay<T: DeserializeOwned>(stored: db::idempotency::StoredOutcome) -> ApiResult<T> {
    if stored.status == 200 {
        return serde_json::from_str(&stored.body).map_err(ApiError::internal);
    }
    let v: serde_json::Value = serde_json::from_str(&stored.body).map_err(ApiError::internal)?;
    let code = v["error_code"].as_str().and_then(Code::from_wire);
    match code {
        Some(code) => Err(ApiError::new(
            code,
            v["error_msg"].as_str().unwrap_or_default().to_string(),
        )),
        None => Err(ApiError::internal(anyhow::anyhow!(
            "stored idempotent outcome with an unknown code: {}",
            stored.body
        ))),
    }
}
