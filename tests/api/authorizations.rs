//! Customer authorisations (申请客户授权) and IAM assume-role tokens (issue 10, parts 1–2).

use chrono::Duration;
use partner_center::domain::time::format_ts;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, TestApp};

const ASK: &str = "/v2/partners/sub-customers/authorizations";
const MINE: &str = "/v2/customers/authorizations";

async fn ask(app: &TestApp, p: &Creds, body: Value) -> Resp {
    app.signed(p).post(ASK, &body).await
}

async fn ask_for(app: &TestApp, p: &Creds, c: &Creds, scope: &str) -> String {
    let r = ask(
        app,
        p,
        json!({"customer_id": c.id, "scope": scope, "reason": "order for you"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["authorization_id"].as_str().unwrap().to_string()
}

async fn customer_act(app: &TestApp, c: &Creds, id: &str, action: &str) -> Resp {
    app.signed(c)
        .post(&format!("{MINE}/{id}/{action}"), &json!({"reason": "ok"}))
        .await
}

async fn partner_revoke(app: &TestApp, p: &Creds, id: &str) -> Resp {
    app.signed(p)
        .post(&format!("{ASK}/{id}/revoke"), &json!({}))
        .await
}

fn token_of(r: &Resp) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    r.headers["x-subject-token"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_partner_asks_a_resale_customer_who_approves_rejects_or_revokes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let q = app.create_partner("solution_provider", None).await;
    let foreign = app.create_customer(&q, json!({})).await;

    let expire = format_ts(app.now() + Duration::days(30));
    let r = ask(
        &app,
        &p,
        json!({"customer_id": c.id, "scope": "order", "reason": "monthly ECS", "expire_time": expire}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "PENDING");
    assert_eq!(r.body["scope"], "order");
    assert_eq!(r.body["customer_id"], c.id.as_str());
    assert_eq!(r.body["partner_id"], p.id.as_str());
    assert_eq!(r.body["expire_time"], expire.as_str());
    let id = r.body["authorization_id"].as_str().unwrap().to_string();

    // One open authorisation per customer.
    ask(
        &app,
        &p,
        json!({"customer_id": c.id, "scope": "order_and_resource", "reason": "again"}),
    )
    .await
    .err(400, "CBC.99014002");
    // Advisory, foreign and unknown customers.
    ask(
        &app,
        &p,
        json!({"customer_id": advisory.id, "scope": "order", "reason": "x"}),
    )
    .await
    .err(400, "CBC.99005024");
    ask(
        &app,
        &p,
        json!({"customer_id": foreign.id, "scope": "order", "reason": "x"}),
    )
    .await
    .err(400, "CBC.99000035");
    ask(
        &app,
        &p,
        json!({"customer_id": "0".repeat(32), "scope": "order", "reason": "x"}),
    )
    .await
    .err(400, "CBC.99000035");
    // Bad input.
    for bad in [
        json!({"customer_id": c.id, "scope": "everything", "reason": "x"}),
        json!({"customer_id": c.id, "scope": "order", "reason": " "}),
        json!({"customer_id": c.id, "scope": "order"}),
        json!({"customer_id": "", "scope": "order", "reason": "x"}),
        json!({"customer_id": "x".repeat(65), "scope": "order", "reason": "x"}),
        json!({"customer_id": c.id, "scope": "order", "reason": "x".repeat(257)}),
        json!({"customer_id": c.id, "scope": "order", "reason": "x", "expire_time": "2030-01-01"}),
        json!({"customer_id": c.id, "scope": "order", "reason": "x",
               "expire_time": format_ts(app.now() - Duration::seconds(1))}),
    ] {
        ask(&app, &p, bad).await.err(400, "CBC.0100");
    }
    // Wrong caller kinds.
    app.signed(&c)
        .post(
            ASK,
            &json!({"customer_id": c.id, "scope": "order", "reason": "x"}),
        )
        .await
        .err(403, "CBC.0151");
    app.signed(&p).get(MINE, "").await.err(403, "CBC.0151");

    // The customer sees it; another customer does not; another partner cannot touch it.
    let mine = app.signed(&c).get(MINE, "status=PENDING").await;
    assert_eq!(mine.ok()["total_count"], 1);
    assert_eq!(
        mine.body["authorizations"][0]["authorization_id"],
        id.as_str()
    );
    assert_eq!(
        app.signed(&foreign).get(MINE, "").await.ok()["total_count"],
        0
    );
    customer_act(&app, &foreign, &id, "approve")
        .await
        .err(400, "CBC.99014001");
    partner_revoke(&app, &q, &id).await.err(400, "CBC.99014001");
    app.signed(&q)
        .get(&format!("{ASK}/{id}"), "")
        .await
        .err(400, "CBC.99014001");

    // Approve; then no second decision.
    let a = customer_act(&app, &c, &id, "approve").await;
    assert_eq!(a.ok()["status"], "APPROVED");
    assert!(a.body["decide_time"].is_string());
    customer_act(&app, &c, &id, "approve")
        .await
        .err(400, "CBC.99014003");
    customer_act(&app, &c, &id, "reject")
        .await
        .err(400, "CBC.99014003");
    // The customer revokes; revoked is final.
    let r = customer_act(&app, &c, &id, "revoke").await;
    assert_eq!(r.ok()["status"], "REVOKED");
    assert_eq!(r.body["ended_by"], "customer");
    customer_act(&app, &c, &id, "revoke")
        .await
        .err(400, "CBC.99014004");
    partner_revoke(&app, &p, &id).await.err(400, "CBC.99014004");

    // A new request, rejected; a rejected one cannot be revoked.
    app.clock.advance(Duration::seconds(1));
    let id2 = ask_for(&app, &p, &c, "order_and_resource").await;
    let r = customer_act(&app, &c, &id2, "reject").await;
    assert_eq!(r.ok()["status"], "REJECTED");
    assert_eq!(r.body["decision_reason"], "ok");
    partner_revoke(&app, &p, &id2)
        .await
        .err(400, "CBC.99014004");
    // A third, withdrawn by the partner while pending.
    app.clock.advance(Duration::seconds(1));
    let id3 = ask_for(&app, &p, &c, "order").await;
    let r = partner_revoke(&app, &p, &id3).await;
    assert_eq!(r.ok()["status"], "REVOKED");
    assert_eq!(r.body["ended_by"], "partner");

    // The history names actors and times.
    let d = app.signed(&p).get(&format!("{ASK}/{id}"), "").await;
    let kinds: Vec<(&str, &str)> = d.ok()["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["event_type"].as_str().unwrap(),
                r["actor_kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("requested", "partner"),
            ("approved", "customer"),
            ("revoked", "customer")
        ]
    );
    assert_eq!(d.body["records"][0]["actor_id"], p.id.as_str());
    assert_eq!(d.body["records"][1]["actor_id"], c.id.as_str());
    assert_eq!(d.body["status"], "REVOKED");

    // The partner's list: exact totals per filter set, newest first, paged.
    let all = app.signed(&p).get(ASK, "").await;
    assert_eq!(all.ok()["total_count"], 3);
    assert_eq!(
        all.body["authorizations"][0]["authorization_id"],
        id3.as_str()
    );
    let page = app.signed(&p).get(ASK, "limit=1&offset=1").await;
    assert_eq!(page.ok()["total_count"], 3);
    assert_eq!(page.body["authorizations"].as_array().unwrap().len(), 1);
    assert_eq!(
        page.body["authorizations"][0]["authorization_id"],
        id2.as_str()
    );
    for (query, n) in [
        ("status=REVOKED".to_string(), 2),
        ("status=REJECTED".to_string(), 1),
        (format!("customer_id={}", c.id), 3),
        (format!("customer_id={}&status=REJECTED", c.id), 1),
        (format!("customer_id={}", advisory.id), 0),
        ("status=".to_string(), 3),
    ] {
        assert_eq!(
            app.signed(&p).get(ASK, &query).await.ok()["total_count"],
            n,
            "{query}"
        );
    }
    assert_eq!(app.signed(&q).get(ASK, "").await.ok()["total_count"], 0);
    for bad in ["status=pending", "limit=0", "limit=101", "offset=-1"] {
        app.signed(&p).get(ASK, bad).await.err(400, "CBC.0100");
        app.signed(&c).get(MINE, bad).await.err(400, "CBC.0100");
    }
}

#[tokio::test]
async fn an_approved_authorisation_expires_at_its_expire_time_by_the_app_clock() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let d = app.create_customer(&p, json!({})).await;
    let expire = app.now() + Duration::hours(1);
    let mut ids = Vec::new();
    for who in [&c, &d] {
        let r = ask(
            &app,
            &p,
            json!({"customer_id": who.id, "scope": "order", "reason": "x", "expire_time": format_ts(expire)}),
        )
        .await;
        ids.push(r.body["authorization_id"].as_str().unwrap().to_string());
    }
    customer_act(&app, &c, &ids[0], "approve").await.ok();
    // A token lives no longer than its authorisation.
    let t = app.assume_role(&p, &c.id).await;
    assert_eq!(t.status, 201, "{}", t.text);
    assert_eq!(
        t.body["token"]["expires_at"].as_str().unwrap()[..19],
        format_ts(expire)[..19]
    );

    app.clock.advance(Duration::hours(2));
    // Pending past its expire_time: it can only be rejected.
    customer_act(&app, &d, &ids[1], "approve")
        .await
        .err(400, "CBC.99014003");
    // The rule expires the approved one (no read needed), at its expiry time, by the system.
    let pass = partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(pass.authorizations_expired, 1);
    let (status, ended_at): (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select status, ended_at from customer_authorization where id = $1")
            .bind(&ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), ended_at), ("EXPIRED", expire));
    let detail = app.signed(&p).get(&format!("{ASK}/{}", ids[0]), "").await;
    let last = &detail.ok()["records"][2];
    assert_eq!(
        (&last["event_type"], &last["actor_kind"]),
        (&json!("expired"), &json!("system"))
    );
    assert_eq!(last["operation_time"], format_ts(expire).as_str());
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
    customer_act(&app, &c, &ids[0], "revoke")
        .await
        .err(400, "CBC.99014004");
    // Expired ones no longer block a new request.
    ask_for(&app, &p, &c, "order").await;
}

#[tokio::test]
async fn lazy_expiry_applies_on_reads_before_the_rule_runs() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let r = ask(
        &app,
        &p,
        json!({"customer_id": c.id, "scope": "order", "reason": "x",
               "expire_time": format_ts(app.now() + Duration::minutes(5))}),
    )
    .await;
    let id = r.body["authorization_id"].as_str().unwrap().to_string();
    customer_act(&app, &c, &id, "approve").await.ok();
    app.clock.advance(Duration::minutes(6));
    let mine = app.signed(&c).get(MINE, "status=EXPIRED").await;
    assert_eq!(mine.ok()["total_count"], 1, "{}", mine.text);
    let theirs = app.signed(&p).get(ASK, "status=APPROVED").await;
    assert_eq!(theirs.ok()["total_count"], 0);
}

#[tokio::test]
async fn without_an_approved_authorisation_assume_role_is_refused() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = app.create_partner("solution_provider", None).await;
    let foreign = app.create_customer(&q, json!({})).await;
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
    let id = ask_for(&app, &p, &c, "order").await;
    // Pending is not enough.
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
    customer_act(&app, &c, &id, "reject").await.ok();
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
    // Someone else's customer, an unknown account, a partner account.
    app.assume_role(&p, &foreign.id)
        .await
        .err(403, "CBC.99014005");
    app.assume_role(&p, &"0".repeat(32))
        .await
        .err(403, "CBC.99014005");
    app.assume_role(&p, &q.id).await.err(403, "CBC.99014005");
    // Another partner cannot use this customer's authorisation of p.
    app.authorize(&p, &c, "order").await;
    app.assume_role(&q, &c.id).await.err(403, "CBC.99014005");
    assert_eq!(app.assume_role(&p, &c.id).await.status, 201);
}

