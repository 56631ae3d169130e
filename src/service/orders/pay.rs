//! Paying an order (`pay_orders`, renewals with `is_auto_pay`, auto-renewals): the chosen coupons
//! (at most 3), the optional partner discount, then the customer's stored-value cards, cash and
//! own credit — through the ledger, one journal and one fee record per line item, in the
//! order's transaction with the order row locked (so it is paid once, also concurrently).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use super::{busy, invalid_order, unusable, OrderCoupon, COMPLETED, PENDING_PAYMENT, RENEW};
use crate::{
    db::{
        self,
        orders::{LineRow, OrderRow},
        usage::NewFeeRecord,
    },
    domain::{
        deduction::{self, Benefit, SourceKind},
        orders as rules,
    },
    error::{codes, ApiError, ApiResult},
    ledger::{
        self,
        orders::Payer,
        usage::{customer_accounts, Source},
        AccountRef, Entry, JournalKind, Purpose,
    },
    service::{
        auth::CustomerCaller,
        usage::{bill_cycle, new_fee_id},
    },
    state::App,
};

/// The caller's own order, locked without waiting (CBC.99000088 when another payment holds it;
/// CBC.30000010 when it is not the caller's).
pub(crate) async fn lock_own_order(
    conn: &mut PgConnection,
    caller: &CustomerCaller,
    order_id: &str,
) -> ApiResult<OrderRow> {
    let order = db::orders::lock_order_nowait(conn, order_id)
        .await
        .map_err(busy)?
        .ok_or_else(invalid_order)?;
    if order.customer_id != caller.account_id {
        return Err(invalid_order());
    }
    Ok(order)
}

fn benefit(c: &db::orders::CouponRow) -> Benefit {
    Benefit {
        id: c.id.clone(),
        kind: if c.kind == 4 {
            SourceKind::CashCoupon
        } else {
            SourceKind::Voucher
        },
        effective_time: c.effective_time,
        expire_time: c.expire_time,
        service_types: c.service_types.clone(),
        product_ids: c.product_ids.clone(),
    }
}

fn applies_to_all(b: &Benefit, lines: &[LineRow], now: DateTime<Utc>) -> bool {
    lines
        .iter()
        .all(|l| b.applies(&l.service_type_code, &l.product_id, now))
}

/// The customer's coupons that may pay a pending order.
pub(crate) async fn usable_coupons(
    conn: &mut PgConnection,
    order: &OrderRow,
    lines: &[LineRow],
    now: DateTime<Utc>,
) -> ApiResult<Vec<OrderCoupon>> {
    if order.status != PENDING_PAYMENT {
        return Ok(vec![]);
    }
    let rows = db::orders::live_coupons(conn, &order.customer_id, now).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let balances = ledger::balances(conn, &ids, Purpose::CustomerCouponValue).await?;
    Ok(rows
        .into_iter()
        .filter(|r| applies_to_all(&benefit(r), lines, now))
        .filter_map(|r| {
            let balance = balances
                .iter()
                .find(|(o, _, _)| *o == r.id)
                .map_or(0, |b| b.2);
            (balance > 0).then(|| OrderCoupon {
                face_value: r.face_value,
                balance,
                status: if r.effective_time <= now { 2 } else { 1 },
                created_at: r.created_at,
                row: db::usage::BenefitRow {
                    id: r.id.clone(),
                    customer_id: r.customer_id.clone(),
                    kind: r.kind,
                    effective_time: r.effective_time,
                    expire_time: r.expire_time,
                    service_types: r.service_types.clone(),
                    product_ids: r.product_ids.clone(),
                },
            })
        })
        .collect())
}

/// The partner-granted discount of a customer: its id (`PD` + customer id) and rate.
pub(crate) async fn discount_of(
    conn: &mut PgConnection,
    customer_id: &str,
) -> ApiResult<Option<(String, Decimal)>> {
    Ok(db::usage::customers(conn, &[customer_id.to_string()])
        .await?
        .into_iter()
        .next()
        .and_then(|c| c.partner_discount_rate)
        .map(|rate| (format!("PD{customer_id}"), rate)))
}

/// What the customer chose to pay with.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// `(coupon id, coupon type)`: at most 3.
    pub coupons: Vec<(String, i16)>,
    /// The one discount id when `use_discount=YES`.
    pub discount: Option<String>,
}

/// `pay_orders`: pays a pending order of the caller. A paid, cancelled or otherwise changed
/// order is CBC.99003106; a payment already running on it CBC.99000088. A combined
/// transaction is paid by its parent's id (`combined::pay_subs`); a sub-order's id is
/// CBC.99000089.
pub async fn pay(
    app: &App,
    caller: &CustomerCaller,
    order_id: &str,
    choice: &Choice,
) -> ApiResult<()> {
    let at = app.now();
    crate::service::usage::ensure_partitions(app, &[bill_cycle(at)]).await?;
    let mut tx = app.db.begin().await?;
    let result = pay_in(&mut tx, caller, order_id, choice, at).await;
    crate::service::end_tx(tx, result).await
}

