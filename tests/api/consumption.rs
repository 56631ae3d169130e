//! Consumption (issue 8): usage ingestion and rating, the deduction order through the ledger,
//! arrears and their settlement, refunds, and the bill APIs over what was charged. Every money
//! test ends with a clean ledger audit.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, TestApp};

pub const USAGE: &str = "/admin/v1/usage-records";
pub const DETAIL: &str = "/v2/bills/subcustomer-bills/res-fee-records";
pub const PARTNER_SUM: &str = "/v2/bills/partner-bills/subcustomer-bills/monthly-sum";
pub const CONSUMERS: &str = "/v2/bills/subcustomer-bills/res-fee-records/sub-customers/query";
pub const OWN_SUM: &str = "/v2/bills/customer-bills/monthly-sum";
pub const OWN_FEES: &str = "/v2/bills/customer-bills/fee-records";
const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
pub const COUPONS: &str = "/v2/promotions/benefits/partner-coupons";
const CUSTOMER_BALANCES: &str = "/v2/accounts/customer-accounts/balances/batch-query";

pub const ECS: &str = "hws.service.type.ec2";
pub const OBS: &str = "hws.service.type.obs";
pub const HOUR: i64 = 4;
pub const GB_HOUR: i64 = 17;

pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn body(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// The bill cycle (`YYYY-MM`, UTC+8) of a time.
pub fn cycle(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8)).format("%Y-%m").to_string()
}

/// Registers a product with one on-demand price (yuan per one `measure` of `usage_type`).
pub async fn priced_product(
    app: &TestApp,
    service: &str,
    resource: &str,
    usage_type: &str,
    measure: i64,
    unit_price: &str,
) -> String {
    let id = format!("prod-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/products",
            Some(json!({
                "product_id": id,
                "cloud_service_type": service,
                "name": format!("Product {id}"),
                "resource_type_code": resource,
                "on_demand_prices": [{"usage_type": usage_type, "usage_measure_id": measure,
                                      "unit_price": unit_price}],
            })),
        )
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    id
}

pub async fn ecs_product(app: &TestApp, unit_price: &str) -> String {
    priced_product(
        app,
        ECS,
        "hws.resource.type.vm",
        "duration",
        HOUR,
        unit_price,
    )
    .await
}

pub async fn obs_product(app: &TestApp, unit_price: &str) -> String {
    priced_product(
        app,
        OBS,
        "hws.resource.type.obs",
        "obs_storage",
        GB_HOUR,
        unit_price,
    )
    .await
}

/// A usage record of `usage` units (`measure`) of `usage_type`, one hour ending now.
pub fn record(
    app: &TestApp,
    event: &str,
    customer: &str,
    product: &str,
    usage_type: &str,
    usage: &str,
    measure: i64,
) -> Value {
    let end = app.now();
    body(&format!(
        r#"{{"event_id": "{event}", "customer_id": "{customer}", "product_id": "{product}",
             "usage_type": "{usage_type}", "usage": {usage}, "usage_measure_id": {measure},
             "resource_id": "res-{product}", "resource_name": "my resource",
             "region_code": "cn-north-1", "begin_time": "{}", "end_time": "{}"}}"#,
        ts(end - Duration::hours(1)),
        ts(end)
    ))
}

pub async fn ingest(app: &TestApp, records: Vec<Value>) -> Resp {
    app.admin(Method::POST, USAGE, Some(json!({ "records": records })))
        .await
}

/// Ingests one record and returns its result (asserting it was charged).
pub async fn charge(app: &TestApp, rec: Value) -> Value {
    let r = ingest(app, vec![rec]).await;
    let res = r.ok()["results"][0].clone();
    assert_eq!(res["status"], "charged", "{}", r.text);
    res
}

pub async fn fund(app: &TestApp, p: &Creds, customer: &str, amount: &str) -> Resp {
    app.signed(p)
        .post(
            FUND,
            &body(&format!(
                r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
            )),
        )
        .await
}

