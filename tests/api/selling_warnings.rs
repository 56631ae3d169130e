//! Customer warnings (raised from the data or by the vendor, handled by the responsible person
//! only), sales-expansion tasks (a reseller's handled by its distributor) and the customer-count
//! dashboard.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{Creds, Resp, TestApp},
    organisation::{assign, operator, operator_id, role},
};

const WARNINGS: &str = "/v2/partners/customer-warnings";
const TASKS: &str = "/v2/partners/sales-tasks";

fn body(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

async fn fund(app: &TestApp, p: &Creds, customer: &str, amount: &str) {
    let r = app
        .signed(p)
        .post(
            "/v2/accounts/partner-accounts/adjust-amount",
            &body(&format!(
                r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
            )),
        )
        .await;
    r.ok();
}

fn warnings_of<'a>(r: &'a Resp, customer: &str, scene: &str) -> Vec<&'a Value> {
    r.ok()["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["customer_id"] == customer && w["scene"] == scene)
        .collect()
}

#[tokio::test]
async fn a_low_balance_raises_a_warning_that_only_the_responsible_manager_handles() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let r = role(
        &app,
        &p,
        "sales",
        &["warning:read", "warning:write", "customer:read"],
    )
    .await;
    let m1 = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let m2 = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let staff = operator(&app, &p, json!({"role_id": r})).await;
    let m1_id = operator_id(&app, &p, &m1).await;
    let c = app.create_customer(&p, json!({})).await;
    let rich = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    assign(&app, &p, &c, Some(&m1_id)).await.ok();
    fund(&app, &p, &c.id, "80.00").await;
    fund(&app, &p, &rich.id, "500.00").await;

    // No threshold, no warning.
    assert_eq!(
        app.signed(&p).get(WARNINGS, "").await.ok()["total_count"],
        0
    );
    app.signed(&m1)
        .request(
            Method::PUT,
            &format!("{WARNINGS}/settings"),
            "",
            Some(json!({"low_balance_threshold": 100}).to_string()),
            Default::default(),
        )
        .await
        .err(403, "CBC.0151");
    let s = app
        .signed(&p)
        .request(
            Method::PUT,
            &format!("{WARNINGS}/settings"),
            "",
            Some(r#"{"low_balance_threshold": 100.00}"#.to_string()),
            Default::default(),
        )
        .await;
    assert_eq!(s.ok()["low_balance_threshold"].to_string(), "100.00");
    let g = app
        .signed(&p)
        .get(&format!("{WARNINGS}/settings"), "")
        .await;
    assert_eq!(g.ok()["low_balance_threshold"].to_string(), "100.00");

    // The clock-driven scan raises it, without the vendor: 80.00 < 100.00; 500.00 is fine and
    // an advisory customer has no balance of the partner's.
    // (The server's own sweep may have run first; either way it is raised once.)
    partner_center::service::warnings::scan(&app.state, None)
        .await
        .unwrap();
    let l = app.signed(&p).get(WARNINGS, "").await;
    assert_eq!(l.ok()["total_count"], 1, "{}", l.text);
    let w = warnings_of(&l, &c.id, "LOW_BALANCE")[0].clone();
    assert_eq!(w["status"], "OPEN");
    assert_eq!(w["level"], "WARNING");
    assert!(w["detail"].as_str().unwrap().contains("80.00"), "{w}");
    assert!(warnings_of(&l, &rich.id, "LOW_BALANCE").is_empty());
    assert!(warnings_of(&l, &advisory.id, "LOW_BALANCE").is_empty());
    // Scanning again raises nothing new.
    partner_center::service::warnings::scan(&app.state, None)
        .await
        .unwrap();
    assert_eq!(
        app.signed(&p).get(WARNINGS, "").await.ok()["total_count"],
        1
    );
    let id = w["warning_id"].as_i64().unwrap();
    let handle = format!("{WARNINGS}/{id}/handle");

    // Scope: m2 does not see it; staff and the main account see it but are not responsible.
    assert_eq!(
        app.signed(&m2).get(WARNINGS, "").await.ok()["total_count"],
        0
    );
    app.signed(&m2)
        .post(&handle, &json!({"action": "called"}))
        .await
        .err(400, "CBC.99012008");
    app.signed(&staff)
        .post(&handle, &json!({"action": "called"}))
        .await
        .err(403, "CBC.0151");
    app.signed(&p)
        .post(&handle, &json!({"action": "called"}))
        .await
        .err(403, "CBC.0151");
    app.signed(&m1)
        .post(&handle, &json!({"action": ""}))
        .await
        .err(400, "CBC.0100");
    let h = app
        .signed(&m1)
        .post(
            &handle,
            &json!({"action": "called", "remark": "will top up"}),
        )
        .await;
    assert_eq!(
        (
            h.ok()["status"].as_str(),
            h.body["action"].as_str(),
            h.body["remark"].as_str()
        ),
        (Some("HANDLED"), Some("called"), Some("will top up"))
    );
    app.signed(&m1)
        .post(&handle, &json!({"action": "again"}))
        .await
        .err(400, "CBC.99012009");
    // Handled today: not raised again today while still low; tomorrow it is.
    let low = format!("scene=LOW_BALANCE&customer_id={}", c.id);
    assert_eq!(
        app.signed(&p).get(WARNINGS, &low).await.ok()["total_count"],
        1
    );
    app.clock.advance(chrono::Duration::days(1));
    let l = app.signed(&p).get(WARNINGS, &low).await;
    assert_eq!(l.ok()["total_count"], 2);
    assert_eq!(l.body["warnings"][0]["status"], "OPEN");
    // Topped up above the threshold: nothing more the day after.
    fund(&app, &p, &c.id, "50.00").await;
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        app.signed(&p).get(WARNINGS, &low).await.ok()["total_count"],
        2
    );

    // A customer without a manager: the main account is responsible.
    let v = app
        .admin(
            Method::POST,
            "/admin/v1/customer-warnings",
            Some(json!({"customer_id": rich.id, "level": "CRITICAL", "detail": "payment risk"})),
        )
        .await;
    assert_eq!(v.status, 201, "{}", v.text);
    assert_eq!(v.body["scene"], "VENDOR");
    let vid = v.body["warning_id"].as_i64().unwrap();
    app.signed(&m1)
        .post(&format!("{WARNINGS}/{vid}/handle"), &json!({"action": "x"}))
        .await
        .err(400, "CBC.99012008");
    let h = app
        .signed(&p)
        .post(
            &format!("{WARNINGS}/{vid}/handle"),
            &json!({"action": "reviewed"}),
        )
        .await;
    assert_eq!(h.ok()["status"], "HANDLED");
    let l = app.signed(&p).get(WARNINGS, "scene=VENDOR").await;
    assert_eq!(l.ok()["total_count"], 1);
    app.signed(&p)
        .get(WARNINGS, "scene=NOPE")
        .await
        .err(400, "CBC.0100");
    app.signed(&c).get(WARNINGS, "").await.err(403, "CBC.0151");
}

