//! Authentication: SDK-HMAC-SHA256 signatures, IAM-compatible tokens, caller kinds.

use chrono::Duration;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Tamper, TestApp};

const LIST: &str = "/v2/partners/sub-customers/query";

async fn signed_list(
    app: &TestApp,
    creds: &crate::helpers::Creds,
    t: Tamper,
) -> crate::helpers::Resp {
    app.signed(creds)
        .request(Method::POST, LIST, "", Some(r#"{"limit": 10}"#.into()), t)
        .await
}

#[tokio::test]
async fn a_correctly_signed_request_is_accepted() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let r = signed_list(&app, &p, Tamper::default()).await;
    assert_eq!(r.ok()["count"], 0);
}

#[tokio::test]
async fn tampered_or_unsigned_requests_get_401_with_the_error_body() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let cases = [
        (
            "tampered body",
            Tamper {
                body: Some(r#"{"limit": 11}"#.into()),
                ..Default::default()
            },
        ),
        (
            "wrong secret",
            Tamper {
                secret: Some("x".repeat(40)),
                ..Default::default()
            },
        ),
        (
            "signed header removed",
            Tamper {
                drop_header: Some("user-agent"),
                ..Default::default()
            },
        ),
        (
            "date header removed",
            Tamper {
                drop_header: Some("x-sdk-date"),
                ..Default::default()
            },
        ),
        (
            "16 minutes old",
            Tamper {
                date: Some(app.now() - Duration::minutes(16)),
                ..Default::default()
            },
        ),
        (
            "16 minutes ahead",
            Tamper {
                date: Some(app.now() + Duration::minutes(16)),
                ..Default::default()
            },
        ),
        (
            "someone else's domain id",
            Tamper {
                domain_id: Some("0".repeat(32)),
                ..Default::default()
            },
        ),
    ];
    for (what, t) in cases {
        let r = signed_list(&app, &p, t).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        r.err(401, "APIG.0301");
    }
    // 14 minutes of skew is still inside the window.
    let r = signed_list(
        &app,
        &p,
        Tamper {
            date: Some(app.now() - Duration::minutes(14)),
            ..Default::default()
        },
    )
    .await;
    r.ok();
}

#[tokio::test]
async fn a_tampered_query_string_is_rejected() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let ok = app
        .signed(&p)
        .request(
            Method::GET,
            "/v3/auth/domains",
            "a=1&b=x%20y",
            None,
            Tamper::default(),
        )
        .await;
    ok.ok();
    let bad = app
        .signed(&p)
        .request(
            Method::GET,
            "/v3/auth/domains",
            "a=1&b=x%20y",
            None,
            Tamper {
                query: Some("a=2&b=x%20y".into()),
                ..Default::default()
            },
        )
        .await;
    bad.err(401, "APIG.0301");
}

#[tokio::test]
async fn unknown_or_disabled_keys_and_accounts_are_rejected() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let mut unknown = p.clone();
    unknown.ak = "UNKNOWNACCESSKEY0000".into();
    signed_list(&app, &unknown, Tamper::default())
        .await
        .err(401, "APIG.0301");

    // A second key works alongside the first; disabling one leaves the other working.
    let k = app
        .admin(
            Method::POST,
            &format!("/admin/v1/accounts/{}/access-keys", p.id),
            None,
        )
        .await;
    assert_eq!(k.status, 201, "{}", k.text);
    let mut second = p.clone();
    second.ak = k.body["access_key"].as_str().unwrap().into();
    second.sk = k.body["secret_key"].as_str().unwrap().into();
    signed_list(&app, &second, Tamper::default()).await.ok();
    let d = app
        .admin(
            Method::POST,
            &format!("/admin/v1/access-keys/{}/disable", p.ak),
            None,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    signed_list(&app, &p, Tamper::default())
        .await
        .err(401, "APIG.0301");
    signed_list(&app, &second, Tamper::default()).await.ok();
    app.admin(
        Method::POST,
        &format!("/admin/v1/access-keys/{}/enable", p.ak),
        None,
    )
    .await;
    signed_list(&app, &p, Tamper::default()).await.ok();

    // A disabled account: every key stops working, and comes back on enable.
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/disable", p.id),
        None,
    )
    .await;
    signed_list(&app, &p, Tamper::default())
        .await
        .err(401, "APIG.0301");
    signed_list(&app, &second, Tamper::default())
        .await
        .err(401, "APIG.0301");
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/enable", p.id),
        None,
    )
    .await;
    signed_list(&app, &p, Tamper::default()).await.ok();
}

