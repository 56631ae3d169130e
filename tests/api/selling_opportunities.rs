//! Opportunities: the PO review cycle with history and If-Match, the duplicate rule, HO acceptance
//! deadlines over weekends and holidays (clock driven), manager and supervisor scope.

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{Creds, Resp, Tamper, TestApp},
    organisation::{assign, operator, operator_id, role},
};

const OPPS: &str = "/v2/partners/opportunities";

fn po_body(customer_id: &str) -> Value {
    json!({
        "customer_id": customer_id,
        "title": "Migrate the ERP",
        "industry": "manufacturing",
        "opportunity_type": "new_business",
        "stage": "qualifying",
        "confidence": 30,
        "expected_monthly_revenue": 1000.50,
        "expected_close_date": "2027-03-31",
        "product_line": "compute",
        "products": ["ecs", "evs"],
        "customer_consent": true,
    })
}

async fn create(app: &TestApp, who: &Creds, body: &Value) -> Value {
    let r = app.signed(who).post(OPPS, body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

fn with_if_match(etag: Option<&str>) -> Tamper {
    Tamper {
        headers: etag
            .map(|e| vec![("If-Match", e.to_string())])
            .unwrap_or_default(),
        ..Default::default()
    }
}

async fn put(app: &TestApp, who: &Creds, id: &str, etag: Option<&str>, body: Value) -> Resp {
    app.signed(who)
        .request(
            Method::PUT,
            &format!("{OPPS}/{id}"),
            "",
            Some(body.to_string()),
            with_if_match(etag),
        )
        .await
}

async fn act(
    app: &TestApp,
    who: &Creds,
    id: &str,
    what: &str,
    etag: Option<&str>,
    body: Value,
) -> Resp {
    app.signed(who)
        .request(
            Method::POST,
            &format!("{OPPS}/{id}/{what}"),
            "",
            Some(body.to_string()),
            with_if_match(etag),
        )
        .await
}

async fn get(app: &TestApp, who: &Creds, id: &str) -> Resp {
    app.signed(who).get(&format!("{OPPS}/{id}"), "").await
}

async fn vendor(app: &TestApp, id: &str, what: &str, body: Value) -> Resp {
    app.admin(
        Method::POST,
        &format!("/admin/v1/opportunities/{id}/{what}"),
        Some(body),
    )
    .await
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

#[tokio::test]
async fn a_po_goes_from_draft_to_won_with_every_step_in_its_history() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;

    let mut no_consent = po_body(&c.id);
    no_consent["customer_consent"] = json!(false);
    app.signed(&p)
        .post(OPPS, &no_consent)
        .await
        .err(400, "CBC.0100");
    let mut bad = po_body(&c.id);
    bad["confidence"] = json!(101);
    let r = app.signed(&p).post(OPPS, &bad).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("confidence"), "{}", r.text);

    let o = create(&app, &p, &po_body(&c.id)).await;
    let id = s(&o["opportunity_id"]).to_string();
    assert_eq!((s(&o["origin"]), s(&o["status"])), ("PO", "DRAFT"));
    assert_eq!(o["expected_monthly_revenue"].to_string(), "1000.50");
    let etag1 = s(&o["etag"]).to_string();

    // Updates need If-Match (428) and a current one (412, nothing changes).
    put(&app, &p, &id, None, json!({"title": "x"}))
        .await
        .err(428, "CBC.99012005");
    put(&app, &p, &id, Some("\"999\""), json!({"title": "x"}))
        .await
        .err(412, "CBC.99012004");
    let g = get(&app, &p, &id).await;
    assert_eq!(s(&g.ok()["title"]), "Migrate the ERP");
    assert_eq!(s(&g.body["etag"]), etag1);
    assert_eq!(g.headers["etag"].to_str().unwrap(), etag1);

    let r = act(&app, &p, &id, "submit", Some(&etag1), json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "SUBMITTED");
    let etag2 = s(&r.body["etag"]).to_string();
    assert_ne!(etag1, etag2);
    // Under review: no edits, and a stale tag is still 412.
    put(&app, &p, &id, Some(&etag2), json!({"title": "x"}))
        .await
        .err(400, "CBC.99012002");
    put(&app, &p, &id, Some(&etag1), json!({"title": "x"}))
        .await
        .err(412, "CBC.99012004");

    vendor(&app, &id, "reject", json!({}))
        .await
        .err(400, "CBC.0100");
    let r = vendor(
        &app,
        &id,
        "reject",
        json!({"reason": "customer name unclear"}),
    )
    .await;
    assert_eq!(s(&r.ok()["status"]), "REJECTED");
    assert_eq!(s(&r.body["reason"]), "customer name unclear");
    let etag3 = s(&r.body["etag"]).to_string();

    let r = put(
        &app,
        &p,
        &id,
        Some(&etag3),
        json!({"title": "Migrate the ERP to ECS"}),
    )
    .await;
    assert_eq!(s(&r.ok()["status"]), "REJECTED");
    let etag4 = s(&r.body["etag"]).to_string();
    let r = act(&app, &p, &id, "submit", None, json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "SUBMITTED");
    let r = vendor(&app, &id, "approve", json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "APPROVED");
    assert!(r.body["approved_at"].is_string());
    vendor(&app, &id, "approve", json!({}))
        .await
        .err(400, "CBC.99012002");
    let etag5 = s(&r.body["etag"]).to_string();
    put(&app, &p, &id, Some(&etag4), json!({"stage": "x"}))
        .await
        .err(412, "CBC.99012004");

    // Progress updates; identity fields are fixed after approval.
    let r = put(&app, &p, &id, Some(&etag5), json!({"title": "renamed"})).await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("title"), "{}", r.text);
    let r = put(
        &app,
        &p,
        &id,
        Some(&etag5),
        json!({"stage": "negotiation", "confidence": 80, "expected_monthly_revenue": 1234.56,
               "next_step": "pricing", "technical_exchange": "PoC done", "test_status": "passed"}),
    )
    .await;
    let v = r.ok();
    assert_eq!(
        (s(&v["status"]), s(&v["stage"]), v["confidence"].as_i64()),
        ("APPROVED", "negotiation", Some(80))
    );
    assert_eq!(v["expected_monthly_revenue"].to_string(), "1234.56");
    let etag6 = s(&v["etag"]).to_string();

    act(
        &app,
        &p,
        &id,
        "close",
        None,
        json!({"result": "WON", "reason": "signed"}),
    )
    .await
    .err(428, "CBC.99012005");
    act(
        &app,
        &p,
        &id,
        "close",
        Some(&etag6),
        json!({"result": "MAYBE", "reason": "x"}),
    )
    .await
    .err(400, "CBC.0100");
    let r = act(
        &app,
        &p,
        &id,
        "close",
        Some(&etag6),
        json!({"result": "WON", "reason": "signed"}),
    )
    .await;
    assert_eq!(s(&r.ok()["status"]), "WON");
    put(
        &app,
        &p,
        &id,
        Some(s(&r.body["etag"])),
        json!({"stage": "x"}),
    )
    .await
    .err(400, "CBC.99012002");

    let g = get(&app, &p, &id).await;
    let steps: Vec<(String, String)> = g.ok()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(&e["action"]).to_string(), s(&e["to_status"]).to_string()))
        .collect();
    let want = [
        ("create", "DRAFT"),
        ("submit", "SUBMITTED"),
        ("reject", "REJECTED"),
        ("edit", "REJECTED"),
        ("submit", "SUBMITTED"),
        ("approve", "APPROVED"),
        ("progress", "APPROVED"),
        ("win", "WON"),
    ];
    assert_eq!(
        steps,
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    let h = &g.body["history"];
    assert_eq!(s(&h[2]["reason"]), "customer name unclear");
    assert_eq!(s(&h[2]["actor_kind"]), "vendor");
    assert_eq!(s(&h[3]["changes"]["title"]), "Migrate the ERP to ECS");
    assert_eq!(h[6]["changes"]["confidence"], 80);
    assert_eq!(s(&h[7]["reason"]), "signed");

    // Nobody else sees it; customers are refused.
    let other = app.create_partner("solution_provider", None).await;
    get(&app, &other, &id).await.err(400, "CBC.99012001");
    put(&app, &other, &id, Some("\"1\""), json!({"stage": "x"}))
        .await
        .err(400, "CBC.99012001");
    get(&app, &c, &id).await.err(403, "CBC.0151");
    app.signed(&other)
        .post(OPPS, &po_body(&c.id))
        .await
        .err(400, "CBC.99000035");
    let l = app.signed(&other).get(OPPS, "").await;
    assert_eq!(l.ok()["total_count"], 0);
}

