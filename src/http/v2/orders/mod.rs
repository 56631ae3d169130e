//! Yearly/monthly orders (50-other.md §A: `orders`) and their resources (§B: `resources`).
//! Reads take partner or customer credentials; state changes the customer's own (or a partner's
//! assume-role token acting as the customer) — a partner's own credentials get 403 CBC.0151.

mod coupons;
mod on_demand;
mod pay;
mod resources;

pub use coupons::*;
pub use on_demand::*;
pub use pay::*;
pub use resources::*;

use std::collections::HashMap;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    Json,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    db::orders::{LineRow, OrderFilter, OrderRow},
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery},
        v2::{
            bills::{english, given, int_filter, paging, DecimalNumber},
            funding::YuanNumber,
            max_len, time_bound,
        },
        ErrorBody,
    },
    service::{
        auth::{Caller, CustomerCaller},
        orders::{self, pay::Choice, NewOrder},
    },
    state::AppState,
};

fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(format_ts)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountItemV2 {
    /// `3` partner-granted discount.
    pub discount_type: String,
    #[schema(value_type = f64)]
    pub discount_amount: YuanNumber,
}

/// How an order (or line item) was paid; cash and credit are the rest of `amount_after_discount`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmountInfomationV2 {
    pub discounts: Vec<DiscountItemV2>,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub commission_amount: YuanNumber,
    /// Paid from the balance: cash + own credit.
    #[schema(value_type = f64)]
    pub consumed_amount: YuanNumber,
}

#[allow(clippy::too_many_arguments)]
fn amount_info(
    discount: i64,
    discount_type: Option<i16>,
    coupon: i64,
    cash_coupon: i64,
    card: i64,
    cash: i64,
    credit: i64,
) -> AmountInfomationV2 {
    AmountInfomationV2 {
        discounts: if discount != 0 {
            vec![DiscountItemV2 {
                discount_type: discount_type.unwrap_or(3).to_string(),
                discount_amount: YuanNumber(discount),
            }]
        } else {
            vec![]
        },
        flexipurchase_coupon_amount: YuanNumber(cash_coupon),
        coupon_amount: YuanNumber(coupon),
        stored_card_amount: YuanNumber(card),
        commission_amount: YuanNumber(0),
        consumed_amount: YuanNumber(cash + credit),
    }
}

/// An order (`CustomerOrderV3`; the list's `CustomerOrderV2` is the same without `user_name`
/// and `pending_payment_end_time`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOrderV3 {
    pub order_id: String,
    pub customer_id: String,
    pub service_type_code: String,
    pub service_type_name: String,
    /// 1 customer, 2 agent (partner with an assume-role token), 8 system-created.
    pub source_type: i16,
    /// 2 pending refund, 4 cancelled, 5 completed, 6 pending payment.
    pub status: i16,
    /// 1 new, 2 renew, 4 unsubscribe.
    pub order_type: i16,
    #[schema(value_type = f64)]
    pub amount_after_discount: YuanNumber,
    #[schema(value_type = f64)]
    pub official_amount: YuanNumber,
    pub measure_id: i32,
    pub create_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<String>,
    pub currency: String,
    pub amount_info: AmountInfomationV2,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_payment_end_time: Option<String>,
    /// Extension: who created it (`customer` or `partner`), and its id.
    pub actor_kind: String,
    pub actor_id: String,
    /// Extension: the combined transaction this order is a sub-order of (pay or cancel that id;
    /// this one's gets CBC.99000089).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_order_id: Option<String>,
    /// A combined-transaction order's sub-orders, in item order (`SubCustomerOrderV2` in the
    /// list, `SubCustomerOrderV3` in the details); absent for a normal order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_order_infos: Option<Vec<SubCustomerOrderV3>>,
}

/// A sub-order of a combined transaction (`SubCustomerOrderV3`; the list's `SubCustomerOrderV2`
/// is the same without `user_name` and `pending_payment_end_time`). Each is an ordinary order
/// with its own line items and resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubCustomerOrderV3 {
    pub order_id: String,
    pub customer_id: String,
    pub service_type_code: String,
    pub service_type_name: String,
    pub source_type: i16,
    pub status: i16,
    pub order_type: i16,
    #[schema(value_type = f64)]
    pub amount_after_discount: YuanNumber,
    #[schema(value_type = f64)]
    pub official_amount: YuanNumber,
    pub measure_id: i32,
    pub create_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<String>,
    pub currency: String,
    pub amount_info: AmountInfomationV2,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_payment_end_time: Option<String>,
}

