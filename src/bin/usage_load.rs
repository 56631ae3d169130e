//! Usage-ingestion benchmark client (issue 8, scope 8), run by `scripts/bench-usage` against a
//! separately started server on a fresh database:
//!
//! 1. the ceiling: raw `INSERT … SELECT generate_series` of the same number of equivalent
//!    fee-record rows into a scratch copy of `fee_record` (same partitions, indexes and checks),
//!    as one statement and as 16 connections × 1,000-row statements;
//! 2. ingestion over HTTP: 16 concurrent callers posting batches of 1,000 usage records to
//!    `POST /admin/v1/usage-records` (each caller meters its own 4 of 64 customers; records are
//!    paid from cash through the ledger), records/s and the ratio to the better ceiling;
//! 3. p50/p99 over HTTP (signed like the SDK) of `show_customer_monthly_sum`,
//!    `list_subcustomer_monthly_bills` and `list_sub_customer_bill_detail` (first page and a
//!    filtered page) with every fee record in the database;
//! 4. the plans PostgreSQL really runs for those queries: the library's own query code
//!    (`db::bills`) on a connection with `auto_explain` (analyze on), executed 8 times on one
//!    connection so a switch to a generic plan after the 5th run shows (`$n` in the plan).
//!
//! `usage_load --server 127.0.0.1:PORT --db URL --admin-token T [--records N] [--callers 16]`

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use anyhow::{ensure, Context};
use chrono::{DateTime, Duration as Span, NaiveDate, Utc};
use partner_center::{
    db::bills::{self, DetailFilter, PartnerScope, SumFilter, TextFilter},
    service::usage::bill_cycle,
    signing,
};
use serde_json::{json, Value};
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};

const BATCH: usize = 1_000;
const CUSTOMERS: usize = 64;
/// Cycles the records spread over (this month and the two before).
const CYCLES: usize = 3;

struct Args {
    server: String,
    db: String,
    admin_token: String,
    records: usize,
    callers: usize,
    samples: usize,
    /// Top the database up to this many fee records (zero-payable copies, see [`fill`]).
    fill_to: usize,
}

fn args() -> anyhow::Result<Args> {
    let a: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        a.iter()
            .position(|x| x == k)
            .and_then(|i| a.get(i + 1))
            .cloned()
    };
    Ok(Args {
        server: get("--server").context("--server HOST:PORT")?,
        db: get("--db").context("--db DATABASE_URL")?,
        admin_token: get("--admin-token").context("--admin-token")?,
        records: get("--records").map_or(Ok(1_000_000), |s| s.parse())?,
        callers: get("--callers").map_or(Ok(16), |s| s.parse())?,
        samples: get("--samples").map_or(Ok(200), |s| s.parse())?,
        fill_to: get("--fill-to").map_or(Ok(0), |s| s.parse())?,
    })
}

#[derive(Clone)]
struct Creds {
    id: String,
    ak: String,
    sk: String,
}

struct Http {
    client: reqwest::Client,
    host: String,
    admin_token: String,
}

impl Http {
    async fn admin(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let r = self
            .client
            .post(format!("http://{}{path}", self.host))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await?;
        ensure!(status.is_success(), "{path}: {status}: {v}");
        Ok(v)
    }

    async fn signed(
        &self,
        c: &Creds,
        method: &str,
        path: &str,
        query: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let date = Utc::now().format(signing::DATE_FORMAT).to_string();
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), self.host.clone()),
            ("x-sdk-date".to_string(), date.clone()),
        ];
        let auth = signing::sign(&c.ak, &c.sk, method, path, query, &headers, body.as_bytes());
        let url = if query.is_empty() {
            format!("http://{}{path}", self.host)
        } else {
            format!("http://{}{path}?{query}", self.host)
        };
        let mut req = self
            .client
            .request(method.parse()?, url)
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .header("X-Sdk-Date", date);
        if !body.is_empty() {
            req = req.body(body);
        }
        let r = req.send().await?;
        let status = r.status();
        let v: Value = r.json().await?;
        ensure!(status.is_success(), "{path}: {status}: {v}");
        Ok(v)
    }
}

