//! Real-name authentication, new-customer tags and freezing.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, TestApp};

const INDIVIDUAL: &str = "/v2/customers/realname-auths/individual";
const ENTERPRISE: &str = "/v2/customers/realname-auths/enterprise";

fn individual(partner: &Creds, customer: &Creds) -> Value {
    json!({
        "customer_id": customer.id,
        "identify_type": 0,
        "verified_type": 3,
        "verified_file_url": ["p/front.jpg", "p/back.png", "p/hold.jpeg"],
        "name": "Zhang San",
        "verified_number": "E12345678",
        "change_type": -1,
        "xaccount_type": partner.xaccount_type,
    })
}

fn enterprise(partner: &Creds, customer: &Creds) -> Value {
    json!({
        "customer_id": customer.id,
        "identify_type": 1,
        "certificate_type": 0,
        "verified_file_url": ["corp/licence.pdf"],
        "corp_name": "Acme Cloud Ltd",
        "verified_number": "91310000MA1FL0000X",
        "reg_country": "CN",
        "xaccount_type": partner.xaccount_type,
    })
}

async fn customer_info(app: &TestApp, partner: &Creds, customer: &Creds) -> Value {
    let r = app
        .signed(partner)
        .post(
            "/v2/partners/sub-customers/query",
            &json!({"customer_id": customer.id}),
        )
        .await;
    r.ok()["customer_infos"][0].clone()
}

async fn pending_application(app: &TestApp, customer: &Creds) -> i64 {
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/realname-applications?status=reviewing&limit=100",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["customer_id"] == customer.id.as_str())
        .expect("pending application")["application_id"]
        .as_i64()
        .unwrap()
}

async fn review(app: &TestApp, id: i64, body: Value) -> crate::helpers::Resp {
    app.admin(
        Method::POST,
        &format!("/admin/v1/realname-applications/{id}/review"),
        Some(body),
    )
    .await
}

async fn review_result(app: &TestApp, partner: &Creds, customer: &Creds) -> Value {
    app.signed(partner)
        .get(
            "/v2/customers/realname-auths/result",
            &format!("customer_id={}", customer.id),
        )
        .await
        .ok()
        .clone()
}

#[tokio::test]
async fn an_individual_application_waits_for_review_and_approval_verifies_the_customer() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    assert_eq!(customer_info(&app, &p, &c).await["verified_status"], "-1");
    let own = app
        .signed(&c)
        .get("/v2/customers/real-name-auth-status", "")
        .await;
    assert_eq!(own.ok()["verified_status"], -1);
    assert!(own.body.get("verified_type").is_none());
    assert_eq!(review_result(&app, &p, &c).await, json!({}));

    let r = app.signed(&p).post(INDIVIDUAL, &individual(&p, &c)).await;
    assert_eq!(r.ok()["is_review"], 1);
    assert_eq!(customer_info(&app, &p, &c).await["verified_status"], "0");
    assert_eq!(review_result(&app, &p, &c).await["review_result"], 0);
    // A second application while one is under review is refused.
    app.signed(&p)
        .post(INDIVIDUAL, &individual(&p, &c))
        .await
        .err(400, "CBC.0101");

    let id = pending_application(&app, &c).await;
    let done = review(&app, id, json!({"approved": true})).await;
    assert_eq!(done.ok()["status"], "approved");
    let info = customer_info(&app, &p, &c).await;
    assert_eq!(info["verified_status"], "2");
    assert_eq!(info["customer_type"], 0);
    assert_eq!(info["customer"], "Zhang San");
    assert_eq!(review_result(&app, &p, &c).await["review_result"], 2);
    let own = app
        .signed(&c)
        .get("/v2/customers/real-name-auth-status", "")
        .await;
    assert_eq!(own.ok()["verified_status"], 2);
    assert_eq!(own.body["verified_type"], 0);
    // Reviewing twice is refused; applying again once verified is refused.
    review(&app, id, json!({"approved": false, "opinion": "x"}))
        .await
        .err(400, "CBC.0101");
    app.signed(&p)
        .post(INDIVIDUAL, &individual(&p, &c))
        .await
        .err(400, "CBC.0101");

    // Individual → enterprise change.
    let mut change = enterprise(&p, &c);
    change["change_type"] = json!(1);
    let r = app
        .signed(&p)
        .request(
            Method::PUT,
            ENTERPRISE,
            "",
            Some(crate::helpers::sdk_json(&change)),
            Default::default(),
        )
        .await;
    assert_eq!(r.ok()["is_review"], 1);
    assert_eq!(customer_info(&app, &p, &c).await["verified_status"], "2");
    let id = pending_application(&app, &c).await;
    review(&app, id, json!({"approved": true})).await.ok();
    let info = customer_info(&app, &p, &c).await;
    assert_eq!(info["customer_type"], 1);
    assert_eq!(info["customer"], "Acme Cloud Ltd");
}

