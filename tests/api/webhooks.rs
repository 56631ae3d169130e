//! Webhooks: endpoints, signed deliveries to a receiver on 127.0.0.1, the retry schedule, two
//! replicas, redelivery, disabling, SSRF refusals and the metrics.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
    Router,
};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::Mac;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Tamper, TestApp};

const HOOKS: &str = "/v2/partners/webhooks";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Inbox {
    got: Mutex<Vec<Received>>,
    /// Statuses to answer, in order; then 200.
    script: Mutex<VecDeque<u16>>,
}

/// A webhook receiver on 127.0.0.1.
pub struct Receiver {
    pub url: String,
    inbox: Arc<Inbox>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    inbox.got.lock().unwrap().push(Received {
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: body.to_vec(),
    });
    let status = inbox.script.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Receiver {
        let inbox = Arc::new(Inbox::default());
        inbox.script.lock().unwrap().extend(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(inbox.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.ok();
        });
        Receiver { url, inbox, task }
    }

    pub fn got(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (panics after 20 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..2000 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        panic!("expected {n} webhook requests, got {:?}", self.got());
    }
}

/// A server that may deliver to 127.0.0.1 and polls often.
pub async fn dev_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll_interval_ms = 20;
    })
    .await
}

pub async fn register(app: &TestApp, p: &Creds, body: Value) -> (String, String) {
    let r = app.signed(p).post(HOOKS, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.body["endpoint_id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    )
}

/// Checks a delivery's signature like a receiver would (Standard Webhooks).
pub fn verify(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

fn body_of(r: &Received) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

async fn freeze(app: &TestApp, p: &Creds, c: &Creds, on: bool) {
    let path = if on { "freeze" } else { "unfreeze" };
    app.signed(p)
        .post(
            &format!("/v2/partners/sub-customers/{path}"),
            &json!({"customer_ids": [c.id], "reason": "test"}),
        )
        .await
        .ok();
}

async fn attempts(app: &TestApp, p: &Creds, endpoint: &str) -> Vec<Value> {
    let r = app
        .signed(p)
        .get(&format!("{HOOKS}/{endpoint}/attempts"), "limit=100")
        .await;
    r.ok()["attempts"].as_array().unwrap().clone()
}

async fn wait_attempts(app: &TestApp, p: &Creds, endpoint: &str, n: usize) -> Vec<Value> {
    for _ in 0..2000 {
        let a = attempts(app, p, endpoint).await;
        if a.len() >= n {
            return a;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("expected {n} attempts");
}

/// The `/metrics` text once it contains `needle` (the counters move just after the commit).
async fn wait_metric(app: &TestApp, needle: &str) -> String {
    let mut m = String::new();
    for _ in 0..500 {
        m = app
            .send(app.http.get(format!("{}/metrics", app.base)))
            .await
            .text;
        if m.contains(needle) {
            return m;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("/metrics never showed {needle}: {m}");
}

async fn next_due(app: &TestApp) -> DateTime<Utc> {
    let due: Option<DateTime<Utc>> = sqlx::query_scalar(
        "select min(next_attempt_at) from webhook_delivery where status = 'pending'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    due.expect("a pending delivery")
}

#[tokio::test]
async fn a_receiver_on_loopback_gets_each_event_once_signed_and_redelivery_sends_it_again() {
    let app = dev_app().await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[]).await;
    let (ep, secret) = register(
        &app,
        &p,
        json!({"url": rx.url, "types": ["customer.frozen", "customer.unfrozen"], "description": "crm"}),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let c = app.create_customer(&p, json!({})).await; // customer.associated: not subscribed
    freeze(&app, &p, &c, true).await;
    freeze(&app, &p, &c, false).await;
    let got = rx.wait_for(2).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    let got_later = rx.got();
    assert_eq!(got_later.len(), 2, "each event once: {got_later:?}");
    let mut types = Vec::new();
    for r in &got {
        assert!(verify(&secret, r), "signature of {r:?}");
        assert!(!verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", r));
        let b = body_of(r);
        assert_eq!(b["event_id"], r.id.as_str());
        assert_eq!(r.timestamp, app.now().timestamp().to_string());
        types.push(b["type"].as_str().unwrap().to_string());
    }
    assert_eq!(types, ["customer.frozen", "customer.unfrozen"]);
    // The same event as the feed shows.
    let feed = crate::events::wait_events(&app, &p, "customer.frozen", 1).await;
    assert_eq!(feed[0], body_of(&got[0]));

    // The attempts list.
    let list = wait_attempts(&app, &p, &ep, 2).await;
    assert_eq!(list[0]["status"], "succeeded");
    assert_eq!(list[0]["response_code"], 200);
    assert!(list[0]["duration_ms"].as_i64().unwrap() >= 0);
    assert!(list[0]["next_attempt_at"].is_null());

    // Redelivery of the first event: a new request with the same webhook-id.
    let r = app
        .signed(&p)
        .post(
            &format!("{HOOKS}/{ep}/events/{}/redeliver", got[0].id),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let again = rx.wait_for(3).await;
    assert_eq!(again[2].id, got[0].id);
    assert_eq!(again[2].body, got[0].body);
    assert!(verify(&secret, &again[2]));
    // Unknown events and another partner's endpoint are refused.
    app.signed(&p)
        .post(
            &format!("{HOOKS}/{ep}/events/evt_nope/redeliver"),
            &json!({}),
        )
        .await
        .err(400, "CBC.99000047");
    let other = app.create_partner("solution_provider", None).await;
    app.signed(&other)
        .get(&format!("{HOOKS}/{ep}"), "")
        .await
        .err(400, "CBC.99000047");

    // Rotation: later deliveries verify with the new secret only.
    let rot = app
        .signed(&p)
        .post(&format!("{HOOKS}/{ep}/rotate-secret"), &json!({}))
        .await;
    let new_secret = rot.ok()["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    freeze(&app, &p, &c, true).await;
    let got = rx.wait_for(4).await;
    assert!(verify(&new_secret, &got[3]));
    assert!(!verify(&secret, &got[3]));

    // /metrics: attempts by outcome and the oldest undelivered age.
    wait_attempts(&app, &p, &ep, 4).await;
    let m = wait_metric(&app, "webhook_attempts_total{outcome=\"succeeded\"} 4").await;
    assert!(m.contains("webhook_oldest_undelivered_seconds 0"), "{m}");
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt_at_the_documented_backoff(
) {
    let app = dev_app().await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[500, 500, 503]).await;
    let (ep, secret) = register(&app, &p, json!({"url": rx.url})).await;
    let created = app.now();
    app.create_customer(&p, json!({})).await;
    rx.wait_for(1).await;
    // The schedule: 5 s, then 5 min, then 30 min (each ±10%).
    for (attempt, nominal) in [(1usize, 5i64), (2, 300), (3, 1800)] {
        let list = wait_attempts(&app, &p, &ep, attempt).await;
        assert_eq!(list[0]["status"], "failed");
        assert_eq!(list[0]["attempt"], attempt);
        assert!(list[0]["response_code"].as_i64().unwrap() >= 500);
        let due = next_due(&app).await;
        let delay = (due - app.now()).num_milliseconds() as f64 / 1000.0;
        let n = nominal as f64;
        assert!(
            (0.9 * n..=1.1 * n).contains(&delay),
            "attempt {attempt}: retry after {delay} s, nominal {n} s"
        );
        // Not before it is due...
        app.clock.set(due - Duration::milliseconds(500));
        tokio::time::sleep(StdDuration::from_millis(150)).await;
        assert_eq!(rx.got().len(), attempt, "no attempt before it is due");
        let m = app
            .send(app.http.get(format!("{}/metrics", app.base)))
            .await
            .text;
        let age = (app.now() - created).num_seconds();
        assert!(
            m.contains(&format!("webhook_oldest_undelivered_seconds {age}")),
            "{m}"
        );
        // ...and then at once.
        app.clock.set(due);
        rx.wait_for(attempt + 1).await;
    }
    let got = rx.got();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.id == got[0].id));
    assert!(verify(&secret, &got[3]));
    let list = wait_attempts(&app, &p, &ep, 4).await;
    let statuses: Vec<&str> = list.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["succeeded", "failed", "failed", "failed"]);
    let status: String = sqlx::query_scalar("select status from webhook_delivery")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "succeeded");
    wait_metric(
        &app,
        "webhook_attempts_total{outcome=\"failed_will_retry\"} 3",
    )
    .await;
}

#[tokio::test]
async fn a_delivery_is_failed_after_the_last_attempt_and_an_endpoint_failing_for_five_days_is_disabled(
) {
    let app = dev_app().await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[500; 64]).await;
    let (ep, _) = register(
        &app,
        &p,
        json!({"url": rx.url, "types": ["customer.associated"]}),
    )
    .await;
    let rx_watcher = Receiver::start(&[]).await;
    let (watcher, _) = register(
        &app,
        &p,
        json!({"url": rx_watcher.url, "types": ["webhook_endpoint.disabled"]}),
    )
    .await;
    let start = app.now();
    app.create_customer(&p, json!({})).await;
    // Eight attempts over less than 24 hours, then the delivery is failed.
    for n in 1..=8 {
        rx.wait_for(n).await;
        wait_attempts(&app, &p, &ep, n).await;
        if n < 8 {
            let due = next_due(&app).await;
            assert!(due <= start + Duration::hours(24));
            app.clock.set(due);
        }
    }
    let list = wait_attempts(&app, &p, &ep, 8).await;
    assert!(list[0]["next_attempt_at"].is_null());
    let status: String = sqlx::query_scalar("select status from webhook_delivery")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "failed");
    let hook = app.signed(&p).get(&format!("{HOOKS}/{ep}"), "").await;
    assert_eq!(hook.ok()["enabled"], true);
    assert!(hook.body["failing_since"].is_string());

    // Five days after the first failure, another failure disables the endpoint, with an event.
    app.clock.set(start + Duration::days(5));
    app.create_customer(&p, json!({})).await;
    rx.wait_for(9).await;
    wait_attempts(&app, &p, &ep, 9).await;
    let hook = app.signed(&p).get(&format!("{HOOKS}/{ep}"), "").await;
    assert_eq!(hook.ok()["enabled"], false, "{}", hook.text);
    assert!(hook.body["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("5 days"));
    let feed = crate::events::wait_events(&app, &p, "webhook_endpoint.disabled", 1).await;
    let ev = &feed[0];
    assert_eq!(ev["data"]["endpoint_id"], ep.as_str());
    // The watcher endpoint was told.
    let told = rx_watcher.wait_for(1).await;
    assert_eq!(body_of(&told[0])["type"], "webhook_endpoint.disabled");
    assert_eq!(
        wait_attempts(&app, &p, &watcher, 1).await[0]["status"],
        "succeeded"
    );
    // A disabled endpoint gets nothing; enabling it again resumes.
    app.create_customer(&p, json!({})).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(attempts(&app, &p, &ep).await.len(), 9);
    let upd = app
        .signed(&p)
        .request(
            Method::PUT,
            &format!("{HOOKS}/{ep}"),
            "",
            Some(json!({"enabled": true}).to_string()),
            Tamper::default(),
        )
        .await;
    assert_eq!(upd.ok()["enabled"], true);
    assert!(upd.body.get("failing_since").is_none());
    app.clock.set(next_due(&app).await);
    wait_attempts(&app, &p, &ep, 10).await;
}

#[tokio::test]
async fn two_server_replicas_deliver_each_attempt_once() {
    let app = dev_app().await;
    let mut cfg = crate::helpers::test_config();
    cfg.webhooks.allow_private_targets = true;
    cfg.webhooks.poll_interval_ms = 10;
    let replica =
        partner_center::startup::Application::build(cfg, &app.db_url(), Some(app.clock.clone()))
            .await
            .unwrap();
    let replica_host = replica.local_addr().to_string();
    let replica_task = tokio::spawn(async move {
        replica.run_until(std::future::pending()).await.ok();
    });
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[]).await;
    let (ep, secret) = register(&app, &p, json!({"url": rx.url})).await;
    let rx2 = Receiver::start(&[]).await;
    let (ep2, _) = register(&app, &p, json!({"url": rx2.url})).await;
    // 60 events, written through both servers.
    for i in 0..30 {
        app.create_customer(&p, json!({})).await;
        let login = format!("r{i}{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let r = app
            .signed_at(&p, &replica_host)
            .post(
                "/v2/partners/sub-customers",
                &json!({"xaccount_id": login, "xaccount_type": p.xaccount_type, "domain_name": login}),
            )
            .await;
        r.ok();
    }
    let got = rx.wait_for(60).await;
    rx2.wait_for(60).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    for (rx, ep) in [(&rx, &ep), (&rx2, &ep2)] {
        let got = rx.got();
        let mut per_id: HashMap<&str, usize> = HashMap::new();
        for r in &got {
            *per_id.entry(r.id.as_str()).or_default() += 1;
        }
        assert_eq!(got.len(), 60, "each attempt sent once");
        assert_eq!(per_id.len(), 60);
        let n: i64 =
            sqlx::query_scalar("select count(*) from webhook_attempt where endpoint_id = $1")
                .bind(ep)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(n, 60);
    }
    assert!(got.iter().all(|r| verify(&secret, r)));
    replica_task.abort();
}

#[tokio::test]
async fn private_loopback_and_link_local_urls_are_refused_at_registration_and_at_delivery() {
    let app = TestApp::spawn_with(|c| c.webhooks.poll_interval_ms = 20).await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[]).await;
    for url in [
        rx.url.as_str(),
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "http://93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
        "https://user:pw@93.184.216.34/hook",
        "not a url",
    ] {
        let r = app.signed(&p).post(HOOKS, &json!({"url": url})).await;
        r.err(400, "CBC.0100");
        assert!(r.msg().contains("url"), "{url}: {}", r.msg());
    }
    app.signed(&p)
        .post(
            HOOKS,
            &json!({"url": "https://93.184.216.34/hook", "types": ["nope"]}),
        )
        .await
        .err(400, "CBC.0100");
    // A public address passes; if it later points at loopback (as a changed DNS record would),
    // the delivery is refused and the receiver gets nothing.
    let (ep, _) = register(&app, &p, json!({"url": "https://93.184.216.34/hook"})).await;
    sqlx::query("update webhook_endpoint set url = $1 where id = $2")
        .bind(&rx.url)
        .bind(&ep)
        .execute(&app.pool)
        .await
        .unwrap();
    app.create_customer(&p, json!({})).await;
    let list = wait_attempts(&app, &p, &ep, 1).await;
    assert_eq!(list[0]["status"], "failed");
    assert!(list[0]["response_code"].is_null());
    let err = list[0]["error"].as_str().unwrap();
    assert!(err.contains("http"), "{err}");
    sqlx::query("update webhook_endpoint set url = 'https://127.0.0.1:1/hook' where id = $1")
        .bind(&ep)
        .execute(&app.pool)
        .await
        .unwrap();
    app.clock.set(next_due(&app).await);
    let list = wait_attempts(&app, &p, &ep, 2).await;
    let err = list[0]["error"].as_str().unwrap();
    assert!(
        err.contains("refused") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(rx.got().is_empty());
}

#[tokio::test]
async fn endpoints_are_listed_changed_and_deleted_by_the_main_account_only() {
    let app = dev_app().await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[]).await;
    let (ep, _) = register(&app, &p, json!({"url": rx.url})).await;
    let (ep2, _) = register(
        &app,
        &p,
        json!({"url": rx.url, "enabled": false, "types": ["customer.frozen"]}),
    )
    .await;
    let list = app.signed(&p).get(HOOKS, "limit=10").await;
    let b = list.ok();
    assert_eq!(b["total_count"], 2);
    let listed = b["endpoints"].as_array().unwrap();
    let second = listed
        .iter()
        .find(|e| e["endpoint_id"] == ep2.as_str())
        .unwrap();
    assert_eq!(second["enabled"], false);
    assert_eq!(second["types"], json!(["customer.frozen"]));
    assert!(listed.iter().any(|e| e["endpoint_id"] == ep.as_str()));
    assert!(
        listed.iter().all(|e| e.get("secret").is_none()),
        "secret shown once"
    );
    let upd = app
        .signed(&p)
        .request(
            Method::PUT,
            &format!("{HOOKS}/{ep2}"),
            "",
            Some(json!({"types": [], "description": "all"}).to_string()),
            Tamper::default(),
        )
        .await;
    assert_eq!(upd.ok()["types"], json!([]));
    assert_eq!(upd.body["description"], "all");
    assert_eq!(upd.body["enabled"], false);
    // A disabled endpoint gets no deliveries; nor can it redeliver.
    let c = app.create_customer(&p, json!({})).await;
    rx.wait_for(1).await;
    let del = app
        .signed(&p)
        .request(
            Method::DELETE,
            &format!("{HOOKS}/{ep}"),
            "",
            None,
            Tamper::default(),
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.text);
    app.signed(&p)
        .get(&format!("{HOOKS}/{ep}"), "")
        .await
        .err(400, "CBC.99000047");
    freeze(&app, &p, &c, true).await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(rx.got().len(), 1);
    // Operators may not manage webhooks; customers neither.
    let (op, _) =
        crate::events::operator(&app, &p, &["event:read", "customer:manage"], "staff").await;
    app.signed(&op).get(HOOKS, "").await.err(403, "CBC.0151");
    app.signed(&op)
        .post(HOOKS, &json!({"url": rx.url}))
        .await
        .err(403, "CBC.0151");
    app.signed(&c).get(HOOKS, "").await.err(403, "CBC.0151");
    let bad = app
        .signed(&p)
        .post(
            HOOKS,
            &json!({"url": rx.url, "description": "x".repeat(257)}),
        )
        .await;
    bad.err(400, "CBC.0100");
}

/// Run by `scripts/webhook-verify` (it installs the Standard Webhooks Python package into
/// `target/webhook-venv` and sets WEBHOOK_VERIFY_PYTHON): the package's `Webhook.verify` accepts
/// a real delivery and rejects a tampered one.
#[tokio::test]
#[ignore = "needs the standardwebhooks Python package: run scripts/webhook-verify"]
async fn the_standard_webhooks_python_package_verifies_a_delivery() {
    let python = std::env::var("WEBHOOK_VERIFY_PYTHON")
        .expect("WEBHOOK_VERIFY_PYTHON: a python with the standardwebhooks package");
    let app = dev_app().await;
    let p = app.create_partner("solution_provider", None).await;
    let rx = Receiver::start(&[]).await;
    let (_, secret) = register(&app, &p, json!({"url": rx.url})).await;
    app.create_customer(&p, json!({})).await;
    let got = rx.wait_for(1).await;
    let r = &got[0];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/webhook_verify.py");
    let run = |body: &[u8]| {
        let dir = std::env::temp_dir().join(format!("whv-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&dir, body).unwrap();
        let out = std::process::Command::new(&python)
            .arg(script)
            .arg(&secret)
            .arg(&r.id)
            .arg(&r.timestamp)
            .arg(&r.signature)
            .arg(&dir)
            .output()
            .expect("python runs");
        std::fs::remove_file(&dir).ok();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = run(&r.body);
    assert!(ok, "standardwebhooks rejected a genuine delivery: {out}");
    assert!(out.contains("verified"), "{out}");
    let mut tampered = r.body.clone();
    tampered.push(b' ');
    let (ok, out) = run(&tampered);
    assert!(!ok, "standardwebhooks accepted a tampered body: {out}");
}
