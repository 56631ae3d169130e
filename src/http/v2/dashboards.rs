//! Operations dashboards (extension, issue 12).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::performance::PerfSum,
    domain::{
        performance::{format_month, performance},
        time::format_ts,
    },
    error::ApiResult,
    http::{
        extract::ApiQuery,
        v2::{
            bills::DecimalNumber,
            funding::YuanNumber,
            non_empty,
            performance::{check_query, Amounts},
            time_bound,
        },
        ErrorBody,
    },
    service::{auth::PartnerCaller, dashboards as svc, performance as perf},
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerDashboardQuery {
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, inclusive; default the start of this month (Beijing time).
    pub time_begin: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, exclusive; default now.
    pub time_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ByAssociationType {
    /// `association_type` "1".
    pub advisory: i64,
    /// `association_type` "2".
    pub resale: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDashboard {
    /// Customers associated now.
    pub total: i64,
    /// Of those, associated within the period.
    pub new: i64,
    /// Un-associations completed within the period.
    pub unassociated: i64,
    pub by_association_type: ByAssociationType,
    pub time_begin: String,
    pub time_end: String,
}

/// Customer counts: total, new, un-associated, by association type (a manager's or
/// supervisor's own customers only).
#[utoipa::path(get, path = "/v2/partners/dashboards/customers", tag = "selling",
    params(CustomerDashboardQuery),
    responses((status = 200, body = CustomerDashboard), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_dashboard(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<CustomerDashboardQuery>,
) -> ApiResult<Json<CustomerDashboard>> {
    let from = time_bound("time_begin", non_empty(q.time_begin).as_deref())?;
    let to = time_bound("time_end", non_empty(q.time_end).as_deref())?;
    let c = svc::customer_counts(&app, &caller, from, to).await?;
    Ok(Json(CustomerDashboard {
        total: c.total,
        new: c.new,
        unassociated: c.unassociated,
        by_association_type: ByAssociationType {
            advisory: c.advisory,
            resale: c.resale,
        },
        time_begin: format_ts(c.from),
        time_end: format_ts(c.to),
    }))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthRangeQuery {
    /// `yyyy-MM` (Beijing months), inclusive; default this month.
    pub from_month: Option<String>,
    /// `yyyy-MM`, inclusive, at most 24 months after `from_month`.
    pub to_month: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceConsumption {
    /// `yyyy-MM`.
    pub month: String,
    pub service_type_code: String,
    /// List price (exact decimal, yuan).
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    /// Payable after discounts (yuan), paid as the following split.
    #[schema(value_type = f64)]
    pub consumption_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    /// Performance: cash + stored-value card.
    #[schema(value_type = f64)]
    pub performance_amount: YuanNumber,
    /// Fee records.
    pub records: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsumptionDashboard {
    pub from_month: String,
    pub to_month: String,
    /// The last day counted (`yyyy-MM-dd`, Beijing): yesterday.
    pub data_through: String,
    /// By month (oldest first), then service type.
    pub items: Vec<ServiceConsumption>,
}

/// Consumption by month and service type (a manager's or supervisor's own customers' days only).
#[utoipa::path(get, path = "/v2/partners/dashboards/consumption", tag = "selling",
    params(MonthRangeQuery),
    responses((status = 200, body = ConsumptionDashboard), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_consumption_dashboard(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<MonthRangeQuery>,
) -> ApiResult<Json<ConsumptionDashboard>> {
    let q = check_query(q.from_month, q.to_month, None, None)?;
    let (p, rows) = perf::consumption_by_service(&app, &caller, &q).await?;
    Ok(Json(ConsumptionDashboard {
        from_month: format_month(p.from_month),
        to_month: format_month(p.to_month),
        data_through: p.data_through.to_string(),
        items: rows
            .into_iter()
            .map(|r| ServiceConsumption {
                month: format_month(r.month),
                service_type_code: r.service_type_code,
                official_amount: DecimalNumber(r.official_amount.normalize()),
                consumption_amount: YuanNumber(r.payable),
                coupon_amount: YuanNumber(r.coupon),
                flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
                stored_value_card_amount: YuanNumber(r.card),
                cash_amount: YuanNumber(r.cash),
                credit_amount: YuanNumber(r.credit),
                debt_amount: YuanNumber(r.debt),
                writeoff_amount: YuanNumber(r.writeoff),
                performance_amount: YuanNumber(performance(r.cash, r.card)),
                records: r.records,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ManagerPerformance {
    /// `null`: days the customers had no manager.
    pub manager_id: Option<String>,
    #[serde(flatten)]
    pub amounts: Amounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceDashboard {
    pub from_month: String,
    pub to_month: String,
    pub data_through: String,
    #[serde(flatten)]
    pub total: Amounts,
    /// Highest performance first.
    pub managers: Vec<ManagerPerformance>,
}

/// Performance by manager (of the day) over the months.
#[utoipa::path(get, path = "/v2/partners/dashboards/performance", tag = "selling",
    params(MonthRangeQuery),
    responses((status = 200, body = PerformanceDashboard), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_performance_dashboard(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<MonthRangeQuery>,
) -> ApiResult<Json<PerformanceDashboard>> {
    let q = check_query(q.from_month, q.to_month, None, None)?;
    let (p, rows) = perf::by_manager(&app, &caller, &q).await?;
    let mut total = PerfSum::default();
    for r in &rows {
        total.payable += r.sum.payable;
        total.cash += r.sum.cash;
        total.card += r.sum.card;
    }
    Ok(Json(PerformanceDashboard {
        from_month: format_month(p.from_month),
        to_month: format_month(p.to_month),
        data_through: p.data_through.to_string(),
        total: Amounts::from(&total),
        managers: rows
            .iter()
            .map(|r| ManagerPerformance {
                manager_id: r.manager_id.clone(),
                amounts: Amounts::from(&r.sum),
            })
            .collect(),
    }))
}
