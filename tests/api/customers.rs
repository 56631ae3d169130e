//! Sub-customers (10-customers.md §1–4) and reseller listing (20-funding.md §11): every documented
//! error code of check-identity, send-verification-code, create-sub-customer, list-sub-customers and
//! list-indirect-partners, and their success behaviour.

use chrono::{DateTime, Duration, Utc};
use partner_center::config::SmsSenderKind;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, Tamper, TestApp};

const CHECK_IDENTITY: &str = "/v2/partners/sub-customers/users/check-identity";
const SEND_CODE: &str = "/v2/bases/verificationcode/send";
const CREATE: &str = "/v2/partners/sub-customers";
const LIST: &str = "/v2/partners/sub-customers/query";
const RESELLERS: &str = "/v2/partners/indirect-partners/query";

/// The Chinese mobile number most tests register with.
const MOBILE: &str = "13800138000";
/// A second number, untouched unless a test says so.
const OTHER_MOBILE: &str = "13900139000";

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// The contract's timestamp format `yyyy-MM-ddTHH:mm:ssZ`.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?} is not a timestamp: {e}"))
        .with_timezone(&Utc)
}

/// `base` with the fields of `extra` set; a JSON `null` in `extra` is sent as `null`.
fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().expect("extra is an object") {
        base[k] = v.clone();
    }
    base
}

/// `body` without `field` (the "absent" case).
fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut()
        .expect("body is an object")
        .remove(field);
    body
}

/// Asserts an error response, naming the case on failure.
#[track_caller]
fn assert_error(r: &Resp, status: u16, code: &str, case: &str) {
    assert_eq!(
        (r.status, r.body["error_code"].as_str()),
        (status, Some(code)),
        "{case}: {}",
        r.text
    );
    r.err(status, code);
}

/// Asserts 400 CBC.0100 whose message names `field`.
#[track_caller]
fn assert_invalid(r: &Resp, field: &str, case: &str) {
    assert_error(r, 400, "CBC.0100", case);
    assert!(
        r.msg().contains(field),
        "{case}: error_msg should name {field}: {}",
        r.text
    );
}

#[track_caller]
fn assert_ok<'a>(r: &'a Resp, case: &str) -> &'a Value {
    assert_eq!(r.status, 200, "{case}: {}", r.text);
    &r.body
}

async fn solution_provider(app: &TestApp) -> Creds {
    app.create_partner("solution_provider", None).await
}

async fn distributor_with_reseller(app: &TestApp) -> (Creds, Creds) {
    let distributor = app.create_partner("distributor", None).await;
    let reseller = app.create_partner("reseller", Some(&distributor.id)).await;
    (distributor, reseller)
}

/// Changes a partner's standing through the admin API (`restricted`, `sandbox`, `exited`).
async fn set_partner_flags(app: &TestApp, partner: &Creds, flags: Value) {
    let r = app
        .admin(
            Method::PATCH,
            &format!("/admin/v1/partners/{}", partner.id),
            Some(flags),
        )
        .await;
    r.ok();
}

async fn report_mobile(app: &TestApp, partner: &Creds, mobile: &str) {
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/registration-reports", partner.id),
            Some(json!({ "mobile_phone": mobile })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

// --- check-identity ---

async fn check(app: &TestApp, p: &Creds, search_type: &str, value: &str) -> Resp {
    app.signed(p)
        .post(
            CHECK_IDENTITY,
            &json!({ "search_type": search_type, "search_value": value }),
        )
        .await
}

// --- verification codes ---

async fn send(app: &TestApp, p: &Creds, body: Value) -> Resp {
    app.signed(p).post(SEND_CODE, &body).await
}

async fn send_to(app: &TestApp, p: &Creds, mobile: &str) -> Resp {
    send(
        app,
        p,
        json!({ "receiver_type": 1, "mobile_phone": mobile }),
    )
    .await
}

/// The codes sent to `mobile`, newest first (admin API, development SMS sender).
async fn sent_codes(app: &TestApp, mobile: &str) -> Vec<Value> {
    let r = app
        .admin(
            Method::GET,
            &format!("/admin/v1/verification-codes?mobile_phone={mobile}"),
            None,
        )
        .await;
    r.ok()["codes"].as_array().expect("codes array").clone()
}

async fn latest_code(app: &TestApp, mobile: &str) -> String {
    let codes = sent_codes(app, mobile).await;
    codes[0]["code"].as_str().expect("code").to_string()
}

/// Sends a registration code to `mobile` and reads it back.
async fn fresh_code(app: &TestApp, p: &Creds, mobile: &str) -> String {
    send_to(app, p, mobile).await.ok();
    latest_code(app, mobile).await
}

/// A code that differs from `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().expect("numeric code");
    format!("{:06}", (n + 1) % 1_000_000)
}

// --- create ---

/// A valid create body for `p` (unique login name and xaccount_id, no password, no mobile) with
/// the fields of `extra` set.
fn customer_body(p: &Creds, extra: Value) -> Value {
    with(
        json!({
            "xaccount_id": unique("x"),
            "xaccount_type": p.xaccount_type,
            "domain_name": unique("c"),
        }),
        extra,
    )
}

async fn create(app: &TestApp, p: &Creds, extra: Value) -> Resp {
    app.signed(p).post(CREATE, &customer_body(p, extra)).await
}

async fn create_raw(app: &TestApp, p: &Creds, body: &Value) -> Resp {
    app.signed(p).post(CREATE, body).await
}

/// Creates a customer and returns its id.
async fn create_ok(app: &TestApp, p: &Creds, extra: Value) -> String {
    let r = create(app, p, extra).await;
    r.ok()["domain_id"].as_str().expect("domain_id").to_string()
}

async fn create_named(app: &TestApp, p: &Creds, name: &str) -> String {
    create_ok(app, p, json!({ "domain_name": name })).await
}

/// Creates `n` customers one second apart; ids in creation order.
async fn create_many(app: &TestApp, p: &Creds, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(create_ok(app, p, json!({})).await);
        app.clock.advance(Duration::seconds(1));
    }
    ids
}

/// Sends a fresh registration code to `mobile` and creates a customer with it.
async fn create_with_mobile(app: &TestApp, p: &Creds, mobile: &str, extra: Value) -> Resp {
    let code = fresh_code(app, p, mobile).await;
    create(
        app,
        p,
        with(
            json!({ "mobile_phone": mobile, "verification_code": code }),
            extra,
        ),
    )
    .await
}

async fn customer_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from customer")
        .fetch_one(&app.pool)
        .await
        .expect("count customers")
}

/// Sets data the API cannot write (real-name name, label) directly in the database.
async fn set_customer_column(app: &TestApp, id: &str, column: &str, value: &str) {
    assert!(matches!(column, "real_name" | "label"));
    let r = sqlx::query(&format!(
        "update customer set {column} = $1 where account_id = $2"
    ))
    .bind(value)
    .bind(id)
    .execute(&app.pool)
    .await
    .expect("update customer");
    assert_eq!(r.rows_affected(), 1);
}

// --- list ---

async fn list(app: &TestApp, p: &Creds, body: Value) -> Resp {
    app.signed(p).post(LIST, &body).await
}

fn customer_ids(v: &Value) -> Vec<String> {
    v["customer_infos"]
        .as_array()
        .expect("customer_infos")
        .iter()
        .map(|c| c["customer_id"].as_str().expect("customer_id").to_string())
        .collect()
}

/// (count, ids in response order) of a successful list call.
async fn listed(app: &TestApp, p: &Creds, body: Value) -> (i64, Vec<String>) {
    let case = body.to_string();
    let r = list(app, p, body).await;
    let v = assert_ok(&r, &case);
    (v["count"].as_i64().expect("count"), customer_ids(v))
}

/// Like [`listed`] with the ids sorted, for filters whose result order is not the point.
async fn listed_set(app: &TestApp, p: &Creds, body: Value) -> (i64, Vec<String>) {
    let (n, mut ids) = listed(app, p, body).await;
    ids.sort();
    (n, ids)
}

fn sorted(ids: &[&String]) -> (i64, Vec<String>) {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    (v.len() as i64, v)
}

async fn customer_info(app: &TestApp, p: &Creds, id: &str) -> Value {
    let r = list(app, p, json!({ "customer_id": id })).await;
    let v = r.ok();
    assert_eq!(v["count"], 1, "{}", r.text);
    v["customer_infos"][0].clone()
}

// --- resellers ---

async fn list_resellers(app: &TestApp, p: &Creds, body: Value) -> Resp {
    app.signed(p).post(RESELLERS, &body).await
}

async fn listed_resellers(app: &TestApp, p: &Creds, body: Value) -> (i64, Vec<String>) {
    let case = body.to_string();
    let r = list_resellers(app, p, body).await;
    let v = assert_ok(&r, &case);
    let ids = v["indirect_partners"]
        .as_array()
        .expect("indirect_partners")
        .iter()
        .map(|p| p["indirect_partner_id"].as_str().expect("id").to_string())
        .collect();
    (v["count"].as_i64().expect("count"), ids)
}

