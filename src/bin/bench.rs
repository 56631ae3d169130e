//! Funding benchmark: first the database's own ceilings with raw SQL (a two-row transfer on one hot
//! row, and spread over 100 partners), then the real HTTP API with SDK-style signed requests at 16
//! and 64 clients. Prints ops/s, p50/p99/p99.9 and the ratio to the matching ceiling, and ends with
//! the ledger audit. Uses a fresh database on the `DATABASE_URL` server (dropped at the end).
//!
//! `cargo run --release --bin bench -- [--seconds 5]` (always a release build: a debug build
//! measures the compiler's unoptimised code, not the database).

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use partner_center::{config::Config, signing, startup::Application};
use rand::Rng;
use serde_json::{json, Value};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};

const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

#[derive(Clone)]
struct Creds {
    id: String,
    ak: String,
    sk: String,
    xaccount_type: String,
}

struct Run {
    name: String,
    ops: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[i - 1].as_secs_f64() * 1000.0
    }
}

fn with_db(url: &str, db: &str) -> String {
    let (base, rest) = url.rsplit_once('/').expect("database URL has a path");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{db}{query}")
}

/// Runs `clients` workers for `secs`, each calling `op` in a loop.
async fn drive<F, Fut>(name: String, clients: usize, secs: u64, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (op, stop) = (op.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                if op(c).await {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("worker");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Run {
        name,
        ops: latencies.len(),
        errors,
        elapsed,
        latencies,
    }
}

/// The ceiling: one transaction moving 1 fen between two rows of a scratch table, the first row
/// chosen among `spread` "partner" rows (1 = one hot row). No ledger tables are touched.
async fn sql_ceiling(pool: &PgPool, clients: usize, spread: i64, secs: u64) -> Run {
    let pool = pool.clone();
    drive(
        format!("raw SQL transfer, {clients} clients, {spread} partner row(s)"),
        clients,
        secs,
        move |c| {
            let pool = pool.clone();
            async move {
                let from = if spread == 1 {
                    1
                } else {
                    rand::thread_rng().gen_range(1..=spread)
                };
                let to = 1000 + c as i64;
                let r = async {
                    let mut tx = pool.begin().await?;
                    sqlx::query("update bench_account set balance = balance - 1 where id = $1")
                        .bind(from)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("update bench_account set balance = balance + 1 where id = $1")
                        .bind(to)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await
                }
                .await;
                r.is_ok()
            }
        },
    )
    .await
}

struct Client {
    http: reqwest::Client,
    host: String,
}

impl Client {
    async fn signed_post(&self, creds: &Creds, path: &str, body: &Value) -> anyhow::Result<Value> {
        let body = body.to_string();
        let date = chrono::Utc::now().format(signing::DATE_FORMAT).to_string();
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), self.host.clone()),
            ("x-sdk-date".to_string(), date.clone()),
        ];
        let auth = signing::sign(
            &creds.ak,
            &creds.sk,
            "POST",
            path,
            "",
            &headers,
            body.as_bytes(),
        );
        let r = self
            .http
            .post(format!("http://{}{path}", self.host))
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", date)
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await?;
        anyhow::ensure!(status.is_success(), "{status}: {v}");
        Ok(v)
    }

    async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("http://{}{path}", self.host))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await?;
        anyhow::ensure!(status.is_success(), "{status}: {v}");
        Ok(v)
    }

    async fn partner(&self, name: &str) -> anyhow::Result<Creds> {
        let login = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let v = self
            .admin_post(
                "/admin/v1/partners",
                &json!({"name": name, "partner_type": "solution_provider", "login_name": login, "password": "Passw0rd!"}),
            )
            .await?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let creds = Creds {
            id: s("partner_id"),
            ak: s("access_key"),
            sk: s("secret_key"),
            xaccount_type: s("xaccount_type"),
        };
        self.admin_post(
            &format!("/admin/v1/partners/{}/deposits", creds.id),
            &json!({"amount": 100000000}),
        )
        .await?;
        Ok(creds)
    }

    async fn customer(&self, partner: &Creds) -> anyhow::Result<String> {
        let login = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let v = self
            .signed_post(
                partner,
                "/v2/partners/sub-customers",
                &json!({"xaccount_id": login, "xaccount_type": partner.xaccount_type, "domain_name": login}),
            )
            .await?;
        Ok(v["domain_id"].as_str().unwrap_or_default().to_string())
    }
}

