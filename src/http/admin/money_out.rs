//! The vendor's side of partner money out (issue 11): confirming top-ups, granting rebates,
//! reviewing and paying withdrawals, moving invoices.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    domain::money_out::{WithdrawalAction, INVOICE_ACTIONS},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, IdempotentJson},
        v2::{
            funding::{parse_amount, YuanNumber},
            max_len,
            money_out::{idem, text, RechargeInfo, WithdrawalInfo},
            non_empty,
            partner_bills::{invoice_info, InvoiceInfo},
        },
        ErrorBody,
    },
    service::{
        idempotency,
        money_out::{GrantRebate, MoveWithdrawal, SettleRecharge},
        partner_bills,
    },
    state::AppState,
};

const ADMIN_CALLER: &str = "admin";

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ReasonRequest {
    /// Up to 500 characters.
    pub reason: Option<String>,
}

async fn settle(
    app: &AppState,
    id: String,
    confirm: bool,
    reason: Option<String>,
    key: Option<String>,
    digest: String,
) -> ApiResult<Json<RechargeInfo>> {
    let reason = non_empty(reason);
    max_len("reason", reason.as_deref(), 500)?;
    let key = idem(ADMIN_CALLER, key, digest);
    let op = SettleRecharge {
        id,
        confirm,
        reason,
    };
    Ok(Json(idempotency::run(app, key.as_ref(), &op).await?.into()))
}

