//! A seeded randomized test of consumption (issue 8): customers with random vouchers, cash
//! coupons, stored-value cards, cash and credit lines consume random usage over several bill
//! cycles (late usage lands in earlier cycles), with random refunds (some exceeding what is left:
//! rejected, nothing moves) and repeated events. At the end, for every (customer, cycle): the
//! customer's monthly sum equals the sum of its fee records, the partner's monthly sums equal the
//! partner's details, each record's split sums to its payable amount, every balance equals the
//! initial money minus the charges plus the refunds of its source, and the ledger audit is clean.
//!
//! The seed is printed; replay one with `CONSUMPTION_SEED=<n>`.

use std::{
    collections::{BTreeMap, BTreeSet},
    str::FromStr,
};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::{
    consumption::{
        assert_identities, assert_split_sums_to, coupon, ecs_product, fund, ingest, money,
        obs_product, record, sell_card, COUPONS, DETAIL, ECS, GB_HOUR, HOUR, OWN_FEES, OWN_SUM,
        PARTNER_SUM,
    },
    helpers::{Creds, TestApp, ADMIN_TOKEN},
};

pub fn dec(v: &Value) -> Decimal {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Decimal::from_str(&s)
        .or_else(|_| Decimal::from_scientific(&s))
        .unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

/// Fen as a JSON number of yuan (exact).
fn yuan(fen: i64) -> Value {
    serde_json::from_str(&Decimal::new(fen, 2).to_string()).unwrap()
}

fn fen(v: &Value) -> i64 {
    (dec(v) * Decimal::from(100)).try_into().unwrap()
}

/// The monthly sums in the database equal the sums of the fee records, per (cycle, customer,
/// summary bill type), for every field and the record count.
pub async fn assert_sums_match_details(app: &TestApp) {
    // numeric equality (and EXCEPT) compares values, not scales.
    let cols = "cycle, customer_id, sb, official, discount, erase, payable, coupon, cash_coupon,
                card, cash, credit, debt, writeoff, records";
    let detail = "select cycle, customer_id,
                    case bill_type when 4 then 2 when 9 then 3 else 1 end as sb,
                    sum(official_amount) as official, sum(discount_amount) as discount,
                    sum(erase_amount) as erase, sum(payable) as payable, sum(coupon) as coupon,
                    sum(cash_coupon) as cash_coupon, sum(card) as card, sum(cash) as cash,
                    sum(credit) as credit, sum(debt) as debt, sum(writeoff) as writeoff,
                    count(*)::numeric as records
                  from fee_record group by 1, 2, 3";
    let sums = "select cycle, customer_id, bill_type as sb,
                  sum(official_amount) as official, sum(discount_amount) as discount,
                  sum(erase_amount) as erase, sum(payable) as payable, sum(coupon) as coupon,
                  sum(cash_coupon) as cash_coupon, sum(card) as card, sum(cash) as cash,
                  sum(credit) as credit, sum(debt) as debt, sum(writeoff) as writeoff,
                  sum(records) as records
                from bill_sum group by 1, 2, 3";
    let q = format!(
        "(select {cols} from ({detail}) d except select {cols} from ({sums}) s)
         union all
         (select {cols} from ({sums}) s except select {cols} from ({detail}) d)"
    );
    let diff: Vec<(chrono::NaiveDate, String, i32)> =
        sqlx::query_as(&format!("select cycle, customer_id, sb::int from ({q}) x"))
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        diff.is_empty(),
        "monthly sums differ from their details: {diff:?}"
    );
}

/// Every record of a paged list (`key`: the array, `total_count` the total), `limit` a page.
async fn all_pages(app: &TestApp, who: &Creds, path: &str, q: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let r = app
            .signed(who)
            .get(path, &format!("{q}&limit=7&offset={}", out.len()))
            .await;
        let page = r.ok()[key].as_array().unwrap().clone();
        let total = r.body["total_count"].as_i64().unwrap() as usize;
        out.extend(page.iter().cloned());
        if page.is_empty() || out.len() >= total {
            assert_eq!(out.len(), total, "{path}?{q}: paging lost records");
            return out;
        }
    }
}

