//! Unsubscription (50-other.md §B `cancel_resources_subscription`) and the refunds it and the
//! switch to pay-per-use make: the unused part of each paid period
//! (`domain::orders::unused_refund`) goes back where it was paid from, in the reverse deduction
//! order, as negative fee records and a refund order (type 4, or 10 for pay-per-use) that
//! `show_refund_order_details` explains.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    association, association_type, pay,
    resources::{actor, begin_resource, check_ids, fail, save, Failure, CLOSED},
    COMPLETED, UNSUBSCRIBE,
};
use crate::{
    db::{
        self,
        orders::{LineRow, OrderRow, ResourceRow},
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
    crate::service::usage::ensure_partitions(app, &[cycle]).await?;
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
