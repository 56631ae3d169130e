//! The vendor's money calls around consumption: a customer's own top-up (which settles its
//! arrears first), stored-value card sales, a customer's own credit line, and fee-record
//! adjustments (refunds back to where the money came from, in reverse order, as negative rows).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::{
    db::{self, usage::NewFeeRecord},
    domain::{deduction, ids::new_trans_id, Amount},
    error::{codes, ApiError, ApiResult},
    ledger::{
        self,
        usage::{customer_accounts, part_source, Source, SourceKind},
        AccountRef, Entry, JournalKind, Purpose,
    },
    service::{
        idempotency::Effect,
        usage::{bill_cycle, cycle_of_fee_id, new_fee_id},
    },
    state::App,
};

fn no_customer() -> ApiError {
    ApiError::business(codes::CUSTOMER_NOT_FOUND, "The customer does not exist.")
}

async fn existing_customer(conn: &mut PgConnection, customer_id: &str) -> ApiResult<()> {
    let found = db::usage::customers(conn, &[customer_id.to_string()]).await?;
    if found.is_empty() {
        return Err(no_customer());
    }
    Ok(())
}

/// Settles a customer's arrears from its cash (a `debt_writeoff` journal); returns the fen
/// settled. Called when money arrives in a customer's cash (partner funding, vendor deposits);
/// a refund gives money back where it came from and settles nothing.
pub async fn settle_arrears(
    conn: &mut PgConnection,
    customer_id: &str,
    at: DateTime<Utc>,
) -> ApiResult<i64> {
    let trans_id = new_trans_id("WO", at);
    Ok(ledger::usage::settle_debt(
        conn,
        customer_id,
        &Entry {
            trans_id: &trans_id,
            kind: JournalKind::DebtWriteoff,
            at,
        },
    )
    .await?)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerDeposited {
    pub trans_id: String,
    /// Fen of arrears the deposit settled first.
    pub settled_debt: i64,
}

/// The vendor records a customer's own top-up (advisory customers pay the vendor themselves).
pub struct CustomerDeposit {
    pub customer_id: String,
    pub amount: Amount,
}

impl Effect for CustomerDeposit {
    type Output = CustomerDeposited;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<CustomerDeposited> {
        existing_customer(conn, &self.customer_id).await?;
        let at = app.now();
        let trans_id = new_trans_id("DE", at);
        ledger::usage::deposit_customer(
            conn,
            &self.customer_id,
            self.amount,
            &Entry {
                trans_id: &trans_id,
                kind: JournalKind::CustomerDeposit,
                at,
            },
        )
        .await?;
        let settled_debt = settle_arrears(conn, &self.customer_id, at).await?;
        Ok(CustomerDeposited {
            trans_id,
            settled_debt,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardSold {
    pub card_id: String,
    pub trans_id: String,
    pub effective_time: DateTime<Utc>,
}

/// The vendor sells a stored-value card to a customer.
pub struct CardSale {
    pub customer_id: String,
    pub card_name: String,
    pub face: Amount,
    pub expire_time: DateTime<Utc>,
}

impl Effect for CardSale {
    type Output = CardSold;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<CardSold> {
        existing_customer(conn, &self.customer_id).await?;
        let at = app.now();
        if self.expire_time <= at {
            return Err(ApiError::invalid("expire_time", "must be in the future"));
        }
        let card_id = uuid::Uuid::new_v4().simple().to_string();
        let trans_id = new_trans_id("SV", at);
        db::usage::insert_card(
            conn,
            &card_id,
            &self.customer_id,
            &self.card_name,
            self.face.fen(),
            at,
            self.expire_time,
        )
        .await?;
        ledger::usage::sell_card(
            conn,
            &card_id,
            self.face,
            &Entry {
                trans_id: &trans_id,
                kind: JournalKind::CardSale,
                at,
            },
        )
        .await?;
        Ok(CardSold {
            card_id,
            trans_id,
            effective_time: at,
        })
    }
}

/// The calling customer's stored-value cards of one status (`list_stored_value_cards`).
pub async fn stored_value_cards(
    app: &App,
    customer_id: &str,
    status: i16,
    card_id: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<db::usage::CardRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::usage::cards(&mut conn, customer_id, status, card_id, offset, limit).await?)
}

/// A customer's money as the vendor sees it (fen).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerMoney {
    pub cash: i64,
    pub credit_limit: i64,
    pub credit_available: i64,
    pub debt: i64,
}

pub async fn customer_money(
    conn: &mut PgConnection,
    customer_id: &str,
) -> ApiResult<CustomerMoney> {
    let ids = [customer_id.to_string()];
    let mut m = CustomerMoney::default();
    for (p, field) in [
        (Purpose::CustomerCash, 0),
        (Purpose::CustomerCredit, 1),
        (Purpose::CustomerDebt, 2),
    ] {
        for (_, _, balance) in ledger::balances(conn, &ids, p).await? {
            match field {
                0 => m.cash = balance,
                1 => m.credit_available = balance,
                _ => m.debt = -balance,
            }
        }
    }
    m.credit_limit = ledger::usage::credit_limit(conn, customer_id).await?;
    Ok(m)
}

/// Sets a customer's own credit line (vendor); lowering it below the credit in use is
/// CBC.99005003.
pub async fn set_customer_credit_line(
    app: &App,
    customer_id: &str,
    limit_fen: i64,
) -> ApiResult<CustomerMoney> {
    let mut tx = app.db.begin().await?;
    existing_customer(&mut tx, customer_id).await?;
    let at = app.now();
    let trans_id = new_trans_id("CR", at);
    ledger::usage::set_customer_credit_line(
        &mut tx,
        customer_id,
        limit_fen,
        &Entry {
            trans_id: &trans_id,
            kind: JournalKind::CustomerCreditLine,
            at,
        },
    )
    .await?;
    let m = customer_money(&mut tx, customer_id).await?;
    tx.commit().await?;
    Ok(m)
}

/// What an adjustment of a fee record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdjustKind {
    /// Detailed bill type 4 (summary bill type 2, refund).
    Refund,
    /// Detailed bill type 9 (summary bill type 3, adjustment / compensation).
    Adjustment,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Adjusted {
    pub fee_record_id: String,
    pub original_id: String,
    /// Fen given back, per part (all ≥ 0).
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
}

/// The vendor refunds or adjusts `amount` of a charge: the money goes back to the parts that paid
/// it in the reverse of the deduction order (arrears cancelled first, then credit, cash, cards,
/// cash coupons, vouchers), written as a negative fee record of the current bill cycle.
pub struct FeeAdjust {
    pub fee_record_id: String,
    pub amount: Amount,
    pub reason: String,
    pub kind: AdjustKind,
}

fn no_fee_record() -> ApiError {
    ApiError::business(
        codes::FEE_RECORD_NOT_FOUND,
        "The fee record does not exist.",
    )
}

impl Effect for FeeAdjust {
    type Output = Adjusted;
    async fn apply(&self, app: &App, conn: &mut PgConnection) -> ApiResult<Adjusted> {
        let cycle = cycle_of_fee_id(&self.fee_record_id).ok_or_else(no_fee_record)?;
        let orig = db::usage::fee_record(conn, cycle, &self.fee_record_id)
            .await?
            .ok_or_else(no_fee_record)?;
        if orig.original_id.is_some() || orig.payable <= 0 {
            return Err(ApiError::business(
                codes::REFUND_EXCEEDS_CHARGE,
                "Only a charge can be adjusted.",
            ));
        }
        let at = app.now();
        let new_cycle = bill_cycle(at);
        db::usage::ensure_partitions(conn, &[new_cycle]).await?;
        // Lock the customer's accounts and the charge's coupons/cards first: concurrent
        // adjustments of one charge then see each other's refunds.
        let refund_ids = db::usage::refund_ids(conn, &orig.id).await?;
        let parts = ledger::usage::charge_parts(conn, &orig.id, &refund_ids).await?;
        let coupon_kinds = db::usage::coupon_kinds(
            conn,
            &parts
                .iter()
                .filter(|p| p.purpose == "customer_coupon_value")
                .map(|p| p.owner_id.clone())
                .collect::<Vec<_>>(),
        )
        .await?;
        let kind_of = |id: &str| {
            if coupon_kinds.iter().any(|(c, k)| c == id && *k == 4) {
                SourceKind::CashCoupon
            } else {
                SourceKind::Voucher
            }
        };
        let mut refs: Vec<AccountRef<'_>> = customer_accounts(&orig.customer_id).to_vec();
        for p in &parts {
            if let Some(s) = part_source(p, kind_of) {
                if !refs.contains(&s.account) {
                    refs.push(s.account);
                }
            }
        }
        let mut locked = ledger::lock_accounts(conn, &refs).await?;
        // Re-read under the locks (a concurrent adjustment may have committed meanwhile).
        let refund_ids = db::usage::refund_ids(conn, &orig.id).await?;
        let parts = ledger::usage::charge_parts(conn, &orig.id, &refund_ids).await?;
        let remaining: Vec<i64> = parts.iter().map(|p| p.given.max(0)).collect();
        let Some(back) = deduction::refund_parts(&remaining, self.amount.fen()) else {
            return Err(ApiError::business(
                codes::REFUND_EXCEEDS_CHARGE,
                "The amount exceeds what is left of the charge.",
            ));
        };
        let mut sources: Vec<(Source<'_>, i64)> = Vec::new();
        let mut debt = 0;
        let mut refilled = Vec::new();
        for (p, &fen) in parts.iter().zip(&back) {
            match part_source(p, kind_of) {
                Some(s) => {
                    if fen > 0 && s.kind < SourceKind::Cash {
                        refilled.push(p.owner_id.clone());
                    }
                    sources.push((s, fen));
                }
                None if p.purpose == "customer_debt" => debt += fen,
                None => {}
            }
        }
        let fee_id = new_fee_id(new_cycle);
        let mut planned = ledger::Planned::default();
        let split = ledger::usage::plan_usage_refund(
            &mut planned,
            &mut locked,
            &orig.customer_id,
            &sources,
            debt,
            &Entry {
                trans_id: &fee_id,
                kind: JournalKind::UsageRefund,
                at,
            },
        )?;
        ledger::write_planned(conn, &planned, &locked).await?;
        db::usage::set_benefit_status(conn, &[], &refilled, at).await?;
        let neg = split.negated();
        let amount = rust_decimal::Decimal::new(self.amount.fen(), 2);
        let row = NewFeeRecord {
            id: fee_id.clone(),
            cycle: new_cycle,
            customer_id: orig.customer_id.clone(),
            partner_id: orig.partner_id.clone(),
            distributor_id: orig.distributor_id.clone(),
            association_type: orig.association_type,
            manager_id: orig.manager_id.clone(),
            event_id: None,
            original_id: Some(orig.id.clone()),
            bill_type: match self.kind {
                AdjustKind::Refund => 4,
                AdjustKind::Adjustment => 9,
            },
            charging_mode: orig.charging_mode,
            service_type_code: orig.service_type_code.clone(),
            resource_type_code: orig.resource_type_code.clone(),
            region_code: orig.region_code.clone(),
            product_id: orig.product_id.clone(),
            usage_type: orig.usage_type.clone(),
            usage: None,
            usage_measure_id: orig.usage_measure_id,
            unit_price: orig.unit_price,
            price_measure_id: orig.price_measure_id,
            resource_id: orig.resource_id.clone(),
            resource_name: orig.resource_name.clone(),
            enterprise_project_id: orig.enterprise_project_id.clone(),
            begin_time: orig.begin_time,
            end_time: orig.end_time,
            trade_time: at,
            trade_id: orig.trade_id.clone(),
            official_amount: -amount,
            discount_amount: rust_decimal::Decimal::ZERO,
            erase_amount: rust_decimal::Decimal::ZERO,
            payable: -self.amount.fen(),
            coupon: neg.coupon,
            cash_coupon: neg.cash_coupon,
            card: neg.card,
            cash: neg.cash,
            credit: neg.credit,
            debt: neg.debt,
            writeoff: 0,
            reason: Some(self.reason.clone()),
        };
        db::usage::insert_fee_records(conn, std::slice::from_ref(&row)).await?;
        db::usage::add_to_sums(conn, std::slice::from_ref(&row)).await?;
        Ok(Adjusted {
            fee_record_id: fee_id,
            original_id: orig.id,
            coupon: split.coupon,
            cash_coupon: split.cash_coupon,
            card: split.card,
            cash: split.cash,
            credit: split.credit,
            debt: split.debt,
        })
    }
}

/// A partner grants its sub-customer a discount rate (discount_type 3): later charges are payable
/// at `official × rate`, the difference shown as `official_discount_amount`. `None` removes it.
pub async fn set_partner_discount(
    app: &App,
    caller: &crate::service::auth::PartnerCaller,
    customer_id: &str,
    indirect_partner_id: Option<&str>,
    rate: Option<rust_decimal::Decimal>,
) -> ApiResult<Option<rust_decimal::Decimal>> {
    let mut tx = app.db.begin().await?;
    let acting =
        crate::service::partners::resolve_acting(&mut tx, caller, indirect_partner_id).await?;
    let c = db::customers::find_customer(&mut tx, customer_id).await?;
    if c.and_then(|c| c.partner_id).as_deref() != Some(acting.partner_id.as_str()) {
        return Err(ApiError::business(
            codes::NOT_SUB_CUSTOMER,
            "The customer is not your sub-customer.",
        ));
    }
    crate::service::organisation::ensure_in_scope(&mut tx, caller, &acting.partner_id, customer_id)
        .await?;
    db::usage::set_discount_rate(&mut tx, customer_id, rate).await?;
    tx.commit().await?;
    Ok(rate)
}
