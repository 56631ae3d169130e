//! Yearly/monthly resources (50-other.md §B): created when a new order is paid, extended when a
//! renewal order is paid, listed, and set to auto-renew. Unsubscription and its refunds are in
//! `refunds`.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::{association, association_type, invalid_order, pay, NEW, PENDING_PAYMENT, RENEW};
use crate::{
    db::{
        self,
        orders::{LineRow, OrderRow, ResourceFilter, ResourceRow},
    },
    domain::orders as rules,
    error::{codes, ApiError, ApiResult},
    service::{
        auth::{Caller, CustomerCaller},
        usage::bill_cycle,
    },
    state::App,
};

/// Resource statuses.
pub const IN_USE: i16 = 2;
pub const CLOSED: i16 = 3;
pub const FROZEN: i16 = 4;
pub const EXPIRED: i16 = 5;

/// expire_policy values.
pub const POLICY_GRACE: i16 = 0;
pub const POLICY_AUTO_RENEW: i16 = 3;

/// A per-resource failure of a batch call (`fail_resource_infos[]`).
#[derive(Debug, Clone)]
pub struct Failure {
    pub resource_id: String,
    pub code: &'static str,
    pub message: String,
}

pub(crate) fn fail(id: &str, code: &'static str, message: &str) -> Failure {
    Failure {
        resource_id: id.to_string(),
        code,
        message: message.to_string(),
    }
}

/// Sets the periods a payment buys on the order's line items (before they are charged): a new
/// order's resource starts now; a renewal continues from the resource's expiry.
pub(crate) async fn prepare(
    conn: &mut PgConnection,
    order: &OrderRow,
    lines: &mut [LineRow],
    at: DateTime<Utc>,
) -> ApiResult<()> {
    for l in lines.iter_mut() {
        let (pt, pn) = (
            l.period_type.unwrap_or(rules::MONTH),
            l.period_num.unwrap_or(1),
        );
        if order.order_type == NEW {
            l.resource_id = Some(pay::resource_id_of(l));
            l.effective_time = Some(at);
            l.expire_time = Some(rules::period_end(at, pt, pn));
        } else if order.order_type == RENEW {
            let id = l.resource_id.clone().unwrap_or_default();
            let r = db::orders::lock_resources(conn, &order.customer_id, &[id])
                .await?
                .into_iter()
                .next()
                .filter(|r| r.status != CLOSED)
                .ok_or_else(|| {
                    ApiError::business(
                        codes::ORDER_STATE_CHANGED,
                        "The order's resource was deleted; it cannot be paid.",
                    )
                })?;
            // The days the order added for the unified expiry day (`renewal_order`, charged in
            // its amount) are kept, even if the resource's expiry moved since.
            let added = match (l.effective_time, l.expire_time) {
                (Some(b), Some(e)) => (e - rules::period_end(b, pt, pn)).max(Duration::zero()),
                _ => Duration::zero(),
            };
            l.effective_time = Some(r.expire_time);
            l.expire_time = Some(rules::period_end(r.expire_time, pt, pn) + added);
        }
    }
    Ok(())
}

