//! Yearly/monthly orders (50-other.md §A): a customer (or a partner with the customer's
//! assume-role token) creates an order priced from the catalogue, pays it (`pay`) or cancels it;
//! partners read their customers' orders. Resources, renewals and unsubscription are in
//! `resources`, the time-driven renewal and expiry rule in `expiry`.

pub mod capacity;
pub mod combined;
pub mod expiry;
pub mod on_demand;
pub mod pay;
pub mod refunds;
pub mod resources;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        orders::{LineRow, OrderFilter, OrderOwner, OrderRow},
    },
    domain::orders as rules,
    error::{codes, ApiError, ApiResult, Code},
    service::auth::{Caller, CustomerCaller, PartnerCaller},
    state::App,
};

pub use expiry::run_due;

/// Order statuses.
pub const PENDING_PAYMENT: i16 = 6;
pub const CANCELLED: i16 = 4;
pub const COMPLETED: i16 = 5;

/// Order types.
pub const NEW: i16 = 1;
pub const RENEW: i16 = 2;
pub const UNSUBSCRIBE: i16 = 4;
pub const TO_ON_DEMAND: i16 = 10;

/// How long a new order waits for payment.
pub const PAYMENT_WINDOW_DAYS: i64 = 15;

pub(crate) fn invalid_order() -> ApiError {
    ApiError::business(
        codes::INVALID_ORDER,
        "The order is invalid or does not exist.",
    )
}

/// `source_type` of an order taken by this caller: 2 agent (a partner with an assume-role
/// token), else 1 customer.
pub(crate) fn source_type(c: &CustomerCaller) -> i16 {
    if c.acting.is_some() {
        2
    } else {
        1
    }
}

/// A new order as `POST /v2/orders/customer-orders` asks for it.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub product_id: String,
    pub region_code: String,
    pub period_type: i16,
    pub period_num: i32,
    pub subscription_num: i32,
    pub is_auto_renew: bool,
}

/// The association a customer's order records (at creation).
pub(crate) async fn association(
    conn: &mut PgConnection,
    customer_id: &str,
) -> ApiResult<db::usage::ChargedCustomer> {
    db::usage::customers(conn, &[customer_id.to_string()])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::business(codes::CUSTOMER_NOT_FOUND, "The customer does not exist.")
        })
}

pub(crate) fn association_type(c: &db::usage::ChargedCustomer) -> Option<i16> {
    c.association_type.as_deref().and_then(|t| t.parse().ok())
}

/// Checks an item's period and copies; `prefix` names it in a combined body (`items[0].`).
pub(crate) fn check_item(prefix: &str, req: &NewOrder) -> ApiResult<()> {
    if !rules::valid_period(req.period_type, req.period_num) {
        return Err(ApiError::invalid(
            &format!("{prefix}period_num"),
            "must be 1–11 months (period_type 2) or 1–3 years (period_type 3)",
        ));
    }
    if !(1..=100).contains(&req.subscription_num) {
        return Err(ApiError::invalid(
            &format!("{prefix}subscription_num"),
            "must be between 1 and 100",
        ));
    }
    Ok(())
}

/// Locks the customer's order creation and applies the per-minute and per-day limits.
pub(crate) async fn creation_allowed(
    conn: &mut PgConnection,
    app: &App,
    caller: &CustomerCaller,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let (last_minute, today) = db::orders::lock_and_count_recent(
        conn,
        &caller.account_id,
        at - Duration::seconds(60),
        crate::domain::performance::day_start(crate::domain::selling::business_date(at)),
    )
    .await?;
    let limits = &app.config.orders;
    if let Some(code) = rules::creation_limit(
        rules::RecentOrders { last_minute, today },
        limits.max_orders_per_minute,
        limits.max_orders_per_day,
    ) {
        return Err(ApiError::business(
            code,
            if code == codes::TOO_FREQUENT {
                "Orders are created too frequently; try again in a minute."
            } else {
                "The daily limit of orders created has been reached."
            },
        ));
    }
    Ok(())
}

