//! Combined-transaction orders (合并交易): one creation call with 2–10 items makes a parent order
//! (its own id, no line items, amounts = the sum of its sub-orders, the first item's service
//! type) and one ordinary order per item pointing at it (`parent_order_id`, `sub_seq`). The
//! parent is what is paid or cancelled — all its sub-orders with it, in one transaction; a
//! sub-order's id on `pay_orders` / `cancel_customer_order` is CBC.99000089. Lists show the parent
//! with its sub-orders in `sub_order_infos`; a sub-order is readable by its own id.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    association, busy, check_item, creation_allowed, pay, priced, resources, NewOrder, COMPLETED,
    PENDING_PAYMENT,
};
use crate::{
    db::{
        self,
        orders::{LineRow, OrderRow},
    },
    domain::orders as rules,
    error::{codes, ApiError, ApiResult},
    service::auth::CustomerCaller,
    state::App,
};

/// Items a combined transaction holds.
pub const MIN_ITEMS: usize = 2;
pub const MAX_ITEMS: usize = 10;

/// CBC.99000089 for a sub-order of a combined transaction (its parent is what is operated).
pub(crate) fn reject_sub_order(order: &OrderRow) -> ApiResult<()> {
    match &order.parent_order_id {
        Some(parent) => Err(ApiError::business(
            codes::USE_COMBINED_ORDER_ID,
            format!("This order id cannot be operated; use the combined-transaction id {parent}."),
        )),
        None => Ok(()),
    }
}

/// A created combined transaction: the parent and each sub-order with its line items.
pub type Created = (OrderRow, Vec<(OrderRow, Vec<LineRow>)>);

/// Creates a combined transaction of `items` (2–10): the parent and a sub-order per item, all in
/// status 6 with one payment window. Counts as one order for the creation limits.
pub async fn create(app: &App, caller: &CustomerCaller, items: &[NewOrder]) -> ApiResult<Created> {
    if !(MIN_ITEMS..=MAX_ITEMS).contains(&items.len()) {
        return Err(ApiError::invalid(
            "items",
            format!("must hold {MIN_ITEMS} to {MAX_ITEMS} products"),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        check_item(&format!("items[{i}]."), item)?;
    }
    let at = app.now();
    let mut tx = app.db.begin().await?;
    creation_allowed(&mut tx, app, caller, at).await?;
    let who = association(&mut tx, &caller.account_id).await?;
    let mut ids: Vec<String> = Vec::with_capacity(items.len() + 1);
    while ids.len() <= items.len() {
        let id = rules::new_order_id(at);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let parent_id = ids[0].clone();
    let mut subs = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (mut o, line) = priced(
            &mut tx,
            caller,
            item,
            &who,
            ids[i + 1].clone(),
            at,
            &format!("items[{i}]: "),
        )
        .await?;
        o.parent_order_id = Some(parent_id.clone());
        o.sub_seq = Some(i as i16 + 1);
        subs.push((o, vec![line]));
    }
    let official = subs
        .iter()
        .try_fold(0i64, |sum, (o, _)| sum.checked_add(o.official_amount))
        .ok_or_else(|| ApiError::invalid("items", "the amount is too large"))?;
    let first = &subs[0].0;
    let parent = OrderRow {
        id: parent_id,
        is_combined: true,
        official_amount: official,
        payable: official,
        is_auto_renew: false,
        parent_order_id: None,
        sub_seq: None,
        ..first.clone()
    };
    db::orders::insert_order(&mut tx, &parent).await?;
    for (o, _) in &subs {
        db::orders::insert_order(&mut tx, o).await?;
    }
    let lines: Vec<LineRow> = subs.iter().flat_map(|(_, l)| l.iter().cloned()).collect();
    db::orders::insert_lines(&mut tx, &lines).await?;
    tx.commit().await?;
    Ok((parent, subs))
}

/// Pays a combined transaction whose parent `parent` the caller holds locked and found pending:
/// locks its sub-orders, then pays all their line items as one payment through `pay::settle`
/// (coupons must apply to every line item of every sub-order and are spent across them in
/// order; the discount applies to each line), one fee record per line with the sub-order as its
/// trade id, and creates each sub-order's resources. Parent and sub-orders become completed
/// together; the parent's amounts are the sums of its sub-orders'.
pub(crate) async fn pay_subs(
    conn: &mut PgConnection,
    caller: &CustomerCaller,
    parent: &mut OrderRow,
    choice: &pay::Choice,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut subs = db::orders::lock_sub_orders_nowait(conn, &parent.id)
        .await
        .map_err(busy)?;
    if subs.is_empty() || subs.iter().any(|s| s.status != PENDING_PAYMENT) {
        return Err(ApiError::business(
            codes::ORDER_STATE_CHANGED,
            "The order's state has changed; it cannot be paid.",
        ));
    }
    let mut lines = Vec::new();
    let mut counts = Vec::with_capacity(subs.len());
    for s in &subs {
        let (_, mut own) = db::orders::lines(conn, &s.id, 0, i64::MAX).await?;
        resources::prepare(conn, s, &mut own, at).await?;
        counts.push(own.len());
        lines.extend(own);
    }
    // Tax rates and capacities of every sub-order's lines in one call (capacity rows locked once,
    // in key order, as for a single order).
    super::capacity::check_payable(conn, parent, &lines).await?;
    pay::settle(conn, parent, &mut lines, choice, at).await?;
    let mut rest: &mut [LineRow] = &mut lines;
    for (s, n) in subs.iter_mut().zip(counts) {
        let (own, tail) = rest.split_at_mut(n);
        rest = tail;
        s.status = COMPLETED;
        s.payment_time = Some(at);
        s.discount_amount = own.iter().map(|l| l.discount_amount).sum();
        s.payable = own.iter().map(|l| l.payable).sum();
        s.coupon = own.iter().map(|l| l.coupon).sum();
        s.cash_coupon = own.iter().map(|l| l.cash_coupon).sum();
        s.card = own.iter().map(|l| l.card).sum();
        s.cash = own.iter().map(|l| l.cash).sum();
        s.credit = own.iter().map(|l| l.credit).sum();
        s.discount_id = parent.discount_id.clone();
        s.discount_type = parent.discount_type;
        db::orders::update_order(conn, s).await?;
        resources::provision(conn, s, own, caller.actor_id(), caller.actor_kind(), at).await?;
    }
    Ok(())
}
