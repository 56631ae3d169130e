//! The vendor's money operations: deposits, credit lines, designated amounts and the ledger audit.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::ApiResult,
    http::{
        extract::{ApiJson, IdempotentJson},
        v2::funding::{parse_amount, parse_non_negative, YuanNumber},
        ErrorBody,
    },
    ledger::{AuditReport, PartnerMoney},
    service::{
        funding::{self, Deposit},
        idempotency::{self, IdemRequest},
    },
    state::AppState,
};

/// Idempotency keys of the admin API are scoped to this caller id.
const ADMIN_CALLER: &str = "admin";

#[derive(Debug, Deserialize, ToSchema)]
pub struct DepositRequest {
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepositResponse {
    pub trans_id: String,
    pub partner_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
}

/// Deposit money into a partner's cash account (a journal from the vendor-deposits account);
/// `Idempotency-Key` supported.
#[utoipa::path(post, path = "/admin/v1/partners/{partner_id}/deposits", tag = "admin",
    params(("partner_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = DepositRequest,
    responses((status = 201, body = DepositResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn create_deposit(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    req: IdempotentJson<DepositRequest>,
) -> ApiResult<(StatusCode, Json<DepositResponse>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let key = req.key.map(|key| IdemRequest {
        caller_id: ADMIN_CALLER.into(),
        key,
        request_hash: req.digest,
    });
    let op = Deposit {
        partner_id: partner_id.clone(),
        amount,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok((
        StatusCode::CREATED,
        Json(DepositResponse {
            trans_id: out.trans_id,
            partner_id,
            amount: YuanNumber(amount.fen()),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerMoneyResponse {
    pub partner_id: String,
    /// Cash balance (account_type 1).
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    /// Earmarked part of the cash balance (not fundable).
    #[schema(value_type = f64)]
    pub designated_amount: YuanNumber,
    /// Total credit line.
    #[schema(value_type = f64)]
    pub credit_amount: YuanNumber,
    /// Unused credit (account_type 2 amount).
    #[schema(value_type = f64)]
    pub credit_available: YuanNumber,
    /// What can be allocated now (account_type 8).
    #[schema(value_type = f64)]
    pub fundable_amount: YuanNumber,
}

fn money(partner_id: String, m: PartnerMoney) -> Json<PartnerMoneyResponse> {
    Json(PartnerMoneyResponse {
        partner_id,
        cash_amount: YuanNumber(m.cash),
        designated_amount: YuanNumber(m.designated),
        credit_amount: YuanNumber(m.credit_limit),
        credit_available: YuanNumber(m.credit),
        fundable_amount: YuanNumber(m.fundable()),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreditLineRequest {
    /// Total credit line in yuan (≥ 0); lowering it below the credit in use is CBC.99005003.
    #[schema(value_type = f64)]
    pub credit_amount: serde_json::Number,
}

/// Set a partner's credit line.
#[utoipa::path(put, path = "/admin/v1/partners/{partner_id}/credit-line", tag = "admin",
    params(("partner_id" = String, Path)), request_body = CreditLineRequest,
    responses((status = 200, body = PartnerMoneyResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn set_credit_line(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    ApiJson(req): ApiJson<CreditLineRequest>,
) -> ApiResult<Json<PartnerMoneyResponse>> {
    let fen = parse_non_negative("credit_amount", &req.credit_amount)?;
    let m = funding::set_credit_line(&app, &partner_id, fen).await?;
    Ok(money(partner_id, m))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DesignatedAmountRequest {
    /// Earmarked yuan (≥ 0, at most the cash balance, else CBC.99005003).
    #[schema(value_type = f64)]
    pub designated_amount: serde_json::Number,
}

/// Set a partner's designated ("专款专用") amount.
#[utoipa::path(put, path = "/admin/v1/partners/{partner_id}/designated-amount", tag = "admin",
    params(("partner_id" = String, Path)), request_body = DesignatedAmountRequest,
    responses((status = 200, body = PartnerMoneyResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn set_designated_amount(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    ApiJson(req): ApiJson<DesignatedAmountRequest>,
) -> ApiResult<Json<PartnerMoneyResponse>> {
    let fen = parse_non_negative("designated_amount", &req.designated_amount)?;
    let m = funding::set_designated(&app, &partner_id, fen).await?;
    Ok(money(partner_id, m))
}

/// Check every ledger invariant over the whole ledger.
#[utoipa::path(get, path = "/admin/v1/ledger/audit", tag = "admin",
    responses((status = 200, body = AuditReport), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn audit_ledger(State(app): State<AppState>) -> ApiResult<Json<AuditReport>> {
    Ok(Json(funding::audit(&app).await?))
}
