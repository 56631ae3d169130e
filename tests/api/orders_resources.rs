//! Yearly/monthly resources (issue 10 part 4): created by payment, listed, renewed (by hand and
//! automatically by the time rule, catching up on its own), unsubscribed with the unused part
//! refunded in reverse order, and the expiry path grace → frozen → deleted on the configured
//! days. Each money test ends with a clean ledger audit.

use chrono::{DateTime, Duration, Months, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::consumption::{coupon, cycle, fund, money, ECS};
use crate::helpers::{Creds, Resp, Tamper, TestApp};
use crate::orders::{balance, details, funded_customer, order, pay, period_product, ORDERS};

const QUERY: &str = "/v2/orders/suscriptions/resources/query";
const RENEW: &str = "/v2/orders/subscriptions/resources/renew";
const AUTO: &str = "/v2/orders/subscriptions/resources/autorenew";
const UNSUBSCRIBE: &str = "/v2/orders/subscriptions/resources/unsubscribe";
const REFUNDS: &str = "/v2/orders/customer-orders/refund-orders";
const OWN_SUM: &str = "/v2/bills/customer-bills/monthly-sum";

/// Creates and pays an order; returns (order id, resource id).
pub async fn bought(
    app: &TestApp,
    c: &Creds,
    product: &str,
    period_type: i64,
    auto: bool,
    coupons: &[(&str, i64)],
) -> (String, String) {
    let id = order(app, c, product, period_type, 1, auto).await;
    let r = pay(app, c, &id, coupons).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = details(app, c, &id).await;
    (
        id,
        d["order_line_items"][0]["resource_id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn resources(app: &TestApp, who: &Creds, body: Value) -> Resp {
    app.signed(who).post(QUERY, &body).await
}

pub async fn resource(app: &TestApp, c: &Creds, id: &str) -> Value {
    let r = resources(app, c, json!({"resource_ids": [id]})).await;
    r.ok()["data"][0].clone()
}

fn yuan(v: &Value) -> String {
    v.to_string()
}

pub fn time(v: &Value) -> DateTime<Utc> {
    partner_center::domain::time::parse_ts(v.as_str().unwrap()).unwrap()
}

/// The resource's events: (type, at, actor kind).
async fn events(app: &TestApp, id: &str) -> Vec<(String, DateTime<Utc>, String)> {
    sqlx::query_as(
        "select event_type, at, actor_kind from resource_event where resource_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn paying_creates_the_resource_and_the_lists_filter_it() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "500.00").await;
    let stranger = app.create_partner("solution_provider", None).await;
    let product = period_product(&app, "10.00", "100.00").await;
    let t0 = app.now();
    let (oid, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let r = resource(&app, &c, &rid).await;
    assert_eq!(r["status"], 2);
    assert_eq!(r["is_main_resource"], 1);
    assert_eq!(r["expire_policy"], 0);
    assert_eq!(r["product_id"], json!(product));
    assert_eq!(r["service_type_code"], ECS);
    assert_eq!(time(&r["effective_time"]), t0);
    assert_eq!(
        time(&r["expire_time"]),
        t0.checked_add_months(Months::new(1)).unwrap()
    );
    assert_eq!(
        events(&app, &rid).await,
        [("created".to_string(), t0, "customer".to_string())]
    );

    // Filters.
    let total = |r: Resp| r.ok()["total_count"].as_i64().unwrap();
    assert_eq!(total(resources(&app, &c, json!({})).await), 1);
    assert_eq!(
        total(resources(&app, &c, json!({"resource_ids": []})).await),
        1
    );
    assert_eq!(
        total(resources(&app, &c, json!({"order_id": oid})).await),
        1
    );
    assert_eq!(
        total(resources(&app, &c, json!({"order_id": "other"})).await),
        0
    );
    assert_eq!(
        total(
            resources(
                &app,
                &c,
                json!({"only_main_resource": 1, "status_list": [2]})
            )
            .await
        ),
        1
    );
    assert_eq!(
        total(resources(&app, &c, json!({"status_list": [3, 4, 5]})).await),
        0
    );
    assert_eq!(
        total(
            resources(
                &app,
                &c,
                json!({"service_type_code": "hws.service.type.obs"})
            )
            .await
        ),
        0
    );
    let b = crate::consumption::ts(t0 + Duration::days(20));
    let e = crate::consumption::ts(t0 + Duration::days(40));
    assert_eq!(
        total(
            resources(
                &app,
                &c,
                json!({"expire_time_begin": b, "expire_time_end": e})
            )
            .await
        ),
        1
    );
    // The partner reads it naming its customer; others cannot.
    assert_eq!(
        total(resources(&app, &p, json!({"customer_id": c.id})).await),
        1
    );
    resources(&app, &p, json!({})).await.err(400, "CBC.0100");
    resources(&app, &stranger, json!({"customer_id": c.id}))
        .await
        .err(400, "CBC.99000035");
    // Invalid values.
    let many: Vec<String> = (0..51).map(|i| format!("r{i}")).collect();
    for bad in [
        json!({"resource_ids": null}),
        json!({"resource_ids": many}),
        json!({"only_main_resource": 2}),
        json!({"status_list": [1]}),
        json!({"service_type_code": ""}),
        json!({"limit": 0}),
        json!({"expire_time_begin": "2024-01-01"}),
    ] {
        resources(&app, &c, bad.clone()).await.err(400, "CBC.0100");
    }
}

#[tokio::test]
async fn unsubscribing_a_yearly_resource_after_three_months_refunds_the_unused_part_in_reverse_order(
) {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "120.00").await;
    let voucher = coupon(&app, &p, &c.id, 0, "80.00", &[], 400).await;
    let (paid_order, rid) = bought(&app, &c, &product, 3, false, &[(&voucher, 1)]).await;
    // Paid 120.00: 80.00 voucher + 40.00 cash.
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "60.00");
    let r = resource(&app, &c, &rid).await;
    let (begin, end) = (time(&r["effective_time"]), time(&r["expire_time"]));

    app.clock.advance(Duration::days(90));
    let now = app.now();
    // The documented formula: consumed ⌈12000 × 90 / 365⌉ = 2959 fen, refund 9041 fen.
    let expected = partner_center::domain::orders::unused_refund(12_000, begin, end, now);
    assert_eq!(expected, 9_041);
    let u = app
        .signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 1, "unsubscribe_reason_type": 1}),
        )
        .await;
    let refund_order = u.ok()["order_ids"][0].as_str().unwrap().to_string();
    assert_eq!(u.body["fail_resource_infos"], json!([]));

    // Back in reverse order: the 40.00 cash first, then 50.41 to the voucher.
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "100.00"
    );
    assert_eq!(
        balance(&app, &voucher, "customer_coupon_value").await,
        5_041
    );

    // show_refund_order_details explains it.
    let d = app
        .signed(&c)
        .get(REFUNDS, &format!("order_id={refund_order}"))
        .await;
    let info = &d.ok()["refund_infos"];
    assert_eq!(d.body["total_count"], 1, "{}", d.text);
    assert_eq!(info[0]["amount"].to_string(), "-90.41");
    assert_eq!(info[0]["base_order_id"], json!(paid_order));
    assert_eq!(info[0]["customer_id"], json!(c.id));
    assert_eq!(info[0]["service_type_code"], ECS);
    assert_eq!(
        info[0]["amount_info"]["coupon_amount"].to_string(),
        "-50.41"
    );
    assert_eq!(info[0]["cash_amount"].to_string(), "-40.00");
    // The partner reads it naming the customer.
    let d = app
        .signed(&p)
        .get(
            REFUNDS,
            &format!("order_id={refund_order}&customer_id={}", c.id),
        )
        .await;
    assert_eq!(d.ok()["refund_infos"][0]["amount"].to_string(), "-90.41");
    app.signed(&p)
        .get(REFUNDS, &format!("order_id={refund_order}"))
        .await
        .err(400, "CBC.0100");
    // Not a refund order.
    app.signed(&c)
        .get(REFUNDS, &format!("order_id={paid_order}"))
        .await
        .err(400, "CBC.99005026");
    app.signed(&c).get(REFUNDS, "").await.err(400, "CBC.0100");

    // The refund order and its negative fee record.
    let o = details(&app, &c, &refund_order).await;
    assert_eq!(o["order_info"]["order_type"], 4);
    assert_eq!(o["order_info"]["status"], 5);
    assert_eq!(
        o["order_info"]["amount_after_discount"].to_string(),
        "-90.41"
    );
    assert_eq!(o["order_line_items"][0]["period_num"], Value::Null);
    let fee: (i16, i64, i64, i64, String) = sqlx::query_as(
        "select bill_type, payable, coupon, cash, trade_id from fee_record where customer_id = $1 and payable < 0",
    )
    .bind(&c.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(fee, (4, -9_041, -5_041, -4_000, refund_order.clone()));
    let r = app.signed(&c).get(ORDERS, "order_type=4").await;
    assert_eq!(r.ok()["total_count"], 1);
    // The monthly sums of the refund's month hold the refund row.
    let sum = app
        .signed(&c)
        .get(OWN_SUM, &format!("bill_cycle={}", cycle(now)))
        .await;
    let rows = sum.ok()["bill_sums"].as_array().unwrap().clone();
    assert!(
        rows.iter()
            .any(|r| r["bill_type"] == 2 && yuan(&r["consume_amount"]) == "-90.41"),
        "{}",
        sum.text
    );
    // The resource is closed; unsubscribing again fails for it.
    assert_eq!(resource(&app, &c, &rid).await["status"], 3);
    let again = app
        .signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 1}),
        )
        .await;
    assert_eq!(
        again.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.30000067"
    );
    assert_eq!(again.body["order_ids"], json!([]));
    let kinds: Vec<String> = events(&app, &rid).await.into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["created", "unsubscribed"]);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn renewals_by_hand_and_their_errors() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "35.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let expire = time(&resource(&app, &c, &rid).await["expire_time"]);

    // Paid at once from the balance: one more month, a bill type 2 record.
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1, "is_auto_pay": 1}),
        )
        .await;
    assert_eq!(r.ok()["fail_resource_infos"], json!([]), "{}", r.text);
    let renewal = r.body["order_ids"][0].as_str().unwrap().to_string();
    assert_eq!(
        details(&app, &c, &renewal).await["order_info"]["order_type"],
        2
    );
    let after = time(&resource(&app, &c, &rid).await["expire_time"]);
    assert_eq!(after, expire.checked_add_months(Months::new(1)).unwrap());
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "15.00");
    let types: Vec<i16> = sqlx::query_scalar(
        "select bill_type from fee_record where customer_id = $1 order by trade_time, bill_type",
    )
    .bind(&c.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(types, [1, 2]);

    // Left pending: a second renewal waits for it; paying it with pay_orders extends.
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1}),
        )
        .await;
    let pending = r.ok()["order_ids"][0].as_str().unwrap().to_string();
    assert_eq!(details(&app, &c, &pending).await["order_info"]["status"], 6);
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1}),
        )
        .await;
    assert_eq!(
        r.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.30050010"
    );
    assert_eq!(pay(&app, &c, &pending, &[]).await.status, 200);
    let after2 = time(&resource(&app, &c, &rid).await["expire_time"]);
    assert_eq!(after2, after.checked_add_months(Months::new(1)).unwrap());

    // Auto-pay without money: the order is left pending and the failure named.
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 3, "period_num": 1, "is_auto_pay": 1}),
        )
        .await;
    assert_eq!(
        r.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.30050006",
        "{}",
        r.text
    );
    assert_eq!(r.body["order_ids"].as_array().unwrap().len(), 1);
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "5.00");

    // Per-resource and request errors.
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": ["nope"], "period_type": 2, "period_num": 1}),
        )
        .await;
    assert_eq!(
        r.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.99003012"
    );
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid, rid], "period_type": 2, "period_num": 1}),
        )
        .await
        .err(400, "CBC.30050012");
    let eleven: Vec<String> = (0..11).map(|i| format!("r{i}")).collect();
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": eleven, "period_type": 2, "period_num": 1}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 12}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 3, "period_num": 4}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 5, "period_num": 1}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1, "is_auto_pay": 2}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1}),
        )
        .await
        .err(403, "CBC.0151");
    // Another customer's resource does not exist for this one.
    let other = app.create_customer(&p, json!({})).await;
    let r = app
        .signed(&other)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1}),
        )
        .await;
    assert_eq!(
        r.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.99003012"
    );
    let kinds: Vec<String> = events(&app, &rid).await.into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["created", "renewed", "renewed"]);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn unsubscribing_only_the_renewed_periods_refunds_them_whole() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let expire = time(&resource(&app, &c, &rid).await["expire_time"]);
    // Nothing renewed yet: type 2 has nothing to unsubscribe.
    let r = app
        .signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 2}),
        )
        .await;
    assert_eq!(
        r.ok()["fail_resource_infos"][0]["error_code"],
        "CBC.30000067"
    );
    let r = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 2, "is_auto_pay": 1}),
        )
        .await;
    assert_eq!(r.ok()["fail_resource_infos"], json!([]));
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "70.00");
    app.clock.advance(Duration::days(3));
    let r = app
        .signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 2}),
        )
        .await;
    assert_eq!(
        r.ok()["order_ids"].as_array().unwrap().len(),
        1,
        "{}",
        r.text
    );
    // The renewal (20.00) comes back whole; the resource keeps its first period.
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "90.00");
    let res = resource(&app, &c, &rid).await;
    assert_eq!(res["status"], 2);
    assert_eq!(time(&res["expire_time"]), expire);
    // Request errors.
    for bad in [
        json!({"resource_ids": [rid], "unsubscribe_type": 3}),
        json!({"resource_ids": [], "unsubscribe_type": 1}),
        json!({"resource_ids": [rid], "unsubscribe_type": 1, "unsubscribe_reason_type": 6}),
        json!({"resource_ids": [rid]}),
    ] {
        app.signed(&c)
            .post(UNSUBSCRIBE, &bad)
            .await
            .err(400, "CBC.0100");
    }
    app.signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid, rid], "unsubscribe_type": 1}),
        )
        .await
        .err(400, "CBC.30050012");
    app.assert_audit_ok().await;
}

