//! A customer manager sees only its assigned customers' consumption, and only what was charged
//! from the day it was assigned (issue 8); a supervisor must name a manager; an operator without
//! `billing:read` may not read bills.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::{
    consumption::{charge, cycle, ecs_product, fund, record, CONSUMERS, DETAIL, HOUR, PARTNER_SUM},
    consumption_random::dec,
    helpers::{Creds, TestApp},
    organisation::{assign, operator, operator_id, role},
};

/// The ids of the fee records `who` sees for `customer` this cycle (`extra`: more query).
async fn seen(app: &TestApp, who: &Creds, customer: &str, extra: &str) -> BTreeSet<String> {
    let q = format!(
        "bill_cycle={}&customer_id={customer}&limit=100{extra}",
        cycle(app.now())
    );
    let r = app.signed(who).get(DETAIL, &q).await;
    let recs = r.ok()["fee_records"].as_array().unwrap().clone();
    assert_eq!(r.body["total_count"].as_u64().unwrap() as usize, recs.len());
    recs.iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// (customer, Σ amount) of the resale monthly sums `who` sees this cycle.
async fn sums(app: &TestApp, who: &Creds) -> Vec<(String, String)> {
    let q = format!("cycle={}&charge_mode=3&limit=100", cycle(app.now()));
    let r = app.signed(who).get(PARTNER_SUM, &q).await;
    let mut by: std::collections::BTreeMap<String, rust_decimal::Decimal> = Default::default();
    for s in r.ok()["bill_sums"].as_array().unwrap() {
        *by.entry(s["customer_id"].as_str().unwrap().to_string())
            .or_default() += dec(&s["amount"]);
    }
    by.into_iter().map(|(c, a)| (c, a.to_string())).collect()
}

async fn consumers(app: &TestApp, who: &Creds) -> BTreeSet<String> {
    let r = app
        .signed(who)
        .post(
            CONSUMERS,
            &json!({"bill_cycle": cycle(app.now()), "limit": 100}),
        )
        .await;
    let ids: BTreeSet<String> = r.ok()["sub_customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(r.body["total_count"].as_u64().unwrap() as usize, ids.len());
    ids
}

fn set(ids: &[&Value]) -> BTreeSet<String> {
    ids.iter()
        .map(|v| v["fee_record_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_manager_sees_only_its_customers_consumption_from_the_day_of_assignment() {
    let app = TestApp::spawn().await;
    // Mid-month, so that the day between the two assignments stays in one cycle.
    let real = app.now();
    app.clock.set(
        Utc.with_ymd_and_hms(real.year(), real.month(), 10, 4, 0, 0)
            .unwrap(),
    );
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let billing = role(
        &app,
        &p,
        "billing",
        &["customer:read", "customer:manage", "billing:read"],
    )
    .await;
    let no_bills = role(&app, &p, "no-bills", &["customer:read", "funding:read"]).await;
    let sup = operator(&app, &p, json!({"role_id": billing, "scope": "supervisor"})).await;
    let sup_id = operator_id(&app, &p, &sup).await;
    let m1 = operator(
        &app,
        &p,
        json!({"role_id": billing, "scope": "manager", "supervisor_id": sup_id}),
    )
    .await;
    let m2 = operator(&app, &p, json!({"role_id": billing, "scope": "manager"})).await;
    let staff = operator(&app, &p, json!({"role_id": billing})).await;
    let blind = operator(&app, &p, json!({"role_id": no_bills, "scope": "manager"})).await;
    let (m1_id, m2_id) = (
        operator_id(&app, &p, &m1).await,
        operator_id(&app, &p, &m2).await,
    );

    let a = app.create_customer(&p, json!({})).await;
    let b = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &a.id, "50.00").await.ok();
    fund(&app, &p, &b.id, "50.00").await.ok();
    let ecs = ecs_product(&app, "1.00").await;
    assign(&app, &p, &a, Some(&m1_id)).await.ok();
    assign(&app, &p, &b, Some(&m2_id)).await.ok();

    // Day 1: A (with M1) consumes 1.00 and 2.00, B (with M2) 8.00.
    let a1 = charge(&app, record(&app, "a1", &a.id, &ecs, "duration", "1", HOUR)).await;
    let a2 = charge(&app, record(&app, "a2", &a.id, &ecs, "duration", "2", HOUR)).await;
    let b1 = charge(&app, record(&app, "b1", &b.id, &ecs, "duration", "8", HOUR)).await;
    // Day 2: A moves to M2, then consumes 4.00.
    app.clock.advance(Duration::days(1));
    assign(&app, &p, &a, Some(&m2_id)).await.ok();
    let a3 = charge(&app, record(&app, "a3", &a.id, &ecs, "duration", "4", HOUR)).await;

    // Details: each manager only what was charged while A was its customer.
    assert_eq!(seen(&app, &m1, &a.id, "").await, set(&[&a1, &a2]));
    assert_eq!(seen(&app, &m2, &a.id, "").await, set(&[&a3]));
    assert_eq!(seen(&app, &m2, &b.id, "").await, set(&[&b1]));
    assert!(seen(&app, &m1, &b.id, "").await.is_empty());
    assert_eq!(seen(&app, &p, &a.id, "").await, set(&[&a1, &a2, &a3]));
    assert_eq!(seen(&app, &staff, &a.id, "").await, set(&[&a1, &a2, &a3]));
    // Naming a manager narrows the main account; the supervisor sees its manager's share only.
    let only_m1 = format!("&account_manager_id={m1_id}");
    assert_eq!(seen(&app, &p, &a.id, &only_m1).await, set(&[&a1, &a2]));
    assert_eq!(seen(&app, &sup, &a.id, &only_m1).await, set(&[&a1, &a2]));
    let q = format!("bill_cycle={}&customer_id={}", cycle(app.now()), a.id);
    let r = app.signed(&sup).get(DETAIL, &q).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("account_manager_id"), "{}", r.text);
    // Another manager's share is not the supervisor's, nor another manager's.
    let other = format!("{q}&account_manager_id={m2_id}");
    app.signed(&sup)
        .get(DETAIL, &other)
        .await
        .err(403, "CBC.0151");
    app.signed(&m1)
        .get(DETAIL, &other)
        .await
        .err(403, "CBC.0151");

    // Monthly sums and the consuming customers follow the same scope.
    assert_eq!(
        sums(&app, &m1).await,
        vec![(a.id.clone(), "3.00".to_string())]
    );
    let mut m2_sums = vec![
        (a.id.clone(), "4.00".to_string()),
        (b.id.clone(), "8.00".to_string()),
    ];
    m2_sums.sort();
    assert_eq!(sums(&app, &m2).await, m2_sums);
    assert_eq!(
        sums(&app, &sup).await,
        vec![(a.id.clone(), "3.00".to_string())]
    );
    let mut all = vec![
        (a.id.clone(), "7.00".to_string()),
        (b.id.clone(), "8.00".to_string()),
    ];
    all.sort();
    assert_eq!(sums(&app, &p).await, all);
    let both: BTreeSet<String> = [a.id.clone(), b.id.clone()].into();
    assert_eq!(consumers(&app, &m1).await, [a.id.clone()].into());
    assert_eq!(consumers(&app, &m2).await, both);
    assert_eq!(consumers(&app, &sup).await, [a.id.clone()].into());
    assert_eq!(consumers(&app, &p).await, both);

    // Without `billing:read`, no bill operation.
    app.signed(&blind)
        .get(DETAIL, &q)
        .await
        .err(403, "CBC.0151");
    let sq = format!("cycle={}&charge_mode=3", cycle(app.now()));
    app.signed(&blind)
        .get(PARTNER_SUM, &sq)
        .await
        .err(403, "CBC.0151");
    app.signed(&blind)
        .post(CONSUMERS, &json!({"bill_cycle": cycle(app.now())}))
        .await
        .err(403, "CBC.0151");
}
