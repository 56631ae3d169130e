//! Balances, funding ("拨款") and reclaiming ("回收"), adjust and account-change records
//! (20-funding.md §1–10), plus the batch-funding extension.
//!
//! Money-moving calls accept an `Idempotency-Key` header: a replay returns the first outcome (also a
//! rejection); the same key with another body is 422 CBC.0101; a duplicate still in flight is 409
//! CBC.99007461.

mod records;

pub use records::*;

use std::str::FromStr;

use axum::{extract::State, Json};
use chrono::{DateTime, Duration, FixedOffset, Months, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{max_len, non_empty, time_bound};
use crate::{
    db::funding::{AdjustFilter, ChangeRow},
    domain::{money::fen_to_string, time::format_ts, Amount},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, IdempotentJson, Paging},
        ErrorBody,
    },
    service::{
        auth::{CustomerCaller, PartnerCaller},
        funding::{
            self, AdjustQuery, BalanceType, BatchFund, ChangeQuery, CustomerMove, MoveKind,
            ResellerMove, OP_FUND, OP_RECLAIM, OP_UNBIND,
        },
        idempotency::{self, IdemRequest},
    },
    state::AppState,
};

/// Fen rendered as a JSON number with exactly two decimals (`1050` → `10.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuanNumber(pub i64);

impl Serialize for YuanNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = serde_json::Number::from_str(&fen_to_string(self.0))
            .map_err(serde::ser::Error::custom)?;
        n.serialize(s)
    }
}

/// A wire amount (JSON number, yuan): > 0, at most 2 decimals, at most 2147483647.
pub fn parse_amount(field: &str, n: &serde_json::Number) -> Result<Amount, ApiError> {
    let d = decimal(field, n)?;
    Amount::from_yuan(d).map_err(|why| ApiError::invalid(field, why))
}

/// A wire amount that may also be 0 (credit lines, designated amounts); returns fen.
pub fn parse_non_negative(field: &str, n: &serde_json::Number) -> Result<i64, ApiError> {
    let d = decimal(field, n)?;
    if d == Decimal::ZERO {
        return Ok(0);
    }
    Amount::from_yuan(d)
        .map(Amount::fen)
        .map_err(|why| ApiError::invalid(field, format!("{why} (0 is allowed)")))
}

pub fn decimal(field: &str, n: &serde_json::Number) -> Result<Decimal, ApiError> {
    let s = n.to_string();
    Decimal::from_str(&s)
        .or_else(|_| Decimal::from_scientific(&s))
        .map_err(|_| ApiError::invalid(field, "must be a decimal number"))
}

fn id_field(field: &str, v: &str) -> Result<(), ApiError> {
    if v.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    max_len(field, Some(v), 64)
}