async fn auto_renew(app: &TestApp, c: &Creds, id: &str, body: Value) -> Resp {
    app.signed(c).post(&format!("{AUTO}/{id}"), &body).await
}

#[tokio::test]
async fn auto_renewal_switches_and_their_errors() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let r = auto_renew(
        &app,
        &c,
        &rid,
        json!({"auto_renew_times": 3, "period_type": "MONTH"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(resource(&app, &c, &rid).await["expire_policy"], 3);
    let r = app
        .signed(&c)
        .request(
            Method::DELETE,
            &format!("{AUTO}/{rid}"),
            "",
            None,
            Tamper::default(),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(resource(&app, &c, &rid).await["expire_policy"], 0);
    auto_renew(&app, &c, "nope", json!({}))
        .await
        .err(400, "CBC.99003012");
    auto_renew(&app, &c, &rid, json!({"auto_renew_times": 100}))
        .await
        .err(400, "CBC.0100");
    auto_renew(&app, &c, &rid, json!({"period_type": "WEEK"}))
        .await
        .err(400, "CBC.0100");
    auto_renew(&app, &p, &rid, json!({}))
        .await
        .err(403, "CBC.0151");
    let kinds: Vec<String> = events(&app, &rid).await.into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["created", "auto_renew_on", "auto_renew_off"]);
    // A deleted resource cannot be switched.
    app.signed(&c)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 1}),
        )
        .await
        .ok();
    auto_renew(&app, &c, &rid, json!({}))
        .await
        .err(400, "CBC.30000067");
}