#[tokio::test]
async fn an_assume_role_token_acts_as_the_customer_within_its_scope_until_revoked() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let id = app.authorize(&p, &c, "order").await;

    // AK/SK-signed request: the IAM token shape, the customer as the user, the partner behind.
    let r = app.assume_role(&p, &c.id).await;
    let token = token_of(&r);
    let t = &r.body["token"];
    assert_eq!(t["methods"], json!(["assume_role"]));
    assert_eq!(t["user"]["domain"]["id"], c.id.as_str());
    assert_eq!(t["domain"]["id"], c.id.as_str());
    assert_eq!(t["user"]["name"], format!("{}/partner-agency", c.login));
    assert_eq!(t["assumed_by"]["user"]["id"], p.id.as_str());
    assert_eq!(t["assume_role"]["authorization_id"], id.as_str());
    assert_eq!(t["assume_role"]["scope"], "order");
    let issued = chrono::DateTime::parse_from_rfc3339(t["issued_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - issued).num_seconds(), 3600);

    // With the partner's own token in X-Auth-Token, by domain name, for 900 seconds.
    let own = app.token(&p.login, &p.password).await;
    let own = token_of(&own);
    let body = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
        "domain_name": c.login, "agency_name": "ops", "duration_seconds": 900}}}});
    let r = app
        .with_token(&own, Method::POST, "/v3/auth/tokens", Some(&body))
        .await;
    let short = token_of(&r);
    let t = &r.body["token"];
    let issued = chrono::DateTime::parse_from_rfc3339(t["issued_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(t["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - issued).num_seconds(), 900);

    // In scope: the token's own domain.
    for tok in [&token, &short] {
        let d = app
            .with_token(tok, Method::GET, "/v3/auth/domains", None)
            .await;
        assert_eq!(d.ok()["domains"][0]["id"], c.id.as_str());
    }
    // Outside the scope: the customer's own routes, the authorisation routes, partner routes.
    for (m, path) in [
        (Method::GET, "/v2/accounts/customer-accounts/balances"),
        (Method::GET, "/v2/customers/authorizations"),
        (Method::GET, "/v2/bills/customer-bills/monthly-sum"),
        (Method::POST, "/v2/partners/sub-customers/query"),
    ] {
        let body = (m == Method::POST).then(|| json!({}));
        app.with_token(&token, m, path, body.as_ref())
            .await
            .err(403, "CBC.99014006");
    }
    app.with_token(
        &token,
        Method::POST,
        &format!("{MINE}/{id}/revoke"),
        Some(&json!({})),
    )
    .await
    .err(403, "CBC.99014006");
    // An assume-role token cannot assume again.
    let again = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
        "domain_id": c.id, "agency_name": "x"}}}});
    app.with_token(&token, Method::POST, "/v3/auth/tokens", Some(&again))
        .await
        .err(403, "CBC.0151");

    // Every request is recorded with the partner as the actor; both sides can read the log.
    let log = app
        .signed(&p)
        .get(&format!("{ASK}/{id}/requests"), "")
        .await;
    assert_eq!(log.ok()["total_count"], 7, "{}", log.text);
    let statuses: Vec<i64> = log.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2);
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 5);
    let theirs = app
        .signed(&c)
        .get(&format!("{MINE}/{id}/requests"), "limit=2")
        .await;
    assert_eq!(theirs.ok()["total_count"], 7);
    assert_eq!(theirs.body["requests"].as_array().unwrap().len(), 2);
    let q = app.create_partner("solution_provider", None).await;
    app.signed(&q)
        .get(&format!("{ASK}/{id}/requests"), "")
        .await
        .err(400, "CBC.99014001");
    let (n, partners): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where partner_id = $2 and customer_id = $3)
         from assumed_role_request where authorization_id = $1",
    )
    .bind(&id)
    .bind(&p.id)
    .bind(&c.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((n, partners), (7, 7));

    // Revocation: the tokens stop at once, and no new one is issued.
    partner_revoke(&app, &p, &id).await.ok();
    for tok in [&token, &short] {
        app.with_token(tok, Method::GET, "/v3/auth/domains", None)
            .await
            .err(403, "CBC.99014005");
    }
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
}