fn idem(caller_id: &str, key: Option<String>, digest: String) -> Option<IdemRequest> {
    key.map(|key| IdemRequest {
        caller_id: caller_id.to_string(),
        key,
        request_hash: digest,
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Partner balances

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPartnerBalancesQuery {
    /// Distributor reading one reseller's balances.
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBalanceV3 {
    pub account_id: String,
    /// 1 cash, 2 credit, 8 fundable (Σ amount − designated_amount).
    pub account_type: i32,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub currency: String,
    #[schema(value_type = f64)]
    pub designated_amount: YuanNumber,
    /// Total credit line (account_type 2).
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    pub measure_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListPartnerBalancesResponse {
    pub account_balances: Vec<AccountBalanceV3>,
}

fn balance(
    account_id: String,
    account_type: i32,
    amount: i64,
    designated: i64,
    credit: i64,
) -> AccountBalanceV3 {
    AccountBalanceV3 {
        account_id,
        account_type,
        amount: YuanNumber(amount),
        currency: "CNY".into(),
        designated_amount: YuanNumber(designated),
        credit_amount: YuanNumber(credit),
        measure_id: 1,
        memo: None,
    }
}

/// The partner's (or a distributor's reseller's) cash, credit and fundable balances.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/balances", tag = "funding",
    params(ListPartnerBalancesQuery),
    responses((status = 200, body = ListPartnerBalancesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_balances(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<ListPartnerBalancesQuery>,
) -> ApiResult<Json<ListPartnerBalancesResponse>> {
    let indirect = non_empty(q.indirect_partner_id);
    max_len("indirect_partner_id", indirect.as_deref(), 64)?;
    let m = funding::partner_balances(&app, &caller, indirect.as_deref()).await?;
    let cash_id = m.cash_account_id.unwrap_or_default();
    let credit_id = m.credit_account_id.unwrap_or_default();
    Ok(Json(ListPartnerBalancesResponse {
        account_balances: vec![
            balance(cash_id.to_string(), 1, m.cash, m.designated, 0),
            balance(credit_id.to_string(), 2, m.credit, 0, m.credit_limit),
            balance(format!("F{cash_id}"), 8, m.fundable(), 0, 0),
        ],
    }))
}

// ---------------------------------------------------------------------------------------------
// 2./3. Fund and reclaim a customer

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdjustAccountReq {
    /// A resale-type sub-customer of the caller (or of `indirect_partner_id`).
    pub customer_id: String,
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    /// Distributor funding a reseller's customer from the reseller's balance.
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateCustomerAccountAmountResponse {
    pub transfer_id: String,
}

/// Validates a fund/reclaim body and runs it coalesced with the caller's concurrent moves into
/// one transaction (a keyed request's outcome stored in that transaction).
async fn move_customer(
    app: &AppState,
    caller: PartnerCaller,
    req: IdempotentJson<AdjustAccountReq>,
    kind: MoveKind,
) -> ApiResult<funding::Transferred> {
    id_field("customer_id", &req.body.customer_id)?;
    let amount = parse_amount("amount", &req.body.amount)?;
    let indirect_partner_id = non_empty(req.body.indirect_partner_id.clone());
    max_len("indirect_partner_id", indirect_partner_id.as_deref(), 64)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = CustomerMove {
        kind,
        caller,
        customer_id: req.body.customer_id,
        amount,
        indirect_partner_id,
    };
    funding::coalesced(app, op, key).await
}

/// Fund a resale customer from the partner's fundable balance (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/adjust-amount", tag = "funding",
    request_body = AdjustAccountReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = UpdateCustomerAccountAmountResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_customer_account_amount(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<AdjustAccountReq>,
) -> ApiResult<Json<UpdateCustomerAccountAmountResponse>> {
    let out = move_customer(&app, caller, req, MoveKind::Fund).await?;
    Ok(Json(UpdateCustomerAccountAmountResponse {
        transfer_id: out.trans_id,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReclaimResponse {
    pub trans_id: String,
}

/// Reclaim from a resale customer back to the partner (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/reclaim", tag = "funding",
    request_body = AdjustAccountReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = ReclaimResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn reclaim_to_partner_account(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<AdjustAccountReq>,
) -> ApiResult<Json<ReclaimResponse>> {
    let out = move_customer(&app, caller, req, MoveKind::Reclaim).await?;
    Ok(Json(ReclaimResponse {
        trans_id: out.trans_id,
    }))
}

// ---------------------------------------------------------------------------------------------
// Batch funding (extension)

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAdjustItem {
    pub customer_id: String,
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchAdjustAccountReq {
    /// 1–100 items; each is funded in its own journal.
    pub customer_amounts: Vec<BatchAdjustItem>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAdjustResult {
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAdjustResponse {
    pub success_count: i64,
    pub failure_count: i64,
    /// One result per item, in request order.
    pub results: Vec<BatchAdjustResult>,
}

/// Extension (批量拨款): fund up to 100 resale customers in one call; per-item results, one
/// journal per funded item (`Idempotency-Key` supported for the whole batch).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/batch-adjust-amount", tag = "funding",
    request_body = BatchAdjustAccountReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = BatchAdjustResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn batch_update_customer_account_amount(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<BatchAdjustAccountReq>,
) -> ApiResult<Json<BatchAdjustResponse>> {
    let n = req.body.customer_amounts.len();
    if !(1..=100).contains(&n) {
        return Err(ApiError::invalid(
            "customer_amounts",
            "must have 1 to 100 items",
        ));
    }
    let mut items = Vec::with_capacity(n);
    for (i, it) in req.body.customer_amounts.iter().enumerate() {
        id_field(
            &format!("customer_amounts[{i}].customer_id"),
            &it.customer_id,
        )?;
        let amount = parse_amount(&format!("customer_amounts[{i}].amount"), &it.amount)?;
        items.push((it.customer_id.clone(), amount));
    }
    let indirect_partner_id = non_empty(req.body.indirect_partner_id);
    max_len("indirect_partner_id", indirect_partner_id.as_deref(), 64)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = BatchFund {
        caller,
        indirect_partner_id,
        items,
    };
    let out = funding::coalesced_batch(&app, op, key).await?;
    let success_count = out.iter().filter(|o| o.trans_id.is_some()).count() as i64;
    Ok(Json(BatchAdjustResponse {
        success_count,
        failure_count: out.len() as i64 - success_count,
        results: out
            .into_iter()
            .map(|o| BatchAdjustResult {
                customer_id: o.customer_id,
                transfer_id: o.trans_id,
                error_code: o.error_code,
                error_msg: o.error_msg,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// 9./10. Fund and reclaim a reseller

#[derive(Debug, Deserialize, ToSchema)]
pub struct IndirectPartnerAdjustReq {
    /// One of the distributor's resellers.
    pub indirect_partner_id: String,
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
}

fn reseller_move(req: &IndirectPartnerAdjustReq) -> Result<Amount, ApiError> {
    id_field("indirect_partner_id", &req.indirect_partner_id)?;
    parse_amount("amount", &req.amount)
}

/// A distributor funds one of its resellers (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/indirect-partner-adjust", tag = "funding",
    request_body = IndirectPartnerAdjustReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = UpdateCustomerAccountAmountResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_indirect_partner_account(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<IndirectPartnerAdjustReq>,
) -> ApiResult<Json<UpdateCustomerAccountAmountResponse>> {
    let amount = reseller_move(&req.body)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = ResellerMove {
        kind: MoveKind::Fund,
        caller,
        reseller_id: req.body.indirect_partner_id,
        amount,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(UpdateCustomerAccountAmountResponse {
        transfer_id: out.trans_id,
    }))
}

/// A distributor reclaims from one of its resellers (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/indirect-partner-reclaim", tag = "funding",
    request_body = IndirectPartnerAdjustReq,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 200, body = ReclaimResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn reclaim_indirect_partner_account(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<IndirectPartnerAdjustReq>,
) -> ApiResult<Json<ReclaimResponse>> {
    let amount = reseller_move(&req.body)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = ResellerMove {
        kind: MoveKind::Reclaim,
        caller,
        reseller_id: req.body.indirect_partner_id,
        amount,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok(Json(ReclaimResponse {
        trans_id: out.trans_id,
    }))
}

// ---------------------------------------------------------------------------------------------
// 6./7. Customer balances

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerIdInfo {
    pub customer_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QueryCustomersBalancesReq {
    /// 1–100 customers.
    pub customer_infos: Vec<CustomerIdInfo>,
    pub indirect_partner_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerBalancesV3 {
    pub customer_id: String,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    pub currency: String,
    pub measure_id: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCustomersBalancesDetailResponse {
    pub customer_balances: Vec<CustomerBalancesV3>,
}

/// Balances of resale sub-customers; other ids are silently left out.
#[utoipa::path(post, path = "/v2/accounts/customer-accounts/balances/batch-query", tag = "funding",
    request_body = QueryCustomersBalancesReq,
    responses((status = 200, body = ListCustomersBalancesDetailResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_customers_balances_detail(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<QueryCustomersBalancesReq>,
) -> ApiResult<Json<ListCustomersBalancesDetailResponse>> {
    let n = req.customer_infos.len();
    if !(1..=100).contains(&n) {
        return Err(ApiError::invalid(
            "customer_infos",
            "must have 1 to 100 items",
        ));
    }
    let mut ids = Vec::with_capacity(n);
    for (i, c) in req.customer_infos.into_iter().enumerate() {
        id_field(&format!("customer_infos[{i}].customer_id"), &c.customer_id)?;
        ids.push(c.customer_id);
    }
    let indirect = non_empty(req.indirect_partner_id);
    max_len("indirect_partner_id", indirect.as_deref(), 64)?;
    let rows = funding::customer_balances(&app, &caller, indirect.as_deref(), &ids).await?;
    Ok(Json(ListCustomersBalancesDetailResponse {
        customer_balances: rows
            .into_iter()
            .map(|(customer_id, fen, debt)| CustomerBalancesV3 {
                customer_id,
                debt_amount: YuanNumber(debt),
                amount: YuanNumber(fen),
                currency: "CNY".into(),
                measure_id: 1,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShowCustomerAccountBalancesResponse {
    pub account_balances: Vec<AccountBalanceV3>,
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
    pub measure_id: i32,
    pub currency: String,
}

/// The calling customer's own balances.
#[utoipa::path(get, path = "/v2/accounts/customer-accounts/balances", tag = "funding",
    responses((status = 200, body = ShowCustomerAccountBalancesResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_customer_account_balances(
    State(app): State<AppState>,
    caller: CustomerCaller,
) -> ApiResult<Json<ShowCustomerAccountBalancesResponse>> {
    let (id, fen, debt) = funding::own_balance(&app, &caller).await?;
    Ok(Json(ShowCustomerAccountBalancesResponse {
        account_balances: vec![balance(id.unwrap_or_default().to_string(), 1, fen, 0, 0)],
        debt_amount: YuanNumber(debt),
        measure_id: 1,
        currency: "CNY".into(),
    }))
}
