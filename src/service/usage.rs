//! Usage ingestion (vendor side): records are validated one by one, rated exactly
//! (`domain::rating`), and the accepted ones charged in ONE transaction per batch — the dedup of
//! their event ids, the ledger journals in the deduction order (`domain::deduction`), the fee
//! records and the monthly sums commit together or not at all, so a crash can neither lose a
//! charge nor charge twice.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::{
    db::{self, usage::NewFeeRecord},
    domain::{
        deduction::{self, Benefit, SourceKind},
        rating,
    },
    error::{codes, ApiResult},
    ledger::{
        self,
        usage::{customer_accounts, Source, Split},
        AccountRef, Entry, JournalKind, Purpose,
    },
    state::App,
};

/// The parameter-error code a rejected record carries.
const BAD_PARAMETER: &str = "CBC.0100";

/// At most this many records per call.
pub const MAX_BATCH: usize = 1_000;
/// Usage older than this many months (by bill cycle) is refused.
pub const MAX_AGE_MONTHS: u32 = 18;

/// One usage record as the vendor's metering sends it (already parsed from JSON).
#[derive(Debug, Clone)]
pub struct UsageRecord {
    pub event_id: String,
    pub customer_id: String,
    pub product_id: String,
    pub usage_type: String,
    pub usage: Decimal,
    pub usage_measure_id: i32,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub region_code: String,
    pub enterprise_project_id: Option<String>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Charged { fee_record_id: String, payable: i64 },
    Duplicate { fee_record_id: String },
    Rejected { code: &'static str, message: String },
}

fn reject(code: &'static str, message: impl Into<String>) -> Outcome {
    Outcome::Rejected {
        code,
        message: message.into(),
    }
}

/// The bill cycle of a time: the first day of its month in UTC+8.
pub fn bill_cycle(t: DateTime<Utc>) -> NaiveDate {
    let local = t.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
    NaiveDate::from_ymd_opt(local.year(), local.month(), 1).expect("first of month")
}

/// A new fee record id: its cycle (`YYYYMM`) and 26 random hex characters, so the cycle (the
/// partition) can be read off the id.
pub fn new_fee_id(cycle: NaiveDate) -> String {
    let rnd = uuid::Uuid::new_v4().simple().to_string();
    format!("{}{}", cycle.format("%Y%m"), &rnd[..26])
}

/// The cycle a fee record id names.
pub fn cycle_of_fee_id(id: &str) -> Option<NaiveDate> {
    if id.len() != 32 || !id.is_ascii() {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{}01", &id[..6]), "%Y%m%d").ok()
}

/// A record that passed validation and rating, ready to be paid.
struct Rated {
    index: usize,
    fee: NewFeeRecord,
}

/// Ingests a batch: one outcome per record, in order.
pub async fn ingest(app: &App, records: &[UsageRecord]) -> ApiResult<Vec<Outcome>> {
    let now = app.now();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; records.len()];
    let mut conn = app.db.acquire().await?;

    // 1. Context: customers, products with prices, conversions.
    let customer_ids: Vec<String> = unique(records.iter().map(|r| r.customer_id.clone()));
    let product_ids: Vec<String> = unique(records.iter().map(|r| r.product_id.clone()));
    let customers: HashMap<String, db::usage::ChargedCustomer> =
        db::usage::customers(&mut conn, &customer_ids)
            .await?
            .into_iter()
            .map(|c| (c.account_id.clone(), c))
            .collect();
    let mut products: HashMap<String, Vec<db::usage::PricedProduct>> = HashMap::new();
    for p in db::usage::priced_products(&mut conn, &product_ids).await? {
        products.entry(p.product_id.clone()).or_default().push(p);
    }
    let conversions = db::usage::conversions(&mut conn).await?;
    let oldest = bill_cycle(now)
        .checked_sub_months(Months::new(MAX_AGE_MONTHS))
        .expect("cycle arithmetic");

    // 2. Validate and rate each record; a repeat inside the batch is a duplicate of the first.
    let mut rated: Vec<Rated> = Vec::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(&j) = first_of.get(r.event_id.as_str()) {
            repeats.push((i, j));
            continue;
        }
        first_of.insert(&r.event_id, i);
        match rate_one(r, &customers, &products, &conversions, oldest, now) {
            Ok(fee) => rated.push(Rated { index: i, fee }),
            Err(o) => outcomes[i] = Some(o),
        }
    }