struct World {
    partner: Creds,
    customers: Vec<String>,
    /// Customer 0 with an AK/SK (the customer-side queries).
    own: Creds,
    ecs: String,
    obs: String,
}

fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

async fn product(
    http: &Http,
    pool: &PgPool,
    service: &str,
    resource: &str,
    usage_type: &str,
    measure: i32,
    price: &str,
) -> anyhow::Result<String> {
    let id = format!("bench-{}", suffix());
    http.admin(
        "/admin/v1/products",
        &json!({"product_id": id, "cloud_service_type": service, "name": format!("Bench {id}"),
                "resource_type_code": resource}),
    )
    .await?;
    // Until the catalogue admin takes prices (as tests/api/consumption.rs does).
    sqlx::query("update product set resource_type_code = $2 where id = $1")
        .bind(&id)
        .bind(resource)
        .execute(pool)
        .await?;
    sqlx::query(
        "insert into on_demand_price (product_id, usage_type, usage_measure_id, unit_price)
         values ($1, $2, $3, $4::numeric) on conflict do nothing",
    )
    .bind(&id)
    .bind(usage_type)
    .bind(measure)
    .bind(price)
    .execute(pool)
    .await?;
    Ok(id)
}

async fn setup(http: &Http, pool: &PgPool, records: usize) -> anyhow::Result<World> {
    let login = format!("b{}", suffix());
    let v = http
        .admin(
            "/admin/v1/partners",
            &json!({"name": "Usage bench", "partner_type": "solution_provider",
                    "login_name": login, "password": "Passw0rd!"}),
        )
        .await?;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let partner = Creds {
        id: s("partner_id"),
        ak: s("access_key"),
        sk: s("secret_key"),
    };
    let xaccount_type = s("xaccount_type");
    // Every record costs 1 fen; each customer gets enough cash for its share and a margin.
    let per_customer = (records / CUSTOMERS / 100 + 10) as i64;
    http.admin(
        &format!("/admin/v1/partners/{}/deposits", partner.id),
        &json!({"amount": per_customer * CUSTOMERS as i64 + 100}),
    )
    .await?;
    let mut customers = Vec::new();
    for _ in 0..CUSTOMERS {
        let login = format!("c{}", suffix());
        let v = http
            .signed(
                &partner,
                "POST",
                "/v2/partners/sub-customers",
                "",
                Some(
                    &json!({"xaccount_id": login, "xaccount_type": xaccount_type,
                             "domain_name": login}),
                ),
            )
            .await?;
        let id = v["domain_id"].as_str().context("domain_id")?.to_string();
        http.signed(
            &partner,
            "POST",
            "/v2/accounts/partner-accounts/adjust-amount",
            "",
            Some(&json!({"customer_id": id, "amount": per_customer})),
        )
        .await?;
        customers.push(id);
    }
    let k = http
        .admin(
            &format!("/admin/v1/accounts/{}/access-keys", customers[0]),
            &json!({}),
        )
        .await?;
    let own = Creds {
        id: customers[0].clone(),
        ak: k["access_key"].as_str().context("access_key")?.into(),
        sk: k["secret_key"].as_str().context("secret_key")?.into(),
    };
    let ecs = product(
        http,
        pool,
        "hws.service.type.ec2",
        "hws.resource.type.vm",
        "duration",
        4,
        "0.01",
    )
    .await?;
    let obs = product(
        http,
        pool,
        "hws.service.type.obs",
        "hws.resource.type.obs",
        "obs_storage",
        17,
        "0.0001",
    )
    .await?;
    Ok(World {
        partner,
        customers,
        own,
        ecs,
        obs,
    })
}

