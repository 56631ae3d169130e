//! Consumption at scale (issue 8, scope 7 and 8): the CSV export of 200,000 fee records streams
//! through the real server binary (a separate process) while that process stays under 100 MB RSS.
//!
//! The records are charged through the usage API (paid from the customers' cash through the
//! ledger, so money stays consistent; the audit is checked), then the binary is started on the
//! same database and the export is downloaded chunk by chunk while the binary's `VmRSS` is
//! sampled; `VmHWM` (the kernel's peak) is checked too, so no spike between samples escapes.
//!
//! It takes minutes (charging 200,000 records through a debug build), so it runs only with
//! `PC_SCALE_TESTS=1`, which `scripts/test` sets.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chrono::Duration as Span;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::{
    consumption::{body, cycle, ecs_product, fund, ts, HOUR, USAGE},
    helpers::{Creds, TestApp},
};

const EXPORT: &str = "/v2/bills/subcustomer-bills/res-fee-records/export";
const RECORDS: usize = 200_000;
const BATCH: usize = 1_000;
const CALLERS: usize = 4;
const RSS_LIMIT_KIB: u64 = 100 * 1024;

/// `VmRSS` / `VmHWM` of a process, KiB.
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap())
        .unwrap()
}

/// One batch of one-hour usage records of `customer` (0.01 yuan each at 0.01 yuan/hour).
fn batch(customer: &str, product: &str, begin: &str, end: &str, first: usize) -> Value {
    let records: Vec<Value> = (first..first + BATCH)
        .map(|i| {
            body(&format!(
                r#"{{"event_id": "scale-{i}", "customer_id": "{customer}", "product_id": "{product}",
                     "usage_type": "duration", "usage": 1, "usage_measure_id": {HOUR},
                     "resource_id": "vm-{}", "resource_name": "虚拟机 {}, \"scale\"",
                     "region_code": "cn-north-1", "begin_time": "{begin}", "end_time": "{end}"}}"#,
                i % 977,
                i % 977
            ))
        })
        .collect();
    json!({ "records": records })
}

/// Charges `RECORDS` usage records through the API: `CALLERS` concurrent callers, one customer
/// each, batches of `BATCH`.
async fn charge_all(app: &Arc<TestApp>, customers: &[Creds], product: &str) {
    let end = app.now();
    let (begin, end) = (ts(end - Span::hours(1)), ts(end));
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in customers {
        let (app, next, customer) = (app.clone(), next.clone(), c.id.clone());
        let (product, begin, end) = (product.to_string(), begin.clone(), end.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let first = next.fetch_add(BATCH as u64, Ordering::Relaxed) as usize;
                if first >= RECORDS {
                    return;
                }
                let r = app
                    .admin(
                        Method::POST,
                        USAGE,
                        Some(batch(&customer, &product, &begin, &end, first)),
                    )
                    .await;
                let results = r.ok()["results"].as_array().unwrap();
                assert_eq!(results.len(), BATCH);
                assert!(
                    results.iter().all(|x| x["status"] == "charged"),
                    "{}",
                    r.text.chars().take(500).collect::<String>()
                );
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Splits a CSV line into fields (RFC 4180 quoting).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exporting_200000_fee_records_keeps_the_server_process_under_100_mb() {
    if std::env::var("PC_SCALE_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set PC_SCALE_TESTS=1 to run the 200,000-record export test");
        return;
    }
    let started = Instant::now();
    let app = Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "10000.00").await;
    let mut customers = Vec::new();
    for _ in 0..CALLERS {
        let c = app.create_customer(&p, json!({})).await;
        fund(&app, &p, &c.id, "2000.00").await.ok();
        customers.push(c);
    }
    let product = ecs_product(&app, "0.01").await;
    let bill_cycle = cycle(app.now() - Span::hours(1));
    charge_all(&app, &customers, &product).await;
    let charged = started.elapsed();
    let stored: i64 = sqlx::query_scalar("select count(*) from fee_record")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, RECORDS as i64);

    // The export, from the real binary, read incrementally while its memory is sampled.
    let (mut child, host) = app.start_binary(&[]).await;
    let pid = child.id();
    let idle = proc_kib(pid, "VmRSS:");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut max = 0;
            while !done.load(Ordering::Relaxed) {
                max = max.max(proc_kib(pid, "VmRSS:"));
                std::thread::sleep(Duration::from_millis(10));
            }
            max
        })
    };
    // The signature's date is the test clock's: bring it to the real time after the load.
    app.clock.set(chrono::Utc::now());
    let mut resp = app
        .signed_at(&p, &host)
        .build(
            Method::GET,
            EXPORT,
            &format!("bill_cycle={bill_cycle}"),
            None,
            Default::default(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let download = Instant::now();
    let (mut pending, mut lines, mut bytes, mut chunks) = (Vec::<u8>::new(), 0usize, 0usize, 0);
    let mut header: Option<Vec<String>> = None;
    let mut ids = std::collections::HashSet::new();
    let mut paid = Decimal::ZERO;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        bytes += chunk.len();
        chunks += 1;
        pending.extend_from_slice(&chunk);
        // Complete lines only (a quoted field here never holds a newline); the rest waits.
        let Some(last) = pending.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let rest = pending.split_off(last + 1);
        let text = std::str::from_utf8(&pending).expect("the export is UTF-8");
        for line in text.lines() {
            let f = fields(line);
            match &header {
                None => header = Some(f),
                Some(h) => {
                    assert_eq!(f.len(), h.len(), "{line}");
                    assert_eq!(f[0], bill_cycle, "{line}");
                    assert_eq!(f[14].chars().next(), Some('虚'), "{line}");
                    assert!(f[14].ends_with("\"scale\""), "{line}");
                    ids.insert(f[1].clone());
                    paid += f[26].parse::<Decimal>().unwrap();
                    lines += 1;
                }
            }
        }
        pending = rest;
    }
    let took = download.elapsed();
    done.store(true, Ordering::Relaxed);
    let max = sampler.join().unwrap();
    let peak = proc_kib(pid, "VmHWM:");
    child.kill().ok();
    child.wait().ok();
    println!(
        "export: {RECORDS} records charged in {charged:?}; {bytes} bytes in {chunks} chunks in \
         {took:?}; server RSS idle {idle} KiB, max sampled {max} KiB, peak (VmHWM) {peak} KiB"
    );

    assert!(pending.is_empty(), "the export ends with a newline");
    let header = header.expect("a header row");
    assert_eq!(header[0], "bill_cycle");
    assert_eq!(header[1], "id");
    assert_eq!(header[26], "payment_amount");
    assert_eq!(lines, RECORDS, "one data row per fee record");
    assert_eq!(ids.len(), RECORDS, "every fee record once");
    assert_eq!(paid, Decimal::new(RECORDS as i64, 2), "0.01 yuan each");
    assert!(
        chunks > 10,
        "the body came in {chunks} chunks: not streamed"
    );
    assert!(
        max < RSS_LIMIT_KIB,
        "server RSS reached {max} KiB during the export"
    );
    assert!(peak < RSS_LIMIT_KIB, "server peak RSS (VmHWM) {peak} KiB");
    app.assert_audit_ok().await;
}