#[tokio::test]
async fn a_rejected_application_shows_the_opinion_and_can_be_resubmitted() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.signed(&p)
        .post(ENTERPRISE, &enterprise(&p, &c))
        .await
        .ok();
    let id = pending_application(&app, &c).await;
    review(&app, id, json!({"approved": false}))
        .await
        .err(400, "CBC.0100");
    review(
        &app,
        id,
        json!({"approved": false, "opinion": "Licence unreadable"}),
    )
    .await
    .ok();
    assert_eq!(customer_info(&app, &p, &c).await["verified_status"], "1");
    let rr = review_result(&app, &p, &c).await;
    assert_eq!(
        (rr["review_result"].clone(), rr["opinion"].clone()),
        (json!(1), json!("Licence unreadable"))
    );
    app.signed(&p)
        .post(ENTERPRISE, &enterprise(&p, &c))
        .await
        .ok();
    assert_eq!(review_result(&app, &p, &c).await["review_result"], 0);
}

#[tokio::test]
async fn real_name_requests_are_validated_and_limited_to_own_customers() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let other = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let theirs = app.create_customer(&other, json!({})).await;

    app.signed(&p)
        .post(INDIVIDUAL, &individual(&p, &theirs))
        .await
        .err(400, "CBC.5002");
    let r = app
        .signed(&p)
        .get(
            "/v2/customers/realname-auths/result",
            &format!("customer_id={}", theirs.id),
        )
        .await;
    r.err(400, "CBC.5002");

    let bad = |f: &dyn Fn(&mut Value)| {
        let mut b = individual(&p, &c);
        f(&mut b);
        b
    };
    for (field, body) in [
        ("verified_type", bad(&|b| b["verified_type"] = json!(4))),
        (
            "verified_file_url",
            bad(&|b| b["verified_file_url"] = json!(["a.jpg"])),
        ),
        (
            "verified_file_url",
            bad(&|b| b["verified_file_url"] = json!(["a.jpg", "b.exe", "c.png"])),
        ),
        ("identify_type", bad(&|b| b["identify_type"] = json!(2))),
        (
            "bank_card_info",
            bad(&|b| {
                b["identify_type"] = json!(4);
                b["verified_file_url"] = json!(["face.jpg"]);
            }),
        ),
        ("name", bad(&|b| b["name"] = json!(""))),
        (
            "customer_id",
            bad(&|b| {
                b.as_object_mut().unwrap().remove("customer_id");
            }),
        ),
    ] {
        let r = app.signed(&p).post(INDIVIDUAL, &body).await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains(field), "{field}: {}", r.text);
    }
    app.signed(&p)
        .post(
            INDIVIDUAL,
            &bad(&|b| b["xaccount_type"] = json!("someone-else")),
        )
        .await
        .err(400, "CBC.0101");
    let mut e = enterprise(&p, &c);
    e["corp_name"] = json!("123 !!");
    app.signed(&p)
        .post(ENTERPRISE, &e)
        .await
        .err(400, "CBC.0100");
    // A change needs a verified individual.
    let mut change = enterprise(&p, &c);
    change["change_type"] = json!(1);
    let r = app
        .signed(&p)
        .request(
            Method::PUT,
            ENTERPRISE,
            "",
            Some(crate::helpers::sdk_json(&change)),
            Default::default(),
        )
        .await;
    r.err(400, "CBC.0101");
    // The customer-side status is for customers only.
    app.signed(&p)
        .get("/v2/customers/real-name-auth-status", "")
        .await
        .err(403, "CBC.0151");
    app.signed(&c)
        .post(INDIVIDUAL, &individual(&p, &c))
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn bank_card_authentication_needs_a_scene_18_code_for_that_customer() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let mut body = individual(&p, &c);
    body["identify_type"] = json!(4);
    body["verified_file_url"] = json!(["face.jpg"]);
    body["bank_card_info"] = json!({"bank_account": "6222-0000-1111", "areacode": "0086",
                                    "mobile": "13912345678", "verification_code": "000000"});
    app.signed(&p)
        .post(INDIVIDUAL, &body)
        .await
        .err(400, "CBC.99004010");
    app.signed(&p)
        .post(
            "/v2/bases/verificationcode/send",
            &json!({"receiver_type": 1, "mobile_phone": "13912345678",
                                                          "scene": 18, "customer_id": c.id}),
        )
        .await
        .ok();
    let codes = app
        .admin(
            Method::GET,
            "/admin/v1/verification-codes?mobile_phone=13912345678",
            None,
        )
        .await;
    let code = codes.body["codes"][0]["code"].as_str().unwrap().to_string();
    body["bank_card_info"]["verification_code"] = json!(code);
    assert_eq!(
        app.signed(&p).post(INDIVIDUAL, &body).await.ok()["is_review"],
        1
    );
}

