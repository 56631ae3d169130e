//! The movable sandbox clock (issue 10, part 5).

use chrono::Duration;
use partner_center::domain::time::{format_ts, parse_ts};
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

async fn sandbox() -> TestApp {
    TestApp::spawn_sandbox().await
}

#[tokio::test]
async fn without_the_flag_the_clock_routes_do_not_exist() {
    let app = TestApp::spawn().await;
    app.admin(Method::GET, "/admin/v1/clock", None)
        .await
        .err(404, "APIG.0101");
    app.admin(
        Method::POST,
        "/admin/v1/clock",
        Some(json!({"advance_seconds": 60})),
    )
    .await
    .err(404, "APIG.0101");
    // Like an unknown route: no admin token needed to learn that.
    let r = app
        .send(app.http.get(format!("{}/admin/v1/clock", app.base)))
        .await;
    r.err(404, "APIG.0101");
}

#[tokio::test]
async fn the_clock_moves_forward_only_and_signatures_keep_the_real_time() {
    let app = sandbox().await;
    let start = app.now();
    let r = app.admin(Method::GET, "/admin/v1/clock", None).await;
    assert_eq!(r.ok()["offset_seconds"], 0);
    assert_eq!(r.body["now"], format_ts(start).as_str());

    let r = app
        .admin(
            Method::POST,
            "/admin/v1/clock",
            Some(json!({"advance_seconds": 3600})),
        )
        .await;
    assert_eq!(r.ok()["offset_seconds"], 3600);
    assert_eq!(r.body["steps"], 1);
    assert_eq!(
        r.body["now"],
        format_ts(start + Duration::hours(1)).as_str()
    );
    assert!(
        r.body["rules"]["authorizations_expired"].is_u64(),
        "{}",
        r.text
    );
    // To a time: two days later is two passes of the rules.
    let target = start + Duration::hours(1) + Duration::days(2);
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/clock",
            Some(json!({"now": format_ts(target)})),
        )
        .await;
    assert_eq!(r.ok()["steps"], 2);
    assert_eq!(r.body["now"], format_ts(target).as_str());
    let r = app.admin(Method::GET, "/admin/v1/clock", None).await;
    assert_eq!(r.ok()["offset_seconds"], 3600 + 2 * 86_400);
    assert_eq!(parse_ts(r.body["now"].as_str().unwrap()), Some(target));

    // Never backwards.
    for body in [
        json!({"advance_seconds": -1}),
        json!({"now": format_ts(target - Duration::seconds(1))}),
        json!({"now": format_ts(start)}),
    ] {
        app.admin(Method::POST, "/admin/v1/clock", Some(body))
            .await
            .err(400, "CBC.99014010");
    }
    for body in [
        json!({}),
        json!({"advance_seconds": 1, "now": format_ts(target)}),
        json!({"now": "tomorrow"}),
        json!({"advance_seconds": 400_000_000}),
        json!({"advance_seconds": "60"}),
    ] {
        app.admin(Method::POST, "/admin/v1/clock", Some(body))
            .await
            .err(400, "CBC.0100");
    }
    // Admin authentication as the other admin routes.
    let r = app
        .send(app.http.get(format!("{}/admin/v1/clock", app.base)))
        .await;
    r.err(401, "CBC.0154");
    let r = app.admin(Method::GET, "/admin/v1/clock", None).await;
    assert_eq!(r.ok()["offset_seconds"], 3600 + 2 * 86_400);

    // Clients sign with their real time: still accepted two days "later"; tokens use the
    // sandbox time.
    let p = app.create_partner("solution_provider", None).await;
    app.signed(&p)
        .post("/v2/partners/sub-customers/query", &json!({}))
        .await
        .ok();
    let t = app.token(&p.login, &p.password).await;
    assert_eq!(t.status, 201, "{}", t.text);
    assert_eq!(
        &t.body["token"]["issued_at"].as_str().unwrap()[..19],
        &format_ts(target)[..19]
    );
}

#[tokio::test]
async fn rules_run_for_the_time_passed_authorisations_and_association_requests_expire() {
    let app = sandbox().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let d = app.create_customer(&p, json!({})).await;
    let expire = app.now() + Duration::days(10);
    let r = app
        .signed(&p)
        .post(
            "/v2/partners/sub-customers/authorizations",
            &json!({"customer_id": c.id, "scope": "order", "reason": "x",
                    "expire_time": format_ts(expire)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["authorization_id"].as_str().unwrap().to_string();
    app.signed(&c)
        .post(
            &format!("/v2/customers/authorizations/{id}/approve"),
            &json!({}),
        )
        .await
        .ok();
    // An association request (7 days to answer).
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/unassociate",
            &json!({"customer_id": d.id, "reason": "moving on"}),
        )
        .await
        .ok();

    let r = app.advance_sandbox_clock(30 * 86_400).await;
    assert_eq!(r["steps"], 30);
    assert_eq!(r["rules"]["authorizations_expired"], 1, "{r}");
    assert_eq!(r["rules"]["association_requests_expired"], 1);
    // Done before the answer, without any read: the rows say so, at the expiry time.
    let (status, ended_at): (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select status, ended_at from customer_authorization where id = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), ended_at), ("EXPIRED", expire));
    let req_status: String =
        sqlx::query_scalar("select status from association_request where customer_id = $1")
            .bind(&d.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(req_status, "expired");
}

#[test]
fn the_binary_refuses_a_sandbox_clock_with_production_settings() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-center"))
        .arg("serve")
        .env("PARTNER_CENTER__SANDBOX__CLOCK", "true")
        .env("PARTNER_CENTER__DEV", "false")
        .env("PARTNER_CENTER__LOG__LEVEL", "error")
        .output()
        .expect("run partner-center");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sandbox.clock requires dev = true"), "{err}");
}