#[tokio::test]
async fn a_year_later_the_time_rule_has_renewed_twelve_times_and_expired_the_unpaid_ones_on_the_configured_days(
) {
    let app = TestApp::spawn().await;
    let (p, rich) = funded_customer(&app, "2000.00").await;
    let poor = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &poor.id, "20.00").await.ok();
    let product = period_product(&app, "10.00", "100.00").await;
    let t0 = app.now();
    let (_, renewed) = bought(&app, &rich, &product, 2, true, &[]).await;
    // Two resources of a customer that cannot pay a second month: one without auto-renewal,
    // one with it.
    let (_, plain) = bought(&app, &poor, &product, 2, false, &[]).await;
    let (_, failing) = bought(&app, &poor, &product, 2, true, &[]).await;
    assert_eq!(
        money(&app, &poor.id).await["cash_amount"].to_string(),
        "0.00"
    );

    app.clock.advance(Duration::days(365));
    let pass = partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert!(pass.resource_steps >= 12 + 3 + 4, "{pass:?}");

    // Twelve renewals, each deducted 7 days (orders.renew_days_before) before the expiry it
    // extends, its fee record (bill type 8) dated then, in order.
    let month = |k: u32| t0.checked_add_months(Months::new(k)).unwrap();
    let fees: Vec<(DateTime<Utc>, i16, i64, DateTime<Utc>)> = sqlx::query_as(
        "select trade_time, bill_type, cash, begin_time from fee_record where resource_id = $1 and bill_type = 8
          order by trade_time",
    )
    .bind(&renewed)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(fees.len(), 12);
    for (k, (trade, bill_type, cash, begin)) in fees.iter().enumerate() {
        let k = k as u32 + 1;
        assert_eq!(
            (*trade, *bill_type, *cash, *begin),
            (month(k) - Duration::days(7), 8, 1_000, month(k))
        );
    }
    let journals: i64 = sqlx::query_scalar("select count(*) from journal where kind = 'order_payment' and trans_id in (select id from fee_record where resource_id = $1)")
        .bind(&renewed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(journals, 13);
    assert_eq!(
        money(&app, &rich.id).await["cash_amount"].to_string(),
        "1870.00"
    );
    let r = resource(&app, &rich, &renewed).await;
    assert_eq!(r["status"], 2);
    assert_eq!(time(&r["expire_time"]), month(13));
    let auto: Vec<DateTime<Utc>> = events(&app, &renewed)
        .await
        .into_iter()
        .filter(|e| e.0 == "auto_renewed")
        .map(|e| e.1)
        .collect();
    assert_eq!(
        auto,
        (1..=12)
            .map(|k| month(k) - Duration::days(7))
            .collect::<Vec<_>>()
    );
    let r = app.signed(&rich).get(ORDERS, "order_type=2").await;
    assert_eq!(r.ok()["total_count"], 12);
    assert_eq!(r.body["order_infos"][0]["source_type"], 8);

    // No money: grace period at expiry, frozen 15 days later, deleted 15 days after that.
    let expiry = month(1);
    let path = [
        ("grace".to_string(), expiry, "system".to_string()),
        (
            "frozen".to_string(),
            expiry + Duration::days(15),
            "system".to_string(),
        ),
        (
            "deleted".to_string(),
            expiry + Duration::days(30),
            "system".to_string(),
        ),
    ];
    let plain_events = events(&app, &plain).await;
    assert_eq!(plain_events[1..], path[..]);
    let failing_events = events(&app, &failing).await;
    assert_eq!(failing_events[1].0, "auto_renew_failed");
    assert_eq!(failing_events[1].1, expiry - Duration::days(7));
    assert_eq!(failing_events[2..], path[..]);
    assert_eq!(resource(&app, &poor, &plain).await["status"], 3);
    assert_eq!(
        money(&app, &poor.id).await["cash_amount"].to_string(),
        "0.00"
    );

    // Running again does nothing more.
    let again = partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(again.resource_steps, 0);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_expiry_steps_come_one_by_one_as_the_clock_moves() {
    let app = TestApp::spawn_with(|cfg| {
        cfg.orders.grace_days = 3;
        cfg.orders.retention_days = 5;
    })
    .await;
    let (_p, c) = funded_customer(&app, "10.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let t0 = app.now();
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let expiry = t0.checked_add_months(Months::new(1)).unwrap();
    let run = || async {
        partner_center::service::time_rules::run_all(&app.state)
            .await
            .unwrap()
    };
    app.clock.set(expiry - Duration::seconds(1));
    run().await;
    assert_eq!(resource(&app, &c, &rid).await["status"], 2);
    app.clock.set(expiry);
    run().await;
    assert_eq!(resource(&app, &c, &rid).await["status"], 5);
    app.clock.set(expiry + Duration::days(3));
    run().await;
    assert_eq!(resource(&app, &c, &rid).await["status"], 4);
    // Renewing a frozen resource brings it back in use.
    fund_and_renew(&app, &c, &rid).await;
    assert_eq!(resource(&app, &c, &rid).await["status"], 2);
    app.clock
        .set(expiry.checked_add_months(Months::new(1)).unwrap() + Duration::days(8));
    run().await;
    let kinds: Vec<String> = events(&app, &rid).await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        ["created", "grace", "frozen", "renewed", "grace", "frozen", "deleted"]
    );
}

async fn fund_and_renew(app: &TestApp, c: &Creds, rid: &str) {
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/customers/{}/deposits", c.id),
            Some(json!({"amount": 10.00})),
        )
        .await;
    assert!(r.status < 300, "{}", r.text);
    let r = app
        .signed(c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1, "is_auto_pay": 1}),
        )
        .await;
    assert_eq!(r.ok()["fail_resource_infos"], json!([]), "{}", r.text);
}