#[tokio::test]
async fn an_unassociation_raises_a_warning() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let r = app
        .signed(&c)
        .post("/v2/customers/unassociate", &json!({"reason": "moving on"}))
        .await;
    let id = r.ok()["request_id"].as_i64().unwrap();
    app.signed(&p)
        .post(
            &format!("/v2/partners/sub-customers/association-requests/{id}/approve"),
            &json!({"reason": "ok"}),
        )
        .await
        .ok();
    // The list evaluates lazily (no sweep needed).
    let l = app.signed(&p).get(WARNINGS, "scene=UNASSOCIATED").await;
    let ws = warnings_of(&l, &c.id, "UNASSOCIATED");
    assert_eq!(ws.len(), 1, "{}", l.text);
    assert!(
        ws[0]["detail"].as_str().unwrap().contains("un-associated"),
        "{}",
        ws[0]
    );
    // Once only.
    partner_center::service::warnings::scan(&app.state, None)
        .await
        .unwrap();
    let l = app.signed(&p).get(WARNINGS, "").await;
    assert_eq!(l.ok()["total_count"], 1);
    // The dashboard counts it.
    let d = app
        .signed(&p)
        .get("/v2/partners/dashboards/customers", "")
        .await;
    assert_eq!(
        (d.ok()["unassociated"].as_i64(), d.body["total"].as_i64()),
        (Some(1), Some(0))
    );
}