/// `pay` inside its transaction, which the caller ends.
async fn pay_in(
    tx: &mut PgConnection,
    caller: &CustomerCaller,
    order_id: &str,
    choice: &Choice,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut order = lock_own_order(tx, caller, order_id).await?;
    super::combined::reject_sub_order(&order)?;
    if order.status != PENDING_PAYMENT {
        return Err(ApiError::business(
            codes::ORDER_STATE_CHANGED,
            "The order's state has changed; it cannot be paid.",
        ));
    }
    if order.pending_payment_end_time.is_some_and(|end| end <= at) {
        return Err(ApiError::business(
            codes::ORDER_STATE_CHANGED,
            "The order's payment window has ended.",
        ));
    }
    if order.is_combined {
        return super::combined::pay_subs(tx, caller, &mut order, choice, at).await;
    }
    let (_, mut lines) = db::orders::lines(tx, &order.id, 0, i64::MAX).await?;
    super::capacity::check_payable(tx, &order, &lines).await?;
    super::resources::prepare(tx, &order, &mut lines, at).await?;
    settle(tx, &mut order, &mut lines, choice, at).await?;
    super::resources::provision(
        tx,
        &order,
        &mut lines,
        caller.actor_id(),
        caller.actor_kind(),
        at,
    )
    .await
}

/// Pays `order` (locked by the caller, pending) at `at`: applies the discount, pays each line
/// item through the ledger (one `order_payment` journal whose trans_id is the line's fee
/// record), writes the fee records and monthly sums, and the order's and lines' amounts.
pub(crate) async fn settle(
    conn: &mut PgConnection,
    order: &mut OrderRow,
    lines: &mut [LineRow],
    choice: &Choice,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    // The discount.
    let mut rate = None;
    if let Some(id) = &choice.discount {
        match discount_of(conn, &order.customer_id).await? {
            Some((d, r)) if &d == id => rate = Some((d, r)),
            _ => {
                return Err(unusable(format!(
                    "The discount {id} cannot be used for this order."
                )))
            }
        }
    }
    // The coupons: each the customer's, live and applicable to every line item.
    let live = db::orders::live_coupons(conn, &order.customer_id, at).await?;
    let mut chosen: Vec<Benefit> = Vec::new();
    for (id, kind) in &choice.coupons {
        let c = live
            .iter()
            .find(|c| &c.id == id && c.kind == *kind)
            .ok_or_else(|| unusable(format!("The coupon {id} cannot be used for this order.")))?;
        let b = benefit(c);
        if !applies_to_all(&b, lines, at) || chosen.iter().any(|x| x.id == b.id) {
            return Err(unusable(format!(
                "The coupon {id} cannot be used for this order."
            )));
        }
        chosen.push(b);
    }
    let coupons: Vec<&Benefit> = {
        let mut v: Vec<&Benefit> = chosen.iter().collect();
        v.sort_by(|a, b| (a.kind, a.expire_time, &a.id).cmp(&(b.kind, b.expire_time, &b.id)));
        v
    };
    // Stored-value cards pay after the coupons (nearest expiry first), then cash and credit.
    let cards_rows: Vec<Benefit> =
        db::usage::benefits(conn, std::slice::from_ref(&order.customer_id), at)
            .await?
            .into_iter()
            .filter(|b| b.kind == 0)
            .map(|b| Benefit {
                id: b.id,
                kind: SourceKind::Card,
                effective_time: b.effective_time,
                expire_time: b.expire_time,
                service_types: vec![],
                product_ids: vec![],
            })
            .collect();
    let cards = deduction::order(&cards_rows, "", "", at);
    let customer = order.customer_id.clone();
    let mut payers: Vec<Payer<'_>> = coupons
        .iter()
        .chain(cards.iter())
        .map(|b| Payer {
            source: Source::new(b.kind, &b.id),
            cap: i64::MAX,
        })
        .collect();
    payers.push(Payer {
        source: Source::new(SourceKind::Cash, &customer),
        cap: i64::MAX,
    });
    payers.push(Payer {
        source: Source::new(SourceKind::Credit, &customer),
        cap: i64::MAX,
    });
    let mut refs: Vec<AccountRef<'_>> = customer_accounts(&customer).to_vec();
    for p in &payers {
        if !refs.contains(&p.source.account) {
            refs.push(p.source.account);
        }
    }
    let mut locked = ledger::lock_accounts(conn, &refs).await?;
    let who = super::association(conn, &customer).await?;
    let cycle = bill_cycle(at);
    let bill_type = match (order.order_type, order.source_type) {
        (RENEW, 8) => 8,
        (RENEW, _) => 2,
        _ => 1,
    };
    let mut planned = ledger::Planned::default();
    let mut fees = Vec::with_capacity(lines.len());
    for l in lines.iter_mut() {
        if let Some((_, r)) = &rate {
            l.payable = rules::discounted(l.official_amount, *r);
            l.discount_amount = l.official_amount - l.payable;
        }
        let fee_id = new_fee_id(cycle);
        let (split, _) = ledger::orders::plan_order_payment(
            &mut planned,
            &mut locked,
            &customer,
            &payers,
            l.payable,
            &Entry {
                trans_id: &fee_id,
                kind: JournalKind::OrderPayment,
                at,
            },
        )?;
        l.coupon = split.coupon;
        l.cash_coupon = split.cash_coupon;
        l.card = split.card;
        l.cash = split.cash;
        l.credit = split.credit;
        l.fee_record_id = Some(fee_id.clone());
        // Trade id: the line's own order (a combined transaction's sub-order).
        fees.push(fee_row(
            &customer,
            &l.order_id,
            l,
            &who,
            &fee_id,
            bill_type,
            at,
        ));
    }
    ledger::write_planned(conn, &planned, &locked).await?;
    // Coupons and cards this payment used up.
    let used_up: Vec<String> = payers
        .iter()
        .filter(|p| p.source.kind < SourceKind::Cash)
        .filter(|p| {
            locked.iter().any(|l| {
                l.owner_id == p.source.account.owner_id
                    && l.purpose == p.source.account.purpose.as_str()
                    && l.balance == 0
            })
        })
        .map(|p| p.source.account.owner_id.to_string())
        .collect();
    db::usage::set_benefit_status(conn, &used_up, &[], at).await?;
    db::usage::insert_fee_records(conn, &fees).await?;
    db::usage::add_to_sums(conn, &fees).await?;
    for l in lines.iter() {
        db::orders::update_line(conn, l).await?;
    }
    order.status = COMPLETED;
    order.payment_time = Some(at);
    order.discount_amount = lines.iter().map(|l| l.discount_amount).sum();
    order.payable = lines.iter().map(|l| l.payable).sum();
    order.coupon = lines.iter().map(|l| l.coupon).sum();
    order.cash_coupon = lines.iter().map(|l| l.cash_coupon).sum();
    order.card = lines.iter().map(|l| l.card).sum();
    order.cash = lines.iter().map(|l| l.cash).sum();
    order.credit = lines.iter().map(|l| l.credit).sum();
    if let Some((id, _)) = rate {
        order.discount_id = Some(id);
        order.discount_type = Some(3);
    }
    db::orders::update_order(conn, order).await?;
    Ok(())
}

