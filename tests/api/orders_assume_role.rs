//! Issue 10's first acceptance line, end to end: a partner without the customer's authorisation
//! gets no assume-role token; with it, the partner creates and pays an order as the customer;
//! after the customer revokes it, the token stops working; the records name the partner.

use reqwest::Method;
use serde_json::json;

use crate::{
    consumption::fund,
    helpers::TestApp,
    orders::{details, period_product},
};

const ORDERS: &str = "/v2/orders/customer-orders";
const PAY: &str = "/v3/orders/customer-orders/pay";

#[tokio::test]
async fn a_partner_orders_and_pays_for_its_customer_only_while_authorised_and_is_the_recorded_actor(
) {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "5000.00").await;
    let c = app.create_customer(&p, json!({})).await;
    fund(&app, &p, &c.id, "300.00").await.ok();
    let product = period_product(&app, "100.00", "1000.00").await;

    // No authorisation yet: no token.
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");

    // Authorised and assumed: the partner creates and pays an order as the customer.
    let authorization_id = app.authorize(&p, &c, "order").await;
    let r = app.assume_role(&p, &c.id).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.headers["x-subject-token"].to_str().unwrap().to_string();
    let body = json!({"product_id": product, "region_code": "cn-north-1", "period_type": 2,
                      "period_num": 1, "subscription_num": 1});
    let created = app
        .with_token(&token, Method::POST, ORDERS, Some(&body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let order_id = created.body["order_id"].as_str().unwrap().to_string();
    let paid = app
        .with_token(
            &token,
            Method::POST,
            PAY,
            Some(&json!({"order_id": order_id, "use_coupon": "NO", "use_discount": "NO"})),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);

    // The customer's own view: the order is paid from its cash, created by the partner as agent.
    let d = details(&app, &c, &order_id).await;
    let info = &d["order_info"];
    assert_eq!(info["status"], 5);
    assert_eq!(info["source_type"], 2, "an agent's order");
    assert_eq!(info["actor_kind"], "partner");
    assert_eq!(info["actor_id"], p.id.as_str());
    assert_eq!(info["amount_after_discount"].as_f64(), Some(100.0));
    let cash: i64 = sqlx::query_scalar(
        "select balance from ledger_account where owner_id = $1 and purpose = 'customer_cash'",
    )
    .bind(&c.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(cash, 20_000, "300.00 funded − 100.00 paid, in fen");

    // The request log names the partner for each call made with the token.
    let logged: Vec<(String, String, i32)> = sqlx::query_as(
        "select partner_id, path, coalesce(status, 0)::int from assumed_role_request
          where authorization_id = $1 order by id",
    )
    .bind(&authorization_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let paths: Vec<(&str, i32)> = logged
        .iter()
        .map(|(_, path, s)| (path.as_str(), *s))
        .collect();
    assert_eq!(paths, vec![(ORDERS, 201), (PAY, 200)]);
    assert!(logged.iter().all(|(partner, _, _)| partner == &p.id));

    // Scope `order` does not reach resources, nor the customer's other routes.
    app.with_token(
        &token,
        Method::POST,
        "/v2/orders/suscriptions/resources/query",
        Some(&json!({})),
    )
    .await
    .err(403, "CBC.99014006");
    app.with_token(&token, Method::GET, "/v2/customers/authorizations", None)
        .await
        .err(403, "CBC.99014006");

    // The customer revokes: the same token stops at once, and no new one is issued.
    let rv = app
        .signed(&c)
        .post(
            &format!("/v2/customers/authorizations/{authorization_id}/revoke"),
            &json!({}),
        )
        .await;
    assert_eq!(rv.ok()["status"], "REVOKED");
    app.with_token(&token, Method::POST, ORDERS, Some(&body))
        .await
        .err(403, "CBC.99014005");
    app.assume_role(&p, &c.id).await.err(403, "CBC.99014005");
    let orders: i64 =
        sqlx::query_scalar("select count(*) from customer_order where customer_id = $1")
            .bind(&c.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(orders, 1, "nothing was created after the revocation");
    app.assert_audit_ok().await;
}
