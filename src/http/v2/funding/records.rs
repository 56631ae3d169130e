//! Adjust records (20-funding.md §4) and account-change records of partners and customers
//! (§5, §8).

use super::*;

// ---------------------------------------------------------------------------------------------
// 4. Adjust records

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPartnerAdjustRecordsQuery {
    pub customer_id: Option<String>,
    /// SOURCE_OPERATION_BEADJUST | SOURCE_OPERATION_BERETRIEVE | SOURCE_OPERATION_BEUNBIND
    pub operation_type: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`.
    pub operation_time_begin: Option<String>,
    pub operation_time_end: Option<String>,
    pub trans_id: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustRecordV3 {
    pub customer_id: String,
    pub customer_name: String,
    pub operation_type: String,
    /// Yuan as a decimal string, e.g. "100.00".
    pub amount: String,
    pub currency: String,
    pub apply_scene: String,
    pub operation_time: String,
    pub measure_id: i32,
    pub trans_id: String,
    pub memo: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPartnerAdjustRecordsResponse {
    pub total_count: i64,
    pub records: Vec<AdjustRecordV3>,
}

/// Fund/reclaim records of the partner toward its customers and resellers.
#[utoipa::path(get, path = "/v3/accounts/partner-accounts/adjust-records", tag = "funding",
    params(ListPartnerAdjustRecordsQuery),
    responses((status = 200, body = ListPartnerAdjustRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_adjust_records(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListPartnerAdjustRecordsQuery>,
) -> ApiResult<Json<ListPartnerAdjustRecordsResponse>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let customer_id = non_empty(q.customer_id);
    max_len("customer_id", customer_id.as_deref(), 64)?;
    let operation_type = non_empty(q.operation_type);
    if let Some(t) = operation_type.as_deref() {
        if ![OP_FUND, OP_RECLAIM, OP_UNBIND].contains(&t) {
            return Err(ApiError::invalid(
                "operation_type",
                "must be SOURCE_OPERATION_BEADJUST, SOURCE_OPERATION_BERETRIEVE or SOURCE_OPERATION_BEUNBIND",
            ));
        }
    }
    let trans_id = non_empty(q.trans_id);
    max_len("trans_id", trans_id.as_deref(), 128)?;
    let indirect_partner_id = non_empty(q.indirect_partner_id);
    max_len("indirect_partner_id", indirect_partner_id.as_deref(), 64)?;
    let begin = non_empty(q.operation_time_begin);
    let end = non_empty(q.operation_time_end);
    let query = AdjustQuery {
        filter: AdjustFilter {
            counterparty_id: customer_id,
            operation_type,
            begin: time_bound("operation_time_begin", begin.as_deref())?,
            end: time_bound("operation_time_end", end.as_deref())?,
            trans_id,
            manager_ids: None,
        },
        indirect_partner_id,
        offset: paging.offset,
        limit: paging.limit,
    };
    let (total_count, rows) = funding::adjust_records(&app, &caller, &query).await?;
    Ok(Json(ListPartnerAdjustRecordsResponse {
        total_count,
        records: rows
            .into_iter()
            .map(|r| AdjustRecordV3 {
                customer_id: r.counterparty_id,
                customer_name: r.counterparty_name,
                operation_type: r.operation_type,
                amount: fen_to_string(r.amount),
                currency: "CNY".into(),
                apply_scene: String::new(),
                operation_time: format_ts(r.created_at),
                measure_id: 1,
                trans_id: r.trans_id,
                memo: String::new(),
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 5./8. Account-change records

fn balance_type(v: Option<String>) -> Result<BalanceType, ApiError> {
    match v.as_deref() {
        Some("BALANCE_TYPE_DEBIT") => Ok(BalanceType::Debit),
        Some("BALANCE_TYPE_CREDIT") => Ok(BalanceType::Credit),
        None | Some("") => Err(ApiError::invalid("balance_type", "is required")),
        Some(_) => Err(ApiError::invalid(
            "balance_type",
            "must be BALANCE_TYPE_DEBIT or BALANCE_TYPE_CREDIT",
        )),
    }
}

/// `trade_type` → journal kinds; a documented type this server never produces matches nothing.
fn trade_kinds(v: Option<String>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(t) = non_empty(v) else {
        return Ok(None);
    };
    let kinds: &[&str] = match t.as_str() {
        "BEADJUST" => &["fund_customer", "fund_reseller"],
        "BERETRIEVE" => &["reclaim_customer", "reclaim_reseller"],
        "BEUNBIND" => &["unbind_customer"],
        "RECHARGE" => &["deposit", "customer_deposit"],
        "ADJUST" => &["credit_line", "adjustment", "customer_credit_line"],
        "DEDEUCT" => &["usage_charge", "debt_writeoff"],
        "REFUND" => &["usage_refund"],
        "RFROZEN" | "TRANS" | "BONUSCONVERT" | "TRADE_MODE_TRANSFER" | "EXPIRED" | "DEPOSIT" => &[],
        _ => return Err(ApiError::invalid("trade_type", "is not a known trade type")),
    };
    Ok(Some(kinds.iter().map(|k| k.to_string()).collect()))
}

fn detail_type(kind: &str) -> &'static str {
    match kind {
        "deposit" | "customer_deposit" => "SOURCE_OPERAIION_RECHARGE",
        "credit_line" | "customer_credit_line" => "SOURCE_OPERAIION_ADJUST_CREDIT",
        "usage_charge" => "SOURCE_OPERAIION_USAGE",
        "debt_writeoff" => "SOURCE_OPERAIION_WRITEOFF",
        "usage_refund" => "SOURCE_OPERAIION_BILLREFUND",
        "fund_customer" | "fund_reseller" => OP_FUND,
        "reclaim_customer" | "reclaim_reseller" => OP_RECLAIM,
        "unbind_customer" => OP_UNBIND,
        _ => "SOURCE_OPERAIION_ADJUST",
    }
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

fn cn_date(field: &str, v: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    match non_empty(v) {
        None => Ok(None),
        Some(s) if s.len() == 10 => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(field, "must be a date like 2024-01-31")),
        Some(_) => Err(ApiError::invalid(field, "must be a date like 2024-01-31")),
    }
}

/// `YYYY-MM-DD` bounds in UTC+8 (defaults: the same day one year ago → today) as a UTC range
/// `[from, until)`.
pub fn cn_day_range(
    now: DateTime<Utc>,
    begin: Option<String>,
    end: Option<String>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let today = now.with_timezone(&china()).date_naive();
    let end = cn_date("trade_time_end", end)?.unwrap_or(today);
    let begin = cn_date("trade_time_begin", begin)?
        .unwrap_or_else(|| today.checked_sub_months(Months::new(12)).unwrap_or(today));
    if begin > end {
        return Err(ApiError::invalid(
            "trade_time_begin",
            "must not be after trade_time_end",
        ));
    }
    let start_of = |d: NaiveDate| {
        china()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .single()
            .expect("fixed offsets are unambiguous")
            .with_timezone(&Utc)
    };
    Ok((start_of(begin), start_of(end) + Duration::days(1)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPartnerAccountChangeRecordsQuery {
    /// BALANCE_TYPE_DEBIT (cash) | BALANCE_TYPE_CREDIT (credit). Required.
    pub balance_type: Option<String>,
    pub trade_type: Option<String>,
    /// `YYYY-MM-DD` in UTC+8; default one year ago.
    pub trade_time_begin: Option<String>,
    /// `YYYY-MM-DD` in UTC+8; default today.
    pub trade_time_end: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerAccountChangeRecord {
    pub account_change_id: String,
    pub trade_detail_type: String,
    pub trade_time: String,
    pub trade_id: String,
    /// Signed yuan string.
    pub change_amount: String,
    pub balance_after_change: String,
    /// "1" income, "2" expense.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPartnerAccountChangeRecordsResponse {
    pub total_count: i64,
    pub currency: String,
    pub records: Vec<PartnerAccountChangeRecord>,
}

/// Income and expense records of the partner's cash or credit account.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/account-change-records", tag = "funding",
    params(ListPartnerAccountChangeRecordsQuery),
    responses((status = 200, body = ListPartnerAccountChangeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_account_change_records(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListPartnerAccountChangeRecordsQuery>,
) -> ApiResult<Json<ListPartnerAccountChangeRecordsResponse>> {
    let balance_type = balance_type(q.balance_type)?;
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let kinds = trade_kinds(q.trade_type)?;
    let (from, until) = cn_day_range(app.now(), q.trade_time_begin, q.trade_time_end)?;
    let indirect = non_empty(q.indirect_partner_id);
    max_len("indirect_partner_id", indirect.as_deref(), 64)?;
    let (total_count, rows) = funding::partner_changes(
        &app,
        &caller,
        indirect.as_deref(),
        ChangeQuery {
            balance_type,
            kinds,
            trans_id: None,
            direction: None,
            from,
            until,
            offset: paging.offset,
            limit: paging.limit,
        },
    )
    .await?;
    Ok(Json(ListPartnerAccountChangeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows.into_iter().map(partner_change).collect(),
    }))
}

fn is_transfer(kind: &str) -> bool {
    kind.starts_with("fund_") || kind.starts_with("reclaim_")
}

fn partner_change(r: ChangeRow) -> PartnerAccountChangeRecord {
    let transfer = is_transfer(&r.kind);
    PartnerAccountChangeRecord {
        account_change_id: r.posting_id.to_string(),
        trade_detail_type: detail_type(&r.kind).into(),
        trade_time: format_ts(r.created_at),
        trade_id: r.trans_id,
        change_amount: fen_to_string(r.amount),
        balance_after_change: fen_to_string(r.balance_after),
        kind: if r.amount > 0 { "1" } else { "2" }.into(),
        customer_id: r.other_id.filter(|_| transfer),
        account_name: r.other_name.filter(|_| transfer),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCustomerAccountChangeRecordsQuery {
    /// BALANCE_TYPE_DEBIT | BALANCE_TYPE_CREDIT. Required.
    pub balance_type: Option<String>,
    /// REVENUE | EXPENSE
    pub revenue_expense_type: Option<String>,
    pub trade_type: Option<String>,
    pub trade_time_begin: Option<String>,
    pub trade_time_end: Option<String>,
    pub trade_id: Option<String>,
    /// Comma-separated channel ids.
    pub payment_channel_id: Option<String>,
    pub payment_channel_no: Option<String>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerAccountChangeRecord {
    pub account_change_id: String,
    pub trade_detail_type: String,
    pub trade_time: String,
    pub trade_id: String,
    pub change_amount: String,
    pub balance_after_change: String,
    pub revenue_expense_type: String,
    pub bill_cycle: String,
    pub payment_channel_id: String,
    pub payment_channel_no: String,
    pub consume_time: String,
    pub account_name: String,
    pub cloud_service_type_name: String,
    pub resource_type_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomerAccountChangeRecordsResponse {
    pub total_count: i64,
    pub currency: String,
    pub records: Vec<CustomerAccountChangeRecord>,
}

const PAYMENT_CHANNELS: &[&str] = &[
    "1", "2", "4", "5", "6", "7", "10", "11", "317", "319", "320",
];

/// The customer's own account-change records (not for a partner's resale customers).
#[utoipa::path(get, path = "/v2/accounts/customer-accounts/account-change-records", tag = "funding",
    params(ListCustomerAccountChangeRecordsQuery),
    responses((status = 200, body = ListCustomerAccountChangeRecordsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customer_account_change_records(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<ListCustomerAccountChangeRecordsQuery>,
) -> ApiResult<Json<ListCustomerAccountChangeRecordsResponse>> {
    let balance_type = balance_type(q.balance_type)?;
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let kinds = trade_kinds(q.trade_type)?;
    let direction = match non_empty(q.revenue_expense_type).as_deref() {
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
    let mut kinds = kinds;
    if let Some(channels) = non_empty(q.payment_channel_id) {
        let list: Vec<&str> = channels.split(',').map(str::trim).collect();
        if list.iter().any(|c| !PAYMENT_CHANNELS.contains(c)) {
            return Err(ApiError::invalid(
                "payment_channel_id",
                "has an unknown channel id",
            ));
        }
        // Every movement here is a partner adjustment (channel 11).
        if !list.contains(&"11") {
            kinds = Some(Vec::new());
        }
    }
    if non_empty(q.payment_channel_no).is_some() {
        kinds = Some(Vec::new());
    }
    let trans_id = non_empty(q.trade_id);
    max_len("trade_id", trans_id.as_deref(), 128)?;
    let (from, until) = cn_day_range(app.now(), q.trade_time_begin, q.trade_time_end)?;
    let (total_count, rows) = funding::customer_changes(
        &app,
        &caller,
        ChangeQuery {
            balance_type,
            kinds,
            trans_id,
            direction,
            from,
            until,
            offset: paging.offset,
            limit: paging.limit,
        },
    )
    .await?;
    Ok(Json(ListCustomerAccountChangeRecordsResponse {
        total_count,
        currency: "CNY".into(),
        records: rows
            .into_iter()
            .map(|r| CustomerAccountChangeRecord {
                account_change_id: r.posting_id.to_string(),
                trade_detail_type: detail_type(&r.kind).into(),
                trade_time: format_ts(r.created_at),
                trade_id: r.trans_id,
                change_amount: fen_to_string(r.amount),
                balance_after_change: fen_to_string(r.balance_after),
                revenue_expense_type: if r.amount > 0 { "REVENUE" } else { "EXPENSE" }.into(),
                bill_cycle: r
                    .created_at
                    .with_timezone(&china())
                    .format("%Y-%m")
                    .to_string(),
                payment_channel_id: "11".into(),
                payment_channel_no: String::new(),
                consume_time: format_ts(r.created_at),
                account_name: caller.login_name.clone(),
                cloud_service_type_name: String::new(),
                resource_type_name: String::new(),
            })
            .collect(),
    }))
}