/// A new order of one product in status 6 (pending payment) with its main line item, priced
/// from the product's yearly/monthly price (not written). `prefix` names the item in errors.
pub(crate) async fn priced(
    conn: &mut PgConnection,
    caller: &CustomerCaller,
    req: &NewOrder,
    who: &db::usage::ChargedCustomer,
    id: String,
    at: DateTime<Utc>,
    prefix: &str,
) -> ApiResult<(OrderRow, LineRow)> {
    let product = db::catalogue::find_product(conn, &req.product_id)
        .await?
        .ok_or_else(|| {
            ApiError::business(
                codes::PRODUCT_NOT_FOUND,
                format!("{prefix}The product does not exist."),
            )
        })?;
    if product
        .region_code
        .as_deref()
        .is_some_and(|r| r != req.region_code)
    {
        return Err(ApiError::business(
            codes::PRODUCT_NOT_FOUND,
            format!("{prefix}The product is not sold in this region."),
        ));
    }
    capacity::require_tax_rate(&product)?;
    let price = db::catalogue::period_prices(conn, &product.id)
        .await?
        .into_iter()
        .find(|p| p.period_type == req.period_type)
        .ok_or_else(|| {
            ApiError::business(
                codes::PRODUCT_NOT_FOUND,
                format!("{prefix}The product has no price for this period_type."),
            )
        })?;
    let official = rules::line_price(price.price, req.period_num, req.subscription_num)
        .ok_or_else(|| {
            ApiError::invalid(
                &format!("{}subscription_num", field_prefix(prefix)),
                "the amount is too large",
            )
        })?;
    let order = OrderRow {
        id,
        customer_id: caller.account_id.clone(),
        partner_id: who.partner_id.clone(),
        distributor_id: who.distributor_id.clone(),
        association_type: association_type(who),
        manager_id: who.manager_id.clone(),
        order_type: NEW,
        status: PENDING_PAYMENT,
        source_type: source_type(caller),
        service_type_code: product.cloud_service_type.clone(),
        official_amount: official,
        payable: official,
        is_auto_renew: req.is_auto_renew,
        create_time: at,
        pending_payment_end_time: Some(at + Duration::days(PAYMENT_WINDOW_DAYS)),
        actor_id: caller.actor_id().to_string(),
        actor_kind: caller.actor_kind().to_string(),
        ..Default::default()
    };
    let line = LineRow {
        id: format!("{}-1", order.id),
        order_id: order.id.clone(),
        seq: 1,
        is_main: true,
        product_id: product.id.clone(),
        service_type_code: product.cloud_service_type.clone(),
        resource_type_code: product.resource_type_code.clone().unwrap_or_default(),
        region_code: req.region_code.clone(),
        product_spec_desc: product
            .resource_spec
            .clone()
            .unwrap_or_else(|| product.name.clone()),
        period_type: Some(req.period_type),
        period_num: Some(req.period_num),
        subscription_num: req.subscription_num,
        official_amount: official,
        payable: official,
        ..Default::default()
    };
    Ok((order, line))
}

/// `items[0]: ` (a message prefix) → `items[0].` (a field prefix).
fn field_prefix(prefix: &str) -> String {
    prefix
        .strip_suffix(": ")
        .map(|p| format!("{p}."))
        .unwrap_or_default()
}

/// Creates an order in status 6 (pending payment) with its main line item, priced from the
/// product's yearly/monthly price.
pub async fn create(
    app: &App,
    caller: &CustomerCaller,
    req: &NewOrder,
) -> ApiResult<(OrderRow, Vec<LineRow>)> {
    check_item("", req)?;
    let at = app.now();
    let mut tx = app.db.begin().await?;
    creation_allowed(&mut tx, app, caller, at).await?;
    let who = association(&mut tx, &caller.account_id).await?;
    let (order, line) = priced(&mut tx, caller, req, &who, rules::new_order_id(at), at, "").await?;
    db::orders::insert_order(&mut tx, &order).await?;
    db::orders::insert_lines(&mut tx, std::slice::from_ref(&line)).await?;
    tx.commit().await?;
    Ok((order, vec![line]))
}

/// Cancels a pending order (status 6 only, else CBC.99005010). A combined transaction is
/// cancelled by its parent's id, with all its sub-orders; a sub-order's id is CBC.99000089.
pub async fn cancel(app: &App, caller: &CustomerCaller, order_id: &str) -> ApiResult<()> {
    let at = app.now();
    let mut tx = app.db.begin().await?;
    let result = cancel_in(&mut tx, caller, order_id, at).await;
    crate::service::end_tx(tx, result).await
}

