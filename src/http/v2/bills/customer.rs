//! The customer's own monthly sums and fee records (ops 4–5).

use super::*;

// ---------------------------------------------------------------------------------------------
// 4. Customer monthly summary

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowCustomerMonthlySumQuery {
    /// `YYYY-MM` (UTC+8, required).
    pub bill_cycle: Option<String>,
    pub service_type_code: Option<String>,
    /// `0` default project, `-1` not grouped; `null` filters; `""` invalid.
    pub enterprise_project_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    /// `oneself` | `sub_customer` | `all` (default).
    pub method: Option<String>,
    /// Required iff `method=sub_customer`.
    pub sub_customer_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillSumRecordInfoV2 {
    pub bill_cycle: String,
    pub resource_type_code: String,
    pub service_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub charging_mode: i16,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub truncated_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
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
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    pub measure_id: i32,
    /// `1` consumption, `2` refund, `3` adjustment.
    pub bill_type: i16,
    pub customer_id: String,
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowCustomerMonthlySumResponse {
    pub total_count: i64,
    pub bill_sums: Vec<BillSumRecordInfoV2>,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub flexipurchase_coupon_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub stored_value_card_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    pub measure_id: i32,
    pub currency: String,
}

/// `method` / `sub_customer_id`: whose records a customer reads. Enterprise sub-accounts do not
/// exist here, so `sub_customer` names a customer that is not the caller's and matches nothing.
fn method_customers(
    me: &str,
    method: Option<String>,
    sub_customer_id: Option<String>,
) -> Result<Vec<String>, ApiError> {
    match given(method).as_deref() {
        None | Some("all") | Some("oneself") => Ok(vec![me.to_string()]),
        Some("sub_customer") => {
            let sub = given(sub_customer_id).ok_or_else(|| {
                ApiError::invalid("sub_customer_id", "is required when method=sub_customer")
            })?;
            // No enterprise sub-accounts: no sub-customer (not even the caller itself) matches.
            let _ = sub;
            Ok(vec![])
        }
        Some(_) => Err(ApiError::invalid(
            "method",
            "must be oneself, sub_customer or all",
        )),
    }
}

/// The calling customer's consumption summary of one month.
#[utoipa::path(get, path = "/v2/bills/customer-bills/monthly-sum", tag = "bills",
    params(ShowCustomerMonthlySumQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ShowCustomerMonthlySumResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_monthly_sum(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ShowCustomerMonthlySumQuery>,
) -> ApiResult<Json<ShowCustomerMonthlySumResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let ep = strict_filter("enterprise_project_id", q.enterprise_project_id)?;
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let customers = method_customers(&caller.account_id, q.method, q.sub_customer_id)?;
    let filter = SumFilter {
        cycle: Some(cycle),
        service_type_code: given(q.service_type_code),
        enterprise_project_id: ep,
        ..Default::default()
    };
    let (total_count, rows, t) = if customers.is_empty() {
        (0, Vec::new(), Default::default())
    } else {
        bills::own_sums(
            &app,
            &caller.account_id,
            filter,
            english(&headers),
            offset,
            limit,
        )
        .await?
    };
    Ok(Json(ShowCustomerMonthlySumResponse {
        total_count,
        bill_sums: rows
            .into_iter()
            .map(|r| BillSumRecordInfoV2 {
                bill_cycle: cycle_text(cycle),
                service_type_name: r.service_type_name.unwrap_or_default(),
                resource_type_name: r.resource_type_name.unwrap_or_default(),
                resource_type_code: r.resource_type_code,
                service_type_code: r.service_type_code,
                charging_mode: r.charging_mode,
                official_amount: DecimalNumber(r.official_amount),
                official_discount_amount: DecimalNumber(r.discount_amount),
                truncated_amount: DecimalNumber(r.erase_amount),
                consume_amount: YuanNumber(r.payable),
                coupon_amount: YuanNumber(r.coupon),
                flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
                stored_value_card_amount: YuanNumber(r.card),
                debt_amount: YuanNumber(r.debt),
                writeoff_amount: YuanNumber(r.writeoff),
                cash_amount: YuanNumber(r.cash),
                credit_amount: YuanNumber(r.credit),
                measure_id: 1,
                bill_type: r.bill_type,
                customer_id: r.customer_id,
                account_name: r.account_name.unwrap_or_default(),
            })
            .collect(),
        consume_amount: YuanNumber(t.payable),
        debt_amount: YuanNumber(t.debt),
        coupon_amount: YuanNumber(t.coupon),
        flexipurchase_coupon_amount: YuanNumber(t.cash_coupon),
        stored_value_card_amount: YuanNumber(t.card),
        cash_amount: YuanNumber(t.cash),
        credit_amount: YuanNumber(t.credit),
        writeoff_amount: YuanNumber(t.writeoff),
        measure_id: 1,
        currency: "CNY".into(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 5. Customer fee records (流水账单)

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerBillsFeeRecordsQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    /// `1` Huawei Cloud, `2` marketplace.
    pub provider_type: Option<String>,
    pub service_type_code: Option<String>,
    pub resource_type_code: Option<String>,
    pub region_code: Option<String>,
    pub charging_mode: Option<String>,
    pub bill_type: Option<String>,
    pub trade_id: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// Include records whose payable amount is 0 (default false).
    pub include_zero_record: Option<String>,
    /// `1` paid, `2` not settled (arrears), `3` not billed.
    pub status: Option<String>,
    pub method: Option<String>,
    pub sub_customer_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
    pub bill_date_begin: Option<String>,
    pub bill_date_end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyBillRecord {
    pub bill_cycle: String,
    pub customer_id: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub service_type_name: String,
    pub resource_type_name: String,
    pub region_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    pub charging_mode: i16,
    pub consume_time: String,
    pub trade_time: String,
    pub provider_type: i16,
    pub trade_id: String,
    pub id: String,
    pub bill_type: i16,
    pub status: i16,
    #[schema(value_type = f64)]
    pub official_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub official_discount_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub erase_amount: DecimalNumber,
    #[schema(value_type = f64)]
    pub consume_amount: YuanNumber,
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
    pub bonus_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    pub account_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerBillsFeeRecordsResponse {
    pub total_count: i64,
    pub records: Vec<MonthlyBillRecord>,
    pub currency: String,
}

/// The calling customer's fee records of one month.
#[utoipa::path(get, path = "/v2/bills/customer-bills/fee-records", tag = "bills",
    params(ListCustomerBillsFeeRecordsQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, body = ListCustomerBillsFeeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_bills_fee_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ListCustomerBillsFeeRecordsQuery>,
) -> ApiResult<Json<ListCustomerBillsFeeRecordsResponse>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let provider = int_filter("provider_type", q.provider_type, &[1, 2], false)?;
    let charging_mode = int_filter("charging_mode", q.charging_mode, CHARGING_MODES, false)?;
    let bill_type = int_filter("bill_type", q.bill_type, BILL_DETAIL_TYPES, false)?;
    let status = int_filter("status", q.status, &[1, 2, 3], false)?;
    let include_zero = bool_param("include_zero_record", q.include_zero_record)?.unwrap_or(false);
    let (offset, limit) = paging(q.offset, q.limit, 1000)?;
    let (from, until) = date_window(cycle, q.bill_date_begin, q.bill_date_end)?;
    let customers = method_customers(&caller.account_id, q.method, q.sub_customer_id)?;
    let filter = DetailFilter {
        cycle: Some(cycle),
        service_type_code: given(q.service_type_code).map(TextFilter::Is),
        resource_type_code: given(q.resource_type_code).map(TextFilter::Is),
        region_code: given(q.region_code).map(TextFilter::Is),
        trade_id: given(q.trade_id).map(TextFilter::Is),
        enterprise_project_id: given(q.enterprise_project_id).map(TextFilter::Is),
        charging_mode,
        bill_types: bill_type.map(|b| vec![b]),
        from,
        until,
        skip_zero: !include_zero,
        in_arrears: status.map(|s| s == 2),
        ..Default::default()
    };
    // Every record here is a Huawei Cloud one and billed: marketplace or not-billed filters match
    // nothing.
    let none = provider == Some(2) || status == Some(3) || customers.is_empty();
    let (total_count, rows) = if none {
        (0, Vec::new())
    } else {
        bills::own_details(
            &app,
            &caller.account_id,
            filter,
            english(&headers),
            offset,
            limit,
        )
        .await?
    };
    Ok(Json(ListCustomerBillsFeeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows
            .into_iter()
            .map(|r| MonthlyBillRecord {
                bill_cycle: cycle_text(r.cycle),
                customer_id: r.customer_id,
                service_type_name: r.service_type_name.unwrap_or_default(),
                resource_type_name: r.resource_type_name.unwrap_or_default(),
                service_type_code: r.service_type_code,
                resource_type_code: r.resource_type_code,
                region_code: r.region_code,
                enterprise_project_id: r.enterprise_project_id,
                charging_mode: r.charging_mode,
                consume_time: format_ts(r.begin_time),
                trade_time: format_ts(r.trade_time),
                provider_type: 1,
                trade_id: r.trade_id,
                id: r.id,
                bill_type: r.bill_type,
                status: if r.debt != 0 { 2 } else { 1 },
                official_amount: DecimalNumber(r.official_amount),
                official_discount_amount: DecimalNumber(r.discount_amount),
                erase_amount: DecimalNumber(r.erase_amount),
                consume_amount: YuanNumber(r.payable),
                cash_amount: YuanNumber(r.cash),
                credit_amount: YuanNumber(r.credit),
                coupon_amount: YuanNumber(r.coupon),
                flexipurchase_coupon_amount: YuanNumber(r.cash_coupon),
                stored_value_card_amount: YuanNumber(r.card),
                bonus_amount: YuanNumber(0),
                debt_amount: YuanNumber(r.debt),
                writeoff_amount: YuanNumber(r.writeoff),
                account_name: r.account_name.unwrap_or_default(),
            })
            .collect(),
    }))
}
