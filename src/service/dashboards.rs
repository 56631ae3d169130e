//! Operations dashboards (运营看板). Customer counts need only customers; consumption and
//! performance need the consumption fee records (not in this module yet).

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::{
    db,
    domain::selling::business_tz,
    error::{ApiError, ApiResult},
    service::auth::PartnerCaller,
    state::App,
};

pub struct CustomerCounts {
    pub total: i64,
    pub advisory: i64,
    pub resale: i64,
    pub new: i64,
    pub unassociated: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The start of the current month, Beijing time (the default period start).
pub fn month_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&business_tz());
    business_tz()
        .with_ymd_and_hms(local.year(), local.month(), 1, 0, 0, 0)
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

/// Customer counts of the caller (a manager's or supervisor's own customers): total and by
/// association type now; new associations and un-associations within `[from, to)`.
pub async fn customer_counts(
    app: &App,
    caller: &PartnerCaller,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> ApiResult<CustomerCounts> {
    let now = app.now();
    let from = from.unwrap_or_else(|| month_start(now));
    let to = to.unwrap_or(now + chrono::Duration::seconds(1));
    if to <= from {
        return Err(ApiError::invalid("time_end", "must be after time_begin"));
    }
    let managers = caller.manager_scope();
    let mut conn = app.db.acquire().await?;
    let by_type =
        db::dashboards::customers_by_type(&mut conn, &caller.account_id, managers).await?;
    let count = |t: &str| by_type.iter().find(|(k, _)| k == t).map_or(0, |(_, n)| *n);
    let (advisory, resale) = (count("1"), count("2"));
    let new =
        db::dashboards::new_customers(&mut conn, &caller.account_id, managers, from, to).await?;
    let unassociated =
        db::dashboards::unassociations(&mut conn, &caller.account_id, managers, from, to).await?;
    Ok(CustomerCounts {
        total: advisory + resale,
        advisory,
        resale,
        new,
        unassociated,
        from,
        to,
    })
}