/// HTTP funding: each client funds (0.01) a customer of the partner `partners[client % n]`.
async fn http_run(
    client: Arc<Client>,
    partners: Arc<Vec<(Creds, Vec<String>)>>,
    clients: usize,
    secs: u64,
) -> Run {
    let name = format!(
        "HTTP fund, {clients} clients, {} partner(s)",
        partners.len()
    );
    drive(name, clients, secs, move |c| {
        let (client, partners) = (client.clone(), partners.clone());
        async move {
            let (p, customers) = &partners[c % partners.len()];
            let customer = &customers[c % customers.len()];
            let r = client
                .signed_post(
                    p,
                    "/v2/accounts/partner-accounts/adjust-amount",
                    &json!({"customer_id": customer, "amount": 0.01}),
                )
                .await;
            if let Err(e) = &r {
                static SHOWN: AtomicBool = AtomicBool::new(false);
                if !SHOWN.swap(true, Ordering::Relaxed) {
                    eprintln!("first HTTP error: {e:#}");
                }
            }
            r.is_ok()
        }
    })
    .await
}

fn row(r: &Run, ceiling: Option<&Run>) -> String {
    format!(
        "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |",
        r.name,
        r.ops_per_sec(),
        r.pct(0.50),
        r.pct(0.99),
        r.pct(0.999),
        r.errors,
        ceiling.map_or("—".to_string(), |c| format!(
            "{:.0} %",
            100.0 * r.ops_per_sec() / c.ops_per_sec()
        )),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let server =
        std::env::var("DATABASE_URL").context("DATABASE_URL (a PostgreSQL server) is required")?;
    let db = format!(
        "pc_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut admin = PgConnection::connect(&with_db(&server, "postgres")).await?;
    sqlx::query(&format!("create database {db}"))
        .execute(&mut admin)
        .await?;
    let url = with_db(&server, &db);
    let result = bench(&url, secs).await;
    sqlx::query(&format!("drop database if exists {db} with (force)"))
        .execute(&mut admin)
        .await?;
    result
}

async fn bench(url: &str, secs: u64) -> anyhow::Result<()> {
    let mut config = Config::default();
    config.http.listen = "127.0.0.1:0".parse()?;
    config.admin.token = partner_center::config::Secret::new(ADMIN_TOKEN);
    config.database.max_connections = 32;
    // Flow control off: the bench measures the ledger, not the per-caller 429 budget.
    config.http.rate_limit_per_minute = 0;
    let app = Application::build(config, url, None).await?;
    let host = app.local_addr().to_string();
    let state = app.state();
    tokio::spawn(app.run_until(std::future::pending()));

    // 1. Ceilings with raw SQL on a scratch table.
    let pool = PgPoolOptions::new()
        .max_connections(64)
        .connect(url)
        .await?;
    sqlx::query("create table bench_account (id bigint primary key, balance bigint not null)")
        .execute(&pool)
        .await?;
    sqlx::query(
        "insert into bench_account select g, 1000000000 from generate_series(1, 100) g
                 union all select g, 0 from generate_series(1000, 1063) g",
    )
    .execute(&pool)
    .await?;
    let mut ceilings = Vec::new();
    for clients in [16, 64] {
        ceilings.push(sql_ceiling(&pool, clients, 1, secs).await);
        ceilings.push(sql_ceiling(&pool, clients, 100, secs).await);
    }

    // 2. The HTTP API.
    let client = Arc::new(Client {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(128)
            .build()?,
        host,
    });
    let hot = client.partner("hot partner").await?;
    let mut hot_customers = Vec::new();
    for _ in 0..64 {
        hot_customers.push(client.customer(&hot).await?);
    }
    let hot = Arc::new(vec![(hot, hot_customers)]);
    let mut spread = Vec::new();
    for i in 0..100 {
        let p = client.partner(&format!("partner {i}")).await?;
        let c = client.customer(&p).await?;
        spread.push((p, vec![c]));
    }
    let spread = Arc::new(spread);
    let mut runs = Vec::new();
    for clients in [16, 64] {
        runs.push((
            http_run(client.clone(), hot.clone(), clients, secs).await,
            1,
        ));
        runs.push((
            http_run(client.clone(), spread.clone(), clients, secs).await,
            100,
        ));
    }

    let report = partner_center::ledger::audit_snapshot(&state.db).await?;

    println!("| run | ops/s | p50 ms | p99 ms | p99.9 ms | errors | of ceiling |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for c in &ceilings {
        println!("{}", row(c, None));
    }
    for (r, spread) in &runs {
        let clients = if r.name.contains(" 16 ") { 16 } else { 64 };
        let ceiling = ceilings.iter().find(|c| {
            c.name.contains(&format!(" {clients} clients"))
                && c.name.contains(&format!(" {spread} partner"))
        });
        println!("{}", row(r, ceiling));
    }
    println!();
    println!(
        "ledger audit: ok = {}, {} journals, {} postings, {} accounts, violations: {:?}",
        report.ok, report.journals, report.postings, report.accounts, report.violations
    );
    anyhow::ensure!(report.ok, "the ledger audit failed");
    Ok(())
}