/// All of a customer's fee records of a cycle (own view, zero records included).
async fn own_records(app: &TestApp, c: &Creds, cycle: &str) -> Vec<Value> {
    let q = format!("bill_cycle={cycle}&include_zero_record=true");
    all_pages(app, c, OWN_FEES, &q, "records").await
}

/// All of a customer's fee records of a cycle as its partner sees them.
async fn partner_records(app: &TestApp, p: &Creds, c: &str, cycle: &str) -> Vec<Value> {
    let q = format!("bill_cycle={cycle}&customer_id={c}");
    all_pages(app, p, DETAIL, &q, "fee_records").await
}

fn sum_of(rs: &[Value], k: &str) -> Decimal {
    rs.iter().map(|r| dec(&r[k])).sum()
}

struct Customer {
    creds: Creds,
    cash: i64,
    credit: i64,
    card: Option<(String, i64)>,
    voucher: Option<(String, i64)>,
    cash_coupon: Option<(String, i64)>,
}

/// A charge that may still be refunded: its fee record id and the fen not yet refunded.
struct Refundable {
    id: String,
    left: i64,
}

async fn adjust(app: &TestApp, fee: &str, fen: i64, key: &str) -> crate::helpers::Resp {
    let amount = yuan(fen);
    app.send(
        app.http
            .post(format!("{}/admin/v1/fee-records/{fee}/adjust", app.base))
            .bearer_auth(ADMIN_TOKEN)
            .header("Idempotency-Key", key)
            .json(&json!({"amount": amount, "reason": "random refund",
                          "kind": if fen % 2 == 0 { "REFUND" } else { "ADJUSTMENT" }})),
    )
    .await
}

