//! Partner money out (issue 11): top-ups, the withdrawable amount and its terms, withdrawals with
//! held funds and vendor review, rebates, and who may withdraw.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    consumption::{body, charge, ecs_product, fund, record, HOUR},
    helpers::{Creds, Resp, TestApp},
    organisation::{operator, role},
};

pub const RECHARGES: &str = "/v2/accounts/partner-accounts/recharges";
pub const WITHDRAWABLE: &str = "/v2/accounts/partner-accounts/withdrawable";
pub const WITHDRAWALS: &str = "/v2/accounts/partner-accounts/withdrawals";

/// The cash side of the withdrawable answer.
pub async fn cash_terms(app: &TestApp, p: &Creds) -> Value {
    let r = app.signed(p).get(WITHDRAWABLE, "").await;
    r.ok()["cash"].clone()
}

pub async fn withdrawable(app: &TestApp, p: &Creds) -> String {
    cash_terms(app, p).await["withdrawable_amount"].to_string()
}

fn bank() -> Value {
    json!({"account_name": "Partner Ltd", "account_no": "6222020200112233", "bank_name": "ICBC",
           "branch": "Beijing"})
}

pub async fn withdraw(app: &TestApp, p: &Creds, kind: &str, amount: &str) -> Resp {
    let mut b = body(&format!(
        r#"{{"withdrawal_type": "{kind}", "amount": {amount}}}"#
    ));
    b["bank_account"] = bank();
    app.signed(p).post(WITHDRAWALS, &b).await
}

async fn admin_post(app: &TestApp, path: &str, b: Value) -> Resp {
    app.admin(Method::POST, path, Some(b)).await
}

fn id(r: &Resp, field: &str) -> String {
    r.body[field].as_str().unwrap().to_string()
}

async fn detail(app: &TestApp, p: &Creds, wid: &str) -> Resp {
    app.signed(p).get(&format!("{WITHDRAWALS}/{wid}"), "").await
}

