//! The event feed: events written in the changing transaction, gap-free cursor paging, receivers,
//! type filters, operator scope and retention.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
};

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, TestApp};

const FEED: &str = "/v2/partners/events";
const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
const BATCH_FUND: &str = "/v2/accounts/partner-accounts/batch-adjust-amount";

fn amount_body(customer: &str, amount: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
    ))
    .unwrap()
}

/// One page of the feed.
pub async fn page(app: &TestApp, who: &Creds, query: &str) -> (Vec<Value>, String) {
    let r = app.signed(who).get(FEED, query).await;
    let b = r.ok();
    (
        b["events"].as_array().unwrap().clone(),
        b["next_cursor"].as_str().unwrap().to_string(),
    )
}

/// Every event of the feed (paging with the cursor), optionally filtered by `types`.
pub async fn all_events(app: &TestApp, who: &Creds, types: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut q = format!("limit=7&after={cursor}");
        if !types.is_empty() {
            q.push_str(&format!("&types={types}"));
        }
        let (events, next) = page(app, who, &q).await;
        if events.is_empty() {
            return out;
        }
        out.extend(events);
        cursor = next;
    }
}

/// The feed once it holds at least `n` events: an event shows once every transaction that could
/// still write before it has finished (in the whole PostgreSQL cluster), so it may lag a moment.
pub async fn wait_events(app: &TestApp, who: &Creds, types: &str, n: usize) -> Vec<Value> {
    for _ in 0..1000 {
        let events = all_events(app, who, types).await;
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("expected {n} events in the feed");
}

/// An operator of `p` with a role of `items` and a scope; returns its credentials and id.
pub async fn operator(app: &TestApp, p: &Creds, items: &[&str], scope: &str) -> (Creds, String) {
    let role = app
        .signed(p)
        .post(
            "/v2/partners/roles",
            &json!({"name": format!("r{}", uuid::Uuid::new_v4().simple()), "permissions": items}),
        )
        .await;
    let login = format!("op{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let op = app
        .signed(p)
        .post(
            "/v2/partners/operators",
            &json!({"login_name": login, "password": "Operat0r!pw",
                    "role_id": role.body["role_id"], "scope": scope}),
        )
        .await;
    assert_eq!(op.status, 201, "{}", op.text);
    let creds = Creds {
        id: p.id.clone(),
        ak: op.body["access_key"].as_str().unwrap().into(),
        sk: op.body["secret_key"].as_str().unwrap().into(),
        login,
        password: "Operat0r!pw".into(),
        xaccount_type: p.xaccount_type.clone(),
    };
    (creds, op.body["operator_id"].as_str().unwrap().to_string())
}

fn types_of(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_rejected_funding_is_rolled_back_and_writes_no_event() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "100").await;
    // With an Idempotency-Key: the adjust record and the event were written, then rolled back to
    // the savepoint while the rejection itself was committed.
    app.signed(&p)
        .post_idem(FUND, &amount_body(&c.id, "500"), "k-1")
        .await
        .err(400, "CBC.99005003");
    // Coalesced path, and one rejected item of a batch (its savepoint is rolled back).
    app.signed(&p)
        .post(FUND, &amount_body(&c.id, "500"))
        .await
        .err(400, "CBC.99005003");
    let batch = json!({"customer_amounts": [
        {"customer_id": c.id, "amount": 30},
        {"customer_id": c.id, "amount": 900}]});
    let r = app.signed(&p).post(BATCH_FUND, &batch).await;
    assert_eq!(r.ok()["success_count"], 1, "{}", r.text);
    let ok = app.signed(&p).post(FUND, &amount_body(&c.id, "20")).await;
    let trans_id = ok.ok()["transfer_id"].as_str().unwrap().to_string();

    let events = wait_events(&app, &p, "funding.completed", 2).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["data"]["amount"].to_string(), "30.00");
    assert_eq!(events[1]["data"]["trans_id"], trans_id.as_str());
    assert_eq!(events[1]["data"]["customer_id"], c.id.as_str());
    assert_eq!(
        events[1]["data"]["operation_type"],
        "SOURCE_OPERATION_BEADJUST"
    );
    assert_eq!(events[1]["customer_id"], c.id.as_str());
    assert_eq!(events[1]["partner_id"], p.id.as_str());
    let n: i64 = sqlx::query_scalar("select count(*) from event where type = 'funding.completed'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_thousand_concurrent_fundings_give_a_thousand_events_each_read_once_by_a_paging_reader() {
    let app = Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await);
    }
    app.deposit(&p, "100000").await;
    let (_, start) = page(&app, &p, "limit=500").await;

    let writing = Arc::new(AtomicBool::new(true));
    // How many the writers wrote (known once they are done) and how many pages the reader got
    // while they wrote: writers go on past their 1,000 until the reader has paged twice.
    let total = Arc::new(AtomicUsize::new(usize::MAX));
    let pages = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (app, p, writing) = (app.clone(), p.clone(), writing.clone());
        let (total, pages) = (total.clone(), pages.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut pages_while_writing = 0;
            let mut cursor = start;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
            while seen.len() < total.load(Ordering::SeqCst) && std::time::Instant::now() < deadline
            {
                let still_writing = writing.load(Ordering::SeqCst);
                let (events, next) = page(
                    &app,
                    &p,
                    &format!("limit=37&types=funding.completed&after={cursor}"),
                )
                .await;
                if still_writing && !events.is_empty() {
                    pages_while_writing += 1;
                    pages.store(pages_while_writing, Ordering::SeqCst);
                }
                for e in events {
                    seen.push(e["data"]["trans_id"].as_str().unwrap().to_string());
                }
                cursor = next;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            (seen, pages_while_writing, cursor)
        })
    };

    let mut writers = Vec::new();
    for w in 0..25 {
        let (app, p, pages) = (app.clone(), p.clone(), pages.clone());
        let customer = customers[w % customers.len()].id.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut i = 0;
            while i < 40 || (pages.load(Ordering::SeqCst) < 2 && i < 400) {
                // Some with an Idempotency-Key (one transaction each), most coalesced.
                let body = amount_body(&customer, "1.01");
                let r = if i % 5 == 0 {
                    app.signed(&p)
                        .post_idem(FUND, &body, &format!("w{w}-{i}"))
                        .await
                } else {
                    app.signed(&p).post(FUND, &body).await
                };
                ids.push(r.ok()["transfer_id"].as_str().unwrap().to_string());
                i += 1;
            }
            ids
        }));
    }
    let mut written = Vec::new();
    for w in writers {
        written.extend(w.await.unwrap());
    }
    total.store(written.len(), Ordering::SeqCst);
    writing.store(false, Ordering::SeqCst);
    let (seen, pages_while_writing, last) = reader.await.unwrap();

    assert!(written.len() >= 1000, "{}", written.len());
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), written.len(), "every event read once");
    assert_eq!(unique.len(), written.len(), "no event read twice");
    let expected: HashSet<&String> = written.iter().collect();
    assert_eq!(unique, expected);
    assert!(
        pages_while_writing >= 2,
        "the reader paged while the events were written ({pages_while_writing} pages)"
    );
    // Nothing more after the reader's last cursor.
    let (rest, _) = page(&app, &p, &format!("types=funding.completed&after={last}")).await;
    assert!(rest.is_empty(), "{rest:?}");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn the_cursor_does_not_pass_an_uncommitted_transaction() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    wait_events(&app, &p, "", 1).await;
    let (_, cursor) = page(&app, &p, "").await;
    // A transaction writes an event and stays open; a later one commits another.
    let mut open = app.pool.begin().await.unwrap();
    partner_center::service::events::emit(
        &mut open,
        &p.id,
        Some(&c.id),
        "customer.arrears",
        json!({"customer_id": c.id, "n": 1}),
        app.now(),
    )
    .await
    .unwrap();
    let mut later = app.pool.begin().await.unwrap();
    partner_center::service::events::customer_arrears(
        &mut later,
        &p.id,
        &c.id,
        json!({"customer_id": c.id, "n": 2}),
        app.now(),
    )
    .await
    .unwrap();
    later.commit().await.unwrap();
    // The committed event waits behind the open transaction, so the cursor cannot skip n = 1.
    let (events, same) = page(&app, &p, &format!("after={cursor}")).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(same, cursor);
    open.commit().await.unwrap();
    let mut events = Vec::new();
    for _ in 0..500 {
        events = page(&app, &p, &format!("after={cursor}")).await.0;
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ns: Vec<i64> = events
        .iter()
        .map(|e| e["data"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, [1, 2]);
    assert_eq!(events[0]["type"], "customer.arrears");
}

#[tokio::test]
async fn state_changes_write_events_to_the_partner_and_a_resellers_distributor() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let r = app.create_partner("reseller", Some(&d.id)).await;
    let other = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&r, json!({})).await;
    let c2 = app.create_customer(&r, json!({})).await;

    let freeze = json!({"customer_ids": [c.id], "reason": "audit"});
    app.signed(&r)
        .post("/v2/partners/sub-customers/freeze", &freeze)
        .await
        .ok();
    app.signed(&r)
        .post("/v2/partners/sub-customers/unfreeze", &freeze)
        .await
        .ok();
    // A request the customer rejects, one it approves, one nobody answers.
    let unassoc = json!({"customer_id": c.id, "reason": "moving"});
    let mut rids = Vec::new();
    for answer in ["reject", "approve"] {
        let req = app
            .signed(&r)
            .post("/v2/partners/sub-customers/unassociate", &unassoc)
            .await;
        let rid = req.ok()["request_id"].as_i64().unwrap();
        rids.push(rid);
        app.signed(&c)
            .post(
                &format!("/v2/customers/association-requests/{rid}/{answer}"),
                &json!({}),
            )
            .await
            .ok();
    }
    app.signed(&r)
        .post(
            "/v2/partners/sub-customers/unassociate",
            &json!({"customer_id": c2.id, "reason": "later"}),
        )
        .await
        .ok();
    app.clock.advance(Duration::days(8));
    app.signed(&r)
        .get("/v2/partners/sub-customers/association-requests", "")
        .await
        .ok();

    let events = wait_events(&app, &r, "", 11).await;
    assert_eq!(
        types_of(&events),
        [
            "customer.associated",
            "customer.associated",
            "customer.frozen",
            "customer.unfrozen",
            "association_request.created",
            "association_request.rejected",
            "association_request.created",
            "association_request.approved",
            "customer.unassociated",
            "association_request.created",
            "association_request.expired",
        ]
    );
    assert_eq!(events[2]["data"]["reason"], "audit");
    assert_eq!(events[2]["customer_id"], c.id.as_str());
    assert_eq!(events[7]["data"]["request_id"], rids[1]);
    for e in &events {
        assert_eq!(e["partner_id"], r.id.as_str());
        assert!(e["event_id"].as_str().unwrap().starts_with("evt_"));
    }
    // The distributor receives the same events; nobody else does.
    let ids = |v: &[Value]| {
        v.iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&wait_events(&app, &d, "", 11).await), ids(&events));
    assert!(all_events(&app, &other, "").await.is_empty());
    // A type filter.
    let frozen = all_events(&app, &d, "customer.frozen,customer.unfrozen").await;
    assert_eq!(types_of(&frozen), ["customer.frozen", "customer.unfrozen"]);
}