#[tokio::test]
async fn the_later_registration_of_a_customer_and_product_line_is_marked_duplicate() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;

    // A PO is submitted first, but an HO shared before its approval wins: an HO counts from its
    // creation, a PO from its approval.
    let a = create(&app, &p, &po_body(&c.id)).await;
    let a_id = s(&a["opportunity_id"]).to_string();
    act(&app, &p, &a_id, "submit", None, json!({})).await.ok();
    app.clock.advance(chrono::Duration::minutes(5));
    let ho = app
        .admin(
            Method::POST,
            "/admin/v1/opportunities",
            Some(
                json!({"partner_id": p.id, "customer_id": c.id, "title": "ECS for ERP",
                        "product_line": "compute"}),
            ),
        )
        .await;
    assert_eq!(ho.status, 201, "{}", ho.text);
    let ho_id = s(&ho.body["opportunity_id"]).to_string();
    assert_eq!(s(&ho.body["status"]), "PENDING_ACCEPTANCE");
    app.clock.advance(chrono::Duration::minutes(5));
    let r = vendor(&app, &a_id, "approve", json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "DUPLICATE");
    assert_eq!(s(&r.body["duplicate_of"]), ho_id);
    let g = get(&app, &p, &a_id).await;
    let last = g.ok()["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (s(&last["action"]), s(&last["to_status"])),
        ("approve", "DUPLICATE")
    );
    assert_eq!(s(&last["changes"]["duplicate_of"]), ho_id);

    // Another product line is no duplicate; an HO shared after that PO's approval is.
    let mut b = po_body(&c.id);
    b["product_line"] = json!("storage");
    let b = create(&app, &p, &b).await;
    let b_id = s(&b["opportunity_id"]).to_string();
    act(&app, &p, &b_id, "submit", None, json!({})).await.ok();
    let r = vendor(&app, &b_id, "approve", json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "APPROVED");
    app.clock.advance(chrono::Duration::minutes(5));
    let ho2 = app
        .admin(
            Method::POST,
            "/admin/v1/opportunities",
            Some(
                json!({"partner_id": p.id, "customer_id": c.id, "title": "OBS",
                        "product_line": "storage"}),
            ),
        )
        .await;
    assert_eq!(ho2.status, 201, "{}", ho2.text);
    assert_eq!(
        (s(&ho2.body["status"]), s(&ho2.body["duplicate_of"])),
        ("DUPLICATE", b_id.as_str())
    );
    // A duplicate cannot be accepted.
    act(
        &app,
        &p,
        s(&ho2.body["opportunity_id"]),
        "accept",
        None,
        json!({}),
    )
    .await
    .err(400, "CBC.99012002");

    // Filters: origin, status.
    let l = app.signed(&p).get(OPPS, "origin=HO").await;
    assert_eq!(l.ok()["total_count"], 2);
    let l = app.signed(&p).get(OPPS, "status=DUPLICATE&limit=1").await;
    assert_eq!(l.ok()["total_count"], 2);
    assert_eq!(l.body["opportunities"].as_array().unwrap().len(), 1);
    app.signed(&p)
        .get(OPPS, "status=NOPE")
        .await
        .err(400, "CBC.0100");
    let l = app
        .admin(
            Method::GET,
            &format!(
                "/admin/v1/opportunities?partner_id={}&status=APPROVED",
                p.id
            ),
            None,
        )
        .await;
    assert_eq!(l.ok()["total_count"], 1);
    assert_eq!(s(&l.body["opportunities"][0]["opportunity_id"]), b_id);
}