fn cycle_of(t: DateTime<Utc>) -> String {
    crate::consumption::cycle(t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monthly_sums_equal_their_details_for_every_cycle_under_random_usage_and_refunds() {
    let seed: u64 = std::env::var("CONSUMPTION_SEED")
        .ok()
        .map(|s| s.parse().expect("CONSUMPTION_SEED is a u64"))
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("consumption randomized test: CONSUMPTION_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let started = std::time::Instant::now();

    let app = TestApp::spawn().await;
    // Start mid-month so that the steps below cross several cycle boundaries.
    let real = app.now();
    let t0 = Utc
        .with_ymd_and_hms(real.year(), real.month(), 12, 4, 0, 0)
        .unwrap();
    app.clock.set(t0);
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100000.00").await;
    let prices = ["1.00", "0.33335", "0.05", "2.4"];
    let mut products = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        if i % 2 == 0 {
            products.push((ecs_product(&app, price).await, "duration", HOUR));
        } else {
            products.push((obs_product(&app, price).await, "obs_storage", GB_HOUR));
        }
    }

    let mut customers = Vec::new();
    for _ in 0..3 {
        let creds = app.create_customer(&p, json!({})).await;
        let cash = rng.gen_range(0..4_000i64);
        if cash > 0 {
            fund(&app, &p, &creds.id, &Decimal::new(cash, 2).to_string())
                .await
                .ok();
        }
        let credit = if rng.gen_bool(0.5) {
            rng.gen_range(1..3_000i64)
        } else {
            0
        };
        if credit > 0 {
            app.admin(
                Method::PUT,
                &format!("/admin/v1/customers/{}/credit-line", creds.id),
                Some(json!({"credit_amount": yuan(credit)})),
            )
            .await
            .ok();
        }
        let mut face = || rng.gen_range(1..2_000i64);
        let (f1, f2, f3) = (face(), face(), face());
        let card = if rng.gen_bool(0.6) {
            Some((
                sell_card(&app, &creds.id, &Decimal::new(f1, 2).to_string()).await,
                f1,
            ))
        } else {
            None
        };
        let voucher = if rng.gen_bool(0.6) {
            let id = coupon(
                &app,
                &p,
                &creds.id,
                0,
                &Decimal::new(f2, 2).to_string(),
                &[ECS],
                200,
            )
            .await;
            Some((id, f2))
        } else {
            None
        };
        let cash_coupon = if rng.gen_bool(0.6) {
            let id = coupon(
                &app,
                &p,
                &creds.id,
                1,
                &Decimal::new(f3, 2).to_string(),
                &[],
                200,
            )
            .await;
            Some((id, f3))
        } else {
            None
        };
        customers.push(Customer {
            creds,
            cash,
            credit,
            card,
            voucher,
            cash_coupon,
        });
    }
    app.assert_audit_ok().await;

    let mut refundable: Vec<Refundable> = Vec::new();
    let mut sent_events: Vec<Value> = Vec::new();
    let mut cycles: BTreeSet<String> = BTreeSet::new();
    let (mut charged, mut refunds, mut rejected_refunds, mut duplicates) = (0, 0, 0, 0);
    let mut n_event = 0usize;
    let steps = 60;
    for step in 0..steps {
        let now = app.now();
        cycles.insert(cycle_of(now));
        match rng.gen_range(0..10) {
            // Move the clock on (sometimes across a cycle boundary).
            0 | 1 => app
                .clock
                .advance(Duration::hours(rng.gen_range(24..24 * 16))),
            // A usage batch, some of it late (an earlier cycle), maybe with a repeated event.
            2..=6 => {
                let mut batch = Vec::new();
                for _ in 0..rng.gen_range(1..6) {
                    let c = &customers[rng.gen_range(0..customers.len())];
                    let (prod, usage_type, measure) = &products[rng.gen_range(0..products.len())];
                    let usage = Decimal::new(rng.gen_range(0..300i64), rng.gen_range(0..3u32));
                    n_event += 1;
                    let mut r = record(
                        &app,
                        &format!("ev{n_event}"),
                        &c.creds.id,
                        prod,
                        usage_type,
                        &usage.to_string(),
                        *measure,
                    );
                    let begin = now - Duration::minutes(rng.gen_range(60..60 * 24 * 45));
                    r["begin_time"] = json!(crate::consumption::ts(begin));
                    r["end_time"] = json!(crate::consumption::ts(begin + Duration::minutes(30)));
                    cycles.insert(cycle_of(begin));
                    batch.push(r);
                }
                let repeat = !sent_events.is_empty() && rng.gen_bool(0.3);
                if repeat {
                    batch.push(sent_events[rng.gen_range(0..sent_events.len())].clone());
                }
                let res = ingest(&app, batch.clone()).await;
                let results = res.ok()["results"].as_array().unwrap().clone();
                for (i, out) in results.iter().enumerate() {
                    let is_repeat = repeat && i == results.len() - 1;
                    let want = if is_repeat { "duplicate" } else { "charged" };
                    assert_eq!(out["status"], want, "step {step}: {out}");
                    if is_repeat {
                        duplicates += 1;
                        continue;
                    }
                    charged += 1;
                    sent_events.push(batch[i].clone());
                    let amount = fen(&out["amount"]);
                    if amount > 0 {
                        refundable.push(Refundable {
                            id: out["fee_record_id"].as_str().unwrap().into(),
                            left: amount,
                        });
                    }
                }
            }
            // A refund or adjustment of a random amount, sometimes more than is left.
            _ => {
                if refundable.is_empty() {
                    continue;
                }
                let k = rng.gen_range(0..refundable.len());
                let left = refundable[k].left;
                let too_much = rng.gen_bool(0.3);
                let amount = if too_much {
                    left + rng.gen_range(1..500)
                } else {
                    rng.gen_range(1..=left)
                };
                let key = format!("adj-{step}");
                if too_much {
                    let before: Vec<Value> = {
                        let mut v = Vec::new();
                        for c in &customers {
                            v.push(money(&app, &c.creds.id).await);
                        }
                        v
                    };
                    let n_before: i64 = sqlx::query_scalar("select count(*) from fee_record")
                        .fetch_one(&app.pool)
                        .await
                        .unwrap();
                    adjust(&app, &refundable[k].id, amount, &key)
                        .await
                        .err(400, "CBC.99006104");
                    for (c, b) in customers.iter().zip(&before) {
                        assert_eq!(
                            &money(&app, &c.creds.id).await,
                            b,
                            "a rejected refund moved money"
                        );
                    }
                    let n_after: i64 = sqlx::query_scalar("select count(*) from fee_record")
                        .fetch_one(&app.pool)
                        .await
                        .unwrap();
                    assert_eq!(n_before, n_after, "a rejected refund wrote a record");
                    rejected_refunds += 1;
                } else {
                    let r = adjust(&app, &refundable[k].id, amount, &key).await;
                    assert_eq!(r.status, 201, "step {step}: {}", r.text);
                    refunds += 1;
                    refundable[k].left -= amount;
                    if refundable[k].left == 0 {
                        refundable.swap_remove(k);
                    }
                }
            }
        }
    }
    cycles.insert(cycle_of(app.now()));
    app.assert_audit_ok().await;
    assert_sums_match_details(&app).await;

    // Per (customer, cycle): monthly sums == Σ details, own and partner views.
    let mut totals: BTreeMap<&str, [i64; 6]> = BTreeMap::new();
    let mut n_records = 0usize;
    let fields = [
        ("consume_amount", "consume_amount"),
        ("coupon_amount", "coupon_amount"),
        ("flexipurchase_coupon_amount", "flexipurchase_coupon_amount"),
        ("stored_value_card_amount", "stored_value_card_amount"),
        ("cash_amount", "cash_amount"),
        ("credit_amount", "credit_amount"),
        ("debt_amount", "debt_amount"),
        ("writeoff_amount", "writeoff_amount"),
    ];
    for c in &customers {
        let t = totals.entry(c.creds.id.as_str()).or_default();
        for cycle in &cycles {
            let recs = own_records(&app, &c.creds, cycle).await;
            n_records += recs.len();
            let s = app
                .signed(&c.creds)
                .get(OWN_SUM, &format!("bill_cycle={cycle}&limit=1000"))
                .await;
            let s = s.ok().clone();
            for (sum_field, rec_field) in fields {
                assert_eq!(
                    dec(&s[sum_field]),
                    sum_of(&recs, rec_field),
                    "seed {seed}: {} {cycle} {sum_field}: {s}",
                    c.creds.id
                );
            }
            let rows = s["bill_sums"].as_array().unwrap();
            assert_eq!(s["total_count"].as_u64().unwrap() as usize, rows.len());
            for (row_field, rec_field) in [
                ("official_amount", "official_amount"),
                ("official_discount_amount", "official_discount_amount"),
                ("truncated_amount", "erase_amount"),
                ("consume_amount", "consume_amount"),
                ("cash_amount", "cash_amount"),
                ("debt_amount", "debt_amount"),
            ] {
                assert_eq!(
                    sum_of(rows, row_field),
                    sum_of(&recs, rec_field),
                    "seed {seed}: {} {cycle} rows' {row_field}: {s}",
                    c.creds.id
                );
            }
            for r in &recs {
                assert_split_sums_to(r, "consume_amount");
                t[0] += fen(&r["cash_amount"]);
                t[1] += fen(&r["credit_amount"]);
                t[2] += fen(&r["debt_amount"]);
                t[3] += fen(&r["stored_value_card_amount"]);
                t[4] += fen(&r["coupon_amount"]);
                t[5] += fen(&r["flexipurchase_coupon_amount"]);
            }

            // The partner's view: details, and the resale monthly sums by summary bill type.
            let details = partner_records(&app, &p, &c.creds.id, cycle).await;
            assert_eq!(details.len(), recs.len(), "seed {seed}: {cycle}");
            for d in &details {
                assert_identities(d);
            }
            let ps = app
                .signed(&p)
                .get(
                    PARTNER_SUM,
                    &format!(
                        "cycle={cycle}&charge_mode=3&customer_id={}&limit=100",
                        c.creds.id
                    ),
                )
                .await;
            let ps = ps.ok().clone();
            for (wire, detail_type) in [("0", 5), ("1", 4), ("2", 9)] {
                let sums: Vec<Value> = ps["bill_sums"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["bill_type"] == wire)
                    .cloned()
                    .collect();
                let ds: Vec<Value> = details
                    .iter()
                    .filter(|d| d["bill_detail_type"] == detail_type)
                    .cloned()
                    .collect();
                assert_eq!(
                    sum_of(&sums, "amount"),
                    sum_of(&ds, "payment_amount"),
                    "seed {seed}: {} {cycle} bill_type {wire}: {ps}",
                    c.creds.id
                );
                for (balance_type, field) in [
                    ("BALANCE_TYPE_DEBIT", "cash_amount"),
                    ("BALANCE_TYPE_CREDIT", "credit_amount"),
                    ("BALANCE_TYPE_COUPON", "coupon_amount"),
                    ("BALANCE_TYPE_RCASH_COUPON", "flexipurchase_coupon_amount"),
                    ("BALANCE_TYPE_STORED_VALUE_CARD", "stored_value_card_amount"),
                ] {
                    let deducted: Decimal = sums
                        .iter()
                        .flat_map(|s| s["account_details"].as_array().unwrap().iter())
                        .filter(|a| a["balance_type"] == balance_type)
                        .map(|a| dec(&a["amount"]))
                        .sum();
                    assert_eq!(
                        deducted,
                        sum_of(&ds, field),
                        "seed {seed}: {} {cycle} {wire} {balance_type}: {ps}",
                        c.creds.id
                    );
                }
                if wire == "0" {
                    assert_eq!(sum_of(&sums, "debt_amount"), sum_of(&ds, "debt_amount"));
                }
            }
        }
    }
    // Every record was seen once: the charges and the accepted refunds.
    assert_eq!(n_records, charged + refunds, "seed {seed}");

    // Balances: initial money − Σ charges + Σ refunds, per source.
    for c in &customers {
        let t = totals[c.creds.id.as_str()];
        let m = money(&app, &c.creds.id).await;
        assert_eq!(
            fen(&m["cash_amount"]),
            c.cash - t[0],
            "seed {seed}: cash {m}"
        );
        assert_eq!(fen(&m["credit_amount"]), c.credit, "seed {seed}: {m}");
        assert_eq!(
            fen(&m["credit_available"]),
            c.credit - t[1],
            "seed {seed}: credit {m}"
        );
        assert_eq!(fen(&m["debt_amount"]), t[2], "seed {seed}: debt {m}");
        if let Some((card, face)) = &c.card {
            let mut balance = None;
            for status in [1, 2] {
                let r = app
                    .signed(&c.creds)
                    .get(
                        "/v2/promotions/benefits/stored-value-cards",
                        &format!("status={status}&card_id={card}"),
                    )
                    .await;
                if let Some(x) = r.ok()["stored_value_cards"].as_array().unwrap().first() {
                    balance = Some(fen(&x["balance"]));
                }
            }
            assert_eq!(
                balance,
                Some(face - t[3]),
                "seed {seed}: card of {}",
                c.creds.id
            );
        } else {
            assert_eq!(t[3], 0, "seed {seed}: a card paid that was never sold");
        }
        for (coupon, used) in [(&c.voucher, t[4]), (&c.cash_coupon, t[5])] {
            match coupon {
                Some((id, face)) => {
                    let r = app
                        .signed(&p)
                        .get(COUPONS, &format!("coupon_id={id}"))
                        .await;
                    let balance = fen(&r.ok()["user_coupons"][0]["balance"]);
                    assert_eq!(balance, face - used, "seed {seed}: coupon {id}");
                }
                None => assert_eq!(used, 0, "seed {seed}: a coupon paid that was never issued"),
            }
        }
    }
    println!(
        "consumption randomized test (seed {seed}): {charged} charges, {refunds} refunds, \
         {rejected_refunds} rejected refunds, {duplicates} duplicates over {} cycles in {:?}",
        cycles.len(),
        started.elapsed()
    );
    assert!(
        cycles.len() >= 2,
        "seed {seed}: the test spanned one cycle only"
    );
}
