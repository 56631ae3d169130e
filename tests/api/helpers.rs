//! Test harness: a real server on a fresh PostgreSQL database per test, a client that signs like the
//! official SDK, and an injectable clock.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, SubsecRound, Utc};
use partner_center::{
    config::{Config, Secret},
    signing,
    startup::Application,
    state::{AppState, ManualClock},
};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
/// The harness's own token key and secret-key encryption key (never the published development
/// values, which a server with `DATABASE_URL` refuses).
pub const TEST_TOKEN_KEY: &str = "partner-center-test-harness-token-key-0123456789";
pub const TEST_ENCRYPTION_KEY: &str = "cGFydG5lci1jZW50ZXItdGVzdC1oYXJuZXNzLWtleSE=";

/// The server URL tests create their databases on: `DATABASE_URL`, or the embedded cluster under
/// `target/test-pg` (started once, left running for later test binaries; scripts/test stops it).
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                return url;
            }
        }
        std::thread::spawn(|| {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-pg");
                let pg = partner_center::embedded_pg::EmbeddedPg::start(&dir, None)
                    .await
                    .expect("embedded PostgreSQL for tests");
                pg.url()
            })
        })
        .join()
        .unwrap()
    })
}

fn with_db(url: &str, db: &str) -> String {
    let (base, rest) = url.rsplit_once('/').expect("database URL has a path");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{db}{query}")
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected 200, got {}: {}",
            self.status, self.text
        );
        &self.body
    }

    /// Asserts the vendor's error body with this status and code.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.body["error_code"].as_str()),
            (status, Some(code)),
            "body: {}",
            self.text
        );
        assert!(
            self.body["error_msg"].is_string(),
            "error_msg missing: {}",
            self.text
        );
        assert!(
            self.headers.contains_key("x-request-id"),
            "X-Request-Id missing"
        );
    }

    pub fn msg(&self) -> &str {
        self.body["error_msg"].as_str().unwrap_or("")
    }
}

#[derive(Clone, Debug)]
pub struct Creds {
    pub id: String,
    pub ak: String,
    pub sk: String,
    pub login: String,
    pub password: String,
    pub xaccount_type: String,
}

pub struct TestApp {
    pub base: String,
    pub host: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub pool: PgPool,
    /// The running server's state (for calling services directly, e.g. background jobs).
    pub state: AppState,
    db_name: String,
    /// The PostgreSQL server URL the test database was created on.
    pg_server: String,
    server: tokio::task::JoinHandle<()>,
}