#[tokio::test]
async fn missing_credentials_get_401() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.post(format!("{}{LIST}", app.base)).body("{}"))
        .await;
    r.err(401, "APIG.0301");
    let r = app
        .send(
            app.http
                .post(format!("{}{LIST}", app.base))
                .header("Authorization", "Bearer nope")
                .body("{}"),
        )
        .await;
    r.err(401, "APIG.0301");
}

#[tokio::test]
async fn a_token_is_issued_and_accepted_until_it_expires() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("distributor", None).await;
    let r = app.token(&p.login, &p.password).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    let t = &r.body["token"];
    assert_eq!(t["user"]["id"], p.id.as_str());
    assert_eq!(t["user"]["name"], p.login.as_str());
    assert_eq!(t["domain"]["id"], p.id.as_str());
    assert!(t["expires_at"].as_str().unwrap().ends_with('Z'));
    assert!(t["issued_at"].is_string());

    let body = json!({"limit": 10});
    app.with_token(&token, Method::POST, LIST, Some(&body))
        .await
        .ok();
    // The token also works on GET with Content-Type: application/json and no body.
    let d = app
        .with_token(&token, Method::GET, "/v3/auth/domains", None)
        .await;
    assert_eq!(d.ok()["domains"][0]["id"], p.id.as_str());

    app.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    let r = app
        .with_token(&token, Method::POST, LIST, Some(&body))
        .await;
    r.err(401, "CBC.0154");
}

#[tokio::test]
async fn forged_and_unsigned_tokens_are_rejected() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let token = app.token(&p.login, &p.password).await.headers["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let body = json!({});
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();

    // Signature of another key.
    let mut forged_sig = sig.to_string();
    let last = forged_sig.pop().unwrap();
    forged_sig.push(if last == 'A' { 'B' } else { 'A' });
    let forged = format!("{head}.{payload}.{forged_sig}");
    app.with_token(&forged, Method::POST, LIST, Some(&body))
        .await
        .err(401, "CBC.0154");

    // alg: none with the same claims.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none_head = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_head}.{payload}.");
    app.with_token(&none, Method::POST, LIST, Some(&body))
        .await
        .err(401, "CBC.0154");

    // Claims changed to another account, original signature kept.
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    let mut other = claims.clone();
    other["sub"] = json!("0".repeat(32));
    let swapped = format!("{head}.{}.{sig}", b64.encode(other.to_string()));
    app.with_token(&swapped, Method::POST, LIST, Some(&body))
        .await
        .err(401, "CBC.0154");

    app.with_token("garbage", Method::POST, LIST, Some(&body))
        .await
        .err(401, "CBC.0154");
}

#[tokio::test]
async fn tokens_need_the_right_password_and_an_enabled_account() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.token(&p.login, "Wrong-pass1")
        .await
        .err(401, "CBC.0154");
    app.token("nobody-here", "Wrong-pass1")
        .await
        .err(401, "CBC.0154");
    let token = app.token(&p.login, &p.password).await.headers["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/disable", p.id),
        None,
    )
    .await;
    app.token(&p.login, &p.password).await.err(401, "CBC.0154");
    app.with_token(&token, Method::POST, LIST, Some(&json!({})))
        .await
        .err(401, "CBC.0154");
    // A malformed IAM body names the field.
    let r = app
        .send(
            app.http
                .post(format!("{}/v3/auth/tokens", app.base))
                .json(&json!({"auth": {}})),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("identity"), "{}", r.text);
}