// ---------------------------------------------------------------------------------------------
// Caller kind (all five operations)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_calling_any_partner_customer_operation_gets_403_cbc_0151() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let customer = app.create_customer(&p, json!({})).await;
    let cases = [
        (
            CHECK_IDENTITY,
            json!({ "search_type": "name", "search_value": "alice01" }),
        ),
        (
            SEND_CODE,
            json!({ "receiver_type": 1, "mobile_phone": MOBILE }),
        ),
        (CREATE, customer_body(&p, json!({}))),
        (LIST, json!({})),
        (RESELLERS, json!({})),
    ];
    for (path, body) in cases {
        let r = app.signed(&customer).post(path, &body).await;
        assert_error(&r, 403, "CBC.0151", path);
    }
    assert_eq!(
        customer_rows(&app).await,
        1,
        "only the calling customer exists"
    );
    assert!(sent_codes(&app, MOBILE).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 1. check-identity
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn check_identity_rejects_an_unknown_type_or_a_malformed_value_with_cbc_0100() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let long_email = format!("{}@example.com", "a".repeat(60));
    let cases: Vec<(&str, String)> = vec![
        ("phone", format!("0086-{MOBILE}")),
        ("", "alice01".into()),
        ("NAME", "alice01".into()),
        // name: ^([a-zA-Z-]([a-zA-Z0-9_-]){4,31})$, not op_/shadow_, not all digits
        ("name", "abcd".into()),
        ("name", "a".repeat(33)),
        ("name", "1abcde".into()),
        ("name", "_abcde".into()),
        ("name", "op_abcde".into()),
        ("name", "shadow_abc".into()),
        ("name", "ab cde".into()),
        ("name", "ab.cde".into()),
        ("name", "12345678".into()),
        ("name", "".into()),
        // mobile: 0086-<Chinese mobile>
        ("mobile", MOBILE.into()),
        ("mobile", format!("0087-{MOBILE}")),
        ("mobile", format!("86-{MOBILE}")),
        ("mobile", "0086-23800138000".into()),
        ("mobile", "0086-1380013800".into()),
        ("mobile", "0086-1380013800x".into()),
        ("mobile", "0086-".into()),
        ("mobile", "".into()),
        // email: a full address, at most 64 characters
        ("email", "alice.example.com".into()),
        ("email", "@example.com".into()),
        ("email", "alice@".into()),
        ("email", "".into()),
        ("email", long_email),
    ];
    for (t, v) in &cases {
        let r = check(&app, &p, t, v).await;
        assert_error(&r, 400, "CBC.0100", &format!("{t}={v:?}"));
    }
    let bodies = [
        json!({ "search_type": "name" }),
        json!({ "search_value": "alice01" }),
        json!({ "search_type": "name", "search_value": 12345 }),
        json!({ "search_type": 1, "search_value": "alice01" }),
    ];
    for body in bodies {
        let r = app.signed(&p).post(CHECK_IDENTITY, &body).await;
        assert_error(&r, 400, "CBC.0100", &body.to_string());
    }
}

#[tokio::test]
async fn check_identity_reports_a_login_name_as_used_regardless_of_case() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    create_named(&app, &p, "AliceCustomer").await;
    for name in [
        "AliceCustomer",
        "alicecustomer",
        "ALICECUSTOMER",
        p.login.as_str(),
    ] {
        let r = check(&app, &p, "name", name).await;
        assert_eq!(r.ok(), &json!({ "check_result": "used_by_user" }), "{name}");
    }
    for name in ["AliceCustomer2", "-alice", "Alice"] {
        let r = check(&app, &p, "name", name).await;
        assert_eq!(r.ok(), &json!({ "check_result": "available" }), "{name}");
    }
}

#[tokio::test]
async fn check_identity_reports_a_registered_email_as_used() {
    let app = TestApp::spawn().await;
    let login = unique("p");
    let p = app
        .create_partner_with(json!({
            "name": "Mail Partner",
            "partner_type": "solution_provider",
            "login_name": login,
            "password": "Passw0rd!",
            "email": "Boss@Example.com",
        }))
        .await;
    for email in ["Boss@Example.com", "boss@example.com"] {
        let r = check(&app, &p, "email", email).await;
        assert_eq!(
            r.ok(),
            &json!({ "check_result": "used_by_user" }),
            "{email}"
        );
    }
    let r = check(&app, &p, "email", "someone@example.com").await;
    assert_eq!(r.ok(), &json!({ "check_result": "available" }));
}

#[tokio::test]
async fn check_identity_counts_down_the_registrations_left_for_a_mobile_number() {
    let app = TestApp::spawn().await;
    let value = format!("0086-{MOBILE}");
    // The default limit is 5 customers per number, across partners.
    for used in 0..5 {
        let p = solution_provider(&app).await;
        let r = check(&app, &p, "mobile", &value).await;
        assert_eq!(
            r.ok(),
            &json!({ "check_result": "available", "mobile_remain_available_num": 5 - used }),
            "after {used} registrations"
        );
        create_with_mobile(&app, &p, MOBILE, json!({})).await.ok();
    }
    let p = solution_provider(&app).await;
    let r = check(&app, &p, "mobile", &value).await;
    assert_eq!(
        r.ok(),
        &json!({ "check_result": "used_by_user", "mobile_remain_available_num": 0 })
    );
    let r = check(&app, &p, "mobile", &format!("0086-{OTHER_MOBILE}")).await;
    assert_eq!(
        r.ok(),
        &json!({ "check_result": "available", "mobile_remain_available_num": 5 })
    );
}

// ---------------------------------------------------------------------------------------------
// 2. send verification code
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn send_code_rejects_bad_parameters_with_cbc_0100_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let base = json!({ "receiver_type": 1, "mobile_phone": MOBILE });
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "receiver_type 2",
            with(base.clone(), json!({ "receiver_type": 2 })),
            "receiver_type",
        ),
        (
            "receiver_type 0",
            with(base.clone(), json!({ "receiver_type": 0 })),
            "receiver_type",
        ),
        (
            "receiver_type string",
            with(base.clone(), json!({ "receiver_type": "1" })),
            "receiver_type",
        ),
        (
            "receiver_type missing",
            without(base.clone(), "receiver_type"),
            "receiver_type",
        ),
        (
            "mobile with 0086-",
            with(base.clone(), json!({ "mobile_phone": "0086-13800138000" })),
            "mobile_phone",
        ),
        (
            "mobile with +86",
            with(base.clone(), json!({ "mobile_phone": "+8613800138000" })),
            "mobile_phone",
        ),
        (
            "mobile too short",
            with(base.clone(), json!({ "mobile_phone": "1380013800" })),
            "mobile_phone",
        ),
        (
            "mobile not 1…",
            with(base.clone(), json!({ "mobile_phone": "23800138000" })),
            "mobile_phone",
        ),
        (
            "mobile empty",
            with(base.clone(), json!({ "mobile_phone": "" })),
            "mobile_phone",
        ),
        (
            "mobile missing",
            without(base.clone(), "mobile_phone"),
            "mobile_phone",
        ),
        (
            "scene 30",
            with(base.clone(), json!({ "scene": 30 })),
            "scene",
        ),
        (
            "scene 0",
            with(base.clone(), json!({ "scene": 0 })),
            "scene",
        ),
        (
            "scene string",
            with(base.clone(), json!({ "scene": "29" })),
            "scene",
        ),
        (
            "scene 18 without customer_id",
            with(base.clone(), json!({ "scene": 18 })),
            "customer_id",
        ),
        (
            "scene 18, customer_id \"\"",
            with(base.clone(), json!({ "scene": 18, "customer_id": "" })),
            "customer_id",
        ),
        (
            "scene 18, customer_id null",
            with(base.clone(), json!({ "scene": 18, "customer_id": null })),
            "customer_id",
        ),
        (
            "lang fr-fr",
            with(base.clone(), json!({ "lang": "fr-fr" })),
            "lang",
        ),
        (
            "timeout 0",
            with(base.clone(), json!({ "timeout": 0 })),
            "timeout",
        ),
    ];
    for (case, body, field) in cases {
        let r = send(&app, &p, body).await;
        assert_invalid(&r, field, case);
    }
    assert!(sent_codes(&app, MOBILE).await.is_empty());

    let customer = create_ok(&app, &p, json!({})).await;
    let good = [
        base.clone(),
        with(base.clone(), json!({ "scene": 29 })),
        with(
            base.clone(),
            json!({ "scene": null, "timeout": null, "lang": null }),
        ),
        with(
            base.clone(),
            json!({ "scene": 18, "customer_id": customer }),
        ),
        with(base.clone(), json!({ "lang": "en-us" })),
        with(base.clone(), json!({ "timeout": 61 })),
        with(
            base.clone(),
            json!({ "customer_id": "ignored-without-scene-18" }),
        ),
    ];
    for body in &good {
        let r = send(&app, &p, body.clone()).await;
        assert_ok(&r, &body.to_string());
    }
    let codes = sent_codes(&app, MOBILE).await;
    assert_eq!(codes.len(), good.len());
    let scene18: Vec<&Value> = codes.iter().filter(|c| c["scene"] == 18).collect();
    assert_eq!(scene18.len(), 1);
    assert_eq!(scene18[0]["customer_id"], json!(customer));
}