/// Grants a quota (`quota_type` 0 voucher, 1 cash coupon) and issues one coupon of `face` from it.
pub async fn coupon(
    app: &TestApp,
    p: &Creds,
    customer: &str,
    quota_type: i64,
    face: &str,
    services: &[&str],
    expire_days: i64,
) -> String {
    let mut g = body(&format!(
        r#"{{"quota_type": {quota_type}, "quota_value": 100.00, "effective_time": "{}", "expire_time": "{}"}}"#,
        ts(app.now() - Duration::hours(1)),
        ts(app.now() + Duration::days(expire_days))
    ));
    if !services.is_empty() {
        g["cloud_service_types"] = json!(services);
    }
    let q = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
            Some(g),
        )
        .await;
    assert_eq!(q.status, 201, "{}", q.text);
    let quota = q.body["quota_id"].as_str().unwrap();
    let r = app
        .signed(p)
        .post(
            COUPONS,
            &body(&format!(
                r#"{{"quota_id": "{quota}", "customer_ids": ["{customer}"], "face_value": {face}}}"#
            )),
        )
        .await;
    r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn sell_card(app: &TestApp, customer: &str, face: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/customers/{customer}/stored-value-cards"),
            Some(body(&format!(
                r#"{{"card_name": "Card", "face_value": {face}, "expire_time": "{}"}}"#,
                ts(app.now() + Duration::days(90))
            ))),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["card_id"].as_str().unwrap().to_string()
}

/// The customer's money as the vendor sees it.
pub async fn money(app: &TestApp, customer: &str) -> Value {
    let r = app
        .admin(
            Method::GET,
            &format!("/admin/v1/customers/{customer}/money"),
            None,
        )
        .await;
    r.ok().clone()
}

/// The fee records of a customer this cycle, newest first (partner view).
pub async fn details(app: &TestApp, p: &Creds, customer: &str, extra: &str) -> Value {
    let q = format!(
        "bill_cycle={}&customer_id={customer}&limit=100{extra}",
        cycle(app.now())
    );
    app.signed(p).get(DETAIL, &q).await.ok().clone()
}

pub fn split(r: &Value) -> [String; 6] {
    [
        "coupon_amount",
        "flexipurchase_coupon_amount",
        "stored_value_card_amount",
        "cash_amount",
        "credit_amount",
        "debt_amount",
    ]
    .map(|k| r[k].to_string())
}

/// payable = Σ split (exact decimals); `total` names the payable field of the record's view.
pub fn assert_split_sums_to(r: &Value, total: &str) {
    use rust_decimal::Decimal;
    use std::str::FromStr;
    let d = |k: &str| Decimal::from_str(&r[k].to_string()).unwrap_or_else(|_| panic!("{k}: {r}"));
    let parts: Decimal = [
        "coupon_amount",
        "flexipurchase_coupon_amount",
        "stored_value_card_amount",
        "cash_amount",
        "credit_amount",
        "debt_amount",
        "writeoff_amount",
    ]
    .iter()
    .map(|k| d(k))
    .sum();
    assert_eq!(parts, d(total), "{r}");
}

/// payable = Σ split of a partner-view detail record.
pub fn assert_identities(r: &Value) {
    assert_split_sums_to(r, "payment_amount");
}