#[tokio::test]
async fn a_customer_can_get_a_token_but_not_call_partner_routes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    // AK/SK of the customer.
    app.signed(&c)
        .post(LIST, &json!({}))
        .await
        .err(403, "CBC.0151");
    // Token of the customer.
    let r = app.token(&c.login, &c.password).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    app.with_token(&token, Method::POST, LIST, Some(&json!({})))
        .await
        .err(403, "CBC.0151");
    // It discovers its own domain.
    let d = app.signed(&c).get("/v3/auth/domains", "").await;
    assert_eq!(d.ok()["domains"][0]["id"], c.id.as_str());
}

/// Polls `probe` every 25 ms until it answers 401; the time from `since` until then.
async fn refused_after<F, Fut>(since: std::time::Instant, probe: F) -> std::time::Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = crate::helpers::Resp>,
{
    loop {
        let r = probe().await;
        if r.status == 401 {
            return since.elapsed();
        }
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(since.elapsed().as_secs() < 10, "never refused");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// The verified caller is cached for at most `auth.caller_cache_ms` (1000 ms by default): a key
/// or an account disabled elsewhere (here: by another replica, i.e. straight in the database)
/// is refused within that bound, by signature and by token alike; disabled through this
/// replica's admin API it is refused at once.
#[tokio::test]
async fn a_key_or_account_disabled_elsewhere_is_refused_within_the_caller_cache_bound() {
    let app = TestApp::spawn().await;
    let bound = std::time::Duration::from_millis(app.state.config.auth.caller_cache_ms);
    assert!(bound <= std::time::Duration::from_secs(2));
    // Slack for the request itself on a loaded machine.
    let slack = std::time::Duration::from_millis(500);
    let p = app.create_partner("solution_provider", None).await;

    // 1. An access key.
    signed_list(&app, &p, Tamper::default()).await.ok();
    let warmed = std::time::Instant::now();
    sqlx::query("update access_key set status = 'disabled' where access_key = $1")
        .bind(&p.ak)
        .execute(&app.pool)
        .await
        .unwrap();
    let disabled = std::time::Instant::now();
    let first = signed_list(&app, &p, Tamper::default()).await;
    if warmed.elapsed() < bound / 2 {
        // Still within the bound: the cached caller answered (the cache is real).
        assert_eq!(first.status, 200, "{}", first.text);
    }
    let took = refused_after(disabled, || signed_list(&app, &p, Tamper::default())).await;
    assert!(took <= bound + slack, "refused after {took:?}");
    signed_list(&app, &p, Tamper::default())
        .await
        .err(401, "APIG.0301");
    sqlx::query("update access_key set status = 'active' where access_key = $1")
        .bind(&p.ak)
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(bound).await;
    signed_list(&app, &p, Tamper::default()).await.ok();

    // 2. The account, for a token caller and a signing caller.
    let t = app.token(&p.login, &p.password).await;
    assert_eq!(t.status, 201, "{}", t.text);
    let token = t.headers["x-subject-token"].to_str().unwrap().to_string();
    let by_token = || async {
        app.with_token(&token, Method::POST, LIST, Some(&json!({"limit": 1})))
            .await
    };
    by_token().await.ok();
    sqlx::query("update account set status = 'disabled' where id = $1")
        .bind(&p.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let disabled = std::time::Instant::now();
    let took = refused_after(disabled, by_token).await;
    assert!(took <= bound + slack, "token refused after {took:?}");
    let took = refused_after(disabled, || signed_list(&app, &p, Tamper::default())).await;
    assert!(took <= bound + slack, "signature refused after {took:?}");

    // 3. Through this replica's admin API: at once.
    app.admin(
        Method::POST,
        &format!("/admin/v1/accounts/{}/enable", p.id),
        None,
    )
    .await;
    signed_list(&app, &p, Tamper::default()).await.ok();
    let d = app
        .admin(
            Method::POST,
            &format!("/admin/v1/access-keys/{}/disable", p.ak),
            None,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    signed_list(&app, &p, Tamper::default())
        .await
        .err(401, "APIG.0301");
}
