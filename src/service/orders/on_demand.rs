//! Yearly/monthly ↔ pay-per-use and the renewal settings (50-other.md §B): switching resources to
//! pay-per-use at expiry or at once (the unused part refunded like an unsubscription, as a
//! period → on-demand order, type 10, with bill type 24 records), the deduction date of
//! auto-renewals, renewal quotes, and the partner's view of a customer's on-demand resources
//! (from its usage fee records).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{
    refunds::{refund, refund_plan},
    resources::{self, begin_resource, check_ids, fail, Failure, CLOSED},
};
use crate::{
    db,
    domain::orders as rules,
    error::{codes, ApiError, ApiResult},
    service::{
        auth::{CustomerCaller, PartnerCaller},
        usage::bill_cycle,
    },
    state::App,
};

/// `update_period_to_on_demand`: `SET_UP` switches each resource to pay-per-use at its expiry
/// (auto-renewal off), `CANCEL` takes that back. Failures per resource.
pub async fn to_on_demand_at_expiry(
    app: &App,
    caller: &CustomerCaller,
    ids: &[String],
    set_up: bool,
) -> ApiResult<Vec<Failure>> {
    check_ids(ids, 100)?;
    let at = app.now();
    let mut fails = Vec::new();
    for id in ids {
        let (mut tx, r) = begin_resource(app, caller, id).await?;
        let mut r = match r {
            Ok(r) => r,
            Err(f) => {
                fails.push(resources::for_on_demand(f));
                continue;
            }
        };
        r.to_on_demand = set_up;
        if set_up {
            r.is_auto_renew = false;
            r.expire_policy = 1;
        } else {
            r.expire_policy = resources::POLICY_GRACE;
        }
        let event = if set_up {
            "to_on_demand_set"
        } else {
            "to_on_demand_cancel"
        };
        resources::save(&mut tx, &mut r, event, at, None, resources::actor(caller)).await?;
        tx.commit().await?;
    }
    Ok(fails)
}

/// One resource's outcome of `update_period_to_on_demand_instantly`.
pub enum Instantly {
    Done { order_id: String },
    Failed(Failure),
}

/// `update_period_to_on_demand_instantly`: each resource ends its yearly/monthly period now; the
/// unused part of every paid period goes back where it came from (reverse order).
pub async fn to_on_demand_now(
    app: &App,
    caller: &CustomerCaller,
    ids: &[String],
) -> ApiResult<Vec<(String, Instantly)>> {
    check_ids(ids, 10)?;
    let at = app.now();
    crate::service::usage::ensure_partitions(app, &[bill_cycle(at)]).await?;
    let mut out = Vec::new();
    for id in ids {
        let (mut tx, r) = begin_resource(app, caller, id).await?;
        let mut r = match r {
            Ok(r) => r,
            Err(f) => {
                out.push((id.clone(), Instantly::Failed(resources::for_on_demand(f))));
                continue;
            }
        };
        let plan = refund_plan(&mut tx, &r.id, false, at).await?;
        let order = refund(&mut tx, &r, &plan, caller, (super::TO_ON_DEMAND, 24), at).await?;
        r.status = CLOSED;
        r.to_on_demand = true;
        r.is_auto_renew = false;
        r.expire_policy = 1;
        r.deleted_at = Some(at);
        resources::save(
            &mut tx,
            &mut r,
            "to_on_demand",
            at,
            Some(&order.id),
            resources::actor(caller),
        )
        .await?;
        tx.commit().await?;
        out.push((id.clone(), Instantly::Done { order_id: order.id }));
    }
    Ok(out)
}

/// `set_resources_renew_config`: `DEDUCTION_DATE` (auto-renewals of the customer deduct this
/// many days, 2–7, before expiry) or `EXPIRE_DATE` (renewals end on this day of the month in
/// UTC+8, 1–28 or -1 the last day, the days added charged pro rata: `domain::orders::aligned_end`,
/// `extra_days_price`). The other setting stays as it is.
pub async fn set_renew_setting(
    app: &App,
    caller: &CustomerCaller,
    setting: db::orders::RenewSetting,
    value: i16,
) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    db::orders::set_renew_setting(&mut conn, &caller.account_id, setting, value, app.now()).await?;
    Ok(())
}

