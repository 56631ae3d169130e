//! Balances, funding and reclaiming (20-funding.md): fields and JSON types, rules, error codes,
//! idempotency and concurrency. Every money test ends with a clean ledger audit.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Creds, Resp, TestApp};

const BALANCES: &str = "/v2/accounts/partner-accounts/balances";
const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
const RECLAIM: &str = "/v2/accounts/partner-accounts/reclaim";
const BATCH_FUND: &str = "/v2/accounts/partner-accounts/batch-adjust-amount";
const ADJUST_RECORDS: &str = "/v3/accounts/partner-accounts/adjust-records";
const PARTNER_CHANGES: &str = "/v2/accounts/partner-accounts/account-change-records";
const CUSTOMER_BALANCES: &str = "/v2/accounts/customer-accounts/balances/batch-query";
const OWN_BALANCES: &str = "/v2/accounts/customer-accounts/balances";
const CUSTOMER_CHANGES: &str = "/v2/accounts/customer-accounts/account-change-records";
const FUND_RESELLER: &str = "/v2/accounts/partner-accounts/indirect-partner-adjust";
const RECLAIM_RESELLER: &str = "/v2/accounts/partner-accounts/indirect-partner-reclaim";

/// JSON with number literals kept as written (`10.50` stays `10.50`).
fn body(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn move_body(customer: &str, amount: &str) -> Value {
    body(&format!(
        r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
    ))
}

async fn fund(app: &TestApp, p: &Creds, customer: &str, amount: &str) -> Resp {
    app.signed(p).post(FUND, &move_body(customer, amount)).await
}

async fn reclaim(app: &TestApp, p: &Creds, customer: &str, amount: &str) -> Resp {
    app.signed(p)
        .post(RECLAIM, &move_body(customer, amount))
        .await
}

/// `account_type` → the amount as its JSON text (`"899.50"`).
async fn partner_balances(app: &TestApp, p: &Creds, query: &str) -> HashMap<i64, Value> {
    let r = app.signed(p).get(BALANCES, query).await;
    r.ok()["account_balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account_type"].as_i64().unwrap(), a.clone()))
        .collect()
}

async fn cash(app: &TestApp, p: &Creds) -> String {
    partner_balances(app, p, "").await[&1]["amount"].to_string()
}

async fn customer_amount(app: &TestApp, p: &Creds, customer: &str) -> String {
    let r = app
        .signed(p)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": customer}]}),
        )
        .await;
    r.ok()["customer_balances"][0]["amount"].to_string()
}

