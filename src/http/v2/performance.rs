//! Performance (业绩, extension, issue 12): the customers' consumption paid in cash (stored-value
//! card payments count as cash), by month, customer and manager of the day.

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::performance::PerfSum,
    domain::performance::{format_month, performance},
    error::ApiResult,
    http::{
        extract::{ApiQuery, Paging},
        v2::{funding::YuanNumber, max_len, non_empty},
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        performance::{self as svc, Period, Query},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceQuery {
    /// `yyyy-MM` (Beijing months), inclusive; default this month.
    pub from_month: Option<String>,
    /// `yyyy-MM`, inclusive, at most 24 months after `from_month`; default `from_month`'s or
    /// this month, whichever is later.
    pub to_month: Option<String>,
    /// Only days this manager was responsible for (within the caller's scope, else 403).
    pub manager_id: Option<String>,
    /// Only this customer.
    pub customer_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceDetailQuery {
    /// `yyyy-MM` (Beijing months), inclusive; default this month.
    pub from_month: Option<String>,
    /// `yyyy-MM`, inclusive, at most 24 months after `from_month`.
    pub to_month: Option<String>,
    pub manager_id: Option<String>,
    pub customer_id: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

pub fn check_query(
    from_month: Option<String>,
    to_month: Option<String>,
    manager_id: Option<String>,
    customer_id: Option<String>,
) -> ApiResult<Query> {
    let q = Query {
        from_month: non_empty(from_month),
        to_month: non_empty(to_month),
        manager_id: non_empty(manager_id),
        customer_id: non_empty(customer_id),
    };
    max_len("manager_id", q.manager_id.as_deref(), 64)?;
    max_len("customer_id", q.customer_id.as_deref(), 64)?;
    Ok(q)
}

/// Amounts in yuan (JSON numbers, two decimals).
#[derive(Debug, Serialize, ToSchema)]
pub struct Amounts {
    /// Performance: `cash_amount` + `stored_value_card_amount`.
    #[schema(value_type = f64)]
    pub performance_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    /// Consumption paid with stored-value cards (counts as cash).
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    /// All consumption payable (also what coupons, credit and arrears paid).
    #[schema(value_type = f64)]
    pub consumption_amount: YuanNumber,
}

impl From<&PerfSum> for Amounts {
    fn from(s: &PerfSum) -> Self {
        Amounts {
            performance_amount: YuanNumber(performance(s.cash, s.card)),
            cash_amount: YuanNumber(s.cash),
            stored_value_card_amount: YuanNumber(s.card),
            consumption_amount: YuanNumber(s.payable),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthPerformance {
    /// `yyyy-MM`.
    pub month: String,
    #[serde(flatten)]
    pub amounts: Amounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceSummary {
    pub from_month: String,
    pub to_month: String,
    /// The last day counted (`yyyy-MM-dd`, Beijing): yesterday — today's data appears tomorrow.
    pub data_through: String,
    #[serde(flatten)]
    pub total: Amounts,
    /// Months with data, oldest first.
    pub months: Vec<MonthPerformance>,
}

fn period_fields(p: &Period) -> (String, String, String) {
    (
        format_month(p.from_month),
        format_month(p.to_month),
        p.data_through.to_string(),
    )
}

/// Performance in total and by month: a manager's own, a supervisor's managers', everything of
/// the partner for the main account and staff.
#[utoipa::path(get, path = "/v2/partners/performance/summary", tag = "selling",
    params(PerformanceQuery),
    responses((status = 200, body = PerformanceSummary), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_performance_summary(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<PerformanceQuery>,
) -> ApiResult<Json<PerformanceSummary>> {
    let q = check_query(q.from_month, q.to_month, q.manager_id, q.customer_id)?;
    let (period, months) = svc::summary(&app, &caller, &q).await?;
    let mut total = PerfSum::default();
    for m in &months {
        total.payable += m.sum.payable;
        total.cash += m.sum.cash;
        total.card += m.sum.card;
    }
    let (from_month, to_month, data_through) = period_fields(&period);
    Ok(Json(PerformanceSummary {
        from_month,
        to_month,
        data_through,
        total: Amounts::from(&total),
        months: months
            .iter()
            .map(|m| MonthPerformance {
                month: format_month(m.month),
                amounts: Amounts::from(&m.sum),
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceDetail {
    /// `yyyy-MM`.
    pub month: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    /// The manager the days counted for; `null`: days the customer had no manager (yet).
    pub manager_id: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceDetails {
    pub total_count: i64,
    pub from_month: String,
    pub to_month: String,
    pub data_through: String,
    pub details: Vec<PerformanceDetail>,
}

/// Performance by month, customer and manager: newest month first, then customer id.
#[utoipa::path(get, path = "/v2/partners/performance/details", tag = "selling",
    params(PerformanceDetailQuery),
    responses((status = 200, body = PerformanceDetails), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_performance_details(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<PerformanceDetailQuery>,
) -> ApiResult<Json<PerformanceDetails>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let query = check_query(q.from_month, q.to_month, q.manager_id, q.customer_id)?;
    let (period, total, rows) =
        svc::details(&app, &caller, &query, paging.offset, paging.limit).await?;
    let (from_month, to_month, data_through) = period_fields(&period);
    Ok(Json(PerformanceDetails {
        total_count: total,
        from_month,
        to_month,
        data_through,
        details: rows
            .iter()
            .map(|r| PerformanceDetail {
                month: format_month(r.month),
                customer_id: r.customer_id.clone(),
                customer_name: r.customer_name.clone(),
                manager_id: r.manager_id.clone(),
                amounts: Amounts::from(&r.sum),
            })
            .collect(),
    }))
}