#[tokio::test]
async fn the_code_is_valid_10_minutes_by_default_the_timeout_otherwise_and_5_above_60() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let cases = [
        (None, 10),
        (Some(Value::Null), 10),
        (Some(json!(1)), 1),
        (Some(json!(30)), 30),
        (Some(json!(60)), 60),
        (Some(json!(61)), 5),
        (Some(json!(1000)), 5),
    ];
    for (i, (timeout, minutes)) in cases.into_iter().enumerate() {
        let mobile = format!("1370000000{i}");
        let mut body = json!({ "receiver_type": 1, "mobile_phone": mobile });
        if let Some(t) = timeout.clone() {
            body["timeout"] = t;
        }
        send(&app, &p, body).await.ok();
        let codes = sent_codes(&app, &mobile).await;
        let validity = parse_ts(codes[0]["expires_at"].as_str().unwrap())
            - parse_ts(codes[0]["created_at"].as_str().unwrap());
        assert_eq!(validity, Duration::minutes(minutes), "timeout {timeout:?}");
    }
}

#[tokio::test]
async fn a_code_sent_with_a_timeout_above_60_expires_after_5_minutes() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    for mobile in [MOBILE, OTHER_MOBILE] {
        send(
            &app,
            &p,
            json!({ "receiver_type": 1, "mobile_phone": mobile, "timeout": 61 }),
        )
        .await
        .ok();
    }
    let early = latest_code(&app, MOBILE).await;
    let late = latest_code(&app, OTHER_MOBILE).await;

    app.clock.advance(Duration::minutes(4));
    create(
        &app,
        &p,
        json!({ "mobile_phone": MOBILE, "verification_code": early }),
    )
    .await
    .ok();

    app.clock.advance(Duration::minutes(2));
    let r = create(
        &app,
        &p,
        json!({ "mobile_phone": OTHER_MOBILE, "verification_code": late }),
    )
    .await;
    r.err(400, "CBC.99004008");
    assert_eq!(customer_rows(&app).await, 1);
}

#[tokio::test]
async fn a_default_code_is_still_valid_after_9_minutes_and_expired_after_11() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let first = fresh_code(&app, &p, MOBILE).await;
    let second = fresh_code(&app, &p, OTHER_MOBILE).await;
    app.clock.advance(Duration::minutes(9));
    create(
        &app,
        &p,
        json!({ "mobile_phone": MOBILE, "verification_code": first }),
    )
    .await
    .ok();
    app.clock.advance(Duration::minutes(2));
    let r = create(
        &app,
        &p,
        json!({ "mobile_phone": OTHER_MOBILE, "verification_code": second }),
    )
    .await;
    r.err(400, "CBC.99004008");
}

#[tokio::test]
async fn sending_is_limited_to_15_codes_an_hour_and_60_a_day_per_number() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    for hour in 0..4 {
        for i in 0..15 {
            let r = send_to(&app, &p, MOBILE).await;
            assert_ok(&r, &format!("hour {hour}, send {}", i + 1));
        }
        let r = send_to(&app, &p, MOBILE).await;
        assert_error(&r, 400, "CBC.99004015", &format!("hour {hour}, send 16"));
        // The limit is per number.
        send_to(&app, &p, &format!("1370000000{hour}")).await.ok();
        app.clock.advance(Duration::hours(1));
    }
    assert_eq!(
        sent_codes(&app, MOBILE).await.len(),
        60,
        "refused sends store nothing"
    );
    // The hourly window is free again, the daily one is not.
    let r = send_to(&app, &p, MOBILE).await;
    assert_error(&r, 400, "CBC.99004015", "61st send within a day");
    // 25 hours after the first burst only the last two bursts (30 codes) are within a day.
    app.clock.advance(Duration::hours(21));
    send_to(&app, &p, MOBILE).await.ok();
}

#[tokio::test]
async fn a_code_that_cannot_be_delivered_gives_cbc_99004003() {
    let app = TestApp::spawn_with(|c| {
        c.sms.sender = SmsSenderKind::Webhook;
        c.sms.webhook_url = Some("http://127.0.0.1:9/".into());
    })
    .await;
    let p = solution_provider(&app).await;
    let r = send_to(&app, &p, MOBILE).await;
    r.err(400, "CBC.99004003");
}

// ---------------------------------------------------------------------------------------------
// 3. create sub-customer: parameter rules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_rejects_missing_empty_and_mistyped_fields_with_cbc_0100_naming_the_field() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let base = customer_body(&p, json!({}));
    let b = |extra: Value| with(base.clone(), extra);
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "xaccount_id missing",
            without(base.clone(), "xaccount_id"),
            "xaccount_id",
        ),
        (
            "xaccount_id null",
            b(json!({ "xaccount_id": null })),
            "xaccount_id",
        ),
        (
            "xaccount_id empty",
            b(json!({ "xaccount_id": "" })),
            "xaccount_id",
        ),
        (
            "xaccount_id a number",
            b(json!({ "xaccount_id": 123 })),
            "xaccount_id",
        ),
        (
            "xaccount_id too long",
            b(json!({ "xaccount_id": "x".repeat(65) })),
            "xaccount_id",
        ),
        (
            "xaccount_type missing",
            without(base.clone(), "xaccount_type"),
            "xaccount_type",
        ),
        (
            "xaccount_type empty",
            b(json!({ "xaccount_type": "" })),
            "xaccount_type",
        ),
        (
            "xaccount_type a number",
            b(json!({ "xaccount_type": 7 })),
            "xaccount_type",
        ),
        (
            "domain_name a number",
            b(json!({ "domain_name": 12345 })),
            "domain_name",
        ),
        (
            "mobile_phone a number",
            b(json!({ "mobile_phone": 13800138000u64 })),
            "mobile_phone",
        ),
        (
            "password a number",
            b(json!({ "password": 12345678 })),
            "password",
        ),
        ("password empty", b(json!({ "password": "" })), "password"),
        (
            "verification_code empty",
            b(json!({ "verification_code": "" })),
            "verification_code",
        ),
        (
            "verification_code empty with a mobile",
            b(json!({ "mobile_phone": MOBILE, "verification_code": "" })),
            "verification_code",
        ),
        (
            "verification_code a number",
            b(json!({ "verification_code": 123456 })),
            "verification_code",
        ),
        (
            "mobile without verification_code",
            b(json!({ "mobile_phone": MOBILE })),
            "verification_code",
        ),
        (
            "mobile with null verification_code",
            b(json!({ "mobile_phone": MOBILE, "verification_code": null })),
            "verification_code",
        ),
        (
            "is_close_market_ms yes",
            b(json!({ "is_close_market_ms": "yes" })),
            "is_close_market_ms",
        ),
        (
            "is_close_market_ms TRUE",
            b(json!({ "is_close_market_ms": "TRUE" })),
            "is_close_market_ms",
        ),
        (
            "is_close_market_ms a boolean",
            b(json!({ "is_close_market_ms": true })),
            "is_close_market_ms",
        ),
        (
            "cooperation_type a number",
            b(json!({ "cooperation_type": 1 })),
            "cooperation_type",
        ),
        (
            "include_association_result a string",
            b(json!({ "include_association_result": "yes" })),
            "include_association_result",
        ),
        (
            "indirect_partner_id too long",
            b(json!({ "indirect_partner_id": "i".repeat(65) })),
            "indirect_partner_id",
        ),
    ];
    for (case, body, field) in cases {
        let r = create_raw(&app, &p, &body).await;
        assert_invalid(&r, field, case);
    }
    for raw in ["", "not json", "[]"] {
        let r = app
            .signed(&p)
            .request(
                Method::POST,
                CREATE,
                "",
                Some(raw.into()),
                Tamper::default(),
            )
            .await;
        assert_error(&r, 400, "CBC.0100", raw);
    }
    assert_eq!(customer_rows(&app).await, 0);
}

#[tokio::test]
async fn create_treats_empty_and_null_optional_fields_as_documented() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let cases = [
        json!({ "is_close_market_ms": "" }),
        json!({ "is_close_market_ms": null }),
        json!({ "is_close_market_ms": "true" }),
        json!({ "is_close_market_ms": "false" }),
        json!({ "include_association_result": true }),
        json!({ "include_association_result": false }),
        json!({ "include_association_result": "" }),
        json!({ "include_association_result": null }),
        json!({ "password": null }),
        json!({ "cooperation_type": null }),
        json!({ "indirect_partner_id": "" }),
        json!({ "indirect_partner_id": null }),
        // Without a mobile number the code is not checked.
        json!({ "verification_code": "123456" }),
        json!({ "mobile_phone": null, "verification_code": null }),
    ];
    for extra in &cases {
        let r = create(&app, &p, extra.clone()).await;
        assert_ok(&r, &extra.to_string());
    }
    // "" mobile: stored as empty, needs no code, shows no telephone.
    let id = create_ok(&app, &p, json!({ "mobile_phone": "" })).await;
    let info = customer_info(&app, &p, &id).await;
    assert!(info.get("telephone").is_none(), "{info}");
    assert!(info.get("country_code").is_none(), "{info}");
    assert_eq!(customer_rows(&app).await, cases.len() as i64 + 1);
}

#[tokio::test]
async fn create_rejects_an_xaccount_type_that_is_not_the_partners_with_cbc_0101() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    for xaccount_type in [other.xaccount_type.as_str(), "unknown-platform"] {
        let r = create(&app, &p, json!({ "xaccount_type": xaccount_type })).await;
        assert_error(&r, 400, "CBC.0101", xaccount_type);
    }
    assert_eq!(customer_rows(&app).await, 0);
}