#[tokio::test]
async fn new_customer_tags_follow_verification_and_expire() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let other = app.create_partner("solution_provider", None).await;
    let verified = app.create_customer(&p, json!({})).await;
    let plain = app.create_customer(&p, json!({})).await;
    let theirs = app.create_customer(&other, json!({})).await;
    app.signed(&p)
        .post(INDIVIDUAL, &individual(&p, &verified))
        .await
        .ok();
    let id = pending_application(&app, &verified).await;
    review(&app, id, json!({"approved": true})).await.ok();

    let (app_ref, p_ref) = (&app, &p);
    let query = |body: Value| async move {
        app_ref
            .signed(p_ref)
            .post(
                "/v2/partners/sub-customers/new-customers-tags/batch-query",
                &body,
            )
            .await
            .ok()["new_customer_tags"]
            .as_array()
            .unwrap()
            .clone()
    };
    let all = query(json!({"customer_ids": [], "limit": 100})).await;
    assert_eq!(all.len(), 2);
    let tags = query(json!({"customer_ids": [verified.id, plain.id, theirs.id]})).await;
    assert_eq!(
        tags.len(),
        2,
        "another partner's customer is dropped: {tags:?}"
    );
    let v = tags
        .iter()
        .find(|t| t["customer_id"] == verified.id.as_str())
        .unwrap();
    assert_eq!(v["new_customer_tag"], "Y");
    assert_eq!(v["customer_tag_type"], "SMB");
    let month = app.now().format("%Y-%m").to_string();
    assert_eq!(v["effective_time"], month.as_str());
    let u = tags
        .iter()
        .find(|t| t["customer_id"] == plain.id.as_str())
        .unwrap();
    assert!(u.get("new_customer_tag").is_none(), "{u}");

    app.clock.advance(Duration::days(366));
    let later = query(json!({"customer_ids": [verified.id]})).await;
    assert_eq!(later[0]["new_customer_tag"], "N");
    let r = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/new-customers-tags/batch-query",
            &json!({"limit": 0}),
        )
        .await;
    r.err(400, "CBC.0100");
}

#[tokio::test]
async fn freezing_marks_resale_customers_and_reports_per_item_failures() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let other = app.create_partner("solution_provider", None).await;
    let a = app.create_customer(&p, json!({})).await;
    let b = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let theirs = app.create_customer(&other, json!({})).await;

    let r = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": [a.id, b.id, advisory.id, theirs.id], "reason": "overdue"}),
        )
        .await;
    let details = r.ok()["error_details"].as_array().unwrap().clone();
    assert_eq!(details.len(), 2, "{details:?}");
    let code_of =
        |id: &str| details.iter().find(|d| d["customer_id"] == id).unwrap()["error_code"].clone();
    assert_eq!(code_of(&advisory.id), "CBC.99005024");
    assert_eq!(code_of(&theirs.id), "CBC.99000035");
    assert_eq!(customer_info(&app, &p, &a).await["is_frozen"], 1);
    assert_eq!(customer_info(&app, &p, &b).await["is_frozen"], 1);
    assert_eq!(customer_info(&app, &other, &theirs).await["is_frozen"], 0);

    let r = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/unfreeze",
            &json!({"customer_ids": [a.id], "reason": "paid"}),
        )
        .await;
    assert_eq!(r.ok()["error_details"], json!([]));
    assert_eq!(customer_info(&app, &p, &a).await["is_frozen"], 0);

    let eleven: Vec<String> = (0..11).map(|i| format!("{i:032x}")).collect();
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": eleven, "reason": "x"}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": [a.id]}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&a)
        .post(
            "/v2/partners/sub-customers/freeze",
            &json!({"customer_ids": [a.id], "reason": "x"}),
        )
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn a_customer_gets_a_single_use_qr_code_valid_for_ten_minutes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let url = |r: &crate::helpers::Resp| {
        let u = r.body["qr_code_url"].as_str().unwrap().to_string();
        u.split_once("/realname/qr/")
            .map(|(_, t)| format!("/realname/qr/{t}"))
            .unwrap()
    };
    let r = app
        .signed(&c)
        .get("/v2/customers/real-name-auth-qrcode", "")
        .await;
    r.ok();
    assert!(
        r.body["qr_code_url"]
            .as_str()
            .unwrap()
            .starts_with("http://"),
        "{}",
        r.text
    );
    let path = url(&r);
    let scan = |path: String| app.send(app.http.get(format!("{}{path}", app.base)));
    assert_eq!(scan(path.clone()).await.ok()["status"], "scanned");
    scan(path).await.err(400, "CBC.0101");
    // Ten minutes later an unscanned code is dead.
    let r = app
        .signed(&c)
        .get("/v2/customers/real-name-auth-qrcode", "")
        .await;
    let path = url(&r);
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    scan(path).await.err(400, "CBC.0101");
    scan("/realname/qr/nope".into()).await.err(400, "CBC.0101");
    // Partners may not ask for it.
    app.signed(&p)
        .get("/v2/customers/real-name-auth-qrcode", "")
        .await
        .err(403, "CBC.0151");
}