#[tokio::test]
async fn realname_reviews_and_coupons_write_events() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    // Real-name: an individual application, approved by the vendor.
    let apply = json!({
        "customer_id": c.id, "identify_type": 0, "verified_type": 3,
        "verified_file_url": ["p/front.jpg", "p/back.png", "p/hold.jpeg"], "name": "Zhang San",
        "verified_number": "E12345678", "change_type": -1, "xaccount_type": p.xaccount_type,
    });
    app.signed(&p)
        .post("/v2/customers/realname-auths/individual", &apply)
        .await
        .ok();
    let apps = app
        .admin(
            Method::GET,
            "/admin/v1/realname-applications?status=reviewing&limit=100",
            None,
        )
        .await;
    let id = apps.body["applications"][0]["application_id"]
        .as_i64()
        .unwrap();
    let rev = app
        .admin(
            Method::POST,
            &format!("/admin/v1/realname-applications/{id}/review"),
            Some(json!({"approved": true})),
        )
        .await;
    assert_eq!(rev.status, 200, "{}", rev.text);
    // A coupon issued and reclaimed.
    let grant = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/coupon-quotas", p.id),
            Some(json!({"quota_type": 0, "quota_value": 100,
                "effective_time": (app.now() - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "expire_time": (app.now() + Duration::days(30)).format("%Y-%m-%dT%H:%M:%SZ").to_string()})),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.text);
    let quota_id = grant.body["quota_id"].as_str().unwrap();
    let issued = app
        .signed(&p)
        .post(
            "/v2/promotions/benefits/partner-coupons",
            &json!({"quota_id": quota_id, "customer_ids": [c.id], "face_value": 10}),
        )
        .await;
    let coupon = issued.ok()["coupon_infos"][0]["coupon_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.signed(&p)
        .post(
            "/v2/promotions/benefits/partner-coupons/reclaim",
            &json!({"coupon_id": coupon}),
        )
        .await
        .ok();

    let events = wait_events(
        &app,
        &p,
        "realname.approved,coupon.issued,coupon.reclaimed",
        3,
    )
    .await;
    assert_eq!(
        types_of(&events),
        ["realname.approved", "coupon.issued", "coupon.reclaimed"]
    );
    assert_eq!(events[0]["data"]["review_result"], 2);
    assert_eq!(events[0]["customer_id"], c.id.as_str());
    assert_eq!(events[1]["data"]["coupon_id"], coupon.as_str());
    assert_eq!(events[1]["data"]["face_value"].to_string(), "10.00");
    assert_eq!(events[2]["data"]["amount"].to_string(), "10.00");
}

