//! The partner bill (伙伴账单) and invoices (issue 11).
//!
//! A cycle (a month in UTC+8) sums the consumption of the partner's resale customers paid from
//! partner-allocated funds (`bill_sum`, maintained in the charge's transaction). It is `OPEN`
//! during the month and `POSTED` from the 5th 12:00 UTC+8 of the next month (app clock): posting
//! writes an immutable snapshot. What changes a posted cycle afterwards (late usage, refunds
//! booked into it) is carried as adjustment lines (`origin_cycle` = the posted cycle) into the next
//! open cycle. Posting is lazy: every read or invoice request first posts what is due.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    db::{
        self,
        money_out::{EventRow, EventTable},
        partner_bills::{BillLine, InvoiceRow, PostedBill},
    },
    domain::{
        ids::new_trans_id,
        money_out::{
            check_invoice, cycle_of, invoice_next, invoice_released, next_cycle, posting_time,
            InvoiceRuleError,
        },
        Amount,
    },
    error::{codes, is_constraint, ApiError, ApiResult},
    ledger::{self, Entry, JournalKind},
    service::{auth::PartnerCaller, idempotency::Effect, money_out::HistoryItem},
    state::App,
};

/// Posts every cycle of the partner that is due by the app clock and not yet posted; returns the
/// posted bills (ascending).
pub async fn ensure_posted(
    app: &App,
    conn: &mut PgConnection,
    partner_id: &str,
) -> ApiResult<Vec<PostedBill>> {
    let now = app.now();
    let mut posted = db::partner_bills::posted_bills(conn, partner_id).await?;
    let due = |posted: &[PostedBill], first: Option<NaiveDate>| {
        let mut c = posted.last().map(|b| next_cycle(b.cycle)).or(first);
        let mut out = Vec::new();
        while let Some(cycle) = c.filter(|c| posting_time(*c) <= now) {
            out.push(cycle);
            c = Some(next_cycle(cycle));
        }
        out
    };
    let first = db::partner_bills::first_cycle(conn, partner_id).await?;
    if due(&posted, first).is_empty() {
        return Ok(posted);
    }
    db::partner_bills::lock_posting(conn, partner_id).await?;
    posted = db::partner_bills::posted_bills(conn, partner_id).await?;
    for cycle in due(&posted, first) {
        let mut lines = db::partner_bills::live_lines(conn, partner_id, &[cycle]).await?;
        lines.extend(adjustments(conn, partner_id, &posted).await?);
        db::partner_bills::insert_posted(conn, partner_id, cycle, now, &lines).await?;
        posted.push(PostedBill {
            cycle,
            posted_at: now,
            amount: lines.iter().map(|l| l.amount).sum(),
        });
    }
    Ok(posted)
}

type LineKey = (NaiveDate, String, i16, i16);

fn key(l: &BillLine) -> LineKey {
    (
        l.origin_cycle,
        l.service_type_code.clone(),
        l.charging_mode,
        l.bill_type,
    )
}

fn add(a: &mut BillLine, b: &BillLine, sign: i64) {
    a.payable += sign * b.payable;
    a.coupon += sign * b.coupon;
    a.cash_coupon += sign * b.cash_coupon;
    a.card += sign * b.card;
    a.cash += sign * b.cash;
    a.credit += sign * b.credit;
    a.debt += sign * b.debt;
    a.writeoff += sign * b.writeoff;
    a.amount += sign * b.amount;
}

fn is_zero(l: &BillLine) -> bool {
    [
        l.payable,
        l.coupon,
        l.cash_coupon,
        l.card,
        l.cash,
        l.credit,
        l.debt,
        l.writeoff,
        l.amount,
    ]
    .iter()
    .all(|v| *v == 0)
}

/// What the posted cycles' live sums hold beyond everything already posted with them as origin:
/// the late corrections the next open cycle carries.
async fn adjustments(
    conn: &mut PgConnection,
    partner_id: &str,
    posted: &[PostedBill],
) -> ApiResult<Vec<BillLine>> {
    if posted.is_empty() {
        return Ok(Vec::new());
    }
    let cycles: Vec<NaiveDate> = posted.iter().map(|b| b.cycle).collect();
    let live = db::partner_bills::live_lines(conn, partner_id, &cycles).await?;
    let snap = db::partner_bills::snapshot_lines(conn, partner_id, &cycles, true).await?;
    let mut diff: BTreeMap<LineKey, BillLine> = BTreeMap::new();
    for (lines, sign) in [(&live, 1), (&snap, -1)] {
        for l in lines.iter() {
            let e = diff.entry(key(l)).or_insert_with(|| BillLine {
                payable: 0,
                coupon: 0,
                cash_coupon: 0,
                card: 0,
                cash: 0,
                credit: 0,
                debt: 0,
                writeoff: 0,
                amount: 0,
                ..l.clone()
            });
            add(e, l, sign);
        }
    }
    Ok(diff.into_values().filter(|l| !is_zero(l)).collect())
}

