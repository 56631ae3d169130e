//! Performance (业绩) and the consumption dashboards: reads of the daily rollups that the charge
//! writes (`db::performance`). Rules in `domain::performance`: a fee record counts on the Beijing
//! date of its charge, for the manager in force at the start of that day; only days before today
//! are visible; performance = cash + stored-value card payments.

use chrono::NaiveDate;

use crate::{
    db::{self, performance::Scope},
    domain::{
        performance::{
            data_through, month_of, months_between, parse_month, visible_days, MAX_MONTHS,
        },
        selling::business_date,
    },
    error::{ApiError, ApiResult},
    service::auth::PartnerCaller,
    state::App,
};

/// What a read asks for (checked strings from the query).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    pub manager_id: Option<String>,
    pub customer_id: Option<String>,
}

/// The months asked for and the last visible day.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from_month: NaiveDate,
    pub to_month: NaiveDate,
    pub data_through: NaiveDate,
}

fn month(field: &str, v: Option<&str>, default: NaiveDate) -> ApiResult<NaiveDate> {
    match v {
        None => Ok(default),
        Some(s) => {
            parse_month(s).ok_or_else(|| ApiError::invalid(field, "must be a month like 2026-03"))
        }
    }
}

/// Checks the query against the caller's scope: a manager or supervisor naming a manager outside
/// its scope gets `403 CBC.0151`. None when no day of the period is visible yet.
fn scope(app: &App, caller: &PartnerCaller, q: &Query) -> ApiResult<(Period, Option<Scope>)> {
    let now = app.now();
    let this_month = month_of(business_date(now));
    let from_month = month("from_month", q.from_month.as_deref(), this_month)?;
    let to_month = month(
        "to_month",
        q.to_month.as_deref(),
        this_month.max(from_month),
    )?;
    if to_month < from_month {
        return Err(ApiError::invalid(
            "to_month",
            "must not be before from_month",
        ));
    }
    if months_between(from_month, to_month) > MAX_MONTHS as i64 {
        return Err(ApiError::invalid(
            "to_month",
            format!("must be at most {MAX_MONTHS} months after from_month"),
        ));
    }
    let managers = match (&q.manager_id, caller.manager_scope()) {
        (Some(m), Some(_)) if !caller.may_see(Some(m)) => return Err(ApiError::access_denied()),
        (Some(m), _) => Some(vec![m.clone()]),
        (None, scope) => scope.map(<[String]>::to_vec),
    };
    let period = Period {
        from_month,
        to_month,
        data_through: data_through(now),
    };
    let scope = visible_days(from_month, to_month, period.data_through).map(|(from, to)| Scope {
        partner_id: caller.account_id.clone(),
        from,
        to,
        managers,
        customer_id: q.customer_id.clone(),
    });
    Ok((period, scope))
}

/// The period, and the scope with a connection when any day of it is visible.
async fn open(
    app: &App,
    caller: &PartnerCaller,
    q: &Query,
) -> ApiResult<(Period, Option<(Scope, crate::db::pool::Conn)>)> {
    let (period, scope) = scope(app, caller, q)?;
    match scope {
        None => Ok((period, None)),
        Some(s) => Ok((period, Some((s, app.db.acquire().await?)))),
    }
}

/// Performance by month (and in total) within the caller's scope.
pub async fn summary(
    app: &App,
    caller: &PartnerCaller,
    q: &Query,
) -> ApiResult<(Period, Vec<db::performance::MonthSum>)> {
    Ok(match open(app, caller, q).await? {
        (p, None) => (p, Vec::new()),
        (p, Some((s, mut c))) => (p, db::performance::by_month(&mut c, &s).await?),
    })
}

/// Performance by month, customer and manager of the day, paged.
pub async fn details(
    app: &App,
    caller: &PartnerCaller,
    q: &Query,
    offset: i64,
    limit: i64,
) -> ApiResult<(Period, i64, Vec<db::performance::DetailRow>)> {
    Ok(match open(app, caller, q).await? {
        (p, None) => (p, 0, Vec::new()),
        (p, Some((s, mut c))) => {
            let (total, rows) = db::performance::details(&mut c, &s, offset, limit).await?;
            (p, total, rows)
        }
    })
}

/// Consumption by month and service type within the caller's scope.
pub async fn consumption_by_service(
    app: &App,
    caller: &PartnerCaller,
    q: &Query,
) -> ApiResult<(Period, Vec<db::performance::ServiceMonthRow>)> {
    Ok(match open(app, caller, q).await? {
        (p, None) => (p, Vec::new()),
        (p, Some((s, mut c))) => (
            p,
            db::performance::consumption_by_service(&mut c, &s).await?,
        ),
    })
}

/// Performance by manager of the day within the caller's scope.
pub async fn by_manager(
    app: &App,
    caller: &PartnerCaller,
    q: &Query,
) -> ApiResult<(Period, Vec<db::performance::ManagerRow>)> {
    Ok(match open(app, caller, q).await? {
        (p, None) => (p, Vec::new()),
        (p, Some((s, mut c))) => (
            p,
            db::performance::performance_by_manager(&mut c, &s).await?,
        ),
    })
}