/// The fee record of a paid line item (charging mode 1, trade id = the order id).
pub(crate) fn fee_row(
    customer_id: &str,
    trade_id: &str,
    l: &LineRow,
    who: &db::usage::ChargedCustomer,
    fee_id: &str,
    bill_type: i16,
    at: DateTime<Utc>,
) -> NewFeeRecord {
    let begin = l.effective_time.unwrap_or(at);
    let end = l.expire_time.unwrap_or_else(|| {
        rules::period_end(begin, l.period_type.unwrap_or(2), l.period_num.unwrap_or(1))
    });
    NewFeeRecord {
        id: fee_id.to_string(),
        cycle: bill_cycle(at),
        customer_id: customer_id.to_string(),
        partner_id: who.partner_id.clone(),
        distributor_id: who.distributor_id.clone(),
        association_type: super::association_type(who),
        manager_id: who.manager_id.clone(),
        event_id: None,
        original_id: None,
        bill_type,
        charging_mode: 1,
        service_type_code: l.service_type_code.clone(),
        resource_type_code: l.resource_type_code.clone(),
        region_code: l.region_code.clone(),
        product_id: l.product_id.clone(),
        usage_type: None,
        usage: None,
        usage_measure_id: None,
        unit_price: None,
        price_measure_id: None,
        resource_id: l.resource_id.clone().unwrap_or_else(|| resource_id_of(l)),
        resource_name: Some(l.product_spec_desc.clone()),
        enterprise_project_id: None,
        begin_time: begin,
        end_time: end,
        trade_time: at,
        trade_id: trade_id.to_string(),
        official_amount: Decimal::new(l.official_amount, 2),
        discount_amount: Decimal::new(l.discount_amount, 2),
        erase_amount: Decimal::ZERO,
        payable: l.payable,
        coupon: l.coupon,
        cash_coupon: l.cash_coupon,
        card: l.card,
        cash: l.cash,
        credit: l.credit,
        debt: 0,
        writeoff: 0,
        reason: None,
    }
}

/// The id of the resource a new order's line item creates (known before payment, so the fee
/// record can name it).
pub(crate) fn resource_id_of(l: &LineRow) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(l.id.as_bytes());
    hex::encode(&digest[..16])
}