/// `cancel` inside its transaction, which the caller ends.
async fn cancel_in(
    tx: &mut PgConnection,
    caller: &CustomerCaller,
    order_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut order = pay::lock_own_order(tx, caller, order_id).await?;
    combined::reject_sub_order(&order)?;
    let mut subs = if order.is_combined {
        db::orders::lock_sub_orders_nowait(tx, &order.id)
            .await
            .map_err(busy)?
    } else {
        vec![]
    };
    if order.status != PENDING_PAYMENT || subs.iter().any(|s| s.status != PENDING_PAYMENT) {
        return Err(ApiError::business(
            codes::ORDER_NOT_CANCELLABLE,
            "The order's status does not allow cancellation.",
        ));
    }
    for o in std::iter::once(&mut order).chain(subs.iter_mut()) {
        o.status = CANCELLED;
        o.cancel_time = Some(at);
        db::orders::update_order(tx, o).await?;
    }
    Ok(())
}

/// Whose orders a caller reads: a customer its own; a partner (or a distributor for its reseller
/// with `indirect_partner_id`) those of its customers. An operator limited to some managers'
/// customers must name the customer (`customer_id`), which must be in its scope.
pub(crate) async fn reader(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: Option<&str>,
    indirect_partner_id: Option<&str>,
) -> ApiResult<OrderOwner> {
    match caller {
        Caller::Customer(c) => Ok(OrderOwner::Customer(c.account_id.clone())),
        Caller::Partner(p) => partner_reader(conn, p, customer_id, indirect_partner_id).await,
    }
}

async fn partner_reader(
    conn: &mut PgConnection,
    p: &PartnerCaller,
    customer_id: Option<&str>,
    indirect_partner_id: Option<&str>,
) -> ApiResult<OrderOwner> {
    let acting = crate::service::partners::resolve_acting(conn, p, indirect_partner_id).await?;
    match customer_id {
        Some(c) => {
            crate::service::organisation::ensure_in_scope(conn, p, &acting.partner_id, c).await?
        }
        None if p.manager_scope().is_some() => {
            return Err(ApiError::invalid(
                "customer_id",
                "is required for an operator limited to its managers' customers",
            ))
        }
        None => {}
    }
    Ok(OrderOwner::Partner(acting.partner_id))
}

/// Whether `owner` may read `order`.
pub(crate) fn may_read(owner: &OrderOwner, order: &OrderRow) -> bool {
    match owner {
        OrderOwner::Customer(c) => &order.customer_id == c,
        OrderOwner::Partner(p) => order.partner_id.as_deref() == Some(p.as_str()),
    }
}

/// A page of `list_customer_orders`: top-level orders (normal ones and combined-transaction
/// parents) and the sub-orders of the parents among them.
pub struct OrderPage {
    pub total: i64,
    pub orders: Vec<OrderRow>,
    /// By parent, in item order.
    pub sub_orders: Vec<OrderRow>,
}

/// `list_customer_orders`.
pub async fn list(
    app: &App,
    caller: &Caller,
    indirect_partner_id: Option<&str>,
    filter: &OrderFilter,
    offset: i64,
    limit: i64,
) -> ApiResult<OrderPage> {
    let mut conn = app.db.acquire().await?;
    let owner = reader(
        &mut conn,
        caller,
        filter.customer_id.as_deref(),
        indirect_partner_id,
    )
    .await?;
    let (total, orders) = db::orders::list_orders(&mut conn, &owner, filter, offset, limit).await?;
    let parents: Vec<String> = orders
        .iter()
        .filter(|o| o.is_combined)
        .map(|o| o.id.clone())
        .collect();
    let sub_orders = if parents.is_empty() {
        vec![]
    } else {
        db::orders::sub_orders(&mut conn, &parents).await?
    };
    Ok(OrderPage {
        total,
        orders,
        sub_orders,
    })
}

/// An order's line items, one page: a combined-transaction parent's are its sub-orders'.
pub(crate) async fn order_lines(
    conn: &mut PgConnection,
    order: &OrderRow,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<LineRow>)> {
    Ok(if order.is_combined {
        db::orders::combined_lines(conn, &order.id, offset, limit).await?
    } else {
        db::orders::lines(conn, &order.id, offset, limit).await?
    })
}

/// An order the caller may read (else CBC.30000010).
pub(crate) async fn readable_order(
    conn: &mut PgConnection,
    caller: &Caller,
    order_id: &str,
    customer_id: Option<&str>,
    indirect_partner_id: Option<&str>,
) -> ApiResult<OrderRow> {
    let order = db::orders::find_order(conn, order_id)
        .await?
        .ok_or_else(invalid_order)?;
    let customer = customer_id.unwrap_or(&order.customer_id).to_string();
    let owner = reader(conn, caller, Some(&customer), indirect_partner_id).await?;
    if !may_read(&owner, &order) || order.customer_id != customer {
        return Err(invalid_order());
    }
    Ok(order)
}

