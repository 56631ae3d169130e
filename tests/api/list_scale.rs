//! Scale of the sub-customer list (issue 13, `#[ignore]`: run with
//! `cargo test --test api list_scale -- --ignored --nocapture`, `PC_LIST_SCALE_ROWS` rows,
//! default 1,000,000): the first page, a `customer_id` page and an `account_name` substring
//! page at 1,000 customers and at the full size, each within 2× its 1,000-row time.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{Creds, TestApp};

const LIST: &str = "/v2/partners/sub-customers/query";

/// Adds customers `from..to` of partner `p` straight in the database.
async fn add_customers(app: &TestApp, p: &Creds, from: i64, to: i64) {
    let mut start = from;
    while start < to {
        let end = (start + 100_000).min(to);
        sqlx::query(
            "with g as (select i, md5('scale' || $1 || i) as id from generate_series($2::bigint, $3::bigint - 1) i),
                  a as (insert into account (id, kind, login_name, created_at)
                        select id, 'customer', 'scale' || lpad(i::text, 8, '0') || 'u', now() from g)
             insert into customer (account_id, partner_id, association_type, associated_on,
                                   xaccount_type, xaccount_id)
             select id, $1, '2', now() - make_interval(secs => i), $4, 'x' || id from g",
        )
        .bind(&p.id)
        .bind(start)
        .bind(end)
        .bind(&p.xaccount_type)
        .execute(&app.pool)
        .await
        .unwrap();
        start = end;
    }
    sqlx::query("analyze account")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("analyze customer")
        .execute(&app.pool)
        .await
        .unwrap();
}

/// p50 of 40 sequential warm requests (after 10 warm-ups), checking each answer.
async fn p50(app: &TestApp, p: &Creds, body: &Value, count: Option<i64>) -> Duration {
    let mut times = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        let r = app.signed(p).post(LIST, body).await;
        let took = t.elapsed();
        let b = r.ok();
        if let Some(n) = count {
            assert_eq!(b["count"], n, "{body}");
        }
        if i >= 10 {
            times.push(took);
        }
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale: run with --ignored"]
async fn sub_customer_pages_cost_the_same_at_1k_and_at_1m_customers() {
    let rows: i64 = std::env::var("PC_LIST_SCALE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    add_customers(&app, &p, 0, 1_000).await;
    let probe_id: String = sqlx::query_scalar("select md5('scale' || $1 || 500)")
        .bind(&p.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let cases = |total: i64| {
        vec![
            ("first page", json!({"limit": 10}), Some(total)),
            (
                "customer_id",
                json!({"customer_id": probe_id, "limit": 10}),
                Some(1),
            ),
            (
                "account_name substring",
                json!({"account_name": "00000500", "limit": 10}),
                Some(1),
            ),
        ]
    };
    let mut small = Vec::new();
    for (name, body, n) in cases(1_000) {
        small.push((name, p50(&app, &p, &body, n).await));
    }
    let t = Instant::now();
    add_customers(&app, &p, 1_000, rows).await;
    eprintln!("loaded {rows} customers in {:?}", t.elapsed());
    let mut failures = Vec::new();
    for ((name, body, n), (_, at_1k)) in cases(rows).into_iter().zip(&small) {
        let big = p50(&app, &p, &body, n).await;
        eprintln!("{name}: p50 {at_1k:?} at 1k, {big:?} at {rows}");
        // 2× its 1k time; 1 ms of slack for timer noise on sub-millisecond answers.
        if big > *at_1k * 2 + Duration::from_millis(1) {
            failures.push(format!("{name}: {at_1k:?} at 1k, {big:?} at {rows}"));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}
