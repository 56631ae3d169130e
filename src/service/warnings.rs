//! Customer warnings (客户预警): raised from the data — a resale customer's cash balance below the
//! partner's threshold, an un-association — by other modules through [`raise_warning`] (arrears,
//! resources expiring), or by the vendor; handled (action + remark) only by the customer's single
//! responsible person: its assigned manager, else the partner's main account.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    db::{self, warnings::WarningRow},
    error::{codes, ApiError, ApiResult},
    service::auth::PartnerCaller,
    state::App,
};

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    LowBalance,
    Arrears,
    ResourceExpiring,
    Unassociated,
    Vendor,
}

impl Scene {
    pub fn as_str(self) -> &'static str {
        match self {
            Scene::LowBalance => "LOW_BALANCE",
            Scene::Arrears => "ARREARS",
            Scene::ResourceExpiring => "RESOURCE_EXPIRING",
            Scene::Unassociated => "UNASSOCIATED",
            Scene::Vendor => "VENDOR",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Scene::LowBalance,
            Scene::Arrears,
            Scene::ResourceExpiring,
            Scene::Unassociated,
            Scene::Vendor,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "INFO" => Some(Level::Info),
            "WARNING" => Some(Level::Warning),
            "CRITICAL" => Some(Level::Critical),
            _ => None,
        }
    }
}

/// Raises a warning inside the caller's transaction (for the consumption and order modules:
/// `Scene::Arrears`, `Scene::ResourceExpiring`). `source_ref` (e.g. `"bill:2026-11:<id>"`) makes
/// it idempotent: a second call with the same scene and source raises nothing. Returns the new
/// warning's id, `None` when it already existed.
#[allow(clippy::too_many_arguments)]
pub async fn raise_warning(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
    scene: Scene,
    level: Level,
    detail: &str,
    source_ref: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    db::warnings::insert(
        conn,
        &db::warnings::NewWarning {
            partner_id,
            customer_id,
            scene: scene.as_str(),
            level: level.as_str(),
            detail,
            source_ref,
            raised_at: at,
        },
    )
    .await
}

/// The vendor raises a warning on a customer of a partner.
pub async fn vendor_raise(
    app: &App,
    customer_id: &str,
    level: Level,
    detail: &str,
) -> ApiResult<WarningRow> {
    let mut tx = app.db.begin().await?;
    let partner_id = db::opportunities::customer_link(&mut tx, customer_id)
        .await?
        .and_then(|l| l.partner_id)
        .ok_or_else(|| ApiError::invalid("customer_id", "is not a partner's customer"))?;
    let id = raise_warning(
        &mut tx,
        &partner_id,
        customer_id,
        Scene::Vendor,
        level,
        detail,
        None,
        app.now(),
    )
    .await?
    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("vendor warning not inserted")))?;
    let row = db::warnings::lock(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("warning vanished")))?;
    tx.commit().await?;
    Ok(row)
}

/// Raises the warnings the data calls for: low balances (of one partner, or of all) and new
/// un-associations. Run by the server every minute and before a partner's list.
pub async fn scan(app: &App, partner_id: Option<&str>) -> ApiResult<u64> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let n = db::warnings::raise_low_balances(&mut tx, partner_id, now).await?
        + db::warnings::raise_unassociations(&mut tx, now).await?;
    tx.commit().await?;
    Ok(n)
}

/// The partner's low-balance threshold in fen (`None` switches the warning off).
pub async fn set_threshold(app: &App, caller: &PartnerCaller, fen: Option<i64>) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    match fen {
        Some(f) => db::warnings::set_threshold(&mut conn, &caller.account_id, f, app.now()).await?,
        None => db::warnings::clear_threshold(&mut conn, &caller.account_id).await?,
    }
    Ok(())
}

pub async fn threshold(app: &App, caller: &PartnerCaller) -> ApiResult<Option<i64>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::warnings::threshold(&mut conn, &caller.account_id).await?)
}

pub async fn list(
    app: &App,
    caller: &PartnerCaller,
    mut filter: db::warnings::Filter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<WarningRow>)> {
    scan(app, Some(&caller.account_id)).await?;
    filter.partner_id = caller.account_id.clone();
    filter.managers = caller.manager_scope().map(<[String]>::to_vec);
    let mut conn = app.db.acquire().await?;
    Ok(db::warnings::list(&mut conn, &filter, offset, limit).await?)
}

fn not_found() -> ApiError {
    ApiError::business(codes::WARNING_NOT_FOUND, "The warning does not exist.")
}

/// Handles an open warning: only the customer's responsible person (its manager, else the main
/// account) may; anyone else of the partner gets 403 CBC.0151.
pub async fn handle(
    app: &App,
    caller: &PartnerCaller,
    id: i64,
    action: &str,
    remark: Option<&str>,
) -> ApiResult<WarningRow> {
    let mut tx = app.db.begin().await?;
    let w = db::warnings::lock(&mut tx, id)
        .await?
        .filter(|w| w.partner_id == caller.account_id)
        .ok_or_else(not_found)?;
    let manager = db::organisation::customer_manager(&mut tx, &w.partner_id, &w.customer_id)
        .await?
        .flatten();
    if !caller.may_see(manager.as_deref()) {
        return Err(not_found());
    }
    let responsible = manager.as_deref().unwrap_or(&caller.account_id);
    if caller.actor_id() != responsible {
        return Err(ApiError::new(
            crate::error::Code::AccessDenied,
            "Access denied: only the customer's responsible person (its manager, else the main account) handles its warnings.",
        ));
    }
    if w.status != "OPEN" {
        return Err(ApiError::business(
            codes::WARNING_HANDLED,
            "The warning has already been handled.",
        ));
    }
    let row = db::warnings::mark_handled(&mut tx, id, action, remark, caller.actor_id(), app.now())
        .await?;
    tx.commit().await?;
    Ok(row)
}