#[tokio::test]
async fn create_rejects_a_malformed_login_name_with_cbc_99000031() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let too_long = "a".repeat(33);
    let bad = [
        "abcd",
        too_long.as_str(),
        "1abcde",
        "op_abcde",
        "OP_abcde",
        "shadow_abc",
        "12345678",
        "ab cde",
        "ab.cde",
        "abcdé",
        "ab@cde",
    ];
    for name in bad {
        let r = create(&app, &p, json!({ "domain_name": name })).await;
        assert_error(&r, 400, "CBC.99000031", name);
    }
    assert_eq!(customer_rows(&app).await, 0);
    let longest = "b".repeat(32);
    for name in ["_abcd", "-abcd", "Ab-c_9", longest.as_str()] {
        let r = create(&app, &p, json!({ "domain_name": name })).await;
        assert_eq!(assert_ok(&r, name)["domain_name"], name);
    }
}

#[tokio::test]
async fn create_rejects_a_malformed_mobile_number_with_cbc_5017() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let bad = [
        "23800138000",
        "1380013800",
        "138001380001",
        "0086-13800138000",
        "+8613800138000",
        "1380013800a",
        " 13800138000",
    ];
    for mobile in bad {
        let r = create(
            &app,
            &p,
            json!({ "mobile_phone": mobile, "verification_code": "123456" }),
        )
        .await;
        assert_error(&r, 400, "CBC.5017", mobile);
    }
    assert_eq!(customer_rows(&app).await, 0);
}

#[tokio::test]
async fn create_rejects_a_weak_password_with_cbc_99000036() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let name = "Alice2024";
    let cases = [
        ("too short", json!({ "password": "Ab1!" })),
        ("lower-case only", json!({ "password": "abcdefghij" })),
        ("upper-case only", json!({ "password": "ABCDEFGHIJ" })),
        ("digits only", json!({ "password": "1234567890" })),
        ("special only", json!({ "password": "!@#$%^&*()" })),
        ("equals the name", json!({ "password": name })),
        ("the reversed name", json!({ "password": "4202ecilA" })),
        (
            "contains the mobile number",
            json!({ "password": "Pw13800138000", "mobile_phone": MOBILE, "verification_code": "123456" }),
        ),
    ];
    for (case, extra) in cases {
        let r = create(&app, &p, with(json!({ "domain_name": name }), extra)).await;
        assert_error(&r, 400, "CBC.99000036", case);
    }
    assert_eq!(customer_rows(&app).await, 0);
    // Two classes are enough.
    create(
        &app,
        &p,
        json!({ "domain_name": name, "password": "abcdefg1" }),
    )
    .await
    .ok();
    create(&app, &p, json!({ "password": "Passw0rd" }))
        .await
        .ok();
}

#[tokio::test]
async fn create_rejects_an_existing_login_name_in_any_case_with_cbc_99000038() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    create_named(&app, &p, "Bob-Customer").await;
    let cases = [
        (&p, "Bob-Customer"),
        (&p, "bob-customer"),
        (&p, "BOB-CUSTOMER"),
        (&other, "Bob-Customer"),
        (&p, other.login.as_str()),
    ];
    for (partner, name) in cases {
        let r = create(&app, partner, json!({ "domain_name": name })).await;
        assert_error(&r, 400, "CBC.99000038", name);
    }
    assert_eq!(customer_rows(&app).await, 1);
}

#[tokio::test]
async fn create_rejects_a_duplicate_xaccount_id_of_the_same_platform_with_cbc_99000039() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    create_ok(&app, &p, json!({ "xaccount_id": "user-1" })).await;
    let r = create(&app, &p, json!({ "xaccount_id": "user-1" })).await;
    r.err(400, "CBC.99000039");
    assert_eq!(customer_rows(&app).await, 1);
    // Unique per xaccount_type: another partner's platform may use the same id.
    create_ok(&app, &other, json!({ "xaccount_id": "user-1" })).await;
}

#[tokio::test]
async fn create_rejects_a_mobile_number_the_partner_already_uses_with_cbc_99000029() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    create_with_mobile(&app, &p, MOBILE, json!({})).await.ok();
    let r = create_with_mobile(&app, &p, MOBILE, json!({})).await;
    r.err(400, "CBC.99000029");
    assert_eq!(customer_rows(&app).await, 1);
    create_with_mobile(&app, &other, MOBILE, json!({}))
        .await
        .ok();
}

#[tokio::test]
async fn create_rejects_a_mobile_number_over_the_registration_limit_with_cbc_99000030() {
    let app = TestApp::spawn_with(|c| c.customers.mobile_registration_limit = 2).await;
    for _ in 0..2 {
        let p = solution_provider(&app).await;
        create_with_mobile(&app, &p, MOBILE, json!({})).await.ok();
    }
    let p = solution_provider(&app).await;
    let r = create_with_mobile(&app, &p, MOBILE, json!({})).await;
    r.err(400, "CBC.99000030");
    assert_eq!(customer_rows(&app).await, 2);
    let r = check(&app, &p, "mobile", &format!("0086-{MOBILE}")).await;
    assert_eq!(
        r.ok(),
        &json!({ "check_result": "used_by_user", "mobile_remain_available_num": 0 })
    );
}

#[tokio::test]
async fn create_rejects_a_mobile_number_reported_by_another_partner_with_cbc_99000051() {
    let app = TestApp::spawn().await;
    let owner = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    report_mobile(&app, &owner, MOBILE).await;
    let r = create_with_mobile(&app, &other, MOBILE, json!({})).await;
    r.err(400, "CBC.99000051");
    assert_eq!(customer_rows(&app).await, 0);
    create_with_mobile(&app, &owner, MOBILE, json!({}))
        .await
        .ok();
}