pub fn test_config() -> Config {
    let mut cfg = Config::default();
    cfg.http.listen = "127.0.0.1:0".parse().unwrap();
    cfg.admin.token = Secret::new(ADMIN_TOKEN);
    cfg.auth.token_key = Secret::new(TEST_TOKEN_KEY);
    cfg.auth.secret_encryption_key = Secret::new(TEST_ENCRYPTION_KEY);
    cfg.database.max_connections = 8;
    cfg
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(server_url(), tweak).await
    }

    /// Like [`TestApp::spawn_with`], with the test database on the PostgreSQL server at `url`.
    pub async fn spawn_on(url: &str, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db_name = format!("pc_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&with_db(url, "postgres"))
            .await
            .expect("connect");
        sqlx::query(&format!("create database {db_name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut cfg = test_config();
        tweak(&mut cfg);
        let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
        let db_url = with_db(url, &db_name);
        let app = Application::build(cfg, &db_url, Some(clock.clone()))
            .await
            .expect("build app");
        let addr = app.local_addr();
        let state = app.state();
        let pool = state.db.pool().clone();
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending()).await.ok();
        });
        TestApp {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            http: reqwest::Client::new(),
            clock,
            pool,
            state,
            db_name,
            pg_server: url.to_string(),
            server,
        }
    }

    /// The URL of this test's own database.
    pub fn db_url(&self) -> String {
        with_db(&self.pg_server, &self.db_name)
    }

    pub fn now(&self) -> DateTime<Utc> {
        use partner_center::state::Clock;
        self.clock.now()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        self.try_send(req).await.expect("request sent")
    }

    pub async fn try_send(&self, req: reqwest::RequestBuilder) -> Option<Resp> {
        let r = req.send().await.ok()?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Some(Resp {
            status,
            body,
            headers,
            text,
        })
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req).await
    }

    /// The ledger audit; panics with the violations unless it is clean.
    pub async fn assert_audit_ok(&self) {
        let r = self
            .admin(Method::GET, "/admin/v1/ledger/audit", None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["ok"], true, "ledger audit: {}", r.text);
    }

    /// The vendor deposits `amount` (a JSON number literal like `1000.00`) to a partner.
    pub async fn deposit(&self, partner: &Creds, amount: &str) -> Resp {
        let body: Value = serde_json::from_str(&format!(r#"{{"amount": {amount}}}"#)).unwrap();
        let r = self
            .admin(
                Method::POST,
                &format!("/admin/v1/partners/{}/deposits", partner.id),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r
    }

    pub async fn create_partner_with(&self, body: Value) -> Creds {
        let password = body["password"].as_str().unwrap().to_string();
        let r = self
            .admin(Method::POST, "/admin/v1/partners", Some(body))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        Creds {
            id: r.body["partner_id"].as_str().unwrap().into(),
            ak: r.body["access_key"].as_str().unwrap().into(),
            sk: r.body["secret_key"].as_str().unwrap().into(),
            login: r.body["login_name"].as_str().unwrap().into(),
            password,
            xaccount_type: r.body["xaccount_type"].as_str().unwrap().into(),
        }
    }

    /// A partner of the given type (`distributor_id` for resellers) with a unique login name.
    pub async fn create_partner(&self, partner_type: &str, distributor_id: Option<&str>) -> Creds {
        let login = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        self.create_partner_with(json!({
            "name": format!("Partner {login}"),
            "partner_type": partner_type,
            "distributor_id": distributor_id,
            "login_name": login,
            "password": "Passw0rd!",
        }))
        .await
    }

    /// Creates a sub-customer of `partner` (resale unless `cooperation_type` says "1") and gives it
    /// a password and an AK/SK.
    pub async fn create_customer(&self, partner: &Creds, extra: Value) -> Creds {
        let login = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let mut body = json!({
            "xaccount_id": login,
            "xaccount_type": partner.xaccount_type,
            "domain_name": login,
            "password": "Cust0mer!pw",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = self
            .signed(partner)
            .post("/v2/partners/sub-customers", &body)
            .await;
        let id = r.ok()["domain_id"].as_str().unwrap().to_string();
        let k = self
            .admin(
                Method::POST,
                &format!("/admin/v1/accounts/{id}/access-keys"),
                None,
            )
            .await;
        assert_eq!(k.status, 201, "{}", k.text);
        Creds {
            id,
            ak: k.body["access_key"].as_str().unwrap().into(),
            sk: k.body["secret_key"].as_str().unwrap().into(),
            login,
            password: "Cust0mer!pw".into(),
            xaccount_type: partner.xaccount_type.clone(),
        }
    }

    /// Signs like [`TestApp::signed`] but sends to another server (`host:port`).
    pub fn signed_at<'a>(&'a self, creds: &'a Creds, host: &'a str) -> Signed<'a> {
        Signed {
            app: self,
            creds,
            target: Some(host),
        }
    }

    pub fn signed<'a>(&'a self, creds: &'a Creds) -> Signed<'a> {
        Signed {
            app: self,
            creds,
            target: None,
        }
    }

    pub async fn token(&self, login: &str, password: &str) -> Resp {
        self.send(
            self.http
                .post(format!("{}/v3/auth/tokens", self.base))
                .json(&json!({
                    "auth": {"identity": {"methods": ["password"], "password": {"user": {
                        "name": login, "password": password, "domain": {"name": login}}}}}
                })),
        )
        .await
    }

    pub async fn with_token(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json");
        if let Some(b) = body {
            req = req.body(sdk_json(b));
        }
        self.send(req).await
    }
}

impl TestApp {
    /// The real binary on this test's database, with its own keys and `env` on top.
    pub async fn start_binary(&self, env: &[(&str, &str)]) -> (std::process::Child, String) {
        let app = self;
        let host = format!(
            "127.0.0.1:{}",
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        );
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_partner-center"));
        cmd.arg("serve")
            .env("DATABASE_URL", app.db_url())
            .env("PARTNER_CENTER__HTTP__LISTEN", &host)
            .env("PARTNER_CENTER__ADMIN__TOKEN", ADMIN_TOKEN)
            .env("PARTNER_CENTER__AUTH__TOKEN_KEY", TEST_TOKEN_KEY)
            .env(
                "PARTNER_CENTER__AUTH__SECRET_ENCRYPTION_KEY",
                TEST_ENCRYPTION_KEY,
            )
            .env("PARTNER_CENTER__DATABASE__MAX_CONNECTIONS", "8")
            .env("PARTNER_CENTER__LOG__LEVEL", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start partner-center");
        for _ in 0..200 {
            if let Ok(r) = app.http.get(format!("http://{host}/readyz")).send().await {
                if r.status().is_success() {
                    return (child, host);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        child.kill().ok();
        child.wait().ok();
        panic!("partner-center did not come up on {host}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        // The test's own runtime is blocked in this drop, so the aborted server task cannot hand
        // its connections back: do not wait for the pool; `with (force)` ends its sessions.
        let url = with_db(&self.pg_server, "postgres");
        let db = self.db_name.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let drop_db = async {
                    if let Ok(mut c) = PgConnection::connect(&url).await {
                        let _ = sqlx::query(&format!("drop database if exists {db} with (force)"))
                            .execute(&mut c)
                            .await;
                    }
                };
                let _ = tokio::time::timeout(std::time::Duration::from_secs(30), drop_db).await;
            });
        })
        .join()
        .ok();
    }
}

/// JSON serialised like the SDK does (`", "` and `": "` separators).
pub fn sdk_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push_str(": ");
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    write(v, &mut s);
    s
}

/// A client that signs every request with SDK-HMAC-SHA256, like the official SDK.
pub struct Signed<'a> {
    app: &'a TestApp,
    creds: &'a Creds,
    /// Another server (`host:port`) on the same database, e.g. the real binary.
    target: Option<&'a str>,
}

/// How to mangle a signed request (for negative tests).
#[derive(Default, Clone)]
pub struct Tamper {
    pub body: Option<String>,
    pub query: Option<String>,
    pub secret: Option<String>,
    pub drop_header: Option<&'static str>,
    pub date: Option<DateTime<Utc>>,
    pub domain_id: Option<String>,
    /// Extra headers sent but not signed (e.g. Idempotency-Key).
    pub headers: Vec<(&'static str, String)>,
}

impl Signed<'_> {
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.request(
            Method::POST,
            path,
            "",
            Some(sdk_json(body)),
            Tamper::default(),
        )
        .await
    }

    /// POST with an `Idempotency-Key`.
    pub async fn post_idem(&self, path: &str, body: &Value, key: &str) -> Resp {
        let t = Tamper {
            headers: vec![("Idempotency-Key", key.to_string())],
            ..Default::default()
        };
        self.request(Method::POST, path, "", Some(sdk_json(body)), t)
            .await
    }

    pub async fn get(&self, path: &str, query: &str) -> Resp {
        self.request(Method::GET, path, query, None, Tamper::default())
            .await
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<String>,
        t: Tamper,
    ) -> Resp {
        self.app
            .send(self.build(method, path, query, body, t))
            .await
    }

    /// POST that tolerates a server that is gone (`None` instead of a panic).
    pub async fn try_post(&self, path: &str, body: &Value) -> Option<Resp> {
        let req = self.build(
            Method::POST,
            path,
            "",
            Some(sdk_json(body)),
            Tamper::default(),
        );
        self.app.try_send(req).await
    }

    /// The signed request, unsent (e.g. to read a streamed body chunk by chunk).
    pub fn build(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<String>,
        t: Tamper,
    ) -> reqwest::RequestBuilder {
        let date = t.date.unwrap_or_else(|| self.app.now());
        let sdk_date = date.format(signing::DATE_FORMAT).to_string();
        let host = self.target.unwrap_or(&self.app.host);
        let domain_id = t.domain_id.clone().unwrap_or_else(|| self.creds.id.clone());
        let headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host.to_string()),
            ("user-agent".into(), "huaweicloud-usdk-python/3.0".into()),
            ("x-domain-id".into(), domain_id),
            ("x-sdk-date".into(), sdk_date),
        ];
        let body = body.unwrap_or_default();
        let secret = t.secret.clone().unwrap_or_else(|| self.creds.sk.clone());
        let auth = signing::sign(
            &self.creds.ak,
            &secret,
            method.as_str(),
            path,
            query,
            &headers,
            body.as_bytes(),
        );
        let sent_query = t.query.clone().unwrap_or_else(|| query.to_string());
        let url = if sent_query.is_empty() {
            format!("http://{host}{path}")
        } else {
            format!("http://{host}{path}?{sent_query}")
        };
        let mut req = self
            .app
            .http
            .request(method, url)
            .header("Authorization", auth);
        for (k, v) in &headers {
            if k == "host" || Some(k.as_str()) == t.drop_header {
                continue;
            }
            req = req.header(k.as_str(), v.as_str());
        }
        for (k, v) in &t.headers {
            req = req.header(*k, v.as_str());
        }
        let sent_body = t.body.clone().unwrap_or(body);
        if !sent_body.is_empty() {
            req = req.body(sent_body);
        }
        req
    }
}

