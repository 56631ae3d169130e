//! Association life: switching types, un-association with consent, expiry, refusals, and the
//! money consequences through the ledger; plus permission and freeze effects on funding.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, TestApp};

const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
const LIST: &str = "/v2/partners/sub-customers/query";
const SWITCH: &str = "/v2/partners/sub-customers/association-type";
const UNASSOCIATE: &str = "/v2/partners/sub-customers/unassociate";
const RECORDS: &str = "/v2/partners/sub-customers/association-records";

fn amount(v: &str) -> Value {
    serde_json::from_str(v).unwrap()
}

async fn fund(app: &TestApp, p: &Creds, customer: &Creds, amt: &str) -> Resp {
    app.signed(p)
        .post(
            FUND,
            &json!({"customer_id": customer.id, "amount": amount(amt)}),
        )
        .await
}

/// The partner's fundable amount (account_type 8) as JSON text.
async fn fundable(app: &TestApp, p: &Creds) -> String {
    let r = app
        .signed(p)
        .get("/v2/accounts/partner-accounts/balances", "")
        .await;
    r.ok()["account_balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_type"] == 8)
        .unwrap()["amount"]
        .to_string()
}

/// The customer's balance as the partner sees it (batch query; absent when not resale/own).
async fn customer_balance(app: &TestApp, p: &Creds, c: &Creds) -> Option<String> {
    let r = app
        .signed(p)
        .post(
            "/v2/accounts/customer-accounts/balances/batch-query",
            &json!({"customer_infos": [{"customer_id": c.id}]}),
        )
        .await;
    r.ok()["customer_balances"]
        .as_array()
        .unwrap()
        .first()
        .map(|b| b["amount"].to_string())
}

async fn listed(app: &TestApp, p: &Creds, c: &Creds) -> bool {
    let r = app
        .signed(p)
        .post(LIST, &json!({"customer_id": c.id}))
        .await;
    r.ok()["count"] == 1
}

