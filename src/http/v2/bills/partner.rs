//! The partner's view of its sub-customers' consumption: records, monthly sums, consuming customers.

use super::*;

// ---------------------------------------------------------------------------------------------
// 2. Sub-customer consumption records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubCustomerBillDetailQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    /// The sub-customer (required).
    pub customer_id: Option<String>,
    pub service_type_code: Option<String>,
    pub region_code: Option<String>,
    /// 1, 3, 10 or 11.
    pub charging_mode: Option<String>,
    pub bill_detail_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub trade_id: Option<String>,
    pub account_manager_id: Option<String>,
    /// `1` advisory, `2` resale.
    pub association_type: Option<String>,
    pub offset: Option<String>,
    /// 1–1000, default 10.
    pub limit: Option<String>,
    pub indirect_partner_id: Option<String>,
    /// `YYYY-MM-DD` (UTC+8), with `bill_date_end`, both in the cycle's month.
    pub bill_date_begin: Option<String>,
    pub bill_date_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubCustomerMonthlyBillDetail {
    pub bill_cycle: String,
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub association_type: Option<String>,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub charging_mode: i16,
    pub trade_time: String,
    pub trade_id: String,
    pub id: String,
    pub bill_detail_type: i16,
    pub resource_id: String,
    pub resource_name: String,
    pub region_code: String,
    pub product_id: String,
    pub product_name: String,
    pub consume_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_type: Option<String>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_amount: Option<DecimalNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_measure_id: Option<i32>,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub payment_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
}