#[tokio::test]
async fn a_resellers_customer_tasks_are_handled_by_its_distributor_and_read_by_the_reseller() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let rs = app.create_partner("reseller", Some(&d.id)).await;
    let sp = app.create_partner("solution_provider", None).await;
    let rc = app
        .create_customer(&d, json!({"indirect_partner_id": rs.id}))
        .await;
    let sc = app.create_customer(&sp, json!({})).await;
    let new_task = |customer: &str, t: &str| {
        json!({"customer_id": customer, "task_type": t, "title": "Renew ECS",
               "due_date": "2027-01-31"})
    };
    app.admin(
        Method::POST,
        "/admin/v1/sales-tasks",
        Some(new_task(&rc.id, "UPSELL")),
    )
    .await
    .err(400, "CBC.0100");
    let t = app
        .admin(
            Method::POST,
            "/admin/v1/sales-tasks",
            Some(new_task(&rc.id, "RENEWAL_DUE")),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.text);
    assert_eq!(
        (
            t.body["partner_id"].as_str(),
            t.body["handler_partner_id"].as_str()
        ),
        (Some(rs.id.as_str()), Some(d.id.as_str()))
    );
    let tid = t.body["task_id"].as_str().unwrap().to_string();
    let own = app
        .admin(
            Method::POST,
            "/admin/v1/sales-tasks",
            Some(new_task(&sc.id, "CROSS_SELL")),
        )
        .await;
    assert_eq!(own.body["handler_partner_id"], sp.id.as_str());

    // The reseller reads it and may not handle it; the distributor handles it.
    let l = app.signed(&rs).get(TASKS, "").await;
    assert_eq!(l.ok()["total_count"], 1);
    assert_eq!(l.body["tasks"][0]["task_id"], tid.as_str());
    let handle = format!("{TASKS}/{tid}/handle");
    app.signed(&rs)
        .post(&handle, &json!({"result": "renewed"}))
        .await
        .err(403, "CBC.0151");
    app.signed(&sp)
        .post(&handle, &json!({"result": "renewed"}))
        .await
        .err(400, "CBC.99012010");
    assert_eq!(
        app.signed(&d).get(TASKS, "status=OPEN").await.ok()["total_count"],
        1
    );
    let h = app
        .signed(&d)
        .post(&handle, &json!({"result": "renewed", "remark": "1 year"}))
        .await;
    assert_eq!(
        (h.ok()["status"].as_str(), h.body["result"].as_str()),
        (Some("DONE"), Some("renewed"))
    );
    app.signed(&d)
        .post(&handle, &json!({"result": "again"}))
        .await
        .err(400, "CBC.99012011");
    let l = app.signed(&rs).get(TASKS, "status=DONE").await;
    assert_eq!(l.ok()["tasks"][0]["handled_by"], d.id.as_str());
    assert_eq!(
        app.signed(&sp)
            .get(TASKS, "task_type=CROSS_SELL")
            .await
            .ok()["total_count"],
        1
    );
    assert_eq!(
        app.signed(&sp)
            .get(TASKS, "task_type=RENEWAL_DUE")
            .await
            .ok()["total_count"],
        0
    );
}

#[tokio::test]
async fn the_customer_dashboard_counts_total_new_and_by_association_type_within_scope() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let r = role(&app, &p, "sales", &["customer:read"]).await;
    let m = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let m_id = operator_id(&app, &p, &m).await;
    let old = app.create_customer(&p, json!({})).await;
    app.clock.advance(chrono::Duration::days(40));
    let since = partner_center::domain::time::format_ts(app.now());
    let a = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let b = app.create_customer(&p, json!({})).await;
    assign(&app, &p, &b, Some(&m_id)).await.ok();
    let _ = (&old, &a);
    let d = app
        .signed(&p)
        .get(
            "/v2/partners/dashboards/customers",
            &format!("time_begin={since}"),
        )
        .await;
    let v = d.ok();
    assert_eq!(
        (
            v["total"].as_i64(),
            v["new"].as_i64(),
            v["unassociated"].as_i64()
        ),
        (Some(3), Some(2), Some(0))
    );
    assert_eq!(
        (
            v["by_association_type"]["advisory"].as_i64(),
            v["by_association_type"]["resale"].as_i64()
        ),
        (Some(1), Some(2))
    );
    let d = app
        .signed(&m)
        .get(
            "/v2/partners/dashboards/customers",
            &format!("time_begin={since}"),
        )
        .await;
    assert_eq!(
        (d.ok()["total"].as_i64(), d.body["new"].as_i64()),
        (Some(1), Some(1))
    );
    app.signed(&p)
        .get(
            "/v2/partners/dashboards/customers",
            "time_begin=2026-13-01T00:00:00Z",
        )
        .await
        .err(400, "CBC.0100");
}