/// What `show_customer_order_details` shows.
pub struct OrderDetails {
    pub order: OrderRow,
    /// Line items in all (for a combined-transaction parent: its sub-orders').
    pub total: i64,
    pub lines: Vec<LineRow>,
    pub user_name: String,
    /// A combined-transaction parent's sub-orders, in item order (else empty).
    pub sub_orders: Vec<OrderRow>,
}

/// `show_customer_order_details`: the order and one page of its line items (a combined
/// transaction's parent: its sub-orders and one page of their line items).
pub async fn details(
    app: &App,
    caller: &Caller,
    order_id: &str,
    indirect_partner_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<OrderDetails> {
    let mut conn = app.db.acquire().await?;
    let order = readable_order(&mut conn, caller, order_id, None, indirect_partner_id).await?;
    let (total, lines) = order_lines(&mut conn, &order, offset, limit).await?;
    let sub_orders = if order.is_combined {
        db::orders::sub_orders(&mut conn, std::slice::from_ref(&order.id)).await?
    } else {
        vec![]
    };
    let user_name = db::accounts::find_account(&mut conn, &order.customer_id)
        .await?
        .map(|a| a.login_name)
        .unwrap_or_default();
    Ok(OrderDetails {
        order,
        total,
        lines,
        user_name,
        sub_orders,
    })
}

/// A coupon of the customer usable for an order.
#[derive(Debug, Clone)]
pub struct OrderCoupon {
    pub row: db::usage::BenefitRow,
    pub face_value: i64,
    pub balance: i64,
    pub status: i16,
    pub created_at: DateTime<Utc>,
}

/// `list_order_coupons_by_order_id`: the customer's vouchers and cash coupons that may pay this
/// pending order (effective, not expired, not used up, restrictions met by every line item).
pub async fn order_coupons(
    app: &App,
    caller: &Caller,
    order_id: &str,
) -> ApiResult<Vec<OrderCoupon>> {
    let mut conn = app.db.acquire().await?;
    let order = readable_order(&mut conn, caller, order_id, None, None).await?;
    let (_, lines) = order_lines(&mut conn, &order, 0, i64::MAX).await?;
    pay::usable_coupons(&mut conn, &order, &lines, app.now()).await
}

/// A discount usable for an order.
#[derive(Debug, Clone)]
pub struct OrderDiscount {
    pub discount_id: String,
    pub discount_type: i16,
    pub rate: Decimal,
    /// (line item id, discount amount in fen)
    pub lines: Vec<(String, i64)>,
}

/// `list_order_discounts`: the partner-granted discount (type 3) of the customer, if any.
pub async fn order_discounts(
    app: &App,
    caller: &Caller,
    order_id: &str,
) -> ApiResult<Vec<OrderDiscount>> {
    let mut conn = app.db.acquire().await?;
    let order = readable_order(&mut conn, caller, order_id, None, None).await?;
    let (_, lines) = order_lines(&mut conn, &order, 0, i64::MAX).await?;
    Ok(pay::discount_of(&mut conn, &order.customer_id)
        .await?
        .map(|(id, rate)| OrderDiscount {
            discount_id: id,
            discount_type: 3,
            rate,
            lines: lines
                .iter()
                .map(|l| {
                    (
                        l.id.clone(),
                        l.official_amount - rules::discounted(l.official_amount, rate),
                    )
                })
                .collect(),
        })
        .into_iter()
        .collect())
}

/// Maps "the order row is locked by another transaction" to CBC.99000088.
pub(crate) fn busy(e: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(d) = &e {
        if d.code().as_deref() == Some("55P03") {
            return ApiError::business(
                codes::PAYMENT_IN_PROGRESS,
                "The order is being paid; do not repeat the payment.",
            );
        }
    }
    ApiError::from(e)
}

/// CBC.0101 for a coupon or discount that cannot be used.
pub(crate) fn unusable(what: impl Into<String>) -> ApiError {
    ApiError::new(Code::ParameterInvalid, what.into())
}

/// Names of service/resource type codes in the asked language (`code` itself when unknown).
pub async fn names(
    app: &App,
    codes: Vec<String>,
    english: bool,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let mut codes = codes;
    codes.sort();
    codes.dedup();
    let mut conn = app.db.acquire().await?;
    Ok(db::orders::type_names(&mut conn, &codes)
        .await?
        .into_iter()
        .map(|(c, zh, en)| (c, if english { en } else { zh }))
        .collect())
}