// ---------------------------------------------------------------------------------------------
// 3. create sub-customer: verification codes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_code_gives_cbc_99004010_and_after_three_failures_even_the_right_one_gives_99004009(
) {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    // No code was ever sent to this number.
    let r = create(
        &app,
        &p,
        json!({ "mobile_phone": OTHER_MOBILE, "verification_code": "123456" }),
    )
    .await;
    r.err(400, "CBC.99004010");

    let code = fresh_code(&app, &p, MOBILE).await;
    for attempt in 1..=3 {
        let r = create(
            &app,
            &p,
            json!({ "mobile_phone": MOBILE, "verification_code": wrong(&code) }),
        )
        .await;
        assert_error(&r, 400, "CBC.99004010", &format!("wrong attempt {attempt}"));
    }
    let r = create(
        &app,
        &p,
        json!({ "mobile_phone": MOBILE, "verification_code": code }),
    )
    .await;
    r.err(400, "CBC.99004009");
    assert_eq!(sent_codes(&app, MOBILE).await[0]["failed_attempts"], 3);
    assert_eq!(customer_rows(&app).await, 0);

    // A new code replaces the blocked one.
    let code = fresh_code(&app, &p, MOBILE).await;
    create(
        &app,
        &p,
        json!({ "mobile_phone": MOBILE, "verification_code": code }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_code_can_be_used_only_once_and_only_for_registration() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    let code = fresh_code(&app, &p, MOBILE).await;
    let id = create_ok(
        &app,
        &p,
        json!({ "mobile_phone": MOBILE, "verification_code": code }),
    )
    .await;
    assert_eq!(sent_codes(&app, MOBILE).await[0]["consumed"], true);
    let r = create(
        &app,
        &other,
        json!({ "mobile_phone": MOBILE, "verification_code": code }),
    )
    .await;
    r.err(400, "CBC.99004010");

    // A bank-card real-name code (scene 18) does not register a customer.
    send(
        &app,
        &p,
        json!({ "receiver_type": 1, "mobile_phone": OTHER_MOBILE, "scene": 18, "customer_id": id }),
    )
    .await
    .ok();
    let bank_code = latest_code(&app, OTHER_MOBILE).await;
    let r = create(
        &app,
        &p,
        json!({ "mobile_phone": OTHER_MOBILE, "verification_code": bank_code }),
    )
    .await;
    r.err(400, "CBC.99004010");
    assert_eq!(customer_rows(&app).await, 1);
}

// ---------------------------------------------------------------------------------------------
// 3. create sub-customer: partner standing and resellers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_sandbox_partner_cannot_create_customers_cbc_99005035() {
    let app = TestApp::spawn().await;
    let login = unique("p");
    let sandbox = app
        .create_partner_with(json!({
            "name": "Sandbox",
            "partner_type": "solution_provider",
            "login_name": login,
            "password": "Passw0rd!",
            "sandbox": true,
        }))
        .await;
    create(&app, &sandbox, json!({}))
        .await
        .err(400, "CBC.99005035");

    let p = solution_provider(&app).await;
    set_partner_flags(&app, &p, json!({ "sandbox": true })).await;
    create(&app, &p, json!({})).await.err(400, "CBC.99005035");
    assert_eq!(customer_rows(&app).await, 0);
    set_partner_flags(&app, &p, json!({ "sandbox": false })).await;
    create(&app, &p, json!({})).await.ok();
}

#[tokio::test]
async fn a_distributor_must_create_for_one_of_its_own_resellers() {
    let app = TestApp::spawn().await;
    let (dist, _reseller) = distributor_with_reseller(&app).await;
    let (other_dist, other_reseller) = distributor_with_reseller(&app).await;
    let sp = solution_provider(&app).await;
    for indirect in [None, Some(json!("")), Some(Value::Null)] {
        let mut extra = json!({});
        if let Some(v) = indirect.clone() {
            extra["indirect_partner_id"] = v;
        }
        let r = create(&app, &dist, extra).await;
        assert_error(
            &r,
            400,
            "CBC.50010059",
            &format!("indirect_partner_id {indirect:?}"),
        );
    }
    let not_mine = [
        other_reseller.id.clone(),
        other_dist.id.clone(),
        sp.id.clone(),
        "0".repeat(32),
    ];
    for id in &not_mine {
        let r = create(&app, &dist, json!({ "indirect_partner_id": id })).await;
        assert_error(&r, 400, "CBC.99000037", id);
    }
    assert_eq!(customer_rows(&app).await, 0);
}

#[tokio::test]
async fn a_distributor_creating_for_its_reseller_puts_the_customer_under_the_reseller() {
    let app = TestApp::spawn().await;
    let (dist, reseller) = distributor_with_reseller(&app).await;
    let id = create_ok(&app, &dist, json!({ "indirect_partner_id": reseller.id })).await;
    assert_eq!(
        listed(&app, &reseller, json!({})).await,
        (1, vec![id.clone()])
    );
    assert_eq!(listed(&app, &dist, json!({})).await, (0, vec![]));
    assert_eq!(
        listed(&app, &dist, json!({ "indirect_partner_id": reseller.id })).await,
        (1, vec![id])
    );
}

#[tokio::test]
async fn a_solution_provider_passing_indirect_partner_id_creates_its_own_customer() {
    let app = TestApp::spawn().await;
    let (_dist, reseller) = distributor_with_reseller(&app).await;
    let sp = solution_provider(&app).await;
    let id = create_ok(&app, &sp, json!({ "indirect_partner_id": reseller.id })).await;
    assert_eq!(listed(&app, &sp, json!({})).await, (1, vec![id]));
    assert_eq!(listed(&app, &reseller, json!({})).await, (0, vec![]));
}

#[tokio::test]
async fn a_reseller_whose_distributor_has_exited_cannot_create_customers_cbc_50010065() {
    let app = TestApp::spawn().await;
    let (dist, reseller) = distributor_with_reseller(&app).await;
    set_partner_flags(&app, &dist, json!({ "exited": true })).await;
    create(&app, &reseller, json!({}))
        .await
        .err(400, "CBC.50010065");
    create(&app, &dist, json!({ "indirect_partner_id": reseller.id }))
        .await
        .err(400, "CBC.50010065");
    assert_eq!(customer_rows(&app).await, 0);
    set_partner_flags(&app, &dist, json!({ "exited": false })).await;
    create(&app, &reseller, json!({})).await.ok();
}

#[tokio::test]
async fn a_restricted_partner_cannot_create_customers_cbc_50010085() {
    let app = TestApp::spawn().await;
    let sp = solution_provider(&app).await;
    set_partner_flags(&app, &sp, json!({ "restricted": true })).await;
    create(&app, &sp, json!({})).await.err(400, "CBC.50010085");

    let (dist, reseller) = distributor_with_reseller(&app).await;
    set_partner_flags(&app, &reseller, json!({ "restricted": true })).await;
    create(&app, &reseller, json!({}))
        .await
        .err(400, "CBC.50010085");
    create(&app, &dist, json!({ "indirect_partner_id": reseller.id }))
        .await
        .err(400, "CBC.50010085");
    assert_eq!(customer_rows(&app).await, 0);

    set_partner_flags(&app, &sp, json!({ "restricted": false })).await;
    create(&app, &sp, json!({})).await.ok();
}

#[tokio::test]
async fn a_reseller_whose_distributor_is_restricted_gets_cbc_50010086() {
    let app = TestApp::spawn().await;
    let (dist, reseller) = distributor_with_reseller(&app).await;
    set_partner_flags(&app, &dist, json!({ "restricted": true })).await;
    create(&app, &reseller, json!({}))
        .await
        .err(400, "CBC.50010086");
    // The distributor itself is restricted.
    create(&app, &dist, json!({ "indirect_partner_id": reseller.id }))
        .await
        .err(400, "CBC.50010085");
    assert_eq!(customer_rows(&app).await, 0);
}

#[tokio::test]
async fn a_distributor_cannot_associate_a_customer_with_a_disabled_reseller_cbc_99000004() {
    let app = TestApp::spawn().await;
    let (dist, reseller) = distributor_with_reseller(&app).await;
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{}/disable", reseller.id),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    create(&app, &dist, json!({ "indirect_partner_id": reseller.id }))
        .await
        .err(400, "CBC.99000004");
    assert_eq!(customer_rows(&app).await, 0);
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/enable", reseller.id),
        None,
    )
    .await;
    create(&app, &dist, json!({ "indirect_partner_id": reseller.id }))
        .await
        .ok();
}

// ---------------------------------------------------------------------------------------------
// 3. create sub-customer: success
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_returns_the_id_and_name_and_the_list_shows_the_contract_defaults() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let now = app.now();
    let code = fresh_code(&app, &p, MOBILE).await;
    let r = create_raw(
        &app,
        &p,
        &json!({
            "domain_name": "Carol-01",
            "xaccount_id": "carol",
            "xaccount_type": p.xaccount_type,
            "mobile_phone": MOBILE,
            "verification_code": code,
            "password": "Carol!pass1",
        }),
    )
    .await;
    let body = r.ok();
    let id = body["domain_id"].as_str().unwrap().to_string();
    assert_eq!(body, &json!({ "domain_id": id, "domain_name": "Carol-01" }));
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );

    let info = customer_info(&app, &p, &id).await;
    assert_eq!(
        info,
        json!({
            "account_name": "Carol-01",
            "customer_id": id,
            "associated_on": ts(now),
            "association_type": "2",
            "telephone": MOBILE,
            "country_code": "0086",
            "verified_status": "-1",
            "customer_type": -1,
            "is_frozen": 0,
            "account_managers": [],
            "xaccount_id": "carol",
            "xaccount_type": p.xaccount_type,
        })
    );
    // The chosen password works.
    let t = app.token("Carol-01", "Carol!pass1").await;
    assert_eq!(t.status, 201, "{}", t.text);
}

#[tokio::test]
async fn create_generates_a_32_character_login_name_when_none_is_given() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let base = customer_body(&p, json!({}));
    let bodies = [
        without(base.clone(), "domain_name"),
        with(
            base.clone(),
            json!({ "domain_name": "", "xaccount_id": unique("x") }),
        ),
        with(
            base.clone(),
            json!({ "domain_name": null, "xaccount_id": unique("x") }),
        ),
    ];
    let mut names = Vec::new();
    for body in bodies {
        let r = create_raw(&app, &p, &body).await;
        let v = assert_ok(&r, &body.to_string());
        let name = v["domain_name"].as_str().unwrap().to_string();
        assert_eq!(name.chars().count(), 32, "{name}");
        assert!(
            name.starts_with(|c: char| c.is_ascii_alphabetic()),
            "{name}"
        );
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{name}"
        );
        let id = v["domain_id"].as_str().unwrap();
        assert_eq!(
            customer_info(&app, &p, id).await["account_name"],
            json!(name)
        );
        names.push(name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "generated names are distinct");
}

#[tokio::test]
async fn cooperation_type_1_creates_an_advisory_customer_and_anything_else_a_resale_one() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let cases = [
        (Some(json!("1")), "1"),
        (Some(json!("2")), "2"),
        (Some(json!("9")), "2"),
        (Some(json!("")), "2"),
        (Some(Value::Null), "2"),
        (None, "2"),
    ];
    for (coop, expected) in cases {
        let mut extra = json!({});
        if let Some(v) = coop.clone() {
            extra["cooperation_type"] = v;
        }
        let id = create_ok(&app, &p, extra).await;
        let info = customer_info(&app, &p, &id).await;
        assert_eq!(
            info["association_type"], expected,
            "cooperation_type {coop:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_create_changes_nothing() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    create_ok(&app, &p, json!({ "xaccount_id": "taken" })).await;
    let code = fresh_code(&app, &p, MOBILE).await;
    let attempt =
        json!({ "domain_name": "Dave-01", "mobile_phone": MOBILE, "verification_code": code });

    let r = create(
        &app,
        &p,
        with(attempt.clone(), json!({ "xaccount_id": "taken" })),
    )
    .await;
    r.err(400, "CBC.99000039");
    let r = create(
        &app,
        &p,
        with(attempt.clone(), json!({ "password": "short" })),
    )
    .await;
    r.err(400, "CBC.99000036");
    let r = create(
        &app,
        &p,
        with(attempt.clone(), json!({ "xaccount_type": "nope" })),
    )
    .await;
    r.err(400, "CBC.0101");

    assert_eq!(customer_rows(&app).await, 1);
    assert_eq!(listed(&app, &p, json!({})).await.0, 1);
    let r = check(&app, &p, "name", "Dave-01").await;
    assert_eq!(r.ok(), &json!({ "check_result": "available" }));
    let r = check(&app, &p, "mobile", &format!("0086-{MOBILE}")).await;
    assert_eq!(r.ok()["mobile_remain_available_num"], 5);
    let stored = &sent_codes(&app, MOBILE).await[0];
    assert_eq!(
        (&stored["consumed"], &stored["failed_attempts"]),
        (&json!(false), &json!(0))
    );

    // The untouched code still registers the customer.
    create(&app, &p, attempt).await.ok();
    assert_eq!(customer_rows(&app).await, 2);
}

// ---------------------------------------------------------------------------------------------
// 4. list sub-customers: paging and order
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_pages_with_offset_and_limit_defaulting_to_0_and_10() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let mut newest_first = create_many(&app, &p, 12).await;
    newest_first.reverse();
    let page = |from: usize, to: usize| newest_first[from..to].to_vec();

    assert_eq!(listed(&app, &p, json!({})).await, (12, page(0, 10)));
    assert_eq!(
        listed(&app, &p, json!({ "offset": null, "limit": null })).await,
        (12, page(0, 10))
    );
    assert_eq!(
        listed(&app, &p, json!({ "offset": 10 })).await,
        (12, page(10, 12))
    );
    assert_eq!(
        listed(&app, &p, json!({ "offset": 3, "limit": 4 })).await,
        (12, page(3, 7))
    );
    assert_eq!(
        listed(&app, &p, json!({ "limit": 100 })).await,
        (12, page(0, 12))
    );
    assert_eq!(
        listed(&app, &p, json!({ "limit": 1 })).await,
        (12, page(0, 1))
    );
    assert_eq!(
        listed(&app, &p, json!({ "offset": 12 })).await,
        (12, vec![])
    );
    assert_eq!(
        listed(&app, &p, json!({ "offset": 40_000_000 })).await,
        (12, vec![])
    );
}