/// The begin time of record `i`: an hour ago, a month earlier, two months earlier.
fn begin_of(now: DateTime<Utc>, i: usize) -> DateTime<Utc> {
    now - Span::hours(1) - Span::days(31 * (i % CYCLES) as i64)
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A batch of caller `c`: records `first..first+BATCH`, over the caller's 4 customers, both
/// products, 3 cycles and 1,000 resources. Every record is payable 0.01.
fn batch(
    w: &World,
    run: &str,
    c: usize,
    callers: usize,
    first: usize,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::with_capacity(BATCH * 400);
    out.push_str(r#"{"records": ["#);
    for i in first..first + BATCH {
        if i > first {
            out.push(',');
        }
        let per_caller = CUSTOMERS / callers.max(1);
        let customer = &w.customers[(c + callers * (i % per_caller.max(1))) % CUSTOMERS];
        let begin = begin_of(now, i);
        let (product, usage_type, usage, measure) = if i % 2 == 0 {
            (&w.ecs, "duration", "1", 4)
        } else {
            (&w.obs, "obs_storage", "100", 17)
        };
        out.push_str(&format!(
            r#"{{"event_id": "{run}-{i}", "customer_id": "{customer}", "product_id": "{product}",
"usage_type": "{usage_type}", "usage": {usage}, "usage_measure_id": {measure},
"resource_id": "res-{}", "resource_name": "resource {}", "region_code": "cn-north-1",
"begin_time": "{}", "end_time": "{}"}}"#,
            i % 1000,
            i % 1000,
            ts(begin),
            ts(begin + Span::hours(1)),
        ));
    }
    out.push_str("]}");
    out
}

