//! Leads: dispatched and own, assigned to managers, followed up, converted (customer or
//! opportunity), closed; contacts masked in marketing plan 2.0.

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{Creds, Resp, TestApp},
    organisation::{assign, operator, operator_id, role},
};

const LEADS: &str = "/v2/partners/leads";

async fn dispatch(app: &TestApp, p: &Creds, company: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/leads",
            Some(
                json!({"partner_id": p.id, "company": company, "contact_name": "Alice",
                        "phone": "13812345678", "email": "alice@example.com",
                        "industry": "retail"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "NEW");
    r.body["lead_id"].as_str().unwrap().to_string()
}

async fn lead_post(app: &TestApp, who: &Creds, id: &str, what: &str, body: Value) -> Resp {
    app.signed(who)
        .post(&format!("{LEADS}/{id}/{what}"), &body)
        .await
}

fn ids(r: &Resp) -> Vec<String> {
    let mut v: Vec<String> = r.ok()["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    assert_eq!(r.body["total_count"], v.len());
    v
}

#[tokio::test]
async fn leads_are_dispatched_assigned_followed_up_converted_and_closed() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.admin(
        Method::POST,
        "/admin/v1/leads",
        Some(json!({"partner_id": "0".repeat(32), "company": "x"})),
    )
    .await
    .err(400, "CBC.0100");
    let l1 = dispatch(&app, &p, "Acme Retail").await;
    let own = app
        .signed(&p)
        .post(LEADS, &json!({"company": "Own Co", "phone": "13900000000"}))
        .await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.body["origin"], "OWN");
    let l2 = own.body["lead_id"].as_str().unwrap().to_string();
    app.signed(&p)
        .post(LEADS, &json!({"company": ""}))
        .await
        .err(400, "CBC.0100");

    let r = role(
        &app,
        &p,
        "sales",
        &[
            "lead:read",
            "lead:write",
            "opportunity:read",
            "opportunity:write",
            "customer:read",
        ],
    )
    .await;
    let m = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let m_id = operator_id(&app, &p, &m).await;
    assert!(ids(&app.signed(&m).get(LEADS, "").await).is_empty());
    let a = lead_post(&app, &p, &l1, "assign", json!({"manager_id": m_id})).await;
    assert_eq!(a.ok()["manager_id"], m_id.as_str());
    lead_post(&app, &p, &l1, "assign", json!({"manager_id": "nobody"}))
        .await
        .err(400, "CBC.0100");
    assert_eq!(ids(&app.signed(&m).get(LEADS, "").await), vec![l1.clone()]);
    app.signed(&m)
        .get(&format!("{LEADS}/{l2}"), "")
        .await
        .err(400, "CBC.99012006");

    let f = lead_post(
        &app,
        &m,
        &l1,
        "follow-ups",
        json!({"content": "called, interested"}),
    )
    .await;
    assert_eq!(f.ok()["status"], "FOLLOWING");
    assert_eq!(f.body["follow_ups"][0]["content"], "called, interested");
    // Converting into a customer needs customer:create as well.
    lead_post(
        &app,
        &m,
        &l1,
        "convert",
        json!({"target": "customer", "customer": {"xaccount_id": "x1", "xaccount_type": p.xaccount_type}}),
    )
    .await
    .err(403, "CBC.0151");
    let c = lead_post(
        &app,
        &m,
        &l1,
        "convert",
        json!({"target": "opportunity", "opportunity": {"stage": "qualifying", "product_line": "compute"}}),
    )
    .await;
    assert_eq!(c.ok()["lead"]["status"], "CONVERTED");
    let oid = c.body["opportunity_id"].as_str().unwrap().to_string();
    assert_eq!(c.body["lead"]["converted_opportunity_id"], oid.as_str());
    let o = app
        .signed(&m)
        .get(&format!("/v2/partners/opportunities/{oid}"), "")
        .await;
    let o = o.ok();
    assert_eq!(
        (
            o["status"].as_str(),
            o["prospect"]["name"].as_str(),
            o["title"].as_str()
        ),
        (Some("DRAFT"), Some("Acme Retail"), Some("Acme Retail"))
    );
    assert_eq!(o["manager_id"], m_id.as_str());
    lead_post(&app, &m, &l1, "follow-ups", json!({"content": "again"}))
        .await
        .err(400, "CBC.99012007");

    // The main account converts its own lead into a sub-customer (the create-sub-customer rules
    // apply; the link is kept).
    lead_post(
        &app,
        &p,
        &l2,
        "convert",
        json!({"target": "customer", "customer": {"xaccount_id": "", "xaccount_type": p.xaccount_type}}),
    )
    .await
    .err(400, "CBC.0100");
    let cc = lead_post(
        &app,
        &p,
        &l2,
        "convert",
        json!({"target": "customer", "customer": {"xaccount_id": "lead-2", "xaccount_type": p.xaccount_type}}),
    )
    .await;
    let customer_id = cc.ok()["customer_id"].as_str().unwrap().to_string();
    assert_eq!(
        cc.body["lead"]["converted_customer_id"],
        customer_id.as_str()
    );
    let list = app
        .signed(&p)
        .post("/v2/partners/sub-customers/query", &json!({"limit": 100}))
        .await;
    assert!(list.ok()["customer_infos"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["customer_id"] == customer_id.as_str()));

    let l3 = dispatch(&app, &p, "Gone Ltd").await;
    lead_post(&app, &p, &l3, "close", json!({"reason": ""}))
        .await
        .err(400, "CBC.0100");
    let cl = lead_post(&app, &p, &l3, "close", json!({"reason": "no budget"})).await;
    assert_eq!(
        (cl.ok()["status"].as_str(), cl.body["close_reason"].as_str()),
        (Some("CLOSED"), Some("no budget"))
    );
    lead_post(&app, &p, &l3, "close", json!({"reason": "x"}))
        .await
        .err(400, "CBC.99012007");

    let mut converted = vec![l1.clone(), l2.clone()];
    converted.sort();
    assert_eq!(
        ids(&app.signed(&p).get(LEADS, "status=CONVERTED").await),
        converted
    );
    let mut vendor = vec![l1.clone(), l3.clone()];
    vendor.sort();
    assert_eq!(
        ids(&app.signed(&p).get(LEADS, "origin=VENDOR").await),
        vendor
    );
    app.signed(&p)
        .get(LEADS, "status=OPEN")
        .await
        .err(400, "CBC.0100");
    let other = app.create_partner("solution_provider", None).await;
    app.signed(&other)
        .get(&format!("{LEADS}/{l1}"), "")
        .await
        .err(400, "CBC.99012006");
    let cust = app.create_customer(&p, json!({})).await;
    assign(&app, &p, &cust, Some(&m_id)).await.ok();
    app.signed(&cust).get(LEADS, "").await.err(403, "CBC.0151");
}

#[tokio::test]
async fn partners_in_marketing_plan_2_see_lead_contacts_masked() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let id = dispatch(&app, &p, "Masked Inc").await;
    let path = format!("{LEADS}/{id}");
    let g = app.signed(&p).get(&path, "").await;
    assert_eq!(
        (
            g.ok()["phone"].as_str(),
            g.body["email"].as_str(),
            g.body["contact_masked"].as_bool()
        ),
        (Some("13812345678"), Some("alice@example.com"), Some(false))
    );
    let url = format!("/admin/v1/partners/{}", p.id);
    app.admin(Method::PATCH, &url, Some(json!({"marketing_plan": "3.0"})))
        .await
        .err(400, "CBC.0100");
    let r = app
        .admin(Method::PATCH, &url, Some(json!({"marketing_plan": "2.0"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for r in [
        app.signed(&p).get(&path, "").await,
        lead_post(&app, &p, &id, "follow-ups", json!({"content": "hi"})).await,
    ] {
        assert_eq!(
            (
                r.ok()["phone"].as_str(),
                r.body["email"].as_str(),
                r.body["contact_masked"].as_bool()
            ),
            (Some("138****5678"), Some("a***@example.com"), Some(true))
        );
    }
    let l = app.signed(&p).get(LEADS, "").await;
    assert_eq!(l.ok()["leads"][0]["phone"], "138****5678");
    app.admin(Method::PATCH, &url, Some(json!({"marketing_plan": "1.0"})))
        .await
        .ok();
    assert_eq!(
        app.signed(&p).get(&path, "").await.ok()["phone"],
        "13812345678"
    );
}
