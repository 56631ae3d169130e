//! Partner money out (extension, issue 11): top-ups (recharges), the withdrawable amount,
//! withdrawals (提现) and the repayment of used credit. Amounts are JSON numbers in yuan (at most
//! 2 decimals); money-moving calls accept an `Idempotency-Key`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{max_len, non_empty};
use crate::{
    db::money_out::{RechargeFilter, WithdrawalFilter},
    domain::{money_out::WithdrawalAction, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, IdempotentJson, Paging},
        v2::funding::{parse_amount, YuanNumber},
        ErrorBody,
    },
    ledger::payouts::Pot,
    service::{
        auth::PartnerCaller,
        idempotency::{self, IdemRequest},
        money_out::{
            self as svc, BankAccount, HistoryItem, MoveWithdrawal, NewRecharge, NewWithdrawal,
            Recharge, WithdrawalView,
        },
        partner_bills::CreditRepayment,
    },
    state::AppState,
};

pub(crate) fn idem(caller_id: &str, key: Option<String>, digest: String) -> Option<IdemRequest> {
    key.map(|key| IdemRequest {
        caller_id: caller_id.to_string(),
        key,
        request_hash: digest,
    })
}

/// A required text field: 1..=`max` characters.
pub(crate) fn text(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    max_len(field, Some(v), max)
}

fn one_of(field: &str, v: Option<String>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match non_empty(v) {
        Some(s) if !allowed.contains(&s.as_str()) => Err(ApiError::invalid(
            field,
            format!("must be one of {}", allowed.join(", ")),
        )),
        other => Ok(other),
    }
}

// ---------------------------------------------------------------------------------------------
// Recharges