fn sub_order_view(
    o: &OrderRow,
    names: &HashMap<String, String>,
    user_name: Option<String>,
) -> SubCustomerOrderV3 {
    let v = order_view(o, names, user_name, &[]);
    SubCustomerOrderV3 {
        order_id: v.order_id,
        customer_id: v.customer_id,
        service_type_code: v.service_type_code,
        service_type_name: v.service_type_name,
        source_type: v.source_type,
        status: v.status,
        order_type: v.order_type,
        amount_after_discount: v.amount_after_discount,
        official_amount: v.official_amount,
        measure_id: v.measure_id,
        create_time: v.create_time,
        payment_time: v.payment_time,
        currency: v.currency,
        amount_info: v.amount_info,
        user_name: v.user_name,
        pending_payment_end_time: v.pending_payment_end_time,
    }
}

/// The view of `o`; `subs` holds (at least) its sub-orders when it is a combined transaction.
fn order_view(
    o: &OrderRow,
    names: &HashMap<String, String>,
    user_name: Option<String>,
    subs: &[OrderRow],
) -> CustomerOrderV3 {
    CustomerOrderV3 {
        order_id: o.id.clone(),
        customer_id: o.customer_id.clone(),
        service_type_code: o.service_type_code.clone(),
        service_type_name: names.get(&o.service_type_code).cloned().unwrap_or_default(),
        source_type: o.source_type,
        status: o.status,
        order_type: o.order_type,
        amount_after_discount: YuanNumber(o.payable),
        official_amount: YuanNumber(o.official_amount),
        measure_id: 1,
        create_time: format_ts(o.create_time),
        payment_time: ts(o.payment_time),
        currency: "CNY".into(),
        amount_info: amount_info(
            o.discount_amount,
            o.discount_type,
            o.coupon,
            o.cash_coupon,
            o.card,
            o.cash,
            o.credit,
        ),
        pending_payment_end_time: if user_name.is_some() && o.status == orders::PENDING_PAYMENT {
            ts(o.pending_payment_end_time)
        } else {
            None
        },
        sub_order_infos: o.is_combined.then(|| {
            subs.iter()
                .filter(|s| s.parent_order_id.as_deref() == Some(o.id.as_str()))
                .map(|s| sub_order_view(s, names, user_name.clone()))
                .collect()
        }),
        user_name,
        actor_kind: o.actor_kind.clone(),
        actor_id: o.actor_id.clone(),
        parent_order_id: o.parent_order_id.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductObject {
    pub product_id: String,
    pub product_spec_desc: String,
    pub category_code: String,
    pub product_owner_service: String,
    pub commercial_resource: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineItemEntityV2 {
    pub order_line_item_id: String,
    pub service_type_code: String,
    pub service_type_name: String,
    pub product_id: String,
    pub product_spec_desc: String,
    /// 2 month, 3 year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_type: Option<i16>,
    /// `null` for unsubscribe orders.
    pub period_num: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    pub subscription_num: i32,
    #[schema(value_type = f64)]
    pub amount_after_discount: YuanNumber,
    #[schema(value_type = f64)]
    pub official_amount: YuanNumber,
    pub amount_info: AmountInfomationV2,
    pub currency: String,
    pub category_code: String,
    pub product_owner_service: String,
    pub commercial_resource: String,
    pub base_product_info: ProductObject,
    pub order_id: String,
    /// Extension: the resource this line created, renewed or refunded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

fn line_view(l: &LineRow, names: &HashMap<String, String>) -> OrderLineItemEntityV2 {
    OrderLineItemEntityV2 {
        order_line_item_id: l.id.clone(),
        service_type_code: l.service_type_code.clone(),
        service_type_name: names.get(&l.service_type_code).cloned().unwrap_or_default(),
        product_id: l.product_id.clone(),
        product_spec_desc: l.product_spec_desc.clone(),
        period_type: l.period_type,
        period_num: l.period_num,
        effective_time: ts(l.effective_time),
        expire_time: ts(l.expire_time),
        subscription_num: l.subscription_num,
        amount_after_discount: YuanNumber(l.payable),
        official_amount: YuanNumber(l.official_amount),
        amount_info: amount_info(
            l.discount_amount,
            Some(3),
            l.coupon,
            l.cash_coupon,
            l.card,
            l.cash,
            l.credit,
        ),
        currency: "CNY".into(),
        category_code: l.service_type_code.clone(),
        product_owner_service: l.service_type_code.clone(),
        commercial_resource: l.resource_type_code.clone(),
        base_product_info: ProductObject {
            product_id: l.product_id.clone(),
            product_spec_desc: l.product_spec_desc.clone(),
            category_code: l.service_type_code.clone(),
            product_owner_service: l.service_type_code.clone(),
            commercial_resource: l.resource_type_code.clone(),
        },
        order_id: l.order_id.clone(),
        resource_id: l.resource_id.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Create (extension)

/// One product of an order.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCustomerOrderItem {
    pub product_id: String,
    pub region_code: String,
    /// 2 month, 3 year.
    pub period_type: i16,
    /// Months 1–11 or years 1–3.
    pub period_num: i32,
    /// 1–100 copies.
    pub subscription_num: i32,
    /// Renew automatically at expiry (default false).
    pub is_auto_renew: Option<bool>,
}

/// Either one product (the fields of `CreateCustomerOrderItem` at the top level: an ordinary
/// order), or `items` alone: 2–10 products bought as one combined transaction (合并交易).
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCustomerOrderReq {
    /// Required without `items`.
    pub product_id: Option<String>,
    /// Required without `items`.
    pub region_code: Option<String>,
    /// Required without `items`: 2 month, 3 year.
    pub period_type: Option<i16>,
    /// Required without `items`: months 1–11 or years 1–3.
    pub period_num: Option<i32>,
    /// Required without `items`: 1–100 copies.
    pub subscription_num: Option<i32>,
    /// Renew automatically at expiry (default false).
    pub is_auto_renew: Option<bool>,
    /// A combined transaction: 2–10 products, each with the fields above; then none of them may
    /// be given at the top level (`CBC.0100`).
    pub items: Option<Vec<CreateCustomerOrderItem>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateCustomerOrderResponse {
    /// The order id (of a combined transaction: the parent's, which is paid or cancelled).
    pub order_id: String,
    /// The order; a combined transaction's lists its sub-orders in `sub_order_infos`.
    pub order_info: CustomerOrderV3,
    /// Its line items (a combined transaction's: those of its sub-orders, each naming its
    /// sub-order in `order_id`).
    pub order_line_items: Vec<OrderLineItemEntityV2>,
}

fn missing(field: &str) -> ApiError {
    ApiError::invalid(field, format!("missing field `{field}`"))
}

/// An item checked for the shape rules of the route (`prefix` names it within `items`).
fn new_order(prefix: &str, item: CreateCustomerOrderItem) -> ApiResult<NewOrder> {
    if item.product_id.is_empty() || item.region_code.is_empty() {
        return Err(ApiError::invalid(
            &format!("{prefix}product_id"),
            "product_id and region_code are required",
        ));
    }
    max_len(&format!("{prefix}product_id"), Some(&item.product_id), 64)?;
    max_len(&format!("{prefix}region_code"), Some(&item.region_code), 64)?;
    if !matches!(item.period_type, 2 | 3) {
        return Err(ApiError::invalid(
            &format!("{prefix}period_type"),
            "must be 2 (month) or 3 (year)",
        ));
    }
    Ok(NewOrder {
        product_id: item.product_id,
        region_code: item.region_code,
        period_type: item.period_type,
        period_num: item.period_num,
        subscription_num: item.subscription_num,
        is_auto_renew: item.is_auto_renew.unwrap_or(false),
    })
}

/// Extension: the customer (or a partner with its assume-role token) orders a yearly/monthly
/// product; the order waits for payment (status 6) priced from the catalogue. With `items`
/// (2–10 products) it is one combined transaction: a parent order (its own id, amounts = the sum
/// of its sub-orders, the first item's `service_type_code`) and one sub-order per item, all in
/// status 6; the parent's id is paid or cancelled, a sub-order's gets `CBC.99000089`. `items`
/// empty, with 1 or more than 10 products, or mixed with top-level product fields: `CBC.0100`.
/// A product without a tax rate is `400 CBC.99006093`.
#[utoipa::path(post, path = "/v2/orders/customer-orders", tag = "orders",
    request_body = CreateCustomerOrderReq,
    responses((status = 201, body = CreateCustomerOrderResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_customer_order(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateCustomerOrderReq>,
) -> ApiResult<(StatusCode, Json<CreateCustomerOrderResponse>)> {
    let (order, subs, lines) = match req.items {
        Some(items) => {
            if req.product_id.is_some()
                || req.region_code.is_some()
                || req.period_type.is_some()
                || req.period_num.is_some()
                || req.subscription_num.is_some()
                || req.is_auto_renew.is_some()
            {
                return Err(ApiError::invalid(
                    "items",
                    "cannot be combined with product fields at the top level",
                ));
            }
            let range = orders::combined::MIN_ITEMS..=orders::combined::MAX_ITEMS;
            if !range.contains(&items.len()) {
                return Err(ApiError::invalid(
                    "items",
                    format!("must hold {} to {} products", range.start(), range.end()),
                ));
            }
            let items = items
                .into_iter()
                .enumerate()
                .map(|(i, item)| new_order(&format!("items[{i}]."), item))
                .collect::<ApiResult<Vec<_>>>()?;
            let (parent, subs) = orders::combined::create(&app, &caller, &items).await?;
            let lines: Vec<LineRow> = subs.iter().flat_map(|(_, l)| l.iter().cloned()).collect();
            let subs: Vec<OrderRow> = subs.into_iter().map(|(o, _)| o).collect();
            (parent, subs, lines)
        }
        None => {
            let item = CreateCustomerOrderItem {
                product_id: req.product_id.ok_or_else(|| missing("product_id"))?,
                region_code: req.region_code.ok_or_else(|| missing("region_code"))?,
                period_type: req.period_type.ok_or_else(|| missing("period_type"))?,
                period_num: req.period_num.ok_or_else(|| missing("period_num"))?,
                subscription_num: req
                    .subscription_num
                    .ok_or_else(|| missing("subscription_num"))?,
                is_auto_renew: req.is_auto_renew,
            };
            let (order, lines) = orders::create(&app, &caller, &new_order("", item)?).await?;
            (order, vec![], lines)
        }
    };
    let mut codes = vec![order.service_type_code.clone()];
    codes.extend(subs.iter().map(|o| o.service_type_code.clone()));
    let names = orders::names(&app, codes, english(&headers)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateCustomerOrderResponse {
            order_id: order.id.clone(),
            order_info: order_view(&order, &names, Some(caller.login_name.clone()), &subs),
            order_line_items: lines.iter().map(|l| line_view(l, &names)).collect(),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------
// list_customer_orders

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerOrdersQuery {
    /// Case-insensitive.
    pub order_id: Option<String>,
    pub customer_id: Option<String>,
    pub create_time_begin: Option<String>,
    pub create_time_end: Option<String>,
    pub service_type_code: Option<String>,
    pub status: Option<String>,
    pub order_type: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// `createTime` ascending or `-createTime` descending (default).
    pub order_by: Option<String>,
    pub payment_time_begin: Option<String>,
    pub payment_time_end: Option<String>,
    pub indirect_partner_id: Option<String>,
    /// `oneself` (default) or `sub_customer`.
    pub method: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerOrdersResponse {
    pub total_count: i64,
    pub order_infos: Vec<CustomerOrderV3>,
}

const ORDER_STATUSES: &[i16] = &[1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13];
const ORDER_TYPES: &[i16] = &[1, 2, 3, 4, 10, 11, 13, 14, 15];

/// Optional begin and end of a time window.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A time window: each bound a UTC time, begin ≤ end, at most one year apart.
fn window(
    begin_field: &str,
    begin: Option<String>,
    end_field: &str,
    end: Option<String>,
) -> Result<Window, ApiError> {
    let b = time_bound(begin_field, given(begin).as_deref())?;
    let e = time_bound(end_field, given(end).as_deref())?;
    if let (Some(b), Some(e)) = (b, e) {
        if b > e {
            return Err(ApiError::invalid(
                end_field,
                format!("must not be before {begin_field}"),
            ));
        }
        if e - b > chrono::Duration::days(366) {
            return Err(ApiError::invalid(
                end_field,
                "the window is at most one year",
            ));
        }
    }
    Ok((b, e))
}

/// The customer's own orders, or a partner's customers' orders.
#[utoipa::path(get, path = "/v2/orders/customer-orders", tag = "orders",
    params(ListCustomerOrdersQuery),
    responses((status = 200, body = ListCustomerOrdersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_orders(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListCustomerOrdersQuery>,
) -> ApiResult<Json<ListCustomerOrdersResponse>> {
    let (offset, limit) = paging(q.offset, q.limit, 100)?;
    let (create_begin, create_end) = window(
        "create_time_begin",
        q.create_time_begin,
        "create_time_end",
        q.create_time_end,
    )?;
    let (payment_begin, payment_end) = window(
        "payment_time_begin",
        q.payment_time_begin,
        "payment_time_end",
        q.payment_time_end,
    )?;
    let ascending = match given(q.order_by).as_deref() {
        None | Some("-createTime") => false,
        Some("createTime") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "order_by",
                "must be createTime or -createTime",
            ))
        }
    };
    let sub_customer = match given(q.method).as_deref() {
        None | Some("oneself") => false,
        Some("sub_customer") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "method",
                "must be oneself or sub_customer",
            ))
        }
    };
    let order_id = given(q.order_id);
    max_len("order_id", order_id.as_deref(), 64)?;
    let customer_id = given(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let filter = OrderFilter {
        order_id,
        customer_id,
        create_begin,
        create_end,
        payment_begin,
        payment_end,
        service_type_code: given(q.service_type_code),
        status: int_filter("status", q.status, ORDER_STATUSES, false)?,
        order_type: int_filter("order_type", q.order_type, ORDER_TYPES, false)?,
        ascending,
    };
    let indirect = given(q.indirect_partner_id);
    // Orders paid for enterprise sub-accounts: none exist here.
    let page = if sub_customer {
        orders::OrderPage {
            total: 0,
            orders: vec![],
            sub_orders: vec![],
        }
    } else {
        orders::list(&app, &caller, indirect.as_deref(), &filter, offset, limit).await?
    };
    let names = orders::names(
        &app,
        page.orders
            .iter()
            .chain(&page.sub_orders)
            .map(|o| o.service_type_code.clone())
            .collect(),
        english(&headers),
    )
    .await?;
    Ok(Json(ListCustomerOrdersResponse {
        total_count: page.total,
        order_infos: page
            .orders
            .iter()
            .map(|o| order_view(o, &names, None, &page.sub_orders))
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// show_customer_order_details

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowCustomerOrderDetailsQuery {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowCustomerOrderDetailsResponse {
    pub total_count: i64,
    pub order_info: CustomerOrderV3,
    pub order_line_items: Vec<OrderLineItemEntityV2>,
}

/// An order with one page of its line items.
#[utoipa::path(get, path = "/v2/orders/customer-orders/details/{order_id}", tag = "orders",
    params(("order_id" = String, Path), ShowCustomerOrderDetailsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ShowCustomerOrderDetailsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_order_details(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(order_id): Path<String>,
    ApiQuery(q): ApiQuery<ShowCustomerOrderDetailsQuery>,
) -> ApiResult<Json<ShowCustomerOrderDetailsResponse>> {
    let (offset, limit) = paging(q.offset, q.limit, 100)?;
    let indirect = given(q.indirect_partner_id);
    let d = orders::details(&app, &caller, &order_id, indirect.as_deref(), offset, limit).await?;
    let mut codes = vec![d.order.service_type_code.clone()];
    codes.extend(d.lines.iter().map(|l| l.service_type_code.clone()));
    codes.extend(d.sub_orders.iter().map(|o| o.service_type_code.clone()));
    let names = orders::names(&app, codes, english(&headers)).await?;
    Ok(Json(ShowCustomerOrderDetailsResponse {
        total_count: d.total,
        order_info: order_view(&d.order, &names, Some(d.user_name), &d.sub_orders),
        order_line_items: d.lines.iter().map(|l| line_view(l, &names)).collect(),
    }))
}

/// The routes of this area.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(create_customer_order, list_customer_orders))
        .routes(routes!(show_customer_order_details))
        .routes(routes!(list_order_coupons_by_order_id))
        .routes(routes!(list_order_discounts))
        .routes(routes!(pay_orders))
        .routes(routes!(cancel_customer_order))
        .merge(resources::routes())
        .merge(on_demand::routes())
}