#[tokio::test]
async fn funding_and_reclaiming_a_resale_customer_moves_money_and_writes_every_record() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "1000.00").await;

    let r = fund(&app, &p, &c.id, "100.50").await;
    let transfer_id = r.ok()["transfer_id"].as_str().unwrap().to_string();
    assert!(
        transfer_id.starts_with("AD") && transfer_id.len() <= 128,
        "{transfer_id}"
    );

    let b = partner_balances(&app, &p, "").await;
    assert_eq!(
        b[&1]["amount"].to_string(),
        "899.50",
        "amounts are JSON numbers with 2 decimals"
    );
    assert_eq!(b[&1]["designated_amount"].to_string(), "0.00");
    assert_eq!(b[&1]["currency"], "CNY");
    assert_eq!(b[&1]["measure_id"], 1);
    assert!(b[&1]["account_id"].is_string());
    assert_eq!(b[&2]["amount"].to_string(), "0.00");
    assert_eq!(b[&2]["credit_amount"].to_string(), "0.00");
    assert_eq!(b[&8]["amount"].to_string(), "899.50");

    let cb = app
        .signed(&p)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": c.id}]}),
        )
        .await;
    let cb = &cb.ok()["customer_balances"][0];
    assert_eq!(cb["customer_id"], c.id.as_str());
    assert_eq!(cb["amount"].to_string(), "100.50");
    assert_eq!(cb["debt_amount"].to_string(), "0.00");
    assert_eq!(cb["currency"], "CNY");
    assert_eq!(cb["measure_id"], 1);

    let own = app.signed(&c).get(OWN_BALANCES, "").await;
    let own = own.ok();
    assert_eq!(own["account_balances"][0]["account_type"], 1);
    assert_eq!(own["account_balances"][0]["amount"].to_string(), "100.50");
    assert_eq!(own["debt_amount"].to_string(), "0.00");
    assert_eq!(own["currency"], "CNY");

    let r = reclaim(&app, &p, &c.id, "0.25").await;
    let trans_id = r.ok()["trans_id"].as_str().unwrap().to_string();
    assert!(trans_id.starts_with("RE"));
    assert_eq!(cash(&app, &p).await, "899.75");
    assert_eq!(customer_amount(&app, &p, &c.id).await, "100.25");

    // Adjust records (op. 4): newest first, amounts as strings.
    let r = app.signed(&p).get(ADJUST_RECORDS, "").await;
    let v = r.ok();
    assert_eq!(v["total_count"], 2);
    let rec = &v["records"][0];
    assert_eq!(rec["trans_id"], trans_id.as_str());
    assert_eq!(rec["operation_type"], "SOURCE_OPERATION_BERETRIEVE");
    assert_eq!(rec["amount"], "0.25");
    assert_eq!(rec["customer_id"], c.id.as_str());
    assert_eq!(rec["customer_name"], c.login.as_str());
    assert_eq!(rec["currency"], "CNY");
    assert_eq!(rec["measure_id"], 1);
    assert!(rec["operation_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["records"][1]["amount"], "100.50");
    assert_eq!(
        v["records"][1]["operation_type"],
        "SOURCE_OPERATION_BEADJUST"
    );
    let r = app
        .signed(&p)
        .get(ADJUST_RECORDS, &format!("trans_id={transfer_id}"))
        .await;
    assert_eq!(r.ok()["total_count"], 1);
    let r = app
        .signed(&p)
        .get(ADJUST_RECORDS, "operation_type=SOURCE_OPERATION_BEADJUST")
        .await;
    assert_eq!(r.ok()["records"][0]["trans_id"], transfer_id.as_str());
    // Another partner's customer is not an error: an empty list.
    let other = app.create_partner("solution_provider", None).await;
    let r = app
        .signed(&other)
        .get(ADJUST_RECORDS, &format!("customer_id={}", c.id))
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    let r = app.signed(&p).get(ADJUST_RECORDS, "limit=1&offset=1").await;
    assert_eq!(r.ok()["records"][0]["trans_id"], transfer_id.as_str());
    app.signed(&p)
        .get(ADJUST_RECORDS, "limit=0")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(ADJUST_RECORDS, "operation_type=X")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(ADJUST_RECORDS, "operation_time_begin=2024-01-01")
        .await
        .err(400, "CBC.0100");

    // Partner account-change records (op. 5).
    let r = app
        .signed(&p)
        .get(PARTNER_CHANGES, "balance_type=BALANCE_TYPE_DEBIT")
        .await;
    let v = r.ok();
    assert_eq!(v["total_count"], 3);
    assert_eq!(v["currency"], "CNY");
    let reclaim_rec = &v["records"][0];
    assert_eq!(
        reclaim_rec["trade_detail_type"],
        "SOURCE_OPERATION_BERETRIEVE"
    );
    assert_eq!(reclaim_rec["change_amount"], "0.25");
    assert_eq!(reclaim_rec["balance_after_change"], "899.75");
    assert_eq!(reclaim_rec["type"], "1");
    assert_eq!(reclaim_rec["trade_id"], trans_id.as_str());
    assert_eq!(reclaim_rec["customer_id"], c.id.as_str());
    assert_eq!(reclaim_rec["account_name"], c.login.as_str());
    let fund_rec = &v["records"][1];
    assert_eq!(fund_rec["trade_detail_type"], "SOURCE_OPERATION_BEADJUST");
    assert_eq!(fund_rec["change_amount"], "-100.50");
    assert_eq!(fund_rec["balance_after_change"], "899.50");
    assert_eq!(fund_rec["type"], "2");
    let deposit_rec = &v["records"][2];
    assert_eq!(
        deposit_rec["trade_detail_type"],
        "SOURCE_OPERAIION_RECHARGE"
    );
    assert_eq!(deposit_rec["change_amount"], "1000.00");
    assert!(deposit_rec.get("customer_id").is_none());
    let r = app
        .signed(&p)
        .get(
            PARTNER_CHANGES,
            "balance_type=BALANCE_TYPE_DEBIT&trade_type=BEADJUST",
        )
        .await;
    assert_eq!(r.ok()["total_count"], 1);
    let r = app
        .signed(&p)
        .get(
            PARTNER_CHANGES,
            "balance_type=BALANCE_TYPE_DEBIT&trade_type=DEDEUCT",
        )
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    let r = app
        .signed(&p)
        .get(PARTNER_CHANGES, "balance_type=BALANCE_TYPE_CREDIT")
        .await;
    assert_eq!(r.ok()["total_count"], 0);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn fund_and_reclaim_answer_their_documented_error_codes() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let other = app.create_partner("solution_provider", None).await;
    let foreign = app.create_customer(&other, json!({})).await;
    app.deposit(&p, "100.00").await;

    for path in [FUND, RECLAIM] {
        // A customer's credentials.
        app.signed(&c)
            .post(path, &move_body(&c.id, "1"))
            .await
            .err(403, "CBC.0151");
        // Amount: > 0, at most 2 decimals, a number.
        for bad in ["0", "-1", "1.001", "0.001", "\"10\"", "2147483648", "null"] {
            let r = app.signed(&p).post(path, &move_body(&c.id, bad)).await;
            r.err(400, "CBC.0100");
            assert!(r.msg().contains("amount"), "{bad}: {}", r.text);
        }
        app.signed(&p)
            .post(path, &json!({"amount": 1}))
            .await
            .err(400, "CBC.0100");
        app.signed(&p)
            .post(path, &move_body("", "1"))
            .await
            .err(400, "CBC.0100");
        app.signed(&p)
            .post(path, &move_body(&"x".repeat(65), "1"))
            .await
            .err(400, "CBC.0100");
        // Not this partner's customer: the same answer whether it exists elsewhere or not.
        let a = app
            .signed(&p)
            .post(path, &move_body(&foreign.id, "1"))
            .await;
        a.err(400, "CBC.99000035");
        let b = app
            .signed(&p)
            .post(path, &move_body(&"0".repeat(32), "1"))
            .await;
        b.err(400, "CBC.99000035");
        assert_eq!(a.msg(), b.msg());
        // Advisory-sale customers cannot be funded or reclaimed.
        app.signed(&p)
            .post(path, &move_body(&advisory.id, "1"))
            .await
            .err(400, "CBC.99005024");
    }
    // Insufficient balance (partner for funding, customer for reclaiming).
    fund(&app, &p, &c.id, "100.01")
        .await
        .err(400, "CBC.99005003");
    fund(&app, &p, &c.id, "60").await.ok();
    reclaim(&app, &p, &c.id, "60.01")
        .await
        .err(400, "CBC.99005003");
    fund(&app, &p, &c.id, "40.01")
        .await
        .err(400, "CBC.99005003");
    fund(&app, &p, &c.id, "40").await.ok();
    assert_eq!(cash(&app, &p).await, "0.00");
    assert_eq!(customer_amount(&app, &p, &c.id).await, "100.00");
    // A non-distributor's indirect_partner_id is ignored; a distributor's must be its reseller.
    let r = app
        .signed(&p)
        .post(
            RECLAIM,
            &json!({"customer_id": c.id, "amount": 1, "indirect_partner_id": other.id}),
        )
        .await;
    r.ok();
    let d = app.create_partner("distributor", None).await;
    let r = app
        .signed(&d)
        .post(
            FUND,
            &json!({"customer_id": c.id, "amount": 1, "indirect_partner_id": p.id}),
        )
        .await;
    r.err(400, "CBC.99000037");
    // A distributor has no customers of its own.
    fund(&app, &d, &c.id, "1").await.err(400, "CBC.99000035");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn designated_amount_is_not_fundable_and_a_credit_line_is() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "100").await;
    let app = &app;
    let put = |path: &'static str, v: Value| {
        let url = format!("/admin/v1/partners/{}/{path}", p.id);
        async move { app.admin(Method::PUT, &url, Some(v)).await }
    };
    let r = put("designated-amount", body(r#"{"designated_amount": 60.00}"#)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["fundable_amount"].to_string(), "40.00");
    let b = partner_balances(app, &p, "").await;
    assert_eq!(b[&1]["amount"].to_string(), "100.00");
    assert_eq!(b[&1]["designated_amount"].to_string(), "60.00");
    assert_eq!(b[&8]["amount"].to_string(), "40.00");
    fund(app, &p, &c.id, "40.01").await.err(400, "CBC.99005003");

    let r = put("credit-line", body(r#"{"credit_amount": 50}"#)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = partner_balances(app, &p, "").await;
    assert_eq!(b[&2]["amount"].to_string(), "50.00");
    assert_eq!(b[&2]["credit_amount"].to_string(), "50.00");
    assert_eq!(b[&8]["amount"].to_string(), "90.00");
    fund(app, &p, &c.id, "90.01").await.err(400, "CBC.99005003");
    fund(app, &p, &c.id, "90").await.ok();
    let b = partner_balances(app, &p, "").await;
    assert_eq!(
        b[&1]["amount"].to_string(),
        "60.00",
        "the designated part stays"
    );
    assert_eq!(b[&2]["amount"].to_string(), "0.00");
    assert_eq!(b[&8]["amount"].to_string(), "0.00");
    // Reclaiming restores used credit first.
    reclaim(app, &p, &c.id, "30").await.ok();
    let b = partner_balances(app, &p, "").await;
    assert_eq!(b[&2]["amount"].to_string(), "30.00");
    assert_eq!(b[&1]["amount"].to_string(), "60.00");
    let r = app
        .signed(&p)
        .get(PARTNER_CHANGES, "balance_type=BALANCE_TYPE_CREDIT")
        .await;
    let v = r.ok();
    assert_eq!(v["total_count"], 3);
    assert_eq!(
        v["records"][2]["trade_detail_type"],
        "SOURCE_OPERAIION_ADJUST_CREDIT"
    );
    // Lowering the line below the credit in use (20) or earmarking more than the cash: 99005003.
    let r = put("credit-line", body(r#"{"credit_amount": 10}"#)).await;
    r.err(400, "CBC.99005003");
    let r = put("designated-amount", body(r#"{"designated_amount": 60.01}"#)).await;
    r.err(400, "CBC.99005003");
    put("credit-line", body(r#"{"credit_amount": -1}"#))
        .await
        .err(400, "CBC.0100");
    put("credit-line", body(r#"{"credit_amount": 1.005}"#))
        .await
        .err(400, "CBC.0100");
    let r = put("credit-line", body(r#"{"credit_amount": 20}"#)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["credit_available"].to_string(), "0.00");
    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/partners/{}/deposits", "0".repeat(32)),
            Some(json!({"amount": 1})),
        )
        .await;
    r.err(400, "CBC.99000047");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_distributor_funds_its_resellers_and_acts_for_them() {
    let app = TestApp::spawn().await;
    let d = app.create_partner("distributor", None).await;
    let r1 = app.create_partner("reseller", Some(&d.id)).await;
    let d2 = app.create_partner("distributor", None).await;
    let foreign_reseller = app.create_partner("reseller", Some(&d2.id)).await;
    let sp = app.create_partner("solution_provider", None).await;
    let c = app
        .create_customer(&d, json!({"indirect_partner_id": r1.id}))
        .await;
    app.deposit(&d, "1000").await;

    let r = app
        .signed(&d)
        .post(
            FUND_RESELLER,
            &json!({"indirect_partner_id": r1.id, "amount": 300}),
        )
        .await;
    assert!(r.ok()["transfer_id"].as_str().unwrap().starts_with("AD"));
    assert_eq!(cash(&app, &d).await, "700.00");
    assert_eq!(cash(&app, &r1).await, "300.00");
    // The distributor reads the reseller's balances with indirect_partner_id.
    let b = partner_balances(&app, &d, &format!("indirect_partner_id={}", r1.id)).await;
    assert_eq!(b[&1]["amount"].to_string(), "300.00");
    app.signed(&d)
        .get(
            BALANCES,
            &format!("indirect_partner_id={}", foreign_reseller.id),
        )
        .await
        .err(400, "CBC.99000037");
    // Funding the reseller's customer spends the reseller's money.
    let r = app
        .signed(&d)
        .post(
            FUND,
            &json!({"customer_id": c.id, "amount": 120, "indirect_partner_id": r1.id}),
        )
        .await;
    r.ok();
    assert_eq!(cash(&app, &r1).await, "180.00");
    assert_eq!(cash(&app, &d).await, "700.00");
    let r = app
        .signed(&d)
        .post(
            FUND,
            &json!({"customer_id": c.id, "amount": 180.01, "indirect_partner_id": r1.id}),
        )
        .await;
    r.err(400, "CBC.99005003");
    // The reseller funds and reclaims its own customer too.
    reclaim(&app, &r1, &c.id, "20").await.ok();
    assert_eq!(cash(&app, &r1).await, "200.00");
    let r = app
        .signed(&d)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": c.id}], "indirect_partner_id": r1.id}),
        )
        .await;
    assert_eq!(
        r.ok()["customer_balances"][0]["amount"].to_string(),
        "100.00"
    );

    // Reclaim from the reseller: at most its balance.
    let r = app
        .signed(&d)
        .post(
            RECLAIM_RESELLER,
            &json!({"indirect_partner_id": r1.id, "amount": 200.01}),
        )
        .await;
    r.err(400, "CBC.99005003");
    let r = app
        .signed(&d)
        .post(
            RECLAIM_RESELLER,
            &json!({"indirect_partner_id": r1.id, "amount": 50}),
        )
        .await;
    assert!(r.ok()["trans_id"].as_str().unwrap().starts_with("RE"));
    assert_eq!(cash(&app, &d).await, "750.00");
    assert_eq!(cash(&app, &r1).await, "150.00");

    // Error codes of ops. 9/10.
    for path in [FUND_RESELLER, RECLAIM_RESELLER] {
        app.signed(&sp)
            .post(path, &json!({"indirect_partner_id": r1.id, "amount": 1}))
            .await
            .err(403, "CBC.0150");
        app.signed(&r1)
            .post(path, &json!({"indirect_partner_id": r1.id, "amount": 1}))
            .await
            .err(403, "CBC.0150");
        app.signed(&c)
            .post(path, &json!({"indirect_partner_id": r1.id, "amount": 1}))
            .await
            .err(403, "CBC.0151");
        app.signed(&d)
            .post(
                path,
                &json!({"indirect_partner_id": foreign_reseller.id, "amount": 1}),
            )
            .await
            .err(400, "CBC.99000037");
        app.signed(&d)
            .post(path, &json!({"indirect_partner_id": r1.id, "amount": 0}))
            .await
            .err(400, "CBC.0100");
        app.signed(&d)
            .post(path, &json!({"amount": 1}))
            .await
            .err(400, "CBC.0100");
    }

    // Adjust records: the distributor sees its reseller transfers; with indirect_partner_id, the
    // reseller's customer transfers; the reseller never sees the distributor's transfers to it.
    let r = app.signed(&d).get(ADJUST_RECORDS, "").await;
    let v = r.ok();
    assert_eq!(v["total_count"], 2);
    assert_eq!(v["records"][0]["customer_id"], r1.id.as_str());
    assert_eq!(
        v["records"][0]["operation_type"],
        "SOURCE_OPERATION_BERETRIEVE"
    );
    let r = app
        .signed(&d)
        .get(ADJUST_RECORDS, &format!("indirect_partner_id={}", r1.id))
        .await;
    assert_eq!(r.ok()["total_count"], 2);
    let r = app.signed(&r1).get(ADJUST_RECORDS, "").await;
    let v = r.ok();
    assert_eq!(v["total_count"], 2);
    assert!(v["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["customer_id"] == c.id.as_str()));
    app.signed(&d)
        .get(
            ADJUST_RECORDS,
            &format!("indirect_partner_id={}", foreign_reseller.id),
        )
        .await
        .err(400, "CBC.99000037");
    // The reseller's change records show the distributor's funding as income.
    let r = app
        .signed(&r1)
        .get(
            PARTNER_CHANGES,
            "balance_type=BALANCE_TYPE_DEBIT&trade_type=BEADJUST",
        )
        .await;
    let v = r.ok();
    assert_eq!(
        v["total_count"], 2,
        "the distributor's funding and the reseller's own"
    );
    assert_eq!(v["records"][0]["type"], "2");
    assert_eq!(v["records"][0]["customer_id"], c.id.as_str());
    assert_eq!(v["records"][1]["type"], "1");
    assert_eq!(v["records"][1]["customer_id"], d.id.as_str());
    assert_eq!(v["records"][1]["change_amount"], "300.00");
    let r = app
        .signed(&d)
        .get(
            PARTNER_CHANGES,
            &format!(
                "balance_type=BALANCE_TYPE_DEBIT&indirect_partner_id={}",
                r1.id
            ),
        )
        .await;
    assert_eq!(r.ok()["total_count"], 4);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn account_change_records_validate_and_use_utc8_day_windows() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "10").await;
    let get = |q: String| {
        let p = &p;
        let app = &app;
        async move { app.signed(p).get(PARTNER_CHANGES, &q).await }
    };
    get(String::new()).await.err(400, "CBC.0100");
    get("balance_type=".into()).await.err(400, "CBC.0100");
    get("balance_type=CASH".into()).await.err(400, "CBC.0100");
    let debit = "balance_type=BALANCE_TYPE_DEBIT";
    get(format!("{debit}&trade_type=NOPE"))
        .await
        .err(400, "CBC.0100");
    get(format!("{debit}&trade_time_begin=2024-1-1"))
        .await
        .err(400, "CBC.0100");
    get(format!("{debit}&trade_time_end=20240101"))
        .await
        .err(400, "CBC.0100");
    get(format!(
        "{debit}&trade_time_begin=2024-02-02&trade_time_end=2024-02-01"
    ))
    .await
    .err(400, "CBC.0100");
    get(format!("{debit}&limit=101")).await.err(400, "CBC.0100");
    get(format!("{debit}&offset=-1")).await.err(400, "CBC.0100");
    app.signed(&c)
        .get(PARTNER_CHANGES, debit)
        .await
        .err(403, "CBC.0151");

    // The deposit happened "today" in UTC+8.
    let cn_today = (app.now() + chrono::Duration::hours(8)).date_naive();
    let yesterday = cn_today - chrono::Duration::days(1);
    assert_eq!(get(debit.into()).await.ok()["total_count"], 1);
    let q = format!("{debit}&trade_time_begin={cn_today}&trade_time_end={cn_today}");
    assert_eq!(get(q).await.ok()["total_count"], 1);
    let q = format!("{debit}&trade_time_end={yesterday}");
    assert_eq!(get(q).await.ok()["total_count"], 0);
    // Two years later the default window (one year back) no longer covers it.
    app.clock.advance(chrono::Duration::days(730));
    assert_eq!(get(debit.into()).await.ok()["total_count"], 0);
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn customer_self_service_views_follow_the_contract() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let resale = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let debit = "balance_type=BALANCE_TYPE_DEBIT";
    app.signed(&resale)
        .get(CUSTOMER_CHANGES, debit)
        .await
        .err(400, "CBC.99000084");
    let r = app.signed(&advisory).get(CUSTOMER_CHANGES, debit).await;
    assert_eq!(r.ok()["total_count"], 0);
    assert_eq!(r.body["currency"], "CNY");
    app.signed(&advisory)
        .get(CUSTOMER_CHANGES, "")
        .await
        .err(400, "CBC.0100");
    app.signed(&advisory)
        .get(CUSTOMER_CHANGES, &format!("{debit}&revenue_expense_type=X"))
        .await
        .err(400, "CBC.0100");
    app.signed(&advisory)
        .get(
            CUSTOMER_CHANGES,
            &format!("{debit}&payment_channel_id=1,99"),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .get(CUSTOMER_CHANGES, debit)
        .await
        .err(403, "CBC.0151");
    app.signed(&p)
        .get(OWN_BALANCES, "")
        .await
        .err(403, "CBC.0151");
    let r = app.signed(&advisory).get(OWN_BALANCES, "").await;
    assert_eq!(r.ok()["account_balances"][0]["amount"].to_string(), "0.00");
    app.signed(&resale)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": resale.id}]}),
        )
        .await
        .err(403, "CBC.0151");
}

#[tokio::test]
async fn batch_balance_query_silently_drops_ids_that_are_not_own_resale_customers() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    let other = app.create_partner("solution_provider", None).await;
    let foreign = app.create_customer(&other, json!({})).await;
    app.deposit(&p, "10").await;
    fund(&app, &p, &c2.id, "2.5").await.ok();
    let ids = [
        &c2.id,
        &advisory.id,
        &foreign.id,
        &"f".repeat(32),
        &c1.id,
        &c2.id,
    ];
    let infos: Vec<Value> = ids.iter().map(|id| json!({"customer_id": id})).collect();
    let r = app
        .signed(&p)
        .post(CUSTOMER_BALANCES, &json!({"customer_infos": infos}))
        .await;
    let got: Vec<(String, String)> = r.ok()["customer_balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["customer_id"].as_str().unwrap().to_string(),
                b["amount"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (c2.id.clone(), "2.50".into()),
            (c1.id.clone(), "0.00".into())
        ]
    );
    app.signed(&p)
        .post(CUSTOMER_BALANCES, &json!({"customer_infos": []}))
        .await
        .err(400, "CBC.0100");
    let many: Vec<Value> = (0..101).map(|_| json!({"customer_id": c1.id})).collect();
    app.signed(&p)
        .post(CUSTOMER_BALANCES, &json!({"customer_infos": many}))
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": ""}]}),
        )
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post(
            CUSTOMER_BALANCES,
            &json!({"customer_infos": [{"customer_id": c1.id}], "indirect_partner_id": other.id}),
        )
        .await
        .ok();
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn batch_funding_gives_a_result_and_a_journal_per_item() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c1 = app.create_customer(&p, json!({})).await;
    let c2 = app.create_customer(&p, json!({})).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await;
    app.deposit(&p, "100").await;
    let req = body(&format!(
        r#"{{"customer_amounts": [
            {{"customer_id": "{}", "amount": 10.00}},
            {{"customer_id": "{}", "amount": 1}},
            {{"customer_id": "{}", "amount": 20}},
            {{"customer_id": "{}", "amount": 80}}]}}"#,
        c1.id, advisory.id, c2.id, c1.id
    ));
    let r = app.signed(&p).post(BATCH_FUND, &req).await;
    let v = r.ok();
    assert_eq!(v["success_count"], 2);
    assert_eq!(v["failure_count"], 2);
    let res = v["results"].as_array().unwrap();
    assert!(res[0]["transfer_id"].is_string());
    assert_eq!(res[1]["error_code"], "CBC.99005024");
    assert!(res[2]["transfer_id"].is_string());
    assert_eq!(res[3]["error_code"], "CBC.99005003");
    assert_ne!(res[0]["transfer_id"], res[2]["transfer_id"]);
    assert_eq!(cash(&app, &p).await, "70.00");
    assert_eq!(customer_amount(&app, &p, &c1.id).await, "10.00");
    assert_eq!(customer_amount(&app, &p, &c2.id).await, "20.00");
    let r = app.signed(&p).get(ADJUST_RECORDS, "").await;
    assert_eq!(r.ok()["total_count"], 2);
    app.signed(&p)
        .post(BATCH_FUND, &json!({"customer_amounts": []}))
        .await
        .err(400, "CBC.0100");
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"customer_id": c1.id, "amount": 1}))
        .collect();
    app.signed(&p)
        .post(BATCH_FUND, &json!({"customer_amounts": many}))
        .await
        .err(400, "CBC.0100");
    let r = app
        .signed(&p)
        .post(
            BATCH_FUND,
            &json!({"customer_amounts": [{"customer_id": c1.id, "amount": 0.001}]}),
        )
        .await;
    r.err(400, "CBC.0100");
    assert!(r.msg().contains("customer_amounts[0].amount"), "{}", r.text);
    app.assert_audit_ok().await;
}

// ---------------------------------------------------------------------------------------------
// Idempotency

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_first_outcome_and_moves_money_once() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "100").await;
    let req = move_body(&c.id, "10.00");
    let first = app.signed(&p).post_idem(FUND, &req, "key-1").await;
    let again = app.signed(&p).post_idem(FUND, &req, "key-1").await;
    assert_eq!(first.ok(), again.ok());
    assert_eq!(cash(&app, &p).await, "90.00");
    // The same key on another request: 422.
    let r = app
        .signed(&p)
        .post_idem(FUND, &move_body(&c.id, "11.00"), "key-1")
        .await;
    r.err(422, "CBC.0101");
    let r = app.signed(&p).post_idem(RECLAIM, &req, "key-1").await;
    r.err(422, "CBC.0101");
    // Keys are per caller: another partner's identical key is independent.
    let p2 = app.create_partner("solution_provider", None).await;
    let c2 = app.create_customer(&p2, json!({})).await;
    app.deposit(&p2, "5").await;
    let r = app
        .signed(&p2)
        .post_idem(FUND, &move_body(&c2.id, "5"), "key-1")
        .await;
    r.ok();
    assert_eq!(cash(&app, &p2).await, "0.00");
    // Reclaim and the reseller operations honour keys too.
    let a = app
        .signed(&p)
        .post_idem(RECLAIM, &move_body(&c.id, "1"), "key-2")
        .await;
    let b = app
        .signed(&p)
        .post_idem(RECLAIM, &move_body(&c.id, "1"), "key-2")
        .await;
    assert_eq!(a.ok(), b.ok());
    assert_eq!(cash(&app, &p).await, "91.00");
    let d = app.create_partner("distributor", None).await;
    let r1 = app.create_partner("reseller", Some(&d.id)).await;
    app.deposit(&d, "10").await;
    let rb = json!({"indirect_partner_id": r1.id, "amount": 3});
    for path in [FUND_RESELLER, RECLAIM_RESELLER] {
        let a = app.signed(&d).post_idem(path, &rb, path).await;
        let b = app.signed(&d).post_idem(path, &rb, path).await;
        assert_eq!(a.ok(), b.ok());
    }
    assert_eq!(cash(&app, &d).await, "10.00");
    // An empty or over-long key is a parameter error.
    app.signed(&p)
        .post_idem(FUND, &req, "")
        .await
        .err(400, "CBC.0100");
    app.signed(&p)
        .post_idem(FUND, &req, &"k".repeat(256))
        .await
        .err(400, "CBC.0100");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn a_rejection_is_stored_so_a_retry_cannot_succeed_later_by_surprise() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    let req = move_body(&c.id, "50");
    let first = app.signed(&p).post_idem(FUND, &req, "retry").await;
    first.err(400, "CBC.99005003");
    app.deposit(&p, "100").await;
    let again = app.signed(&p).post_idem(FUND, &req, "retry").await;
    again.err(400, "CBC.99005003");
    assert_eq!(first.msg(), again.msg());
    assert_eq!(cash(&app, &p).await, "100.00");
    // A fresh key succeeds.
    app.signed(&p).post_idem(FUND, &req, "retry-2").await.ok();
    assert_eq!(cash(&app, &p).await, "50.00");
    app.assert_audit_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_make_one_journal_and_the_rest_get_409_or_the_replay() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await;
    app.deposit(&p, "100").await;
    let req = move_body(&c.id, "7");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (app, p, req) = (app.clone(), p.clone(), req.clone());
            tokio::spawn(async move { app.signed(&p).post_idem(FUND, &req, "same").await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let mut transfer_ids = std::collections::HashSet::new();
    for r in &results {
        match r.status {
            200 => {
                transfer_ids.insert(r.body["transfer_id"].as_str().unwrap().to_string());
            }
            409 => r.err(409, "CBC.99007461"),
            s => panic!("unexpected {s}: {}", r.text),
        }
    }
    assert_eq!(
        transfer_ids.len(),
        1,
        "every success carries the one transfer id"
    );
    assert_eq!(cash(&app, &p).await, "93.00");
    let r = app.signed(&p).get(ADJUST_RECORDS, "").await;
    assert_eq!(r.ok()["total_count"], 1);
    // After the first finished, a retry is a replay.
    let r = app.signed(&p).post_idem(FUND, &req, "same").await;
    assert!(transfer_ids.contains(r.ok()["transfer_id"].as_str().unwrap()));
    app.assert_audit_ok().await;
}

/// An admin deposit of `amount` (JSON number text) with an `Idempotency-Key`.
async fn keyed_deposit(app: &TestApp, p: &Creds, key: &str, amount: &str) -> Resp {
    let req = app
        .http
        .post(format!("{}/admin/v1/partners/{}/deposits", app.base, p.id))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .header("Idempotency-Key", key)
        .header("content-type", "application/json")
        .body(format!(r#"{{"amount": {amount}}}"#));
    app.send(req).await
}

#[tokio::test]
async fn admin_deposits_honour_idempotency_keys() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let send = |key: &'static str, amount: &'static str| keyed_deposit(&app, &p, key, amount);
    let a = send("dep-1", "1000.00").await;
    let b = send("dep-1", "1000.00").await;
    assert_eq!((a.status, b.status), (201, 201), "{} {}", a.text, b.text);
    assert_eq!(a.body, b.body);
    assert_eq!(a.body["amount"].to_string(), "1000.00");
    send("dep-1", "999.00").await.err(422, "CBC.0101");
    assert_eq!(cash(&app, &p).await, "1000.00");
    // The key's lock is released before each answer: a replay followed at once by another request
    // with the same key is never "still being processed" (a dropped, not rolled-back, transaction
    // used to keep it held for a moment after the replay was answered).
    for key in [
        "dep-2", "dep-3", "dep-4", "dep-5", "dep-6", "dep-7", "dep-8", "dep-9",
    ] {
        assert_eq!(send(key, "1.00").await.status, 201);
        assert_eq!(send(key, "1.00").await.status, 201);
        send(key, "2.00").await.err(422, "CBC.0101");
    }
    assert_eq!(cash(&app, &p).await, "1008.00");
    app.assert_audit_ok().await;
}

#[tokio::test]
async fn idempotency_keys_are_replayed_within_the_retention_then_forgotten_and_swept() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let send = |key: &'static str, amount: &'static str| keyed_deposit(&app, &p, key, amount);
    let stored = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from idempotency_key")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(send("k", "10.00").await.status, 201);
    // Default retention: 168 hours. Just inside it the key still binds its first request.
    app.clock.advance(chrono::Duration::hours(167));
    send("k", "20.00").await.err(422, "CBC.0101");
    // Past it the key is forgotten: the new request runs and is the one stored from now on.
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(send("k", "20.00").await.status, 201);
    send("k", "10.00").await.err(422, "CBC.0101");
    assert_eq!(cash(&app, &p).await, "30.00");
    assert_eq!(stored().await, 1);

    // The periodic sweep deletes only the outcomes past retention.
    assert_eq!(send("other", "1.00").await.status, 201);
    app.clock.advance(chrono::Duration::hours(100));
    assert_eq!(send("fresh", "1.00").await.status, 201);
    app.clock.advance(chrono::Duration::hours(100));
    let swept = partner_center::service::idempotency::sweep_expired(&app.state)
        .await
        .unwrap();
    assert_eq!((swept, stored().await), (2, 1));
    app.assert_audit_ok().await;
}

// ---------------------------------------------------------------------------------------------
// Concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_funding_and_reclaiming_on_one_partner_end_at_the_model_balances() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..8 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "500.00").await;
    let seed: u64 = std::env::var("BANK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("bank test seed: {seed} (rerun with BANK_SEED={seed})");
    let customers = std::sync::Arc::new(customers);
    let mut tasks = Vec::new();
    for client in 0..64u64 {
        let app = app.clone();
        let p = p.clone();
        let customers = customers.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ client);
            // (customer index, signed fen moved to the customer) of every success.
            let mut moved: Vec<(usize, i64)> = Vec::new();
            for _ in 0..8 {
                let ci = rng.gen_range(0..customers.len());
                let fen: i64 = rng.gen_range(1..=2500);
                let amount = format!("{}.{:02}", fen / 100, fen % 100);
                let is_fund = rng.gen_bool(0.6);
                let path = if is_fund { FUND } else { RECLAIM };
                let r = app
                    .signed(&p)
                    .post(path, &move_body(&customers[ci], &amount))
                    .await;
                match (r.status, r.body["error_code"].as_str()) {
                    (200, _) => moved.push((ci, if is_fund { fen } else { -fen })),
                    (400, Some("CBC.99005003")) => {}
                    _ => panic!("client {client}: unexpected {}: {}", r.status, r.text),
                }
            }
            moved
        }));
    }
    let mut per_customer = vec![0i64; customers.len()];
    let mut successes = 0;
    for t in tasks {
        for (ci, fen) in t.await.unwrap() {
            per_customer[ci] += fen;
            successes += 1;
        }
    }
    assert!(successes > 0);
    let partner_fen = 50_000 - per_customer.iter().sum::<i64>();
    let fmt = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    assert!(partner_fen >= 0 && per_customer.iter().all(|f| *f >= 0));
    assert_eq!(cash(&app, &p).await, fmt(partner_fen));
    for (ci, id) in customers.iter().enumerate() {
        assert_eq!(
            customer_amount(&app, &p, id).await,
            fmt(per_customer[ci]),
            "customer {ci}"
        );
    }
    let r = app.signed(&p).get(ADJUST_RECORDS, "limit=1").await;
    assert_eq!(r.ok()["total_count"], successes);
    app.assert_audit_ok().await;
}

/// Concurrent moves of one partner are coalesced into shared transactions (the hot account):
/// each acknowledged request still has exactly one journal and one adjust record, and a request
/// over the balance, for a foreign customer or for an advisory customer gets its own rejection
/// while the others in its transaction stand.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_moves_on_one_partner_are_coalesced_with_one_journal_and_one_outcome_each() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let other = app.create_partner("solution_provider", None).await;
    let foreign = app.create_customer(&other, json!({})).await.id;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await
        .id;
    let mut customers = Vec::new();
    for _ in 0..8 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "100.00").await;

    // Sends every (path, customer, amount) at once; answers in order.
    async fn all_at_once(
        app: &std::sync::Arc<TestApp>,
        p: &Creds,
        moves: Vec<(&'static str, String, &'static str)>,
    ) -> Vec<Resp> {
        let tasks: Vec<_> = moves
            .into_iter()
            .map(|(path, customer, amount)| {
                let (app, p) = (app.clone(), p.clone());
                tokio::spawn(async move {
                    app.signed(&p)
                        .post(path, &move_body(&customer, amount))
                        .await
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    // 1. 64 fundings of 2.00 (128.00 asked, 100.00 there: exactly 50 fit), plus 8 for another
    //    partner's customer and 8 for an advisory customer.
    let mut moves = Vec::new();
    for i in 0..64 {
        moves.push((FUND, customers[i % 8].clone(), "2.00"));
        if i % 8 == 0 {
            moves.push((FUND, foreign.clone(), "1.00"));
            moves.push((FUND, advisory.clone(), "1.00"));
        }
    }
    let answers = all_at_once(&app, &p, moves.clone()).await;
    let mut funded = [0i64; 8];
    let mut trans_ids = std::collections::HashSet::new();
    let (mut insufficient, mut foreign_rejected, mut advisory_rejected) = (0, 0, 0);
    for ((_, customer, _), r) in moves.iter().zip(&answers) {
        if customer == &foreign {
            r.err(400, "CBC.99000035");
            foreign_rejected += 1;
        } else if customer == &advisory {
            r.err(400, "CBC.99005024");
            advisory_rejected += 1;
        } else if r.status == 200 {
            assert!(trans_ids.insert(r.body["transfer_id"].as_str().unwrap().to_string()));
            funded[customers.iter().position(|c| c == customer).unwrap()] += 200;
        } else {
            r.err(400, "CBC.99005003");
            insufficient += 1;
        }
    }
    assert_eq!((trans_ids.len(), insufficient), (50, 14));
    assert_eq!((foreign_rejected, advisory_rejected), (8, 8));
    assert_eq!(cash(&app, &p).await, "0.00");

    // 2. 64 reclaims of 2.00, 8 per customer: a customer holding b gives back min(8, b / 2.00).
    let moves: Vec<_> = (0..64)
        .map(|i| (RECLAIM, customers[i % 8].clone(), "2.00"))
        .collect();
    let answers = all_at_once(&app, &p, moves.clone()).await;
    let mut reclaimed = [0i64; 8];
    for ((_, customer, _), r) in moves.iter().zip(&answers) {
        let ci = customers.iter().position(|c| c == customer).unwrap();
        if r.status == 200 {
            assert!(trans_ids.insert(r.body["trans_id"].as_str().unwrap().to_string()));
            reclaimed[ci] += 200;
        } else {
            r.err(400, "CBC.99005003");
        }
    }
    let fmt = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    for ci in 0..8 {
        assert_eq!(reclaimed[ci], funded[ci].min(1600), "customer {ci}");
        assert_eq!(
            customer_amount(&app, &p, &customers[ci]).await,
            fmt(funded[ci] - reclaimed[ci]),
            "customer {ci}"
        );
    }
    assert_eq!(cash(&app, &p).await, fmt(reclaimed.iter().sum()));

    // One journal and one adjust record per acknowledged request, and nothing else.
    let ids: Vec<String> = trans_ids.iter().cloned().collect();
    let (journals, records, matched, transactions): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from journal where kind in ('fund_customer', 'reclaim_customer')),
                (select count(*) from adjust_record where partner_id = $2),
                (select count(*) from journal j join adjust_record a on a.trans_id = j.trans_id
                  where j.trans_id = any($1)),
                (select count(distinct xmin::text) from journal
                  where kind in ('fund_customer', 'reclaim_customer'))",
    )
    .bind(&ids)
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (journals, records, matched),
        (ids.len() as i64, ids.len() as i64, ids.len() as i64)
    );
    assert!(
        transactions < journals,
        "{journals} journals in {transactions} transactions: nothing was coalesced"
    );
    app.assert_audit_ok().await;
}

/// Keyed moves (`Idempotency-Key`) of one partner join the same coalesced transactions as
/// un-keyed ones: each keyed outcome is stored in the transaction of its journal, and each key
/// replays its own outcome (success or rejection) without moving money again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_moves_of_one_partner_share_transactions_and_each_replays_its_own_outcome() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let advisory = app
        .create_customer(&p, json!({"cooperation_type": "1"}))
        .await
        .id;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "60.00").await;

    // 48 keyed fundings of 2.00 (96.00 asked, 60.00 there: exactly 30 fit), 4 keyed ones for an
    // advisory customer, 4 un-keyed ones and 2 keyed batch fundings of two items, all at once.
    #[derive(Clone)]
    enum Send {
        Keyed(String, Value),
        Plain(Value),
        Batch(String, Value),
    }
    let mut sends = Vec::new();
    for i in 0..48 {
        sends.push(Send::Keyed(
            format!("k-{i}"),
            move_body(&customers[i % 4], "2.00"),
        ));
        if i % 12 == 0 {
            sends.push(Send::Keyed(
                format!("adv-{i}"),
                move_body(&advisory, "1.00"),
            ));
            sends.push(Send::Plain(move_body(&customers[0], "1.00")));
        }
    }
    for b in 0..2 {
        sends.push(Send::Batch(
            format!("batch-{b}"),
            json!({"customer_amounts": [
                {"customer_id": customers[1], "amount": 1},
                {"customer_id": advisory, "amount": 1}
            ]}),
        ));
    }
    async fn send(app: &TestApp, p: &Creds, s: &Send) -> Resp {
        match s {
            Send::Keyed(k, b) => app.signed(p).post_idem(FUND, b, k).await,
            Send::Plain(b) => app.signed(p).post(FUND, b).await,
            Send::Batch(k, b) => app.signed(p).post_idem(BATCH_FUND, b, k).await,
        }
    }
    let tasks: Vec<_> = sends
        .iter()
        .cloned()
        .map(|s| {
            let (app, p) = (app.clone(), p.clone());
            tokio::spawn(async move { send(&app, &p, &s).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let mut ok = 0;
    for (s, r) in sends.iter().zip(&answers) {
        match s {
            Send::Keyed(k, _) if k.starts_with("adv") => r.err(400, "CBC.99005024"),
            Send::Batch(..) => {
                let b = r.ok();
                assert_eq!(b["results"][1]["error_code"], "CBC.99005024", "{}", r.text);
                if b["success_count"] == 1 {
                    ok += 1;
                } else {
                    assert_eq!(b["results"][0]["error_code"], "CBC.99005003", "{}", r.text);
                }
            }
            _ if r.status == 200 => ok += 1,
            _ => r.err(400, "CBC.99005003"),
        }
    }
    // Every rejection over the balance came when less than its amount was left: at most 1.00.
    let left = cash(&app, &p).await;
    assert!(left == "0.00" || left == "1.00", "{left} left");

    // Every stored success was written in the transaction of its own journal, and keyed and
    // un-keyed journals shared transactions.
    let (keyed_ok, same_tx, journals, transactions): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from idempotency_key where caller_id = $1 and status = 200
                   and key like 'k-%'),
                (select count(*) from idempotency_key i
                   join journal j on j.trans_id = (i.body::json ->> 'trans_id')
                  where i.caller_id = $1 and i.key like 'k-%' and i.xmin = j.xmin),
                (select count(*) from journal where kind = 'fund_customer'),
                (select count(distinct xmin::text) from journal where kind = 'fund_customer')",
    )
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(keyed_ok > 0);
    assert_eq!(
        same_tx, keyed_ok,
        "a keyed outcome outside its journal's transaction"
    );
    assert_eq!(journals, ok);
    assert!(
        transactions < journals,
        "{journals} journals in {transactions} transactions: keyed moves were not coalesced"
    );
    let keyed_txs: i64 = sqlx::query_scalar(
        "select count(distinct xmin::text) from idempotency_key where caller_id = $1",
    )
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let keys: i64 = sqlx::query_scalar("select count(*) from idempotency_key where caller_id = $1")
        .bind(&p.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, 48 + 4 + 2, "every keyed request stored its outcome");
    assert!(
        keyed_txs < keys,
        "{keys} keyed outcomes in {keyed_txs} transactions"
    );

    // More money arrives; every key still replays its own first outcome and moves nothing.
    app.deposit(&p, "500.00").await;
    let before = cash(&app, &p).await;
    for (s, first) in sends.iter().zip(&answers) {
        if let Send::Plain(_) = s {
            continue;
        }
        let again = send(&app, &p, s).await;
        assert_eq!(again.status, first.status, "{}", again.text);
        // Error bodies carry the request's own request_id.
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("request_id");
            }
            v
        };
        assert_eq!(
            strip(&again.body),
            strip(&first.body),
            "a key replayed another outcome"
        );
    }
    assert_eq!(cash(&app, &p).await, before);
    // The same key with another request is still 422.
    app.signed(&p)
        .post_idem(FUND, &move_body(&customers[0], "3.00"), "k-0")
        .await
        .err(422, "CBC.0101");
    app.assert_audit_ok().await;
}