    // 3. The partitions of the cycles (outside the batch's transaction: a new partition's lock
    // must not be held while the batch runs).
    let cycles: Vec<NaiveDate> = unique(rated.iter().map(|r| r.fee.cycle));
    db::usage::ensure_partitions(&mut conn, &cycles).await?;
    conn.settle().await?;

    // 4. The charge: dedup, journals, fee records and sums in one transaction.
    let charged = charge(app, &mut rated, now).await?;
    for (r, fee_id, payable) in charged {
        outcomes[r] = Some(match payable {
            Some(p) => Outcome::Charged {
                fee_record_id: fee_id,
                payable: p,
            },
            None => Outcome::Duplicate {
                fee_record_id: fee_id,
            },
        });
    }
    // Repeats inside the batch answer like their first occurrence: a duplicate of its fee
    // record, or the same rejection.
    for (i, j) in repeats {
        outcomes[i] = match &outcomes[j] {
            Some(Outcome::Charged { fee_record_id, .. })
            | Some(Outcome::Duplicate { fee_record_id }) => Some(Outcome::Duplicate {
                fee_record_id: fee_record_id.clone(),
            }),
            other => other.clone(),
        };
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every record has an outcome"))
        .collect())
}

fn unique<T: Clone + Eq + std::hash::Hash + Ord>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = it.collect::<HashSet<T>>().into_iter().collect();
    v.sort();
    v
}

fn rate_one(
    r: &UsageRecord,
    customers: &HashMap<String, db::usage::ChargedCustomer>,
    products: &HashMap<String, Vec<db::usage::PricedProduct>>,
    conversions: &[(i32, i32, i64)],
    oldest: NaiveDate,
    now: DateTime<Utc>,
) -> Result<NewFeeRecord, Outcome> {
    if r.usage.is_sign_negative() && !r.usage.is_zero() {
        return Err(reject(BAD_PARAMETER, "usage must not be negative"));
    }
    if r.end_time < r.begin_time {
        return Err(reject(
            BAD_PARAMETER,
            "end_time must not be before begin_time",
        ));
    }
    let cycle = bill_cycle(r.begin_time);
    if cycle < oldest {
        return Err(reject(
            codes::USAGE_TOO_OLD,
            "the usage's bill cycle is older than 18 months",
        ));
    }
    if r.begin_time > now + Duration::days(1) {
        return Err(reject(
            BAD_PARAMETER,
            "begin_time must not be in the future",
        ));
    }
    let Some(c) = customers.get(&r.customer_id) else {
        return Err(reject(
            codes::CUSTOMER_NOT_FOUND,
            "the customer does not exist",
        ));
    };
    let Some(rows) = products.get(&r.product_id) else {
        return Err(reject(
            codes::RATING_PRODUCT_NOT_FOUND,
            "the product does not exist",
        ));
    };
    let Some(price) = rows
        .iter()
        .find(|p| p.usage_type.as_deref() == Some(r.usage_type.as_str()))
    else {
        return Err(reject(
            codes::USAGE_TYPE_NOT_PRICED,
            "the product has no on-demand price for this usage_type",
        ));
    };
    let (Some(price_measure), Some(unit_price)) = (price.usage_measure_id, price.unit_price) else {
        return Err(reject(
            codes::USAGE_TYPE_NOT_PRICED,
            "the product has no price",
        ));
    };
    let rated = rating::rate(
        r.usage,
        r.usage_measure_id,
        price_measure,
        unit_price,
        conversions,
        c.partner_discount_rate,
    )
    .map_err(|e| match e {
        rating::RatingError::NoConversion { .. } => reject(
            codes::RATING_WRONG_UNIT,
            "usage_measure_id cannot be converted to the price's unit",
        ),
        other => reject(BAD_PARAMETER, other.to_string()),
    })?;
    let id = new_fee_id(cycle);
    Ok(NewFeeRecord {
        id: id.clone(),
        cycle,
        customer_id: r.customer_id.clone(),
        partner_id: c.partner_id.clone(),
        distributor_id: c.distributor_id.clone(),
        association_type: c.association_type.as_deref().and_then(|t| t.parse().ok()),
        manager_id: c.manager_id.clone(),
        event_id: Some(r.event_id.clone()),
        original_id: None,
        bill_type: 5,
        charging_mode: 3,
        service_type_code: price.service_type_code.clone(),
        resource_type_code: price.resource_type_code.clone().unwrap_or_default(),
        region_code: r.region_code.clone(),
        product_id: r.product_id.clone(),
        usage_type: Some(r.usage_type.clone()),
        usage: Some(r.usage),
        usage_measure_id: Some(r.usage_measure_id),
        unit_price: Some(unit_price),
        price_measure_id: Some(price_measure),
        resource_id: r.resource_id.clone(),
        resource_name: r.resource_name.clone(),
        enterprise_project_id: r.enterprise_project_id.clone(),
        begin_time: r.begin_time,
        end_time: r.end_time,
        trade_time: now,
        trade_id: id,
        official_amount: rated.official_amount,
        discount_amount: rated.discount_amount,
        erase_amount: rated.erase_amount,
        payable: rated.payable_fen,
        coupon: 0,
        cash_coupon: 0,
        card: 0,
        cash: 0,
        credit: 0,
        debt: 0,
        writeoff: 0,
        reason: None,
    })
}