#[derive(Debug, Deserialize, ToSchema)]
pub struct RechargeRequest {
    /// Yuan, > 0, at most 2 decimals.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    /// `ONLINE` (online payment) | `REMITTANCE` (offline bank remittance).
    pub method: String,
    /// The payment or remittance reference (≤ 128 characters).
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RechargeInfo {
    pub recharge_id: String,
    pub partner_id: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// `ONLINE` | `REMITTANCE`.
    pub method: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `PENDING` | `CONFIRMED` | `REJECTED`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The deposit journal (`SOURCE_OPERAIION_RECHARGE` in the account-change records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trans_id: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    /// Until then the confirmed amount is unposted (未入账): not withdrawable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clears_at: Option<String>,
}

impl From<Recharge> for RechargeInfo {
    fn from(r: Recharge) -> Self {
        RechargeInfo {
            recharge_id: r.id,
            partner_id: r.partner_id,
            amount: YuanNumber(r.amount),
            method: r.method,
            reference: r.reference,
            status: r.status,
            reason: r.reason,
            trans_id: r.trans_id,
            created_at: format_ts(r.created_at),
            confirmed_at: r.confirmed_at.map(format_ts),
            clears_at: r.clears_at.map(format_ts),
        }
    }
}

/// Ask for a top-up (`PENDING` until the vendor confirms it; `Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/recharges", tag = "money-out",
    request_body = RechargeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 201, body = RechargeInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_recharge(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<RechargeRequest>,
) -> ApiResult<(StatusCode, Json<RechargeInfo>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let method = one_of(
        "method",
        Some(req.body.method.clone()),
        &["ONLINE", "REMITTANCE"],
    )?
    .ok_or_else(|| ApiError::invalid("method", "is required"))?;
    let reference = non_empty(req.body.reference.clone());
    max_len("reference", reference.as_deref(), 128)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = NewRecharge {
        caller,
        amount,
        method,
        reference,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok((StatusCode::CREATED, Json(out.into())))
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RechargeListQuery {
    /// `PENDING` | `CONFIRMED` | `REJECTED`.
    pub status: Option<String>,
    /// `ONLINE` | `REMITTANCE`.
    pub method: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RechargeList {
    pub total_count: i64,
    pub recharges: Vec<RechargeInfo>,
}

/// The partner's top-ups, newest first.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/recharges", tag = "money-out",
    params(RechargeListQuery),
    responses((status = 200, body = RechargeList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_recharges(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<RechargeListQuery>,
) -> ApiResult<Json<RechargeList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let f = RechargeFilter {
        status: one_of("status", q.status, &["PENDING", "CONFIRMED", "REJECTED"])?,
        method: one_of("method", q.method, &["ONLINE", "REMITTANCE"])?,
    };
    let (total, rows) = svc::list_recharges(&app, &caller, &f, paging.offset, paging.limit).await?;
    Ok(Json(RechargeList {
        total_count: total,
        recharges: rows.into_iter().map(RechargeInfo::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Withdrawable

#[derive(Debug, Serialize, ToSchema)]
pub struct CashWithdrawable {
    /// 现金金额: the cash balance (pending withdrawals are already held out of it).
    #[schema(value_type = f64)]
    pub cash_amount: YuanNumber,
    /// The designated (专款专用) part of the cash: it never leaves.
    #[schema(value_type = f64)]
    pub designated_amount: YuanNumber,
    /// 欠票金额: refunds in invoiced cycles until the invoice is returned or more is invoiced.
    #[schema(value_type = f64)]
    pub invoice_owed_amount: YuanNumber,
    /// 未入账金额: confirmed top-ups younger than `withdrawals.clearing_days`.
    #[schema(value_type = f64)]
    pub unposted_amount: YuanNumber,
    /// 子用户欠费总额: the arrears of the partner's resale customers.
    #[schema(value_type = f64)]
    pub sub_customer_debt_amount: YuanNumber,
    /// Held by withdrawals pending review or payment.
    #[schema(value_type = f64)]
    pub pending_withdrawal_amount: YuanNumber,
    /// cash − designated − invoice owed − unposted − arrears, at least 0.
    #[schema(value_type = f64)]
    pub withdrawable_amount: YuanNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RebateWithdrawable {
    /// The incentive rebate balance (pending rebate withdrawals already held out).
    #[schema(value_type = f64)]
    pub rebate_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub pending_withdrawal_amount: YuanNumber,
    #[schema(value_type = f64)]
    pub withdrawable_amount: YuanNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawableResponse {
    pub currency: String,
    pub cash: CashWithdrawable,
    pub rebate: RebateWithdrawable,
}

/// What the partner can withdraw, with every term of the formula
/// 可提现金额 = 现金金额 − 欠票金额 − 未入账金额 − 子用户欠费总额.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/withdrawable", tag = "money-out",
    responses((status = 200, body = WithdrawableResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_withdrawable(
    State(app): State<AppState>,
    caller: PartnerCaller,
) -> ApiResult<Json<WithdrawableResponse>> {
    let w = svc::withdrawable(&app, &caller).await?;
    let c = w.cash;
    Ok(Json(WithdrawableResponse {
        currency: "CNY".into(),
        cash: CashWithdrawable {
            cash_amount: YuanNumber(c.cash),
            designated_amount: YuanNumber(c.designated),
            invoice_owed_amount: YuanNumber(c.invoice_owed),
            unposted_amount: YuanNumber(c.unposted),
            sub_customer_debt_amount: YuanNumber(c.sub_customer_debt),
            pending_withdrawal_amount: YuanNumber(c.pending),
            withdrawable_amount: YuanNumber(c.withdrawable()),
        },
        rebate: RebateWithdrawable {
            rebate_amount: YuanNumber(w.rebate.rebate),
            pending_withdrawal_amount: YuanNumber(w.rebate.pending),
            withdrawable_amount: YuanNumber(w.rebate.withdrawable()),
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// Withdrawals

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct BankAccountInfo {
    pub account_name: String,
    pub account_no: String,
    pub bank_name: String,
    pub branch: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WithdrawalRequest {
    /// `CASH` | `REBATE`.
    pub withdrawal_type: String,
    /// Yuan, > 0, at most 2 decimals, at most the withdrawable amount (else CBC.99013005).
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
    pub bank_account: BankAccountInfo,
    /// Required when the partner named a verification mobile (`…/withdrawal-settings`): the
    /// code sent to it with send-verification-code (scene 29).
    pub verification_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_status: Option<String>,
    pub to_status: String,
    /// The operator or partner id, or `vendor`.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created_at: String,
}

impl From<HistoryItem> for HistoryEntry {
    fn from(h: HistoryItem) -> Self {
        HistoryEntry {
            from_status: h.from_status,
            to_status: h.to_status,
            actor: h.actor,
            note: h.note,
            created_at: format_ts(h.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalInfo {
    pub withdrawal_id: String,
    pub partner_id: String,
    /// `CASH` | `REBATE`.
    pub withdrawal_type: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// `PENDING_REVIEW` | `PAYING` | `PAID` | `REJECTED` | `CANCELLED`.
    pub status: String,
    pub bank_account: BankAccountInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebate_invoice_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// The journal that holds the amount.
    pub hold_trans_id: String,
    /// The journal that paid it out or released it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settle_trans_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every state change, oldest first (the detail only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

impl From<WithdrawalView> for WithdrawalInfo {
    fn from(w: WithdrawalView) -> Self {
        WithdrawalInfo {
            withdrawal_id: w.id,
            partner_id: w.partner_id,
            withdrawal_type: w.withdrawal_type,
            amount: YuanNumber(w.amount),
            status: w.status,
            bank_account: BankAccountInfo {
                account_name: w.account_name,
                account_no: w.account_no,
                bank_name: w.bank_name,
                branch: w.branch,
            },
            rebate_invoice_reference: w.rebate_invoice_reference,
            payout_reference: w.payout_reference,
            reject_reason: w.reject_reason,
            hold_trans_id: w.hold_trans_id,
            settle_trans_id: w.settle_trans_id,
            created_at: format_ts(w.created_at),
            updated_at: format_ts(w.updated_at),
            history: w.history.into_iter().map(HistoryEntry::from).collect(),
        }
    }
}

/// Ask to withdraw cash or rebates: `201` in `PENDING_REVIEW` with the amount held in the ledger
/// at once (`Idempotency-Key` supported). Supervisors and customer managers get 403 CBC.0151.
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/withdrawals", tag = "money-out",
    request_body = WithdrawalRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 201, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_withdrawal(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<WithdrawalRequest>,
) -> ApiResult<(StatusCode, Json<WithdrawalInfo>)> {
    let pot = match req.body.withdrawal_type.as_str() {
        "CASH" => Pot::Cash,
        "REBATE" => Pot::Rebate,
        _ => {
            return Err(ApiError::invalid(
                "withdrawal_type",
                "must be CASH or REBATE",
            ))
        }
    };
    let amount = parse_amount("amount", &req.body.amount)?;
    let b = &req.body.bank_account;
    text("bank_account.account_name", &b.account_name, 128)?;
    text("bank_account.account_no", &b.account_no, 64)?;
    text("bank_account.bank_name", &b.bank_name, 128)?;
    let branch = non_empty(b.branch.clone());
    max_len("bank_account.branch", branch.as_deref(), 128)?;
    max_len(
        "verification_code",
        req.body.verification_code.as_deref(),
        16,
    )?;
    let bank = BankAccount {
        account_name: b.account_name.clone(),
        account_no: b.account_no.clone(),
        bank_name: b.bank_name.clone(),
        branch,
    };
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = NewWithdrawal {
        caller,
        pot,
        amount,
        bank,
        verification_code: non_empty(req.body.verification_code.clone()),
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok((StatusCode::CREATED, Json(out.into())))
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WithdrawalListQuery {
    /// `PENDING_REVIEW` | `PAYING` | `PAID` | `REJECTED` | `CANCELLED`.
    pub status: Option<String>,
    /// `CASH` | `REBATE`.
    pub withdrawal_type: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalList {
    pub total_count: i64,
    pub withdrawals: Vec<WithdrawalInfo>,
}

pub const WITHDRAWAL_STATES: &[&str] =
    &["PENDING_REVIEW", "PAYING", "PAID", "REJECTED", "CANCELLED"];

/// The partner's withdrawals (deleted ones left out), newest first.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/withdrawals", tag = "money-out",
    params(WithdrawalListQuery),
    responses((status = 200, body = WithdrawalList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_withdrawals(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<WithdrawalListQuery>,
) -> ApiResult<Json<WithdrawalList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let f = WithdrawalFilter {
        status: one_of("status", q.status, WITHDRAWAL_STATES)?,
        withdrawal_type: one_of("withdrawal_type", q.withdrawal_type, &["CASH", "REBATE"])?,
    };
    let (total, rows) =
        svc::list_withdrawals(&app, &caller, &f, paging.offset, paging.limit).await?;
    Ok(Json(WithdrawalList {
        total_count: total,
        withdrawals: rows.into_iter().map(WithdrawalInfo::from).collect(),
    }))
}

/// One withdrawal with its history.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}", tag = "money-out",
    params(("withdrawal_id" = String, Path)),
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_withdrawal(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<WithdrawalInfo>> {
    Ok(Json(svc::show_withdrawal(&app, &caller, &id).await?.into()))
}

async fn partner_move(
    app: &AppState,
    caller: PartnerCaller,
    id: String,
    action: WithdrawalAction,
    text: Option<String>,
) -> ApiResult<WithdrawalView> {
    let op = MoveWithdrawal {
        id,
        partner: Some(caller),
        action,
        text,
    };
    idempotency::run(app, None, &op).await
}

/// Delete a rejected or cancelled withdrawal from the lists (a pending or paid one:
/// CBC.99013004).
#[utoipa::path(delete, path = "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}", tag = "money-out",
    params(("withdrawal_id" = String, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn delete_withdrawal(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    partner_move(&app, caller, id, WithdrawalAction::Delete, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel a withdrawal pending review: the hold is released.
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}/cancel", tag = "money-out",
    params(("withdrawal_id" = String, Path)),
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn cancel_withdrawal(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<WithdrawalInfo>> {
    let w = partner_move(&app, caller, id, WithdrawalAction::Cancel, None).await?;
    Ok(Json(w.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoiceReferenceRequest {
    /// The partner's invoice to the vendor for a rebate withdrawal (1–128 characters).
    pub invoice_reference: String,
}

/// Attach the partner's invoice to a rebate withdrawal (needed before it is paid).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}/invoice-reference", tag = "money-out",
    params(("withdrawal_id" = String, Path)), request_body = InvoiceReferenceRequest,
    responses((status = 200, body = WithdrawalInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn attach_withdrawal_invoice(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<InvoiceReferenceRequest>,
) -> ApiResult<Json<WithdrawalInfo>> {
    text("invoice_reference", &req.invoice_reference, 128)?;
    let w = partner_move(
        &app,
        caller,
        id,
        WithdrawalAction::AttachInvoice,
        Some(req.invoice_reference),
    )
    .await?;
    Ok(Json(w.into()))
}

// ---------------------------------------------------------------------------------------------
// Credit repayment

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreditRepaymentRequest {
    /// Yuan, > 0, at most the credit in use (else CBC.99013015) and the cash above its floor.
    #[schema(value_type = f64)]
    pub amount: serde_json::Number,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditRepaymentResponse {
    pub trans_id: String,
    /// The credit still in use after the repayment.
    #[schema(value_type = f64)]
    pub credit_used_amount: YuanNumber,
}

/// Repay used credit from the partner's cash through the ledger (`Idempotency-Key` supported).
#[utoipa::path(post, path = "/v2/accounts/partner-accounts/credit-repayments", tag = "money-out",
    request_body = CreditRepaymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 201, body = CreditRepaymentResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn repay_credit(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<CreditRepaymentRequest>,
) -> ApiResult<(StatusCode, Json<CreditRepaymentResponse>)> {
    let amount = parse_amount("amount", &req.body.amount)?;
    let key = idem(&caller.account_id, req.key, req.digest);
    let out = idempotency::run(&app, key.as_ref(), &CreditRepayment { caller, amount }).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreditRepaymentResponse {
            trans_id: out.trans_id,
            credit_used_amount: YuanNumber(out.credit_used),
        }),
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct WithdrawalSettings {
    /// The mobile a withdrawal's verification code is sent to; `null` disables verification.
    pub verification_mobile: Option<String>,
}

/// The partner's withdrawal verification setting.
#[utoipa::path(get, path = "/v2/accounts/partner-accounts/withdrawal-settings", tag = "money-out",
    responses((status = 200, body = WithdrawalSettings), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_withdrawal_settings(
    State(app): State<AppState>,
    caller: PartnerCaller,
) -> ApiResult<Json<WithdrawalSettings>> {
    Ok(Json(WithdrawalSettings {
        verification_mobile: svc::verification_mobile(&app, &caller).await?,
    }))
}

/// Enable (a mobile, 5–32 characters) or disable (`null`) withdrawal verification (the partner's
/// main account only).
#[utoipa::path(put, path = "/v2/accounts/partner-accounts/withdrawal-settings", tag = "money-out",
    request_body = WithdrawalSettings,
    responses((status = 200, body = WithdrawalSettings), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_withdrawal_settings(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<WithdrawalSettings>,
) -> ApiResult<Json<WithdrawalSettings>> {
    let mobile = non_empty(req.verification_mobile);
    if let Some(m) = &mobile {
        if m.len() < 5 || !m.chars().all(|c| c.is_ascii_digit() || c == '+') {
            return Err(ApiError::invalid(
                "verification_mobile",
                "must be a mobile number",
            ));
        }
        max_len("verification_mobile", Some(m), 32)?;
    }
    svc::set_verification_mobile(&app, &caller, mobile.as_deref()).await?;
    Ok(Json(WithdrawalSettings {
        verification_mobile: mobile,
    }))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(create_recharge, list_recharges))
        .routes(routes!(show_withdrawable))
        .routes(routes!(create_withdrawal, list_withdrawals))
        .routes(routes!(show_withdrawal, delete_withdrawal))
        .routes(routes!(cancel_withdrawal))
        .routes(routes!(attach_withdrawal_invoice))
        .routes(routes!(repay_credit))
        .routes(routes!(
            show_withdrawal_settings,
            update_withdrawal_settings
        ))
}
