//! Capacity per (product, region) and tax rates (issue 10, orders): `pay_orders` refuses a new
//! order whose copies exceed the capacity left with CBC.99003141 (`error_details` naming the
//! product) and an order of a product without a tax rate with CBC.99006093; in both cases nothing
//! moves. Two concurrent payments cannot both take the last copies.

use reqwest::Method;
use serde_json::{json, Value};

use crate::consumption::{coupon, money, ECS};
use crate::helpers::{Creds, Resp, TestApp};
use crate::orders::{balance, details, funded_customer, pay, ORDERS};

const UNSUBSCRIBE: &str = "/v2/orders/subscriptions/resources/unsubscribe";
const REGION: &str = "cn-north-1";

fn product_body(id: &str, extra: Value) -> Value {
    let mut b = json!({
        "product_id": id,
        "cloud_service_type": ECS,
        "name": format!("Server {id}"),
        "resource_type_code": "hws.resource.type.vm",
        "resource_spec": format!("spec.{id}"),
        "period_prices": [{"period_type": 2, "price": "10.00"}, {"period_type": 3, "price": "100.00"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// Registers a product (10 yuan a month) with `extra` fields; returns the response.
async fn register(app: &TestApp, id: &str, extra: Value) -> Resp {
    app.admin(
        Method::POST,
        "/admin/v1/products",
        Some(product_body(id, extra)),
    )
    .await
}

async fn product(app: &TestApp, id: &str) -> String {
    let r = register(app, id, json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    id.to_string()
}

async fn set_capacity(app: &TestApp, product: &str, region: &str, capacity: i64) -> Resp {
    app.admin(
        Method::PUT,
        &format!("/admin/v1/products/{product}/capacities/{region}"),
        Some(json!({"capacity": capacity})),
    )
    .await
}

async fn capacities(app: &TestApp, product: &str) -> Value {
    app.admin(
        Method::GET,
        &format!("/admin/v1/products/{product}/capacities"),
        None,
    )
    .await
    .ok()["capacities"]
        .clone()
}

/// Creates a one-month order of `copies` copies in `region`; returns its id.
async fn order_of(app: &TestApp, c: &Creds, product: &str, region: &str, copies: i64) -> String {
    let r = app
        .signed(c)
        .post(
            ORDERS,
            &json!({"product_id": product, "region_code": region, "period_type": 2,
                    "period_num": 1, "subscription_num": copies}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["order_id"].as_str().unwrap().to_string()
}

/// The error body without its request id (asserted present).
fn error_body(r: &Resp) -> Value {
    let mut b = r.body.clone();
    assert!(b["request_id"].is_string(), "{}", r.text);
    b.as_object_mut().unwrap().remove("request_id");
    b
}

async fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(arg)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn fee_records_of_order(app: &TestApp, order_id: &str) -> i64 {
    count(
        app,
        "select count(*) from fee_record where trade_id = $1",
        order_id,
    )
    .await
}

async fn live_copies(app: &TestApp, product: &str) -> i64 {
    count(
        app,
        "select coalesce(sum(subscription_num), 0)::bigint from order_resource
          where product_id = $1 and status <> 3",
        product,
    )
    .await
}

fn cash(v: &Value) -> String {
    v["cash_amount"].to_string()
}

#[tokio::test]
async fn capacity_exact_fit_passes_one_over_is_cbc_99003141_and_nothing_moves() {
    let app = TestApp::spawn().await;
    let (_pa, a) = funded_customer(&app, "500.00").await;
    let (pb, b) = funded_customer(&app, "500.00").await;
    let prod = product(&app, "cap-ecs").await;

    // The admin routes: none set = unlimited; bad input refused.
    assert_eq!(capacities(&app, &prod).await, json!([]));
    set_capacity(&app, "no-such-product", REGION, 3)
        .await
        .err(400, "CBC.0100");
    set_capacity(&app, &prod, REGION, -1)
        .await
        .err(400, "CBC.0100");
    app.admin(
        Method::PUT,
        &format!("/admin/v1/products/{prod}/capacities/{REGION}"),
        Some(json!({"capacity": "3"})),
    )
    .await
    .err(400, "CBC.0100");
    app.admin(
        Method::DELETE,
        &format!("/admin/v1/products/{prod}/capacities/{REGION}"),
        None,
    )
    .await
    .err(400, "CBC.0100");
    app.admin(
        Method::GET,
        "/admin/v1/products/no-such-product/capacities",
        None,
    )
    .await
    .err(400, "CBC.0100");
    // A product sold in one region has a capacity only there.
    let regional = product(&app, "cap-regional").await;
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/products/{regional}"),
            Some(product_body(&regional, json!({"region_code": REGION}))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    set_capacity(&app, &regional, "cn-east-3", 1)
        .await
        .err(400, "CBC.0100");
    assert_eq!(set_capacity(&app, &regional, REGION, 1).await.status, 200);
    // The admin API needs the admin token.
    let r = app
        .send(
            app.http
                .get(format!("{}/admin/v1/products/{prod}/capacities", app.base)),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.text);

    let r = set_capacity(&app, &prod, REGION, 3).await;
    let v = r.ok();
    assert_eq!(
        (
            &v["product_id"],
            &v["region_code"],
            &v["capacity"],
            &v["used"],
            &v["available"]
        ),
        (
            &json!(prod),
            &json!(REGION),
            &json!(3),
            &json!(0),
            &json!(3)
        )
    );
    assert!(v["updated_at"].as_str().unwrap().ends_with('Z'), "{v}");

    let a2 = order_of(&app, &a, &prod, REGION, 2).await;
    let b2 = order_of(&app, &b, &prod, REGION, 2).await;
    let a1 = order_of(&app, &a, &prod, REGION, 1).await;
    let r = pay(&app, &a, &a2, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = capacities(&app, &prod).await;
    assert_eq!((&c[0]["used"], &c[0]["available"]), (&json!(2), &json!(1)));

    // One over (2 asked, 1 left): refused with the product listed; nothing moves.
    let voucher = coupon(&app, &pb, &b.id, 0, "5.00", &[], 30).await;
    let before = money(&app, &b.id).await;
    let r = pay(&app, &b, &b2, &[(&voucher, 1)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        error_body(&r),
        json!({
            "error_code": "CBC.99003141",
            "error_msg": "The capacity is insufficient for this order (see error_details).",
            "error_details": [{
                "id": prod,
                "error_code": "CBC.99003141",
                "error_msg": format!("The capacity of product {prod} in region {REGION} is insufficient: 2 requested, 1 left."),
            }],
        })
    );
    assert_eq!(cash(&money(&app, &b.id).await), cash(&before));
    assert_eq!(balance(&app, &voucher, "customer_coupon_value").await, 500);
    assert_eq!(fee_records_of_order(&app, &b2).await, 0);
    assert_eq!(details(&app, &b, &b2).await["order_info"]["status"], 6);
    assert_eq!(live_copies(&app, &prod).await, 2);

    // The exact fit (1 asked, 1 left) passes; then nothing is left.
    let r = pay(&app, &a, &a1, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = capacities(&app, &prod).await;
    assert_eq!((&c[0]["used"], &c[0]["available"]), (&json!(3), &json!(0)));
    assert_eq!(cash(&money(&app, &a.id).await), "470.00");

    // Another region has no capacity set: unlimited.
    let south = order_of(&app, &b, &prod, "cn-south-1", 5).await;
    let r = pay(&app, &b, &south, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // An unsubscribed (closed) resource no longer counts: a copy is free again.
    let rid = details(&app, &a, &a1).await["order_line_items"][0]["resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let u = app
        .signed(&a)
        .post(
            UNSUBSCRIBE,
            &json!({"resource_ids": [rid], "unsubscribe_type": 1}),
        )
        .await;
    assert_eq!(u.ok()["fail_resource_infos"], json!([]), "{}", u.text);
    let c = capacities(&app, &prod).await;
    assert_eq!((&c[0]["used"], &c[0]["available"]), (&json!(2), &json!(1)));
    pay(&app, &b, &b2, &[]).await.err(400, "CBC.99003141");

    // Raised: the order fits.
    assert_eq!(set_capacity(&app, &prod, REGION, 4).await.status, 200);
    let r = pay(&app, &b, &b2, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Removed: unlimited again.
    let b9 = order_of(&app, &b, &prod, REGION, 9).await;
    pay(&app, &b, &b9, &[]).await.err(400, "CBC.99003141");
    let r = app
        .admin(
            Method::DELETE,
            &format!("/admin/v1/products/{prod}/capacities/{REGION}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(capacities(&app, &prod).await, json!([]));
    let r = pay(&app, &b, &b9, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn two_concurrent_payments_cannot_both_take_the_last_copies() {
    let app = TestApp::spawn().await;
    let (_pa, a) = funded_customer(&app, "500.00").await;
    let (_pb, b) = funded_customer(&app, "500.00").await;
    let prod = product(&app, "cap-race").await;
    for round in 1..=6 {
        // One copy left per round; two customers each pay for one at the same time.
        assert_eq!(set_capacity(&app, &prod, REGION, round).await.status, 200);
        let oa = order_of(&app, &a, &prod, REGION, 1).await;
        let ob = order_of(&app, &b, &prod, REGION, 1).await;
        let (ra, rb) = tokio::join!(pay(&app, &a, &oa, &[]), pay(&app, &b, &ob, &[]));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{} / {}", ra.text, rb.text);
        let (loser, loser_order) = if ra.status == 400 {
            (&ra, &oa)
        } else {
            (&rb, &ob)
        };
        loser.err(400, "CBC.99003141");
        assert_eq!(loser.body["error_details"][0]["id"], json!(prod));
        assert_eq!(fee_records_of_order(&app, loser_order).await, 0);
        assert_eq!(live_copies(&app, &prod).await, round);
        // The loser's order stays pending (it is cancelled so it does not pile up).
        let loser_creds = if ra.status == 400 { &a } else { &b };
        let r = crate::orders::put(
            &app,
            loser_creds,
            crate::orders::CANCEL,
            &json!({"order_id": loser_order}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // Six copies of 10.00 paid in all.
    let left_a: f64 = cash(&money(&app, &a.id).await).parse().unwrap();
    let left_b: f64 = cash(&money(&app, &b.id).await).parse().unwrap();
    assert_eq!(1000.0 - left_a - left_b, 60.0);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_product_without_a_tax_rate_is_cbc_99006093_and_nothing_moves() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "100.00").await;

    // New products get 6 % unless told otherwise; null is "none"; bad rates are refused.
    let r = register(&app, "tax-default", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["tax_rate"], "0.06");
    let r = register(&app, "tax-nine", json!({"tax_rate": "0.09"})).await;
    assert_eq!(r.body["tax_rate"], "0.09", "{}", r.text);
    let r = register(&app, "tax-none", json!({"tax_rate": null})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["tax_rate"], Value::Null);
    for bad in [
        json!("1"),
        json!("1.5"),
        json!("-0.06"),
        json!("0.12345"),
        json!("x"),
        json!(0.06),
    ] {
        register(&app, "tax-bad", json!({"tax_rate": bad}))
            .await
            .err(400, "CBC.0100");
    }
    let list = app
        .admin(Method::GET, "/admin/v1/products?limit=100", None)
        .await;
    let none = list.ok()["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == "tax-none")
        .cloned()
        .unwrap();
    assert_eq!(none["tax_rate"], Value::Null);
    // Rows written without the column (as before migration 0024) have the default rate.
    sqlx::query("insert into product (id, cloud_service_type, name, created_at) values ('tax-old', $1, 'Old', now())")
        .bind(ECS)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .admin(Method::GET, "/admin/v1/products/tax-old", None)
        .await;
    assert_eq!(r.ok()["tax_rate"], "0.06");

    // Creating an order of a product without a tax rate.
    let r = app
        .signed(&c)
        .post(
            ORDERS,
            &json!({"product_id": "tax-none", "region_code": REGION, "period_type": 2,
                    "period_num": 1, "subscription_num": 1}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        error_body(&r),
        json!({"error_code": "CBC.99006093",
               "error_msg": "The product tax-none has no tax rate; it cannot be priced."})
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from customer_order where customer_id = $1",
            &c.id
        )
        .await,
        0
    );

    // Paying an order whose product lost its tax rate after the order was made.
    let id = order_of(&app, &c, "tax-default", REGION, 1).await;
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/products/tax-default",
            Some(product_body("tax-default", json!({"tax_rate": null}))),
        )
        .await;
    assert_eq!(r.ok()["tax_rate"], Value::Null, "{}", r.text);
    let voucher = coupon(&app, &p, &c.id, 0, "5.00", &[], 30).await;
    let before = money(&app, &c.id).await;
    let r = pay(&app, &c, &id, &[(&voucher, 1)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        error_body(&r),
        json!({"error_code": "CBC.99006093",
               "error_msg": "The product tax-default has no tax rate; it cannot be priced."})
    );
    assert_eq!(cash(&money(&app, &c.id).await), cash(&before));
    assert_eq!(cash(&before), "100.00");
    assert_eq!(balance(&app, &voucher, "customer_coupon_value").await, 500);
    assert_eq!(fee_records_of_order(&app, &id).await, 0);
    assert_eq!(
        count(
            &app,
            "select count(*) from fee_record where customer_id = $1",
            &c.id
        )
        .await,
        0
    );
    assert_eq!(live_copies(&app, "tax-default").await, 0);
    assert_eq!(details(&app, &c, &id).await["order_info"]["status"], 6);

    // An update without tax_rate keeps it (none); with one, the order can be paid.
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/products/tax-default",
            Some(product_body("tax-default", json!({}))),
        )
        .await;
    assert_eq!(r.ok()["tax_rate"], Value::Null);
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/products/tax-default",
            Some(product_body("tax-default", json!({"tax_rate": "0.13"}))),
        )
        .await;
    assert_eq!(r.ok()["tax_rate"], "0.13");
    let r = pay(&app, &c, &id, &[(&voucher, 1)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(cash(&money(&app, &c.id).await), "95.00");
    assert_eq!(fee_records_of_order(&app, &id).await, 1);
    app.assert_audit_ok().await;
}