/// After a payment: creates a new order's resources, or extends the renewed ones (back in use
/// when they were in their grace period or frozen). Each step is recorded with its actor.
pub(crate) async fn provision(
    conn: &mut PgConnection,
    order: &OrderRow,
    lines: &mut [LineRow],
    actor_id: &str,
    actor_kind: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    for l in lines.iter() {
        let (Some(id), Some(begin), Some(end)) = (&l.resource_id, l.effective_time, l.expire_time)
        else {
            continue;
        };
        if order.order_type == NEW {
            let pt = l.period_type.unwrap_or(rules::MONTH);
            let r = ResourceRow {
                id: id.clone(),
                customer_id: order.customer_id.clone(),
                order_id: order.id.clone(),
                parent_resource_id: None,
                is_main: l.is_main,
                product_id: l.product_id.clone(),
                service_type_code: l.service_type_code.clone(),
                resource_type_code: l.resource_type_code.clone(),
                region_code: l.region_code.clone(),
                resource_spec_code: Some(l.product_spec_desc.clone()),
                product_spec_desc: l.product_spec_desc.clone(),
                period_type: pt,
                period_num: l.period_num.unwrap_or(1),
                subscription_num: l.subscription_num,
                status: IN_USE,
                effective_time: begin,
                expire_time: end,
                expire_policy: if order.is_auto_renew {
                    POLICY_AUTO_RENEW
                } else {
                    POLICY_GRACE
                },
                is_auto_renew: order.is_auto_renew,
                auto_renew_times: 0,
                auto_renewed: 0,
                auto_renew_period_type: pt,
                to_on_demand: false,
                auto_renew_failed_for: None,
                frozen_at: None,
                deleted_at: None,
                update_time: at,
            };
            db::orders::insert_resource(conn, &r).await?;
            db::orders::insert_event(
                conn,
                id,
                "created",
                at,
                Some(&order.id),
                actor_id,
                actor_kind,
            )
            .await?;
        } else if order.order_type == RENEW {
            let mut r =
                db::orders::lock_resources(conn, &order.customer_id, std::slice::from_ref(id))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(invalid_order)?;
            r.expire_time = end;
            r.status = IN_USE;
            r.frozen_at = None;
            r.auto_renew_failed_for = None;
            r.update_time = at;
            let event = if order.source_type == 8 {
                r.auto_renewed += 1;
                "auto_renewed"
            } else {
                "renewed"
            };
            save(
                conn,
                &mut r,
                event,
                at,
                Some(&order.id),
                (actor_id, actor_kind),
            )
            .await?;
        }
    }
    Ok(())
}

/// Writes a resource's new state at `at` and records the step with its actor.
pub(crate) async fn save(
    conn: &mut PgConnection,
    r: &mut ResourceRow,
    event: &str,
    at: DateTime<Utc>,
    order_id: Option<&str>,
    (actor_id, actor_kind): (&str, &str),
) -> ApiResult<()> {
    r.update_time = at;
    db::orders::update_resource(conn, r).await?;
    db::orders::insert_event(conn, &r.id, event, at, order_id, actor_id, actor_kind).await?;
    Ok(())
}

/// Who acts for `caller` (the partner behind an assume-role token, else the customer).
pub(crate) fn actor(caller: &CustomerCaller) -> (&str, &'static str) {
    (caller.actor_id(), caller.actor_kind())
}

/// Whose resources a caller lists: a customer its own; a partner a sub-customer's it names.
pub async fn list(
    app: &App,
    caller: &Caller,
    customer_id: Option<&str>,
    filter: &ResourceFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<ResourceRow>)> {
    let mut conn = app.db.acquire().await?;
    let customer = match caller {
        Caller::Customer(c) => c.account_id.clone(),
        Caller::Partner(p) => {
            let id = customer_id.ok_or_else(|| {
                ApiError::invalid(
                    "customer_id",
                    "is required when a partner queries a customer",
                )
            })?;
            sub_customer(&mut conn, p, id, None).await?;
            id.to_string()
        }
    };
    Ok(db::orders::list_resources(&mut conn, &customer, filter, offset, limit).await?)
}

/// Checks that `customer_id` is the (acting) partner's sub-customer in the caller's scope.
pub(crate) async fn sub_customer(
    conn: &mut PgConnection,
    p: &crate::service::auth::PartnerCaller,
    customer_id: &str,
    indirect_partner_id: Option<&str>,
) -> ApiResult<()> {
    let acting = crate::service::partners::resolve_acting(conn, p, indirect_partner_id).await?;
    let c = db::customers::find_customer(conn, customer_id).await?;
    if c.and_then(|c| c.partner_id).as_deref() != Some(acting.partner_id.as_str()) {
        return Err(ApiError::business(
            codes::NOT_SUB_CUSTOMER,
            "The customer is not your sub-customer.",
        ));
    }
    // The partner's customer, outside a manager operator's scope: CBC.99000000.
    crate::service::organisation::ensure_in_scope(conn, p, &acting.partner_id, customer_id)
        .await
        .map_err(|_| {
            ApiError::business(
                codes::NO_CUSTOMER_PERMISSION,
                "No permission to operate this customer.",
            )
        })
}