#[tokio::test]
async fn list_rejects_out_of_range_or_empty_paging_values_with_cbc_0100() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let cases = [
        (json!({ "offset": -1 }), "offset"),
        (json!({ "offset": 40_000_001 }), "offset"),
        (json!({ "offset": "" }), "offset"),
        (json!({ "offset": "1" }), "offset"),
        (json!({ "offset": 1.5 }), "offset"),
        (json!({ "limit": 0 }), "limit"),
        (json!({ "limit": 101 }), "limit"),
        (json!({ "limit": -1 }), "limit"),
        (json!({ "limit": "" }), "limit"),
        (json!({ "limit": true }), "limit"),
    ];
    for (body, field) in cases {
        let r = list(&app, &p, body.clone()).await;
        assert_invalid(&r, field, &body.to_string());
    }
}

#[tokio::test]
async fn list_rejects_filter_values_longer_than_64_characters_with_cbc_0100() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let long = "a".repeat(65);
    for field in [
        "account_name",
        "customer",
        "label",
        "customer_id",
        "indirect_partner_id",
    ] {
        let r = list(&app, &p, json!({ field: long })).await;
        assert_invalid(&r, field, field);
        let (n, _) = listed(&app, &p, json!({ field: "a".repeat(64) })).await;
        assert_eq!(n, 0, "{field} with 64 characters is accepted");
    }
}

#[tokio::test]
async fn list_shows_the_newest_association_first_in_a_stable_order() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let a = create_ok(&app, &p, json!({})).await;
    app.clock.advance(Duration::seconds(1));
    let b = create_ok(&app, &p, json!({})).await;
    app.clock.advance(Duration::seconds(1));
    // Two customers associated in the same second.
    let c = create_ok(&app, &p, json!({})).await;
    let d = create_ok(&app, &p, json!({})).await;
    app.clock.advance(Duration::seconds(1));
    let e = create_ok(&app, &p, json!({})).await;

    let (_, full) = listed(&app, &p, json!({ "limit": 100 })).await;
    assert_eq!(full.len(), 5);
    assert_eq!((&full[0], &full[3], &full[4]), (&e, &b, &a));
    let mut tied = vec![full[1].clone(), full[2].clone()];
    tied.sort();
    let mut expected_tied = vec![c, d];
    expected_tied.sort();
    assert_eq!(tied, expected_tied);

    let mut paged = Vec::new();
    for offset in (0..5).step_by(2) {
        paged.extend(
            listed(&app, &p, json!({ "offset": offset, "limit": 2 }))
                .await
                .1,
        );
    }
    assert_eq!(paged, full, "pages concatenate to the full list");
    assert_eq!(
        listed(&app, &p, json!({ "limit": 100 })).await.1,
        full,
        "repeatable"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. list sub-customers: filters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn list_filters_account_names_by_literal_case_sensitive_substring() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let underscore = create_named(&app, &p, "ab_cd1").await;
    let x = create_named(&app, &p, "abxcd1").await;
    let upper = create_named(&app, &p, "ABXCD3").await;
    let dash = create_named(&app, &p, "ab-cd4").await;
    let cases: Vec<(&str, Vec<&String>)> = vec![
        ("b%c", vec![]),
        ("%", vec![]),
        ("_", vec![&underscore]),
        ("b_c", vec![&underscore]),
        ("\\", vec![]),
        ("cd", vec![&underscore, &x, &dash]),
        ("ab", vec![&underscore, &x, &dash]),
        ("XCD", vec![&upper]),
        ("abxcd1", vec![&x]),
        ("ab_cd1x", vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            listed_set(&app, &p, json!({ "account_name": filter })).await,
            sorted(&expected),
            "account_name {filter:?}"
        );
    }
}

/// The account-name search goes through the index of login-name suffixes (migrations 0027 and
/// 0029): its answers are checked against `strpos` over the partner's customers (no index, no
/// LIKE) for substrings of every length of names holding LIKE, tsquery and quoting characters,
/// non-ASCII text and more than the 32 indexed characters, with every page of each answer and its
/// exact count, after renames and a deletion, on one pooled connection past its fifth execution.
#[tokio::test]
async fn account_name_search_matches_exactly_the_names_containing_the_text() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    let names = [
        "scale00000500uab12cd",
        "scale00001500uab12ce",
        "scale00000050u000500",
        "Quote'Back\\slash:*&|!<->",
        "100%_pure_x",
        "100x-purex",
        "名字テスト-abc",
        "a-name-longer-than-the-32-indexed-chars-0001",
        "a-name-longer-than-the-32-indexed-chars-0002",
        "ABXCD3",
        "abxcd3x",
    ];
    let mut ids = Vec::new();
    for name in names {
        let id = create_ok(&app, &p, json!({})).await;
        set_login_name(&app, &id, name).await;
        ids.push(id);
        app.clock.advance(Duration::seconds(1));
    }
    // Two customers associated at the same time: the order falls back to the id.
    for name in ["tie-one-500", "tie-two-500"] {
        let id = create_ok(&app, &p, json!({})).await;
        set_login_name(&app, &id, name).await;
    }
    // A customer written straight in the database (no association events), to be deleted with
    // its account below.
    let direct = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query(
        "with a as (insert into account (id, kind, login_name, created_at)
                    values ($1, 'customer', 'direct-00000500-x', now()) returning id)
         insert into customer (account_id, partner_id, association_type, associated_on,
                               xaccount_type, xaccount_id)
         select id, $2, '2', now(), $3, 'x' || id from a",
    )
    .bind(&direct)
    .bind(&p.id)
    .bind(&p.xaccount_type)
    .execute(&app.pool)
    .await
    .unwrap();
    // Another partner's customer with a matching name is never listed.
    let foreign = create_ok(&app, &other, json!({})).await;
    set_login_name(&app, &foreign, "scale00000500uforeign").await;

    // Separated by spaces (a pattern with a space matches nothing, by contract).
    let mut patterns: Vec<String> = "% _ \\ ' '' :* & | ! <-> b%c %_ 0%_p XCD xcd Xcd 500 0500 \
        00000500 u000500 テスト 字テ e-the-32-indexed-chars-000 \
        a-name-longer-than-the-32-indexed-chars-000 a-name-longer-than-the-32-indexed-chars-0002 \
        a-name-longer-than-the-32-indexed-chars-00023 scale00000500uforeign direct-0"
        .split_whitespace()
        .map(String::from)
        .collect();
    for name in names {
        let chars: Vec<char> = name.chars().collect();
        for start in (0..chars.len()).step_by(3) {
            for len in [1, 2, 3, 5, 8, 33, 40] {
                if start + len <= chars.len() {
                    patterns.push(chars[start..start + len].iter().collect());
                }
            }
        }
        patterns.push(format!("{name}x"));
    }

    let check = |patterns: Vec<String>| {
        let (app, p) = (&app, &p);
        async move {
            let mut non_empty = 0;
            for pattern in patterns {
                let expected: Vec<String> = sqlx::query_scalar(
                    "select c.account_id from customer c join account a on a.id = c.account_id
                      where c.partner_id = $1 and strpos(a.login_name, $2) > 0
                      order by c.associated_on desc, c.account_id desc",
                )
                .bind(&p.id)
                .bind(&pattern)
                .fetch_all(&app.pool)
                .await
                .unwrap();
                let n = expected.len() as i64;
                non_empty += usize::from(n > 0);
                let body = json!({ "account_name": pattern, "limit": 100 });
                assert_eq!(
                    listed(app, p, body).await,
                    (n, expected.clone()),
                    "{pattern:?}"
                );
                for offset in [1usize, 3, expected.len() + 1] {
                    let body = json!({ "account_name": pattern, "offset": offset, "limit": 2 });
                    let page: Vec<String> = expected.iter().skip(offset).take(2).cloned().collect();
                    assert_eq!(
                        listed(app, p, body).await,
                        (n, page),
                        "{pattern:?} at {offset}"
                    );
                }
            }
            non_empty
        }
    };
    let non_empty = check(patterns.clone()).await;
    assert!(
        non_empty > 100,
        "most patterns match something ({non_empty})"
    );

    // A rename takes the old name out of the index and puts the new one in; deleted customers
    // (one with its account) are gone from the answers.
    set_login_name(&app, &ids[0], "renamed-0042").await;
    set_login_name(&app, &ids[3], "scale00000500uab12cd").await;
    for (sql, id) in [
        ("delete from customer where account_id = $1", &ids[1]),
        ("delete from customer where account_id = $1", &direct),
        ("delete from account where id = $1", &direct),
    ] {
        let r = sqlx::query(sql).bind(id).execute(&app.pool).await.unwrap();
        assert_eq!(r.rows_affected(), 1, "{sql}");
    }
    patterns.extend(["renamed", "0042", "d-0", "ab12c"].map(String::from));
    check(patterns).await;
}