async fn events(app: &TestApp, p: &Creds, c: &Creds) -> Vec<(String, String)> {
    let r = app
        .signed(p)
        .get(RECORDS, &format!("customer_id={}&limit=100", c.id))
        .await;
    let mut v: Vec<(String, String)> = r.ok()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_type"].as_str().unwrap().to_string(),
                e["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.reverse();
    v
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn setup(app: &TestApp) -> (Creds, Creds) {
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(app, &p, &c, "300.00").await.ok();
    (p, c)
}

#[tokio::test]
async fn switching_resale_to_advisory_returns_the_balance_as_beunbind() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    assert_eq!(fundable(&app, &p).await, "700.00");
    let r = app
        .signed(&p)
        .post(SWITCH, &json!({"customer_id": c.id, "association_type": "1", "reason": "customer pays directly"}))
        .await;
    let body = r.ok().clone();
    assert_eq!(body["status"], "completed");
    let trans_id = body["trans_id"].as_str().unwrap().to_string();
    assert_eq!(fundable(&app, &p).await, "1000.00");
    // An advisory customer has no balance the partner can see or fund.
    assert_eq!(customer_balance(&app, &p, &c).await, None);
    fund(&app, &p, &c, "1.00").await.err(400, "CBC.99005024");
    let recs = app
        .signed(&p)
        .get(
            "/v3/accounts/partner-accounts/adjust-records",
            "operation_type=SOURCE_OPERATION_BEUNBIND",
        )
        .await;
    let recs = recs.ok()["records"].as_array().unwrap().clone();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["amount"], "300.00");
    assert_eq!(recs[0]["trans_id"], trans_id.as_str());
    assert_eq!(recs[0]["customer_id"], c.id.as_str());
    let changes = app
        .signed(&p)
        .get(
            "/v2/accounts/partner-accounts/account-change-records",
            "balance_type=BALANCE_TYPE_DEBIT&trade_type=BEUNBIND",
        )
        .await;
    assert_eq!(changes.ok()["total_count"], 1, "{}", changes.text);
    assert_eq!(
        changes.body["records"][0]["trade_detail_type"],
        "SOURCE_OPERATION_BEUNBIND"
    );
    let info = app
        .signed(&p)
        .post(LIST, &json!({"customer_id": c.id}))
        .await;
    assert_eq!(info.ok()["customer_infos"][0]["association_type"], "1");
    app.assert_audit_ok().await;

    // Back to resale needs the customer's consent.
    let r = app
        .signed(&p)
        .post(
            SWITCH,
            &json!({"customer_id": c.id, "association_type": "2", "reason": "we fund again"}),
        )
        .await;
    assert_eq!(r.ok()["status"], "pending");
    let id = r.body["request"]["request_id"].as_i64().unwrap();
    fund(&app, &p, &c, "1.00").await.err(400, "CBC.99005024");
    let ok = app
        .signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(ok.ok()["status"], "approved");
    fund(&app, &p, &c, "1.00").await.ok();
    assert_eq!(
        events(&app, &p, &c).await,
        pairs(&[
            ("associate", "completed"),
            ("switch_type", "completed"),
            ("switch_request", "pending"),
            ("switch_type", "completed")
        ])
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_partner_initiated_unassociation_waits_for_the_customer() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    let r = app
        .signed(&p)
        .post(
            UNASSOCIATE,
            &json!({"customer_id": c.id, "reason": "contract ended"}),
        )
        .await;
    let id = r.ok()["request_id"].as_i64().unwrap();
    assert_eq!(r.body["status"], "pending");
    // Pending: nothing changed yet; a second request is refused.
    assert!(listed(&app, &p, &c).await);
    app.signed(&p)
        .post(
            UNASSOCIATE,
            &json!({"customer_id": c.id, "reason": "again"}),
        )
        .await
        .err(400, "CBC.0101");
    let mine = app
        .signed(&c)
        .get("/v2/customers/association-requests", "status=pending")
        .await;
    assert_eq!(mine.ok()["requests"][0]["request_id"], id);

    // Rejected: everything unchanged.
    let rej = app
        .signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id}/reject"),
            &json!({"reason": "no"}),
        )
        .await;
    assert_eq!(rej.ok()["status"], "rejected");
    assert!(listed(&app, &p, &c).await);
    assert_eq!(
        customer_balance(&app, &p, &c).await.as_deref(),
        Some("300.00")
    );
    assert_eq!(fundable(&app, &p).await, "700.00");
    // Answering again is refused.
    app.signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(400, "CBC.0101");

    // Approved: the balance goes back and the customer leaves the partner.
    let id2 = app
        .signed(&p)
        .post(
            UNASSOCIATE,
            &json!({"customer_id": c.id, "reason": "contract ended"}),
        )
        .await
        .ok()["request_id"]
        .as_i64()
        .unwrap();
    let ok = app
        .signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id2}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(ok.ok()["status"], "approved");
    assert_eq!(fundable(&app, &p).await, "1000.00");
    assert!(!listed(&app, &p, &c).await);
    fund(&app, &p, &c, "1.00").await.err(400, "CBC.99000035");
    let mine = app
        .signed(&c)
        .get("/v2/customers/partner-association", "")
        .await;
    assert_eq!(mine.ok(), &json!({}));
    // History stays with the partner.
    assert_eq!(
        events(&app, &p, &c).await,
        pairs(&[
            ("associate", "completed"),
            ("unassociate_request", "pending"),
            ("request_rejected", "rejected"),
            ("unassociate_request", "pending"),
            ("unassociate", "completed"),
        ])
    );
    let recs = app
        .signed(&p)
        .get(
            "/v3/accounts/partner-accounts/adjust-records",
            &format!("customer_id={}", c.id),
        )
        .await;
    assert_eq!(
        recs.ok()["total_count"],
        2,
        "fund and unbind: {}",
        recs.text
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_customer_initiated_unassociation_is_approved_by_the_partner_or_expires() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    let other = app.create_customer(&p, json!({})).await;
    let mine = app
        .signed(&c)
        .get("/v2/customers/partner-association", "")
        .await;
    assert_eq!(mine.ok()["partner_id"], p.id.as_str());
    assert_eq!(mine.body["association_type"], "2");

    let r = app
        .signed(&c)
        .post("/v2/customers/unassociate", &json!({"reason": "moving on"}))
        .await;
    let id = r.ok()["request_id"].as_i64().unwrap();
    assert_eq!(r.body["initiated_by"], "customer");
    // The customer cannot answer its own request.
    app.signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(403, "CBC.0151");
    let pending = app
        .signed(&p)
        .get(
            "/v2/partners/sub-customers/association-requests",
            "status=pending",
        )
        .await;
    assert_eq!(pending.ok()["total_count"], 1);
    let ok = app
        .signed(&p)
        .post(
            &format!("/v2/partners/sub-customers/association-requests/{id}/approve"),
            &json!({"reason": "ok"}),
        )
        .await;
    assert_eq!(ok.ok()["status"], "approved");
    assert!(!listed(&app, &p, &c).await);
    assert_eq!(fundable(&app, &p).await, "1000.00");

    // Another request left unanswered expires after 7 days.
    let r = app
        .signed(&other)
        .post("/v2/customers/unassociate", &json!({"reason": "maybe"}))
        .await;
    let id = r.ok()["request_id"].as_i64().unwrap();
    app.clock.advance(Duration::days(7) + Duration::seconds(1));
    let list = app
        .signed(&p)
        .get(
            "/v2/partners/sub-customers/association-requests",
            &format!("customer_id={}", other.id),
        )
        .await;
    assert_eq!(list.ok()["requests"][0]["status"], "expired");
    app.signed(&p)
        .post(
            &format!("/v2/partners/sub-customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(400, "CBC.0101");
    assert!(listed(&app, &p, &other).await);
    let ev = events(&app, &p, &other).await;
    assert_eq!(
        ev.last().unwrap(),
        &("request_expired".to_string(), "expired".to_string())
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn nobody_answers_someone_elses_request() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    let other_customer = app.create_customer(&p, json!({})).await;
    let q = app.create_partner("solution_provider", None).await;
    let id = app
        .signed(&p)
        .post(UNASSOCIATE, &json!({"customer_id": c.id, "reason": "x"}))
        .await
        .ok()["request_id"]
        .as_i64()
        .unwrap();
    // Another customer, another partner: the request does not exist for them.
    app.signed(&other_customer)
        .post(
            &format!("/v2/customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(400, "CBC.99000047");
    app.signed(&q)
        .post(
            &format!("/v2/partners/sub-customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(400, "CBC.99000047");
    // The initiating partner cannot answer its own request.
    app.signed(&p)
        .post(
            &format!("/v2/partners/sub-customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await
        .err(403, "CBC.0151");
    // Another partner cannot touch this customer.
    app.signed(&q)
        .post(UNASSOCIATE, &json!({"customer_id": c.id, "reason": "x"}))
        .await
        .err(400, "CBC.99000035");
    app.signed(&q)
        .post(
            SWITCH,
            &json!({"customer_id": c.id, "association_type": "1", "reason": "x"}),
        )
        .await
        .err(400, "CBC.99000035");
    // Wrong caller kinds and bad input.
    app.signed(&c)
        .post(UNASSOCIATE, &json!({"customer_id": c.id, "reason": "x"}))
        .await
        .err(403, "CBC.0151");
    app.signed(&p)
        .get("/v2/customers/association-requests", "")
        .await
        .err(403, "CBC.0151");
    app.signed(&p)
        .post(
            SWITCH,
            &json!({"customer_id": c.id, "association_type": "3", "reason": "x"}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post(
            SWITCH,
            &json!({"customer_id": c.id, "association_type": "2", "reason": "x"}),
        )
        .await
        .err(400, "CBC.0101");
    app.signed(&p)
        .post(UNASSOCIATE, &json!({"customer_id": c.id, "reason": ""}))
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(RECORDS, "event_type=nope")
        .await
        .err(400, "CBC.0100");
    // Nothing moved.
    assert_eq!(
        customer_balance(&app, &p, &c).await.as_deref(),
        Some("300.00")
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn permissions_and_managers_govern_funding() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let role = |items: Value| {
        let app = &app;
        let p = &p;
        async move {
            let r = app
                .signed(p)
                .post(
                    "/v2/partners/roles",
                    &json!({"name": uuid::Uuid::new_v4().to_string(), "permissions": items}),
                )
                .await;
            r.body["role_id"].as_i64().unwrap()
        }
    };
    let op = |body: Value| {
        let app = &app;
        let p = &p;
        async move {
            let login = format!("op{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
            let mut b = json!({"login_name": login, "password": "Operat0r!pw"});
            for (k, v) in body.as_object().unwrap() {
                b[k] = v.clone();
            }
            let r = app.signed(p).post("/v2/partners/operators", &b).await;
            assert_eq!(r.status, 201, "{}", r.text);
            (
                r.body["operator_id"].as_str().unwrap().to_string(),
                Creds {
                    id: p.id.clone(),
                    ak: r.body["access_key"].as_str().unwrap().into(),
                    sk: r.body["secret_key"].as_str().unwrap().into(),
                    login,
                    password: "Operat0r!pw".into(),
                    xaccount_type: p.xaccount_type.clone(),
                },
            )
        }
    };
    // An operator without funding:write: 403 on fund, 200 on list.
    let reader = role(json!(["customer:read", "funding:read"])).await;
    let (_, viewer) = op(json!({"role_id": reader})).await;
    fund(&app, &viewer, &c, "1.00").await.err(403, "CBC.0151");
    app.signed(&viewer).post(LIST, &json!({})).await.ok();
    assert_eq!(fundable(&app, &viewer).await, "700.00");

    // A manager funds its assigned customer only; a supervisor sees but never funds.
    let sales = role(json!(["customer:read", "funding:read", "funding:write"])).await;
    let (sup_id, sup) = op(json!({"role_id": sales, "scope": "supervisor"})).await;
    let (m_id, manager) =
        op(json!({"role_id": sales, "scope": "manager", "supervisor_id": sup_id})).await;
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/assignments",
            &json!({"customer_id": c.id, "manager_id": m_id}),
        )
        .await
        .ok();
    fund(&app, &manager, &c, "10.00").await.ok();
    fund(&app, &manager, &c2, "10.00")
        .await
        .err(400, "CBC.99000035");
    assert_eq!(customer_balance(&app, &manager, &c2).await, None);
    assert_eq!(
        customer_balance(&app, &manager, &c).await.as_deref(),
        Some("310.00")
    );
    let recs = app
        .signed(&manager)
        .get("/v3/accounts/partner-accounts/adjust-records", "")
        .await;
    assert_eq!(recs.ok()["total_count"], 2, "{}", recs.text);
    assert!(listed(&app, &sup, &c).await);
    assert!(!listed(&app, &sup, &c2).await);
    fund(&app, &sup, &c, "1.00").await.err(403, "CBC.0151");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn freezing_blocks_funding_until_unfrozen() {
    let app = TestApp::spawn().await;
    let (p, c) = setup(&app).await;
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": [c.id], "reason": "overdue"}),
        )
        .await
        .ok();
    let r = fund(&app, &p, &c, "5.00").await;
    r.err(400, "CBC.8214");
    // Reclaiming from a frozen customer still works.
    app.signed(&p)
        .post(
            "/v2/accounts/partner-accounts/reclaim",
            &json!({"customer_id": c.id, "amount": amount("5.00")}),
        )
        .await
        .ok();
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/unfreeze",
            &json!({"customer_ids": [c.id], "reason": "paid"}),
        )
        .await
        .ok();
    fund(&app, &p, &c, "5.00").await.ok();
    assert_eq!(
        customer_balance(&app, &p, &c).await.as_deref(),
        Some("300.00")
    );
    let _ = Method::GET;
    app.assert_audit_ok().await;
}