/// One cycle of the partner bill.
#[derive(Debug, Clone)]
pub struct CycleBill {
    pub cycle: NaiveDate,
    /// `OPEN` | `POSTED`.
    pub status: &'static str,
    pub posted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub lines: Vec<BillLine>,
    pub invoiced: bool,
    /// The partner's used credit now (to be repaid), fen.
    pub credit_used: i64,
}

impl CycleBill {
    pub fn amount(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

async fn cycle_bill(
    conn: &mut PgConnection,
    partner_id: &str,
    cycle: NaiveDate,
    posted: &[PostedBill],
    invoiced: &[NaiveDate],
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<CycleBill> {
    let money = ledger::partner_money(conn, partner_id).await?;
    let mut bill = CycleBill {
        cycle,
        status: "OPEN",
        posted_at: None,
        lines: Vec::new(),
        invoiced: invoiced.contains(&cycle),
        credit_used: (money.credit_limit - money.credit).max(0),
    };
    if let Some(p) = posted.iter().find(|b| b.cycle == cycle) {
        bill.status = "POSTED";
        bill.posted_at = Some(p.posted_at);
        bill.lines = db::partner_bills::snapshot_lines(conn, partner_id, &[cycle], false).await?;
    } else if posting_time(cycle) <= now {
        // Before the partner's first consumption: posted, and empty.
        bill.status = "POSTED";
        bill.posted_at = Some(posting_time(cycle));
    } else {
        bill.lines = db::partner_bills::live_lines(conn, partner_id, &[cycle]).await?;
        let first_open = posted.last().map(|b| next_cycle(b.cycle));
        if first_open == Some(cycle) {
            bill.lines
                .extend(adjustments(conn, partner_id, posted).await?);
        }
    }
    Ok(bill)
}

/// The partner bill of one cycle.
pub async fn show(app: &App, caller: &PartnerCaller, cycle: NaiveDate) -> ApiResult<CycleBill> {
    let mut tx = app.db.begin().await?;
    let posted = ensure_posted(app, &mut tx, &caller.account_id).await?;
    let invoiced = db::partner_bills::invoiced_cycles(&mut tx, &caller.account_id).await?;
    let bill = cycle_bill(
        &mut tx,
        &caller.account_id,
        cycle,
        &posted,
        &invoiced,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(bill)
}

/// The partner's cycles, newest first: the open ones (from the one after the last posted up to
/// the current month) and the posted ones.
pub async fn list_cycles(
    app: &App,
    caller: &PartnerCaller,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<CycleBill>)> {
    let mut tx = app.db.begin().await?;
    let p = &caller.account_id;
    let posted = ensure_posted(app, &mut tx, p).await?;
    let now = app.now();
    let mut cycles: Vec<NaiveDate> = posted.iter().map(|b| b.cycle).collect();
    let first = db::partner_bills::first_cycle(&mut tx, p).await?;
    let mut c = posted.last().map(|b| next_cycle(b.cycle)).or(first);
    while let Some(cycle) = c.filter(|c| *c <= cycle_of(now)) {
        cycles.push(cycle);
        c = Some(next_cycle(cycle));
    }
    cycles.reverse();
    let invoiced = db::partner_bills::invoiced_cycles(&mut tx, p).await?;
    let mut out = Vec::new();
    for cycle in cycles.iter().skip(offset as usize).take(limit as usize) {
        out.push(cycle_bill(&mut tx, p, *cycle, &posted, &invoiced, now).await?);
    }
    tx.commit().await?;
    Ok((cycles.len() as i64, out))
}

/// 欠票 of a partner (fen): refunds given back of invoiced cycles' charges, booked into cycles no
/// live invoice covers.
pub async fn invoice_owed(conn: &mut PgConnection, partner_id: &str) -> ApiResult<i64> {
    let invoiced = db::partner_bills::invoiced_cycles(conn, partner_id).await?;
    Ok(
        db::partner_bills::refunds_of_invoiced(conn, partner_id, &invoiced)
            .await?
            .max(0),
    )
}

/// An invoice request of the partner.
pub struct NewInvoice {
    pub caller: PartnerCaller,
    pub bill_cycles: Vec<NaiveDate>,
    pub order_ids: Vec<String>,
    pub invoice_type: String,
    pub medium: String,
    pub title_type: String,
    pub title: String,
    pub tax_id: Option<String>,
    pub address: Option<String>,
}

/// An invoice with its cycles and history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvoiceView {
    pub id: String,
    pub partner_id: String,
    pub invoice_type: String,
    pub medium: String,
    pub title_type: String,
    pub title: String,
    pub tax_id: Option<String>,
    pub address: Option<String>,
    pub amount: i64,
    pub status: String,
    pub invoice_no: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub bill_cycles: Vec<(NaiveDate, i64)>,
    pub history: Vec<HistoryItem>,
}

pub async fn view(conn: &mut PgConnection, i: InvoiceRow) -> ApiResult<InvoiceView> {
    let bill_cycles = db::partner_bills::invoice_cycles(conn, &i.id).await?;
    let history = db::money_out::events(conn, EventTable::Invoice, &i.id)
        .await?
        .into_iter()
        .map(HistoryItem::from)
        .collect();
    Ok(InvoiceView {
        id: i.id,
        partner_id: i.partner_id,
        invoice_type: i.invoice_type,
        medium: i.medium,
        title_type: i.title_type,
        title: i.title,
        tax_id: i.tax_id,
        address: i.address,
        amount: i.amount,
        status: i.status,
        invoice_no: i.invoice_no,
        created_at: i.created_at,
        updated_at: i.updated_at,
        bill_cycles,
        history,
    })
}

fn already_invoiced() -> ApiError {
    ApiError::business(
        codes::ALREADY_INVOICED,
        "The bill cycle is already invoiced (an amount can be invoiced once).",
    )
}

impl Effect for NewInvoice {
    type Output = InvoiceView;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<InvoiceView> {
        check_invoice(
            &self.invoice_type,
            &self.medium,
            &self.title_type,
            self.tax_id.as_deref(),
        )
        .map_err(|e| match e {
            InvoiceRuleError::SpecialNeedsEnterprise => ApiError::business(
                codes::INVOICE_SPECIAL_NEEDS_ENTERPRISE,
                "A special VAT invoice needs an enterprise title.",
            ),
            InvoiceRuleError::EnterpriseNeedsTaxId => ApiError::business(
                codes::INVOICE_TAX_ID_REQUIRED,
                "An enterprise title needs a tax_id.",
            ),
            InvoiceRuleError::MediumNotAllowed => ApiError::business(
                codes::INVOICE_MEDIUM_NOT_ALLOWED,
                "The medium is not allowed for this invoice type (special: PAPER or DIGITAL; normal: PAPER or ELECTRONIC).",
            ),
        })?;
        if let Some(o) = self.order_ids.first() {
            // Invoices are issued per posted bill cycle only: an order's amount is in the
            // partner's bill of the cycle it was paid in, so invoicing it alone could invoice it
            // twice.
            return Err(ApiError::business(
                codes::ORDER_NOT_FOUND,
                format!(
                    "Order {o} cannot be invoiced by itself: invoice the bill cycle it was paid in."
                ),
            ));
        }
        let p = &self.caller.account_id;
        let posted = ensure_posted(app, conn, p).await?;
        let invoiced = db::partner_bills::invoiced_cycles(conn, p).await?;
        let mut items = Vec::new();
        for cycle in &self.bill_cycles {
            let posted_amount = posted
                .iter()
                .find(|b| b.cycle == *cycle)
                .map(|b| b.amount)
                // Due but before the partner's first consumption: posted and empty.
                .or_else(|| (posting_time(*cycle) <= app.now()).then_some(0));
            let Some(amount) = posted_amount else {
                return Err(ApiError::business(
                    codes::CYCLE_NOT_POSTED,
                    format!(
                        "The bill cycle {} is not posted yet (only posted cycles are invoiced).",
                        cycle.format("%Y-%m")
                    ),
                ));
            };
            if invoiced.contains(cycle) {
                return Err(already_invoiced());
            }
            if amount <= 0 {
                return Err(ApiError::business(
                    codes::NOTHING_TO_INVOICE,
                    format!(
                        "The bill cycle {} has no amount to invoice.",
                        cycle.format("%Y-%m")
                    ),
                ));
            }
            items.push((*cycle, amount));
        }
        let at = app.now();
        let row = InvoiceRow {
            id: new_trans_id("IV", at),
            partner_id: p.clone(),
            operator_id: self.caller.actor_id().to_string(),
            invoice_type: self.invoice_type.clone(),
            medium: self.medium.clone(),
            title_type: self.title_type.clone(),
            title: self.title.clone(),
            tax_id: self.tax_id.clone(),
            address: self.address.clone(),
            amount: items.iter().map(|(_, a)| a).sum(),
            status: "DRAFT".into(),
            invoice_no: None,
            created_at: at,
            updated_at: at,
        };
        db::partner_bills::insert_invoice(conn, &row, &items)
            .await
            .map_err(|e| {
                if is_constraint(&e, "invoice_item_once") {
                    already_invoiced()
                } else {
                    e.into()
                }
            })?;
        let e = EventRow {
            from_status: None,
            to_status: "DRAFT".into(),
            actor: self.caller.actor_id().to_string(),
            note: None,
            created_at: at,
        };
        db::money_out::insert_event(conn, EventTable::Invoice, &row.id, &e).await?;
        view(conn, row).await
    }
}

fn no_invoice() -> ApiError {
    ApiError::business(codes::INVOICE_NOT_FOUND, "The invoice does not exist.")
}

pub async fn show_invoice(app: &App, caller: &PartnerCaller, id: &str) -> ApiResult<InvoiceView> {
    let mut conn = app.db.acquire().await?;
    let row = db::partner_bills::find_invoice(&mut conn, id, &caller.account_id)
        .await?
        .ok_or_else(no_invoice)?;
    view(&mut conn, row).await
}

pub async fn list_invoices(
    app: &App,
    caller: &PartnerCaller,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<InvoiceView>)> {
    let mut conn = app.db.acquire().await?;
    let (total, rows) =
        db::partner_bills::list_invoices(&mut conn, &caller.account_id, status, offset, limit)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(view(&mut conn, r).await?);
    }
    Ok((total, out))
}

/// The vendor moves an invoice (`action` is one of `domain::money_out::INVOICE_ACTIONS`); a
/// transition not allowed from the current state is CBC.99013008 and changes nothing.
pub async fn move_invoice(
    app: &App,
    id: &str,
    action: &str,
    invoice_no: Option<&str>,
    note: Option<&str>,
) -> ApiResult<InvoiceView> {
    let mut tx = app.db.begin().await?;
    let row = db::partner_bills::lock_invoice(&mut tx, id)
        .await?
        .ok_or_else(no_invoice)?;
    let next = invoice_next(&row.status, action).ok_or_else(|| {
        ApiError::business(
            codes::INVOICE_STATE,
            format!("An invoice in {} cannot be moved by {action}.", row.status),
        )
    })?;
    let at = app.now();
    let updated = db::partner_bills::set_invoice_status(
        &mut tx,
        id,
        next,
        invoice_no,
        invoice_released(next),
        at,
    )
    .await?;
    let e = EventRow {
        from_status: Some(row.status),
        to_status: next.into(),
        actor: "vendor".into(),
        note: note.map(str::to_string),
        created_at: at,
    };
    db::money_out::insert_event(&mut tx, EventTable::Invoice, id, &e).await?;
    let v = view(&mut tx, updated).await?;
    tx.commit().await?;
    Ok(v)
}

/// The partner repays used credit from its cash (`credit_repayment` journal).
pub struct CreditRepayment {
    pub caller: PartnerCaller,
    pub amount: Amount,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Repaid {
    pub trans_id: String,
    pub credit_used: i64,
}

impl Effect for CreditRepayment {
    type Output = Repaid;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Repaid> {
        let at = app.now();
        let trans_id = new_trans_id("CP", at);
        let p = &self.caller.account_id;
        let posted = ledger::payouts::repay_credit(
            conn,
            p,
            self.amount,
            &Entry {
                trans_id: &trans_id,
                kind: JournalKind::CreditRepayment,
                at,
            },
        )
        .await?;
        if posted.is_none() {
            return Err(ApiError::business(
                codes::REPAYMENT_EXCEEDS_USED_CREDIT,
                "The repayment exceeds the credit in use.",
            ));
        }
        let m = ledger::partner_money(conn, p).await?;
        Ok(Repaid {
            trans_id,
            credit_used: (m.credit_limit - m.credit).max(0),
        })
    }
}
