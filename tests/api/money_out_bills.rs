//! Partner money out (issue 11): the partner bill (open, posted, late adjustments), invoices (rules,
//! once per cycle, vendor states) and invoice owed, credit repayment.

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    consumption::{charge, ecs_product, fund, record, ts, HOUR},
    helpers::{Creds, Resp, TestApp, ADMIN_TOKEN},
    money_out::{cash_terms, withdraw},
};

const BILL: &str = "/v2/bills/partner-bills";
const CYCLES: &str = "/v2/bills/partner-bills/cycles";
const INVOICES: &str = "/v2/bills/partner-bills/invoices";

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

async fn bill(app: &TestApp, p: &Creds, cycle: &str) -> Value {
    let r = app
        .signed(p)
        .get(BILL, &format!("bill_cycle={cycle}"))
        .await;
    r.ok().clone()
}

/// Charges `hours` of ECS at 1.00/h to `c`, the hour before now.
async fn consume(app: &TestApp, ecs: &str, c: &Creds, event: &str, hours: &str) -> Value {
    charge(app, record(app, event, &c.id, ecs, "duration", hours, HOUR)).await
}

/// A partner with a funded resale customer and an ECS product at 1.00/h.
async fn setup(app: &TestApp) -> (Creds, Creds, String) {
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "1000.00").await;
    let c = app.create_customer(&p, json!({})).await;
    assert_eq!(fund(app, &p, &c.id, "500").await.status, 200);
    let ecs = ecs_product(app, "1.00").await;
    (p, c, ecs)
}

fn invoice_req(cycles: &[&str]) -> Value {
    json!({"bill_cycles": cycles, "invoice_type": "VAT_NORMAL", "medium": "ELECTRONIC",
           "title_type": "INDIVIDUAL", "title": "Zhang San"})
}

async fn act(app: &TestApp, inv: &str, action: &str) -> Resp {
    app.admin(
        Method::POST,
        &format!("/admin/v1/invoices/{inv}/{action}"),
        Some(json!({})),
    )
    .await
}