#[tokio::test]
async fn charges_follow_the_deduction_order_then_arrears_and_the_next_funding_settles_them() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let c = app.create_customer(&p, json!({})).await;
    let ecs = ecs_product(&app, "1.00").await;
    let obs = obs_product(&app, "1.00").await;
    // An ECS-only voucher of 5, a cash coupon of 3, a stored-value card of 4 and 2 of cash.
    let voucher = coupon(&app, &p, &c.id, 0, "5.00", &[ECS], 30).await;
    let cash_coupon = coupon(&app, &p, &c.id, 1, "3.00", &[], 30).await;
    let card = sell_card(&app, &c.id, "4.00").await;
    fund(&app, &p, &c.id, "2.00").await.ok();
    app.assert_audit_ok().await;

    // 6 hours of ECS (6.00): the voucher's 5, then 1 of the cash coupon.
    let r1 = charge(&app, record(&app, "e1", &c.id, &ecs, "duration", "6", HOUR)).await;
    assert_eq!(r1["amount"].to_string(), "6.00");
    // 4 GB·h of OBS (4.00): the voucher does not apply; the cash coupon's 2, then 2 of the card.
    charge(
        &app,
        record(&app, "e2", &c.id, &obs, "obs_storage", "4", GB_HOUR),
    )
    .await;
    // 5 hours of ECS (5.00): the card's last 2, the cash 2, then 1 of arrears.
    let r3 = charge(&app, record(&app, "e3", &c.id, &ecs, "duration", "5", HOUR)).await;
    app.assert_audit_ok().await;

    let d = details(&app, &p, &c.id, "").await;
    assert_eq!(d["total_count"], 3);
    let recs = d["fee_records"].as_array().unwrap();
    let by_id = |id: &Value| recs.iter().find(|r| &r["id"] == id).unwrap().clone();
    let f1 = by_id(&r1["fee_record_id"]);
    assert_eq!(split(&f1), ["5.00", "1.00", "0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(f1["service_type_code"], ECS);
    assert_eq!(f1["bill_detail_type"], 5);
    assert_eq!(f1["charging_mode"], 3);
    assert_eq!(f1["usage_amount"].to_string(), "6");
    assert_eq!(f1["payment_amount"].to_string(), "6.00");
    let f2 = recs.iter().find(|r| r["service_type_code"] == OBS).unwrap();
    assert_eq!(split(f2), ["0.00", "2.00", "2.00", "0.00", "0.00", "0.00"]);
    // All three share one trade time (the clock stands still): find the last by its id.
    let f3 = by_id(&r3["fee_record_id"]);
    assert_eq!(split(&f3), ["0.00", "0.00", "2.00", "2.00", "0.00", "1.00"]);
    for r in recs {
        assert_identities(r);
    }

    // Everything is spent: coupons and card used up, arrears of 1.00 everywhere balances show.
    let m = money(&app, &c.id).await;
    assert_eq!(m["cash_amount"].to_string(), "0.00");
    assert_eq!(m["debt_amount"].to_string(), "1.00");
    let b = app
        .signed(&p)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": c.id}]}),
        )
        .await;
    assert_eq!(
        b.ok()["customer_balances"][0]["debt_amount"].to_string(),
        "1.00"
    );
    let own = app
        .signed(&c)
        .get("/v2/accounts/customer-accounts/balances", "")
        .await;
    assert_eq!(own.ok()["debt_amount"].to_string(), "1.00");
    let cp = app
        .signed(&p)
        .get(COUPONS, &format!("coupon_id={voucher}"))
        .await;
    assert_eq!(cp.ok()["user_coupons"][0]["status"], 3, "voucher used up");
    assert_eq!(cp.body["user_coupons"][0]["balance"].to_string(), "0.00");
    let cp = app
        .signed(&p)
        .get(COUPONS, &format!("coupon_id={cash_coupon}"))
        .await;
    assert_eq!(cp.ok()["user_coupons"][0]["status"], 3);
    let cards = app
        .signed(&c)
        .get("/v2/promotions/benefits/stored-value-cards", "status=2")
        .await;
    assert_eq!(cards.ok()["total_count"], 1);
    assert_eq!(
        cards.body["stored_value_cards"][0]["card_id"],
        card.as_str()
    );
    assert_eq!(cards.body["stored_value_cards"][0]["balance"], "0.00");

    // The partner is told (event feed, written in the charge's transaction).
    // (An event shows once every older transaction of the cluster has finished: wait as the
    // feed's own tests do.)
    let arrears = crate::events::wait_events(&app, &p, "customer.arrears", 1).await[0].clone();
    assert_eq!(arrears["type"], "customer.arrears", "{arrears}");
    assert_eq!(arrears["customer_id"], c.id.as_str());
    assert_eq!(
        arrears["data"]["debt_amount"].to_string().trim_matches('"'),
        "1.00"
    );

    // The next funding settles the arrears first.
    fund(&app, &p, &c.id, "3.00").await.ok();
    let m = money(&app, &c.id).await;
    assert_eq!(m["debt_amount"].to_string(), "0.00");
    assert_eq!(m["cash_amount"].to_string(), "2.00");
    app.assert_audit_ok().await;

    // The monthly sums equal their details.
    let s = app
        .signed(&c)
        .get(OWN_SUM, &format!("bill_cycle={}", cycle(app.now())))
        .await;
    let s = s.ok();
    assert_eq!(s["consume_amount"].to_string(), "15.00");
    assert_eq!(s["coupon_amount"].to_string(), "5.00");
    assert_eq!(s["flexipurchase_coupon_amount"].to_string(), "3.00");
    assert_eq!(s["stored_value_card_amount"].to_string(), "4.00");
    assert_eq!(s["cash_amount"].to_string(), "2.00");
    assert_eq!(s["debt_amount"].to_string(), "1.00");
    assert_eq!(s["total_count"], 2, "one row per service: {s}");
}

