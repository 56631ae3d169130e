//! `set_resources_renew_config` `EXPIRE_DATE` (issue 10, resources): renewals end on the customer's
//! unified expiry day of the month (UTC+8; -1 the month's last day), the days added charged
//! `monthly × copies × days / 30` rounded half-up to the fen, so the order, its line, its fee
//! record and the ledger agree. Bad values are CBC.0100; `DEDUCTION_DATE` is kept beside it.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde_json::json;

use crate::helpers::{Creds, Resp, TestApp};
use crate::orders::{balance, funded_customer, pay, period_product};
use crate::orders_resources::{bought, resource, time};

const RENEW: &str = "/v2/orders/subscriptions/resources/renew";
const RENEW_CONFIG: &str = "/v2/orders/subscriptions/resources/renew/config";

async fn set(app: &TestApp, c: &Creds, name: &str, value: &str) -> Resp {
    app.signed(c)
        .post(
            RENEW_CONFIG,
            &json!({"config_name": name, "config_value": value}),
        )
        .await
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

/// The UTC+8 calendar day of an instant.
fn china_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// (official, payable) of an order and of its one line, and its fee record's
/// (bill type, payable, cash, begin, end).
async fn amounts(
    app: &TestApp,
    order_id: &str,
) -> (
    (i64, i64),
    (i64, i64),
    (i16, i64, i64, DateTime<Utc>, DateTime<Utc>),
) {
    let o: (i64, i64) =
        sqlx::query_as("select official_amount, payable from customer_order where id = $1")
            .bind(order_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let l: (i64, i64) =
        sqlx::query_as("select official_amount, payable from order_line_item where order_id = $1")
            .bind(order_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let f = sqlx::query_as(
        "select bill_type, payable, cash, begin_time, end_time from fee_record where trade_id = $1",
    )
    .bind(order_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    (o, l, f)
}

async fn renew(app: &TestApp, c: &Creds, rid: &str, auto_pay: bool) -> String {
    let mut body = json!({"resource_ids": [rid], "period_type": 2, "period_num": 1});
    if auto_pay {
        body["is_auto_pay"] = json!(1);
    }
    let r = app.signed(c).post(RENEW, &body).await;
    assert_eq!(r.ok()["fail_resource_infos"], json!([]), "{}", r.text);
    r.body["order_ids"][0].as_str().unwrap().to_string()
}

async fn config(app: &TestApp, c: &Creds) -> (Option<i16>, Option<i16>) {
    sqlx::query_as("select deduction_days, expire_day from renew_config where customer_id = $1")
        .bind(&c.id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn renewals_end_on_the_unified_day_and_charge_the_days_added_to_the_fen() {
    let app = TestApp::spawn().await;
    // 2027-01-10 10:00 in UTC+8.
    app.clock.set(utc(2027, 1, 10, 2));
    let (_, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, false, &[]).await;
    assert_eq!(
        time(&resource(&app, &c, &rid).await["expire_time"]),
        utc(2027, 2, 10, 2)
    );

    // Bad values, before anything is stored.
    for v in ["0", "29", "x", "-2", "", "15.0"] {
        set(&app, &c, "EXPIRE_DATE", v).await.err(400, "CBC.0100");
    }
    set(&app, &c, "EXPIRE_DAY", "15").await.err(400, "CBC.0100");
    let none: Option<i64> =
        sqlx::query_scalar("select 1::bigint from renew_config where customer_id = $1")
            .bind(&c.id)
            .fetch_optional(&app.pool)
            .await
            .unwrap();
    assert_eq!(none, None);

    assert_eq!(set(&app, &c, "EXPIRE_DATE", "15").await.status, 200);
    assert_eq!(config(&app, &c).await, (None, Some(15)));

    // A pending renewal: one month ends 2027-03-10, moved to the 15th: 5 days more,
    // 10.00 × 5 / 30 = 1.666… → 1.67, so 11.67 in all, paid with pay_orders.
    let o = renew(&app, &c, &rid, false).await;
    let r = pay(&app, &c, &o, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let expire = time(&resource(&app, &c, &rid).await["expire_time"]);
    assert_eq!(expire, utc(2027, 3, 15, 2));
    assert_eq!(china_day(expire), "2027-03-15 10:00");
    assert_eq!(
        amounts(&app, &o).await,
        (
            (1167, 1167),
            (1167, 1167),
            (2, 1167, 1167, utc(2027, 2, 10, 2), utc(2027, 3, 15, 2))
        )
    );
    assert_eq!(
        balance(&app, &c.id, "customer_cash").await,
        10_000 - 1_000 - 1_167
    );

    // Already on the 15th: one whole month, nothing added.
    let o = renew(&app, &c, &rid, true).await;
    assert_eq!(
        time(&resource(&app, &c, &rid).await["expire_time"]),
        utc(2027, 4, 15, 2)
    );
    assert_eq!(amounts(&app, &o).await.0, (1000, 1000));

    // -1: the month's last day. 2027-05-15 → 2027-05-31, 16 days: 10.00 × 16 / 30 = 5.333… → 5.33.
    assert_eq!(set(&app, &c, "EXPIRE_DATE", "-1").await.status, 200);
    let o = renew(&app, &c, &rid, true).await;
    let expire = time(&resource(&app, &c, &rid).await["expire_time"]);
    assert_eq!(expire, utc(2027, 5, 31, 2));
    assert_eq!(china_day(expire), "2027-05-31 10:00");
    let (order, line, fee) = amounts(&app, &o).await;
    assert_eq!(
        (order, line, fee.1, fee.4),
        ((1533, 1533), (1533, 1533), 1533, expire)
    );
    assert_eq!(
        balance(&app, &c.id, "customer_cash").await,
        10_000 - 1_000 - 1_167 - 1_000 - 1_533
    );
    // Then 2027-06-30 (the month's last day, 30 days after 05-31 is 06-30: nothing added).
    let o = renew(&app, &c, &rid, true).await;
    assert_eq!(
        time(&resource(&app, &c, &rid).await["expire_time"]),
        utc(2027, 6, 30, 2)
    );
    assert_eq!(amounts(&app, &o).await.0, (1000, 1000));

    // DEDUCTION_DATE is kept beside it, and each leaves the other.
    assert_eq!(set(&app, &c, "DEDUCTION_DATE", "3").await.status, 200);
    assert_eq!(config(&app, &c).await, (Some(3), Some(-1)));
    assert_eq!(set(&app, &c, "EXPIRE_DATE", "28").await.status, 200);
    assert_eq!(config(&app, &c).await, (Some(3), Some(28)));
    set(&app, &c, "DEDUCTION_DATE", "8")
        .await
        .err(400, "CBC.0100");
    set(&app, &c, "EXPIRE_DATE", "29")
        .await
        .err(400, "CBC.0100");
    assert_eq!(config(&app, &c).await, (Some(3), Some(28)));
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_new_purchase_is_not_aligned_but_its_auto_renewal_is() {
    let app = TestApp::spawn().await;
    app.clock.set(utc(2027, 1, 10, 2));
    let (_, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    assert_eq!(set(&app, &c, "EXPIRE_DATE", "15").await.status, 200);
    assert_eq!(set(&app, &c, "DEDUCTION_DATE", "3").await.status, 200);
    // Bought after the setting: a new purchase keeps its whole month.
    let (_, rid) = bought(&app, &c, &product, 2, true, &[]).await;
    let expiry = utc(2027, 2, 10, 2);
    assert_eq!(time(&resource(&app, &c, &rid).await["expire_time"]), expiry);

    // The time rule renews 3 days before expiry, to 2027-03-15 (UTC+8), 11.67 deducted.
    app.clock.set(expiry - Duration::days(3));
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    assert_eq!(
        time(&resource(&app, &c, &rid).await["expire_time"]),
        utc(2027, 3, 15, 2)
    );
    let (bill_type, payable, cash, begin, end): (i16, i64, i64, DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as(
            "select bill_type, payable, cash, begin_time, end_time from fee_record
              where resource_id = $1 and bill_type = 8",
        )
        .bind(&rid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        (bill_type, payable, cash, begin, end),
        (8, 1167, 1167, expiry, utc(2027, 3, 15, 2))
    );
    assert_eq!(
        balance(&app, &c.id, "customer_cash").await,
        10_000 - 1_000 - 1_167
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_sandbox_clock_move_auto_renews_to_the_unified_day() {
    let app = TestApp::spawn_sandbox().await;
    app.clock.set(utc(2027, 1, 10, 2));
    let (_, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let (_, rid) = bought(&app, &c, &product, 2, true, &[]).await;
    assert_eq!(set(&app, &c, "EXPIRE_DATE", "-1").await.status, 200);

    // 40 days on: one auto-renewal (before 2027-02-10), to 2027-03-31 (UTC+8), 21 days added:
    // 10.00 × 21 / 30 = 7.00, so 17.00 deducted.
    let moved = app.advance_sandbox_clock(40 * 86_400).await;
    assert!(
        moved["rules"]["resource_steps"].as_u64().unwrap() >= 1,
        "{moved}"
    );
    let expire = time(&resource(&app, &c, &rid).await["expire_time"]);
    assert_eq!(expire, utc(2027, 3, 31, 2));
    assert_eq!(china_day(expire), "2027-03-31 10:00");
    let paid: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        "select cash, end_time from fee_record where resource_id = $1 and bill_type = 8",
    )
    .bind(&rid)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(paid, [(1700, expire)]);
    assert_eq!(
        balance(&app, &c.id, "customer_cash").await,
        10_000 - 1_000 - 1_700
    );
    app.assert_audit_ok().await;
}