#[tokio::test]
async fn a_confirmed_remittance_stays_unposted_for_seven_days_and_a_vendor_deposit_counts_at_once()
{
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let req = json!({"amount": 100, "method": "REMITTANCE", "reference": "BANK-REF-1"});
    let r = app.signed(&p).post_idem(RECHARGES, &req, "top-up-1").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "PENDING");
    let rid = id(&r, "recharge_id");
    // A replay answers the same recharge.
    let again = app.signed(&p).post_idem(RECHARGES, &req, "top-up-1").await;
    assert_eq!(id(&again, "recharge_id"), rid);
    // Pending: nothing in cash yet.
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "0.00");
    assert_eq!(t["unposted_amount"].to_string(), "0.00");

    let c = admin_post(
        &app,
        &format!("/admin/v1/recharges/{rid}/confirm"),
        json!({}),
    )
    .await;
    assert_eq!(c.ok()["status"], "CONFIRMED", "{}", c.text);
    assert!(c.body["trans_id"].is_string());
    // Confirming twice is a state error and deposits nothing more.
    let twice = admin_post(
        &app,
        &format!("/admin/v1/recharges/{rid}/confirm"),
        json!({}),
    )
    .await;
    twice.err(400, "CBC.99013002");
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "100.00");
    assert_eq!(t["unposted_amount"].to_string(), "100.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "0.00");
    withdraw(&app, &p, "CASH", "10")
        .await
        .err(400, "CBC.99013005");

    // The account-change records show the top-up as a recharge.
    let ch = app
        .signed(&p)
        .get(
            "/v2/accounts/partner-accounts/account-change-records",
            "balance_type=BALANCE_TYPE_DEBIT",
        )
        .await;
    let text = ch.text.clone();
    assert!(text.contains("SOURCE_OPERAIION_RECHARGE"), "{text}");

    // A vendor deposit is a settled transfer: withdrawable at once.
    app.deposit(&p, "50.00").await;
    assert_eq!(withdrawable(&app, &p).await, "50.00");

    app.clock.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(
        cash_terms(&app, &p).await["unposted_amount"].to_string(),
        "100.00"
    );
    app.clock.advance(Duration::seconds(2));
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["unposted_amount"].to_string(), "0.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "150.00");

    // A rejected top-up deposits nothing; lists filter by status.
    let r2 = app
        .signed(&p)
        .post(RECHARGES, &json!({"amount": 5, "method": "ONLINE"}))
        .await;
    let rid2 = id(&r2, "recharge_id");
    let rej = admin_post(
        &app,
        &format!("/admin/v1/recharges/{rid2}/reject"),
        json!({"reason": "no money arrived"}),
    )
    .await;
    assert_eq!(rej.ok()["status"], "REJECTED");
    admin_post(
        &app,
        &format!("/admin/v1/recharges/{rid2}/confirm"),
        json!({}),
    )
    .await
    .err(400, "CBC.99013002");
    admin_post(&app, "/admin/v1/recharges/nope/confirm", json!({}))
        .await
        .err(400, "CBC.99013001");
    assert_eq!(
        cash_terms(&app, &p).await["cash_amount"].to_string(),
        "150.00"
    );
    let l = app.signed(&p).get(RECHARGES, "status=CONFIRMED").await;
    assert_eq!(l.ok()["total_count"], 1);
    assert_eq!(l.body["recharges"][0]["recharge_id"], rid.as_str());
    let l = app.signed(&p).get(RECHARGES, "limit=1").await;
    assert_eq!(l.ok()["total_count"], 2);
    assert_eq!(l.body["recharges"].as_array().unwrap().len(), 1);
    app.signed(&p)
        .post(RECHARGES, &json!({"amount": 5, "method": "CHEQUE"}))
        .await
        .err(400, "CBC.0100");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_customer_in_arrears_lowers_the_withdrawable_amount_by_its_debt() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    let ecs = ecs_product(&app, "1.00").await;
    // No money on the customer: 10 hours at 1.00 become arrears.
    charge(
        &app,
        record(&app, "e1", &c.id, &ecs, "duration", "10", HOUR),
    )
    .await;
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["sub_customer_debt_amount"].to_string(), "10.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "90.00");
    withdraw(&app, &p, "CASH", "90.01")
        .await
        .err(400, "CBC.99013005");
    // Funding the customer settles its arrears: cash and debt both fall by 10.
    assert_eq!(fund(&app, &p, &c.id, "10").await.status, 200);
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["sub_customer_debt_amount"].to_string(), "0.00");
    assert_eq!(t["cash_amount"].to_string(), "90.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "90.00");
    let w = withdraw(&app, &p, "CASH", "90").await;
    assert_eq!(w.status, 201, "{}", w.text);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn thirty_two_concurrent_withdrawals_of_60_from_100_accept_exactly_one() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    assert_eq!(withdrawable(&app, &p).await, "100.00");
    let calls = (0..32).map(|_| withdraw(&app, &p, "CASH", "60"));
    let results = futures_util::future::join_all(calls).await;
    let accepted: Vec<&Resp> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        accepted.len(),
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 201) {
        r.err(400, "CBC.99013005");
    }
    assert_eq!(accepted[0].body["status"], "PENDING_REVIEW");
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "40.00");
    assert_eq!(t["pending_withdrawal_amount"].to_string(), "60.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "40.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_customer_fund_racing_withdrawals_cannot_overdraw() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let c = app.create_customer(&p, json!({})).await;
    let funds = (0..8).map(|_| fund(&app, &p, &c.id, "60"));
    let draws = (0..8).map(|_| withdraw(&app, &p, "CASH", "60"));
    let (f, w) = futures_util::future::join(
        futures_util::future::join_all(funds),
        futures_util::future::join_all(draws),
    )
    .await;
    let ok =
        f.iter().filter(|r| r.status == 200).count() + w.iter().filter(|r| r.status == 201).count();
    assert_eq!(ok, 1, "only one 60 fits in 100");
    for r in f.iter().filter(|r| r.status != 200) {
        r.err(400, "CBC.99005003");
    }
    for r in w.iter().filter(|r| r.status != 201) {
        r.err(400, "CBC.99013005");
    }
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "40.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn rejected_gives_the_hold_back_paid_moves_it_out_and_wrong_transitions_change_nothing() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let a = withdraw(&app, &p, "CASH", "30").await;
    assert_eq!(a.status, 201, "{}", a.text);
    let b = withdraw(&app, &p, "CASH", "20").await;
    let (a, b) = (id(&a, "withdrawal_id"), id(&b, "withdrawal_id"));
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "50.00");
    assert_eq!(t["pending_withdrawal_amount"].to_string(), "50.00");

    // The partner cannot delete a pending withdrawal.
    let del = app
        .signed(&p)
        .request(
            Method::DELETE,
            &format!("{WITHDRAWALS}/{a}"),
            "",
            None,
            Default::default(),
        )
        .await;
    del.err(400, "CBC.99013004");
    assert_eq!(detail(&app, &p, &a).await.ok()["status"], "PENDING_REVIEW");

    // Paying before approval is refused and changes nothing.
    let early = admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{a}/paid"),
        json!({"payout_reference": "X"}),
    )
    .await;
    early.err(400, "CBC.99013004");
    let ok = admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{a}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(ok.ok()["status"], "PAYING");
    // The partner cannot cancel once approved.
    app.signed(&p)
        .post(&format!("{WITHDRAWALS}/{a}/cancel"), &json!({}))
        .await
        .err(400, "CBC.99013004");
    let paid = admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{a}/paid"),
        json!({"payout_reference": "TT-001"}),
    )
    .await;
    assert_eq!(paid.ok()["status"], "PAID");
    assert_eq!(paid.body["payout_reference"], "TT-001");
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "50.00");
    assert_eq!(t["pending_withdrawal_amount"].to_string(), "20.00");

    // Rejected: the hold comes back.
    let rej = admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{b}/reject"),
        json!({"reason": "wrong account"}),
    )
    .await;
    assert_eq!(rej.ok()["status"], "REJECTED");
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "70.00");
    assert_eq!(t["pending_withdrawal_amount"].to_string(), "0.00");
    assert_eq!(t["withdrawable_amount"].to_string(), "70.00");

    // Every other transition from PAID / REJECTED is refused and changes nothing.
    for (w, action, body) in [
        (&a, "approve", json!({})),
        (&a, "reject", json!({"reason": "late"})),
        (&a, "paid", json!({"payout_reference": "again"})),
        (&b, "approve", json!({})),
        (&b, "paid", json!({"payout_reference": "X"})),
        (&b, "reject", json!({"reason": "again"})),
    ] {
        admin_post(&app, &format!("/admin/v1/withdrawals/{w}/{action}"), body)
            .await
            .err(400, "CBC.99013004");
    }
    for w in [&a, &b] {
        app.signed(&p)
            .post(&format!("{WITHDRAWALS}/{w}/cancel"), &json!({}))
            .await
            .err(400, "CBC.99013004");
    }
    let del = app
        .signed(&p)
        .request(
            Method::DELETE,
            &format!("{WITHDRAWALS}/{a}"),
            "",
            None,
            Default::default(),
        )
        .await;
    del.err(400, "CBC.99013004");
    let t = cash_terms(&app, &p).await;
    assert_eq!(t["cash_amount"].to_string(), "70.00");
    assert_eq!(detail(&app, &p, &a).await.ok()["status"], "PAID");
    assert_eq!(detail(&app, &p, &b).await.ok()["status"], "REJECTED");

    // The detail has the history.
    let d = detail(&app, &p, &a).await;
    let h: Vec<&str> = d.ok()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_status"].as_str().unwrap())
        .collect();
    assert_eq!(h, ["PENDING_REVIEW", "PAYING", "PAID"]);
    assert_eq!(d.body["history"][1]["actor"], "vendor");

    // Cancel while pending: released; cancelled and rejected records can be deleted.
    let c = withdraw(&app, &p, "CASH", "10").await;
    let c = id(&c, "withdrawal_id");
    let can = app
        .signed(&p)
        .post(&format!("{WITHDRAWALS}/{c}/cancel"), &json!({}))
        .await;
    assert_eq!(can.ok()["status"], "CANCELLED");
    assert_eq!(
        cash_terms(&app, &p).await["cash_amount"].to_string(),
        "70.00"
    );
    for w in [&b, &c] {
        let del = app
            .signed(&p)
            .request(
                Method::DELETE,
                &format!("{WITHDRAWALS}/{w}"),
                "",
                None,
                Default::default(),
            )
            .await;
        assert_eq!(del.status, 204, "{}", del.text);
        detail(&app, &p, w).await.err(400, "CBC.99013003");
    }
    let l = app.signed(&p).get(WITHDRAWALS, "").await;
    assert_eq!(l.ok()["total_count"], 1);
    assert_eq!(l.body["withdrawals"][0]["withdrawal_id"], a.as_str());
    let l = app
        .signed(&p)
        .get(WITHDRAWALS, "status=PENDING_REVIEW")
        .await;
    assert_eq!(l.ok()["total_count"], 0);

    // Another partner sees none of them.
    let other = app.create_partner("solution_provider", None).await;
    detail(&app, &other, &a).await.err(400, "CBC.99013003");
    app.signed(&other)
        .post(&format!("{WITHDRAWALS}/{a}/cancel"), &json!({}))
        .await
        .err(400, "CBC.99013003");
    admin_post(&app, "/admin/v1/withdrawals/nope/approve", json!({}))
        .await
        .err(400, "CBC.99013003");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn rebates_are_granted_once_held_apart_from_cash_and_need_an_invoice_before_payout() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "10.00").await;
    let grant = |key: &'static str| {
        let app = &app;
        let p = &p;
        async move {
            app.send(
                app.http
                    .post(format!("{}/admin/v1/partners/{}/rebates", app.base, p.id))
                    .bearer_auth(crate::helpers::ADMIN_TOKEN)
                    .header("Idempotency-Key", key)
                    .json(&json!({"amount": 50, "remark": "Q3 incentive"})),
            )
            .await
        }
    };
    let g1 = grant("rebate-q3").await;
    assert_eq!(g1.status, 201, "{}", g1.text);
    let g2 = grant("rebate-q3").await;
    assert_eq!(g2.body["trans_id"], g1.body["trans_id"]);
    let r = app.signed(&p).get(WITHDRAWABLE, "").await;
    assert_eq!(r.ok()["rebate"]["rebate_amount"].to_string(), "50.00");
    assert_eq!(r.body["rebate"]["withdrawable_amount"].to_string(), "50.00");
    assert_eq!(r.body["cash"]["withdrawable_amount"].to_string(), "10.00");

    withdraw(&app, &p, "REBATE", "50.01")
        .await
        .err(400, "CBC.99013005");
    let w = withdraw(&app, &p, "REBATE", "50").await;
    assert_eq!(w.status, 201, "{}", w.text);
    let w = id(&w, "withdrawal_id");
    let r = app.signed(&p).get(WITHDRAWABLE, "").await;
    assert_eq!(
        r.ok()["rebate"]["pending_withdrawal_amount"].to_string(),
        "50.00"
    );
    assert_eq!(r.body["rebate"]["withdrawable_amount"].to_string(), "0.00");
    assert_eq!(r.body["cash"]["cash_amount"].to_string(), "10.00");

    admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{w}/approve"),
        json!({}),
    )
    .await
    .ok();
    admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{w}/paid"),
        json!({"payout_reference": "R-1"}),
    )
    .await
    .err(400, "CBC.99013006");
    let inv = app
        .signed(&p)
        .post(
            &format!("{WITHDRAWALS}/{w}/invoice-reference"),
            &json!({"invoice_reference": "INV-2026-7"}),
        )
        .await;
    assert_eq!(inv.ok()["rebate_invoice_reference"], "INV-2026-7");
    let paid = admin_post(
        &app,
        &format!("/admin/v1/withdrawals/{w}/paid"),
        json!({"payout_reference": "R-1"}),
    )
    .await;
    assert_eq!(paid.ok()["status"], "PAID");
    let r = app.signed(&p).get(WITHDRAWABLE, "").await;
    assert_eq!(r.ok()["rebate"]["rebate_amount"].to_string(), "0.00");
    assert_eq!(
        r.body["rebate"]["pending_withdrawal_amount"].to_string(),
        "0.00"
    );
    // A cash withdrawal takes no invoice reference.
    let cw = withdraw(&app, &p, "CASH", "1").await;
    let cw = id(&cw, "withdrawal_id");
    app.signed(&p)
        .post(
            &format!("{WITHDRAWALS}/{cw}/invoice-reference"),
            &json!({"invoice_reference": "X"}),
        )
        .await
        .err(400, "CBC.99013004");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn supervisors_and_managers_never_withdraw_and_customers_are_refused() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let items = ["funding:read", "withdrawal:write"];
    let r = role(&app, &p, "finance", &items).await;
    let staff = operator(&app, &p, json!({"role_id": r, "scope": "staff"})).await;
    let manager = operator(&app, &p, json!({"role_id": r, "scope": "manager"})).await;
    let supervisor = operator(&app, &p, json!({"role_id": r, "scope": "supervisor"})).await;
    let reader = role(&app, &p, "reader", &["funding:read"]).await;
    let reader = operator(&app, &p, json!({"role_id": reader, "scope": "staff"})).await;
    for who in [&manager, &supervisor, &reader] {
        withdraw(&app, who, "CASH", "1").await.err(403, "CBC.0151");
    }
    let c = app.create_customer(&p, json!({})).await;
    withdraw(&app, &c, "CASH", "1").await.err(403, "CBC.0151");
    app.signed(&c)
        .get(WITHDRAWABLE, "")
        .await
        .err(403, "CBC.0151");
    assert_eq!(
        cash_terms(&app, &p).await["cash_amount"].to_string(),
        "100.00"
    );
    let w = withdraw(&app, &staff, "CASH", "1").await;
    assert_eq!(w.status, 201, "{}", w.text);
    // The staff operator's request is the partner's: it shows in the partner's list.
    let l = app.signed(&p).get(WITHDRAWALS, "").await;
    assert_eq!(l.ok()["total_count"], 1);
    // A manager cannot cancel it either.
    let wid = id(&w, "withdrawal_id");
    app.signed(&manager)
        .post(&format!("{WITHDRAWALS}/{wid}/cancel"), &json!({}))
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn a_partner_that_enabled_verification_withdraws_only_with_the_code_sent_to_its_mobile() {
    const SETTINGS: &str = "/v2/accounts/partner-accounts/withdrawal-settings";
    const MOBILE: &str = "13700137000";
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100.00").await;
    let r = app
        .signed(&p)
        .request(
            Method::PUT,
            SETTINGS,
            "",
            Some(json!({"verification_mobile": MOBILE}).to_string()),
            Default::default(),
        )
        .await;
    assert_eq!(r.ok()["verification_mobile"], MOBILE);
    assert_eq!(
        app.signed(&p).get(SETTINGS, "").await.ok()["verification_mobile"],
        MOBILE
    );
    withdraw(&app, &p, "CASH", "10").await.err(400, "CBC.0100");
    let with_code = |code: &str| {
        let mut b = body(r#"{"withdrawal_type": "CASH", "amount": 10}"#);
        b["bank_account"] = bank();
        b["verification_code"] = json!(code);
        b
    };
    let sent = app
        .signed(&p)
        .post(
            "/v2/bases/verificationcode/send",
            &json!({"receiver_type": 1, "mobile_phone": MOBILE}),
        )
        .await;
    sent.ok();
    let codes = app
        .admin(
            Method::GET,
            &format!("/admin/v1/verification-codes?mobile_phone={MOBILE}"),
            None,
        )
        .await;
    let code = codes.ok()["codes"][0]["code"].as_str().unwrap().to_string();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    app.signed(&p)
        .post(WITHDRAWALS, &with_code(wrong))
        .await
        .err(400, "CBC.99004010");
    assert_eq!(
        cash_terms(&app, &p).await["cash_amount"].to_string(),
        "100.00"
    );
    let ok = app.signed(&p).post(WITHDRAWALS, &with_code(&code)).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    // A code is used once.
    app.signed(&p)
        .post(WITHDRAWALS, &with_code(&code))
        .await
        .err(400, "CBC.99004010");
    assert_eq!(
        cash_terms(&app, &p).await["cash_amount"].to_string(),
        "90.00"
    );
}