/// Sets a customer's login name straight in the database (names the API would refuse too).
async fn set_login_name(app: &TestApp, id: &str, name: &str) {
    let r = sqlx::query("update account set login_name = $1 where id = $2")
        .bind(name)
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("update account");
    assert_eq!(r.rows_affected(), 1);
}

#[tokio::test]
async fn list_filters_real_names_and_labels_by_literal_case_sensitive_substring() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let rows = [
        ("Acme_Corp", "vip_a"),
        ("AcmeXCorp", "vipXa"),
        ("100%Pure", "50%off"),
        ("Back\\slash", "a\\b"),
        ("王小明", "VIP"),
    ];
    let mut ids = Vec::new();
    for (real_name, label) in rows {
        let id = create_ok(&app, &p, json!({})).await;
        set_customer_column(&app, &id, "real_name", real_name).await;
        set_customer_column(&app, &id, "label", label).await;
        ids.push(id);
    }
    let plain = create_ok(&app, &p, json!({})).await;
    let [underscore, x, percent, backslash, unicode] =
        [&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]];

    let customer_cases: Vec<(&str, Vec<&String>)> = vec![
        ("_", vec![underscore]),
        ("e_C", vec![underscore]),
        ("Acme", vec![underscore, x]),
        ("acme", vec![]),
        ("A%e", vec![]),
        ("%", vec![percent]),
        ("0%P", vec![percent]),
        ("\\", vec![backslash]),
        ("k\\s", vec![backslash]),
        ("小明", vec![unicode]),
    ];
    for (filter, expected) in customer_cases {
        assert_eq!(
            listed_set(&app, &p, json!({ "customer": filter })).await,
            sorted(&expected),
            "customer {filter:?}"
        );
    }
    let label_cases: Vec<(&str, Vec<&String>)> = vec![
        ("_", vec![underscore]),
        ("p_", vec![underscore]),
        ("p%", vec![]),
        ("%", vec![percent]),
        ("\\", vec![backslash]),
        ("vip", vec![underscore, x]),
        ("VIP", vec![unicode]),
        ("Vip", vec![]),
    ];
    for (filter, expected) in label_cases {
        assert_eq!(
            listed_set(&app, &p, json!({ "label": filter })).await,
            sorted(&expected),
            "label {filter:?}"
        );
    }
    assert_eq!(
        listed(&app, &p, json!({ "customer": "Acme", "label": "X" })).await,
        (1, vec![x.clone()])
    );
    let info = customer_info(&app, &p, underscore).await;
    assert_eq!(
        (&info["customer"], &info["label"]),
        (&json!("Acme_Corp"), &json!("vip_a"))
    );
    let info = customer_info(&app, &p, &plain).await;
    assert!(
        info.get("customer").is_none() && info.get("label").is_none(),
        "{info}"
    );
}

#[tokio::test]
async fn list_treats_absent_empty_and_null_filters_as_no_filter() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let a = create_ok(&app, &p, json!({ "cooperation_type": "1" })).await;
    set_customer_column(&app, &a, "label", "gold").await;
    set_customer_column(&app, &a, "real_name", "Acme").await;
    create_ok(&app, &p, json!({})).await;
    create_ok(&app, &p, json!({})).await;
    assert_eq!(listed(&app, &p, json!({})).await.0, 3);
    for field in [
        "account_name",
        "customer",
        "label",
        "association_type",
        "customer_id",
        "indirect_partner_id",
    ] {
        for value in [json!(""), Value::Null] {
            let (n, ids) = listed(&app, &p, json!({ field: value.clone() })).await;
            assert_eq!((n, ids.len()), (3, 3), "{field} = {value}");
        }
    }
    for field in ["associated_on_begin", "associated_on_end"] {
        let (n, _) = listed(&app, &p, json!({ field: null })).await;
        assert_eq!(n, 3, "{field} = null");
    }
}

#[tokio::test]
async fn list_returns_nothing_for_a_filter_value_containing_a_space() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let id = create_named(&app, &p, "ab-cd1").await;
    set_customer_column(&app, &id, "real_name", "Acme Corp").await;
    set_customer_column(&app, &id, "label", "a b").await;
    let cases = [
        json!({ "customer": "Acme Corp" }),
        json!({ "customer": "Acme " }),
        json!({ "label": "a b" }),
        json!({ "account_name": "ab cd" }),
        json!({ "account_name": " " }),
    ];
    for body in cases {
        assert_eq!(listed(&app, &p, body.clone()).await, (0, vec![]), "{body}");
    }
    assert_eq!(
        listed(&app, &p, json!({ "customer": "Acme" })).await,
        (1, vec![id])
    );
}

#[tokio::test]
async fn list_filters_by_association_type_and_rejects_other_values() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let mut advisory = Vec::new();
    let mut resale = Vec::new();
    for _ in 0..2 {
        advisory.push(create_ok(&app, &p, json!({ "cooperation_type": "1" })).await);
    }
    for _ in 0..3 {
        resale.push(create_ok(&app, &p, json!({})).await);
    }
    advisory.sort();
    resale.sort();
    assert_eq!(
        listed_set(&app, &p, json!({ "association_type": "1" })).await,
        (2, advisory)
    );
    assert_eq!(
        listed_set(&app, &p, json!({ "association_type": "2" })).await,
        (3, resale)
    );
    for bad in [json!("3"), json!("0"), json!("12"), json!("A"), json!(1)] {
        let r = list(&app, &p, json!({ "association_type": bad.clone() })).await;
        assert_invalid(&r, "association_type", &bad.to_string());
    }
}

#[tokio::test]
async fn list_filters_by_an_inclusive_association_time_range() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let t0 = app.now();
    let c0 = create_ok(&app, &p, json!({})).await;
    app.clock.advance(Duration::hours(1));
    let t1 = app.now();
    let c1 = create_ok(&app, &p, json!({})).await;
    app.clock.advance(Duration::hours(1));
    let t2 = app.now();
    let c2 = create_ok(&app, &p, json!({})).await;
    let s = Duration::seconds(1);
    let cases: Vec<(Value, Vec<&String>)> = vec![
        (json!({ "associated_on_begin": ts(t1) }), vec![&c2, &c1]),
        (json!({ "associated_on_end": ts(t1) }), vec![&c1, &c0]),
        (
            json!({ "associated_on_begin": ts(t1), "associated_on_end": ts(t1) }),
            vec![&c1],
        ),
        (json!({ "associated_on_begin": ts(t1 + s) }), vec![&c2]),
        (json!({ "associated_on_end": ts(t1 - s) }), vec![&c0]),
        (json!({ "associated_on_begin": ts(t2 + s) }), vec![]),
        (json!({ "associated_on_end": ts(t0 - s) }), vec![]),
        (
            json!({ "associated_on_begin": ts(t2), "associated_on_end": ts(t0) }),
            vec![],
        ),
        (
            json!({ "associated_on_begin": ts(t0), "associated_on_end": ts(t2) }),
            vec![&c2, &c1, &c0],
        ),
    ];
    for (body, expected) in cases {
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(
            listed(&app, &p, body.clone()).await,
            (expected.len() as i64, expected),
            "{body}"
        );
    }
    let bad = [
        json!(""),
        json!("2024-01-01"),
        json!("2024-01-01 00:00:00"),
        json!("2024-01-01T00:00:00.000Z"),
        json!("2024-01-01T00:00:00+08:00"),
        json!("2024-13-01T00:00:00Z"),
        json!(20240101),
    ];
    for field in ["associated_on_begin", "associated_on_end"] {
        for value in &bad {
            let r = list(&app, &p, json!({ field: value })).await;
            assert_invalid(&r, field, &format!("{field} = {value}"));
        }
    }
}

#[tokio::test]
async fn list_filters_by_exact_customer_id() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let other = solution_provider(&app).await;
    let a = create_ok(&app, &p, json!({})).await;
    create_ok(&app, &p, json!({})).await;
    let foreign = create_ok(&app, &other, json!({})).await;
    assert_eq!(
        listed(&app, &p, json!({ "customer_id": a })).await,
        (1, vec![a.clone()])
    );
    for id in [
        a[..10].to_string(),
        a.to_uppercase(),
        foreign,
        "0".repeat(32),
    ] {
        assert_eq!(
            listed(&app, &p, json!({ "customer_id": id })).await,
            (0, vec![]),
            "{id}"
        );
    }
    let r = list(&app, &p, json!({ "customer_id": "0".repeat(65) })).await;
    assert_invalid(&r, "customer_id", "65 characters");
}