/// Rejects more than `max` ids, an empty list, and repeated ids (CBC.30050012).
pub fn check_ids(ids: &[String], max: usize) -> ApiResult<()> {
    if ids.is_empty() || ids.len() > max {
        return Err(ApiError::invalid(
            "resource_ids",
            format!("must hold 1 to {max} ids"),
        ));
    }
    if ids.iter().any(|i| i.is_empty() || i.chars().count() > 64) {
        return Err(ApiError::invalid(
            "resource_ids",
            "each id is 1 to 64 characters",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|i| seen.insert(i)) {
        return Err(ApiError::business(
            codes::DUPLICATE_RESOURCE_IDS,
            "The resource ids are repeated.",
        ));
    }
    Ok(())
}

/// Why a resource cannot be renewed or unsubscribed now (`None` = it can).
pub(crate) async fn unavailable(
    conn: &mut PgConnection,
    r: Option<&ResourceRow>,
    id: &str,
) -> ApiResult<Option<Failure>> {
    let Some(r) = r else {
        return Ok(Some(fail(
            id,
            codes::RESOURCE_NOT_FOUND,
            "The resource does not exist.",
        )));
    };
    if r.status == CLOSED {
        return Ok(Some(fail(
            id,
            codes::RESOURCE_NOT_MANAGED,
            "The resource was deleted.",
        )));
    }
    if !r.is_main {
        return Ok(Some(fail(
            id,
            codes::NOT_MAIN_RESOURCE,
            "The resource is not a main resource.",
        )));
    }
    if db::orders::in_unpaid_order(conn, id).await? {
        return Ok(Some(fail(
            id,
            codes::RESOURCE_IN_UNPAID_ORDER,
            "The resource is in an order pending payment.",
        )));
    }
    Ok(None)
}

/// A failure of a switch to pay-per-use: a resource in an order pending payment is in another
/// transaction (CBC.99003623, the code of the to-on-demand operations).
pub(crate) fn for_on_demand(f: Failure) -> Failure {
    if f.code == codes::RESOURCE_IN_UNPAID_ORDER {
        return fail(
            &f.resource_id,
            codes::ON_DEMAND_OTHER_TRANSACTION,
            "The resource is in another transaction (an order pending payment).",
        );
    }
    f
}

/// Begins the transaction of one resource of a batch call: the caller's resource locked, or the
/// failure that resource is reported with (`unavailable`).
pub(crate) async fn begin_resource<'a>(
    app: &'a App,
    caller: &CustomerCaller,
    id: &str,
) -> ApiResult<(
    sqlx::Transaction<'a, sqlx::Postgres>,
    Result<ResourceRow, Failure>,
)> {
    let mut tx = app.db.begin().await?;
    let r = db::orders::lock_resources(
        &mut tx,
        &caller.account_id,
        std::slice::from_ref(&id.to_string()),
    )
    .await?
    .into_iter()
    .next();
    let out = match unavailable(&mut tx, r.as_ref(), id).await? {
        Some(f) => Err(f),
        None => Ok(r.expect("unavailable checks it exists")),
    };
    Ok((tx, out))
}

/// Creates (in the caller's transaction) a pending renewal order of one resource for
/// `period_num` periods of `period_type`, priced from the catalogue. With the customer's unified
/// expiry day (`EXPIRE_DATE`), the end moves to that day (`rules::aligned_end`) and the days added
/// are charged in the line's official amount (`rules::extra_days_price`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn renewal_order(
    conn: &mut PgConnection,
    r: &ResourceRow,
    period_type: i16,
    period_num: i32,
    source_type: i16,
    actor_id: &str,
    actor_kind: &str,
    at: DateTime<Utc>,
) -> ApiResult<Option<(OrderRow, Vec<LineRow>)>> {
    let prices = db::catalogue::period_prices(conn, &r.product_id).await?;
    let price_of = |t: i16| prices.iter().find(|p| p.period_type == t).map(|p| p.price);
    let Some(price) = price_of(period_type) else {
        return Ok(None);
    };
    let Some(whole) = rules::line_price(price, period_num, r.subscription_num) else {
        return Ok(None);
    };
    let normal_end = rules::period_end(r.expire_time, period_type, period_num);
    let day = db::orders::renew_setting(conn, &r.customer_id, db::orders::RenewSetting::ExpireDay);
    let (end, extra_days) = match day.await? {
        Some(day) => rules::aligned_end(normal_end, day),
        None => (normal_end, 0),
    };
    let Some(official) = rules::extra_days_price(
        price_of(rules::MONTH),
        price_of(rules::YEAR),
        r.subscription_num,
        extra_days,
    )
    .and_then(|extra| whole.checked_add(extra)) else {
        return Ok(None);
    };
    let who = association(conn, &r.customer_id).await?;
    let order = OrderRow {
        id: rules::new_order_id(at),
        customer_id: r.customer_id.clone(),
        partner_id: who.partner_id.clone(),
        distributor_id: who.distributor_id.clone(),
        association_type: association_type(&who),
        manager_id: who.manager_id.clone(),
        order_type: RENEW,
        status: PENDING_PAYMENT,
        source_type,
        service_type_code: r.service_type_code.clone(),
        base_order_id: Some(r.order_id.clone()),
        official_amount: official,
        payable: official,
        is_auto_renew: r.is_auto_renew,
        create_time: at,
        pending_payment_end_time: Some(at + chrono::Duration::days(super::PAYMENT_WINDOW_DAYS)),
        actor_id: actor_id.to_string(),
        actor_kind: actor_kind.to_string(),
        ..Default::default()
    };
    let line = LineRow {
        id: format!("{}-1", order.id),
        order_id: order.id.clone(),
        seq: 1,
        resource_id: Some(r.id.clone()),
        is_main: r.is_main,
        product_id: r.product_id.clone(),
        service_type_code: r.service_type_code.clone(),
        resource_type_code: r.resource_type_code.clone(),
        region_code: r.region_code.clone(),
        product_spec_desc: r.product_spec_desc.clone(),
        period_type: Some(period_type),
        period_num: Some(period_num),
        subscription_num: r.subscription_num,
        official_amount: official,
        payable: official,
        effective_time: Some(r.expire_time),
        expire_time: Some(end),
        base_order_id: Some(r.order_id.clone()),
        ..Default::default()
    };
    db::orders::insert_order(conn, &order).await?;
    db::orders::insert_lines(conn, std::slice::from_ref(&line)).await?;
    Ok(Some((order, vec![line])))
}