/// Confirm a pending top-up: its amount is deposited into the partner's cash (unposted for
/// `withdrawals.clearing_days`). Not pending: CBC.99013002.
#[utoipa::path(post, path = "/admin/v1/recharges/{recharge_id}/confirm", tag = "admin",
    params(("recharge_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = ReasonRequest,
    responses((status = 200, body = RechargeInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn confirm_recharge(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: IdempotentJson<ReasonRequest>,
) -> ApiResult<Json<RechargeInfo>> {
    settle(&app, id, true, req.body.reason, req.key, req.digest).await
}

/// Reject a pending top-up (nothing is deposited).
#[utoipa::path(post, path = "/admin/v1/recharges/{recharge_id}/reject", tag = "admin",
    params(("recharge_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = ReasonRequest,
    responses((status = 200, body = RechargeInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn reject_recharge(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: IdempotentJson<ReasonRequest>,
) -> ApiResult<Json<RechargeInfo>> {
    settle(&app, id, false, req.body.reason, req.key, req.digest).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RebateRequest {
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    pub remark: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RebateResponse {
    pub trans_id: String,
    pub partner_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// The partner's rebate balance after the grant.
    #[schema(value_type = f64)]
    pub rebate_amount: YuanNumber,
}

/// Grant a partner an incentive rebate (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/admin/v1/partners/{partner_id}/rebates", tag = "admin",
    params(("partner_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = RebateRequest,
    responses((status = 201, body = RebateResponse), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn grant_rebate(
    State(app): State<AppState>,
    Path(partner_id): Path<String>,
    req: IdempotentJson<RebateRequest>,
) -> ApiResult<(StatusCode, Json<RebateResponse>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let remark = non_empty(req.body.remark.clone());
    max_len("remark", remark.as_deref(), 500)?;
    let key = idem(ADMIN_CALLER, req.key, req.digest);
    let op = GrantRebate {
        partner_id: partner_id.clone(),
        amount,
        remark,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok((
        StatusCode::CREATED,
        Json(RebateResponse {
            trans_id: out.trans_id,
            partner_id,
            amount: YuanNumber(amount.fen()),
            rebate_amount: YuanNumber(out.rebate_balance),
        }),
    ))
}

async fn vendor_move(
    app: &AppState,
    id: String,
    action: WithdrawalAction,
    text: Option<String>,
    key: Option<String>,
    digest: String,
) -> ApiResult<Json<WithdrawalInfo>> {
    let key = idem(ADMIN_CALLER, key, digest);
    let op = MoveWithdrawal {
        id,
        partner: None,
        action,
        text,
    };
    Ok(Json(idempotency::run(app, key.as_ref(), &op).await?.into()))
}

/// Approve a withdrawal pending review (→ `PAYING`). Another state: CBC.99013004.
#[utoipa::path(post, path = "/admin/v1/withdrawals/{withdrawal_id}/approve", tag = "admin",
    params(("withdrawal_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = ReasonRequest,
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn approve_withdrawal(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: IdempotentJson<ReasonRequest>,
) -> ApiResult<Json<WithdrawalInfo>> {
    let note = non_empty(req.body.reason);
    max_len("reason", note.as_deref(), 500)?;
    vendor_move(
        &app,
        id,
        WithdrawalAction::Approve,
        note,
        req.key,
        req.digest,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PaidRequest {
    /// The bank transfer's reference (1–128 characters).
    pub payout_reference: String,
}

/// Record the payout of a `PAYING` withdrawal (→ `PAID`; the hold leaves for the vendor's payouts
/// account). A rebate withdrawal without the partner's invoice reference: CBC.99013006.
#[utoipa::path(post, path = "/admin/v1/withdrawals/{withdrawal_id}/paid", tag = "admin",
    params(("withdrawal_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = PaidRequest,
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn pay_withdrawal(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: IdempotentJson<PaidRequest>,
) -> ApiResult<Json<WithdrawalInfo>> {
    text("payout_reference", &req.body.payout_reference, 128)?;
    let r = Some(req.body.payout_reference);
    vendor_move(&app, id, WithdrawalAction::Paid, r, req.key, req.digest).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RejectRequest {
    /// 1–500 characters.
    pub reason: String,
}

/// Reject a withdrawal pending review or payment (→ `REJECTED`; the hold is released).
#[utoipa::path(post, path = "/admin/v1/withdrawals/{withdrawal_id}/reject", tag = "admin",
    params(("withdrawal_id" = String, Path),
           ("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    request_body = RejectRequest,
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn reject_withdrawal(
    State(app): State<AppState>,
    Path(id): Path<String>,
    req: IdempotentJson<RejectRequest>,
) -> ApiResult<Json<WithdrawalInfo>> {
    text("reason", &req.body.reason, 500)?;
    let r = Some(req.body.reason);
    vendor_move(&app, id, WithdrawalAction::Reject, r, req.key, req.digest).await
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct InvoiceActionRequest {
    /// The invoice number (on `deliver`), up to 64 characters.
    pub invoice_no: Option<String>,
    /// Up to 500 characters.
    pub note: Option<String>,
}

/// Move an invoice: `action` is `issue`, `issue-failed`, `deliver`, `confirm-receipt`, `revoke`,
/// `revoke-failed`, `revoked`, `return`, `return-failed` or `returned`. A transition not allowed
/// from the current state: CBC.99013008 (nothing changes).
#[utoipa::path(post, path = "/admin/v1/invoices/{invoice_id}/{action}", tag = "admin",
    params(("invoice_id" = String, Path), ("action" = String, Path)),
    request_body = InvoiceActionRequest,
    responses((status = 200, body = InvoiceInfo), (status = "4XX", body = ErrorBody)),
    security(("admin" = [])))]
pub async fn move_invoice(
    State(app): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ApiJson(req): ApiJson<InvoiceActionRequest>,
) -> ApiResult<Json<InvoiceInfo>> {
    if !INVOICE_ACTIONS.contains(&action.as_str()) {
        return Err(ApiError::invalid(
            "action",
            format!("must be one of {}", INVOICE_ACTIONS.join(", ")),
        ));
    }
    let no = non_empty(req.invoice_no);
    max_len("invoice_no", no.as_deref(), 64)?;
    let note = non_empty(req.note);
    max_len("note", note.as_deref(), 500)?;
    let v = partner_bills::move_invoice(&app, &id, &action, no.as_deref(), note.as_deref()).await?;
    Ok(Json(invoice_info(v)))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(confirm_recharge))
        .routes(routes!(reject_recharge))
        .routes(routes!(grant_rebate))
        .routes(routes!(approve_withdrawal))
        .routes(routes!(pay_withdrawal))
        .routes(routes!(reject_withdrawal))
        .routes(routes!(move_invoice))
}