// ---------------------------------------------------------------------------------------------
// 4. list sub-customers: whose customers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_never_sees_another_partners_customers() {
    let app = TestApp::spawn().await;
    let p = solution_provider(&app).await;
    let q = solution_provider(&app).await;
    let a = create_named(&app, &p, "pcust-a").await;
    let b = create_named(&app, &p, "pcust-b").await;
    let c = create_named(&app, &q, "qcust-c").await;
    assert_eq!(listed_set(&app, &p, json!({})).await, sorted(&[&a, &b]));
    assert_eq!(listed_set(&app, &q, json!({})).await, sorted(&[&c]));
    assert_eq!(
        listed(&app, &p, json!({ "customer_id": c })).await,
        (0, vec![])
    );
    assert_eq!(
        listed(&app, &p, json!({ "account_name": "qcust" })).await,
        (0, vec![])
    );
}

#[tokio::test]
async fn a_distributor_sees_a_resellers_customers_only_with_indirect_partner_id() {
    let app = TestApp::spawn().await;
    let (dist, reseller) = distributor_with_reseller(&app).await;
    let (other_dist, other_reseller) = distributor_with_reseller(&app).await;
    let own = create_ok(&app, &reseller, json!({})).await;
    let via_dist = create_ok(&app, &dist, json!({ "indirect_partner_id": reseller.id })).await;
    create_ok(&app, &other_reseller, json!({})).await;

    let both = sorted(&[&own, &via_dist]);
    assert_eq!(listed_set(&app, &reseller, json!({})).await, both);
    assert_eq!(listed(&app, &dist, json!({})).await, (0, vec![]));
    assert_eq!(
        listed_set(&app, &dist, json!({ "indirect_partner_id": reseller.id })).await,
        both
    );
    assert_eq!(
        listed(
            &app,
            &dist,
            json!({ "indirect_partner_id": reseller.id, "customer_id": own })
        )
        .await,
        (1, vec![own.clone()])
    );
    let not_mine = [
        other_reseller.id.clone(),
        other_dist.id.clone(),
        "0".repeat(32),
    ];
    for id in &not_mine {
        let r = list(&app, &dist, json!({ "indirect_partner_id": id })).await;
        assert_error(&r, 400, "CBC.99000037", id);
    }
    let r = list(
        &app,
        &other_dist,
        json!({ "indirect_partner_id": reseller.id }),
    )
    .await;
    r.err(400, "CBC.99000037");
}

#[tokio::test]
async fn indirect_partner_id_is_ignored_for_solution_providers_and_resellers() {
    let app = TestApp::spawn().await;
    let (_dist, reseller) = distributor_with_reseller(&app).await;
    let (_other_dist, other_reseller) = distributor_with_reseller(&app).await;
    let sp = solution_provider(&app).await;
    let mine = create_ok(&app, &sp, json!({})).await;
    let resellers = create_ok(&app, &reseller, json!({})).await;
    create_ok(&app, &other_reseller, json!({})).await;
    for id in [reseller.id.clone(), "0".repeat(32)] {
        assert_eq!(
            listed(&app, &sp, json!({ "indirect_partner_id": id })).await,
            (1, vec![mine.clone()])
        );
    }
    assert_eq!(
        listed(
            &app,
            &reseller,
            json!({ "indirect_partner_id": other_reseller.id })
        )
        .await,
        (1, vec![resellers])
    );
}

// ---------------------------------------------------------------------------------------------
// 20-funding §11. list indirect partners
// ---------------------------------------------------------------------------------------------

/// A distributor with three resellers associated an hour apart (oldest first) and another
/// distributor's reseller.
struct ResellerFixture {
    dist: Creds,
    resellers: Vec<Creds>,
    times: Vec<DateTime<Utc>>,
    foreign: Creds,
}

async fn reseller_fixture(app: &TestApp) -> ResellerFixture {
    let dist = app.create_partner("distributor", None).await;
    let mut resellers = Vec::new();
    let mut times = Vec::new();
    let login = unique("r");
    times.push(app.now());
    resellers.push(
        app.create_partner_with(json!({
            "name": "First Reseller Ltd",
            "partner_type": "reseller",
            "distributor_id": dist.id,
            "login_name": login,
            "password": "Passw0rd!",
            "mobile_phone": "13700137000",
            "email": "first@reseller.example",
            "account_manager_id": "am-001",
            "account_manager_name": "Ann Manager",
        }))
        .await,
    );
    for _ in 0..2 {
        app.clock.advance(Duration::hours(1));
        times.push(app.now());
        resellers.push(app.create_partner("reseller", Some(&dist.id)).await);
    }
    let (_, foreign) = distributor_with_reseller(app).await;
    ResellerFixture {
        dist,
        resellers,
        times,
        foreign,
    }
}

#[tokio::test]
async fn a_distributor_lists_its_resellers_newest_first() {
    let app = TestApp::spawn().await;
    let f = reseller_fixture(&app).await;
    let r = list_resellers(&app, &f.dist, json!({})).await;
    let body = r.ok();
    assert_eq!(body["count"], 3);
    let got: Vec<&str> = body["indirect_partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["indirect_partner_id"].as_str().unwrap())
        .collect();
    let [r0, r1, r2] = [&f.resellers[0], &f.resellers[1], &f.resellers[2]];
    assert_eq!(got, vec![r2.id.as_str(), r1.id.as_str(), r0.id.as_str()]);
    assert_eq!(
        body["indirect_partners"][2],
        json!({
            "indirect_partner_id": r0.id,
            "account_name": r0.login,
            "name": "First Reseller Ltd",
            "associated_on": ts(f.times[0]),
            "mobile_phone": "13700137000",
            "email": "first@reseller.example",
            "account_manager_id": "am-001",
            "account_manager_name": "Ann Manager",
        })
    );
    assert_eq!(
        body["indirect_partners"][0]["account_name"],
        json!(r2.login)
    );
    assert_eq!(
        body["indirect_partners"][0]["associated_on"],
        json!(ts(f.times[2]))
    );
}

#[tokio::test]
async fn the_reseller_list_filters_by_name_id_and_time_and_pages() {
    let app = TestApp::spawn().await;
    let f = reseller_fixture(&app).await;
    let id = |i: usize| f.resellers[i].id.clone();
    let s = Duration::seconds(1);
    let cases: Vec<(Value, i64, Vec<String>)> = vec![
        (
            json!({ "account_name": f.resellers[1].login }),
            1,
            vec![id(1)],
        ),
        (
            json!({ "account_name": &f.resellers[1].login[..5] }),
            0,
            vec![],
        ),
        (json!({ "account_name": f.foreign.login }), 0, vec![]),
        (json!({ "account_name": "" }), 3, vec![id(2), id(1), id(0)]),
        (
            json!({ "account_name": null }),
            3,
            vec![id(2), id(1), id(0)],
        ),
        (json!({ "indirect_partner_id": id(0) }), 1, vec![id(0)]),
        (json!({ "indirect_partner_id": f.foreign.id }), 0, vec![]),
        (
            json!({ "indirect_partner_id": "" }),
            3,
            vec![id(2), id(1), id(0)],
        ),
        (
            json!({ "associated_on_begin": ts(f.times[1]) }),
            2,
            vec![id(2), id(1)],
        ),
        (
            json!({ "associated_on_end": ts(f.times[1]) }),
            2,
            vec![id(1), id(0)],
        ),
        (
            json!({ "associated_on_begin": ts(f.times[1] + s), "associated_on_end": ts(f.times[2]) }),
            1,
            vec![id(2)],
        ),
        (
            json!({ "associated_on_begin": ts(f.times[2] + s) }),
            0,
            vec![],
        ),
        (json!({ "offset": 1, "limit": 1 }), 3, vec![id(1)]),
        (json!({ "offset": 2 }), 3, vec![id(0)]),
        (json!({ "offset": 3 }), 3, vec![]),
        (json!({ "limit": 2 }), 3, vec![id(2), id(1)]),
    ];
    for (body, count, ids) in cases {
        assert_eq!(
            listed_resellers(&app, &f.dist, body.clone()).await,
            (count, ids),
            "{body}"
        );
    }
    let bad = [
        (json!({ "limit": 0 }), "limit"),
        (json!({ "limit": 101 }), "limit"),
        (json!({ "offset": -1 }), "offset"),
        (json!({ "offset": "" }), "offset"),
        (json!({ "associated_on_begin": "" }), "associated_on_begin"),
        (
            json!({ "associated_on_end": "2024-01-01" }),
            "associated_on_end",
        ),
        (json!({ "account_name": "a".repeat(65) }), "account_name"),
    ];
    for (body, field) in bad {
        let r = list_resellers(&app, &f.dist, body.clone()).await;
        assert_invalid(&r, field, &body.to_string());
    }
}

#[tokio::test]
async fn a_solution_provider_or_reseller_has_no_indirect_partners() {
    let app = TestApp::spawn().await;
    let f = reseller_fixture(&app).await;
    let sp = solution_provider(&app).await;
    for (who, p) in [("solution provider", &sp), ("reseller", &f.resellers[0])] {
        let r = list_resellers(&app, p, json!({})).await;
        assert_eq!(
            r.ok(),
            &json!({ "count": 0, "indirect_partners": [] }),
            "{who}"
        );
        let r = list_resellers(&app, p, json!({ "indirect_partner_id": f.resellers[1].id })).await;
        assert_eq!(r.ok()["count"], 0, "{who}");
    }
}
