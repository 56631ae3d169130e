//! The partner balance read (`GET /v2/accounts/partner-accounts/balances`): concurrent reads share
//! one query (`service::read_coalesce`), and a read still sees every funding answered before it.

use serde_json::json;

use crate::helpers::{Creds, TestApp};

const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
const BALANCES: &str = "/v2/accounts/partner-accounts/balances";

/// `name{kind="partner_balances"}` from /metrics.
async fn metric(app: &TestApp, name: &str) -> i64 {
    let m = app
        .send(app.http.get(format!("{}/metrics", app.base)))
        .await
        .text;
    let needle = format!("{name}{{kind=\"partner_balances\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |n| n.trim().parse().unwrap())
}

async fn cash(app: &TestApp, p: &Creds) -> String {
    let r = app.signed(p).get(BALANCES, "").await;
    let b = r.ok();
    let cash = b["account_balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_type"] == 1)
        .unwrap()
        .clone();
    cash["amount"].to_string()
}

/// 96 concurrent reads of 8 partners: each answers its own partner's balance, in fewer queries
/// than reads; then, per partner, ten rounds of "fund 1.00, read" at once across the partners:
/// every read shows every funding of its partner answered before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_balance_reads_share_queries_and_each_sees_the_fundings_before_it() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let mut partners = Vec::new();
    for i in 0..8 {
        let p = app.create_partner("solution_provider", None).await;
        let c = app.create_customer(&p, json!({})).await.id;
        app.deposit(&p, &format!("{}.00", 100 + i)).await;
        partners.push((p, c, 100 + i));
    }
    let mut tasks = Vec::new();
    for n in 0..96 {
        let (app, (p, _, amount)) = (app.clone(), partners[n % 8].clone());
        tasks.push(tokio::spawn(async move {
            assert_eq!(cash(&app, &p).await, format!("{amount}.00"), "{}", p.id);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (queries, reads) = (
        metric(&app, "coalesced_read_queries_total").await,
        metric(&app, "coalesced_reads_total").await,
    );
    assert_eq!(reads, 96);
    assert!(queries < reads, "{reads} reads in {queries} queries");

    let mut tasks = Vec::new();
    for (p, c, amount) in partners.clone() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for k in 1..=10 {
                app.signed(&p)
                    .post(FUND, &json!({"customer_id": c, "amount": 1}))
                    .await
                    .ok();
                assert_eq!(
                    cash(&app, &p).await,
                    format!("{}.00", amount - k),
                    "round {k}"
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    app.assert_audit_ok().await;
}

/// A partner without any account yet (never deposited) reads zeros, like before.
#[tokio::test]
async fn a_partner_without_accounts_reads_zero_balances() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    assert_eq!(cash(&app, &p).await, "0.00");
}
