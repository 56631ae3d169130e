//! Hostile input and safe defaults: NUL bytes in every kind of input of every route, non-JSON
//! bodies, bounded `/metrics`, idle connections, token revocation and lifetime, tokens signed with
//! the published development key, and flow control shared by two replicas through Redis.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use partner_center::{config::Secret, startup::Application, state::Clock};
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Tamper, TestApp, ADMIN_TOKEN, TEST_TOKEN_KEY};

/// One operation: method, path template, declared path parameters, declared query parameters,
/// whether it has a request body.
type Operation = (Method, String, Vec<String>, Vec<String>, bool);

/// Every operation of the OpenAPI document generated in-process.
fn operations() -> Vec<Operation> {
    let doc = serde_json::to_value(partner_center::http::openapi()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let names = |kind: &str| -> Vec<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == kind)
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            };
            ops.push((
                m,
                path.clone(),
                names("path"),
                names("query"),
                op.get("requestBody").is_some(),
            ));
        }
    }
    assert!(ops.len() > 50, "only {} operations found", ops.len());
    ops
}

/// The credentials a route wants: the admin token under /admin, else a partner's token (routes
/// without credentials ignore it).
fn credentials(req: reqwest::RequestBuilder, path: &str, token: &str) -> reqwest::RequestBuilder {
    if path.starts_with("/admin/") {
        req.bearer_auth(ADMIN_TOKEN)
    } else {
        req.header("X-Auth-Token", token)
    }
}

fn fill(template: &str, params: &[String], nul_in: Option<&str>) -> String {
    let mut path = template.to_string();
    for p in params {
        let value = if Some(p.as_str()) == nul_in {
            "a%00b"
        } else {
            "1"
        };
        path = path.replace(&format!("{{{p}}}"), value);
    }
    path
}

