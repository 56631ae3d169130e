//! The consumption and performance dashboards (and the performance summary) on 100,000 customers
//! of one partner: p99 ≤ 50 ms, measured over HTTP (signed). Slow to seed, so ignored by default:
//! `cargo test --test api selling_performance_perf -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use chrono::{Datelike, TimeZone, Utc};

use crate::helpers::{Creds, TestApp};

async fn p99(app: &TestApp, who: &Creds, path: &str, query: &str) -> Duration {
    let warm = app.signed(who).get(path, query).await;
    warm.ok();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let r = app.signed(who).get(path, query).await;
        times.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.text);
    }
    times.sort();
    let (p50, p99) = (times[times.len() / 2], times[times.len() * 99 / 100]);
    println!(
        "{path}?{query}: p50 {p50:?}, p99 {p99:?}, max {:?}",
        times.last().unwrap()
    );
    p99
}

#[tokio::test]
#[ignore]
async fn the_consumption_and_performance_dashboards_answer_within_50ms_p99_on_100k_customers() {
    let app = TestApp::spawn().await;
    let real = app.now();
    app.clock.set(
        Utc.with_ymd_and_hms(real.year(), real.month(), 20, 4, 0, 0)
            .unwrap(),
    );
    let p = app.create_partner("solution_provider", None).await;
    let other = app.create_partner("solution_provider", None).await;
    // 100,000 customers of each partner, each consuming on every 3rd of the last 90 days
    // (3,000,000 customer-days), 50 managers, 20 service types: the rollups the charges write.
    for partner in [&p.id, &other.id] {
        sqlx::query(
            "insert into performance_day (partner_id, day, customer_id, manager_id, payable, cash, card, records)
             select $1, current_date - (d * 3 + c % 3), md5($1 || c), 'mgr' || (c % 50), 300, 200, 100, 1
             from generate_series(1, 100000) c, generate_series(0, 29) d",
        )
        .bind(partner)
        .execute(&app.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into consumption_day (partner_id, day, manager_id, service_type_code, official_amount,
                 payable, coupon, cash_coupon, card, cash, credit, debt, writeoff, records)
             select $1, day, manager_id, 'hws.service.type.s' || (abs(hashtext(customer_id)) % 20),
                    sum(payable) / 100.0, sum(payable), 0, 0, sum(card), sum(cash), 0, 0, 0, sum(records)
             from performance_day where partner_id = $1 group by 1, 2, 3, 4",
        )
        .bind(partner)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "insert into consumption_month (partner_id, month, manager_id, service_type_code, official_amount,
             payable, coupon, cash_coupon, card, cash, credit, debt, writeoff, records)
         select partner_id, date_trunc('month', day)::date, manager_id, service_type_code,
                sum(official_amount), sum(payable), 0, 0, sum(card), sum(cash), 0, 0, 0, sum(records)
         from consumption_day group by 1, 2, 3, 4",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    for t in ["performance_day", "consumption_day", "consumption_month"] {
        sqlx::query(&format!("vacuum analyze {t}"))
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let n: i64 = sqlx::query_scalar("select count(*) from consumption_day where partner_id = $1")
        .bind(&p.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    println!("consumption_day rows of the partner: {n}");
    let from = (app.now() - chrono::Duration::days(90))
        .format("%Y-%m")
        .to_string();
    let to = app.now().format("%Y-%m").to_string();
    let q = format!("from_month={from}&to_month={to}");
    let r = app
        .signed(&p)
        .get("/v2/partners/dashboards/performance", &q)
        .await;
    assert_eq!(r.ok()["managers"].as_array().unwrap().len(), 50);
    let mut worst = Duration::ZERO;
    for path in [
        "/v2/partners/dashboards/consumption",
        "/v2/partners/dashboards/performance",
        "/v2/partners/performance/summary",
    ] {
        worst = worst.max(p99(&app, &p, path, &q).await);
        worst = worst.max(p99(&app, &p, path, "").await);
    }
    // The details group customer-days: not a dashboard, printed only.
    let t = Instant::now();
    let r = app
        .signed(&p)
        .get("/v2/partners/performance/details", "limit=100")
        .await;
    println!(
        "details of this month (total_count {}): {:?}",
        r.ok()["total_count"],
        t.elapsed()
    );
    for sql in [
        "explain (analyze, buffers) select date_trunc('month', day)::date, service_type_code, sum(payable)
         from consumption_day where partner_id = $1 and day >= current_date - 90 and day <= current_date - 1
         group by 1, 2 order by 1, 2",
        "explain (analyze, buffers) select manager_id, sum(cash) + sum(card) from consumption_day
         where partner_id = $1 and day >= current_date - 90 and day <= current_date - 1
           and manager_id = any(array['mgr1', 'mgr2']) group by 1",
    ] {
        let plan: Vec<String> = sqlx::query_scalar(sql)
            .bind(&p.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
        println!("{}\n", plan.join("\n"));
    }
    assert!(worst <= Duration::from_millis(50), "p99 {worst:?}");
}
