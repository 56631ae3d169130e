//! The partner bill (伙伴账单) and invoices (extension, issue 11). Amounts are JSON numbers in
//! yuan.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    max_len,
    money_out::{idem, text, HistoryEntry},
    non_empty,
};
use crate::{
    db::partner_bills::BillLine,
    domain::{money_out::INVOICE_STATES, time::format_ts},
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiQuery, IdempotentJson, Paging},
        v2::funding::YuanNumber,
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        idempotency,
        partner_bills::{self as svc, CycleBill, InvoiceView, NewInvoice},
    },
    state::AppState,
};

/// `YYYY-MM` → the first day of that month.
fn parse_cycle(field: &str, v: Option<String>) -> Result<NaiveDate, ApiError> {
    let s = non_empty(v).ok_or_else(|| ApiError::invalid(field, "is required"))?;
    if s.len() != 7 {
        return Err(ApiError::invalid(field, "must be YYYY-MM"));
    }
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be YYYY-MM"))
}

fn cycle_text(c: NaiveDate) -> String {
    c.format("%Y-%m").to_string()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerBillLine {
    /// The cycle the consumption belongs to: this cycle, or (an adjustment) an earlier posted one.
    pub origin_cycle: String,
    pub is_adjustment: bool,
    pub service_type_code: String,
    /// 3 pay-per-use.
    pub charging_mode: i16,
    /// 1 consumption, 2 refund, 3 adjustment.
    pub bill_type: i16,
    #[schema(value_type = f64)]
    pub payable_amount: YuanNumber,
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
    #[schema(value_type = f64)]
    pub writeoff_amount: YuanNumber,
    /// Paid from partner-allocated funds: payable − coupons − stored-value cards.
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
}

fn line(cycle: NaiveDate, l: BillLine) -> PartnerBillLine {
    PartnerBillLine {
        origin_cycle: cycle_text(l.origin_cycle),
        is_adjustment: l.origin_cycle != cycle,
        service_type_code: l.service_type_code,
        charging_mode: l.charging_mode,
        bill_type: l.bill_type,
        payable_amount: YuanNumber(l.payable),
        coupon_amount: YuanNumber(l.coupon),
        flexipurchase_coupon_amount: YuanNumber(l.cash_coupon),
        stored_value_card_amount: YuanNumber(l.card),
        cash_amount: YuanNumber(l.cash),
        credit_amount: YuanNumber(l.credit),
        debt_amount: YuanNumber(l.debt),
        writeoff_amount: YuanNumber(l.writeoff),
        amount: YuanNumber(l.amount),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerBill {
    /// `YYYY-MM` (UTC+8).
    pub bill_cycle: String,
    /// `OPEN` during the month (and until the 5th 12:00 UTC+8 of the next) | `POSTED` (immutable).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// Σ of the lines' `amount` (own consumption and adjustments).
    #[schema(value_type = f64)]
    pub total_amount: YuanNumber,
    /// Σ of the adjustment lines (late corrections of earlier posted cycles).
    #[schema(value_type = f64)]
    pub adjustment_amount: YuanNumber,
    /// Whether a live invoice covers the cycle.
    pub invoiced: bool,
    /// The partner's credit in use now, to be repaid (`POST …/credit-repayments`).
    #[schema(value_type = f64)]
    pub credit_used_amount: YuanNumber,
    pub lines: Vec<PartnerBillLine>,
}

fn bill(b: CycleBill) -> PartnerBill {
    let total = b.amount();
    let cycle = b.cycle;
    let adjustment = b
        .lines
        .iter()
        .filter(|l| l.origin_cycle != cycle)
        .map(|l| l.amount)
        .sum();
    PartnerBill {
        bill_cycle: cycle_text(cycle),
        status: b.status.into(),
        posted_at: b.posted_at.map(format_ts),
        total_amount: YuanNumber(total),
        adjustment_amount: YuanNumber(adjustment),
        invoiced: b.invoiced,
        credit_used_amount: YuanNumber(b.credit_used),
        lines: b.lines.into_iter().map(|l| line(cycle, l)).collect(),
    }
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerBillQuery {
    /// `YYYY-MM`, required.
    pub bill_cycle: Option<String>,
}

/// The partner bill of one cycle: the resale customers' consumption paid from partner-allocated
/// funds, by service type, charging mode and bill type, with its payment split.
#[utoipa::path(get, path = "/v2/bills/partner-bills", tag = "money-out", params(PartnerBillQuery),
    responses((status = 200, body = PartnerBill), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_partner_bill(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<PartnerBillQuery>,
) -> ApiResult<Json<PartnerBill>> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    Ok(Json(bill(svc::show(&app, &caller, cycle).await?)))
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerBillList {
    pub total_count: i64,
    pub bills: Vec<PartnerBill>,
}

/// The partner's bill cycles, newest first (open and posted).
#[utoipa::path(get, path = "/v2/bills/partner-bills/cycles", tag = "money-out", params(PageQuery),
    responses((status = 200, body = PartnerBillList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_partner_bills(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<PartnerBillList>> {
    let paging = Paging::new(q.offset, q.limit, 10_000)?;
    let (total, rows) = svc::list_cycles(&app, &caller, paging.offset, paging.limit).await?;
    Ok(Json(PartnerBillList {
        total_count: total,
        bills: rows.into_iter().map(bill).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoiceRequest {
    /// Posted cycles (`YYYY-MM`, 1–12, distinct); or `order_ids`.
    pub bill_cycles: Option<Vec<String>>,
    /// Orders to invoice: not supported (invoices are per posted bill cycle, which holds the
    /// orders paid in it); any id is CBC.99013014.
    pub order_ids: Option<Vec<String>>,
    /// `VAT_NORMAL` | `VAT_SPECIAL`.
    pub invoice_type: String,
    /// Special: `PAPER` | `DIGITAL`; normal: `PAPER` | `ELECTRONIC` (else CBC.99013010).
    pub medium: String,
    /// `ENTERPRISE` | `INDIVIDUAL` (a special invoice needs `ENTERPRISE`: CBC.99013009).
    pub title_type: String,
    /// 1–128 characters.
    pub title: String,
    /// Required for an enterprise title (CBC.99013016).
    pub tax_id: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceCycle {
    pub bill_cycle: String,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceInfo {
    pub invoice_id: String,
    pub partner_id: String,
    pub invoice_type: String,
    pub medium: String,
    pub title_type: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[schema(value_type = f64)]
    pub amount: YuanNumber,
    /// `DRAFT` → `ISSUING` (`ISSUE_FAILED`) → `PENDING_RECEIPT` → `ISSUED`; `REVOKING`
    /// (`REVOKE_FAILED`) → `REVOKED`; `RETURNING` (`RETURN_FAILED`) → `RETURNED`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_no: Option<String>,
    pub bill_cycles: Vec<InvoiceCycle>,
    pub created_at: String,
    pub updated_at: String,
    pub history: Vec<HistoryEntry>,
}

pub fn invoice_info(v: InvoiceView) -> InvoiceInfo {
    InvoiceInfo {
        invoice_id: v.id,
        partner_id: v.partner_id,
        invoice_type: v.invoice_type,
        medium: v.medium,
        title_type: v.title_type,
        title: v.title,
        tax_id: v.tax_id,
        address: v.address,
        amount: YuanNumber(v.amount),
        status: v.status,
        invoice_no: v.invoice_no,
        bill_cycles: v
            .bill_cycles
            .into_iter()
            .map(|(c, a)| InvoiceCycle {
                bill_cycle: cycle_text(c),
                amount: YuanNumber(a),
            })
            .collect(),
        created_at: format_ts(v.created_at),
        updated_at: format_ts(v.updated_at),
        history: v.history.into_iter().map(HistoryEntry::from).collect(),
    }
}

fn choice(field: &str, v: &str, allowed: &[&str]) -> Result<String, ApiError> {
    if allowed.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be one of {}", allowed.join(", ")),
        ))
    }
}

/// Request an invoice for posted cycles (`DRAFT`; the vendor moves it on). A cycle is invoiced
/// once (CBC.99013011) while its invoice is not revoked or returned.
#[utoipa::path(post, path = "/v2/bills/partner-bills/invoices", tag = "money-out",
    request_body = InvoiceRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replay-safe retries")),
    responses((status = 201, body = InvoiceInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_invoice(
    State(app): State<AppState>,
    caller: PartnerCaller,
    req: IdempotentJson<InvoiceRequest>,
) -> ApiResult<(StatusCode, Json<InvoiceInfo>)> {
    let b = &req.body;
    let invoice_type = choice(
        "invoice_type",
        &b.invoice_type,
        &["VAT_NORMAL", "VAT_SPECIAL"],
    )?;
    let medium = choice("medium", &b.medium, &["PAPER", "ELECTRONIC", "DIGITAL"])?;
    let title_type = choice("title_type", &b.title_type, &["ENTERPRISE", "INDIVIDUAL"])?;
    text("title", &b.title, 128)?;
    let tax_id = non_empty(b.tax_id.clone());
    max_len("tax_id", tax_id.as_deref(), 32)?;
    let address = non_empty(b.address.clone());
    max_len("address", address.as_deref(), 256)?;
    let order_ids = b.order_ids.clone().unwrap_or_default();
    let raw_cycles = b.bill_cycles.clone().unwrap_or_default();
    if raw_cycles.is_empty() == order_ids.is_empty() {
        return Err(ApiError::invalid(
            "bill_cycles",
            "give either bill_cycles or order_ids (not both)",
        ));
    }
    if raw_cycles.len() > 12 || order_ids.len() > 12 {
        return Err(ApiError::invalid("bill_cycles", "at most 12 items"));
    }
    let mut bill_cycles = Vec::new();
    for c in raw_cycles {
        let c = parse_cycle("bill_cycles", Some(c))?;
        if bill_cycles.contains(&c) {
            return Err(ApiError::invalid("bill_cycles", "must be distinct"));
        }
        bill_cycles.push(c);
    }
    for o in &order_ids {
        text("order_ids", o, 64)?;
    }
    let key = idem(&caller.account_id, req.key, req.digest);
    let op = NewInvoice {
        caller,
        bill_cycles,
        order_ids,
        invoice_type,
        medium,
        title_type,
        title: b.title.clone(),
        tax_id,
        address,
    };
    let out = idempotency::run(&app, key.as_ref(), &op).await?;
    Ok((StatusCode::CREATED, Json(invoice_info(out))))
}

#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListQuery {
    /// One of the invoice states.
    pub status: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    pub total_count: i64,
    pub invoices: Vec<InvoiceInfo>,
}

/// The partner's invoices, newest first.
#[utoipa::path(get, path = "/v2/bills/partner-bills/invoices", tag = "money-out",
    params(InvoiceListQuery),
    responses((status = 200, body = InvoiceList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_invoices(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<InvoiceListQuery>,
) -> ApiResult<Json<InvoiceList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if let Some(s) = &status {
        choice("status", s, INVOICE_STATES)?;
    }
    let (total, rows) = svc::list_invoices(
        &app,
        &caller,
        status.as_deref(),
        paging.offset,
        paging.limit,
    )
    .await?;
    Ok(Json(InvoiceList {
        total_count: total,
        invoices: rows.into_iter().map(invoice_info).collect(),
    }))
}

/// One invoice with its cycles and history.
#[utoipa::path(get, path = "/v2/bills/partner-bills/invoices/{invoice_id}", tag = "money-out",
    params(("invoice_id" = String, Path)),
    responses((status = 200, body = InvoiceInfo), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_invoice(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceInfo>> {
    Ok(Json(invoice_info(
        svc::show_invoice(&app, &caller, &id).await?,
    )))
}

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(show_partner_bill))
        .routes(routes!(list_partner_bills))
        .routes(routes!(create_invoice, list_invoices))
        .routes(routes!(show_invoice))
}
