//! Paying and cancelling orders (`pay_orders`, `cancel_customer_order`).

use super::*;

// ---------------------------------------------------------------------------------------------
// pay_orders, cancel_customer_order

#[derive(Debug, Deserialize, ToSchema)]
pub struct CouponSimpleInfoOrderPayV3 {
    pub id: String,
    /// The coupon's type: 1 voucher, 4 cash coupon.
    #[serde(rename = "type")]
    pub kind: i16,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DiscountSimpleInfoV3 {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: i16,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PayCustomerOrderV3Req {
    pub order_id: String,
    /// `YES` | `NO`.
    pub use_coupon: String,
    /// `YES` | `NO`.
    pub use_discount: String,
    /// 1–3 coupons, required iff `use_coupon=YES`.
    pub coupon_infos: Option<Vec<CouponSimpleInfoOrderPayV3>>,
    /// Exactly 1, required iff `use_discount=YES`.
    pub discount_infos: Option<Vec<DiscountSimpleInfoV3>>,
}

fn yes_no(field: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "YES" => Ok(true),
        "NO" => Ok(false),
        _ => Err(ApiError::invalid(field, "must be YES or NO")),
    }
}

/// Pays a pending order: the chosen coupons, the discount, then the balance (cards, cash, own
/// credit). Empty 200 body. A combined transaction is paid by its parent's id: all its
/// sub-orders in one payment (the coupons must apply to every line item; one fee record and one
/// resource per line, each sub-order its trade id), all completed together. A sub-order's id:
/// 400 `CBC.99000089` (use the combined-transaction id).
/// A line item's product without a tax rate is `400 CBC.99006093`; a new order's copies beyond a
/// product's capacity left in its region (admin `/admin/v1/products/{id}/capacities`)
/// `400 CBC.99003141` with `error_details` (one per short product, `id` = product id); nothing
/// moves on either.
#[utoipa::path(post, path = "/v3/orders/customer-orders/pay", tag = "orders",
    request_body = PayCustomerOrderV3Req,
    responses((status = 200, description = "Paid (empty body)"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn pay_orders(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<PayCustomerOrderV3Req>,
) -> ApiResult<StatusCode> {
    required_order_id(Some(req.order_id.clone()))?;
    let use_coupon = yes_no("use_coupon", &req.use_coupon)?;
    let use_discount = yes_no("use_discount", &req.use_discount)?;
    let coupons = req.coupon_infos.unwrap_or_default();
    let discounts = req.discount_infos.unwrap_or_default();
    if use_coupon && !(1..=3).contains(&coupons.len()) {
        return Err(ApiError::invalid(
            "coupon_infos",
            "1 to 3 coupons are required when use_coupon is YES",
        ));
    }
    if !use_coupon && !coupons.is_empty() {
        return Err(ApiError::invalid(
            "coupon_infos",
            "must be empty when use_coupon is NO",
        ));
    }
    if use_discount && discounts.len() != 1 {
        return Err(ApiError::invalid(
            "discount_infos",
            "exactly 1 discount is required when use_discount is YES",
        ));
    }
    if !use_discount && !discounts.is_empty() {
        return Err(ApiError::invalid(
            "discount_infos",
            "must be empty when use_discount is NO",
        ));
    }
    let choice = Choice {
        coupons: coupons.into_iter().map(|c| (c.id, c.kind)).collect(),
        discount: discounts.into_iter().next().map(|d| d.id),
    };
    orders::pay::pay(&app, &caller, &req.order_id, &choice).await?;
    Ok(StatusCode::OK)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CancelCustomerOrderReq {
    pub order_id: String,
}

/// Cancels a pending order (status 6 only, else CBC.99005010). Empty 200 body. A combined
/// transaction is cancelled by its parent's id, with all its sub-orders; a sub-order's id:
/// 400 `CBC.99000089` (use the combined-transaction id).
#[utoipa::path(put, path = "/v2/orders/customer-orders/cancel", tag = "orders",
    request_body = CancelCustomerOrderReq,
    responses((status = 200, description = "Cancelled (empty body)"), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn cancel_customer_order(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiJson(req): ApiJson<CancelCustomerOrderReq>,
) -> ApiResult<StatusCode> {
    required_order_id(Some(req.order_id.clone()))?;
    orders::cancel(&app, &caller, &req.order_id).await?;
    Ok(StatusCode::OK)
}
