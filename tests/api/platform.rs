//! The platform contract: error bodies, request ids, operations endpoints, the admin gate, OpenAPI.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Tamper, TestApp};

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_json_use_the_error_body() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.get(format!("{}/v2/nope", app.base)))
        .await;
    assert_eq!(r.status, 404);
    r.err(404, "APIG.0101");
    assert_eq!(
        r.body["request_id"].as_str(),
        r.headers["x-request-id"].to_str().ok()
    );
    let r = app
        .send(app.http.delete(format!("{}/healthz", app.base)))
        .await;
    r.err(405, "CBC.0100");

    let p = app.create_partner("solution_provider", None).await;
    let signed = app.signed(&p);
    let post = |body: &'static str| {
        signed.request(
            Method::POST,
            "/v2/partners/sub-customers/query",
            "",
            Some(body.into()),
            Tamper::default(),
        )
    };
    let r = post("{not json").await;
    r.err(400, "CBC.0100");
    let r = post(r#"{"limit": "ten"}"#).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("limit"), "{}", r.text);
    let r = post(r#"{"limit": 101}"#).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("limit"), "{}", r.text);
    let r = post("[1, 2]").await;
    r.err(400, "CBC.0100");
    // An array in the fields' order is not an object (serde alone would take it as one).
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "10").await;
    let array_body = format!(r#"  ["{}", 1]"#, c.id);
    let r = signed
        .request(
            Method::POST,
            "/v2/accounts/partner-accounts/adjust-amount",
            "",
            Some(array_body),
            Tamper::default(),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("a JSON object is required"), "{}", r.text);
    // Nested values of the wrong shape are explained in JSON terms, not Rust type names.
    let r = signed
        .request(
            Method::POST,
            "/v2/accounts/partner-accounts/batch-adjust-amount",
            "",
            Some(r#"{"customer_amounts": [1]}"#.into()),
            Tamper::default(),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(!r.msg().contains("struct"), "{}", r.text);
    let r = post("").await;
    r.err(400, "CBC.0100");
    let r = signed
        .request(
            Method::POST,
            "/v2/partners/sub-customers",
            "",
            Some(r#"{"xaccount_type": "x"}"#.into()),
            Tamper::default(),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("xaccount_id"), "{}", r.text);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_with_the_error_body() {
    let app = TestApp::spawn_with(|c| c.http.body_limit_bytes = 2048).await;
    let p = app.create_partner("solution_provider", None).await;
    let big = format!(r#"{{"account_name": "{}"}}"#, "a".repeat(4096));
    let r = app
        .signed(&p)
        .request(
            Method::POST,
            "/v2/partners/sub-customers/query",
            "",
            Some(big.clone()),
            Tamper::default(),
        )
        .await;
    r.err(413, "CBC.0100");
    let r = app
        .send(
            app.http
                .post(format!("{}/admin/v1/partners", app.base))
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .header("content-type", "application/json")
                .body(big),
        )
        .await;
    r.err(413, "CBC.0100");
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.get(format!("{}/healthz", app.base)))
        .await;
    assert_eq!(r.status, 200);
    let r = app.send(app.http.get(format!("{}/readyz", app.base))).await;
    assert_eq!(r.ok()["status"], "ready");
    let r = app
        .send(app.http.get(format!("{}/metrics", app.base)))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.text
            .contains(r#"http_requests_total{method="GET",route="/readyz",status="200"} 1"#),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("http_request_duration_seconds_bucket"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(r#"db_pool_connections{state="max"} 8"#),
        "{}",
        r.text
    );
    assert!(r.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.get(format!("{}/admin/v1/partners", app.base)))
        .await;
    r.err(401, "CBC.0154");
    let r = app
        .send(
            app.http
                .get(format!("{}/admin/v1/partners", app.base))
                .bearer_auth("wrong-token-0123456789"),
        )
        .await;
    r.err(401, "CBC.0154");
    // A partner's signature is no admin credential.
    let p = app.create_partner("solution_provider", None).await;
    let r = app.signed(&p).get("/admin/v1/partners", "").await;
    r.err(401, "CBC.0154");
    let r = app
        .admin(Method::GET, "/admin/v1/partners?limit=10", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total_count"], 1);
    assert!(r.body["partners"][0].get("secret_key").is_none());
}

#[tokio::test]
async fn admin_creates_partners_with_vendor_shaped_ids_and_validates_input() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    assert_eq!(d.id.len(), 32);
    assert!(d
        .id
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let r = app
        .admin(Method::GET, &format!("/admin/v1/partners/{}", d.id), None)
        .await;
    assert_eq!(r.ok()["partner_type"], "distributor");
    assert_eq!(r.body["domain_id"], d.id.as_str());
    let r = app.create_partner("reseller", Some(&d.id)).await;
    let shown = app
        .admin(Method::GET, &format!("/admin/v1/partners/{}", r.id), None)
        .await;
    assert_eq!(shown.ok()["distributor_id"], d.id.as_str());

    let bad = |body: serde_json::Value| app.admin(Method::POST, "/admin/v1/partners", Some(body));
    let base = json!({"name": "X", "partner_type": "reseller", "login_name": "resell01", "password": "Passw0rd!"});
    bad(base.clone()).await.err(400, "CBC.0100");
    let mut b = base.clone();
    b["distributor_id"] = json!(r.id);
    bad(b).await.err(400, "CBC.0100");
    let mut b = base.clone();
    b["partner_type"] = json!("emperor");
    bad(b).await.err(400, "CBC.0100");
    let mut b = base.clone();
    b["partner_type"] = json!("solution_provider");
    b["login_name"] = json!(d.login.to_uppercase());
    bad(b).await.err(400, "CBC.99000038");
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/accounts/ffffffffffffffffffffffffffffffff/access-keys",
            None,
        )
        .await;
    r.err(400, "CBC.99000047");
}

#[tokio::test]
async fn the_openapi_document_is_served_and_the_committed_copy_matches_the_code() {
    let app = TestApp::spawn().await;
    let r = app
        .send(app.http.get(format!("{}/openapi.json", app.base)))
        .await;
    assert_eq!(r.status, 200);
    let served = &r.body;
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v2/partners/sub-customers",
        "/v2/partners/sub-customers/query",
        "/v2/partners/sub-customers/users/check-identity",
        "/v2/bases/verificationcode/send",
        "/v2/partners/indirect-partners/query",
        "/v3/auth/tokens",
        "/v3/auth/domains",
        "/admin/v1/partners",
        "/healthz",
    ] {
        assert!(
            served["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    for scheme in ["aksk", "token", "admin"] {
        assert!(
            served["components"]["securitySchemes"]
                .get(scheme)
                .is_some(),
            "{scheme}"
        );
    }
    assert!(served["components"]["schemas"].get("ErrorBody").is_some());
    let docs = app.send(app.http.get(format!("{}/docs/", app.base))).await;
    assert_eq!(docs.status, 200);

    let generated = partner_center::http::openapi_json();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
            .expect("docs/openapi.json is committed");
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json drifted from the code: run `cargo run -- openapi > docs/openapi.json`"
    );
}

#[tokio::test]
async fn a_caller_over_its_rate_limit_gets_429_cbc_0250_and_others_do_not() {
    let app = TestApp::spawn_with(|c| c.http.rate_limit_per_minute = 3).await;
    let p = app.create_partner("solution_provider", None).await;
    let q = app.create_partner("solution_provider", None).await;
    for _ in 0..3 {
        app.signed(&p)
            .post("/v2/partners/sub-customers/query", &json!({}))
            .await
            .ok();
    }
    let r = app
        .signed(&p)
        .post("/v2/partners/sub-customers/query", &json!({}))
        .await;
    r.err(429, "CBC.0250");
    app.signed(&q)
        .post("/v2/partners/sub-customers/query", &json!({}))
        .await
        .ok();
}

/// `DATABASE_URL` may ask for TLS (`sslmode=require`, as managed PostgreSQL services do): the
/// server's pool then talks TLS. Against a server without TLS such a URL fails to connect
/// instead of silently falling back to plain text.
#[tokio::test]
async fn a_database_url_with_sslmode_require_gets_a_tls_connection() {
    let app = TestApp::spawn().await;
    let url = app.db_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let tls_url = format!("{url}{sep}sslmode=require");
    let server_has_tls: String = sqlx::query_scalar("show ssl")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let config = crate::helpers::test_config();
    let pool = partner_center::startup::connect(&config, &tls_url).await;
    if server_has_tls == "on" {
        let pool = pool.expect("TLS connection");
        let ssl: bool =
            sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(ssl, "the connection is not encrypted");
    } else {
        let err = pool.expect_err("a server without TLS cannot satisfy sslmode=require");
        println!("server without TLS: {err:#}");
    }
}
