//! The coupons and discounts an order may use (`list_order_coupons_by_order_id`,
//! `list_order_discounts`).

use super::*;

// ---------------------------------------------------------------------------------------------
// list_order_coupons_by_order_id, list_order_discounts

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderIdQuery {
    /// Required.
    pub order_id: Option<String>,
}

/// `order_id` of a query or body: required, at most 64 characters (also used by paying,
/// cancelling and the resources of an order).
pub(super) fn required_order_id(v: Option<String>) -> Result<String, ApiError> {
    let id = given(v).ok_or_else(|| ApiError::invalid("order_id", "is required"))?;
    max_len("order_id", Some(&id), 64)?;
    Ok(id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponInfoV2 {
    pub coupon_id: String,
    pub coupon_code: String,
    /// 1 not activated, 2 usable.
    pub status: i16,
    /// 1 voucher, 4 cash coupon.
    pub coupon_type: i16,
    pub measure_id: i32,
    #[schema(value_type = f64)]
    pub face_value: YuanNumber,
    pub effective_time: String,
    pub expire_time: String,
    pub create_time: String,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    /// 0 Huawei service coupon.
    pub coupon_group: i16,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponMaxUseQuantity {
    pub coupon_type: i16,
    pub coupon_group: i16,
    pub use_quantity_value: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListOrderCouponsByOrderIdResponse {
    pub count: i64,
    pub user_coupons: Vec<CouponInfoV2>,
    pub coupon_max_use_quantity: Vec<CouponMaxUseQuantity>,
}

/// The customer's coupons that may pay a pending order (at most 3 per payment).
#[utoipa::path(get, path = "/v2/orders/customer-orders/order-coupons", tag = "orders",
    params(OrderIdQuery),
    responses((status = 200, body = ListOrderCouponsByOrderIdResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_order_coupons_by_order_id(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrderIdQuery>,
) -> ApiResult<Json<ListOrderCouponsByOrderIdResponse>> {
    let id = required_order_id(q.order_id)?;
    let coupons = orders::order_coupons(&app, &caller, &id).await?;
    Ok(Json(ListOrderCouponsByOrderIdResponse {
        count: coupons.len() as i64,
        user_coupons: coupons
            .iter()
            .map(|c| CouponInfoV2 {
                coupon_id: c.row.id.clone(),
                coupon_code: c.row.id.clone(),
                status: c.status,
                coupon_type: c.row.kind,
                measure_id: 1,
                face_value: YuanNumber(c.face_value),
                effective_time: format_ts(c.row.effective_time),
                expire_time: format_ts(c.row.expire_time),
                create_time: format_ts(c.created_at),
                balance: YuanNumber(c.balance),
                coupon_group: 0,
            })
            .collect(),
        coupon_max_use_quantity: [1, 4]
            .iter()
            .map(|&t| CouponMaxUseQuantity {
                coupon_type: t,
                coupon_group: 0,
                use_quantity_value: 3,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineItemV3 {
    pub order_line_item_ids: Vec<String>,
    /// 1 ratio.
    pub discount_mode: i16,
    #[schema(value_type = f64)]
    pub discount_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub discount_ratio: DecimalNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderV3 {
    pub order_id: String,
    pub order_line_items: Vec<OrderLineItemV3>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountInfoV3 {
    pub discount_id: String,
    /// The rate, e.g. `0.85`.
    pub discount_value: String,
    /// 3 partner-granted.
    pub discount_type: i16,
    pub orders: Vec<OrderV3>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListOrderDiscountsResponse {
    pub discounts: Vec<DiscountInfoV3>,
}

/// The discounts usable for an order: the partner-granted rate of the customer, if any.
#[utoipa::path(get, path = "/v2/orders/customer-orders/order-discounts", tag = "orders",
    params(OrderIdQuery),
    responses((status = 200, body = ListOrderDiscountsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_order_discounts(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OrderIdQuery>,
) -> ApiResult<Json<ListOrderDiscountsResponse>> {
    let id = required_order_id(q.order_id)?;
    let ds = orders::order_discounts(&app, &caller, &id).await?;
    Ok(Json(ListOrderDiscountsResponse {
        discounts: ds
            .into_iter()
            .map(|d| DiscountInfoV3 {
                discount_id: d.discount_id,
                discount_value: d.rate.normalize().to_string(),
                discount_type: d.discount_type,
                orders: vec![OrderV3 {
                    order_id: id.clone(),
                    order_line_items: d
                        .lines
                        .iter()
                        .map(|(line, amount)| OrderLineItemV3 {
                            order_line_item_ids: vec![line.clone()],
                            discount_mode: 1,
                            discount_amount: YuanNumber(*amount),
                            discount_ratio: DecimalNumber(d.rate),
                        })
                        .collect(),
                }],
            })
            .collect(),
    }))
}