#[tokio::test]
async fn a_nul_byte_in_each_kind_of_input_of_every_route_is_400_naming_the_field() {
    // With the sandbox clock, so its routes (in the document) exist too.
    let app = TestApp::spawn_sandbox().await;
    let p = app.create_partner("solution_provider", None).await;
    let token = subject_token(&app.token(&p.login, &p.password).await);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (method, template, path_params, query_params, has_body) in operations() {
        let mut cases: Vec<(String, reqwest::RequestBuilder)> = Vec::new();
        let url = |path: &str| format!("{}{path}", app.base);
        for p in &path_params {
            let req = app
                .http
                .request(method.clone(), url(&fill(&template, &path_params, Some(p))));
            cases.push((p.clone(), req));
        }
        let plain = fill(&template, &path_params, None);
        // Declared query parameters, and one the route does not know.
        for q in query_params
            .iter()
            .chain(std::iter::once(&"unknown_param".to_string()))
        {
            let req = app
                .http
                .request(method.clone(), format!("{}?{q}=x%00y", url(&plain)));
            cases.push((q.clone(), req));
        }
        if has_body || matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            for (field, body) in [
                ("name", r#"{"name": "a\u0000b"}"#),
                ("outer.list[1]", r#"{"outer": {"list": ["ok", "x\u0000"]}}"#),
            ] {
                let req = app
                    .http
                    .request(method.clone(), url(&plain))
                    .header("Content-Type", "application/json")
                    .body(body);
                cases.push((field.to_string(), req));
            }
            let req = app
                .http
                .request(method.clone(), url(&plain))
                .header("Content-Type", "text/plain")
                .body("{}");
            cases.push(("Content-Type".to_string(), req));
        }
        for (field, req) in cases {
            let r = app.send(credentials(req, &template, &token)).await;
            checked += 1;
            let named = r.body["error_msg"]
                .as_str()
                .is_some_and(|m| m.contains(&field));
            if r.status != 400 || r.body["error_code"] != "CBC.0100" || !named {
                failures.push(format!(
                    "{method} {template} [{field}]: {} {}",
                    r.status, r.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 200, "only {checked} requests");
    println!("NUL walk: {checked} requests, all 400 CBC.0100 naming the field");
}

#[tokio::test]
async fn a_signed_post_with_a_non_json_content_type_is_not_executed() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let body = json!({"xaccount_id": "u-plain", "xaccount_type": p.xaccount_type,
                      "domain_name": "plaintext-customer"})
    .to_string();
    let r = app
        .signed(&p)
        .request(
            Method::POST,
            "/v2/partners/sub-customers",
            "",
            Some(body.clone()),
            Tamper {
                headers: vec![("Content-Type", "text/plain".into())],
                ..Default::default()
            },
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("Content-Type"), "{}", r.text);
    let listed = app
        .signed(&p)
        .post("/v2/partners/sub-customers/query", &json!({}))
        .await;
    assert_eq!(
        listed.ok()["count"],
        0,
        "the text/plain request was executed"
    );
    // The same body declared as JSON is executed.
    let r = app
        .signed(&p)
        .request(
            Method::POST,
            "/v2/partners/sub-customers",
            "",
            Some(body),
            Tamper::default(),
        )
        .await;
    r.ok();
}

#[tokio::test]
async fn twenty_thousand_made_up_methods_leave_metrics_small() {
    let app = TestApp::spawn().await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..16 {
        let (http, base, done) = (app.http.clone(), app.base.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..1250 {
                let method: String = {
                    let mut rng = rand::thread_rng();
                    let len = rng.gen_range(3..40);
                    // "X…" is never a real method (a random "GET" or "PUT" would answer 200).
                    std::iter::once('X')
                        .chain((0..len).map(|_| rng.gen_range(b'A'..=b'Z') as char))
                        .collect()
                };
                let path = if i % 2 == 0 {
                    "/healthz".to_string()
                } else {
                    format!("/nope/{w}/{i}")
                };
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let r = http
                    .request(m, format!("{base}{path}"))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_client_error(), "{}", r.status());
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(done.load(Ordering::Relaxed), 20_000);
    let r = app
        .send(app.http.get(format!("{}/metrics", app.base)))
        .await;
    assert_eq!(r.status, 200);
    println!(
        "/metrics after 20,000 made-up methods: {} bytes",
        r.text.len()
    );
    assert!(r.text.len() < 64 * 1024, "{} bytes", r.text.len());
    // They are all counted, under one method label.
    assert!(
        r.text
            .contains(r#"http_requests_total{method="other",route="/healthz",status="405"} 10000"#),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(
            r#"http_requests_total{method="other",route="unmatched",status="404"} 10000"#
        ),
        "{}",
        r.text
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_idle_connections_are_closed_after_the_idle_timeout_and_memory_returns() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let (mut child, host) = app
        .start_binary(&[
            ("PARTNER_CENTER__HTTP__IDLE_TIMEOUT_SECS", "3"),
            ("PARTNER_CENTER__HTTP__HEADER_READ_TIMEOUT_SECS", "3"),
        ])
        .await;
    for _ in 0..20 {
        app.http
            .get(format!("http://{host}/healthz"))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(child.id());
    let opened = Instant::now();
    let mut conns = Vec::new();
    for i in 0..2000 {
        let mut s = tokio::net::TcpStream::connect(&host).await.unwrap();
        match i % 3 {
            // One request, then idle on the kept-alive connection.
            0 => {
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await
                    .unwrap();
            }
            // Slowloris: half a request head.
            1 => s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap(),
            // Nothing at all.
            _ => {}
        }
        conns.push(s);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = rss_kib(child.id());
    // Every connection ends (EOF or reset) after the timeout, without the client closing it.
    let mut closed = 0;
    for mut s in conns {
        let mut buf = [0u8; 4096];
        loop {
            match tokio::time::timeout(Duration::from_secs(15), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed += 1;
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => panic!("a connection was still open 15 s after the idle timeout"),
            }
        }
    }
    let took = opened.elapsed();
    assert_eq!(closed, 2000);
    assert!(
        took >= Duration::from_secs(3),
        "closed before the idle timeout: {took:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(child.id());
    println!("RSS: idle {idle} KiB, 2,000 connections {loaded} KiB, after they closed {after} KiB");
    assert!(
        after <= 2 * idle,
        "RSS {after} KiB is not within 2x idle ({idle} KiB)"
    );
    // Still serving.
    let r = app
        .http
        .get(format!("http://{host}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    child.kill().ok();
    child.wait().ok();
}

#[tokio::test]
async fn with_database_url_the_published_development_secrets_refuse_to_start() {
    let app = TestApp::spawn().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-center"))
        .arg("serve")
        .env("DATABASE_URL", app.db_url())
        .env("PARTNER_CENTER__ADMIN__TOKEN", "an-admin-token-of-our-own")
        .env(
            "PARTNER_CENTER__AUTH__TOKEN_KEY",
            "dev-token-key-change-me-0123456789abcdef",
        )
        .env("PARTNER_CENTER__HTTP__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PARTNER_CENTER__AUTH__TOKEN_KEY"), "{err}");
    assert!(
        err.contains("PARTNER_CENTER__AUTH__SECRET_ENCRYPTION_KEY"),
        "{err}"
    );
    assert!(!err.contains("PARTNER_CENTER__ADMIN__TOKEN"), "{err}");
    assert!(
        !err.contains("dev-token-key-change-me"),
        "a secret was printed: {err}"
    );
    // Development mode accepts them.
    let (mut child, _) = app
        .start_binary(&[
            ("PARTNER_CENTER__DEV", "true"),
            (
                "PARTNER_CENTER__AUTH__TOKEN_KEY",
                "dev-token-key-change-me-0123456789abcdef",
            ),
        ])
        .await;
    child.kill().ok();
    child.wait().ok();
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    aud: &'a str,
    iss: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
}

fn mint(key: &str, sub: &str, iat: i64, exp: i64) -> String {
    let claims = Claims {
        sub,
        aud: "partner-center",
        iss: "partner-center",
        iat,
        exp,
        jti: "forged",
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

const BALANCES: &str = "/v2/accounts/partner-accounts/balances";

#[tokio::test]
async fn tokens_minted_with_the_development_key_or_beyond_the_ttl_are_refused() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let now = app.now().timestamp();
    let dev = mint(
        "dev-token-key-change-me-0123456789abcdef",
        &p.id,
        now,
        now + 3600,
    );
    app.with_token(&dev, Method::GET, BALANCES, None)
        .await
        .err(401, "CBC.0154");
    // The same claims under the server's own key are accepted (the refusal is the key's).
    let own = mint(TEST_TOKEN_KEY, &p.id, now, now + 3600);
    app.with_token(&own, Method::GET, BALANCES, None).await.ok();
    // A far-future expiry, or a lifetime beyond the configured TTL, is refused.
    let ttl = app.state.config.auth.token_ttl_secs;
    let far = mint(TEST_TOKEN_KEY, &p.id, now, now + 10 * 365 * 86400);
    app.with_token(&far, Method::GET, BALANCES, None)
        .await
        .err(401, "CBC.0154");
    let backdated = mint(TEST_TOKEN_KEY, &p.id, now - 2 * ttl, now + 60);
    app.with_token(&backdated, Method::GET, BALANCES, None)
        .await
        .err(401, "CBC.0154");
    let full = mint(TEST_TOKEN_KEY, &p.id, now, now + ttl);
    app.with_token(&full, Method::GET, BALANCES, None)
        .await
        .ok();
}

fn subject_token(r: &crate::helpers::Resp) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    r.headers["x-subject-token"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_password_change_or_a_disable_revokes_earlier_tokens() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    // Disable: the earlier token stays refused after re-enabling; a new one works.
    let before = subject_token(&app.token(&p.login, &p.password).await);
    app.with_token(&before, Method::GET, BALANCES, None)
        .await
        .ok();
    for step in ["disable", "enable"] {
        let path = format!("/admin/v1/accounts/{}/{step}", p.id);
        let r = app.admin(Method::POST, &path, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = app.with_token(&before, Method::GET, BALANCES, None).await;
    r.err(401, "CBC.0154");
    assert!(r.msg().contains("revoked"), "{}", r.text);
    let after = subject_token(&app.token(&p.login, &p.password).await);
    app.with_token(&after, Method::GET, BALANCES, None)
        .await
        .ok();

    // Password change of an operator.
    let login = format!("op{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let r = app
        .signed(&p)
        .post(
            "/v2/partners/operators",
            &json!({"login_name": login, "password": "Operat0r!pw"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let listed = app.signed(&p).get("/v2/partners/operators", "").await;
    let op_id = listed.ok()["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["login_name"] == login.as_str())
        .unwrap()["operator_id"]
        .as_str()
        .unwrap()
        .to_string();
    let op_token = |pw: &'static str| {
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": login, "password": pw, "domain": {"name": p.login}}}}}});
        app.send(
            app.http
                .post(format!("{}/v3/auth/tokens", app.base))
                .json(&body),
        )
    };
    let old = subject_token(&op_token("Operat0r!pw").await);
    let query = "/v2/partners/sub-customers/query";
    let r = app
        .with_token(&old, Method::POST, query, Some(&json!({})))
        .await;
    assert_ne!(
        r.status, 401,
        "the operator's token works before the change: {}",
        r.text
    );
    let changed = app
        .signed(&p)
        .request(
            Method::PUT,
            &format!("/v2/partners/operators/{op_id}"),
            "",
            Some(json!({"password": "N3w-operator-pw"}).to_string()),
            Tamper::default(),
        )
        .await;
    changed.ok();
    app.with_token(
        &old,
        Method::POST,
        "/v2/partners/sub-customers/query",
        Some(&json!({})),
    )
    .await
    .err(401, "CBC.0154");
    let new = subject_token(&op_token("N3w-operator-pw").await);
    let r = app
        .with_token(
            &new,
            Method::POST,
            "/v2/partners/sub-customers/query",
            Some(&json!({})),
        )
        .await;
    assert_ne!(r.status, 401, "{}", r.text);
}

#[tokio::test]
async fn issued_quotas_of_a_foreign_reseller_are_refused_and_unset_coupon_times_are_null() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let other = app.create_partner("distributor", None).await;
    let foreign = app.create_partner("reseller", Some(&other.id)).await;
    let own = app.create_partner("reseller", Some(&d.id)).await;
    let issued_to = |reseller: &Creds| {
        let query = format!("indirect_partner_id={}", reseller.id);
        let (app, d) = (&app, &d);
        async move {
            app.signed(d)
                .get("/v2/partners/issued-coupon-quotas", &query)
                .await
        }
    };
    issued_to(&foreign).await.err(400, "CBC.99000037");
    assert_eq!(issued_to(&own).await.ok()["total_count"], 0);

    // A coupon that was never used nor reserved: its times are null, never "".
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let ts = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let g = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
            Some(json!({"quota_type": 0, "quota_value": 100,
                        "effective_time": ts(app.now() - chrono::Duration::hours(1)),
                        "expire_time": ts(app.now() + chrono::Duration::days(30))})),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    let quota = g.body["quota_id"].as_str().unwrap();
    let issued: Value = serde_json::from_str(&format!(
        r#"{{"quota_id": "{quota}", "customer_ids": ["{}"], "face_value": 5}}"#,
        c.id
    ))
    .unwrap();
    app.signed(&p)
        .post("/v2/promotions/benefits/partner-coupons", &issued)
        .await
        .ok();
    let listed = app
        .signed(&p)
        .get("/v2/promotions/benefits/partner-coupons", "")
        .await;
    let coupon = &listed.ok()["user_coupons"][0];
    assert!(coupon["last_used_time"].is_null(), "{coupon}");
    assert!(coupon["create_time"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    let mine = app
        .signed(&c)
        .get("/v2/promotions/benefits/coupons", "")
        .await;
    let coupon = &mine.ok()["user_coupons"][0];
    assert!(coupon["reserve_time"].is_null(), "{coupon}");
    let text = mine.text.clone();
    assert!(!text.contains(r#"_time":"""#), "{text}");
}

/// A Redis on 127.0.0.1:6379, or one started for this test (`None` when neither is possible).
async fn redis_url() -> Option<(String, Option<std::process::Child>)> {
    let answers = |port: u16| {
        std::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "ping"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
            .unwrap_or(false)
    };
    if answers(6379) {
        return Some(("redis://127.0.0.1:6379/0".into(), None));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..50 {
        if answers(port) {
            return Some((format!("redis://127.0.0.1:{port}/0"), Some(child)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_one_limit_through_redis_and_429_says_when_to_retry() {
    let (url, mut redis) = redis_url()
        .await
        .expect("a Redis (redis-server) for this test");
    let shared = url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.http.rate_limit_per_minute = 120;
        c.http.rate_limit_redis_url = Some(Secret::new(shared));
    })
    .await;
    let mut cfg = crate::helpers::test_config();
    cfg.http.rate_limit_per_minute = 120;
    cfg.http.rate_limit_redis_url = Some(Secret::new(url.clone()));
    let clock: Arc<dyn Clock> = app.clock.clone();
    let second = Application::build(cfg, &app.db_url(), Some(clock))
        .await
        .unwrap();
    let second_host = second.local_addr().to_string();
    let server = tokio::spawn(async move {
        second.run_until(std::future::pending()).await.ok();
    });
    let p = app.create_partner("solution_provider", None).await;
    let hosts = [app.host.clone(), second_host];
    let started = Instant::now();
    let (mut ok, mut limited) = (0, 0);
    let mut retry_after = Vec::new();
    for i in 0..400 {
        let r = app.signed_at(&p, &hosts[i % 2]).get(BALANCES, "").await;
        match r.status {
            200 => ok += 1,
            429 => {
                r.err(429, "CBC.0250");
                limited += 1;
                let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
                retry_after.push(secs);
            }
            s => panic!("unexpected {s}: {}", r.text),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The burst (120) plus what refills at 2 per second while the calls ran.
    let refill = (elapsed * 2.0).ceil() as i32 + 1;
    println!(
        "two replicas, 120/min shared: {ok} of 400 allowed in {elapsed:.1} s, {limited} refused"
    );
    assert!(ok >= 120, "{ok} allowed");
    assert!(ok <= 120 + refill, "{ok} allowed, more than 120 + {refill}");
    assert_eq!(ok + limited, 400);
    assert!(
        retry_after.iter().all(|s| (1..=60).contains(s)),
        "{retry_after:?}"
    );
    server.abort();
    if let Some(r) = redis.as_mut() {
        r.kill().ok();
        r.wait().ok();
    }
}

#[tokio::test]
async fn with_redis_unreachable_each_process_limits_alone() {
    let app = TestApp::spawn_with(|c| {
        c.http.rate_limit_per_minute = 3;
        c.http.rate_limit_redis_url = Some(Secret::new("redis://127.0.0.1:1/0"));
    })
    .await;
    let p: Creds = app.create_partner("solution_provider", None).await;
    for _ in 0..3 {
        app.signed(&p).get(BALANCES, "").await.ok();
    }
    let r = app.signed(&p).get(BALANCES, "").await;
    r.err(429, "CBC.0250");
    assert!(r.headers.contains_key("retry-after"), "{:?}", r.headers);
}