async fn ingest(
    http: Arc<Http>,
    w: Arc<World>,
    records: usize,
    callers: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let run = format!("ev{}", suffix());
    let next = Arc::new(AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let now = Utc::now();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..callers {
        let (http, w, next, lat, run) = (
            http.clone(),
            w.clone(),
            next.clone(),
            lat.clone(),
            run.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let first = next.fetch_add(BATCH, Ordering::Relaxed);
                if first >= records {
                    return anyhow::Ok(());
                }
                let body = batch(&w, &run, c, callers, first, now);
                let t = Instant::now();
                let r = http
                    .client
                    .post(format!("http://{}/admin/v1/usage-records", http.host))
                    .bearer_auth(&http.admin_token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let status = r.status();
                let v: Value = r.json().await?;
                lat.lock().unwrap().push(t.elapsed());
                ensure!(status.is_success(), "ingest: {status}: {v}");
                let results = v["results"].as_array().context("results")?;
                let charged = results.iter().filter(|r| r["status"] == "charged").count();
                ensure!(
                    charged == BATCH,
                    "only {charged} of {BATCH} charged: {}",
                    results[0]
                );
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut l = lat.lock().unwrap().clone();
    l.sort();
    Ok((records as f64 / secs, l))
}

/// The scratch copy of `fee_record` the ceiling inserts into.
async fn scratch(pool: &PgPool, cycles: &[NaiveDate]) -> anyhow::Result<()> {
    sqlx::query("drop table if exists bench_fee_ceiling")
        .execute(pool)
        .await?;
    sqlx::query(
        "create table bench_fee_ceiling (like fee_record including defaults including constraints)
         partition by range (cycle)",
    )
    .execute(pool)
    .await?;
    for (i, c) in cycles.iter().enumerate() {
        sqlx::query(&format!(
            "create table bench_fee_ceiling_{i} partition of bench_fee_ceiling
             for values from ('{c}') to ('{}')",
            c.checked_add_months(chrono::Months::new(1))
                .context("month")?
        ))
        .execute(pool)
        .await?;
    }
    for ddl in [
        "alter table bench_fee_ceiling add primary key (cycle, id)",
        "create index on bench_fee_ceiling (customer_id, cycle, trade_time desc, id desc)",
        "create index on bench_fee_ceiling (customer_id, cycle, resource_id)",
        "create index on bench_fee_ceiling (original_id) where original_id is not null",
    ] {
        sqlx::query(ddl).execute(pool).await?;
    }
    Ok(())
}

/// What the ceiling's rows name: the customers, the partner, the product.
#[derive(Clone)]
struct Names {
    customers: String,
    n: usize,
    partner: String,
    product: String,
}

/// Rows `lo..hi` of the ceiling: the same columns and value shapes as ingested fee records.
fn ceiling_insert(lo: usize, hi: usize, w: &Names) -> String {
    format!(
        "insert into bench_fee_ceiling (id, cycle, customer_id, partner_id, association_type,
             event_id, bill_type, charging_mode, service_type_code, resource_type_code,
             region_code, product_id, usage_type, usage, usage_measure_id, unit_price,
             price_measure_id, resource_id, resource_name, begin_time, end_time, trade_time,
             trade_id, official_amount, discount_amount, erase_amount, payable, cash)
         select md5(g::text), date_trunc('month', b + interval '8 hours')::date,
                ('{{{customers}}}'::text[])[1 + g % {n}], '{partner}', 2, 'ceil-' || g, 5, 3,
                'hws.service.type.ec2', 'hws.resource.type.vm', 'cn-north-1', '{product}',
                'duration', 1, 4, 0.01, 4, 'res-' || (g % 1000), 'resource ' || (g % 1000),
                b, b + interval '1 hour', now(), md5(g::text), 0.01, 0, 0, 1, 1
         from generate_series({lo}, {hi} - 1) g,
              lateral (select now() - interval '1 hour' - (g % {CYCLES}) * interval '31 days' as b) t",
        customers = w.customers,
        n = w.n,
        partner = w.partner,
        product = w.product,
    )
}

async fn ceiling(
    pool: &PgPool,
    w: &World,
    records: usize,
    callers: usize,
    cycles: &[NaiveDate],
) -> anyhow::Result<(f64, f64)> {
    let w = Names {
        customers: w.customers.join(","),
        n: w.customers.len(),
        partner: w.partner.id.clone(),
        product: w.ecs.clone(),
    };
    scratch(pool, cycles).await?;
    let t = Instant::now();
    sqlx::query(&ceiling_insert(0, records, &w))
        .execute(pool)
        .await?;
    let one = records as f64 / t.elapsed().as_secs_f64();
    scratch(pool, cycles).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (pool, next, w) = (pool.clone(), next.clone(), w.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let lo = next.fetch_add(BATCH, Ordering::Relaxed);
                if lo >= records {
                    return anyhow::Ok(());
                }
                sqlx::query(&ceiling_insert(lo, (lo + BATCH).min(records), &w))
                    .execute(&pool)
                    .await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let many = records as f64 / t.elapsed().as_secs_f64();
    sqlx::query("drop table bench_fee_ceiling")
        .execute(pool)
        .await?;
    Ok((one, many))
}

/// Tops `fee_record` up to `target` rows without the API (for a quick run of the query phase
/// when ingesting a million records over HTTP takes too long, e.g. against a debug build): copies
/// of the charged records with every amount 0 and no event (so no ledger posting is owed), and
/// the monthly sums' record counts brought to the new totals in the same transaction.
async fn fill(pool: &PgPool, target: usize) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let mut added = 0usize;
    loop {
        let n: i64 = sqlx::query_scalar("select count(*) from fee_record")
            .fetch_one(&mut *tx)
            .await?;
        let missing = target.saturating_sub(n as usize);
        if missing == 0 {
            break;
        }
        let r = sqlx::query(
            "insert into fee_record (id, cycle, customer_id, partner_id, distributor_id,
                 association_type, manager_id, bill_type, charging_mode, service_type_code,
                 resource_type_code, region_code, product_id, usage_type, usage, usage_measure_id,
                 unit_price, price_measure_id, resource_id, resource_name, enterprise_project_id,
                 begin_time, end_time, trade_time, trade_id, official_amount, discount_amount,
                 erase_amount, payable)
             select to_char(f.cycle, 'YYYYMM') || substr(md5(f.id || g::text || random()::text), 1, 26),
                    f.cycle, f.customer_id, f.partner_id, f.distributor_id, f.association_type,
                    f.manager_id, f.bill_type, f.charging_mode, f.service_type_code,
                    f.resource_type_code, f.region_code, f.product_id, f.usage_type, 0,
                    f.usage_measure_id, 0, f.price_measure_id, f.resource_id, f.resource_name,
                    f.enterprise_project_id, f.begin_time, f.end_time, f.trade_time, 'fill', 0, 0,
                    0, 0
             from (select * from fee_record where event_id is not null limit $1) f,
                  generate_series(1, $2) g",
        )
        .bind(missing.min(100_000) as i64)
        .bind(missing.div_ceil(100_000).min(10) as i32)
        .execute(&mut *tx)
        .await?;
        added += r.rows_affected() as usize;
    }
    sqlx::query(
        "update bill_sum b set records = s.n
         from (select cycle, customer_id, partner_id, distributor_id, association_type, manager_id,
                      service_type_code, resource_type_code, charging_mode,
                      case when bill_type in (4, 20, 24) then 2 when bill_type in (9, 16) then 3
                           else 1 end as bill_type,
                      enterprise_project_id, count(*) as n
               from fee_record group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11) s
         where (b.cycle, b.customer_id, b.service_type_code, b.resource_type_code,
                b.charging_mode, b.bill_type)
               = (s.cycle, s.customer_id, s.service_type_code, s.resource_type_code,
                  s.charging_mode, s.bill_type)
           and b.partner_id is not distinct from s.partner_id
           and b.distributor_id is not distinct from s.distributor_id
           and b.association_type is not distinct from s.association_type
           and b.manager_id is not distinct from s.manager_id
           and b.enterprise_project_id is not distinct from s.enterprise_project_id",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("analyze fee_record").execute(pool).await?;
    Ok(added)
}

fn pct(l: &[Duration], p: f64) -> f64 {
    if l.is_empty() {
        return f64::NAN;
    }
    let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len());
    l[i - 1].as_secs_f64() * 1000.0
}

async fn latency(
    http: &Http,
    c: &Creds,
    path: &str,
    query: &str,
    samples: usize,
) -> anyhow::Result<(Vec<Duration>, Value)> {
    let mut l = Vec::with_capacity(samples);
    let mut last = Value::Null;
    for _ in 0..samples {
        let t = Instant::now();
        last = http.signed(c, "GET", path, query, None).await?;
        l.push(t.elapsed());
    }
    l.sort();
    Ok((l, last))
}

/// Plans of the library's bill queries, as PostgreSQL runs them (auto_explain, analyze on), on
/// one connection: the 1st execution and the 8th (after the plan cache may have gone generic).
async fn plans(db: &str, w: &World, cycle: NaiveDate) -> anyhow::Result<()> {
    let notices: Arc<Mutex<Vec<String>>> = Arc::default();
    NOTICES.set(notices.clone()).ok();
    let mut conn = PgConnection::connect(db).await?;
    for s in [
        "load 'auto_explain'",
        "set auto_explain.log_min_duration = 0",
        "set auto_explain.log_analyze = on",
        "set auto_explain.log_buffers = on",
        "set auto_explain.log_timing = on",
        "set auto_explain.log_level = notice",
        "set client_min_messages = notice",
    ] {
        sqlx::query(s).execute(&mut conn).await?;
    }
    let own = SumFilter {
        cycle: Some(cycle),
        customer_ids: Some(vec![w.own.id.clone()]),
        ..Default::default()
    };
    let partner_sum = SumFilter {
        cycle: Some(cycle),
        partner: Some(PartnerScope::Own(w.partner.id.clone())),
        association_type: Some(2),
        charging_mode: Some(3),
        ..Default::default()
    };
    let detail = DetailFilter {
        cycle: Some(cycle),
        customer_ids: vec![w.own.id.clone()],
        partner: Some(PartnerScope::Own(w.partner.id.clone())),
        ..Default::default()
    };
    let filtered = DetailFilter {
        resource_id: Some(TextFilter::Is("res-12".into())),
        ..detail.clone()
    };
    let mut seq_scans = Vec::new();
    for (name, run) in [
        ("show_customer_monthly_sum", 0),
        ("list_subcustomer_monthly_bills", 1),
        ("list_sub_customer_bill_detail (first page)", 2),
        ("list_sub_customer_bill_detail (resource_id filter)", 3),
    ] {
        let mut first = Vec::new();
        for n in 0..8 {
            notices.lock().unwrap().clear();
            match run {
                0 => {
                    bills::sums(&mut conn, &own, false, 0, 10).await?;
                    bills::totals(&mut conn, &own).await?;
                }
                1 => {
                    bills::sums(&mut conn, &partner_sum, false, 0, 10).await?;
                }
                2 => {
                    bills::details(&mut conn, &detail, false, 0, 10).await?;
                }
                _ => {
                    bills::details(&mut conn, &filtered, false, 0, 10).await?;
                }
            }
            let got = notices.lock().unwrap().clone();
            for p in &got {
                if p.contains("Seq Scan on fee_record") {
                    seq_scans.push(format!("{name}: {p}"));
                }
            }
            if n == 0 {
                first = got;
            } else if n == 7 {
                println!("\n#### {name}\n");
                for (i, (a, b)) in first.iter().zip(&got).enumerate() {
                    // A generic plan shows `$n` (not the values) in its conditions.
                    let generic = b
                        .lines()
                        .any(|l| (l.contains("Cond:") || l.contains("Filter:")) && l.contains('$'));
                    println!(
                        "statement {} — 1st execution:\n```\n{}\n```",
                        i + 1,
                        a.trim()
                    );
                    if a.lines().skip(1).collect::<Vec<_>>()
                        != b.lines().skip(1).collect::<Vec<_>>()
                    {
                        println!(
                            "8th execution ({}):\n```\n{}\n```",
                            if generic {
                                "GENERIC plan"
                            } else {
                                "custom plan"
                            },
                            b.trim()
                        );
                    } else {
                        println!("8th execution: the same plan");
                    }
                }
            }
        }
    }
    println!();
    if seq_scans.is_empty() {
        println!("plans: no sequential scan of fee_record in any execution");
    } else {
        println!(
            "plans: SEQUENTIAL SCANS of fee_record:\n{}",
            seq_scans.join("\n")
        );
    }
    Ok(())
}

static NOTICES: std::sync::OnceLock<Arc<Mutex<Vec<String>>>> = std::sync::OnceLock::new();

/// Collects the PostgreSQL notices sqlx reports through `tracing` (auto_explain's plans).
struct NoticeLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoticeLayer {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if !e.metadata().target().starts_with("sqlx::postgres::notice") {
            return;
        }
        struct V(String);
        impl tracing::field::Visit for V {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
            fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
                if f.name() == "message" {
                    self.0 = v.to_string();
                }
            }
        }
        let mut v = V(String::new());
        e.record(&mut v);
        if let Some(n) = NOTICES.get() {
            n.lock().unwrap().push(v.0);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use tracing_subscriber::prelude::*;
    tracing_subscriber::registry().with(NoticeLayer).init();
    let a = args()?;
    let http = Arc::new(Http {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        host: a.server.clone(),
        admin_token: a.admin_token.clone(),
    });
    let pool = PgPoolOptions::new()
        .max_connections(a.callers as u32 + 2)
        .connect(&a.db)
        .await?;
    let now = Utc::now();
    let mut cycles: Vec<NaiveDate> = (0..CYCLES).map(|i| bill_cycle(begin_of(now, i))).collect();
    cycles.sort();
    cycles.dedup();
    let w = Arc::new(setup(&http, &pool, a.records).await?);
    println!(
        "records: {}, callers: {}, batch: {BATCH}, customers: {CUSTOMERS}, cycles: {:?}",
        a.records, a.callers, cycles
    );

    let (one, many) = ceiling(&pool, &w, a.records, a.callers, &cycles).await?;
    let ceil = one.max(many);
    let (rate, lat) = ingest(http.clone(), w.clone(), a.records, a.callers).await?;
    let stored: i64 = sqlx::query_scalar("select count(*) from fee_record")
        .fetch_one(&pool)
        .await?;
    ensure!(
        stored as usize >= a.records,
        "only {stored} fee records stored"
    );
    let filled = if a.fill_to > stored as usize {
        fill(&pool, a.fill_to).await?
    } else {
        0
    };
    println!("\n| load | records/s | batch p50 ms | batch p99 ms | of ceiling |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| raw `INSERT … SELECT`, one statement of {} rows | {one:.0} | | | — |",
        a.records
    );
    println!(
        "| raw `INSERT … SELECT`, {} connections × {BATCH}-row statements | {many:.0} | | | — |",
        a.callers
    );
    println!(
        "| HTTP ingestion, {} callers × {BATCH}-record batches | {rate:.0} | {:.1} | {:.1} | **{:.2}×** |",
        a.callers,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        rate / ceil
    );
    println!(
        "\nfee records in the database: {} ({stored} charged over HTTP, {filled} zero-payable \
         copies written with SQL by --fill-to)",
        stored as usize + filled
    );

    let cycle = *cycles.last().context("a cycle")?;
    let c = cycle.format("%Y-%m");
    let queries = [
        (
            "show_customer_monthly_sum",
            &w.own,
            "/v2/bills/customer-bills/monthly-sum",
            format!("bill_cycle={c}"),
        ),
        (
            "list_subcustomer_monthly_bills",
            &w.partner,
            "/v2/bills/partner-bills/subcustomer-bills/monthly-sum",
            format!("charge_mode=3&cycle={c}&limit=100"),
        ),
        (
            "list_sub_customer_bill_detail, first page",
            &w.partner,
            "/v2/bills/subcustomer-bills/res-fee-records",
            format!("bill_cycle={c}&customer_id={}&limit=10", w.own.id),
        ),
        (
            "list_sub_customer_bill_detail, resource_id filter",
            &w.partner,
            "/v2/bills/subcustomer-bills/res-fee-records",
            format!(
                "bill_cycle={c}&customer_id={}&limit=10&resource_id=res-12",
                w.own.id
            ),
        ),
    ];
    println!(
        "\n| query ({} sequential calls, signed) | p50 ms | p99 ms | rows in answer | total |",
        a.samples
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, creds, path, query) in &queries {
        let (l, v) = latency(&http, creds, path, query, a.samples).await?;
        let (rows, total) = match *name {
            "show_customer_monthly_sum" => (
                v["bill_sums"].as_array().map_or(0, Vec::len),
                v["total_count"].clone(),
            ),
            "list_subcustomer_monthly_bills" => (
                v["bill_sums"].as_array().map_or(0, Vec::len),
                v["count"].clone(),
            ),
            _ => (
                v["fee_records"].as_array().map_or(0, Vec::len),
                v["total_count"].clone(),
            ),
        };
        ensure!(rows > 0, "{name} answered no rows: {v}");
        println!(
            "| {name} | {:.2} | {:.2} | {rows} | {total} |",
            pct(&l, 0.5),
            pct(&l, 0.99)
        );
    }
    plans(&a.db, &w, cycle).await?;
    Ok(())
}
