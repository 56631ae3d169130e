//! Bill reads (40-bills.md): the partner's view of its sub-customers' consumption, and a
//! customer's view of its own. Partner views show what was charged while the customer was
//! associated with the partner (kept after the association ends); a customer manager sees only
//! what was charged while the customer was assigned to it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::{
    db::{
        self,
        bills::{DetailFilter, FeeDetail, PartnerScope, SumFilter, SumRow, Totals},
    },
    error::{ApiError, ApiResult},
    service::{auth::PartnerCaller, partners},
    state::App,
};

/// The UTC instant a UTC+8 calendar day starts.
pub fn cn_day_start(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")) - Duration::hours(8)
}

/// `bill_date_begin`/`bill_date_end` (UTC+8 days, both in the cycle's month, begin ≤ end) as a
/// UTC window over the usage's begin time.
pub fn date_window(
    cycle: NaiveDate,
    begin: NaiveDate,
    end: NaiveDate,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let same_month = |d: NaiveDate| d.year() == cycle.year() && d.month() == cycle.month();
    if !same_month(begin) {
        return Err(ApiError::invalid(
            "bill_date_begin",
            "must be in the month of the bill cycle",
        ));
    }
    if !same_month(end) {
        return Err(ApiError::invalid(
            "bill_date_end",
            "must be in the month of the bill cycle",
        ));
    }
    if begin > end {
        return Err(ApiError::invalid(
            "bill_date_begin",
            "must not be after bill_date_end",
        ));
    }
    Ok((cn_day_start(begin), cn_day_start(end) + Duration::days(1)))
}

/// The partner scope of a caller, resolving `indirect_partner_id` (CBC.99000037 when it is not
/// the caller's reseller).
async fn scope(
    conn: &mut sqlx::PgConnection,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
) -> ApiResult<PartnerScope> {
    let acting = partners::resolve_acting(conn, caller, indirect_partner_id).await?;
    Ok(match acting.reseller {
        Some(r) => PartnerScope::Reseller {
            distributor_id: caller.account_id.clone(),
            reseller_id: r.account_id,
        },
        None => PartnerScope::Own(caller.account_id.clone()),
    })
}

/// The managers whose records a caller may read: `None` for everybody but managers and
/// supervisors; a supervisor must name one of its managers (`account_manager_id`), a manager sees
/// its own. An explicit `account_manager_id` narrows any caller to that manager.
fn managers(
    caller: &PartnerCaller,
    account_manager_id: Option<&str>,
    supervisor_must_name: bool,
) -> ApiResult<Option<Vec<String>>> {
    use crate::domain::permissions::OperatorScope;
    let scope = caller.operator.as_ref().map(|o| o.scope);
    match (scope, account_manager_id) {
        (Some(OperatorScope::Supervisor), None) if supervisor_must_name => Err(ApiError::invalid(
            "account_manager_id",
            "is required for an account-manager supervisor",
        )),
        (_, Some(m)) => {
            if caller.may_see(Some(m)) {
                Ok(Some(vec![m.to_string()]))
            } else {
                Err(ApiError::access_denied())
            }
        }
        (_, None) => Ok(caller.manager_scope().map(|ms| ms.to_vec())),
    }
}

pub struct PartnerDetailQuery {
    pub filter: DetailFilter,
    pub customer_id: String,
    pub indirect_partner_id: Option<String>,
    pub account_manager_id: Option<String>,
    pub english: bool,
    pub offset: i64,
    pub limit: i64,
}

/// `list_sub_customer_bill_detail`.
pub async fn partner_details(
    app: &App,
    caller: &PartnerCaller,
    q: PartnerDetailQuery,
) -> ApiResult<(i64, Vec<FeeDetail>)> {
    let mut conn = app.db.acquire().await?;
    let mut f = q.filter;
    f.partner = Some(scope(&mut conn, caller, q.indirect_partner_id.as_deref()).await?);
    f.managers = managers(caller, q.account_manager_id.as_deref(), true)?;
    f.customer_ids = vec![q.customer_id];
    Ok(db::bills::details(&mut conn, &f, q.english, q.offset, q.limit).await?)
}

pub struct PartnerSumQuery {
    pub filter: SumFilter,
    pub customer_id: Option<String>,
    pub indirect_partner_id: Option<String>,
    pub english: bool,
    pub offset: i64,
    pub limit: i64,
}

/// `list_subcustomer_monthly_bills`: resale customers only.
pub async fn partner_sums(
    app: &App,
    caller: &PartnerCaller,
    q: PartnerSumQuery,
) -> ApiResult<(i64, Vec<SumRow>)> {
    let mut conn = app.db.acquire().await?;
    let mut f = q.filter;
    f.partner = Some(scope(&mut conn, caller, q.indirect_partner_id.as_deref()).await?);
    f.managers = managers(caller, None, false)?;
    f.association_type = Some(2);
    f.customer_ids = q.customer_id.map(|c| vec![c]);
    Ok(db::bills::sums(&mut conn, &f, q.english, q.offset, q.limit).await?)
}

/// `list_consume_sub_customers`.
pub async fn consuming_customers(
    app: &App,
    caller: &PartnerCaller,
    cycle: NaiveDate,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<String>)> {
    let mut conn = app.db.acquire().await?;
    let f = SumFilter {
        cycle: Some(cycle),
        partner: Some(PartnerScope::Own(caller.account_id.clone())),
        managers: managers(caller, None, false)?,
        ..Default::default()
    };
    Ok(db::bills::consuming_customers(&mut conn, &f, offset, limit).await?)
}

/// The partner scope and row stream of an export (`export_query` on its own connection).
pub async fn export_scope(
    app: &App,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
) -> ApiResult<(PartnerScope, Option<Vec<String>>)> {
    let mut conn = app.db.acquire().await?;
    let s = scope(&mut conn, caller, indirect_partner_id).await?;
    Ok((s, managers(caller, None, false)?))
}

/// A customer's own details (`list_customer_bills_fee_records`,
/// `list_customerself_resource_records`).
pub async fn own_details(
    app: &App,
    customer_id: &str,
    mut f: DetailFilter,
    english: bool,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<FeeDetail>)> {
    let mut conn = app.db.acquire().await?;
    f.customer_ids = vec![customer_id.to_string()];
    Ok(db::bills::details(&mut conn, &f, english, offset, limit).await?)
}

/// A customer's own monthly sums and their totals (`show_customer_monthly_sum`).
pub async fn own_sums(
    app: &App,
    customer_id: &str,
    mut f: SumFilter,
    english: bool,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<SumRow>, Totals)> {
    let mut conn = app.db.acquire().await?;
    f.customer_ids = Some(vec![customer_id.to_string()]);
    let (n, rows) = db::bills::sums(&mut conn, &f, english, offset, limit).await?;
    let t = db::bills::totals(&mut conn, &f).await?;
    Ok((n, rows, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bill_dates_are_utc_plus_8_days_inside_the_cycle() {
        let c = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let (from, until) = date_window(c, d(2), d(3)).unwrap();
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 1, 16, 0, 0).unwrap());
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 11, 3, 16, 0, 0).unwrap());
        assert!(date_window(c, d(3), d(2)).is_err());
        assert!(date_window(c, d(3), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()).is_err());
    }
}
