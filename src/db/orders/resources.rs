//! The yearly/monthly resources paying creates, their events and renewal settings, and the
//! pay-per-use resources (migration 0021).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{page, LineRow};

/// A yearly/monthly resource, every column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResourceRow {
    pub id: String,
    pub customer_id: String,
    pub order_id: String,
    pub parent_resource_id: Option<String>,
    pub is_main: bool,
    pub product_id: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub resource_spec_code: Option<String>,
    pub product_spec_desc: String,
    pub period_type: i16,
    pub period_num: i32,
    pub subscription_num: i32,
    pub status: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub expire_policy: i16,
    pub is_auto_renew: bool,
    pub auto_renew_times: i32,
    pub auto_renewed: i32,
    pub auto_renew_period_type: i16,
    pub to_on_demand: bool,
    pub auto_renew_failed_for: Option<DateTime<Utc>>,
    pub frozen_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub update_time: DateTime<Utc>,
}

pub async fn insert_resource(conn: &mut PgConnection, r: &ResourceRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into order_resource (id, customer_id, order_id, parent_resource_id, is_main,
             product_id, service_type_code, resource_type_code, region_code, resource_spec_code,
             product_spec_desc, period_type, period_num, subscription_num, status, effective_time,
             expire_time, expire_policy, is_auto_renew, auto_renew_times, auto_renewed,
             auto_renew_period_type, to_on_demand, auto_renew_failed_for, frozen_at, deleted_at,
             update_time)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23, $24, $25, $26, $27)",
    )
    .bind(&r.id)
    .bind(&r.customer_id)
    .bind(&r.order_id)
    .bind(&r.parent_resource_id)
    .bind(r.is_main)
    .bind(&r.product_id)
    .bind(&r.service_type_code)
    .bind(&r.resource_type_code)
    .bind(&r.region_code)
    .bind(&r.resource_spec_code)
    .bind(&r.product_spec_desc)
    .bind(r.period_type)
    .bind(r.period_num)
    .bind(r.subscription_num)
    .bind(r.status)
    .bind(r.effective_time)
    .bind(r.expire_time)
    .bind(r.expire_policy)
    .bind(r.is_auto_renew)
    .bind(r.auto_renew_times)
    .bind(r.auto_renewed)
    .bind(r.auto_renew_period_type)
    .bind(r.to_on_demand)
    .bind(r.auto_renew_failed_for)
    .bind(r.frozen_at)
    .bind(r.deleted_at)
    .bind(r.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a resource's mutable state.
pub async fn update_resource(conn: &mut PgConnection, r: &ResourceRow) -> sqlx::Result<()> {
    sqlx::query(
        "update order_resource set status = $2, expire_time = $3, expire_policy = $4,
                is_auto_renew = $5, auto_renew_times = $6, auto_renewed = $7,
                auto_renew_period_type = $8, to_on_demand = $9, frozen_at = $10, deleted_at = $11,
                update_time = $12, auto_renew_failed_for = $13
          where id = $1",
    )
    .bind(&r.id)
    .bind(r.status)
    .bind(r.expire_time)
    .bind(r.expire_policy)
    .bind(r.is_auto_renew)
    .bind(r.auto_renew_times)
    .bind(r.auto_renewed)
    .bind(r.auto_renew_period_type)
    .bind(r.to_on_demand)
    .bind(r.frozen_at)
    .bind(r.deleted_at)
    .bind(r.update_time)
    .bind(r.auto_renew_failed_for)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resources of one customer locked for a change, by id.
pub async fn lock_resources(
    conn: &mut PgConnection,
    customer_id: &str,
    ids: &[String],
) -> sqlx::Result<Vec<ResourceRow>> {
    sqlx::query_as(
        "select * from order_resource where customer_id = $1 and id = any($2) order by id for update",
    )
    .bind(customer_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// One resource locked (any customer's; for the time rules).
pub async fn lock_resource(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<ResourceRow>> {
    sqlx::query_as("select * from order_resource where id = $1 for update")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The filters of `list_pay_per_use_customer_resources`.
#[derive(Debug, Clone, Default)]
pub struct ResourceFilter {
    pub resource_ids: Option<Vec<String>>,
    pub order_id: Option<String>,
    pub only_main: bool,
    pub status_list: Option<Vec<i16>>,
    pub expire_begin: Option<DateTime<Utc>>,
    pub expire_end: Option<DateTime<Utc>>,
    pub service_type_code: Option<String>,
}

fn push_resource_filters<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    customer_id: &'a str,
    f: &'a ResourceFilter,
) {
    q.push(" where r.customer_id = ").push_bind(customer_id);
    if let Some(v) = &f.resource_ids {
        q.push(" and r.id = any(").push_bind(v).push(")");
    }
    if let Some(v) = &f.order_id {
        q.push(" and r.order_id = ").push_bind(v);
    }
    if f.only_main {
        q.push(" and r.is_main");
    }
    if let Some(v) = &f.status_list {
        q.push(" and r.status = any(").push_bind(v).push(")");
    }
    if let Some(v) = f.expire_begin {
        q.push(" and r.expire_time >= ").push_bind(v);
    }
    if let Some(v) = f.expire_end {
        q.push(" and r.expire_time <= ").push_bind(v);
    }
    if let Some(v) = &f.service_type_code {
        q.push(" and r.service_type_code = ").push_bind(v);
    }
}

/// One page of a customer's resources by expiry, and the exact total.
pub async fn list_resources(
    conn: &mut PgConnection,
    customer_id: &str,
    f: &ResourceFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ResourceRow>)> {
    page(
        conn,
        ("select count(*)", "select r.*"),
        |q| {
            q.push(" from order_resource r");
            push_resource_filters(q, customer_id, f)
        },
        "r.expire_time, r.id",
        (offset, limit),
    )
    .await
}

/// Records a step of a resource's life.
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    conn: &mut PgConnection,
    resource_id: &str,
    event_type: &str,
    at: DateTime<Utc>,
    order_id: Option<&str>,
    actor_id: &str,
    actor_kind: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into resource_event (resource_id, event_type, at, order_id, actor_id, actor_kind)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(resource_id)
    .bind(event_type)
    .bind(at)
    .bind(order_id)
    .bind(actor_id)
    .bind(actor_kind)
    .execute(conn)
    .await?;
    Ok(())
}

/// A paid period of a resource: the line item that paid it (with its fee record and order).
pub async fn paid_periods(
    conn: &mut PgConnection,
    resource_id: &str,
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(
        "select l.* from order_line_item l join customer_order o on o.id = l.order_id
          where l.resource_id = $1 and o.status = 5 and o.order_type in (1, 2)
            and l.fee_record_id is not null
          order by l.effective_time desc, l.id desc",
    )
    .bind(resource_id)
    .fetch_all(conn)
    .await
}

/// Resources alive whose next step (auto-renewal deduction, grace, freeze, deletion) may be due
/// by `until`: everything expiring before `until + horizon`.
pub async fn due_resources(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select id from order_resource where status in (2, 4, 5) and expire_time < $1
          order by expire_time, id limit $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A customer's setting of `set_resources_renew_config` (table `renew_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewSetting {
    /// `DEDUCTION_DATE`: auto-renewals deduct this many days (2–7) before expiry.
    DeductionDays,
    /// `EXPIRE_DATE`: renewals end on this day of the month in UTC+8 (1–28, -1 the last day).
    ExpireDay,
}

impl RenewSetting {
    fn column(self) -> &'static str {
        match self {
            RenewSetting::DeductionDays => "deduction_days",
            RenewSetting::ExpireDay => "expire_day",
        }
    }
}

/// The customer's value of `setting`, if set.
pub async fn renew_setting(
    conn: &mut PgConnection,
    customer_id: &str,
    setting: RenewSetting,
) -> sqlx::Result<Option<i16>> {
    sqlx::query_scalar::<_, Option<i16>>(&format!(
        "select {} from renew_config where customer_id = $1",
        setting.column()
    ))
    .bind(customer_id)
    .fetch_optional(conn)
    .await
    .map(Option::flatten)
}

/// Sets the customer's value of `setting`; its other setting stays as it is.
pub async fn set_renew_setting(
    conn: &mut PgConnection,
    customer_id: &str,
    setting: RenewSetting,
    value: i16,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let column = setting.column();
    sqlx::query(&format!(
        "insert into renew_config (customer_id, {column}, updated_at) values ($1, $2, $3)
         on conflict (customer_id) do update set {column} = $2, updated_at = $3"
    ))
    .bind(customer_id)
    .bind(value)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A resource's events in order (`event_type`, `at`, `actor_id`, `actor_kind`).
pub async fn events(
    conn: &mut PgConnection,
    resource_id: &str,
) -> sqlx::Result<Vec<(String, DateTime<Utc>, String, String)>> {
    sqlx::query_as(
        "select event_type, at, actor_id, actor_kind from resource_event where resource_id = $1
          order by id",
    )
    .bind(resource_id)
    .fetch_all(conn)
    .await
}

/// Whether a resource is in an order still pending payment.
pub async fn in_unpaid_order(conn: &mut PgConnection, resource_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from order_line_item l join customer_order o on o.id = l.order_id
                        where l.resource_id = $1 and o.status = 6)",
    )
    .bind(resource_id)
    .fetch_one(conn)
    .await
}

/// A customer's pay-per-use resource as its usage fee records show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OnDemandRow {
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub region_code: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub product_id: String,
    pub effective_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct OnDemandFilter {
    pub region_code: Option<String>,
    pub service_type_code: Option<String>,
    pub resource_ids: Option<Vec<String>>,
    pub effective_begin: Option<DateTime<Utc>>,
    pub effective_end: Option<DateTime<Utc>>,
}

fn push_on_demand<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    customer_id: &'a str,
    f: &'a OnDemandFilter,
) {
    q.push(
        " from (select f.resource_id, max(f.resource_name) as resource_name,
                       max(f.region_code) as region_code, max(f.service_type_code) as service_type_code,
                       max(f.resource_type_code) as resource_type_code, max(f.product_id) as product_id,
                       min(f.begin_time) as effective_time
                  from fee_record f where f.customer_id = ",
    )
    .push_bind(customer_id)
    .push(" and f.charging_mode = 3 and f.original_id is null");
    if let Some(v) = &f.region_code {
        q.push(" and f.region_code = ").push_bind(v);
    }
    if let Some(v) = &f.service_type_code {
        q.push(" and f.service_type_code = ").push_bind(v);
    }
    if let Some(v) = &f.resource_ids {
        q.push(" and f.resource_id = any(").push_bind(v).push(")");
    }
    q.push(" group by f.resource_id) r where true");
    if let Some(v) = f.effective_begin {
        q.push(" and r.effective_time >= ").push_bind(v);
    }
    if let Some(v) = f.effective_end {
        q.push(" and r.effective_time <= ").push_bind(v);
    }
}

/// One page of a customer's pay-per-use resources (first usage first), and the exact total.
pub async fn on_demand_resources(
    conn: &mut PgConnection,
    customer_id: &str,
    f: &OnDemandFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<OnDemandRow>)> {
    page(
        conn,
        ("select count(*)", "select r.*"),
        |q| push_on_demand(q, customer_id, f),
        "r.effective_time, r.resource_id",
        (offset, limit),
    )
    .await
}
