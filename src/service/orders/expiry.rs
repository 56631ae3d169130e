//! The time-driven rule of yearly/monthly resources, run by `time_rules::run_all`: it catches up
//! on its own, taking every step that fell due since the last pass at its own due instant, in
//! order, so a clock moved a year ahead sees each monthly renewal dated when it was due.
//!
//! * Auto-renew (`is_auto_renew`): `deduction_days` before expiry (the customer's renewal
//!   setting, else `orders.renew_days_before`) a renewal order (system-created, source_type 8)
//!   is paid from the balance; its fee record (bill type 8) is dated at that instant. No money:
//!   the failure is recorded and the resource follows the expiry path.
//! * Expiry: at `expire_time` the resource enters its grace period (status 5), is frozen
//!   (status 4) `orders.grace_days` later and deleted (status 3) `orders.retention_days` after
//!   that. Each step is a resource event.

use chrono::{DateTime, Duration, Utc};
use sqlx::Connection;

use super::{pay, resources};
use crate::{
    db::{self, orders::ResourceRow},
    error::{codes, ApiResult, Code},
    service::usage::bill_cycle,
    state::App,
};

const SYSTEM: &str = "system";
/// Resources looked at per query.
const BATCH: i64 = 500;

/// Runs every due step of every resource up to the app clock's now, then cancels the pending
/// orders whose payment window has ended; returns the steps taken (orders cancelled included).
pub async fn run_due(app: &App) -> ApiResult<u64> {
    let now = app.now();
    let horizon = now + Duration::days(7);
    let mut steps = 0;
    let mut after: Vec<String> = Vec::new();
    loop {
        let mut conn = app.db.acquire().await?;
        let ids = db::orders::due_resources(&mut conn, horizon, BATCH + after.len() as i64).await?;
        drop(conn);
        let fresh: Vec<String> = ids.into_iter().filter(|i| !after.contains(i)).collect();
        if fresh.is_empty() {
            break;
        }
        for id in fresh {
            steps += run_resource(app, &id, now).await?;
            after.push(id);
        }
    }
    // Orders left unpaid past their payment window.
    let mut conn = app.db.acquire().await?;
    steps += db::orders::cancel_unpaid(&mut conn, now).await?;
    Ok(steps)
}

/// What is due next for a resource, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    AutoRenew(DateTime<Utc>),
    Grace(DateTime<Utc>),
    Freeze(DateTime<Utc>),
    Delete(DateTime<Utc>),
}

fn next_step(
    r: &ResourceRow,
    deduction_days: i64,
    grace_days: i64,
    retention_days: i64,
) -> Option<Step> {
    match r.status {
        resources::IN_USE => {
            let renew_at = r.expire_time - Duration::days(deduction_days);
            let may_renew = r.is_auto_renew
                && (r.auto_renew_times == 0 || r.auto_renewed < r.auto_renew_times)
                && r.auto_renew_failed_for != Some(r.expire_time);
            if may_renew {
                Some(Step::AutoRenew(renew_at))
            } else {
                Some(Step::Grace(r.expire_time))
            }
        }
        resources::EXPIRED => Some(Step::Freeze(r.expire_time + Duration::days(grace_days))),
        resources::FROZEN => Some(Step::Delete(
            r.frozen_at.unwrap_or(r.expire_time) + Duration::days(retention_days),
        )),
        _ => None,
    }
}

fn due_at(s: Step) -> DateTime<Utc> {
    match s {
        Step::AutoRenew(t) | Step::Grace(t) | Step::Freeze(t) | Step::Delete(t) => t,
    }
}

/// Takes the resource's due steps one by one (each in its own transaction) until none is due.
async fn run_resource(app: &App, id: &str, now: DateTime<Utc>) -> ApiResult<u64> {
    let cfg = &app.config.orders;
    let mut steps = 0;
    loop {
        let mut tx = app.db.begin().await?;
        let Some(mut r) = db::orders::lock_resource(&mut tx, id).await? else {
            return Ok(steps);
        };
        let setting = db::orders::RenewSetting::DeductionDays;
        let days = db::orders::renew_setting(&mut tx, &r.customer_id, setting)
            .await?
            .map_or(cfg.renew_days_before, i64::from);
        let Some(step) = next_step(&r, days, cfg.grace_days, cfg.retention_days) else {
            return Ok(steps);
        };
        let at = due_at(step);
        if at > now {
            return Ok(steps);
        }
        match step {
            Step::AutoRenew(at) => {
                if !auto_renew(app, &mut tx, &r, at).await? {
                    r.auto_renew_failed_for = Some(r.expire_time);
                    set(&mut tx, &mut r, "auto_renew_failed", at).await?;
                }
            }
            Step::Grace(at) => {
                if r.to_on_demand {
                    // Switched to pay-per-use at expiry: the yearly/monthly resource ends here.
                    r.status = resources::CLOSED;
                    r.deleted_at = Some(at);
                    set(&mut tx, &mut r, "to_on_demand", at).await?;
                } else {
                    r.status = resources::EXPIRED;
                    set(&mut tx, &mut r, "grace", at).await?;
                }
            }
            Step::Freeze(at) => {
                r.status = resources::FROZEN;
                r.frozen_at = Some(at);
                set(&mut tx, &mut r, "frozen", at).await?;
            }
            Step::Delete(at) => {
                r.status = resources::CLOSED;
                r.deleted_at = Some(at);
                set(&mut tx, &mut r, "deleted", at).await?;
            }
        }
        tx.commit().await?;
        steps += 1;
    }
}

async fn set(
    conn: &mut sqlx::PgConnection,
    r: &mut ResourceRow,
    event: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    resources::save(conn, r, event, at, None, (SYSTEM, SYSTEM)).await
}

/// Renews one period of `auto_renew_period_type` at `at`, paid from the balance (inside a
/// savepoint: nothing of a failed attempt stays). `false` when the money did not suffice.
async fn auto_renew(
    app: &App,
    tx: &mut sqlx::PgConnection,
    r: &ResourceRow,
    at: DateTime<Utc>,
) -> ApiResult<bool> {
    crate::service::usage::ensure_partitions(app, &[bill_cycle(at)]).await?;
    let mut sp = tx.begin().await?;
    let Some((mut order, mut lines)) = resources::renewal_order(
        &mut sp,
        r,
        r.auto_renew_period_type,
        1,
        8,
        SYSTEM,
        SYSTEM,
        at,
    )
    .await?
    else {
        return Ok(false);
    };
    let paid = async {
        resources::prepare(&mut sp, &order, &mut lines, at).await?;
        pay::settle(&mut sp, &mut order, &mut lines, &pay::Choice::default(), at).await?;
        resources::provision(&mut sp, &order, &mut lines, SYSTEM, SYSTEM, at).await
    }
    .await;
    match paid {
        Ok(()) => {
            sp.commit().await?;
            Ok(true)
        }
        Err(e) if e.code == Code::Business(codes::INSUFFICIENT_BALANCE) => {
            sp.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
