//! Coupon quotas and partner coupons (30-coupons.md): the vendor's quota operations, issuing with
//! partial success, listing, reclaiming, records, customer views, time, idempotency, concurrency
//! and the association hook. Every money test ends with a clean ledger audit.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, TestApp};

const QUOTAS: &str = "/v2/partners/coupon-quotas/query";
const COUPONS: &str = "/v2/promotions/benefits/partner-coupons";
const RECLAIM: &str = "/v2/promotions/benefits/partner-coupons/reclaim";
const RECORDS: &str = "/v2/promotions/benefits/partner-coupons/records/query";
const OWN: &str = "/v2/promotions/benefits/coupons";
const CHANGES: &str = "/v2/promotions/benefits/account-change-records";
const CARDS: &str = "/v2/promotions/benefits/stored-value-cards";
const Q_ADJUST: &str = "/v2/partners/coupon-quotas/indirect-partner-adjust";
const Q_RECLAIM: &str = "/v2/partners/coupon-quotas/indirect-partner-reclaim";
const Q_RECORDS: &str = "/v2/partners/coupon-quotas/records";
const Q_ISSUED: &str = "/v2/partners/issued-coupon-quotas";
const SWITCH: &str = "/v2/partners/sub-customers/association-type";

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn body(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// Grants a quota of `value` valid from an hour ago for 30 days, with extra fields.
async fn grant(app: &TestApp, p: &Creds, value: &str, extra: Value) -> Resp {
    let mut b = body(&format!(
        r#"{{"quota_type": 0, "quota_value": {value}, "effective_time": "{}", "expire_time": "{}"}}"#,
        ts(app.now() - Duration::hours(1)),
        ts(app.now() + Duration::days(30))
    ));
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    app.admin(
        Method::POST,
        &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
        Some(b),
    )
    .await
}

async fn quota(app: &TestApp, p: &Creds, value: &str) -> String {
    let r = grant(app, p, value, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["quota_id"].as_str().unwrap().to_string()
}

async fn issue(app: &TestApp, p: &Creds, quota_id: &str, customers: &[&str], face: &str) -> Resp {
    let b = body(&format!(
        r#"{{"quota_id": "{quota_id}", "customer_ids": {}, "face_value": {face}, "memo": "welcome"}}"#,
        serde_json::to_string(customers).unwrap()
    ));
    app.signed(p).post(COUPONS, &b).await
}

async fn quota_view(app: &TestApp, p: &Creds, quota_id: &str) -> Value {
    let r = app
        .signed(p)
        .post(QUOTAS, &json!({"quota_ids": [quota_id]}))
        .await;
    r.ok()["quotas"][0].clone()
}

async fn balance(app: &TestApp, p: &Creds, quota_id: &str) -> String {
    quota_view(app, p, quota_id).await["balance"].to_string()
}

async fn coupon_of(app: &TestApp, p: &Creds, coupon_id: &str) -> Value {
    let r = app
        .signed(p)
        .get(COUPONS, &format!("coupon_id={coupon_id}"))
        .await;
    r.ok()["user_coupons"][0].clone()
}

async fn reclaim(app: &TestApp, p: &Creds, coupon_id: &str) -> Resp {
    app.signed(p)
        .post(RECLAIM, &json!({"coupon_id": coupon_id}))
        .await
}

#[tokio::test]
async fn issuing_three_coupons_of_100_from_250_issues_two_and_reclaim_returns_the_balance() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let c3 = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "250.00").await;
    assert_eq!(balance(&app, &p, &q).await, "250.00");

    let r = issue(&app, &p, &q, &[&c1.id, &c2.id, &c3.id], "100.00").await;
    let b = r.ok();
    assert_eq!(b["coupon_infos"].as_array().unwrap().len(), 2);
    assert_eq!(b["coupon_infos"][0]["id"], c1.id.as_str());
    assert_eq!(b["coupon_infos"][1]["id"], c2.id.as_str());
    assert_eq!(b["error_details"][0]["id"], c3.id.as_str());
    assert_eq!(b["error_details"][0]["error_code"], "CBC.99000013");
    let coupon = b["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&app, &p, &q).await, "50.00");
    app.assert_audit_ok().await;

    // The issued coupon: JSON types and values of the contract.
    let v = coupon_of(&app, &p, &coupon).await;
    assert_eq!(v["status"], 2);
    assert_eq!(v["coupon_type"], 1);
    assert_eq!(v["customer_id"], c1.id.as_str());
    assert_eq!(v["face_value"].to_string(), "100.00");
    assert_eq!(v["balance"].to_string(), "100.00");
    assert_eq!(v["fetch_method"], 3);
    assert_eq!(v["is_frozen"], "0");
    let all = app.signed(&p).get(COUPONS, "").await;
    assert_eq!(all.ok()["total_count"], 2);

    // The customer sees its own coupon with its own credentials.
    let own = app.signed(&c1).get(OWN, "").await;
    assert_eq!(own.ok()["count"], 1);
    assert_eq!(own.body["user_coupons"][0]["coupon_id"], coupon.as_str());
    assert_eq!(own.body["user_coupons"][0]["source_id"], p.id.as_str());
    assert_eq!(app.signed(&c3).get(OWN, "").await.ok()["count"], 0);

    // Reclaim: the whole balance back to the quota, status 5.
    reclaim(&app, &p, &coupon).await.ok();
    assert_eq!(balance(&app, &p, &q).await, "150.00");
    let v = coupon_of(&app, &p, &coupon).await;
    assert_eq!(v["status"], 5);
    assert_eq!(v["balance"].to_string(), "0.00");
    app.assert_audit_ok().await;

    // Reclaiming twice changes nothing.
    reclaim(&app, &p, &coupon).await.err(400, "CBC.99000048");
    assert_eq!(balance(&app, &p, &q).await, "150.00");

    // Another partner's coupon.
    let other = app.create_partner("solution_provider", None).await;
    let c2_coupon = b["coupon_infos"][1]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    reclaim(&app, &other, &c2_coupon)
        .await
        .err(400, "CBC.99000035");
    assert_eq!(coupon_of(&app, &p, &c2_coupon).await["status"], 2);
    assert_eq!(balance(&app, &p, &q).await, "150.00");

    // Records: issue ×2 + a failed issue + a reclaim; the remark only for the issuer.
    let r = app.signed(&p).get(RECORDS, "").await;
    assert_eq!(r.ok()["total_count"], 4);
    let rec = &r.body["records"];
    assert!(rec
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["operation_type"] == "2"
            && serde_json::to_string(&x["operation_amount"]).unwrap() == "100.00"));
    assert!(rec
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["result"] == "-1" && x["customer_id"] == c3.id.as_str()));
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn an_expired_coupon_reads_status_4_cannot_be_reclaimed_and_an_expired_quota_cannot_issue() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "500.00").await;
    let b = body(&format!(
        r#"{{"quota_id": "{q}", "customer_ids": ["{}"], "face_value": 10.00, "expire_time": "{}"}}"#,
        c.id,
        ts(app.now() + Duration::days(1))
    ));
    let r = app.signed(&p).post(COUPONS, &b).await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(Duration::days(2));
    assert_eq!(coupon_of(&app, &p, &coupon).await["status"], 4);
    let four = app.signed(&p).get(COUPONS, "status=4").await;
    assert_eq!(four.ok()["total_count"], 1);
    reclaim(&app, &p, &coupon).await.err(400, "CBC.99000048");
    assert_eq!(balance(&app, &p, &q).await, "490.00");

    app.clock.advance(Duration::days(40));
    issue(&app, &p, &q, &[&c.id], "10.00")
        .await
        .err(400, "CBC.99000017");
    assert_eq!(quota_view(&app, &p, &q).await["quota_status"], 3);
    assert_eq!(balance(&app, &p, &q).await, "490.00");
    app.assert_audit_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_issues_never_overdraw_one_quota() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await);
    }
    // 32 × 10.00 requested against 155.00: exactly 15 can succeed.
    let q = quota(&app, &p, "155.00").await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let c = customers[i % 4].id.clone();
            let (app, p, q) = (app.clone(), p.clone(), q.clone());
            tokio::spawn(async move { issue(&app, &p, &q, &[&c], "10.00").await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let mut ok = 0;
    for r in &results {
        let b = r.ok();
        ok += b["coupon_infos"].as_array().unwrap().len();
        for e in b["error_details"].as_array().unwrap() {
            assert_eq!(e["error_code"], "CBC.99000013");
        }
    }
    assert_eq!(ok, 15);
    assert_eq!(balance(&app, &p, &q).await, "5.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn issuing_answers_every_documented_error_code() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let other = app.create_partner("solution_provider", None).await;
    let stranger = app.create_customer(&other, json!({})).await;
    let q = quota(&app, &p, "1000.00").await;

    // 400 CBC.0100: face value precision, missing customers, bad time.
    issue(&app, &p, &q, &[&c.id], "1.005")
        .await
        .err(400, "CBC.0100");
    issue(&app, &p, &q, &[], "1.00").await.err(400, "CBC.0100");
    let bad = json!({"quota_id": q, "customer_ids": [c.id], "face_value": 1, "valid_time": ""});
    app.signed(&p)
        .post(COUPONS, &bad)
        .await
        .err(400, "CBC.0100");
    // Validity outside the quota's window.
    let late = json!({"quota_id": q, "customer_ids": [c.id], "face_value": 1,
                      "expire_time": ts(app.now() + Duration::days(90))});
    app.signed(&p)
        .post(COUPONS, &late)
        .await
        .err(400, "CBC.0100");
    // 400 CBC.99000012: unknown quota, another partner's quota, frozen, invalidated.
    issue(&app, &p, "CQnope", &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000012");
    let oq = quota(&app, &other, "10.00").await;
    issue(&app, &p, &oq, &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000012");
    let fq = quota(&app, &p, "10.00").await;
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/coupon-quotas/{fq}/freeze"),
            None,
        )
        .await;
    assert_eq!(r.body["quota_status"], 5, "{}", r.text);
    issue(&app, &p, &fq, &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000012");
    app.admin(
        Method::POST,
        &format!("/admin/v1/coupon-quotas/{fq}/unfreeze"),
        None,
    )
    .await;
    issue(&app, &p, &fq, &[&c.id], "1.00").await.ok();
    app.admin(
        Method::POST,
        &format!("/admin/v1/coupon-quotas/{fq}/invalidate"),
        None,
    )
    .await;
    issue(&app, &p, &fq, &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000012");
    // 400 CBC.99000017: not yet effective.
    let future = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
            Some(json!({"quota_type": 1, "quota_value": 10, "effective_time": ts(app.now() + Duration::days(1)),
                        "expire_time": ts(app.now() + Duration::days(2))})),
        )
        .await;
    let fut_q = future.body["quota_id"].as_str().unwrap();
    issue(&app, &p, fut_q, &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000017");
    // 400 CBC.99000018 / 19: face value bounds.
    let bq = grant(
        &app,
        &p,
        "100",
        json!({"min_face_value": 5, "max_face_value": 20, "max_coupons_per_issue": 1}),
    )
    .await;
    let bq = bq.body["quota_id"].as_str().unwrap().to_string();
    issue(&app, &p, &bq, &[&c.id], "4.99")
        .await
        .err(400, "CBC.99000018");
    issue(&app, &p, &bq, &[&c.id], "20.01")
        .await
        .err(400, "CBC.99000019");
    // 200 CBC.99000020: more coupons than allowed per issue.
    let c2 = app.create_customer(&p, json!({})).await;
    let r = issue(&app, &p, &bq, &[&c.id, &c2.id], "5.00").await;
    assert_eq!(r.ok()["coupon_infos"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["error_details"][0]["error_code"], "CBC.99000020");
    // 400 CBC.99000023: restrictions wider than the quota's.
    let rq = grant(
        &app,
        &p,
        "100",
        json!({"cloud_service_types": ["hws.service.type.ebs"]}),
    )
    .await;
    let rq = rq.body["quota_id"].as_str().unwrap().to_string();
    let wide = json!({"quota_id": rq, "customer_ids": [c.id], "face_value": 1,
                      "cloud_service_types": ["hws.service.type.ec2"]});
    app.signed(&p)
        .post(COUPONS, &wide)
        .await
        .err(400, "CBC.99000023");
    let narrow = json!({"quota_id": rq, "customer_ids": [c.id], "face_value": 1,
                        "cloud_service_types": ["hws.service.type.ebs"]});
    let r = app.signed(&p).post(COUPONS, &narrow).await;
    let cid = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = coupon_of(&app, &p, &cid).await;
    assert_eq!(v["use_limits"][0]["limit_key"], "cloudServiceType");
    assert_eq!(v["use_limits"][0]["value1"], "hws.service.type.ebs");
    // 400 CBC.50000020: designated customers only.
    let dq = grant(&app, &p, "100", json!({"designated_customer_ids": [c.id]})).await;
    let dq = dq.body["quota_id"].as_str().unwrap().to_string();
    issue(&app, &p, &dq, &[&c2.id], "1.00")
        .await
        .err(400, "CBC.50000020");
    issue(&app, &p, &dq, &[&c.id], "1.00").await.ok();
    // 400 CBC.99000025: to itself.
    issue(&app, &p, &q, &[&p.id], "1.00")
        .await
        .err(400, "CBC.99000025");
    // 200 CBC.99000035 / 99000014 per customer while others succeed.
    let r = issue(&app, &p, &q, &[&stranger.id, &advisory.id, &c.id], "1.00").await;
    let b = r.ok();
    assert_eq!(b["coupon_infos"].as_array().unwrap().len(), 1);
    assert_eq!(b["error_details"][0]["error_code"], "CBC.99000035");
    assert_eq!(b["error_details"][1]["error_code"], "CBC.99000014");
    // 400 CBC.99000037: not the caller's reseller (distributor).
    let d = app.create_partner("distributor", None).await;
    let dq2 = quota(&app, &d, "10.00").await;
    let foreign = json!({"quota_id": dq2, "customer_ids": [c.id], "face_value": 1,
                         "indirect_partner_id": other.id});
    app.signed(&d)
        .post(COUPONS, &foreign)
        .await
        .err(400, "CBC.99000037");
    // 403 CBC.0151: a customer calling a partner API.
    issue(&app, &c, &q, &[&c.id], "1.00")
        .await
        .err(403, "CBC.0151");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn first_time_only_quotas_refuse_customers_that_were_associated_before() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = grant(&app, &p, "100", json!({"first_time_customers_only": true})).await;
    let q = q.body["quota_id"].as_str().unwrap().to_string();
    issue(&app, &p, &q, &[&c.id], "1.00").await.ok();
    sqlx::query(
        "insert into association_event (customer_id, partner_id, event_type, actor_id, actor_kind, outcome, created_at)
         values ($1, $2, 'unassociate', $2, 'partner', 'completed', now())",
    )
    .bind(&c.id)
    .bind(&p.id)
    .execute(&app.pool)
    .await
    .unwrap();
    issue(&app, &p, &q, &[&c.id], "1.00")
        .await
        .err(400, "CBC.99000022");
}

#[tokio::test]
async fn reclaim_answers_its_documented_error_codes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    reclaim(&app, &p, "").await.err(400, "CBC.0100");
    reclaim(&app, &p, "CPnope").await.err(400, "CBC.99000035");
    let r = issue(&app, &p, &q, &[&c.id], "10.00").await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = app.create_partner("distributor", None).await;
    app.signed(&d)
        .post(
            RECLAIM,
            &json!({"coupon_id": coupon, "indirect_partner_id": p.id}),
        )
        .await
        .err(400, "CBC.99000037");
    // A coupon held by a customer that became advisory outside the switch (data repair).
    sqlx::query("update customer set association_type = '1' where account_id = $1")
        .bind(&c.id)
        .execute(&app.pool)
        .await
        .unwrap();
    reclaim(&app, &p, &coupon).await.err(400, "CBC.99000045");
    reclaim(&app, &c, &coupon).await.err(403, "CBC.0151");
    assert_eq!(balance(&app, &p, &q).await, "90.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn issue_and_reclaim_are_idempotent_with_a_key() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    let b = json!({"quota_id": q, "customer_ids": [c.id], "face_value": 30});
    let r1 = app.signed(&p).post_idem(COUPONS, &b, "k1").await;
    let r2 = app.signed(&p).post_idem(COUPONS, &b, "k1").await;
    assert_eq!(r1.ok(), r2.ok());
    assert_eq!(balance(&app, &p, &q).await, "70.00");
    let other = json!({"quota_id": q, "customer_ids": [c.id], "face_value": 31});
    app.signed(&p)
        .post_idem(COUPONS, &other, "k1")
        .await
        .err(422, "CBC.0101");
    let coupon = r1.body["coupon_infos"][0]["coupon_id"].as_str().unwrap();
    let rb = json!({"coupon_id": coupon});
    app.signed(&p).post_idem(RECLAIM, &rb, "k2").await.ok();
    app.signed(&p).post_idem(RECLAIM, &rb, "k2").await.ok();
    assert_eq!(balance(&app, &p, &q).await, "100.00");
    // Without the key the second reclaim is a business rejection.
    reclaim(&app, &p, coupon).await.err(400, "CBC.99000048");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn record_filters_follow_the_repeated_key_and_empty_value_rules() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "15.00").await;
    let r = issue(&app, &p, &q, &[&c1.id, &c2.id], "10.00").await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    reclaim(&app, &p, &coupon).await.ok();
    let count = |query: String| {
        let app = &app;
        let p = &p;
        async move {
            let r = app.signed(p).get(RECORDS, &query).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(count(String::new()).await, 3);
    assert_eq!(count("operation_types=1".into()).await, 2);
    assert_eq!(count("operation_types=1&operation_types=2".into()).await, 3);
    assert_eq!(count("operation_types=".into()).await, 0);
    assert_eq!(count(format!("coupon_ids={coupon}")).await, 2);
    assert_eq!(count("coupon_ids=".into()).await, 0);
    assert_eq!(count(format!("quota_id={q}")).await, 3);
    assert_eq!(count("quota_id=".into()).await, 0);
    assert_eq!(count(format!("customer_id={}", c2.id)).await, 1);
    assert_eq!(count("customer_id=".into()).await, 0);
    assert_eq!(count("quota_type=0".into()).await, 3);
    assert_eq!(count("quota_type=1".into()).await, 0);
    assert_eq!(count("result=0".into()).await, 2);
    assert_eq!(count("result=-1".into()).await, 1);
    assert_eq!(count("result=x".into()).await, 3);
    let later = ts(app.now() + Duration::hours(1));
    assert_eq!(count(format!("operation_time_begin={later}")).await, 0);
    assert_eq!(count(format!("operation_time_end={later}")).await, 3);
    assert_eq!(count("limit=1".into()).await, 3);
    let page = app.signed(&p).get(RECORDS, "limit=1&offset=1").await;
    assert_eq!(page.ok()["records"].as_array().unwrap().len(), 1);
    for bad in [
        "quota_type=",
        "quota_type=2",
        "offset=",
        "limit=",
        "limit=0",
        "operation_time_begin=",
        "operation_time_end=2024-01-01",
        "operation_types=12",
    ] {
        app.signed(&p).get(RECORDS, bad).await.err(400, "CBC.0100");
    }
    // The issuer sees its remark; a distributor viewing its reseller's records does not.
    let rec = app
        .signed(&p)
        .get(RECORDS, "operation_types=1&result=0")
        .await;
    assert_eq!(rec.ok()["records"][0]["remark"], "welcome");
    let d = app.create_partner("distributor", None).await;
    let reseller = app.create_partner("reseller", Some(&d.id)).await;
    let rc = app.create_customer(&reseller, json!({})).await;
    let rq = quota(&app, &reseller, "50.00").await;
    issue(&app, &reseller, &rq, &[&rc.id], "5.00").await.ok();
    let seen = app
        .signed(&d)
        .get(RECORDS, &format!("indirect_partner_id={}", reseller.id))
        .await;
    assert_eq!(seen.ok()["total_count"], 1);
    assert_eq!(seen.body["records"][0]["remark"], "");
    app.signed(&d)
        .get(RECORDS, &format!("indirect_partner_id={}", p.id))
        .await
        .err(400, "CBC.99000037");
    app.signed(&c1).get(RECORDS, "").await.err(403, "CBC.0151");
}

#[tokio::test]
async fn issued_coupon_and_quota_lists_apply_every_filter() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    let cash = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
            Some(json!({"quota_type": 1, "quota_value": 50, "effective_time": ts(app.now() - Duration::hours(1)),
                        "expire_time": ts(app.now() + Duration::days(3))})),
        )
        .await;
    let cq = cash.body["quota_id"].as_str().unwrap().to_string();
    issue(&app, &p, &q, &[&c1.id], "1.00").await.ok();
    let r = issue(&app, &p, &cq, &[&c2.id], "2.00").await;
    let cash_coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    let total = |query: String| {
        let (app, p) = (&app, &p);
        async move {
            let r = app.signed(p).get(COUPONS, &query).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(total(String::new()).await, 2);
    assert_eq!(total("coupon_type=4".into()).await, 1);
    assert_eq!(total(format!("coupon_id={cash_coupon}")).await, 1);
    assert_eq!(total("coupon_id=".into()).await, 2);
    assert_eq!(total(format!("customer_id={}", c1.id)).await, 1);
    assert_eq!(total("order_id=O1".into()).await, 0);
    assert_eq!(total("status=2".into()).await, 2);
    assert_eq!(total("status=5".into()).await, 0);
    let later = ts(app.now() + Duration::hours(1));
    assert_eq!(total(format!("create_time_begin={later}")).await, 0);
    assert_eq!(total(format!("create_time_end={later}")).await, 2);
    assert_eq!(
        total(format!(
            "expire_time_end={}",
            ts(app.now() + Duration::days(5))
        ))
        .await,
        1
    );
    assert_eq!(total(format!("effective_time_begin={later}")).await, 0);
    for bad in [
        "coupon_type=2",
        "status=9",
        "limit=101",
        "offset=-1",
        "create_time_begin=x",
    ] {
        app.signed(&p).get(COUPONS, bad).await.err(400, "CBC.0100");
    }
    // Own coupons of a customer: filters.
    let own = |query: &'static str| {
        let (app, c2) = (&app, &c2);
        async move {
            let r = app.signed(c2).get(OWN, query).await;
            r.ok()["count"].as_i64().unwrap()
        }
    };
    assert_eq!(own("").await, 1);
    assert_eq!(own("coupon_type=1").await, 0);
    assert_eq!(own("coupon_id=").await, 0);
    assert_eq!(own("promotion_plan_id=x").await, 0);
    app.signed(&c2)
        .get(OWN, "status=7")
        .await
        .err(400, "CBC.0100");

    // Quota query filters.
    let qcount = |b: Value| {
        let (app, p) = (&app, &p);
        async move {
            let r = app.signed(p).post(QUOTAS, &b).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(qcount(json!({})).await, 1, "quota_type defaults to 0");
    assert_eq!(
        qcount(json!({"quota_type": null, "quota_ids": null})).await,
        1
    );
    assert_eq!(qcount(json!({"quota_type": 1})).await, 1);
    assert_eq!(qcount(json!({"quota_ids": []})).await, 1);
    assert_eq!(qcount(json!({"quota_ids": ["x"]})).await, 0);
    assert_eq!(qcount(json!({"quota_status_list": []})).await, 1);
    assert_eq!(qcount(json!({"quota_status_list": [5]})).await, 0);
    assert_eq!(
        qcount(json!({"expire_time_end": ts(app.now() + Duration::days(5)), "quota_type": 1}))
            .await,
        1
    );
    assert_eq!(qcount(json!({"create_time_begin": later})).await, 0);
    assert_eq!(qcount(json!({"effective_time_end": later})).await, 1);
    for bad in [
        json!({"quota_type": 2}),
        json!({"quota_status_list": [1]}),
        json!({"create_time_begin": ""}),
        json!({"limit": 0}),
    ] {
        app.signed(&p).post(QUOTAS, &bad).await.err(400, "CBC.0100");
    }
    let v = quota_view(&app, &p, &q).await;
    assert_eq!(v["quota_value"].to_string(), "100.00");
    assert_eq!(v["quota_status"], 0);
    assert_eq!(v["currency"], "CNY");
    assert_eq!(v["measure_id"], 1);
    app.signed(&c1)
        .post(QUOTAS, &json!({}))
        .await
        .err(403, "CBC.0151");
    let d = app.create_partner("distributor", None).await;
    app.signed(&d)
        .post(QUOTAS, &json!({"indirect_partner_id": p.id}))
        .await
        .err(400, "CBC.99000037");
    app.signed(&d)
        .get(COUPONS, &format!("indirect_partner_id={}", p.id))
        .await
        .err(400, "CBC.99000037");
}

#[tokio::test]
async fn the_vendor_adjusts_quotas_through_the_ledger() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    issue(&app, &p, &q, &[&c.id], "60.00").await.ok();
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/coupon-quotas/{q}"),
            Some(json!({"quota_value": 150})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["balance"].to_string(), "90.00");
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/coupon-quotas/{q}"),
            Some(json!({"quota_value": 50})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["error_code"].as_str()),
        (400, Some("CBC.99000013"))
    );
    assert_eq!(balance(&app, &p, &q).await, "90.00");
    let bad = grant(&app, &p, "0", json!({})).await;
    assert_eq!(bad.status, 400);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn leaving_reseller_mode_reclaims_usable_coupons_and_the_customer_sees_its_coupon_ledger() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    let r = issue(&app, &p, &q, &[&c.id], "40.00").await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    // A resale customer has no coupon change records (CBC.99000084).
    app.signed(&c)
        .get(CHANGES, "balance_type=BALANCE_TYPE_COUPON")
        .await
        .err(400, "CBC.99000084");
    let r = app
        .signed(&p)
        .post(
            SWITCH,
            &json!({"customer_id": c.id, "association_type": "1", "reason": "pays directly"}),
        )
        .await;
    r.ok();
    assert_eq!(balance(&app, &p, &q).await, "100.00");
    let own = app.signed(&c).get(OWN, "").await;
    assert_eq!(own.ok()["user_coupons"][0]["status"], 5);
    let rec = app.signed(&p).get(RECORDS, "operation_types=8").await;
    assert_eq!(rec.ok()["total_count"], 1);
    assert_eq!(rec.body["records"][0]["coupon_id"], coupon.as_str());
    // Now advisory: its coupon ledger shows the activation and the reclaim.
    let ch = app
        .signed(&c)
        .get(CHANGES, "balance_type=BALANCE_TYPE_COUPON")
        .await;
    assert_eq!(ch.ok()["total_count"], 2);
    assert_eq!(ch.body["currency"], "CNY");
    let recs = ch.body["records"].as_array().unwrap();
    assert_eq!(
        recs[0]["trade_detail_type"],
        "SOURCE_OPERATION_COUPONCANCEL"
    );
    assert_eq!(recs[0]["change_amount"], "-40.00");
    assert_eq!(recs[0]["balance_after_change"], "0.00");
    assert_eq!(recs[1]["revenue_expense_type"], "REVENUE");
    let n = |q: &'static str| {
        let (app, c) = (&app, &c);
        async move {
            let r = app.signed(c).get(CHANGES, q).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(
        n("balance_type=BALANCE_TYPE_COUPON&revenue_expense_type=EXPENSE").await,
        1
    );
    assert_eq!(
        n("balance_type=BALANCE_TYPE_COUPON&trade_type=ADJUST").await,
        1
    );
    assert_eq!(
        n("balance_type=BALANCE_TYPE_COUPON&trade_type=EXPIRED").await,
        0
    );
    assert_eq!(n("balance_type=BALANCE_TYPE_COUPON&coupon_id=CPx").await, 0);
    assert_eq!(n("balance_type=BALANCE_TYPE_COUPON&trade_id=x").await, 0);
    assert_eq!(
        n("balance_type=BALANCE_TYPE_COUPON&revenue_expense_type=REVENUE").await,
        1
    );
    assert_eq!(
        n("balance_type=BALANCE_TYPE_COUPON&trade_type=COUPONCANCEL").await,
        1
    );
    let ch = app
        .signed(&c)
        .get(
            CHANGES,
            &format!("balance_type=BALANCE_TYPE_COUPON&coupon_id={coupon}&offset=1&limit=1"),
        )
        .await;
    assert_eq!(ch.ok()["total_count"], 2);
    assert_eq!(ch.body["records"].as_array().unwrap().len(), 1);
    for bad in [
        "",
        "balance_type=BALANCE_TYPE_DEBIT",
        "balance_type=BALANCE_TYPE_COUPON&revenue_expense_type=",
        "balance_type=BALANCE_TYPE_COUPON&trade_type=X",
        "balance_type=BALANCE_TYPE_COUPON&trade_time_begin=",
        "balance_type=BALANCE_TYPE_COUPON&limit=0",
        "balance_type=BALANCE_TYPE_COUPON&limit=101",
        "balance_type=BALANCE_TYPE_COUPON&offset=-1",
        "balance_type=BALANCE_TYPE_COUPON&trade_time_end=",
        "balance_type=BALANCE_TYPE_COUPON&trade_time_begin=2024-13-01",
    ] {
        app.signed(&c).get(CHANGES, bad).await.err(400, "CBC.0100");
    }
    app.signed(&p)
        .get(CHANGES, "balance_type=BALANCE_TYPE_COUPON")
        .await
        .err(403, "CBC.0151");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn stored_value_cards_are_an_empty_list_with_a_required_status() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let r = app.signed(&c).get(CARDS, "status=1").await;
    assert_eq!(r.ok()["total_count"], 0);
    assert_eq!(r.body["stored_value_cards"], json!([]));
    app.signed(&c).get(CARDS, "").await.err(400, "CBC.0100");
    app.signed(&c)
        .get(CARDS, "status=3")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(CARDS, "status=1")
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn a_distributor_issues_and_reclaims_reseller_quotas() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let r1 = app.create_partner("reseller", Some(&d.id)).await;
    let r2 = app.create_partner("reseller", Some(&d.id)).await;
    let stranger = app.create_partner("solution_provider", None).await;
    let q = quota(&app, &d, "100.00").await;
    let b = json!({"quota_id": q, "indirect_partner_ids": [r1.id, stranger.id, r2.id], "quota_amount": 60});
    let r = app.signed(&d).post(Q_ADJUST, &b).await;
    let body = r.ok();
    assert_eq!(body["simple_quota_infos"][0]["id"], r1.id.as_str());
    assert_eq!(body["error_details"][0]["error_code"], "CBC.99000037");
    assert_eq!(body["error_details"][1]["error_code"], "CBC.99000013");
    let rq = body["simple_quota_infos"][0]["quota_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&app, &d, &q).await, "40.00");
    assert_eq!(balance(&app, &r1, &rq).await, "60.00");
    app.signed(&d)
        .post(
            Q_ADJUST,
            &json!({"quota_id": "CQx", "indirect_partner_ids": [r1.id], "quota_amount": 1}),
        )
        .await
        .err(400, "CBC.99000012");
    app.signed(&d)
        .post(
            Q_ADJUST,
            &json!({"quota_id": q, "indirect_partner_ids": [r1.id], "quota_amount": 0}),
        )
        .await
        .err(400, "CBC.0100");
    // The reseller issues from its quota; the distributor sees it.
    let rc = app.create_customer(&r1, json!({})).await;
    issue(&app, &r1, &rq, &[&rc.id], "10.00").await.ok();
    let issued = app.signed(&d).get(Q_ISSUED, "").await;
    assert_eq!(issued.ok()["total_count"], 1);
    assert_eq!(
        issued.body["quotas"][0]["indirect_partner_id"],
        r1.id.as_str()
    );
    assert_eq!(issued.body["quotas"][0]["parent_quota_id"], q.as_str());
    assert_eq!(issued.body["quotas"][0]["balance"].to_string(), "50.00");
    let n = |path: &'static str, query: String| {
        let (app, d) = (&app, &d);
        async move {
            let r = app.signed(d).get(path, &query).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(n(Q_ISSUED, "parent_quota_id=".into()).await, 0);
    assert_eq!(
        n(Q_ISSUED, format!("indirect_partner_id={}", r2.id)).await,
        0
    );
    assert_eq!(n(Q_ISSUED, format!("quota_id={rq}")).await, 1);
    // Reclaim: the remaining 50.00 goes back; status 6.
    let r = app
        .signed(&d)
        .post(
            Q_RECLAIM,
            &json!({"quota_ids": [rq, "CQnope"], "remark": "season over"}),
        )
        .await;
    let body = r.ok();
    assert_eq!(body["simple_quota_infos"][0]["quota_id"], rq.as_str());
    assert_eq!(
        body["simple_quota_infos"][0]["quota_balance"].to_string(),
        "0.00"
    );
    assert_eq!(body["error_details"][0]["error_code"], "CBC.99000012");
    assert_eq!(balance(&app, &d, &q).await, "90.00");
    let issued = app.signed(&d).get(Q_ISSUED, "").await;
    assert_eq!(issued.ok()["quotas"][0]["quota_status"], 6);
    app.signed(&d)
        .post(Q_RECLAIM, &json!({"quota_ids": []}))
        .await
        .err(400, "CBC.0100");
    // Records.
    assert_eq!(n(Q_RECORDS, String::new()).await, 2);
    assert_eq!(n(Q_RECORDS, "operation_type=10".into()).await, 1);
    assert_eq!(n(Q_RECORDS, "operation_type=99".into()).await, 2);
    assert_eq!(n(Q_RECORDS, format!("quota_id={rq}")).await, 2);
    assert_eq!(n(Q_RECORDS, "parent_quota_id=".into()).await, 0);
    assert_eq!(
        n(Q_RECORDS, format!("indirect_partner_id={}", r2.id)).await,
        0
    );
    let later = ts(app.now() + Duration::hours(1));
    assert_eq!(
        n(Q_RECORDS, format!("operation_time_begin={later}")).await,
        0
    );
    let rec = app.signed(&d).get(Q_RECORDS, "operation_type=11").await;
    assert_eq!(rec.ok()["records"][0]["remark"], "season over");
    assert_eq!(rec.body["records"][0]["amount"].to_string(), "50.00");
    assert_eq!(
        rec.body["records"][0]["indirect_partner_account_name"],
        r1.login.as_str()
    );
    app.signed(&d)
        .get(Q_RECORDS, &format!("indirect_partner_id={}", stranger.id))
        .await
        .err(400, "CBC.99000037");
    app.signed(&stranger)
        .get(Q_ISSUED, "")
        .await
        .err(403, "CBC.0151");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn restrictions_name_only_catalogued_service_types_and_products() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let product =
        |id: &str, t: &str| json!({"product_id": id, "cloud_service_type": t, "name": "small"});
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/products",
            Some(product("ecs-s1", "hws.service.type.ec2")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["cloud_service_type"], "hws.service.type.ec2");
    // The vendor's own input: unknown type, duplicate id, empty id.
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/products",
            Some(product("ecs-s2", "hws.service.type.nope")),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("cloud_service_type"), "{}", r.text);
    app.admin(
        Method::POST,
        "/admin/v1/products",
        Some(product("ecs-s1", "hws.service.type.ec2")),
    )
    .await
    .err(400, "CBC.0101");
    app.admin(
        Method::POST,
        "/admin/v1/products",
        Some(product("", "hws.service.type.ec2")),
    )
    .await
    .err(400, "CBC.0100");

    // A quota may restrict only to catalogued types/products (CBC.0100 naming the field).
    let r = grant(
        &app,
        &p,
        "100",
        json!({"cloud_service_types": ["hws.service.type.ec2", "hws.service.type.nope"]}),
    )
    .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("cloud_service_types"), "{}", r.text);
    let r = grant(&app, &p, "100", json!({"product_ids": ["ecs-nope"]})).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("product_ids"), "{}", r.text);
    let pq = grant(&app, &p, "100", json!({"product_ids": ["ecs-s1"]})).await;
    assert_eq!(pq.status, 201, "{}", pq.text);

    // Issuing: 400 CBC.50000055 / CBC.50000054 for unknown names, nothing deducted.
    let q = quota(&app, &p, "100.00").await;
    let ask = |field: &str, v: &str| {
        let mut b = json!({"quota_id": q, "customer_ids": [c.id], "face_value": 1});
        b[field] = json!([v]);
        b
    };
    app.signed(&p)
        .post(
            COUPONS,
            &ask("cloud_service_types", "hws.service.type.nope"),
        )
        .await
        .err(400, "CBC.50000055");
    app.signed(&p)
        .post(COUPONS, &ask("product_ids", "ecs-nope"))
        .await
        .err(400, "CBC.50000054");
    assert_eq!(balance(&app, &p, &q).await, "100.00");
    // Every seeded type and a registered product are accepted.
    for t in ["ec2", "ebs", "obs", "vpc", "rds"] {
        let b = ask("cloud_service_types", &format!("hws.service.type.{t}"));
        let r = app.signed(&p).post(COUPONS, &b).await;
        assert_eq!(r.ok()["coupon_infos"].as_array().unwrap().len(), 1);
    }
    let r = app
        .signed(&p)
        .post(COUPONS, &ask("product_ids", "ecs-s1"))
        .await;
    let cid = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = coupon_of(&app, &p, &cid).await;
    assert!(v["use_limits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["limit_key"] == "productId" && l["value1"] == "ecs-s1"));
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_quota_caps_the_total_face_value_of_one_issue_call() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let cs = [
        app.create_customer(&p, json!({})).await,
        app.create_customer(&p, json!({})).await,
        app.create_customer(&p, json!({})).await,
    ];
    let ids: Vec<&str> = cs.iter().map(|c| c.id.as_str()).collect();
    grant(
        &app,
        &p,
        "100",
        json!({"max_total_face_value_per_issue": 0}),
    )
    .await
    .err(400, "CBC.0100");
    let r = grant(
        &app,
        &p,
        "100",
        json!({"max_total_face_value_per_issue": 25}),
    )
    .await;
    let q = r.body["quota_id"].as_str().unwrap().to_string();
    // 10 + 10 fit in 25; the third customer's 10 would make 30: a per-customer CBC.99000021.
    let r = issue(&app, &p, &q, &ids, "10.00").await;
    let b = r.ok();
    assert_eq!(b["coupon_infos"].as_array().unwrap().len(), 2);
    assert_eq!(b["error_details"].as_array().unwrap().len(), 1);
    assert_eq!(b["error_details"][0]["id"], ids[2]);
    assert_eq!(b["error_details"][0]["error_code"], "CBC.99000021");
    assert_eq!(balance(&app, &p, &q).await, "80.00");
    // The cap is per call: a new call may issue again; one coupon above the cap fails alone.
    let r = issue(&app, &p, &q, &ids[2..], "10.00").await;
    assert_eq!(r.ok()["coupon_infos"].as_array().unwrap().len(), 1);
    let r = issue(&app, &p, &q, &ids[..1], "25.01").await;
    assert_eq!(r.ok()["error_details"][0]["error_code"], "CBC.99000021");
    assert_eq!(balance(&app, &p, &q).await, "70.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_partner_in_coupon_usage_mode_cannot_issue_vouchers() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let voucher = quota(&app, &p, "100.00").await;
    let cash = grant(&app, &p, "100", json!({"quota_type": 1})).await;
    let cash = cash.body["quota_id"].as_str().unwrap().to_string();
    let path = format!("/admin/v1/partners/{}", p.id);
    let set = |on: bool| app.admin(Method::PATCH, &path, Some(json!({"coupon_usage_mode": on})));
    let r = set(true).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["coupon_usage_mode"], true);
    issue(&app, &p, &voucher, &[&c.id], "1.00")
        .await
        .err(400, "CBC.50000010");
    assert_eq!(balance(&app, &p, &voucher).await, "100.00");
    // Cash coupons are not vouchers.
    let r = issue(&app, &p, &cash, &[&c.id], "1.00").await;
    assert_eq!(r.ok()["coupon_infos"].as_array().unwrap().len(), 1);
    // Other flags leave the mode alone; switching it off allows vouchers again.
    let r = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/partners/{}", p.id),
            Some(json!({"sandbox": false})),
        )
        .await;
    assert_eq!(r.body["coupon_usage_mode"], true);
    assert_eq!(set(false).await.body["coupon_usage_mode"], false);
    issue(&app, &p, &voucher, &[&c.id], "1.00").await.ok();
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_financially_custodied_sub_account_gets_no_partner_coupons() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    let r = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/customers/{}", c2.id),
            Some(json!({"financially_custodied": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["financially_custodied"], true);
    let r = issue(&app, &p, &q, &[&c1.id, &c2.id], "10.00").await;
    let b = r.ok();
    assert_eq!(b["coupon_infos"][0]["id"], c1.id.as_str());
    assert_eq!(b["error_details"][0]["id"], c2.id.as_str());
    assert_eq!(b["error_details"][0]["error_code"], "CBC.50000034");
    assert_eq!(balance(&app, &p, &q).await, "90.00");
    // An absent flag changes nothing; unknown accounts are refused.
    let r = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/customers/{}", c2.id),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.body["financially_custodied"], true);
    app.admin(
        Method::PATCH,
        &format!("/admin/v1/customers/{}", p.id),
        Some(json!({"financially_custodied": true})),
    )
    .await
    .err(400, "CBC.99000047");
    app.admin(
        Method::PATCH,
        &format!("/admin/v1/customers/{}", c2.id),
        Some(json!({"financially_custodied": false})),
    )
    .await;
    issue(&app, &p, &q, &[&c2.id], "10.00").await.ok();
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_quota_designated_to_other_customers_cannot_go_to_a_reseller() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let r1 = app.create_partner("reseller", Some(&d.id)).await;
    let r2 = app.create_partner("reseller", Some(&d.id)).await;
    let c2 = app.create_customer(&r2, json!({})).await;
    let q = grant(&app, &d, "100", json!({"designated_customer_ids": [c2.id]})).await;
    let q = q.body["quota_id"].as_str().unwrap().to_string();
    let b = json!({"quota_id": q, "indirect_partner_ids": [r1.id, r2.id], "quota_amount": 10});
    let r = app.signed(&d).post(Q_ADJUST, &b).await;
    let body = r.ok();
    assert_eq!(body["error_details"][0]["id"], r1.id.as_str());
    assert_eq!(body["error_details"][0]["error_code"], "CBC.50000021");
    assert_eq!(body["simple_quota_infos"][0]["id"], r2.id.as_str());
    assert_eq!(balance(&app, &d, &q).await, "90.00");
    app.assert_audit_ok().await;
}

async fn manager_of(app: &TestApp, p: &Creds) -> (Creds, String) {
    let role = crate::organisation::role(app, p, "coupons", &["coupon:read", "coupon:write"]).await;
    let op =
        crate::organisation::operator(app, p, json!({"role_id": role, "scope": "manager"})).await;
    let id = crate::organisation::operator_id(app, p, &op).await;
    (op, id)
}

#[tokio::test]
async fn a_manager_cannot_issue_or_reclaim_outside_its_customers() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let mine = app.create_customer(&p, json!({})).await;
    let theirs = app.create_customer(&p, json!({})).await;
    let (m, m_id) = manager_of(&app, &p).await;
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/assignments",
            &json!({"customer_id": mine.id, "manager_id": m_id}),
        )
        .await
        .ok();
    let q = quota(&app, &p, "100.00").await;
    // 200 CBC.99000000 for the customer outside the manager's scope.
    let r = issue(&app, &m, &q, &[&theirs.id, &mine.id], "10.00").await;
    let b = r.ok();
    assert_eq!(b["coupon_infos"][0]["id"], mine.id.as_str());
    assert_eq!(b["error_details"][0]["id"], theirs.id.as_str());
    assert_eq!(b["error_details"][0]["error_code"], "CBC.99000000");
    // 400 CBC.99000000 reclaiming the other customer's coupon.
    let r = issue(&app, &p, &q, &[&theirs.id], "10.00").await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    reclaim(&app, &m, &coupon).await.err(400, "CBC.99000000");
    assert_eq!(coupon_of(&app, &p, &coupon).await["status"], 2);
    assert_eq!(balance(&app, &p, &q).await, "80.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn an_approved_unassociation_reclaims_the_customers_usable_coupons() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let other = app.create_customer(&p, json!({})).await;
    let q = quota(&app, &p, "100.00").await;
    let r = issue(&app, &p, &q, &[&c.id, &other.id], "30.00").await;
    let coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    // A coupon already reclaimed stays as it was.
    let r = issue(&app, &p, &q, &[&c.id], "5.00").await;
    let gone = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    reclaim(&app, &p, &gone).await.ok();
    assert_eq!(balance(&app, &p, &q).await, "40.00");
    let id = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/unassociate",
            &json!({"customer_id": c.id, "reason": "contract ended"}),
        )
        .await
        .ok()["request_id"]
        .as_i64()
        .unwrap();
    // Pending: nothing reclaimed yet.
    assert_eq!(balance(&app, &p, &q).await, "40.00");
    let ok = app
        .signed(&c)
        .post(
            &format!("/v2/customers/association-requests/{id}/approve"),
            &json!({}),
        )
        .await;
    assert_eq!(ok.ok()["status"], "approved");
    assert_eq!(balance(&app, &p, &q).await, "70.00");
    let own = app
        .signed(&c)
        .get(OWN, &format!("coupon_id={coupon}"))
        .await;
    assert_eq!(own.ok()["user_coupons"][0]["status"], 5);
    assert_eq!(own.body["user_coupons"][0]["balance"].to_string(), "0.00");
    let rec = app.signed(&p).get(RECORDS, "operation_types=3").await;
    assert_eq!(rec.ok()["total_count"], 1);
    assert_eq!(rec.body["records"][0]["coupon_id"], coupon.as_str());
    assert_eq!(rec.body["records"][0]["customer_id"], c.id.as_str());
    assert_eq!(
        serde_json::to_string(&rec.body["records"][0]["operation_amount"]).unwrap(),
        "30.00"
    );
    // The other customer's coupon is untouched.
    let v = app
        .signed(&p)
        .get(COUPONS, &format!("customer_id={}", other.id))
        .await;
    assert_eq!(v.ok()["user_coupons"][0]["status"], 2);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_remaining_absent_empty_and_null_rules_of_the_lists() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let p = app.create_partner("reseller", Some(&d.id)).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let dq = quota(&app, &d, "100.00").await;
    let r = app
        .signed(&d)
        .post(
            Q_ADJUST,
            &json!({"quota_id": dq, "indirect_partner_ids": [p.id], "quota_amount": 50}),
        )
        .await;
    let q = r.ok()["simple_quota_infos"][0]["quota_id"]
        .as_str()
        .unwrap()
        .to_string();
    issue(&app, &p, &q, &[&c1.id], "1.00").await.ok();
    // A coupon valid from tomorrow: status 1.
    let b = json!({"quota_id": q, "customer_ids": [c2.id], "face_value": 2,
                   "valid_time": ts(app.now() + Duration::days(1))});
    let r = app.signed(&p).post(COUPONS, &b).await;
    let later_coupon = r.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    let later = ts(app.now() + Duration::hours(1));

    // Op. 1: null / [] ⇒ no filter for every list; the time windows; the reseller's quotas.
    let qcount = |who: &'static str, b: Value| {
        let (app, p, d) = (&app, &p, &d);
        async move {
            let caller = if who == "d" { d } else { p };
            let r = app.signed(caller).post(QUOTAS, &b).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(qcount("p", json!({"quota_status_list": null})).await, 1);
    assert_eq!(qcount("p", json!({"quota_status_list": [0]})).await, 1);
    assert_eq!(qcount("p", json!({"quota_status_list": [3, 4]})).await, 0);
    assert_eq!(qcount("p", json!({"quota_ids": [q]})).await, 1);
    for (k, n) in [
        ("create_time_end", 1),
        ("effective_time_begin", 0),
        ("expire_time_begin", 1),
        ("expire_time_end", 0),
    ] {
        assert_eq!(qcount("p", json!({k: later})).await, n, "{k}");
    }
    for k in [
        "create_time_end",
        "effective_time_begin",
        "expire_time_begin",
    ] {
        assert_eq!(qcount("p", json!({k: null})).await, 1, "{k}: null");
    }
    let r = app
        .signed(&p)
        .post(QUOTAS, &json!({"offset": 1, "limit": 1}))
        .await;
    assert_eq!(r.ok()["total_count"], 1);
    assert_eq!(r.body["quotas"], json!([]));
    assert_eq!(
        qcount("d", json!({"indirect_partner_id": p.id})).await,
        1,
        "a distributor sees its reseller's quotas"
    );
    assert_eq!(qcount("d", json!({})).await, 1, "its own");

    // Op. 3: "" ⇒ no filter for customer_id / order_id; the other windows; status 1; a
    // distributor viewing its reseller's coupons.
    let total = |who: &'static str, query: String| {
        let (app, p, d) = (&app, &p, &d);
        async move {
            let caller = if who == "d" { d } else { p };
            let r = app.signed(caller).get(COUPONS, &query).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(total("p", "customer_id=".into()).await, 2);
    assert_eq!(total("p", "order_id=".into()).await, 2);
    assert_eq!(total("p", format!("coupon_id={later_coupon}")).await, 1);
    assert_eq!(total("p", "status=1".into()).await, 1);
    assert_eq!(total("p", "coupon_type=1".into()).await, 2);
    assert_eq!(total("p", format!("effective_time_end={later}")).await, 1);
    assert_eq!(total("p", format!("expire_time_begin={later}")).await, 2);
    assert_eq!(total("p", "offset=1&limit=1".into()).await, 2);
    assert_eq!(total("d", format!("indirect_partner_id={}", p.id)).await, 2);
    for bad in [
        "coupon_type=",
        "status=",
        "effective_time_end=",
        "expire_time_begin=2024-01-01",
        "limit=0",
    ] {
        app.signed(&p).get(COUPONS, bad).await.err(400, "CBC.0100");
    }

    // Op. 10: "" is a filter for order_id / promotion_plan_id; the activation window; source_id.
    let own = |query: String| {
        let (app, c1) = (&app, &c1);
        async move {
            let r = app.signed(c1).get(OWN, &query).await;
            r.ok()["count"].as_i64().unwrap()
        }
    };
    assert_eq!(own(String::new()).await, 1);
    assert_eq!(own("order_id=".into()).await, 0);
    assert_eq!(own("promotion_plan_id=".into()).await, 0);
    assert_eq!(own("status=2".into()).await, 1);
    assert_eq!(own("status=5".into()).await, 0);
    assert_eq!(own(format!("source_id={}", p.id)).await, 1);
    assert_eq!(own("source_id=x".into()).await, 0);
    assert_eq!(own("source_id=".into()).await, 1);
    assert_eq!(own(format!("active_start_time={later}")).await, 0);
    assert_eq!(own(format!("active_end_time={later}")).await, 1);
    for bad in [
        "active_start_time=",
        "active_end_time=",
        "coupon_type=5",
        "limit=0",
    ] {
        app.signed(&c1).get(OWN, bad).await.err(400, "CBC.0100");
    }
    // A distributor's view of its reseller's own coupons (the reseller holds none).
    let r = app
        .signed(&d)
        .get(OWN, &format!("indirect_partner_id={}", p.id))
        .await;
    assert_eq!(r.ok()["count"], 0);

    // Ops. 8 / 9: "" ⇒ no filter for quota_id; parent_quota_id named; time windows.
    let n = |path: &'static str, query: String| {
        let (app, d) = (&app, &d);
        async move {
            let r = app.signed(d).get(path, &query).await;
            r.ok()["total_count"].as_i64().unwrap()
        }
    };
    assert_eq!(n(Q_RECORDS, "quota_id=".into()).await, 1);
    assert_eq!(n(Q_RECORDS, format!("parent_quota_id={dq}")).await, 1);
    assert_eq!(n(Q_RECORDS, format!("operation_time_end={later}")).await, 1);
    assert_eq!(n(Q_RECORDS, "operation_type=11".into()).await, 0);
    assert_eq!(
        n(Q_RECORDS, format!("indirect_partner_id={}", p.id)).await,
        1
    );
    for bad in ["operation_time_begin=", "operation_time_end=", "limit=0"] {
        app.signed(&d)
            .get(Q_RECORDS, bad)
            .await
            .err(400, "CBC.0100");
    }
    assert_eq!(n(Q_ISSUED, "quota_id=".into()).await, 1);
    assert_eq!(n(Q_ISSUED, format!("parent_quota_id={dq}")).await, 1);
    assert_eq!(
        n(Q_ISSUED, format!("indirect_partner_id={}", p.id)).await,
        1
    );
    assert_eq!(n(Q_ISSUED, "quota_id=CQx".into()).await, 0);

    // Op. 12: card_id absent / "" / named.
    for query in ["status=1", "status=1&card_id=", "status=2&card_id=SVC1"] {
        let r = app.signed(&c1).get(CARDS, query).await;
        assert_eq!(r.ok()["total_count"], 0, "{query}");
    }
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_vendor_grants_a_quota_once_per_idempotency_key() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let grant_with_key = |value: &str| {
        let b = body(&format!(
            r#"{{"quota_type": 0, "quota_value": {value}, "effective_time": "{}", "expire_time": "{}"}}"#,
            ts(app.now() - Duration::hours(1)),
            ts(app.now() + Duration::days(30))
        ));
        app.send(
            app.http
                .post(format!(
                    "{}/admin/v1/partners/{}/coupon-quotas",
                    app.base, p.id
                ))
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .header("Idempotency-Key", "grant-1")
                .json(&b),
        )
    };
    let first = grant_with_key("250.00").await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = grant_with_key("250.00").await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body["quota_id"], first.body["quota_id"]);
    grant_with_key("300.00").await.err(422, "CBC.0101");
    let all = app.signed(&p).post(QUOTAS, &json!({})).await;
    assert_eq!(all.ok()["total_count"], 1, "{}", all.text);
    let q = first.body["quota_id"].as_str().unwrap();
    assert_eq!(balance(&app, &p, q).await, "250.00");
    app.assert_audit_ok().await;
}
