//! Sales-expansion tasks (销售拓展任务): the vendor creates them on a partner's customers (renewal
//! due, cross-sell, lead mining); the partner handles them within its scope. A reseller's
//! customers' tasks are handled by its distributor; the reseller reads them.

use chrono::NaiveDate;

use crate::{
    db::{self, tasks::TaskRow},
    error::{codes, ApiError, ApiResult, Code},
    service::auth::PartnerCaller,
    state::App,
};

pub const TASK_TYPES: &[&str] = &["RENEWAL_DUE", "CROSS_SELL", "LEAD_MINING"];

pub struct NewTask {
    pub customer_id: String,
    pub task_type: String,
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<NaiveDate>,
}

/// The vendor creates a task on a customer; it goes to the customer's partner, and is handled
/// by the partner's distributor when the partner is a reseller.
pub async fn create(app: &App, t: NewTask) -> ApiResult<TaskRow> {
    let mut conn = app.db.acquire().await?;
    let partner_id = db::opportunities::customer_link(&mut conn, &t.customer_id)
        .await?
        .and_then(|l| l.partner_id)
        .ok_or_else(|| ApiError::invalid("customer_id", "is not a partner's customer"))?;
    let partner = db::partners::find_partner(&mut conn, &partner_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner missing")))?;
    let row = TaskRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        handler_partner_id: partner.distributor_id.unwrap_or_else(|| partner_id.clone()),
        partner_id,
        customer_id: t.customer_id,
        task_type: t.task_type,
        title: t.title,
        description: t.description,
        due_date: t.due_date,
        status: "OPEN".into(),
        result: None,
        remark: None,
        handled_by: None,
        handled_at: None,
        created_at: app.now(),
    };
    db::tasks::insert(&mut conn, &row).await?;
    Ok(row)
}

/// Tasks on the caller's customers and those it handles for its resellers.
pub async fn list(
    app: &App,
    caller: &PartnerCaller,
    mut filter: db::tasks::Filter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<TaskRow>)> {
    filter.partner_id = caller.account_id.clone();
    filter.managers = caller.manager_scope().map(<[String]>::to_vec);
    let mut conn = app.db.acquire().await?;
    Ok(db::tasks::list(&mut conn, &filter, offset, limit).await?)
}

fn not_found() -> ApiError {
    ApiError::business(codes::TASK_NOT_FOUND, "The task does not exist.")
}

/// Records the result of an open task; only its handler (within a manager's scope) may.
pub async fn handle(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    result: &str,
    remark: Option<&str>,
) -> ApiResult<TaskRow> {
    let mut tx = app.db.begin().await?;
    let t = db::tasks::find(&mut tx, id, true)
        .await?
        .filter(|t| t.partner_id == caller.account_id || t.handler_partner_id == caller.account_id)
        .ok_or_else(not_found)?;
    if caller.manager_scope().is_some() {
        let manager =
            db::organisation::customer_manager(&mut tx, &caller.account_id, &t.customer_id)
                .await?
                .flatten();
        if !caller.may_see(manager.as_deref()) {
            return Err(not_found());
        }
    }
    if t.handler_partner_id != caller.account_id {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Access denied: your distributor handles the tasks on your customers.",
        ));
    }
    if t.status != "OPEN" {
        return Err(ApiError::business(
            codes::TASK_DONE,
            "The task has already been handled.",
        ));
    }
    let row =
        db::tasks::mark_done(&mut tx, id, result, remark, caller.actor_id(), app.now()).await?;
    tx.commit().await?;
    Ok(row)
}