/// A renewal quote of one resource (fen).
pub struct RenewQuote {
    pub resource_id: String,
    pub official: i64,
    /// With the customer's partner discount (type 3), if any: (discount id, payable).
    pub discounted: Option<(String, i64)>,
}

/// `list_renew_rate_on_period`: what renewing each resource would cost.
pub async fn renew_rates(
    app: &App,
    caller: &CustomerCaller,
    ids: &[String],
    period_type: i16,
    period_num: i32,
) -> ApiResult<(Vec<RenewQuote>, Vec<Failure>)> {
    check_ids(ids, 100)?;
    if !rules::valid_period(period_type, period_num) {
        return Err(ApiError::invalid(
            "period_num",
            "must be 1–11 months (period_type 2) or 1–3 years (period_type 3)",
        ));
    }
    let mut conn = app.db.acquire().await?;
    let discount = super::pay::discount_of(&mut conn, &caller.account_id).await?;
    let mut quotes = Vec::new();
    let mut fails = Vec::new();
    for id in ids {
        let (_, rows) = db::orders::list_resources(
            &mut conn,
            &caller.account_id,
            &db::orders::ResourceFilter {
                resource_ids: Some(vec![id.clone()]),
                ..Default::default()
            },
            0,
            1,
        )
        .await?;
        let Some(r) = rows.into_iter().next().filter(|r| r.status != CLOSED) else {
            fails.push(fail(
                id,
                codes::RESOURCE_NOT_FOUND,
                "The resource does not exist.",
            ));
            continue;
        };
        if !r.is_main {
            fails.push(fail(
                id,
                codes::NOT_MAIN_RESOURCE,
                "The resource is not a main resource.",
            ));
            continue;
        }
        let price = db::catalogue::period_prices(&mut conn, &r.product_id)
            .await?
            .into_iter()
            .find(|p| p.period_type == period_type)
            .and_then(|p| rules::line_price(p.price, period_num, r.subscription_num));
        let Some(official) = price else {
            fails.push(fail(
                id,
                codes::RENEWAL_PERIOD_NOT_FOUND,
                "The renewal period does not exist for the resource.",
            ));
            continue;
        };
        quotes.push(RenewQuote {
            resource_id: r.id,
            official,
            discounted: discount
                .as_ref()
                .map(|(d, rate)| (d.clone(), rules::discounted(official, *rate))),
        });
    }
    Ok((quotes, fails))
}

/// The filters of `list_customer_on_demand_resources`.
#[derive(Debug, Clone, Default)]
pub struct OnDemandQuery {
    pub customer_id: String,
    pub indirect_partner_id: Option<String>,
    pub region_code: Option<String>,
    pub service_type_code: Option<String>,
    pub resource_ids: Option<Vec<String>>,
    pub effective_begin: Option<DateTime<Utc>>,
    pub effective_end: Option<DateTime<Utc>>,
    /// Only 1 (normal) exists here; another status matches nothing.
    pub status: Option<i16>,
}

/// `list_customer_on_demand_resources` (partner): the customer's pay-per-use resources, one per
/// resource id of its usage fee records, effective from its first usage.
pub async fn on_demand_resources(
    app: &App,
    caller: &PartnerCaller,
    q: &OnDemandQuery,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<db::orders::OnDemandRow>)> {
    let mut conn = app.db.acquire().await?;
    resources::sub_customer(
        &mut conn,
        caller,
        &q.customer_id,
        q.indirect_partner_id.as_deref(),
    )
    .await?;
    if q.status.is_some_and(|s| s != 1) {
        return Ok((0, vec![]));
    }
    Ok(db::orders::on_demand_resources(
        &mut conn,
        &q.customer_id,
        &db::orders::OnDemandFilter {
            region_code: q.region_code.clone(),
            service_type_code: q.service_type_code.clone(),
            resource_ids: q.resource_ids.clone(),
            effective_begin: q.effective_begin,
            effective_end: q.effective_end,
        },
        offset,
        limit,
    )
    .await?)
}

/// Decimal yuan of fen (for the quote strings).
pub fn yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}