/// 2026-12-03 is a Thursday; `h` hours Beijing time (UTC+8).
fn beijing(day: u32, h: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 12, day, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn share(app: &TestApp, p: &Creds, title: &str) -> Value {
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/opportunities",
            Some(
                json!({"partner_id": p.id, "prospect": {"name": format!("Prospect {title}")},
                        "title": title}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn stored_status(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select status from opportunity where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_ho_is_accepted_on_day_two_and_an_untouched_one_expires_after_three_working_days() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.clock.set(beijing(3, 10));
    let first = share(&app, &p, "first").await;
    let second = share(&app, &p, "second").await;
    let (id1, id2) = (s(&first["opportunity_id"]), s(&second["opportunity_id"]));
    // Friday, Monday, Tuesday: the deadline is Wednesday 00:00 Beijing.
    assert_eq!(s(&second["accept_deadline"]), "2026-12-08T16:00:00Z");
    assert_eq!(s(&second["origin"]), "HO");

    app.clock.set(beijing(4, 15));
    act(&app, &p, id1, "reject", None, json!({}))
        .await
        .err(400, "CBC.0100");
    let r = act(&app, &p, id1, "accept", None, json!({})).await;
    assert_eq!(s(&r.ok()["status"]), "ACCEPTED");
    let r = put(
        &app,
        &p,
        id1,
        Some(s(&r.body["etag"])),
        json!({"stage": "poc"}),
    )
    .await;
    assert_eq!(s(&r.ok()["stage"]), "poc");

    // Tuesday 23:59 Beijing: five calendar days, but only the weekend in between — still open.
    app.clock
        .set(beijing(8, 23) + chrono::Duration::minutes(59));
    assert_eq!(
        partner_center::service::opportunities::expire_overdue(&app.state, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s(&get(&app, &p, id2).await.ok()["status"]),
        "PENDING_ACCEPTANCE"
    );

    // Wednesday 00:00: the sweep takes it back, without anyone asking (the server's own
    // minute sweep may beat this call to it).
    app.clock.set(beijing(9, 0));
    let n = partner_center::service::opportunities::expire_overdue(&app.state, None)
        .await
        .unwrap();
    assert!(n <= 1);
    assert_eq!(stored_status(&app, id2).await, "EXPIRED");
    let g = get(&app, &p, id2).await;
    assert_eq!(s(&g.ok()["status"]), "EXPIRED");
    let last = g.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (s(&last["action"]), s(&last["actor_kind"])),
        ("expire", "system")
    );
    act(&app, &p, id2, "accept", None, json!({}))
        .await
        .err(400, "CBC.99012002");
    assert_eq!(s(&get(&app, &p, id1).await.ok()["status"]), "ACCEPTED");

    // Without the sweep, answering late expires it on the spot; reads expire lazily too.
    app.clock.set(beijing(10, 9));
    let late = share(&app, &p, "late").await;
    let lazy = share(&app, &p, "lazy").await;
    app.clock.set(beijing(16, 0));
    act(
        &app,
        &p,
        s(&late["opportunity_id"]),
        "accept",
        None,
        json!({}),
    )
    .await
    .err(400, "CBC.99012003");
    assert_eq!(
        stored_status(&app, s(&late["opportunity_id"])).await,
        "EXPIRED"
    );
    let l = app.signed(&p).get(OPPS, "status=EXPIRED").await;
    assert_eq!(l.ok()["total_count"], 3, "{}", l.text);
    assert_eq!(
        stored_status(&app, s(&lazy["opportunity_id"])).await,
        "EXPIRED"
    );
}

#[tokio::test]
async fn the_vendor_calendar_moves_the_deadline_over_holidays_and_worked_weekends() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let r = app
        .admin(
            Method::PUT,
            "/admin/v1/holidays/2026-12-04",
            Some(json!({"name": "Company day"})),
        )
        .await;
    assert_eq!(s(&r.ok()["kind"]), "holiday");
    app.admin(
        Method::PUT,
        "/admin/v1/holidays/2026-12-32",
        Some(json!({})),
    )
    .await
    .err(400, "CBC.0100");
    app.admin(
        Method::PUT,
        "/admin/v1/holidays/2026-12-05",
        Some(json!({"kind": "party"})),
    )
    .await
    .err(400, "CBC.0100");
    app.clock.set(beijing(3, 10));
    // Friday off: Monday, Tuesday, Wednesday → Thursday 00:00.
    let o = share(&app, &p, "holiday").await;
    assert_eq!(s(&o["accept_deadline"]), "2026-12-09T16:00:00Z");
    // The Saturday worked: Saturday, Monday, Tuesday → Wednesday 00:00.
    app.admin(
        Method::PUT,
        "/admin/v1/holidays/2026-12-05",
        Some(json!({"kind": "workday"})),
    )
    .await
    .ok();
    let o = share(&app, &p, "workday").await;
    assert_eq!(s(&o["accept_deadline"]), "2026-12-08T16:00:00Z");
    let l = app
        .admin(
            Method::GET,
            "/admin/v1/holidays?from=2026-12-01&to=2026-12-31",
            None,
        )
        .await;
    assert_eq!(l.ok()["days"].as_array().unwrap().len(), 2);
    assert_eq!(s(&l.body["days"][1]["kind"]), "workday");
    let d = app
        .admin(Method::DELETE, "/admin/v1/holidays/2026-12-04", None)
        .await;
    assert_eq!(d.status, 204, "{}", d.text);
    app.admin(Method::DELETE, "/admin/v1/holidays/2026-12-04", None)
        .await
        .err(400, "CBC.0100");
}

#[tokio::test]
async fn managers_register_and_see_only_their_own_and_supervisors_see_but_never_register() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let r = role(
        &app,
        &p,
        "sales",
        &["customer:read", "opportunity:read", "opportunity:write"],
    )
    .await;
    let reader = role(&app, &p, "reader", &["customer:read"]).await;
    let sup = operator(&app, &p, json!({"role_id": r, "scope": "supervisor"})).await;
    let sup_id = operator_id(&app, &p, &sup).await;
    let m1 = operator(
        &app,
        &p,
        json!({"role_id": r, "scope": "manager", "supervisor_id": sup_id}),
    )
    .await;
    let m2 = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let nobody = operator(&app, &p, json!({"role_id": reader})).await;
    let (m1_id, m2_id) = (
        operator_id(&app, &p, &m1).await,
        operator_id(&app, &p, &m2).await,
    );
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    assign(&app, &p, &c1, Some(&m1_id)).await.ok();
    assign(&app, &p, &c2, Some(&m2_id)).await.ok();

    // A manager registers only for its assigned customers (or prospects).
    app.signed(&m1)
        .post(OPPS, &po_body(&c2.id))
        .await
        .err(400, "CBC.99000035");
    let o1 = create(&app, &m1, &po_body(&c1.id)).await;
    assert_eq!(s(&o1["manager_id"]), m1_id);
    let o2 = create(&app, &m2, &po_body(&c2.id)).await;
    let prospect = create(
        &app,
        &m1,
        &json!({"prospect": {"name": "Acme", "industry": "retail"}, "title": "Acme cloud",
                "customer_consent": true}),
    )
    .await;
    assert_eq!(s(&prospect["prospect"]["name"]), "Acme");
    // The main account's registration for c2 belongs to c2's manager.
    let o3 = create(&app, &p, &po_body(&c2.id)).await;
    assert_eq!(s(&o3["manager_id"]), m2_id);

    let ids = |r: &Resp| -> Vec<String> {
        let mut v: Vec<String> = r.ok()["opportunities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| s(&o["opportunity_id"]).to_string())
            .collect();
        v.sort();
        assert_eq!(r.body["total_count"], v.len());
        v
    };
    let sorted = |mut v: Vec<&str>| {
        v.sort();
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (id1, id2, idp, id3) = (
        s(&o1["opportunity_id"]),
        s(&o2["opportunity_id"]),
        s(&prospect["opportunity_id"]),
        s(&o3["opportunity_id"]),
    );
    assert_eq!(
        ids(&app.signed(&m1).get(OPPS, "").await),
        sorted(vec![id1, idp])
    );
    assert_eq!(
        ids(&app.signed(&m2).get(OPPS, "").await),
        sorted(vec![id2, id3])
    );
    get(&app, &m1, id2).await.err(400, "CBC.99012001");
    put(&app, &m1, id2, Some("\"1\""), json!({"stage": "x"}))
        .await
        .err(400, "CBC.99012001");
    // The supervisor sees its managers' opportunities, not others'.
    assert_eq!(
        ids(&app.signed(&sup).get(OPPS, "").await),
        sorted(vec![id1, idp])
    );
    assert_eq!(s(&get(&app, &sup, id1).await.ok()["opportunity_id"]), id1);
    get(&app, &sup, id2).await.err(400, "CBC.99012001");
    // … and never registers or changes one.
    app.signed(&sup)
        .post(OPPS, &po_body(&c1.id))
        .await
        .err(403, "CBC.0151");
    act(&app, &sup, id1, "submit", None, json!({}))
        .await
        .err(403, "CBC.0151");
    // Without the permission items.
    app.signed(&nobody).get(OPPS, "").await.err(403, "CBC.0151");
    app.signed(&nobody)
        .post(OPPS, &po_body(&c1.id))
        .await
        .err(403, "CBC.0151");

    // The main account sees everything and filters by manager and customer.
    assert_eq!(
        ids(&app
            .signed(&p)
            .get(OPPS, &format!("manager_id={m2_id}"))
            .await),
        sorted(vec![id2, id3])
    );
    assert_eq!(
        ids(&app
            .signed(&p)
            .get(OPPS, &format!("customer_id={}", c1.id))
            .await),
        vec![id1.to_string()]
    );
    assert_eq!(app.signed(&p).get(OPPS, "").await.ok()["total_count"], 4);
    let now = partner_center::domain::time::format_ts(app.now());
    let l = app
        .signed(&p)
        .get(OPPS, &format!("updated_from={now}&stage=qualifying"))
        .await;
    assert_eq!(l.ok()["total_count"], 3);
    app.signed(&p)
        .get(OPPS, "updated_from=yesterday")
        .await
        .err(400, "CBC.0100");
}