#[tokio::test]
async fn a_manager_sees_only_its_customers_events_and_bad_queries_are_refused() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let mine = app.create_customer(&p, json!({})).await;
    let _theirs = app.create_customer(&p, json!({})).await;
    let (manager, op_id) = operator(&app, &p, &["event:read", "customer:read"], "manager").await;
    app.signed(&p)
        .post(
            "/v2/partners/sub-customers/assignments",
            &json!({"customer_id": mine.id, "manager_id": op_id}),
        )
        .await
        .ok();
    assert_eq!(wait_events(&app, &p, "", 2).await.len(), 2);
    let seen = all_events(&app, &manager, "").await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["customer_id"], mine.id.as_str());

    // An operator without event:read, bad cursors, types and limits.
    let (op2, _) = operator(&app, &p, &["customer:read"], "staff").await;
    app.signed(&op2).get(FEED, "").await.err(403, "CBC.0151");
    let bad = app.signed(&p).get(FEED, "after=nonsense").await;
    bad.err(400, "CBC.0100");
    assert!(bad.msg().contains("after"), "{}", bad.msg());
    let bad = app.signed(&p).get(FEED, "types=customer.nope").await;
    bad.err(400, "CBC.0100");
    assert!(bad.msg().contains("types"), "{}", bad.msg());
    app.signed(&p)
        .get(FEED, "limit=0")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(FEED, "limit=501")
        .await
        .err(400, "CBC.0100");
    app.signed(&mine).get(FEED, "").await.err(403, "CBC.0151");
}

#[tokio::test]
async fn events_past_the_retention_leave_the_feed_and_are_swept() {
    let app = TestApp::spawn_with(|c| c.events.retention_days = 30).await;
    let p = app.create_partner("solution_provider", None).await;
    app.create_customer(&p, json!({})).await;
    app.clock.advance(Duration::days(29));
    app.create_customer(&p, json!({})).await;
    assert_eq!(wait_events(&app, &p, "", 2).await.len(), 2);
    app.clock.advance(Duration::days(2));
    assert_eq!(all_events(&app, &p, "").await.len(), 1);
    let swept = partner_center::service::events::sweep_expired(&app.state)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let left: i64 = sqlx::query_scalar("select count(*) from event_feed")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}