/// Customer authorisations and assume-role tokens (issue 10).
impl TestApp {
    /// The partner asks `customer` for an authorisation of `scope` (`order` |
    /// `order_and_resource`) and the customer approves it; returns the authorisation id.
    pub async fn authorize(&self, partner: &Creds, customer: &Creds, scope: &str) -> String {
        let r = self
            .signed(partner)
            .post(
                "/v2/partners/sub-customers/authorizations",
                &json!({"customer_id": customer.id, "scope": scope, "reason": "orders for you"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["authorization_id"].as_str().unwrap().to_string();
        let a = self
            .signed(customer)
            .post(
                &format!("/v2/customers/authorizations/{id}/approve"),
                &json!({}),
            )
            .await;
        assert_eq!(a.ok()["status"], "APPROVED");
        id
    }

    /// `POST /v3/auth/tokens` with the `assume_role` method, signed with the partner's AK/SK.
    pub async fn assume_role(&self, partner: &Creds, customer_id: &str) -> Resp {
        self.signed(partner)
            .post(
                "/v3/auth/tokens",
                &json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
                    "domain_id": customer_id, "agency_name": "partner-agency"}}}}),
            )
            .await
    }

    /// An assume-role token acting as `customer` for `partner`: asks for an
    /// `order_and_resource` authorisation, has the customer approve it and assumes the role.
    /// Requests made with it name the partner as the actor.
    pub async fn assume_role_token(&self, partner: &Creds, customer: &Creds) -> String {
        self.authorize(partner, customer, "order_and_resource")
            .await;
        let r = self.assume_role(partner, &customer.id).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.headers["x-subject-token"].to_str().unwrap().to_string()
    }
}

/// The movable sandbox clock (issue 10, part 5).
impl TestApp {
    /// A server with `sandbox.clock = true` (and `dev = true`, which it requires); the harness's
    /// [`ManualClock`] is the clock below it.
    pub async fn spawn_sandbox() -> TestApp {
        Self::spawn_with(|c| {
            c.dev = true;
            c.sandbox.clock = true;
        })
        .await
    }

    /// `POST /admin/v1/clock {"advance_seconds": seconds}`: every time-driven rule has run for
    /// the time passed when it returns; the answer (`now`, `offset_seconds`, `steps`, `rules`).
    pub async fn advance_sandbox_clock(&self, seconds: i64) -> Value {
        let r = self
            .admin(
                Method::POST,
                "/admin/v1/clock",
                Some(json!({"advance_seconds": seconds})),
            )
            .await;
        r.ok().clone()
    }
}
