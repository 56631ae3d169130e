//! Issue 10's sandbox-clock acceptance line over HTTP only: with `sandbox.clock = true`, one
//! `POST /admin/v1/clock {"advance_seconds": <a year>}` renews an auto-renewed monthly resource
//! twelve times with twelve deductions, and takes one without auto-renewal and without money
//! through grace → frozen → deleted on the configured days, before the call answers.

use chrono::{DateTime, Duration, Months, Utc};
use reqwest::Method;
use serde_json::json;

use crate::consumption::{fund, money};
use crate::helpers::TestApp;
use crate::orders::{period_product, ORDERS};
use crate::orders_resources::{bought, resource, time};

#[tokio::test]
async fn a_sandbox_year_renews_twelve_times_and_takes_the_unpaid_resource_to_deletion() {
    let app = TestApp::spawn_sandbox().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "5000.00").await;
    let rich = app.create_customer(&p, json!({})).await;
    let poor = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &rich.id, "500.00").await.ok();
    fund(&app, &p, &poor.id, "10.00").await.ok();
    let product = period_product(&app, "10.00", "100.00").await;

    let (_, renewed) = bought(&app, &rich, &product, 2, true, &[]).await;
    let (_, plain) = bought(&app, &poor, &product, 2, false, &[]).await;
    let renewed = resource(&app, &rich, &renewed).await;
    let plain = resource(&app, &poor, &plain).await;
    let t0 = time(&renewed["effective_time"]);
    let expiry = time(&plain["expire_time"]);
    assert_eq!(time(&renewed["expire_time"]), t0 + Months::new(1));

    let moved = app.advance_sandbox_clock(365 * 86_400).await;
    assert!(moved["steps"].as_u64().unwrap() >= 365, "{moved}");
    assert!(
        moved["rules"]["resource_steps"].as_u64().unwrap() >= 12 + 3,
        "{moved}"
    );
    let clock = app.admin(Method::GET, "/admin/v1/clock", None).await;
    assert!(time(&clock.ok()["now"]) >= t0 + Duration::days(365));

    // Twelve auto-renewal orders, paid by twelve deductions of 10.00 dated in order.
    let r = app
        .signed(&rich)
        .get(ORDERS, "order_type=2&limit=100&order_by=createTime")
        .await;
    assert_eq!(r.ok()["total_count"], 12, "{}", r.text);
    let renewals = r.body["order_infos"].as_array().unwrap();
    assert!(renewals
        .iter()
        .all(|o| o["status"] == 5 && o["source_type"] == 8));
    let paid: Vec<DateTime<Utc>> = renewals.iter().map(|o| time(&o["payment_time"])).collect();
    assert!(paid.windows(2).all(|w| w[0] < w[1]), "{paid:?}");
    let deductions: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "select cash, begin_time from fee_record where resource_id = $1 and bill_type = 8
          order by trade_time",
    )
    .bind(renewed["resource_id"].as_str().unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let expected: Vec<(i64, DateTime<Utc>)> =
        (1..=12).map(|k| (1_000, t0 + Months::new(k))).collect();
    assert_eq!(deductions, expected);
    assert_eq!(
        money(&app, &rich.id).await["cash_amount"].to_string(),
        "370.00",
        "500.00 − 13 months of 10.00"
    );
    let now_renewed = resource(&app, &rich, renewed["resource_id"].as_str().unwrap()).await;
    assert_eq!(now_renewed["status"], 2);
    assert_eq!(time(&now_renewed["expire_time"]), t0 + Months::new(13));

    // No auto-renewal and no money: grace at expiry, frozen and deleted on the configured days.
    let steps: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "select event_type, at from resource_event where resource_id = $1 and event_type <> 'created'
          order by id",
    )
    .bind(plain["resource_id"].as_str().unwrap())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let (grace, retention) = (
        app.state.config.orders.grace_days,
        app.state.config.orders.retention_days,
    );
    assert_eq!(
        steps,
        vec![
            ("grace".to_string(), expiry),
            ("frozen".to_string(), expiry + Duration::days(grace)),
            (
                "deleted".to_string(),
                expiry + Duration::days(grace + retention)
            ),
        ]
    );
    let gone = resource(&app, &poor, plain["resource_id"].as_str().unwrap()).await;
    assert_eq!(gone["status"], 3);
    app.assert_audit_ok().await;
}
