//! Partner-granted discount (extension): discount_type 3 on the customer's charges.

use super::*;

// ---------------------------------------------------------------------------------------------
// Partner-granted discount (extension): discount_type 3 on the customer's charges

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetCustomerDiscountReq {
    pub customer_id: String,
    /// A decimal string in (0, 1] with at most 4 decimals (`"0.85"` = pay 85 %); `null` removes
    /// the discount.
    pub discount_rate: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDiscountResponse {
    pub customer_id: String,
    /// `3` partner-granted.
    pub discount_type: i32,
    /// The rate in force (`null` when none).
    pub discount_rate: Option<String>,
}

/// Set or remove the discount rate a partner grants one of its sub-customers; charges from then
/// on are payable at official price × rate (`official_discount_amount` shows the difference).
#[utoipa::path(put, path = "/v2/partners/sub-customers/discounts", tag = "bills",
    request_body = SetCustomerDiscountReq,
    responses((status = 200, body = CustomerDiscountResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn set_customer_discount(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<SetCustomerDiscountReq>,
) -> ApiResult<Json<CustomerDiscountResponse>> {
    if req.customer_id.is_empty() || req.customer_id.chars().count() > 64 {
        return Err(ApiError::invalid("customer_id", "must be 1-64 characters"));
    }
    let rate = match req.discount_rate.as_deref() {
        None => None,
        Some(s) => {
            let d = Decimal::from_str(s)
                .map_err(|_| ApiError::invalid("discount_rate", "must be a decimal string"))?;
            if d <= Decimal::ZERO || d > Decimal::ONE || d.normalize().scale() > 4 {
                return Err(ApiError::invalid(
                    "discount_rate",
                    "must be greater than 0 and at most 1, with at most 4 decimals",
                ));
            }
            Some(d.normalize())
        }
    };
    let set = crate::service::usage_money::set_partner_discount(
        &app,
        &caller,
        &req.customer_id,
        given(req.indirect_partner_id).as_deref(),
        rate,
    )
    .await?;
    Ok(Json(CustomerDiscountResponse {
        customer_id: req.customer_id,
        discount_type: 3,
        discount_rate: set.map(|d| d.to_string()),
    }))
}