fn detail(r: FeeDetail) -> SubCustomerMonthlyBillDetail {
    SubCustomerMonthlyBillDetail {
        bill_cycle: cycle_text(r.cycle),
        customer_id: r.customer_id,
        association_type: r.association_type.map(|a| a.to_string()),
        service_type_name: r.service_type_name.unwrap_or_default(),
        resource_type_name: r.resource_type_name.unwrap_or_default(),
        service_type_code: r.service_type_code,
        resource_type_code: r.resource_type_code,
        charging_mode: r.charging_mode,
        trade_time: format_ts(r.trade_time),
        trade_id: r.trade_id,
        id: r.id,
        bill_detail_type: r.bill_type,
        resource_id: r.resource_id,
        resource_name: r.resource_name.unwrap_or_default(),
        region_code: r.region_code,
        product_id: r.product_id,
        product_name: r.product_name.unwrap_or_default(),
        consume_time: format_ts(r.begin_time),
        usage_type: r.usage_type,
        usage_amount: r.usage.map(DecimalNumber),
        usage_measure_id: r.usage_measure_id,
        official_amount: DecimalNumber(r.official_amount),
        official_discount_amount: DecimalNumber(r.discount_amount),
        payment_amount: YuanNumber(r.payable),
        cash_amount: YuanNumber(r.cash),
        credit_amount: YuanNumber(r.credit),
        coupon_amount: YuanNumber(r.coupon),
        flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
        stored_value_card_amount: YuanNumber(r.card),
        debt_amount: YuanNumber(r.debt),
        writeoff_amount: YuanNumber(r.writeoff),
        account_manager_id: r.manager_id,
        partner_id: r.partner_id,
        enterprise_project_id: r.enterprise_project_id,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubCustomerBillDetailResponse {
    pub total_count: i64,
    pub currency: String,
    pub fee_records: Vec<SubCustomerMonthlyBillDetail>,
}

/// Near real-time consumption records of one sub-customer, charged while it was associated with
/// the partner (a distributor's include its resellers' customers; `indirect_partner_id` narrows
/// to one reseller). A customer manager sees only records charged while the customer was assigned
/// to it; a supervisor must name `account_manager_id`.
#[utoipa::path(get, path = "/v2/bills/subcustomer-bills/res-fee-records", tag = "bills",
    params(ListSubCustomerBillDetailQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListSubCustomerBillDetailResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_sub_customer_bill_detail(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListSubCustomerBillDetailQuery>,
) -> ApiResult<Json<ListSubCustomerBillDetailResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let customer_id =
        given(q.customer_id).ok_or_else(|| ApiError::invalid("customer_id", "is required"))?;
    if customer_id.chars().count() > 64 {
        return Err(ApiError::invalid(
            "customer_id",
            "must be at most 64 characters",
        ));
    }
    let service_type_code = text_filter(q.service_type_code);
    let region_code = text_filter(q.region_code);
    if q.charging_mode.as_deref() == Some("\"\"") {
        return Err(ApiError::invalid("charging_mode", "must not be \"\""));
    }
    let charging_mode = int_filter("charging_mode", q.charging_mode, CHARGING_MODES, true)?;
    if q.bill_detail_type.as_deref() == Some("\"\"") {
        return Err(ApiError::invalid("bill_detail_type", "must not be \"\""));
    }
    let bill_type = int_filter(
        "bill_detail_type",
        q.bill_detail_type,
        BILL_DETAIL_TYPES,
        true,
    )?;
    let resource_id = strict_filter("resource_id", q.resource_id)?;
    let resource_name = strict_filter("resource_name", q.resource_name)?;
    let trade_id = strict_filter("trade_id", q.trade_id)?;
    let manager = strict_filter("account_manager_id", q.account_manager_id)?;
    for (f, v, n) in [
        ("service_type_code", &service_type_code, 64),
        ("region_code", &region_code, 64),
        ("resource_id", &resource_id, 128),
        ("resource_name", &resource_name, 256),
        ("trade_id", &trade_id, 128),
        ("account_manager_id", &manager, 64),
    ] {
        max_len(f, v, n)?;
    }
    let association_type = match q.association_type.as_deref() {
        None | Some("") => None,
        Some("1") => Some(1),
        Some("2") => Some(2),
        Some(_) => return Err(ApiError::invalid("association_type", "must be 1 or 2")),
    };
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let (from, until) = date_window(cycle, q.bill_date_begin, q.bill_date_end)?;
    let (account_manager_id, manager_null) = match manager {
        Some(TextFilter::Is(m)) => (Some(m), false),
        Some(_) => (None, true),
        None => (None, false),
    };
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code,
        region_code,
        resource_id,
        resource_name,
        trade_id,
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        association_type,
        from,
        until,
        manager_null,
        ..Default::default()
    };
    let (total_count, rows) = bills::partner_details(
        &app,
        &caller,
        PartnerDetailQuery {
            filter,
            customer_id,
            indirect_partner_id: given(q.indirect_partner_id),
            account_manager_id,
            english: english(&headers),
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListSubCustomerBillDetailResponse {
        total_count,
        currency: "CNY".into(),
        fee_records: rows.into_iter().map(detail).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 1. Sub-customer monthly sums

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSubcustomerMonthlyBillsQuery {
    pub customer_id: Option<String>,
    /// `YYYY-MM` (required).
    pub cycle: Option<String>,
    pub cloud_service_type: Option<String>,
    /// `1` yearly/monthly, `3` pay-per-use, `11` savings plan (required).
    pub charge_mode: Option<String>,
    pub offset: Option<String>,
    /// 1–100, default 10.
    pub limit: Option<String>,
    /// `0` consumption, `1` unsubscribe (refund), `2` write-off (adjustment).
    pub bill_type: Option<String>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceTypeDeductSumV2 {
    pub balance_type: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub bill_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillSumInfoV2 {
    pub customer_id: String,
    pub cloud_service_type: String,
    pub cloud_service_type_name: String,
    pub resource_type_code: String,
    pub resource_type_name: String,
    pub bill_type: String,
    pub charge_mode: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_amount: Option<YuanNumber>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustment_amount: Option<YuanNumber>,
    #[schema(value_type = Option<f64>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<DecimalNumber>,
    pub measure_id: i32,
    pub account_details: Vec<BalanceTypeDeductSumV2>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListSubcustomerMonthlyBillsResponse {
    pub count: i64,
    pub currency: String,
    pub bill_sums: Vec<BillSumInfoV2>,
}

/// The payment split of a sum as `account_details` (non-zero parts only).
fn account_details(r: &SumRow, bill_type: &str) -> Vec<BalanceTypeDeductSumV2> {
    [
        ("BALANCE_TYPE_DEBIT", r.cash),
        ("BALANCE_TYPE_CREDIT", r.credit),
        ("BALANCE_TYPE_COUPON", r.coupon),
        ("BALANCE_TYPE_RCASH_COUPON", r.cash_coupon),
        ("BALANCE_TYPE_STORED_VALUE_CARD", r.card),
    ]
    .into_iter()
    .filter(|(_, fen)| *fen != 0)
    .map(|(t, fen)| BalanceTypeDeductSumV2 {
        balance_type: t.into(),
        amount: YuanNumber(fen),
        bill_type: bill_type.into(),
    })
    .collect()
}

/// Monthly consumption of the partner's resale customers paid with partner-allocated funds, one
/// row per (customer, service type, resource type, bill type, charge mode).
#[utoipa::path(get, path = "/v2/bills/partner-bills/subcustomer-bills/monthly-sum", tag = "bills",
    params(ListSubcustomerMonthlyBillsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListSubcustomerMonthlyBillsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_subcustomer_monthly_bills(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListSubcustomerMonthlyBillsQuery>,
) -> ApiResult<Json<ListSubcustomerMonthlyBillsResponse>> {
    let cycle = parse_cycle("cycle", q.cycle)?;
    let charge_mode = match given(q.charge_mode).as_deref() {
        None => return Err(ApiError::invalid("charge_mode", "is required")),
        Some("1") => 1,
        Some("3") => 3,
        Some("11") => 11,
        Some(_) => return Err(ApiError::invalid("charge_mode", "must be 1, 3 or 11")),
    };
    let bill_type = match given(q.bill_type).as_deref() {
        None => None,
        Some("0") => Some(1),
        Some("1") => Some(2),
        Some("2") => Some(3),
        Some(_) => return Err(ApiError::invalid("bill_type", "must be 0, 1 or 2")),
    };
    let customer_id = given(q.customer_id);
    if customer_id.as_ref().is_some_and(|c| c.chars().count() > 64) {
        return Err(ApiError::invalid(
            "customer_id",
            "must be at most 64 characters",
        ));
    }
    let service = given(q.cloud_service_type);
    if service.as_ref().is_some_and(|c| c.chars().count() > 256) {
        return Err(ApiError::invalid(
            "cloud_service_type",
            "must be at most 256 characters",
        ));
    }
    let (offset, limit) = paging(q.offset, q.limit, 100)?;
    let (count, rows) = bills::partner_sums(
        &app,
        &caller,
        PartnerSumQuery {
            filter: SumFilter {
                cycle: Some(cycle),
                service_type_code: service,
                charging_mode: Some(charge_mode),
                bill_type,
                ..Default::default()
            },
            customer_id,
            indirect_partner_id: given(q.indirect_partner_id),
            english: english(&headers),
            offset,
            limit,
        },
    )
    .await?;
    Ok(Json(ListSubcustomerMonthlyBillsResponse {
        count,
        currency: "CNY".into(),
        bill_sums: rows
            .into_iter()
            .map(|r| {
                let wire_type = match r.bill_type {
                    2 => "1",
                    3 => "2",
                    _ => "0",
                };
                let consumption = wire_type == "0";
                BillSumInfoV2 {
                    account_details: account_details(&r, wire_type),
                    cloud_service_type_name: r.service_type_name.clone().unwrap_or_default(),
                    resource_type_name: r.resource_type_name.clone().unwrap_or_default(),
                    customer_id: r.customer_id,
                    cloud_service_type: r.service_type_code,
                    resource_type_code: r.resource_type_code,
                    bill_type: wire_type.into(),
                    charge_mode: r.charging_mode.to_string(),
                    amount: YuanNumber(r.payable),
                    debt_amount: consumption.then_some(YuanNumber(r.debt)),
                    adjustment_amount: consumption.then_some(YuanNumber(r.writeoff)),
                    discount_amount: consumption.then_some(DecimalNumber(r.discount_amount)),
                    measure_id: 1,
                }
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 3. Sub-customers with consumption in a cycle

#[derive(Debug, Deserialize, ToSchema)]
pub struct ListConsumeSubCustomersReq {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubCustomerInfoV3 {
    pub customer_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListConsumeSubCustomersResponse {
    pub sub_customers: Vec<SubCustomerInfoV3>,
    pub total_count: i64,
}

/// Customers that consumed during the cycle while associated with the partner (also those no
/// longer associated).
#[utoipa::path(post, path = "/v2/bills/subcustomer-bills/res-fee-records/sub-customers/query", tag = "bills",
    request_body = ListConsumeSubCustomersReq,
    responses((status = 200, body = ListConsumeSubCustomersResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_consume_sub_customers(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<ListConsumeSubCustomersReq>,
) -> ApiResult<Json<ListConsumeSubCustomersResponse>> {
    let cycle = parse_cycle("bill_cycle", req.bill_cycle)?;
    let offset = req.offset.unwrap_or(0);
    let limit = req.limit.unwrap_or(10);
    if !(0..=2_147_483_646).contains(&offset) {
        return Err(ApiError::invalid(
            "offset",
            "must be between 0 and 2147483646",
        ));
    }
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let (total_count, ids) =
        bills::consuming_customers(&app, &caller, cycle, offset, limit).await?;
    Ok(Json(ListConsumeSubCustomersResponse {
        sub_customers: ids
            .into_iter()
            .map(|customer_id| SubCustomerInfoV3 { customer_id })
            .collect(),
        total_count,
    }))
}
