//! Combined-transaction orders (合并交易, issue 10): `POST /v2/orders/customer-orders` with
//! `items[]` creates a parent and one sub-order per item; lists and details show the parent with
//! its `sub_order_infos`; the parent's id is paid (every sub-order in one payment: a fee record
//! and a resource per line, the balance moved by the sum to the fen) or cancelled (all of them);
//! a sub-order's id on `pay_orders` / `cancel_customer_order` is 400 CBC.99000089.

use reqwest::Method;
use serde_json::{json, Value};

use crate::consumption::{coupon, cycle, money, ECS};
use crate::helpers::{Creds, Resp, TestApp};
use crate::orders::{balance, details, funded_customer, pay, period_product, put, CANCEL, ORDERS};

const QUERY: &str = "/v2/orders/suscriptions/resources/query";
const FEES: &str = "/v2/bills/subcustomer-bills/res-fee-records";

/// An ECS product of resource spec `spec` with a monthly and a yearly price (yuan per period).
async fn product(app: &TestApp, spec: &str, month: &str, year: &str) -> String {
    let id = format!("prod-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/products",
            Some(product_body(&id, spec, month, year)),
        )
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    id
}

fn product_body(id: &str, spec: &str, month: &str, year: &str) -> Value {
    json!({
        "product_id": id,
        "cloud_service_type": ECS,
        "name": format!("Server {id}"),
        "resource_type_code": "hws.resource.type.vm",
        "resource_spec": spec,
        "period_prices": [{"period_type": 2, "price": month}, {"period_type": 3, "price": year}],
    })
}

fn item(product: &str, period_type: i64, period_num: i64, copies: i64, auto: bool) -> Value {
    json!({"product_id": product, "region_code": "cn-north-1", "period_type": period_type,
           "period_num": period_num, "subscription_num": copies, "is_auto_renew": auto})
}

async fn combined(app: &TestApp, c: &Creds, items: Vec<Value>) -> Resp {
    app.signed(c).post(ORDERS, &json!({ "items": items })).await
}

/// The exact CBC.99000089 answer for a sub-order of `parent`.
fn assert_use_parent(r: &Resp, parent: &str) {
    r.err(400, "CBC.99000089");
    assert_eq!(
        r.body["error_msg"],
        json!(format!(
            "This order id cannot be operated; use the combined-transaction id {parent}."
        )),
        "{}",
        r.text
    );
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["error_code", "error_msg", "request_id"],
        "{}",
        r.text
    );
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_string())
        .collect()
}