/// Charges the rated records in one transaction. Returns, per record, its fee record id and the
/// payable amount (`None`: the event was already charged, the id is the earlier fee record's).
async fn charge(
    app: &App,
    rated: &mut [Rated],
    now: DateTime<Utc>,
) -> ApiResult<Vec<(usize, String, Option<i64>)>> {
    if rated.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = app.db.begin().await?;
    // Dedup first: the events this transaction claims are charged here, the others were charged
    // (or are being charged, and then this waits for that commit) by another call.
    let claims: Vec<(String, String)> = rated
        .iter()
        .map(|r| {
            (
                r.fee.event_id.clone().expect("usage has an event"),
                r.fee.id.clone(),
            )
        })
        .collect();
    let claimed: HashSet<String> = db::usage::claim_events(&mut tx, &claims, now)
        .await?
        .into_iter()
        .collect();
    let dup_ids: Vec<String> = claims
        .iter()
        .filter(|(e, _)| !claimed.contains(e))
        .map(|(e, _)| e.clone())
        .collect();
    let earlier: HashMap<String, String> = if dup_ids.is_empty() {
        HashMap::new()
    } else {
        db::usage::charged_events(&mut tx, &dup_ids)
            .await?
            .into_iter()
            .collect()
    };
    let mut out = Vec::with_capacity(rated.len());
    let mut todo: Vec<&mut Rated> = Vec::new();
    for r in rated.iter_mut() {
        let e = r.fee.event_id.as_deref().expect("usage has an event");
        if claimed.contains(e) {
            todo.push(r);
        } else {
            let id = earlier.get(e).cloned().unwrap_or_default();
            out.push((r.index, id, None));
        }
    }

    // The customers' coupons and cards, then every account the charges touch, locked once.
    let customer_ids: Vec<String> = unique(todo.iter().map(|r| r.fee.customer_id.clone()));
    let benefit_rows = db::usage::benefits(&mut tx, &customer_ids, now).await?;
    let mut wallets: HashMap<&str, Vec<Benefit>> = HashMap::new();
    for b in &benefit_rows {
        wallets.entry(&b.customer_id).or_default().push(Benefit {
            id: b.id.clone(),
            kind: match b.kind {
                1 => SourceKind::Voucher,
                4 => SourceKind::CashCoupon,
                _ => SourceKind::Card,
            },
            effective_time: b.effective_time,
            expire_time: b.expire_time,
            service_types: b.service_types.clone(),
            product_ids: b.product_ids.clone(),
        });
    }
    let mut refs: Vec<AccountRef<'_>> = Vec::new();
    for c in &customer_ids {
        refs.extend(customer_accounts(c));
    }
    for b in &benefit_rows {
        refs.push(AccountRef::new(
            &b.id,
            if b.kind == 0 {
                Purpose::StoredValueCard
            } else {
                Purpose::CustomerCouponValue
            },
        ));
    }
    let mut locked = ledger::lock_accounts(&mut tx, &refs).await?;
    let debt_before = debts_of(&locked);
    let mut planned = ledger::Planned::default();
    let mut touched: HashSet<String> = HashSet::new();
    for r in todo.iter_mut() {
        let f = &mut r.fee;
        let empty = Vec::new();
        let wallet = wallets.get(f.customer_id.as_str()).unwrap_or(&empty);
        let ordered = deduction::order(wallet, &f.service_type_code, &f.product_id, now);
        let mut sources: Vec<Source<'_>> =
            ordered.iter().map(|b| Source::new(b.kind, &b.id)).collect();
        sources.push(Source::new(SourceKind::Cash, &f.customer_id));
        sources.push(Source::new(SourceKind::Credit, &f.customer_id));
        let (split, given) = ledger::usage::plan_usage_charge(
            &mut planned,
            &mut locked,
            &f.customer_id,
            &sources,
            f.payable,
            &Entry {
                trans_id: &f.id,
                kind: JournalKind::UsageCharge,
                at: now,
            },
        )?;
        for (s, g) in sources.iter().zip(&given) {
            if *g > 0 && s.kind < SourceKind::Cash {
                touched.insert(s.account.owner_id.to_string());
            }
        }
        apply_split(f, &split);
    }
    ledger::write_planned(&mut tx, &planned, &locked).await?;
    // Coupons and cards whose balance reached 0 are used up.
    let used_up: Vec<String> = locked
        .iter()
        .filter(|l| touched.contains(&l.owner_id) && l.balance <= l.floor.unwrap_or(0))
        .map(|l| l.owner_id.clone())
        .collect();
    db::usage::set_benefit_status(&mut tx, &used_up, &[], now).await?;
    let fees: Vec<NewFeeRecord> = todo.iter().map(|r| r.fee.clone()).collect();
    db::usage::insert_fee_records(&mut tx, &fees).await?;
    db::usage::add_to_sums(&mut tx, &fees).await?;
    // A customer that just fell into arrears: tell its partner (same transaction).
    for (customer, debt) in debts_of(&locked) {
        if debt > 0 && debt_before.get(&customer).copied().unwrap_or(0) == 0 {
            let Some(f) = fees.iter().rev().find(|f| f.customer_id == customer) else {
                continue;
            };
            if let Some(partner) = &f.partner_id {
                let data = serde_json::json!({
                    "customer_id": customer,
                    "debt_amount": crate::domain::money::fen_to_yuan(debt),
                    "fee_record_id": f.id,
                    "bill_cycle": f.cycle.format("%Y-%m").to_string(),
                });
                crate::service::events::customer_arrears(&mut tx, partner, &customer, data, now)
                    .await?;
                let detail = format!(
                    "arrears of {} CNY",
                    crate::domain::money::fen_to_string(debt)
                );
                crate::service::warnings::raise_warning(
                    &mut tx,
                    partner,
                    &customer,
                    crate::service::warnings::Scene::Arrears,
                    crate::service::warnings::Level::Critical,
                    &detail,
                    Some(&f.id),
                    now,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    for r in todo {
        out.push((r.index, r.fee.id.clone(), Some(r.fee.payable)));
    }
    Ok(out)
}

/// Arrears (fen, ≥ 0) per customer among locked accounts.
fn debts_of(locked: &[ledger::Locked]) -> HashMap<String, i64> {
    locked
        .iter()
        .filter(|l| l.purpose == Purpose::CustomerDebt.as_str())
        .map(|l| (l.owner_id.clone(), -l.balance))
        .collect()
}

fn apply_split(f: &mut NewFeeRecord, s: &Split) {
    f.coupon = s.coupon;
    f.cash_coupon = s.cash_coupon;
    f.card = s.card;
    f.cash = s.cash;
    f.credit = s.credit;
    f.debt = s.debt;
}

/// The fee-record partitions of `cycles`, created (if missing) and committed before the caller's
/// transaction uses them: outside it, so a new partition's lock is not held while it runs.
pub(crate) async fn ensure_partitions(app: &App, cycles: &[NaiveDate]) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    db::usage::ensure_partitions(&mut conn, cycles).await?;
    conn.settle().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bill_cycles_are_months_in_utc_plus_8() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap();
        assert_eq!(bill_cycle(t), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 15, 59, 59).unwrap();
        assert_eq!(bill_cycle(t), NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    }

    #[test]
    fn fee_ids_carry_their_cycle() {
        let c = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let id = new_fee_id(c);
        assert_eq!(id.len(), 32);
        assert_eq!(cycle_of_fee_id(&id), Some(c));
        assert_eq!(cycle_of_fee_id("nope"), None);
        assert_eq!(cycle_of_fee_id("2026xx0123456789abcdef0123456789"), None);
    }
}