/// `renewal_resources`: one renewal order per resource (pending payment, or paid at once from
/// the balance with `is_auto_pay`). Failures per resource are reported, not raised.
pub async fn renew(
    app: &App,
    caller: &CustomerCaller,
    ids: &[String],
    period_type: i16,
    period_num: i32,
    auto_pay: bool,
) -> ApiResult<(Vec<String>, Vec<Failure>)> {
    check_ids(ids, 10)?;
    if !rules::valid_period(period_type, period_num) {
        return Err(ApiError::invalid(
            "period_num",
            "must be 1–11 months (period_type 2) or 1–3 years (period_type 3)",
        ));
    }
    let at = app.now();
    crate::service::usage::ensure_partitions(app, &[bill_cycle(at)]).await?;
    let mut order_ids = Vec::new();
    let mut fails = Vec::new();
    for id in ids {
        let (mut tx, r) = begin_resource(app, caller, id).await?;
        let r = match r {
            Ok(r) => r,
            Err(f) => {
                fails.push(f);
                continue;
            }
        };
        let Some((mut order, mut lines)) = renewal_order(
            &mut tx,
            &r,
            period_type,
            period_num,
            super::source_type(caller),
            caller.actor_id(),
            caller.actor_kind(),
            at,
        )
        .await?
        else {
            fails.push(fail(
                id,
                codes::RENEWAL_PERIOD_NOT_FOUND,
                "The renewal period does not exist for the resource.",
            ));
            continue;
        };
        tx.commit().await?;
        order_ids.push(order.id.clone());
        if auto_pay {
            let mut tx = app.db.begin().await?;
            let paid = async {
                order = pay::lock_own_order(&mut tx, caller, &order.id).await?;
                prepare(&mut tx, &order, &mut lines, at).await?;
                pay::settle(&mut tx, &mut order, &mut lines, &pay::Choice::default(), at).await?;
                provision(
                    &mut tx,
                    &order,
                    &mut lines,
                    caller.actor_id(),
                    caller.actor_kind(),
                    at,
                )
                .await
            }
            .await;
            // Ended before answering, so a refused payment leaves no lock on the order.
            match crate::service::end_tx(tx, paid).await {
                Ok(()) => {}
                Err(e) if e.code == crate::error::Code::Business(codes::INSUFFICIENT_BALANCE) => {
                    fails.push(fail(
                        id,
                        codes::AUTO_PAY_FAILED,
                        "Automatic payment of the order failed: insufficient balance.",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok((order_ids, fails))
}

/// `auto_renewal_resources` (`on`) and `cancel_auto_renewal_resources`.
pub async fn set_auto_renew(
    app: &App,
    caller: &CustomerCaller,
    resource_id: &str,
    on: Option<(i32, Option<i16>)>,
) -> ApiResult<()> {
    let at = app.now();
    let mut tx = app.db.begin().await?;
    let mut r = db::orders::lock_resources(&mut tx, &caller.account_id, &[resource_id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::business(codes::RESOURCE_NOT_FOUND, "The resource does not exist.")
        })?;
    if r.status == CLOSED {
        return Err(ApiError::business(
            codes::RESOURCE_NOT_MANAGED,
            "The resource was deleted.",
        ));
    }
    if !r.is_main {
        return Err(ApiError::business(
            codes::NOT_MAIN_RESOURCE,
            "The resource is not a main resource.",
        ));
    }
    match on {
        Some(_) if r.status == EXPIRED || r.status == FROZEN => {
            return Err(ApiError::business(
                codes::AUTO_RENEW_EXPIRED_OR_FROZEN,
                "The resource has expired or is frozen: auto-renewal cannot be set.",
            ));
        }
        None if !r.is_auto_renew => {
            return Err(ApiError::business(
                codes::AUTO_RENEW_ALREADY_CANCELLED,
                "Auto-renewal is already cancelled for this resource.",
            ));
        }
        _ => {}
    }
    let event = match on {
        Some((times, period_type)) => {
            r.is_auto_renew = true;
            r.expire_policy = POLICY_AUTO_RENEW;
            r.auto_renew_times = times;
            r.auto_renewed = 0;
            r.auto_renew_period_type = period_type.unwrap_or(r.period_type);
            r.auto_renew_failed_for = None;
            "auto_renew_on"
        }
        None => {
            r.is_auto_renew = false;
            r.expire_policy = POLICY_GRACE;
            "auto_renew_off"
        }
    };
    save(&mut tx, &mut r, event, at, None, actor(caller)).await?;
    tx.commit().await?;
    Ok(())
}

pub use super::refunds::{refund_details, unsubscribe};