#[tokio::test]
async fn a_token_stops_when_the_customer_leaves_resale() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let token = app.assume_role_token(&p, &c).await;
    app.with_token(&token, Method::GET, "/v3/auth/domains", None)
        .await
        .ok();
    let r = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/association-type",
            &json!({"customer_id": c.id, "association_type": "1", "reason": "advisory now"}),
        )
        .await;
    r.ok();
    app.with_token(&token, Method::GET, "/v3/auth/domains", None)
        .await
        .err(403, "CBC.99014005");
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
}

#[tokio::test]
async fn assume_role_requests_are_checked() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.authorize(&p, &c, "order").await;
    let with =
        |a: Value| json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": a}}});
    for bad in [
        with(json!({"domain_id": c.id, "agency_name": "a", "duration_seconds": 899})),
        with(json!({"domain_id": c.id, "agency_name": "a", "duration_seconds": 86401})),
        with(json!({"domain_id": c.id, "agency_name": ""})),
        with(json!({"domain_id": c.id, "agency_name": "a".repeat(65)})),
        with(json!({"domain_id": c.id})),
        with(json!({"agency_name": "a"})),
        json!({"auth": {"identity": {"methods": ["assume_role"]}}}),
        json!({"auth": {"identity": {"methods": ["token"]}}}),
    ] {
        app.signed(&p)
            .post("/v3/auth/tokens", &bad)
            .await
            .err(400, "CBC.0100");
    }
    let ok = with(json!({"domain_id": c.id, "agency_name": "a"}));
    // Unauthenticated, or with a customer's credentials.
    app.send(
        app.http
            .post(format!("{}/v3/auth/tokens", app.base))
            .json(&ok),
    )
    .await
    .err(401, "APIG.0301");
    app.signed(&c)
        .post("/v3/auth/tokens", &ok)
        .await
        .err(403, "CBC.0151");
    // The password method keeps working.
    assert_eq!(app.token(&p.login, &p.password).await.status, 201);
}

