//! A partner's or customer's own coupons and coupon change records.

use super::*;

// ---------------------------------------------------------------------------------------------
// 10. Own coupons (partner or customer)

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubCustomerCouponsQuery {
    pub coupon_id: Option<String>,
    pub order_id: Option<String>,
    pub promotion_plan_id: Option<String>,
    /// 1 voucher, 2 discount, 3 product, 4 cash coupon.
    pub coupon_type: Option<String>,
    pub status: Option<String>,
    pub active_start_time: Option<String>,
    pub active_end_time: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// Issuer id (the partner for partner coupons).
    pub source_id: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IQueryUserCouponsResultV2 {
    pub coupon_id: String,
    pub coupon_code: String,
    pub status: i32,
    pub customer_id: String,
    pub coupon_type: i32,
    pub measure_id: i32,
    #[schema(value_type = f64)]
    pub face_value: YuanNumber,
    pub valid_time: String,
    pub expire_time: String,
    pub order_id: String,
    pub promotion_plan_id: String,
    pub plan_name: String,
    pub plan_desc: String,
    pub media_type: i32,
    pub fetch_method: i32,
    pub use_limits: Vec<ICouponUseLimitInfoV2>,
    pub active_time: String,
    /// No reservations here: `null` (the SDK model's unset time).
    pub reserve_time: Option<String>,
    pub promotion_id: String,
    pub create_time: String,
    pub coupon_version: i32,
    #[schema(value_type = f64)]
    pub balance: YuanNumber,
    pub lock_order_id: String,
    pub coupon_usage: String,
    pub is_frozen: String,
    pub currency: String,
    pub extend_param1: String,
    pub source_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomerCouponsResponse {
    pub count: i64,
    pub user_coupons: Vec<IQueryUserCouponsResultV2>,
}

/// The caller's own coupons (a customer's partner coupons; a partner holds none here).
#[utoipa::path(get, path = "/v2/promotions/benefits/coupons", tag = "coupons",
    params(ListSubCustomerCouponsQuery),
    responses((status = 200, body = ListSubCustomerCouponsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customer_coupons(
    State(app): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListSubCustomerCouponsQuery>,
) -> ApiResult<Json<ListSubCustomerCouponsResponse>> {
    let parts = coupon_enums(
        q.coupon_type.as_deref(),
        &[1, 2, 3, 4],
        q.status.as_deref(),
        q.offset.as_deref(),
        q.limit.as_deref(),
    )?;
    // `""` for coupon_id / order_id / promotion_plan_id is a filter (matching nothing).
    for (f, v) in [
        ("coupon_id", &q.coupon_id),
        ("order_id", &q.order_id),
        ("promotion_plan_id", &q.promotion_plan_id),
        ("source_id", &q.source_id),
    ] {
        max_len(f, v.as_deref(), 64)?;
    }
    let active_begin = time_bound("active_start_time", q.active_start_time.as_deref())?;
    let active_end = time_bound("active_end_time", q.active_end_time.as_deref())?;
    let mut filter = CouponFilter {
        coupon_id: q.coupon_id,
        order_id: q.order_id,
        coupon_type: parts.coupon_type,
        status: parts.status,
        active_begin,
        active_end,
        ..Default::default()
    };
    if q.promotion_plan_id.is_some() {
        // Partner coupons belong to no promotion plan.
        filter.order_id = Some(String::new());
    }
    if let Some(s) = non_empty(q.source_id) {
        filter.partner_id = Some(s);
    }
    let ind = indirect(q.indirect_partner_id)?;
    let (count, rows) = match &caller {
        Caller::Partner(p) => {
            coupons::list_own(
                &app,
                Holder::Partner(p, ind.as_deref()),
                filter,
                parts.paging.offset,
                parts.paging.limit,
            )
            .await?
        }
        Caller::Customer(c) => {
            coupons::list_own(
                &app,
                Holder::Customer(c),
                filter,
                parts.paging.offset,
                parts.paging.limit,
            )
            .await?
        }
    };
    Ok(Json(ListSubCustomerCouponsResponse {
        count,
        user_coupons: rows
            .iter()
            .map(|c| IQueryUserCouponsResultV2 {
                coupon_id: c.id.clone(),
                coupon_code: c.id.clone(),
                status: c.status.into(),
                customer_id: c.customer_id.clone(),
                coupon_type: c.coupon_type.into(),
                measure_id: 1,
                face_value: YuanNumber(c.face_value),
                valid_time: format_ts(c.effective_time),
                expire_time: format_ts(c.expire_time),
                order_id: String::new(),
                promotion_plan_id: String::new(),
                plan_name: String::new(),
                plan_desc: String::new(),
                media_type: 1,
                fetch_method: 3,
                use_limits: use_limits(c),
                active_time: format_ts(c.active_time),
                reserve_time: None,
                promotion_id: String::new(),
                create_time: format_ts(c.created_at),
                coupon_version: 2,
                balance: YuanNumber(c.balance),
                lock_order_id: String::new(),
                coupon_usage: String::new(),
                is_frozen: "0".into(),
                currency: "CNY".into(),
                extend_param1: String::new(),
                source_id: c.partner_id.clone(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 11. Customer coupon change records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerCouponChangeRecordsQuery {
    /// BALANCE_TYPE_COUPON (required).
    pub balance_type: Option<String>,
    /// REVENUE | EXPENSE
    pub revenue_expense_type: Option<String>,
    /// ADJUST | DEDEUCT | REFUND | RFROZEN | EXPIRED | COUPONADJUST | COUPONCANCEL
    pub trade_type: Option<String>,
    pub trade_id: Option<String>,
    /// `YYYY-MM-DD` (UTC+8); default one year ago.
    pub trade_time_begin: Option<String>,
    /// `YYYY-MM-DD` (UTC+8); default today.
    pub trade_time_end: Option<String>,
    pub coupon_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCouponChangeRecord {
    pub coupon_id: String,
    pub trade_detail_type: String,
    pub trade_time: String,
    pub trade_id: String,
    pub change_amount: String,
    pub balance_after_change: String,
    pub revenue_expense_type: String,
    pub bill_cycle: String,
    pub account_name: String,
    pub cloud_service_type_name: String,
    pub resource_type_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerCouponChangeRecordsResponse {
    pub total_count: i64,
    pub currency: String,
    pub records: Vec<CustomerCouponChangeRecord>,
}

fn coupon_trade_kinds(t: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let kinds: &[&str] = match t {
        None => return Ok(None),
        Some("ADJUST") => &["coupon_issue"],
        Some("COUPONCANCEL") => &["coupon_reclaim", "coupon_unbind"],
        Some("DEDEUCT") => &["usage_charge"],
        Some("REFUND") => &["usage_refund"],
        Some("RFROZEN" | "EXPIRED" | "COUPONADJUST") => &[],
        Some(_) => return Err(ApiError::invalid("trade_type", "unknown trade type")),
    };
    Ok(Some(kinds.iter().map(|s| s.to_string()).collect()))
}

/// The customer's own coupon ledger (not for a partner's resale customers: CBC.99000084).
#[utoipa::path(get, path = "/v2/promotions/benefits/account-change-records", tag = "coupons",
    params(ListCustomerCouponChangeRecordsQuery),
    responses((status = 200, body = ListCustomerCouponChangeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_coupon_change_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<ListCustomerCouponChangeRecordsQuery>,
) -> ApiResult<Json<ListCustomerCouponChangeRecordsResponse>> {
    if q.balance_type.as_deref() != Some("BALANCE_TYPE_COUPON") {
        return Err(ApiError::invalid(
            "balance_type",
            "must be BALANCE_TYPE_COUPON",
        ));
    }
    let direction = match q.revenue_expense_type.as_deref() {
        None => None,
        Some("REVENUE") => Some(1),
        Some("EXPENSE") => Some(-1),
        Some(_) => {
            return Err(ApiError::invalid(
                "revenue_expense_type",
                "must be REVENUE or EXPENSE",
            ))
        }
    };
    let kinds = coupon_trade_kinds(q.trade_type.as_deref())?;
    max_len("trade_id", q.trade_id.as_deref(), 128)?;
    max_len("coupon_id", q.coupon_id.as_deref(), 64)?;
    let p = Paging::new(
        int_param("offset", q.offset.as_deref())?,
        int_param("limit", q.limit.as_deref())?,
        i32::MAX as i64,
    )?;
    for (f, v) in [
        ("trade_time_begin", &q.trade_time_begin),
        ("trade_time_end", &q.trade_time_end),
    ] {
        if v.as_deref() == Some("") {
            return Err(ApiError::invalid(f, "must not be empty"));
        }
    }
    let (from, until) = cn_day_range(app.now(), q.trade_time_begin, q.trade_time_end)?;
    let (total_count, rows) = coupons::customer_changes(
        &app,
        &caller,
        CouponChangeFilter {
            kinds,
            direction,
            trans_id: non_empty(q.trade_id),
            coupon_id: non_empty(q.coupon_id),
            from,
            until,
        },
        p.offset,
        p.limit,
    )
    .await?;
    Ok(Json(ListCustomerCouponChangeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows
            .into_iter()
            .map(|r| CustomerCouponChangeRecord {
                coupon_id: r.coupon_id,
                trade_detail_type: match r.kind.as_str() {
                    "coupon_issue" => "SOURCE_OPERAIION_PRIZE",
                    "usage_charge" => "SOURCE_OPERAIION_USAGE",
                    "usage_refund" => "SOURCE_OPERAIION_BILLREFUND",
                    _ => "SOURCE_OPERATION_COUPONCANCEL",
                }
                .into(),
                trade_time: format_ts(r.created_at),
                trade_id: r.trans_id,
                change_amount: fen_to_string(r.amount),
                balance_after_change: fen_to_string(r.balance_after),
                revenue_expense_type: if r.amount > 0 { "REVENUE" } else { "EXPENSE" }.into(),
                bill_cycle: r
                    .created_at
                    .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                    .format("%Y-%m")
                    .to_string(),
                account_name: caller.login_name.clone(),
                cloud_service_type_name: String::new(),
                resource_type_name: String::new(),
            })
            .collect(),
    }))
}
