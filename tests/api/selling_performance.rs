//! Performance (业绩, issue 12): consumption paid in cash or by stored-value card, per Beijing
//! day, for the manager in force at the start of the day; visible from the next day on. And the
//! consumption and performance dashboards.

use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::{
    consumption::{charge, ecs_product, fund, record, sell_card, ECS, HOUR},
    helpers::{Creds, TestApp},
    organisation::{assign, operator, operator_id, role},
};

const SUMMARY: &str = "/v2/partners/performance/summary";
const DETAILS: &str = "/v2/partners/performance/details";
const BY_SERVICE: &str = "/v2/partners/dashboards/consumption";
const BY_MANAGER: &str = "/v2/partners/dashboards/performance";

/// (performance, cash, card) of a summary, as strings of the JSON numbers.
async fn summary(app: &TestApp, who: &Creds, query: &str) -> (String, String, String) {
    let r = app.signed(who).get(SUMMARY, query).await;
    let b = r.ok();
    (
        b["performance_amount"].to_string(),
        b["cash_amount"].to_string(),
        b["stored_value_card_amount"].to_string(),
    )
}

fn perf(s: &str) -> (String, String, String) {
    let v: Vec<&str> = s.split('/').collect();
    (v[0].into(), v[1].into(), v[2].into())
}

/// (customer, manager, performance) rows of the details.
fn rows(b: &Value) -> Vec<(String, String, String)> {
    b["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["customer_id"].as_str().unwrap().to_string(),
                d["manager_id"].as_str().unwrap_or("-").to_string(),
                d["performance_amount"].to_string(),
            )
        })
        .collect()
}

fn consume(app: &TestApp, ev: &str, customer: &str, product: &str, yuan: &str) -> Value {
    record(app, ev, customer, product, "duration", yuan, HOUR)
}