const TO_ON_DEMAND: &str = "/v2/orders/subscriptions/resources/to-on-demand";
const INSTANTLY: &str = "/v2/orders/subscriptions/resources/to-on-demand/instantly";
const RENEW_CONFIG: &str = "/v2/orders/subscriptions/resources/renew/config";
const RENEW_RATE: &str = "/v2/bills/ratings/period-resources/renew-rate";
const ON_DEMAND: &str = "/v2/partners/sub-customers/on-demand-resources/query";

#[tokio::test]
async fn switching_to_pay_per_use_at_expiry_or_at_once() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "30.00", "300.00").await;
    let t0 = app.now();
    let (_, at_expiry) = bought(&app, &c, &product, 2, true, &[]).await;
    let (_, now_one) = bought(&app, &c, &product, 2, false, &[]).await;
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "40.00");

    // At expiry: SET_UP (auto-renewal off), CANCEL, SET_UP again.
    for op in ["SET_UP", "CANCEL", "SET_UP"] {
        let r = app
            .signed(&c)
            .post(
                TO_ON_DEMAND,
                &json!({"operation": op, "resource_ids": [at_expiry]}),
            )
            .await;
        assert_eq!(r.ok()["error_details"], json!([]), "{}", r.text);
    }
    assert_eq!(resource(&app, &c, &at_expiry).await["expire_policy"], 1);
    let r = app
        .signed(&c)
        .post(
            TO_ON_DEMAND,
            &json!({"operation": "SET_UP", "resource_ids": ["nope"]}),
        )
        .await;
    assert_eq!(r.ok()["error_details"][0]["error_code"], "CBC.99003012");
    assert_eq!(r.body["error_details"][0]["id"], "nope");
    app.signed(&c)
        .post(
            TO_ON_DEMAND,
            &json!({"operation": "NOW", "resource_ids": [at_expiry]}),
        )
        .await
        .err(400, "CBC.0100");
    let many: Vec<String> = (0..101).map(|i| format!("r{i}")).collect();
    app.signed(&c)
        .post(
            TO_ON_DEMAND,
            &json!({"operation": "SET_UP", "resource_ids": many}),
        )
        .await
        .err(400, "CBC.0100");

    // At once, after 10 days of 31 (or 30): the unused part back to cash, a type 10 order.
    app.clock.advance(Duration::days(10));
    let r = app
        .signed(&c)
        .post(INSTANTLY, &json!({"resource_ids": [now_one, "nope"]}))
        .await;
    let results = r.ok()["to_ondemand_service_results"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(results[0]["result"], "SUCCESS", "{}", r.text);
    assert_eq!(results[1]["result"], "FAIL");
    assert_eq!(results[1]["error_code"], "CBC.99003012");
    let oid = results[0]["order_id"].as_str().unwrap().to_string();
    let res = resource(&app, &c, &now_one).await;
    let (b, e) = (time(&res["effective_time"]), time(&res["expire_time"]));
    let back = partner_center::domain::orders::unused_refund(3_000, b, e, app.now());
    assert_eq!(res["status"], 3);
    let cash = money(&app, &c.id).await["cash_amount"].to_string();
    assert_eq!(
        cash,
        format!("{}.{:02}", (4_000 + back) / 100, (4_000 + back) % 100)
    );
    let o = details(&app, &c, &oid).await;
    assert_eq!(o["order_info"]["order_type"], 10);
    let d = app
        .signed(&c)
        .get(REFUNDS, &format!("order_id={oid}"))
        .await;
    assert_eq!(d.ok()["total_count"], 1);
    let bill: i16 = sqlx::query_scalar("select bill_type from fee_record where trade_id = $1")
        .bind(&oid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(bill, 24);
    app.signed(&c)
        .post(INSTANTLY, &json!({"resource_ids": []}))
        .await
        .err(400, "CBC.0100");
    app.signed(&c)
        .post(INSTANTLY, &json!({"resource_ids": ["x".repeat(65)]}))
        .await
        .err(400, "CBC.0100");

    // The one switched at expiry ends there (no renewal, no grace period).
    app.clock
        .set(t0.checked_add_months(Months::new(1)).unwrap());
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(resource(&app, &c, &at_expiry).await["status"], 3);
    let kinds: Vec<String> = events(&app, &at_expiry)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "to_on_demand_set",
            "to_on_demand_cancel",
            "to_on_demand_set",
            "to_on_demand"
        ]
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_renewal_deduction_date_and_renewal_quotes() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let t0 = app.now();
    let (_, rid) = bought(&app, &c, &product, 2, true, &[]).await;
    let set = |name: &str, value: &str| {
        let body = json!({"config_name": name, "config_value": value});
        let app = &app;
        let c = &c;
        async move { app.signed(c).post(RENEW_CONFIG, &body).await }
    };
    assert_eq!(set("DEDUCTION_DATE", "3").await.status, 200);
    set("DEDUCTION_DATE", "8").await.err(400, "CBC.0100");
    set("DEDUCTION_DATE", "x").await.err(400, "CBC.0100");
    set("EXPIRE_DATE", "29").await.err(400, "CBC.0100");
    app.signed(&p)
        .post(
            RENEW_CONFIG,
            &json!({"config_name": "DEDUCTION_DATE", "config_value": "3"}),
        )
        .await
        .err(403, "CBC.0151");
    // Renewed 3 days before expiry, not 7.
    let expiry = t0.checked_add_months(Months::new(1)).unwrap();
    app.clock.set(expiry - Duration::days(4));
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(time(&resource(&app, &c, &rid).await["expire_time"]), expiry);
    app.clock.set(expiry - Duration::days(3));
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(
        time(&resource(&app, &c, &rid).await["expire_time"]),
        expiry.checked_add_months(Months::new(1)).unwrap()
    );

    // Quotes: 3 months = 30.00; with a partner discount of 0.9 the offer is 27.00.
    let quote = |body: Value| {
        let app = &app;
        let c = &c;
        async move { app.signed(c).post(RENEW_RATE, &body).await }
    };
    let r = quote(json!({"resource_ids": [rid, "nope"], "period_type": 2, "period_num": 3})).await;
    assert_eq!(
        r.ok()["renew_inquiry_results"][0]["amount"],
        "30.00",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["official_website_rating_result"]["official_website_amount"],
        "30.00"
    );
    assert_eq!(
        r.body["fail_resource_infos"][0]["error_code"],
        "CBC.99003012"
    );
    assert_eq!(r.body["optional_discount_rating_results"], json!([]));
    crate::orders::put(
        &app,
        &p,
        "/v2/partners/sub-customers/discounts",
        &json!({"customer_id": c.id, "discount_rate": "0.9"}),
    )
    .await
    .ok();
    let r = quote(json!({"resource_ids": [rid], "period_type": 3, "period_num": 1})).await;
    assert_eq!(r.ok()["renew_inquiry_results"][0]["amount"], "90.00");
    let d = &r.body["optional_discount_rating_results"][0];
    assert_eq!(
        (d["discount_type"].clone(), d["discount_amount"].clone()),
        (json!(3), json!("10.00"))
    );
    quote(json!({"resource_ids": [rid], "period_type": 2, "period_num": 12}))
        .await
        .err(400, "CBC.0100");
    quote(json!({"resource_ids": [rid], "period_type": 1, "period_num": 1}))
        .await
        .err(400, "CBC.0100");
    quote(json!({"resource_ids": [], "period_type": 2, "period_num": 1}))
        .await
        .err(400, "CBC.0100");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_partner_sees_a_customers_on_demand_resources_from_its_usage() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "100.00").await;
    let stranger = app.create_partner("solution_provider", None).await;
    let ecs = crate::consumption::ecs_product(&app, "1.00").await;
    let rec = crate::consumption::record(
        &app,
        "ev-1",
        &c.id,
        &ecs,
        "duration",
        "2",
        crate::consumption::HOUR,
    );
    crate::consumption::charge(&app, rec).await;
    let query = |who: &Creds, body: Value| {
        let app = &app;
        let who = who.clone();
        async move { app.signed(&who).post(ON_DEMAND, &body).await }
    };
    let r = query(&p, json!({"customer_id": c.id})).await;
    assert_eq!(r.ok()["total_count"], 1, "{}", r.text);
    let res = &r.body["resources"][0];
    assert_eq!(res["resource_id"], json!(format!("res-{ecs}")));
    assert_eq!(res["service_type_code"], ECS);
    assert_eq!(res["status"], 1);
    assert_eq!(
        query(
            &p,
            json!({"customer_id": c.id, "region_code": "cn-north-1"})
        )
        .await
        .ok()["total_count"],
        1
    );
    assert_eq!(
        query(
            &p,
            json!({"customer_id": c.id, "service_type_code": "hws.service.type.obs"})
        )
        .await
        .ok()["total_count"],
        0
    );
    assert_eq!(
        query(&p, json!({"customer_id": c.id, "resource_ids": ["other"]}))
            .await
            .ok()["total_count"],
        0
    );
    assert_eq!(
        query(&p, json!({"customer_id": c.id, "status": 3}))
            .await
            .ok()["total_count"],
        0
    );
    let later = crate::consumption::ts(app.now() + Duration::days(1));
    assert_eq!(
        query(
            &p,
            json!({"customer_id": c.id, "effective_time_begin": later})
        )
        .await
        .ok()["total_count"],
        0
    );
    // Errors.
    query(&c, json!({"customer_id": c.id}))
        .await
        .err(403, "CBC.0151");
    query(&stranger, json!({"customer_id": c.id}))
        .await
        .err(400, "CBC.99000035");
    let d = app.create_partner("distributor", None).await;
    query(
        &d,
        json!({"customer_id": c.id, "indirect_partner_id": p.id}),
    )
    .await
    .err(400, "CBC.99000037");
    query(&p, json!({"customer_id": ""}))
        .await
        .err(400, "CBC.0100");
    query(&p, json!({})).await.err(400, "CBC.0100");
    let many: Vec<String> = (0..51).map(|i| format!("r{i}")).collect();
    query(&p, json!({"customer_id": c.id, "resource_ids": many}))
        .await
        .err(400, "CBC.0100");
    query(&p, json!({"customer_id": c.id, "status": 7}))
        .await
        .err(400, "CBC.0100");
    query(&p, json!({"customer_id": c.id, "limit": 101}))
        .await
        .err(400, "CBC.0100");
}

