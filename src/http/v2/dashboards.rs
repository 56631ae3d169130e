//! Operations dashboards (extension, issue 12).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::time::format_ts,
    error::ApiResult,
    http::{
        extract::ApiQuery,
        v2::{non_empty, time_bound},
        ErrorBody,
    },
    service::{auth::PartnerCaller, dashboards as svc},
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