#[tokio::test]
async fn operators_cannot_ask_revoke_or_assume() {
    use crate::organisation::{operator, role};
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let all = role(&app, &p, "all", &["customer:read", "customer:manage"]).await;
    let op = operator(&app, &p, json!({"role_id": all})).await;
    ask(
        &app,
        &op,
        json!({"customer_id": c.id, "scope": "order", "reason": "x"}),
    )
    .await
    .err(403, "CBC.0151");
    let id = app.authorize(&p, &c, "order").await;
    app.signed(&op).get(ASK, "").await.err(403, "CBC.0151");
    partner_revoke(&app, &op, &id).await.err(403, "CBC.0151");
    app.assume_role(&op, &c.id).await.err(403, "CBC.0151");
    assert_eq!(app.assume_role(&p, &c.id).await.status, 201);
}

#[tokio::test]
async fn concurrent_requests_open_one_authorisation_and_one_decision_wins() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let body = json!({"customer_id": c.id, "scope": "order", "reason": "x"});
    let asks = futures_util::future::join_all((0..6).map(|_| ask(&app, &p, body.clone()))).await;
    let created: Vec<&Resp> = asks.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 1);
    for r in asks.iter().filter(|r| r.status != 201) {
        r.err(400, "CBC.99014002");
    }
    let id = created[0].body["authorization_id"].as_str().unwrap();
    let (a, b) = tokio::join!(
        customer_act(&app, &c, id, "approve"),
        customer_act(&app, &c, id, "reject")
    );
    let ok = [&a, &b].iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{} / {}", a.text, b.text);
    let loser = if a.status == 200 { &b } else { &a };
    loser.err(400, "CBC.99014003");
    let n: i64 = sqlx::query_scalar(
        "select count(*) from customer_authorization_event where authorization_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_token_stops_when_the_partner_is_disabled() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let token = app.assume_role_token(&p, &c).await;
    app.with_token(&token, Method::GET, "/v3/auth/domains", None)
        .await
        .ok();
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/disable", p.id),
        None,
    )
    .await
    .ok();
    app.with_token(&token, Method::GET, "/v3/auth/domains", None)
        .await
        .err(403, "CBC.99014005");
}
