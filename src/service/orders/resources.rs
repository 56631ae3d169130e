//! Yearly/monthly resources (50-other.md §B): created when a new order is paid, extended when a
//! renewal order is paid, listed, set to auto-renew, and unsubscribed — the unused part of each
//! paid period refunded back where it was paid from (reverse deduction order) as negative fee
//! records and a refund order (order_type 4).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    association, association_type, invalid_order, pay, COMPLETED, NEW, PENDING_PAYMENT, RENEW,
    UNSUBSCRIBE,
};
use crate::{
    db::{
        self,
        orders::{LineRow, OrderRow, ResourceFilter, ResourceRow},
        usage::NewFeeRecord,
    },
    domain::{deduction, orders as rules},
    error::{codes, ApiError, ApiResult},
    ledger::{
        self,
        usage::{customer_accounts, part_source, Source, SourceKind},
        AccountRef, Entry, JournalKind,
    },
    service::{
        auth::{Caller, CustomerCaller},
        usage::{bill_cycle, new_fee_id},
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
            l.effective_time = Some(r.expire_time);
            l.expire_time = Some(rules::period_end(r.expire_time, pt, pn));
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
    crate::service::organisation::ensure_in_scope(conn, p, &acting.partner_id, customer_id).await
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
/// `period_num` periods of `period_type`, priced from the catalogue.
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
    let Some(price) = db::catalogue::period_prices(conn, &r.product_id)
        .await?
        .into_iter()
        .find(|p| p.period_type == period_type)
    else {
        return Ok(None);
    };
    let Some(official) = rules::line_price(price.price, period_num, r.subscription_num) else {
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
        expire_time: Some(rules::period_end(r.expire_time, period_type, period_num)),
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
    db::usage::ensure_partitions(&mut *app.db.acquire().await?, &[bill_cycle(at)]).await?;
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
            order = pay::lock_own_order(&mut tx, caller, &order.id).await?;
            let paid = async {
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
            match paid {
                Ok(()) => tx.commit().await?,
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

/// One period's refund as planned: the paid line, the refund (fen) and its parts.
pub(crate) struct PeriodRefund {
    line: LineRow,
    amount: i64,
}

/// What each paid period of a resource refunds at `at` (newest first; only periods not yet begun
/// with `only_future`), leaving out those with nothing to refund.
pub(crate) async fn refund_plan(
    conn: &mut PgConnection,
    resource_id: &str,
    only_future: bool,
    at: DateTime<Utc>,
) -> ApiResult<Vec<PeriodRefund>> {
    Ok(db::orders::paid_periods(conn, resource_id)
        .await?
        .into_iter()
        .filter(|l| !only_future || l.effective_time.is_some_and(|b| b > at))
        .map(|l| PeriodRefund {
            amount: match (l.effective_time, l.expire_time) {
                (Some(b), Some(e)) => rules::unused_refund(l.payable, b, e, at),
                _ => 0,
            },
            line: l,
        })
        .filter(|p| p.amount > 0)
        .collect())
}

/// `cancel_resources_subscription`: per resource, a refund order (type 4, completed) whose line
/// items refund the unused part of each paid period (`domain::orders::unused_refund`): type 1
/// the resource and every period (the resource is closed), type 2 only the renewed periods not
/// yet begun (the resource then expires at the end of its current period).
pub async fn unsubscribe(
    app: &App,
    caller: &CustomerCaller,
    ids: &[String],
    unsubscribe_type: i16,
) -> ApiResult<(Vec<String>, Vec<Failure>)> {
    check_ids(ids, 10)?;
    if !matches!(unsubscribe_type, 1 | 2) {
        return Err(ApiError::invalid("unsubscribe_type", "must be 1 or 2"));
    }
    let at = app.now();
    let cycle = bill_cycle(at);
    db::usage::ensure_partitions(&mut *app.db.acquire().await?, &[cycle]).await?;
    let mut order_ids = Vec::new();
    let mut fails = Vec::new();
    for id in ids {
        let (mut tx, r) = begin_resource(app, caller, id).await?;
        let mut r = match r {
            Ok(r) => r,
            Err(f) => {
                fails.push(f);
                continue;
            }
        };
        let plan = refund_plan(&mut tx, &r.id, unsubscribe_type == 2, at).await?;
        if unsubscribe_type == 2 && plan.is_empty() {
            fails.push(fail(
                id,
                codes::RESOURCE_NOT_MANAGED,
                "The resource has no renewed period to unsubscribe.",
            ));
            continue;
        }
        let order = refund(&mut tx, &r, &plan, caller, (UNSUBSCRIBE, 4), at).await?;
        if unsubscribe_type == 1 {
            r.status = CLOSED;
            r.deleted_at = Some(at);
        } else {
            r.expire_time = plan
                .iter()
                .filter_map(|p| p.line.effective_time)
                .min()
                .unwrap_or(r.expire_time);
        }
        save(
            &mut tx,
            &mut r,
            "unsubscribed",
            at,
            Some(&order.id),
            actor(caller),
        )
        .await?;
        tx.commit().await?;
        order_ids.push(order.id);
    }
    Ok((order_ids, fails))
}

/// Writes the refund order (`order_type` 4 unsubscribe or 10 to on-demand, its fee records of
/// `bill_type` 4 or 24) of `plan` and moves the money back: for each period (newest first),
/// its charge's parts still held are refunded in the reverse deduction order.
pub(crate) async fn refund(
    conn: &mut PgConnection,
    r: &ResourceRow,
    plan: &[PeriodRefund],
    caller: &CustomerCaller,
    (order_type, bill_type): (i16, i16),
    at: DateTime<Utc>,
) -> ApiResult<OrderRow> {
    let customer = r.customer_id.clone();
    // Every account the refunds touch, locked once in the one lock order.
    let mut charges = Vec::new();
    for p in plan {
        let fee = p.line.fee_record_id.clone().unwrap_or_default();
        let refund_ids = db::usage::refund_ids(conn, &fee).await?;
        let parts = ledger::usage::charge_parts(conn, &fee, &refund_ids).await?;
        charges.push((fee, parts));
    }
    let coupon_ids: Vec<String> = charges
        .iter()
        .flat_map(|(_, ps)| ps.iter())
        .filter(|p| p.purpose == "customer_coupon_value")
        .map(|p| p.owner_id.clone())
        .collect();
    let kinds = db::usage::coupon_kinds(conn, &coupon_ids).await?;
    let kind_of = |id: &str| {
        if kinds.iter().any(|(c, k)| c == id && *k == 4) {
            SourceKind::CashCoupon
        } else {
            SourceKind::Voucher
        }
    };
    let mut refs: Vec<AccountRef<'_>> = customer_accounts(&customer).to_vec();
    for (_, ps) in &charges {
        for p in ps {
            if let Some(s) = part_source(p, kind_of) {
                if !refs.contains(&s.account) {
                    refs.push(s.account);
                }
            }
        }
    }
    let mut locked = ledger::lock_accounts(conn, &refs).await?;
    let who = association(conn, &customer).await?;
    let order_id = rules::new_order_id(at);
    let cycle = bill_cycle(at);
    let mut planned = ledger::Planned::default();
    let mut lines = Vec::new();
    let mut fees: Vec<NewFeeRecord> = Vec::new();
    let mut refilled = Vec::new();
    for (i, (p, (fee, _))) in plan.iter().zip(&charges).enumerate() {
        // Re-read under the locks.
        let refund_ids = db::usage::refund_ids(conn, fee).await?;
        let parts = ledger::usage::charge_parts(conn, fee, &refund_ids).await?;
        let remaining: Vec<i64> = parts.iter().map(|c| c.given.max(0)).collect();
        let amount = p.amount.min(remaining.iter().sum());
        let back =
            deduction::refund_parts(&remaining, amount).unwrap_or_else(|| vec![0; parts.len()]);
        let mut sources: Vec<(Source<'_>, i64)> = Vec::new();
        for (c, &fen) in parts.iter().zip(&back) {
            if let Some(s) = part_source(c, kind_of) {
                if fen > 0 && s.kind < SourceKind::Cash {
                    refilled.push(c.owner_id.clone());
                }
                sources.push((s, fen));
            }
        }
        let fee_id = new_fee_id(cycle);
        let split = ledger::orders::plan_order_refund(
            &mut planned,
            &mut locked,
            &customer,
            &sources,
            &Entry {
                trans_id: &fee_id,
                kind: JournalKind::OrderRefund,
                at,
            },
        )?;
        let neg = split.negated();
        let l = &p.line;
        let line = LineRow {
            id: format!("{order_id}-{}", i + 1),
            order_id: order_id.clone(),
            seq: (i + 1) as i16,
            resource_id: Some(r.id.clone()),
            is_main: l.is_main,
            product_id: l.product_id.clone(),
            service_type_code: l.service_type_code.clone(),
            resource_type_code: l.resource_type_code.clone(),
            region_code: l.region_code.clone(),
            product_spec_desc: l.product_spec_desc.clone(),
            period_type: l.period_type,
            period_num: None,
            subscription_num: l.subscription_num,
            official_amount: -amount,
            payable: -amount,
            coupon: neg.coupon,
            cash_coupon: neg.cash_coupon,
            card: neg.card,
            cash: neg.cash,
            credit: neg.credit,
            effective_time: l.effective_time,
            expire_time: l.expire_time,
            fee_record_id: Some(fee_id.clone()),
            refunded_fee_id: Some(fee.clone()),
            base_order_id: Some(l.order_id.clone()),
            ..Default::default()
        };
        let mut row = pay::fee_row(&customer, &order_id, &line, &who, &fee_id, bill_type, at);
        row.original_id = Some(fee.clone());
        row.debt = 0;
        fees.push(row);
        lines.push(line);
    }
    ledger::write_planned(conn, &planned, &locked).await?;
    db::usage::set_benefit_status(conn, &[], &refilled, at).await?;
    let sum = |f: fn(&LineRow) -> i64| lines.iter().map(f).sum::<i64>();
    let order = OrderRow {
        id: order_id,
        customer_id: customer.clone(),
        partner_id: who.partner_id.clone(),
        distributor_id: who.distributor_id.clone(),
        association_type: association_type(&who),
        manager_id: who.manager_id.clone(),
        order_type,
        status: COMPLETED,
        source_type: super::source_type(caller),
        service_type_code: r.service_type_code.clone(),
        base_order_id: Some(r.order_id.clone()),
        official_amount: sum(|l| l.official_amount),
        payable: sum(|l| l.payable),
        coupon: sum(|l| l.coupon),
        cash_coupon: sum(|l| l.cash_coupon),
        card: sum(|l| l.card),
        cash: sum(|l| l.cash),
        credit: sum(|l| l.credit),
        create_time: at,
        payment_time: Some(at),
        actor_id: caller.actor_id().to_string(),
        actor_kind: caller.actor_kind().to_string(),
        ..Default::default()
    };
    db::orders::insert_order(conn, &order).await?;
    db::orders::insert_lines(conn, &lines).await?;
    let fees: Vec<NewFeeRecord> = fees.into_iter().filter(|f| f.payable != 0).collect();
    db::usage::insert_fee_records(conn, &fees).await?;
    db::usage::add_to_sums(conn, &fees).await?;
    Ok(order)
}

/// `show_refund_order_details`: the refund lines of an unsubscribe order (CBC.99005026 for
/// another order type).
pub async fn refund_details(
    app: &App,
    caller: &Caller,
    order_id: &str,
    customer_id: Option<&str>,
    indirect_partner_id: Option<&str>,
) -> ApiResult<(OrderRow, Vec<LineRow>)> {
    let mut conn = app.db.acquire().await?;
    let order = super::readable_order(
        &mut conn,
        caller,
        order_id,
        customer_id,
        indirect_partner_id,
    )
    .await?;
    if !matches!(order.order_type, UNSUBSCRIBE | super::TO_ON_DEMAND) {
        return Err(ApiError::business(
            codes::NOT_REFUND_ORDER,
            "The order is not an unsubscribe or downgrade order.",
        ));
    }
    let (_, lines) = db::orders::lines(&mut conn, &order.id, 0, i64::MAX).await?;
    Ok((order, lines))
}