#[tokio::test]
async fn a_manager_reads_only_its_customers_resources_others_are_cbc_99000000() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let mine = app.create_customer(&p, json!({})).await;
    let theirs = app.create_customer(&p, json!({})).await;
    let role = crate::organisation::role(&app, &p, "billing", &["billing:read"]).await;
    let m =
        crate::organisation::operator(&app, &p, json!({"role_id": role, "scope": "manager"})).await;
    let m_id = crate::organisation::operator_id(&app, &p, &m).await;
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/assignments",
            &json!({"customer_id": mine.id, "manager_id": m_id}),
        )
        .await
        .ok();
    let on_demand = "/v2/partners/sub-customers/on-demand-resources/query";
    let r = app
        .signed(&m)
        .post(on_demand, &json!({"customer_id": mine.id}))
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    for path in [on_demand, QUERY] {
        app.signed(&m)
            .post(path, &json!({"customer_id": theirs.id}))
            .await
            .err(400, "CBC.99000000");
        // The partner itself sees both.
        app.signed(&p)
            .post(path, &json!({"customer_id": theirs.id}))
            .await
            .ok();
    }
}

/// The resource-state codes of the auto-renewal and to-on-demand operations: cancelling
/// auto-renewal twice is CBC.99003605; switching it on in the grace period is CBC.99003602; a
/// resource in a renewal order pending payment cannot switch to pay-per-use (CBC.99003623, in
/// both operations' per-resource failures).
#[tokio::test]
async fn auto_renewal_and_to_on_demand_refuse_by_resource_state() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    let cancel = |id: String| {
        let (app, c) = (&app, &c);
        async move {
            app.signed(c)
                .request(
                    Method::DELETE,
                    &format!("{AUTO}/{id}"),
                    "",
                    None,
                    Tamper::default(),
                )
                .await
        }
    };
    let r = cancel(rid.clone()).await;
    r.err(400, "CBC.99003605");
    assert_eq!(
        r.body["error_msg"],
        "Auto-renewal is already cancelled for this resource."
    );
    assert_eq!(auto_renew(&app, &c, &rid, json!({})).await.status, 204);
    assert_eq!(cancel(rid.clone()).await.status, 204);
    cancel(rid.clone()).await.err(400, "CBC.99003605");

    // A renewal order left pending: no switch to pay-per-use, at expiry or at once.
    let pending = app
        .signed(&c)
        .post(
            RENEW,
            &json!({"resource_ids": [rid], "period_type": 2, "period_num": 1}),
        )
        .await;
    assert!(pending.ok()["order_ids"][0].is_string(), "{}", pending.text);
    let r = app
        .signed(&c)
        .post(
            TO_ON_DEMAND,
            &json!({"operation": "SET_UP", "resource_ids": [rid]}),
        )
        .await;
    assert_eq!(
        r.ok()["error_details"][0]["error_code"],
        "CBC.99003623",
        "{}",
        r.text
    );
    assert_eq!(r.body["error_details"][0]["id"], json!(rid));
    let r = app
        .signed(&c)
        .post(INSTANTLY, &json!({"resource_ids": [rid]}))
        .await;
    let res = &r.ok()["to_ondemand_service_results"][0];
    assert_eq!(res["result"], "FAIL", "{}", r.text);
    assert_eq!(res["error_code"], "CBC.99003623", "{}", r.text);
    assert_eq!(resource(&app, &c, &rid).await["status"], 2);

    // Past its expiry (grace period): auto-renewal cannot be switched on.
    let (_, grace) = bought(&app, &c, &product, 2, false, &[]).await;
    app.clock.advance(Duration::days(32));
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(resource(&app, &c, &grace).await["status"], 5);
    let r = auto_renew(&app, &c, &grace, json!({})).await;
    r.err(400, "CBC.99003602");
    assert_eq!(
        r.body["error_msg"],
        "The resource has expired or is frozen: auto-renewal cannot be set."
    );
    app.assert_audit_ok().await;
}