#[tokio::test]
async fn card_purchases_add_nothing_card_payments_add_and_a_reassignment_moves_performance_from_the_next_day(
) {
    let app = TestApp::spawn().await;
    // Day 0 is the 10th of this month, noon in Beijing; the test stays within the month.
    let real = app.now();
    app.clock.set(
        Utc.with_ymd_and_hms(real.year(), real.month(), 10, 4, 0, 0)
            .unwrap(),
    );
    let month = app.now().format("%Y-%m").to_string();
    let day = |n: i64| {
        (app.now() + Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let reader = role(&app, &p, "perf", &["customer:read", "billing:read"]).await;
    let no_bills = role(&app, &p, "no-bills", &["customer:read"]).await;
    let sup = operator(&app, &p, json!({"role_id": reader, "scope": "supervisor"})).await;
    let sup_id = operator_id(&app, &p, &sup).await;
    let m1 = operator(
        &app,
        &p,
        json!({"role_id": reader, "scope": "manager", "supervisor_id": sup_id}),
    )
    .await;
    let m2 = operator(&app, &p, json!({"role_id": reader, "scope": "manager"})).await;
    let staff = operator(&app, &p, json!({"role_id": reader})).await;
    let blind = operator(&app, &p, json!({"role_id": no_bills})).await;
    let (m1_id, m2_id) = (
        operator_id(&app, &p, &m1).await,
        operator_id(&app, &p, &m2).await,
    );
    let a = app.create_customer(&p, json!({})).await;
    let b = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &a.id, "50.00").await.ok();
    fund(&app, &p, &b.id, "50.00").await.ok();
    let ecs = ecs_product(&app, "1.00").await;

    // Day 0: A and B are assigned (to M1, M2); A consumes 1.00 in cash — that day is nobody's.
    let d0 = day(0);
    assign(&app, &p, &a, Some(&m1_id)).await.ok();
    assign(&app, &p, &b, Some(&m2_id)).await.ok();
    charge(&app, consume(&app, "a0", &a.id, &ecs, "1")).await;
    // A buys a stored-value card of 5.00: a purchase, not consumption.
    sell_card(&app, &a.id, "5.00").await;
    // Today's data appears tomorrow: nothing yet.
    let s = app.signed(&p).get(SUMMARY, "").await;
    assert_eq!(
        s.ok()["performance_amount"].to_string(),
        "0.00",
        "{}",
        s.text
    );
    assert_eq!(s.body["data_through"], day(-1));
    assert_eq!(s.body["from_month"], month);

    // Day 1: the card purchase added nothing (1.00, not 6.00).
    app.clock.advance(Duration::days(1));
    assert_eq!(summary(&app, &p, "").await, perf("1.00/1.00/0.00"));
    assert_eq!(
        app.signed(&p).get(SUMMARY, "").await.ok()["data_through"],
        d0
    );
    // A consumes 3.00 (paid by the card), B 8.00 (cash); A moves to M2, then consumes 2.00
    // (the rest of the card) — still M1's day.
    charge(&app, consume(&app, "a1", &a.id, &ecs, "3")).await;
    charge(&app, consume(&app, "b1", &b.id, &ecs, "8")).await;
    assign(&app, &p, &a, Some(&m2_id)).await.ok();
    charge(&app, consume(&app, "a2", &a.id, &ecs, "2")).await;
    // Day 2: A consumes 6.00 in cash, now M2's.
    app.clock.advance(Duration::days(1));
    charge(&app, consume(&app, "a3", &a.id, &ecs, "6")).await;
    // Day 1 is visible, day 2 not yet.
    assert_eq!(summary(&app, &p, "").await, perf("14.00/9.00/5.00"));
    app.clock.advance(Duration::days(1));

    // Day 3: everything through day 2. Total 1 + (3 + 2 card) + 8 + 6 = 20.00.
    assert_eq!(summary(&app, &p, "").await, perf("20.00/15.00/5.00"));
    assert_eq!(summary(&app, &staff, "").await, perf("20.00/15.00/5.00"));
    let q = format!("from_month={month}&to_month={month}");
    let s = app.signed(&p).get(SUMMARY, &q).await;
    let months = s.ok()["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "{}", s.text);
    assert_eq!(months[0]["month"], month);
    assert_eq!(months[0]["performance_amount"].to_string(), "20.00");
    assert_eq!(months[0]["consumption_amount"].to_string(), "20.00");
    // Consumption paid by card counts: M1 has only A's card-paid 5.00 of day 1.
    assert_eq!(summary(&app, &m1, "").await, perf("5.00/0.00/5.00"));
    // M2: B's 8.00 of day 1 and A's 6.00 of day 2 (the day after the reassignment).
    assert_eq!(summary(&app, &m2, "").await, perf("14.00/14.00/0.00"));
    // The supervisor sees its manager M1's only; the main account may narrow to a manager.
    assert_eq!(summary(&app, &sup, "").await, perf("5.00/0.00/5.00"));
    let only_m2 = format!("manager_id={m2_id}");
    assert_eq!(summary(&app, &p, &only_m2).await, perf("14.00/14.00/0.00"));
    let only_a = format!("customer_id={}", a.id);
    assert_eq!(summary(&app, &p, &only_a).await, perf("12.00/7.00/5.00"));
    assert_eq!(summary(&app, &m2, &only_a).await, perf("6.00/6.00/0.00"));
    // Another manager's performance is not the supervisor's nor a manager's to read.
    app.signed(&sup)
        .get(SUMMARY, &only_m2)
        .await
        .err(403, "CBC.0151");
    app.signed(&m1)
        .get(DETAILS, &only_m2)
        .await
        .err(403, "CBC.0151");
    // A previous month: nothing.
    let prev = (app.now() - Duration::days(40)).format("%Y-%m").to_string();
    let q = format!("from_month={prev}&to_month={prev}");
    assert_eq!(summary(&app, &p, &q).await, perf("0.00/0.00/0.00"));

    // Details by month, customer and manager of the day.
    let r = app.signed(&p).get(DETAILS, "limit=100").await;
    let mut want = vec![
        (a.id.clone(), "-".to_string(), "1.00".to_string()),
        (a.id.clone(), m1_id.clone(), "5.00".to_string()),
        (a.id.clone(), m2_id.clone(), "6.00".to_string()),
        (b.id.clone(), m2_id.clone(), "8.00".to_string()),
    ];
    want.sort();
    let mut got = rows(r.ok());
    got.sort();
    assert_eq!(got, want, "{}", r.text);
    assert_eq!(r.body["total_count"], 4);
    assert!(r.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["month"] == month.as_str()));
    let page = app.signed(&p).get(DETAILS, "offset=1&limit=2").await;
    assert_eq!(page.ok()["total_count"], 4);
    assert_eq!(page.body["details"].as_array().unwrap().len(), 2);
    let r = app.signed(&m2).get(DETAILS, "limit=100").await;
    let mut got = rows(r.ok());
    got.sort();
    let mut want = vec![
        (a.id.clone(), m2_id.clone(), "6.00".to_string()),
        (b.id.clone(), m2_id.clone(), "8.00".to_string()),
    ];
    want.sort();
    assert_eq!(got, want, "{}", r.text);
    assert_eq!(r.body["total_count"], 2);
    let r = app
        .signed(&p)
        .get(DETAILS, &format!("customer_id={}&limit=100", b.id))
        .await;
    assert_eq!(
        rows(r.ok()),
        vec![(b.id.clone(), m2_id.clone(), "8.00".to_string())]
    );

    // Dashboards: performance by manager, consumption by month and service.
    let r = app.signed(&p).get(BY_MANAGER, "").await;
    let ms: Vec<(Value, String)> = r.ok()["managers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["manager_id"].clone(), m["performance_amount"].to_string()))
        .collect();
    assert_eq!(
        ms,
        vec![
            (json!(m2_id), "14.00".to_string()),
            (json!(m1_id), "5.00".to_string()),
            (Value::Null, "1.00".to_string())
        ],
        "{}",
        r.text
    );
    assert_eq!(r.body["performance_amount"].to_string(), "20.00");
    let r = app.signed(&sup).get(BY_MANAGER, "").await;
    assert_eq!(r.ok()["managers"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["managers"][0]["manager_id"], json!(m1_id));
    let r = app.signed(&p).get(BY_SERVICE, "").await;
    let items = r.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    let it = &items[0];
    let got: Vec<String> = [
        "month",
        "service_type_code",
        "consumption_amount",
        "cash_amount",
        "stored_value_card_amount",
        "performance_amount",
        "records",
    ]
    .iter()
    .map(|k| it[k].to_string())
    .collect();
    assert_eq!(
        got,
        [
            format!("\"{month}\""),
            format!("\"{ECS}\""),
            "20.00".into(),
            "15.00".into(),
            "5.00".into(),
            "20.00".into(),
            "5".into()
        ],
        "{}",
        r.text
    );
    let r = app.signed(&m1).get(BY_SERVICE, "").await;
    assert_eq!(r.ok()["items"][0]["consumption_amount"].to_string(), "5.00");

    // Errors, all with the CBC body.
    for path in [SUMMARY, DETAILS, BY_SERVICE, BY_MANAGER] {
        app.signed(&a).get(path, "").await.err(403, "CBC.0151");
        app.signed(&blind).get(path, "").await.err(403, "CBC.0151");
        let r = app.signed(&p).get(path, "from_month=2026-3").await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains("from_month"), "{}", r.text);
        let r = app
            .signed(&p)
            .get(path, "from_month=2026-05&to_month=2026-04")
            .await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains("to_month"), "{}", r.text);
        app.signed(&p)
            .get(path, "from_month=2024-01&to_month=2026-01")
            .await
            .err(400, "CBC.0100");
    }
    app.signed(&p)
        .get(DETAILS, "limit=0")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(DETAILS, "offset=-1")
        .await
        .err(400, "CBC.0100");
    // A month later, the whole month reads from the monthly rollup: the same amounts.
    app.clock.advance(Duration::days(31));
    let q = format!("from_month={month}&to_month={month}");
    assert_eq!(summary(&app, &p, &q).await, perf("20.00/15.00/5.00"));
    assert_eq!(summary(&app, &m2, &q).await, perf("14.00/14.00/0.00"));
    let r = app.signed(&p).get(BY_MANAGER, &q).await;
    assert_eq!(r.ok()["performance_amount"].to_string(), "20.00");
    let r = app.signed(&m1).get(BY_SERVICE, &q).await;
    assert_eq!(r.ok()["items"][0]["consumption_amount"].to_string(), "5.00");
    // Tenants never see each other's: another partner naming A sees nothing.
    let other = app.create_partner("solution_provider", None).await;
    assert_eq!(summary(&app, &other, &only_a).await, perf("0.00/0.00/0.00"));
    assert_eq!(summary(&app, &other, "").await, perf("0.00/0.00/0.00"));
}