async fn invoice_status(app: &TestApp, p: &Creds, inv: &str) -> String {
    let r = app.signed(p).get(&format!("{INVOICES}/{inv}"), "").await;
    r.ok()["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_posted_bill_never_changes_and_a_late_adjustment_lands_in_the_next_cycle() {
    let app = TestApp::spawn().await;
    app.clock.set(utc(2026, 3, 20, 4));
    let (p, c, ecs) = setup(&app).await;
    consume(&app, &ecs, &c, "mar-1", "10").await;
    let b = bill(&app, &p, "2026-03").await;
    assert_eq!(b["status"], "OPEN");
    assert_eq!(b["total_amount"].to_string(), "10.00");
    assert_eq!(b["lines"][0]["service_type_code"], "hws.service.type.ec2");
    assert_eq!(b["lines"][0]["cash_amount"].to_string(), "10.00");

    // Posted at 12:00 on 5 April in UTC+8 (04:00 UTC), not a second earlier.
    app.clock.set(utc(2026, 4, 5, 4) - Duration::seconds(1));
    assert_eq!(bill(&app, &p, "2026-03").await["status"], "OPEN");
    app.clock.set(utc(2026, 4, 5, 4));
    let posted = bill(&app, &p, "2026-03").await;
    assert_eq!(posted["status"], "POSTED");
    assert_eq!(posted["total_amount"].to_string(), "10.00");

    // Late usage of March (its begin time is in March) after posting, and April's own usage.
    let mut late = record(&app, "mar-late", &c.id, &ecs, "duration", "4", HOUR);
    late["begin_time"] = json!(ts(utc(2026, 3, 30, 2)));
    late["end_time"] = json!(ts(utc(2026, 3, 30, 3)));
    charge(&app, late).await;
    consume(&app, &ecs, &c, "apr-1", "2").await;

    assert_eq!(
        bill(&app, &p, "2026-03").await,
        posted,
        "a posted bill never changes"
    );
    let apr = bill(&app, &p, "2026-04").await;
    assert_eq!(apr["status"], "OPEN");
    assert_eq!(apr["total_amount"].to_string(), "6.00");
    assert_eq!(apr["adjustment_amount"].to_string(), "4.00");
    let adj: Vec<&Value> = apr["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["is_adjustment"] == true)
        .collect();
    assert_eq!(adj.len(), 1);
    assert_eq!(adj[0]["origin_cycle"], "2026-03");
    assert_eq!(adj[0]["amount"].to_string(), "4.00");

    // The snapshot refuses changes in the database too.
    let e = sqlx::query("update partner_bill set amount = 0")
        .execute(&app.pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("immutable"), "{e}");

    let l = app.signed(&p).get(CYCLES, "").await;
    let cycles: Vec<(String, String)> = l.ok()["bills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["bill_cycle"].as_str().unwrap().into(),
                b["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        cycles,
        [
            ("2026-04".to_string(), "OPEN".to_string()),
            ("2026-03".into(), "POSTED".into())
        ]
    );
    assert_eq!(l.body["total_count"], 2);

    // April posts with the adjustment; nothing is carried twice into May.
    app.clock.set(utc(2026, 5, 6, 0));
    let apr2 = bill(&app, &p, "2026-04").await;
    assert_eq!(apr2["status"], "POSTED");
    assert_eq!(apr2["total_amount"].to_string(), "6.00");
    assert_eq!(apr2["adjustment_amount"].to_string(), "4.00");
    let may = bill(&app, &p, "2026-05").await;
    assert_eq!(may["status"], "OPEN");
    assert_eq!(may["total_amount"].to_string(), "0.00");
    assert_eq!(bill(&app, &p, "2026-03").await, posted);
    app.signed(&p)
        .get(BILL, "bill_cycle=2026-13")
        .await
        .err(400, "CBC.0100");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn invoice_rules_once_per_cycle_and_every_refused_transition_changes_nothing() {
    let app = TestApp::spawn().await;
    app.clock.set(utc(2026, 3, 10, 4));
    let (p, c, ecs) = setup(&app).await;
    consume(&app, &ecs, &c, "mar-1", "10").await;
    // Not posted yet.
    app.signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await
        .err(400, "CBC.99013012");
    app.clock.set(utc(2026, 4, 6, 0));

    let mut special = invoice_req(&["2026-03"]);
    special["invoice_type"] = json!("VAT_SPECIAL");
    special["medium"] = json!("PAPER");
    let r = app.signed(&p).post(INVOICES, &special).await;
    r.err(400, "CBC.99013009");
    special["title_type"] = json!("ENTERPRISE");
    special["title"] = json!("Partner Ltd");
    app.signed(&p)
        .post(INVOICES, &special)
        .await
        .err(400, "CBC.99013016");
    special["tax_id"] = json!("91110000MA0000000X");
    special["medium"] = json!("ELECTRONIC");
    app.signed(&p)
        .post(INVOICES, &special)
        .await
        .err(400, "CBC.99013010");
    let mut normal_digital = invoice_req(&["2026-03"]);
    normal_digital["medium"] = json!("DIGITAL");
    app.signed(&p)
        .post(INVOICES, &normal_digital)
        .await
        .err(400, "CBC.99013010");
    let mut orders = invoice_req(&[]);
    orders["order_ids"] = json!(["CS0001"]);
    orders.as_object_mut().unwrap().remove("bill_cycles");
    app.signed(&p)
        .post(INVOICES, &orders)
        .await
        .err(400, "CBC.99013014");
    app.signed(&p)
        .post(INVOICES, &invoice_req(&["2026-02"]))
        .await
        .err(400, "CBC.99013013");

    let r = app
        .signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "DRAFT");
    assert_eq!(r.body["amount"].to_string(), "10.00");
    let inv = r.body["invoice_id"].as_str().unwrap().to_string();
    // A second invoice of the same cycle, also concurrently.
    app.signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await
        .err(400, "CBC.99013011");
    let b = bill(&app, &p, "2026-03").await;
    assert_eq!(b["invoiced"], true);

    // Not allowed from DRAFT: nothing changes.
    for a in [
        "deliver",
        "confirm-receipt",
        "revoke",
        "revoked",
        "return",
        "returned",
        "issue-failed",
    ] {
        act(&app, &inv, a).await.err(400, "CBC.99013008");
        assert_eq!(invoice_status(&app, &p, &inv).await, "DRAFT", "{a}");
    }
    act(&app, &inv, "fly").await.err(400, "CBC.0100");
    act(&app, "nope", "issue").await.err(400, "CBC.99013007");
    for (a, to) in [
        ("issue", "ISSUING"),
        ("issue-failed", "ISSUE_FAILED"),
        ("issue", "ISSUING"),
        ("deliver", "PENDING_RECEIPT"),
        ("confirm-receipt", "ISSUED"),
    ] {
        let r = act(&app, &inv, a).await;
        assert_eq!(r.ok()["status"], to, "{a}");
    }
    for a in [
        "issue",
        "deliver",
        "confirm-receipt",
        "revoked",
        "returned",
        "return-failed",
    ] {
        act(&app, &inv, a).await.err(400, "CBC.99013008");
        assert_eq!(invoice_status(&app, &p, &inv).await, "ISSUED", "{a}");
    }
    // Revoke, fail, revoke again, revoked: the cycle may be invoiced again.
    for (a, to) in [
        ("revoke", "REVOKING"),
        ("revoke-failed", "REVOKE_FAILED"),
        ("revoke", "REVOKING"),
        ("revoked", "REVOKED"),
    ] {
        assert_eq!(act(&app, &inv, a).await.ok()["status"], to, "{a}");
    }
    for a in ["issue", "revoke", "return", "returned"] {
        act(&app, &inv, a).await.err(400, "CBC.99013008");
    }
    let d = app.signed(&p).get(&format!("{INVOICES}/{inv}"), "").await;
    assert_eq!(d.ok()["history"].as_array().unwrap().len(), 10);
    let again = app
        .signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    let l = app.signed(&p).get(INVOICES, "status=REVOKED").await;
    assert_eq!(l.ok()["total_count"], 1);
    let l = app.signed(&p).get(INVOICES, "").await;
    assert_eq!(l.ok()["total_count"], 2);
    // Another partner sees neither.
    let other = app.create_partner("solution_provider", None).await;
    app.signed(&other)
        .get(&format!("{INVOICES}/{inv}"), "")
        .await
        .err(400, "CBC.99013007");
}

#[tokio::test]
async fn a_refund_in_an_invoiced_cycle_is_invoice_owed_until_returned_or_more_is_invoiced() {
    let app = TestApp::spawn().await;
    app.clock.set(utc(2026, 3, 10, 4));
    let (p, c, ecs) = setup(&app).await;
    let fee = consume(&app, &ecs, &c, "mar-1", "10").await;
    app.clock.set(utc(2026, 4, 6, 0));
    let inv = app
        .signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await;
    assert_eq!(inv.status, 201, "{}", inv.text);
    let inv = inv.body["invoice_id"].as_str().unwrap().to_string();
    for a in ["issue", "deliver", "confirm-receipt"] {
        act(&app, &inv, a).await.ok();
    }
    let before = cash_terms(&app, &p).await;
    assert_eq!(before["invoice_owed_amount"].to_string(), "0.00");
    let w0 = before["withdrawable_amount"].to_string();
    assert_eq!(w0, "500.00");

    // A refund of 3.00 of the March charge (booked in April, an invoiced cycle's charge).
    let a = app
        .send(
            app.http
                .post(format!(
                    "{}/admin/v1/fee-records/{}/adjust",
                    app.base,
                    fee["fee_record_id"].as_str().unwrap()
                ))
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({"amount": 3, "reason": "SLA"})),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["invoice_owed_amount"].to_string(), "3.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "497.00");
    withdraw(&app, &p, "CASH", "497.01")
        .await
        .err(400, "CBC.99013005");

    // Returning the invoice (退票) clears it.
    act(&app, &inv, "return").await.ok();
    assert_eq!(
        cash_terms(&app, &p).await["invoice_owed_amount"].to_string(),
        "3.00"
    );
    act(&app, &inv, "returned").await.ok();
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["invoice_owed_amount"].to_string(), "0.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "500.00");

    // Invoiced again: owed again, until April (consumption 5, refund 3) is invoiced too.
    let inv2 = app
        .signed(&p)
        .post(INVOICES, &invoice_req(&["2026-03"]))
        .await;
    assert_eq!(inv2.status, 201, "{}", inv2.text);
    assert_eq!(
        cash_terms(&app, &p).await["invoice_owed_amount"].to_string(),
        "3.00"
    );
    consume(&app, &ecs, &c, "apr-1", "5").await;
    app.clock.set(utc(2026, 5, 6, 0));
    let apr = bill(&app, &p, "2026-04").await;
    assert_eq!(apr["status"], "POSTED");
    assert_eq!(apr["total_amount"].to_string(), "2.00");
    assert_eq!(
        cash_terms(&app, &p).await["invoice_owed_amount"].to_string(),
        "3.00"
    );
    let inv3 = app
        .signed(&p)
        .post(INVOICES, &invoice_req(&["2026-04"]))
        .await;
    assert_eq!(inv3.status, 201, "{}", inv3.text);
    assert_eq!(inv3.body["amount"].to_string(), "2.00");
    assert_eq!(
        cash_terms(&app, &p).await["invoice_owed_amount"].to_string(),
        "0.00"
    );
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn used_credit_is_repaid_through_the_ledger() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/partners/{}/credit-line", p.id),
            Some(json!({"credit_amount": 100})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = app.create_customer(&p, json!({})).await;
    assert_eq!(fund(&app, &p, &c.id, "30").await.status, 200);
    let cycle = crate::consumption::cycle(app.now());
    let b = bill(&app, &p, &cycle).await;
    assert_eq!(b["credit_used_amount"].to_string(), "30.00");
    const REPAY: &str = "/v2/accounts/partner-accounts/credit-repayments";
    app.signed(&p)
        .post(REPAY, &json!({"amount": 40}))
        .await
        .err(400, "CBC.99013015");
    app.signed(&p)
        .post(REPAY, &json!({"amount": 10}))
        .await
        .err(400, "CBC.99005003");
    app.deposit(&p, "50.00").await;
    let r = app
        .signed(&p)
        .post_idem(REPAY, &json!({"amount": 10}), "repay-1")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["credit_used_amount"].to_string(), "20.00");
    let again = app
        .signed(&p)
        .post_idem(REPAY, &json!({"amount": 10}), "repay-1")
        .await;
    assert_eq!(again.body["trans_id"], r.body["trans_id"]);
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "40.00");
    assert_eq!(
        bill(&app, &p, &cycle).await["credit_used_amount"].to_string(),
        "20.00"
    );
    app.assert_audit_ok().await;
}