#[tokio::test]
async fn a_tenth_of_an_hour_at_0_33335_is_payable_0_03_with_0_003335_erased() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "10.00").await.ok();
    let ecs = ecs_product(&app, "0.33335").await;
    let r = charge(
        &app,
        record(&app, "tiny", &c.id, &ecs, "duration", "0.1", HOUR),
    )
    .await;
    assert_eq!(r["amount"].to_string(), "0.03");
    let fees = app
        .signed(&c)
        .get(OWN_FEES, &format!("bill_cycle={}", cycle(app.now())))
        .await;
    let f = &fees.ok()["records"][0];
    assert_eq!(f["official_amount"].to_string(), "0.033335");
    assert_eq!(f["erase_amount"].to_string(), "0.003335");
    assert_eq!(f["official_discount_amount"].to_string(), "0");
    assert_eq!(f["consume_amount"].to_string(), "0.03");
    assert_eq!(f["cash_amount"].to_string(), "0.03");
    let m = money(&app, &c.id).await;
    assert_eq!(m["cash_amount"].to_string(), "9.97");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn an_event_charges_once_even_when_sent_twice_or_concurrently() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "50.00").await.ok();
    let ecs = ecs_product(&app, "1.00").await;
    let rec = record(&app, "once", &c.id, &ecs, "duration", "1", HOUR);
    let first = charge(&app, rec.clone()).await;
    // Again, and twice in one batch.
    let r = ingest(&app, vec![rec.clone(), rec.clone()]).await;
    for res in r.ok()["results"].as_array().unwrap() {
        assert_eq!(res["status"], "duplicate");
        assert_eq!(res["fee_record_id"], first["fee_record_id"]);
    }
    // 16 concurrent callers sending the same new event: exactly one charges.
    let rec2 = record(&app, "race", &c.id, &ecs, "duration", "1", HOUR);
    let calls = (0..16).map(|_| ingest(&app, vec![rec2.clone()]));
    let results = futures_util::future::join_all(calls).await;
    let charged = results
        .iter()
        .filter(|r| r.ok()["results"][0]["status"] == "charged")
        .count();
    assert_eq!(charged, 1);
    assert!(results
        .iter()
        .all(|r| r.body["results"][0]["status"] != "rejected"));
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "48.00");
    assert_eq!(details(&app, &p, &c.id, "").await["total_count"], 2);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn bad_records_are_rejected_alone_and_the_rest_of_the_batch_is_charged() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "50.00").await.ok();
    let ecs = ecs_product(&app, "1.00").await;
    let good = record(&app, "good", &c.id, &ecs, "duration", "2", HOUR);
    let mut unknown_customer = record(
        &app,
        "b1",
        "0123456789abcdef0123456789abcdef",
        &ecs,
        "duration",
        "1",
        HOUR,
    );
    unknown_customer["customer_id"] = json!("0123456789abcdef0123456789abcdef");
    let unknown_product = record(&app, "b2", &c.id, "nope", "duration", "1", HOUR);
    let unknown_usage = record(&app, "b3", &c.id, &ecs, "capacity", "1", HOUR);
    let negative = record(&app, "b4", &c.id, &ecs, "duration", "-1", HOUR);
    let mut backwards = record(&app, "b5", &c.id, &ecs, "duration", "1", HOUR);
    backwards["end_time"] = json!(ts(app.now() - Duration::hours(2)));
    let mut old = record(&app, "b6", &c.id, &ecs, "duration", "1", HOUR);
    old["begin_time"] = json!(ts(app.now() - Duration::days(19 * 31)));
    let wrong_unit = record(&app, "b7", &c.id, &ecs, "duration", "1", 10);
    let mut missing = record(&app, "b8", &c.id, &ecs, "duration", "1", HOUR);
    missing.as_object_mut().unwrap().remove("resource_id");
    let minutes = record(&app, "good-minutes", &c.id, &ecs, "duration", "30", 6);
    let r = ingest(
        &app,
        vec![
            good,
            unknown_customer,
            unknown_product,
            unknown_usage,
            negative,
            backwards,
            old,
            wrong_unit,
            missing,
            minutes,
        ],
    )
    .await;
    let res = r.ok()["results"].as_array().unwrap().clone();
    let status: Vec<(&str, Option<&str>)> = res
        .iter()
        .map(|x| (x["status"].as_str().unwrap(), x["error_code"].as_str()))
        .collect();
    assert_eq!(
        status,
        [
            ("charged", None),
            ("rejected", Some("CBC.5002")),
            ("rejected", Some("CBC.99006006")),
            ("rejected", Some("CBC.99006102")),
            ("rejected", Some("CBC.0100")),
            ("rejected", Some("CBC.0100")),
            ("rejected", Some("CBC.99006101")),
            ("rejected", Some("CBC.99006050")),
            ("rejected", Some("CBC.0100")),
            ("charged", None),
        ],
        "{}",
        r.text
    );
    assert!(res[8]["error_msg"]
        .as_str()
        .unwrap()
        .contains("resource_id"));
    assert_eq!(
        res[9]["amount"].to_string(),
        "0.50",
        "30 minutes at 1.00/hour"
    );
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "47.50");
    // A rejected event id was not used up: sent again correctly, it charges.
    let fixed = record(&app, "b3", &c.id, &ecs, "duration", "1", HOUR);
    charge(&app, fixed).await;
    // The batch bounds.
    ingest(&app, vec![]).await.err(400, "CBC.0100");
    let many: Vec<Value> = (0..1001)
        .map(|i| record(&app, &format!("m{i}"), &c.id, &ecs, "duration", "1", HOUR))
        .collect();
    ingest(&app, many).await.err(400, "CBC.0100");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_refund_goes_back_in_reverse_order_as_a_negative_row() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    let ecs = ecs_product(&app, "1.00").await;
    let voucher = coupon(&app, &p, &c.id, 0, "3.00", &[], 30).await;
    fund(&app, &p, &c.id, "2.00").await.ok();
    // 6.00 = voucher 3 + cash 2 + arrears 1.
    let r = charge(&app, record(&app, "r1", &c.id, &ecs, "duration", "6", HOUR)).await;
    let fee = r["fee_record_id"].as_str().unwrap().to_string();
    let adjust = |amount: &str, key: &str| {
        let app = &app;
        let fee = fee.clone();
        let key = key.to_string();
        let amount = amount.to_string();
        async move {
            app.send(
                app.http
                    .post(format!("{}/admin/v1/fee-records/{fee}/adjust", app.base))
                    .bearer_auth(crate::helpers::ADMIN_TOKEN)
                    .header("Idempotency-Key", key)
                    .header("Content-Type", "application/json")
                    .body(format!(r#"{{"amount": {amount}, "reason": "SLA credit"}}"#)),
            )
            .await
        }
    };
    // 2.50 back: the arrears 1 first, then 1.50 of cash.
    let a = adjust("2.50", "k1").await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.body["debt_amount"].to_string(), "1.00");
    assert_eq!(a.body["cash_amount"].to_string(), "1.50");
    assert_eq!(a.body["coupon_amount"].to_string(), "0.00");
    // Replayed with its key: the same answer, nothing moves twice.
    let again = adjust("2.50", "k1").await;
    assert_eq!(again.body, a.body);
    let m = money(&app, &c.id).await;
    assert_eq!(m["debt_amount"].to_string(), "0.00");
    assert_eq!(m["cash_amount"].to_string(), "1.50");
    // 3.50 more: cash 0.50, then the voucher 3.00 — which becomes usable again.
    let b = adjust("3.50", "k2").await;
    assert_eq!(b.status, 201, "{}", b.text);
    assert_eq!(b.body["cash_amount"].to_string(), "0.50");
    assert_eq!(b.body["coupon_amount"].to_string(), "3.00");
    let cp = app
        .signed(&p)
        .get(COUPONS, &format!("coupon_id={voucher}"))
        .await;
    assert_eq!(cp.ok()["user_coupons"][0]["status"], 2);
    assert_eq!(cp.body["user_coupons"][0]["balance"].to_string(), "3.00");
    // Nothing is left to refund.
    let c3 = adjust("0.01", "k3").await;
    c3.err(400, "CBC.99006104");
    let none = app
        .admin(
            Method::POST,
            "/admin/v1/fee-records/202601aaaaaaaaaaaaaaaaaaaaaaaaaa/adjust",
            Some(json!({"amount": 1, "reason": "x"})),
        )
        .await;
    none.err(400, "CBC.99006103");
    // The negative rows, and sums that net to zero.
    let d = details(&app, &p, &c.id, "").await;
    assert_eq!(d["total_count"], 3);
    let neg: Vec<&Value> = d["fee_records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["bill_detail_type"] == 4)
        .collect();
    assert_eq!(neg.len(), 2);
    for r in &neg {
        assert!(r["payment_amount"].to_string().starts_with('-'), "{r}");
        assert_identities(r);
    }
    let s = app
        .signed(&c)
        .get(OWN_SUM, &format!("bill_cycle={}", cycle(app.now())))
        .await;
    assert_eq!(s.ok()["consume_amount"].to_string(), "0.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_partner_discount_lowers_the_payable_amount_and_shows_as_official_discount() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "10.00").await.ok();
    let ecs = ecs_product(&app, "0.33335").await;
    let set = |rate: Value| {
        let app = &app;
        let p = &p;
        let c = c.id.clone();
        async move {
            app.signed(p)
                .request(
                    Method::PUT,
                    "/v2/partners/sub-customers/discounts",
                    "",
                    Some(json!({"customer_id": c, "discount_rate": rate}).to_string()),
                    Default::default(),
                )
                .await
        }
    };
    let r = set(json!("0.9")).await;
    assert_eq!(r.ok()["discount_rate"], "0.9");
    assert_eq!(r.body["discount_type"], 3);
    set(json!("1.5")).await.err(400, "CBC.0100");
    set(json!("0")).await.err(400, "CBC.0100");
    set(json!("abc")).await.err(400, "CBC.0100");
    // Another partner's customer is not this partner's to discount.
    let other = app.create_partner("solution_provider", None).await;
    let r = app
        .signed(&other)
        .request(
            Method::PUT,
            "/v2/partners/sub-customers/discounts",
            "",
            Some(json!({"customer_id": c.id, "discount_rate": "0.5"}).to_string()),
            Default::default(),
        )
        .await;
    r.err(400, "CBC.99000035");

    let r = charge(&app, record(&app, "d1", &c.id, &ecs, "duration", "1", HOUR)).await;
    assert_eq!(r["amount"].to_string(), "0.30");
    let d = details(&app, &p, &c.id, "").await;
    let f = &d["fee_records"][0];
    assert_eq!(f["official_amount"].to_string(), "0.33335");
    assert_eq!(f["official_discount_amount"].to_string(), "0.033335");
    assert_eq!(f["payment_amount"].to_string(), "0.30");
    let s = app
        .signed(&p)
        .get(
            PARTNER_SUM,
            &format!("cycle={}&charge_mode=3", cycle(app.now())),
        )
        .await;
    let row = &s.ok()["bill_sums"][0];
    assert_eq!(s.body["count"], 1);
    assert_eq!(row["amount"].to_string(), "0.30");
    assert_eq!(row["discount_amount"].to_string(), "0.033335");
    assert_eq!(row["bill_type"], "0");
    assert_eq!(row["charge_mode"], "3");
    assert_eq!(
        row["account_details"][0]["balance_type"],
        "BALANCE_TYPE_DEBIT"
    );
    assert_eq!(row["account_details"][0]["amount"].to_string(), "0.30");
    // Removing the discount: full price again.
    assert_eq!(set(Value::Null).await.ok()["discount_rate"], Value::Null);
    let r = charge(&app, record(&app, "d2", &c.id, &ecs, "duration", "1", HOUR)).await;
    assert_eq!(r["amount"].to_string(), "0.33");
    // The partner's consuming customers this cycle.
    let cs = app
        .signed(&p)
        .post(CONSUMERS, &json!({"bill_cycle": cycle(app.now())}))
        .await;
    assert_eq!(cs.ok()["total_count"], 1);
    assert_eq!(cs.body["sub_customers"][0]["customer_id"], c.id.as_str());
    app.assert_audit_ok().await;
}