async fn order_count(app: &TestApp, customer: &str) -> i64 {
    sqlx::query_scalar("select count(*) from customer_order where customer_id = $1")
        .bind(customer)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_combined_order_is_shown_with_its_sub_orders_and_paid_by_the_parent_id_only() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "1000.00").await;
    let small = product(&app, "s6.small.1", "12.34", "120.00").await;
    let big = product(&app, "s6.large.2", "56.78", "500.00").await;
    // An ECS voucher of 30.00: it applies to every line, pays the first (24.68) and 5.32 of the
    // second.
    let voucher = coupon(&app, &p, &c.id, 0, "30.00", &[ECS], 30).await;

    // 2 × 12.34 + 500.00 (a year, auto-renewed) + 3 × 12.34 = 561.70.
    let created = combined(
        &app,
        &c,
        vec![
            item(&small, 2, 1, 2, false),
            item(&big, 3, 1, 1, true),
            item(&small, 2, 3, 1, false),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    let info = &created.body["order_info"];
    assert_eq!(info["order_id"], json!(parent));
    assert!(parent.starts_with("CS") && parent.len() == 17, "{parent}");
    assert_eq!(info["status"], 6);
    assert_eq!(info["order_type"], 1);
    assert_eq!(info["service_type_code"], ECS);
    assert_eq!(info["official_amount"].to_string(), "561.70");
    assert_eq!(info["amount_after_discount"].to_string(), "561.70");
    assert!(info.get("parent_order_id").is_none(), "{info}");
    let subs = ids(&info["sub_order_infos"]);
    assert_eq!(subs.len(), 3, "{info}");
    assert!(!subs.contains(&parent));
    let amounts: Vec<String> = info["sub_order_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["official_amount"].to_string())
        .collect();
    assert_eq!(amounts, ["24.68", "500.00", "37.02"]);
    for s in info["sub_order_infos"].as_array().unwrap() {
        assert_eq!(s["status"], 6, "{s}");
        assert_eq!(s["customer_id"], json!(c.id));
        assert_eq!(s["service_type_code"], ECS);
        assert_eq!(s["currency"], "CNY");
        assert!(s.get("sub_order_infos").is_none(), "{s}");
    }
    // Line items: one per sub-order, each naming its sub-order.
    let line_orders: Vec<&str> = created.body["order_line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        line_orders,
        subs.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // Details of the parent: its sub-orders (SubCustomerOrderV3) and their line items.
    let d = details(&app, &c, &parent).await;
    assert_eq!(d["total_count"], 3, "{d}");
    assert_eq!(ids(&d["order_info"]["sub_order_infos"]), subs);
    let s0 = &d["order_info"]["sub_order_infos"][0];
    assert_eq!(s0["user_name"], d["order_info"]["user_name"]);
    assert!(s0["pending_payment_end_time"].is_string(), "{s0}");
    let page = app
        .signed(&c)
        .get(&format!("{ORDERS}/details/{parent}"), "offset=1&limit=1")
        .await;
    assert_eq!(page.ok()["total_count"], 3);
    assert_eq!(page.body["order_line_items"][0]["order_id"], json!(subs[1]));
    // Details of a sub-order: an ordinary order naming its combined transaction.
    let d1 = details(&app, &c, &subs[1]).await;
    assert_eq!(d1["total_count"], 1);
    assert_eq!(d1["order_info"]["parent_order_id"], json!(parent));
    assert!(d1["order_info"].get("sub_order_infos").is_none());
    assert_eq!(d1["order_line_items"][0]["period_type"], 3);

    // The lists (customer and partner): the parent only, with its sub-orders (SubCustomerOrderV2).
    for who in [&c, &p] {
        let l = app
            .signed(who)
            .get(ORDERS, &format!("customer_id={}", c.id))
            .await;
        assert_eq!(l.ok()["total_count"], 1, "{}", l.text);
        let o = &l.body["order_infos"][0];
        assert_eq!(o["order_id"], json!(parent));
        assert_eq!(ids(&o["sub_order_infos"]), subs);
        assert!(o["sub_order_infos"][0].get("user_name").is_none());
        let by_sub = app
            .signed(who)
            .get(
                ORDERS,
                &format!("customer_id={}&order_id={}", c.id, subs[0]),
            )
            .await;
        assert_eq!(by_sub.ok()["total_count"], 0, "{}", by_sub.text);
    }
    // The coupons usable for the parent: the voucher (it applies to every sub-order's line).
    let usable = app
        .signed(&c)
        .get(
            "/v2/orders/customer-orders/order-coupons",
            &format!("order_id={parent}"),
        )
        .await;
    assert_eq!(usable.ok()["count"], 1, "{}", usable.text);

    // A sub-order cannot be paid or cancelled: CBC.99000089, and nothing moves.
    for sub in &subs {
        assert_use_parent(&pay(&app, &c, sub, &[]).await, &parent);
        assert_use_parent(
            &put(&app, &c, CANCEL, &json!({"order_id": sub})).await,
            &parent,
        );
    }
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "1000.00"
    );

    // Paying the parent pays every sub-order at once.
    let r = pay(&app, &c, &parent, &[(&voucher, 1)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.is_empty(), "{}", r.text);
    // 561.70 − 30.00 (voucher) = 531.70 from the cash, to the fen.
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "468.30"
    );
    assert_eq!(balance(&app, &voucher, "customer_coupon_value").await, 0);
    assert_eq!(balance(&app, &c.id, "usage_charged").await, 53170);
    let d = details(&app, &c, &parent).await;
    let info = &d["order_info"];
    assert_eq!(info["status"], 5);
    assert!(info["payment_time"].is_string());
    assert_eq!(info["amount_after_discount"].to_string(), "561.70");
    assert_eq!(info["amount_info"]["coupon_amount"].to_string(), "30.00");
    assert_eq!(info["amount_info"]["consumed_amount"].to_string(), "531.70");
    let sub_infos = info["sub_order_infos"].as_array().unwrap();
    let paid: Vec<(i64, String, String)> = sub_infos
        .iter()
        .map(|s| {
            (
                s["status"].as_i64().unwrap(),
                s["amount_info"]["coupon_amount"].to_string(),
                s["amount_info"]["consumed_amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        paid,
        [
            (5, "24.68".into(), "0.00".into()),
            (5, "5.32".into(), "494.68".into()),
            (5, "0.00".into(), "37.02".into())
        ]
    );
    for s in sub_infos {
        assert_eq!(s["payment_time"], info["payment_time"], "{s}");
    }

    // A fee record per sub-order (trade id = the sub-order), purchase, yearly/monthly.
    let fees = app
        .signed(&p)
        .get(
            FEES,
            &format!(
                "bill_cycle={}&customer_id={}&limit=100",
                cycle(app.now()),
                c.id
            ),
        )
        .await;
    let recs = fees.ok()["fee_records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(recs.len(), 3, "{}", fees.text);
    let mut by_trade: Vec<(String, String, i64, i64)> = recs
        .iter()
        .map(|f| {
            (
                f["trade_id"].as_str().unwrap().to_string(),
                f["payment_amount"].to_string(),
                f["bill_detail_type"].as_i64().unwrap(),
                f["charging_mode"].as_i64().unwrap(),
            )
        })
        .collect();
    by_trade.sort();
    let mut want: Vec<(String, String, i64, i64)> = subs
        .iter()
        .zip(["24.68", "500.00", "37.02"])
        .map(|(s, a)| (s.clone(), a.to_string(), 1, 1))
        .collect();
    want.sort();
    assert_eq!(by_trade, want);

    // A resource per sub-order, in use; the yearly one auto-renews.
    let lines = d["order_line_items"].as_array().unwrap();
    let resource_ids: Vec<String> = lines
        .iter()
        .map(|l| l["resource_id"].as_str().unwrap().to_string())
        .collect();
    let q = app
        .signed(&c)
        .post(QUERY, &json!({"resource_ids": resource_ids}))
        .await;
    assert_eq!(q.ok()["total_count"], 3, "{}", q.text);
    for r in q.body["data"].as_array().unwrap() {
        assert_eq!(r["status"], 2, "{r}");
        let auto = r["resource_id"] == json!(resource_ids[1]);
        assert_eq!(r["expire_policy"], if auto { 3 } else { 0 }, "{r}");
    }
    let owners: Vec<String> = sqlx::query_scalar(
        "select order_id from order_resource where id = any($1) order by order_id",
    )
    .bind(&resource_ids)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut sorted = subs.clone();
    sorted.sort();
    assert_eq!(owners, sorted);

    // Paying again is refused (the parent: state changed; a sub-order: use the parent), and a
    // paid combined order cannot be cancelled.
    pay(&app, &c, &parent, &[]).await.err(400, "CBC.99003106");
    assert_use_parent(&pay(&app, &c, &subs[0], &[]).await, &parent);
    put(&app, &c, CANCEL, &json!({"order_id": parent}))
        .await
        .err(400, "CBC.99005010");
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "468.30"
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn cancelling_the_parent_cancels_every_sub_order() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "100.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let created = combined(
        &app,
        &c,
        vec![
            item(&product, 2, 1, 1, false),
            item(&product, 2, 2, 1, true),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    let subs = ids(&created.body["order_info"]["sub_order_infos"]);
    assert_eq!(subs.len(), 2);

    assert_use_parent(
        &put(&app, &c, CANCEL, &json!({"order_id": subs[1]})).await,
        &parent,
    );
    let r = put(&app, &c, CANCEL, &json!({"order_id": parent})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = details(&app, &c, &parent).await;
    assert_eq!(d["order_info"]["status"], 4);
    let statuses: Vec<i64> = d["order_info"]["sub_order_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [4, 4]);
    for sub in &subs {
        assert_eq!(details(&app, &c, sub).await["order_info"]["status"], 4);
    }
    // Cancelled: not payable, not cancellable again; nothing moved.
    pay(&app, &c, &parent, &[]).await.err(400, "CBC.99003106");
    put(&app, &c, CANCEL, &json!({"order_id": parent}))
        .await
        .err(400, "CBC.99005010");
    assert_use_parent(&pay(&app, &c, &subs[0], &[]).await, &parent);
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "100.00"
    );
    let l = app.signed(&c).get(ORDERS, "status=4").await;
    assert_eq!(l.ok()["total_count"], 1, "{}", l.text);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_combined_order_without_enough_money_moves_nothing() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "15.00").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let created = combined(
        &app,
        &c,
        vec![
            item(&product, 2, 1, 1, false),
            item(&product, 2, 1, 1, false),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    // 20.00 due, 15.00 there: the first sub-order alone could be paid, but nothing is.
    pay(&app, &c, &parent, &[]).await.err(400, "CBC.99005003");
    assert_eq!(money(&app, &c.id).await["cash_amount"].to_string(), "15.00");
    let d = details(&app, &c, &parent).await;
    assert_eq!(d["order_info"]["status"], 6);
    assert_eq!(d["order_info"]["sub_order_infos"][0]["status"], 6);
    let fees: i64 = sqlx::query_scalar("select count(*) from fee_record where customer_id = $1")
        .bind(&c.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(fees, 0);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn combined_bodies_are_checked_and_a_single_product_body_is_unchanged() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "0").await;
    let product = period_product(&app, "10.00", "100.00").await;
    let one = item(&product, 2, 1, 1, false);

    // Empty, a single item, more than 10, mixed with top-level product fields.
    combined(&app, &c, vec![]).await.err(400, "CBC.0100");
    combined(&app, &c, vec![one.clone()])
        .await
        .err(400, "CBC.0100");
    combined(&app, &c, vec![one.clone(); 11])
        .await
        .err(400, "CBC.0100");
    let mut mixed = one.clone();
    mixed["items"] = json!([one.clone(), one.clone()]);
    app.signed(&c)
        .post(ORDERS, &mixed)
        .await
        .err(400, "CBC.0100");
    // An item's own errors name it; an unknown product in one item creates nothing at all.
    let r = combined(&app, &c, vec![one.clone(), item(&product, 2, 12, 1, false)]).await;
    r.err(400, "CBC.0100");
    assert!(
        r.body["error_msg"]
            .as_str()
            .unwrap()
            .contains("items[1].period_num"),
        "{}",
        r.text
    );
    let r = combined(&app, &c, vec![json!({"product_id": product}), one.clone()]).await;
    r.err(400, "CBC.0100");
    assert!(
        r.body["error_msg"]
            .as_str()
            .unwrap()
            .contains("items[0].region_code"),
        "{}",
        r.text
    );
    combined(
        &app,
        &c,
        vec![one.clone(), item("no-such-product", 2, 1, 1, false)],
    )
    .await
    .err(400, "CBC.50000054");
    assert_eq!(order_count(&app, &c.id).await, 0);

    // The single-product body as before: missing fields named, no sub-orders.
    let r = app
        .signed(&c)
        .post(
            ORDERS,
            &json!({"region_code": "cn-north-1", "period_type": 2}),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(
        r.body["error_msg"].as_str().unwrap().contains("product_id"),
        "{}",
        r.text
    );
    let r = app.signed(&c).post(ORDERS, &one).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.body["order_info"].get("sub_order_infos").is_none(),
        "{}",
        r.text
    );
    assert!(r.body["order_info"].get("parent_order_id").is_none());
    assert_eq!(order_count(&app, &c.id).await, 1);

    // Ten items: one parent and ten sub-orders, counted once for the creation limits.
    let r = combined(&app, &c, vec![one.clone(); 10]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["order_info"]["official_amount"].to_string(),
        "100.00"
    );
    assert_eq!(
        r.body["order_info"]["sub_order_infos"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(order_count(&app, &c.id).await, 12);
    let recent: i64 = sqlx::query_scalar(
        "select count(*) from customer_order where customer_id = $1 and parent_order_id is null",
    )
    .bind(&c.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recent, 2);
    let l = app.signed(&c).get(ORDERS, "limit=100").await;
    assert_eq!(l.ok()["total_count"], 2, "{}", l.text);
}

#[tokio::test]
async fn the_partner_discount_applies_to_every_sub_order_of_a_combined_payment() {
    let app = TestApp::spawn().await;
    let (p, c) = funded_customer(&app, "500.00").await;
    let a = product(&app, "s6.small.1", "99.99", "1000.00").await;
    let b = product(&app, "s6.large.2", "10.00", "100.00").await;
    let set = put(
        &app,
        &p,
        "/v2/partners/sub-customers/discounts",
        &json!({"customer_id": c.id, "discount_rate": "0.85"}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let created = combined(
        &app,
        &c,
        vec![item(&a, 2, 1, 1, false), item(&b, 2, 1, 1, false)],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    // The discount offered for the parent covers both sub-orders' lines.
    let r = app
        .signed(&c)
        .get(
            "/v2/orders/customer-orders/order-discounts",
            &format!("order_id={parent}"),
        )
        .await;
    let d = &r.ok()["discounts"][0];
    let off: Vec<String> = d["orders"][0]["order_line_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount_amount"].to_string())
        .collect();
    // 99.99 × 0.85 → 84.99 (15.00 off); 10.00 × 0.85 → 8.50 (1.50 off).
    assert_eq!(off, ["15.00", "1.50"], "{}", r.text);
    let did = d["discount_id"].as_str().unwrap().to_string();
    let r = app
        .signed(&c)
        .post(
            "/v3/orders/customer-orders/pay",
            &json!({"order_id": parent, "use_coupon": "NO", "use_discount": "YES",
                    "discount_infos": [{"id": did, "type": 3}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let info = &details(&app, &c, &parent).await["order_info"];
    assert_eq!(info["official_amount"].to_string(), "109.99");
    assert_eq!(info["amount_after_discount"].to_string(), "93.49");
    assert_eq!(
        info["amount_info"]["discounts"][0]["discount_amount"].to_string(),
        "16.50"
    );
    let subs: Vec<(String, String)> = info["sub_order_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["amount_after_discount"].to_string(),
                s["amount_info"]["discounts"][0]["discount_amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        subs,
        [
            ("84.99".to_string(), "15.00".to_string()),
            ("8.50".to_string(), "1.50".to_string())
        ]
    );
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "406.51"
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_end_of_the_payment_window_cancels_the_parent_and_its_sub_orders() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "100.00").await;
    let product = product(&app, "s6.small.1", "10.00", "100.00").await;
    let created = combined(
        &app,
        &c,
        vec![
            item(&product, 2, 1, 1, false),
            item(&product, 3, 1, 1, false),
        ],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    let subs = ids(&created.body["order_info"]["sub_order_infos"]);
    app.clock.advance(chrono::Duration::days(16));
    partner_center::service::time_rules::run_all(&app.state)
        .await
        .unwrap();
    for id in std::iter::once(&parent).chain(&subs) {
        assert_eq!(
            details(&app, &c, id).await["order_info"]["status"],
            4,
            "{id}"
        );
    }
    pay(&app, &c, &parent, &[]).await.err(400, "CBC.99003106");
    assert_eq!(
        money(&app, &c.id).await["cash_amount"].to_string(),
        "100.00"
    );
}

/// The capacity check sums the copies of every sub-order of one product and region: two
/// sub-orders of 2 copies each do not fit a capacity of 3 (CBC.99003141 naming the product,
/// nothing paid), and do once it is 4; a product without a tax rate in any sub-order refuses the
/// whole payment (CBC.99006093).
#[tokio::test]
async fn a_combined_payment_checks_capacity_over_all_sub_orders_and_every_tax_rate() {
    let app = TestApp::spawn().await;
    let (_p, c) = funded_customer(&app, "1000.00").await;
    let small = product(&app, "s6.small.1", "10.00", "100.00").await;
    let other = product(&app, "s6.large.2", "20.00", "200.00").await;
    let capacity = |n: i64| {
        let (app, small) = (&app, small.clone());
        async move {
            let r = app
                .admin(
                    Method::PUT,
                    &format!("/admin/v1/products/{small}/capacities/cn-north-1"),
                    Some(json!({ "capacity": n })),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    capacity(3).await;
    let items = vec![
        item(&small, 2, 1, 2, false),
        item(&other, 2, 1, 1, false),
        item(&small, 2, 1, 2, false),
    ];
    let created = combined(&app, &c, items).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let parent = created.body["order_id"].as_str().unwrap().to_string();
    let cash = balance(&app, &c.id, "customer_cash").await;
    let r = pay(&app, &c, &parent, &[]).await;
    r.err(400, "CBC.99003141");
    let details_of = r.body["error_details"].as_array().expect("error_details");
    assert_eq!(details_of.len(), 1, "{}", r.text);
    assert_eq!(details_of[0]["id"], json!(small), "{}", r.text);
    assert_eq!(balance(&app, &c.id, "customer_cash").await, cash);
    assert_eq!(details(&app, &c, &parent).await["order_info"]["status"], 6);

    // No tax rate on the other product: the whole payment is refused.
    capacity(4).await;
    let mut body = product_body(&other, "s6.large.2", "20.00", "200.00");
    body["tax_rate"] = Value::Null;
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/products/{other}"),
            Some(body.clone()),
        )
        .await;
    assert!(r.status == 200, "{}", r.text);
    pay(&app, &c, &parent, &[]).await.err(400, "CBC.99006093");
    assert_eq!(balance(&app, &c.id, "customer_cash").await, cash);

    body["tax_rate"] = json!("0.06");
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/products/{other}"),
            Some(body),
        )
        .await;
    assert!(r.status == 200, "{}", r.text);
    let r = pay(&app, &c, &parent, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // 2 × 10.00 + 20.00 + 2 × 10.00 = 60.00.
    assert_eq!(balance(&app, &c.id, "customer_cash").await, cash - 6000);
    app.assert_audit_ok().await;
}
