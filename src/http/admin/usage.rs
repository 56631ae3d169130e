//! The vendor's consumption side: usage ingestion, a customer's own top-ups, stored-value card
//! sales, a customer's own credit line and fee-record adjustments (refunds).

use std::str::FromStr;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::{
    domain::time::{format_ts, parse_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, IdempotentJson},
        v2::funding::{decimal, parse_amount, parse_non_negative, YuanNumber},
        ErrorBody,
    },
    service::{
        idempotency::{self, IdemRequest},
        usage::{self, Outcome, UsageRecord, MAX_BATCH},
        usage_money::{self, AdjustKind, CardSale, CustomerDeposit, CustomerMoney, FeeAdjust},
    },
    state::AppState,
};

const ADMIN_CALLER: &str = "admin";

fn key(req_key: Option<String>, digest: String) -> Option<IdemRequest> {
    req_key.map(|key| IdemRequest {
        caller_id: ADMIN_CALLER.into(),
        key,
        request_hash: digest,
    })
}

/// One metered usage record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageRecordIn {
    /// Unique for ever: a repeat is `duplicate` and charges nothing (1–128 characters).
    pub event_id: String,
    pub customer_id: String,
    pub product_id: String,
    /// A usage type the product has an on-demand price for (e.g. `duration`).
    pub usage_type: String,
    /// Decimal ≥ 0, as a JSON number or a string.
    #[schema(value_type = String)]
    pub usage: Value,
    /// The unit of `usage` (see `GET /v2/bases/measurements`); converted to the price's unit.
    pub usage_measure_id: i32,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub region_code: String,
    pub enterprise_project_id: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`; its month in UTC+8 is the bill cycle.
    pub begin_time: String,
    pub end_time: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UsageBatchRequest {
    /// 1 to 1,000 records.
    #[schema(value_type = Vec<UsageRecordIn>)]
    pub records: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageResult {
    #[schema(value_type = Option<String>)]
    pub event_id: Value,
    /// `charged` | `duplicate` | `rejected`
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_record_id: Option<String>,
    /// The payable amount charged (yuan).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub amount: Option<YuanNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBatchResponse {
    /// One result per record, in order.
    pub results: Vec<UsageResult>,
}

fn text(v: &Value, field: &str, max: usize, required: bool) -> Result<Option<String>, ApiError> {
    match v.get(field) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(ApiError::invalid(field, "is required")),
        Some(Value::String(s)) if s.is_empty() && required => {
            Err(ApiError::invalid(field, "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(Value::String(s)) if s.contains('\0') => {
            Err(ApiError::invalid(field, "must not contain NUL"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(field, "must be a string")),
    }
}

fn required(v: &Value, field: &str, max: usize) -> Result<String, ApiError> {
    Ok(text(v, field, max, true)?.expect("required"))
}

fn time(v: &Value, field: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    let s = required(v, field, 20)?;
    parse_ts(&s).ok_or_else(|| ApiError::invalid(field, "must be yyyy-MM-ddTHH:mm:ssZ (UTC)"))
}

/// Parses one record; a bad record is rejected alone.
fn parse_record(v: &Value) -> Result<UsageRecord, ApiError> {
    if !v.is_object() {
        return Err(ApiError::invalid(
            "records",
            "every record must be an object",
        ));
    }
    let usage = match v.get("usage") {
        Some(Value::Number(n)) => decimal("usage", n)?,
        Some(Value::String(s)) => Decimal::from_str(s)
            .map_err(|_| ApiError::invalid("usage", "must be a decimal number"))?,
        None | Some(Value::Null) => return Err(ApiError::invalid("usage", "is required")),
        Some(_) => return Err(ApiError::invalid("usage", "must be a decimal number")),
    };
    let usage_measure_id = match v.get("usage_measure_id") {
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| ApiError::invalid("usage_measure_id", "must be an integer"))?,
        None | Some(Value::Null) => {
            return Err(ApiError::invalid("usage_measure_id", "is required"))
        }
        Some(_) => return Err(ApiError::invalid("usage_measure_id", "must be an integer")),
    };
    Ok(UsageRecord {
        event_id: required(v, "event_id", 128)?,
        customer_id: required(v, "customer_id", 64)?,
        product_id: required(v, "product_id", 64)?,
        usage_type: required(v, "usage_type", 64)?,
        usage,
        usage_measure_id,
        resource_id: required(v, "resource_id", 128)?,
        resource_name: text(v, "resource_name", 256, false)?,
        region_code: required(v, "region_code", 64)?,
        enterprise_project_id: text(v, "enterprise_project_id", 64, false)?,
        begin_time: time(v, "begin_time")?,
        end_time: time(v, "end_time")?,
    })
}

/// Ingest metered usage: each record is rated and charged through the ledger in the deduction
/// order (vouchers, cash coupons, stored-value cards, cash, own credit, then arrears). One
/// transaction per call; `event_id` makes every record charge at most once.
#[utoipa::path(post, path = "/admin/v1/usage-records", tag = "admin",
    request_body = UsageBatchRequest,
    responses((status = 200, body = UsageBatchResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn ingest_usage(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<UsageBatchRequest>,
) -> ApiResult<Json<UsageBatchResponse>> {
    if req.records.is_empty() || req.records.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "records",
            format!("must hold 1 to {MAX_BATCH} records"),
        ));
    }
    let mut parsed: Vec<UsageRecord> = Vec::with_capacity(req.records.len());
    let mut slots: Vec<Result<usize, ApiError>> = Vec::with_capacity(req.records.len());
    for v in &req.records {
        match parse_record(v) {
            Ok(r) => {
                slots.push(Ok(parsed.len()));
                parsed.push(r);
            }
            Err(e) => slots.push(Err(e)),
        }
    }
    let outcomes = usage::ingest(&app, &parsed).await?;
    let results = req
        .records
        .iter()
        .zip(slots)
        .map(|(v, slot)| {
            // Echoed only when it is a string (a malformed one is rejected, answered as null).
            let event_id = match v.get("event_id") {
                Some(e @ Value::String(_)) => e.clone(),
                _ => Value::Null,
            };
            match slot {
                Err(e) => UsageResult {
                    event_id,
                    status: "rejected",
                    fee_record_id: None,
                    amount: None,
                    error_code: Some(e.code.as_str().to_string()),
                    error_msg: Some(e.message.to_string()),
                },
                Ok(i) => match &outcomes[i] {
                    Outcome::Charged {
                        fee_record_id,
                        payable,
                    } => UsageResult {
                        event_id,
                        status: "charged",
                        fee_record_id: Some(fee_record_id.clone()),
                        amount: Some(YuanNumber(*payable)),
                        error_code: None,
                        error_msg: None,
                    },
                    Outcome::Duplicate { fee_record_id } => UsageResult {
                        event_id,
                        status: "duplicate",
                        fee_record_id: Some(fee_record_id.clone()),
                        amount: None,
                        error_code: None,
                        error_msg: None,
                    },
                    Outcome::Rejected { code, message } => UsageResult {
                        event_id,
                        status: "rejected",
                        fee_record_id: None,
                        amount: None,
                        error_code: Some(code.to_string()),
                        error_msg: Some(message.clone()),
                    },
                },
            }
        })
        .collect();
    Ok(Json(UsageBatchResponse { results }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerDepositRequest {
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDepositResponse {
    pub trans_id: String,
    pub customer_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// Arrears the deposit settled first (SOURCE_OPERAIION_WRITEOFF).
    #[schema(value_type = f64)]
    pub settled_debt_amount: YuanNumber,
}

/// Record a customer's own top-up at the vendor (advisory customers pay themselves); it settles
/// the customer's arrears first. `Idempotency-Key` supported.
#[utoipa::path(post, path = "/admin/v1/customers/{customer_id}/deposits", tag = "admin",
    params(("customer_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = CustomerDepositRequest,
    responses((status = 201, body = CustomerDepositResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_customer_deposit(
    State(app): State<AppState>,
    Path(customer_id): Path<String>,
    req: IdempotentJson<CustomerDepositRequest>,
) -> ApiResult<(StatusCode, Json<CustomerDepositResponse>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let op = CustomerDeposit {
        customer_id: customer_id.clone(),
        amount,
    };
    let out = idempotency::run(&app, key(req.key, req.digest).as_ref(), &op).await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerDepositResponse {
            trans_id: out.trans_id,
            customer_id,
            amount: YuanNumber(amount.fen()),
            settled_debt_amount: YuanNumber(out.settled_debt),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CardSaleRequest {
    /// 1–64 characters.
    pub card_name: String,
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub face_value: serde_json::Number,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, in the future.
    pub expire_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardSaleResponse {
    pub card_id: String,
    pub customer_id: String,
    pub trans_id: String,
    pub card_name: String,
    #[schema(value_type = f64)]
    pub face_value: YuanNumber,
    pub effective_time: String,
    pub expire_time: String,
}

/// Sell a stored-value card to a customer (its face value enters the card through the ledger).
/// `Idempotency-Key` supported.
#[utoipa::path(post, path = "/admin/v1/customers/{customer_id}/stored-value-cards", tag = "admin",
    params(("customer_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = CardSaleRequest,
    responses((status = 201, body = CardSaleResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn sell_stored_value_card(
    State(app): State<AppState>,
    Path(customer_id): Path<String>,
    req: IdempotentJson<CardSaleRequest>,
) -> ApiResult<(StatusCode, Json<CardSaleResponse>)> {
    let name = req.body.card_name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid("card_name", "must be 1-64 characters"));
    }
    let face = parse_amount("face_value", &req.body.face_value)?;
    let expire = parse_ts(&req.body.expire_time)
        .ok_or_else(|| ApiError::invalid("expire_time", "must be yyyy-MM-ddTHH:mm:ssZ (UTC)"))?;
    let op = CardSale {
        customer_id: customer_id.clone(),
        card_name: name.to_string(),
        face,
        expire_time: expire,
    };
    let out = idempotency::run(&app, key(req.key, req.digest).as_ref(), &op).await?;
    Ok((
        StatusCode::CREATED,
        Json(CardSaleResponse {
            card_id: out.card_id,
            customer_id,
            trans_id: out.trans_id,
            card_name: op.card_name,
            face_value: YuanNumber(face.fen()),
            effective_time: format_ts(out.effective_time),
            expire_time: format_ts(expire),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerMoneyResponse {
    pub customer_id: String,
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    /// Total own credit line.
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    /// Unused credit.
    #[schema(value_type = f64)]
    pub credit_available: YuanNumber,
    /// Arrears.
    #[schema(value_type = f64)]
    pub debt_amount: YuanNumber,
}

fn money(customer_id: String, m: CustomerMoney) -> Json<CustomerMoneyResponse> {
    Json(CustomerMoneyResponse {
        customer_id,
        cash_amount: YuanNumber(m.cash),
        credit_amount: YuanNumber(m.credit_limit),
        credit_available: YuanNumber(m.credit_available),
        debt_amount: YuanNumber(m.debt),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerCreditLineRequest {
    /// Total own credit line in yuan (≥ 0); lowering it below the credit in use is CBC.99005003.
    #[schema(value_type = f64)]
    pub credit_amount: serde_json::Number,
}

/// Set a customer's own credit line (paid from after its cash, before arrears).
#[utoipa::path(put, path = "/admin/v1/customers/{customer_id}/credit-line", tag = "admin",
    params(("customer_id" = String, Path)), request_body = CustomerCreditLineRequest,
    responses((status = 200, body = CustomerMoneyResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn set_customer_credit_line(
    State(app): State<AppState>,
    Path(customer_id): Path<String>,
    ApiJson(req): ApiJson<CustomerCreditLineRequest>,
) -> ApiResult<Json<CustomerMoneyResponse>> {
    let fen = parse_non_negative("credit_amount", &req.credit_amount)?;
    let m = usage_money::set_customer_credit_line(&app, &customer_id, fen).await?;
    Ok(money(customer_id, m))
}

/// A customer's cash, own credit line and arrears.
#[utoipa::path(get, path = "/admin/v1/customers/{customer_id}/money", tag = "admin",
    params(("customer_id" = String, Path)),
    responses((status = 200, body = CustomerMoneyResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn show_customer_money(
    State(app): State<AppState>,
    Path(customer_id): Path<String>,
) -> ApiResult<Json<CustomerMoneyResponse>> {
    let mut conn = app.db.acquire().await?;
    let m = usage_money::customer_money(&mut conn, &customer_id).await?;
    Ok(money(customer_id, m))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FeeAdjustRequest {
    /// Yuan to give back, > 0, at most 2 decimals, at most what is left of the charge.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    /// 1–256 characters.
    pub reason: String,
    /// `REFUND` (bill type 4, default) or `ADJUSTMENT` (bill type 9).
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeAdjustResponse {
    /// The negative fee record written.
    pub fee_record_id: String,
    pub original_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// What went back where (yuan, ≥ 0).
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
    pub debt_amount: YuanNumber,
}

/// Refund or adjust a charge: the money goes back where it came from in the reverse of the
/// deduction order, as a negative fee record in the current bill cycle. `Idempotency-Key`
/// supported.
#[utoipa::path(post, path = "/admin/v1/fee-records/{fee_record_id}/adjust", tag = "admin",
    params(("fee_record_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = FeeAdjustRequest,
    responses((status = 201, body = FeeAdjustResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn adjust_fee_record(
    State(app): State<AppState>,
    Path(fee_record_id): Path<String>,
    req: IdempotentJson<FeeAdjustRequest>,
) -> ApiResult<(StatusCode, Json<FeeAdjustResponse>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let reason = req.body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 256 {
        return Err(ApiError::invalid("reason", "must be 1-256 characters"));
    }
    let op = FeeAdjust {
        fee_record_id,
        amount,
        reason: reason.to_string(),
        kind: match req.body.kind.as_deref() {
            None | Some("REFUND") => AdjustKind::Refund,
            Some("ADJUSTMENT") => AdjustKind::Adjustment,
            Some(_) => return Err(ApiError::invalid("kind", "must be REFUND or ADJUSTMENT")),
        },
    };
    let out = idempotency::run(&app, key(req.key, req.digest).as_ref(), &op).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeeAdjustResponse {
            fee_record_id: out.fee_record_id,
            original_id: out.original_id,
            amount: YuanNumber(amount.fen()),
            coupon_amount: YuanNumber(out.coupon),
            flexipurchase_coupon_amount: YuanNumber(out.cash_coupon),
            stored_value_card_amount: YuanNumber(out.card),
            cash_amount: YuanNumber(out.cash),
            credit_amount: YuanNumber(out.credit),
            debt_amount: YuanNumber(out.debt),
        }),
    ))
}

/// The routes of this file (merged into the admin API).
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(ingest_usage))
        .routes(routes!(create_customer_deposit))
        .routes(routes!(sell_stored_value_card))
        .routes(routes!(set_customer_credit_line))
        .routes(routes!(show_customer_money))
        .routes(routes!(adjust_fee_record))
}
