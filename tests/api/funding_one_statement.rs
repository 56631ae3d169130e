//! The usual funding path: one read, then every write in one statement (`funding_apply`,
//! migration 0022) that re-checks what the plan read under its locks.

use serde_json::{json, Value};

use crate::helpers::TestApp;

const FUND: &str = "/v2/accounts/partner-accounts/adjust-amount";
const RECLAIM: &str = "/v2/accounts/partner-accounts/reclaim";
const BATCH_FUND: &str = "/v2/accounts/partner-accounts/batch-adjust-amount";
const ADJUST_RECORDS: &str = "/v3/accounts/partner-accounts/adjust-records";

fn move_body(customer: &str, amount: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
    ))
    .unwrap()
}

/// `funding_batches_total{path="…"}` from /metrics.
async fn batches(app: &TestApp, path: &str) -> i64 {
    let m = app
        .send(app.http.get(format!("{}/metrics", app.base)))
        .await
        .text;
    let needle = format!("funding_batches_total{{path=\"{path}\"}} ");
    m.lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[tokio::test]
async fn fundings_reclaims_and_batches_are_written_in_one_statement_once_the_accounts_exist() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await.id;
    let d = app.create_customer(&p, json!({})).await.id;
    app.deposit(&p, "20.00").await;
    // The first funding of a customer opens its arrears account: the locking path.
    app.signed(&p).post(FUND, &move_body(&c, "1.00")).await.ok();
    app.signed(&p).post(FUND, &move_body(&d, "1.00")).await.ok();
    assert_eq!(batches(&app, "one_statement").await, 0);
    let locking = batches(&app, "locking").await;
    assert_eq!(locking, 2);

    let r = app
        .signed(&p)
        .post_idem(FUND, &move_body(&c, "2.00"), "one-1")
        .await;
    let trans_id = r.ok()["transfer_id"].as_str().unwrap().to_string();
    app.signed(&p)
        .post(RECLAIM, &move_body(&c, "0.50"))
        .await
        .ok();
    let b = app
        .signed(&p)
        .post(
            BATCH_FUND,
            &json!({"customer_amounts": [{"customer_id": c, "amount": 1},
                                         {"customer_id": d, "amount": 100}]}),
        )
        .await;
    assert_eq!(b.ok()["success_count"], 1, "{}", b.text);
    // Over the balance: the rejection is the answer and is stored with its key.
    app.signed(&p)
        .post_idem(FUND, &move_body(&d, "100.00"), "one-2")
        .await
        .err(400, "CBC.99005003");
    assert_eq!(batches(&app, "one_statement").await, 4);
    assert_eq!(batches(&app, "locking").await, locking);

    // Replays answer the first outcome and move nothing.
    let again = app
        .signed(&p)
        .post_idem(FUND, &move_body(&c, "2.00"), "one-1")
        .await;
    assert_eq!(again.ok()["transfer_id"], trans_id.as_str());
    app.signed(&p)
        .post_idem(FUND, &move_body(&d, "100.00"), "one-2")
        .await
        .err(400, "CBC.99005003");
    // The journal, its adjust record, its event and the key's outcome are one transaction's.
    let (same, journals): (bool, i64) = sqlx::query_as(
        "select (select j.xmin = a.xmin and a.xmin = i.xmin and i.xmin = e.xmin
                   from journal j join adjust_record a using (trans_id)
                   join idempotency_key i on i.key = 'one-1'
                   join event e on e.data ->> 'trans_id' = j.trans_id
                  where j.trans_id = $1),
                (select count(*) from journal where kind in ('fund_customer', 'reclaim_customer'))",
    )
    .bind(&trans_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(same);
    assert_eq!(journals, 5);
    let cust: i64 = sqlx::query_scalar(
        "select balance from ledger_account where owner_id = $1 and purpose = 'customer_cash'",
    )
    .bind(&c)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(cust, 100 + 200 - 50 + 100);
    app.assert_audit_ok().await;
}

/// The statement's re-check: a balance or a customer that changed since the plan's read, or a
/// key in use, makes it write nothing (SQLSTATE PC001); the server then takes the locking path.
#[tokio::test]
async fn the_one_statement_writes_nothing_when_what_its_plan_read_has_changed() {
    let app = TestApp::spawn().await;
    let p = app.create_partner("solution_provider", None).await;
    let c = app.create_customer(&p, json!({})).await.id;
    app.deposit(&p, "10.00").await;
    app.signed(&p).post(FUND, &move_body(&c, "1.00")).await.ok();
    let (cash_id, cash): (i64, i64) = sqlx::query_as(
        "select id, balance from ledger_account where owner_id = $1 and purpose = 'partner_cash'",
    )
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (cust_id, cust): (i64, i64) = sqlx::query_as(
        "select id, balance from ledger_account where owner_id = $1 and purpose = 'customer_cash'",
    )
    .bind(&c)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let doc = |cash_seen: i64, frozen_seen: i16, keys: Value| {
        json!({
            "keys": keys,
            "cutoff": "2000-01-01T00:00:00Z",
            "customers": [{"id": c, "partner_id": p.id, "association_type": "2",
                           "is_frozen": frozen_seen}],
            "accounts": [{"id": cash_id, "balance": cash_seen, "floor": 0, "credit_limit": 0},
                         {"id": cust_id, "balance": cust, "floor": 0, "credit_limit": 0}],
            "journals": [{"n": 1, "trans_id": "AD-stale-test", "kind": "fund_customer",
                          "created_at": "2026-01-01T00:00:00Z"}],
            "legs": [{"journal_n": 1, "account_id": cash_id, "amount": -5,
                      "balance_after": cash_seen - 5},
                     {"journal_n": 1, "account_id": cust_id, "amount": 5,
                      "balance_after": cust + 5}],
            "adjust": [], "events": [], "outcomes": []
        })
        .to_string()
    };
    let apply = |d: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query("select funding_apply($1::text::jsonb)")
                .bind(d)
                .execute(&pool)
                .await
        }
    };
    let code = |r: Result<_, sqlx::Error>| match r {
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.to_string()),
        other => panic!("expected a refusal, got {other:?}"),
    };
    // A balance moved since the read; the customer was frozen since the read.
    assert_eq!(
        code(apply(doc(cash + 1, 0, json!([]))).await).as_deref(),
        Some("PC001")
    );
    sqlx::query("update customer set is_frozen = 1 where account_id = $1")
        .bind(&c)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        code(apply(doc(cash, 0, json!([]))).await).as_deref(),
        Some("PC001")
    );
    sqlx::query("update customer set is_frozen = 0 where account_id = $1")
        .bind(&c)
        .execute(&app.pool)
        .await
        .unwrap();
    // A key held by another transaction.
    let mut holder = app.pool.begin().await.unwrap();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || chr(10) || 'busy', 0))")
        .bind(&p.id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let keys = json!([{"c": p.id, "k": "busy"}]);
    assert_eq!(
        code(apply(doc(cash, 0, keys)).await).as_deref(),
        Some("PC001")
    );
    holder.rollback().await.unwrap();
    let written: i64 =
        sqlx::query_scalar("select count(*) from journal where trans_id = 'AD-stale-test'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(written, 0);
    // Unchanged, it writes (the test's journal balances, so the audit stays clean).
    apply(doc(cash, 0, json!([]))).await.unwrap();
    app.assert_audit_ok().await;
}

/// Concurrent moves of different partners share transactions (one lane, `funding.coalesce_lanes
/// = 1`): each partner's moves are planned against its own balance (exactly the ones that fit
/// succeed, the rest get their own CBC.99005003), two partners may use the same
/// `Idempotency-Key` (keys are per caller), and a transaction carries several partners' journals.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moves_of_different_partners_share_transactions_and_each_partner_keeps_its_own_balance() {
    let app = std::sync::Arc::new(TestApp::spawn_with(|c| c.funding.coalesce_lanes = 1).await);
    let mut partners = Vec::new();
    for _ in 0..12 {
        let p = app.create_partner("solution_provider", None).await;
        let c = app.create_customer(&p, json!({})).await.id;
        let d = app.create_customer(&p, json!({})).await.id;
        app.deposit(&p, "12.00").await;
        // The first fundings open the arrears accounts (the locking path): 10.00 stay.
        app.signed(&p).post(FUND, &move_body(&c, "1.00")).await.ok();
        app.signed(&p).post(FUND, &move_body(&d, "1.00")).await.ok();
        partners.push((p, c, d));
    }
    // Per partner: six fundings of 2.00 (12.00 asked, 10.00 there), one of them keyed "same".
    let mut tasks = Vec::new();
    for (pi, (p, c, d)) in partners.iter().enumerate() {
        for i in 0..6 {
            let (app, p) = (app.clone(), p.clone());
            let body = move_body(if i % 2 == 0 { c } else { d }, "2.00");
            tasks.push(tokio::spawn(async move {
                let r = if i == 0 {
                    app.signed(&p).post_idem(FUND, &body, "same").await
                } else {
                    app.signed(&p).post(FUND, &body).await
                };
                (pi, r)
            }));
        }
    }
    let mut ok = vec![0; partners.len()];
    for t in tasks {
        let (pi, r) = t.await.unwrap();
        if r.status == 200 {
            ok[pi] += 1;
        } else {
            r.err(400, "CBC.99005003");
        }
    }
    assert_eq!(ok, vec![5; partners.len()], "successes per partner");
    for (p, c, d) in &partners {
        let (cash, funded, stored): (i64, i64, i64) = sqlx::query_as(
            "select (select balance from ledger_account
                      where owner_id = $1 and purpose = 'partner_cash'),
                    (select sum(balance)::bigint from ledger_account
                      where owner_id = any($2) and purpose = 'customer_cash'),
                    (select count(*) from idempotency_key where caller_id = $1 and key = 'same')",
        )
        .bind(&p.id)
        .bind(vec![c.clone(), d.clone()])
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!((cash, funded, stored), (0, 1200, 1), "partner {}", p.id);
    }
    // Some transaction wrote the journals of more than one partner.
    let shared: i64 = sqlx::query_scalar(
        "select count(*) from (select j.xmin::text from journal j
                                 join adjust_record a using (trans_id)
                                where j.kind = 'fund_customer'
                                group by 1 having count(distinct a.partner_id) > 1) t",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(shared > 0, "no transaction carried two partners' moves");
    assert!(batches(&app, "one_statement").await > 0);
    // The maintained per-(partner, counterparty) totals (migration 0026) are the counts of the
    // records the batches wrote, and the one-customer list answers them.
    let off: i64 = sqlx::query_scalar(
        "select count(*) from (select partner_id, counterparty_id, count(*) as n
                                 from adjust_record group by 1, 2) r
           full join counterparty_adjust_count c using (partner_id, counterparty_id)
          where r.n is distinct from c.adjust_records",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(off, 0, "counterparty counters differ from the records");
    for (p, c, d) in &partners {
        for customer in [c, d] {
            let query = format!("customer_id={customer}");
            let listed = app.signed(p).get(ADJUST_RECORDS, &query).await.ok().clone();
            // With a second filter the total is counted: the same number.
            let counted = app
                .signed(p)
                .get(
                    ADJUST_RECORDS,
                    &format!("{query}&operation_type=SOURCE_OPERATION_BEADJUST"),
                )
                .await
                .ok()
                .clone();
            let n = listed["records"].as_array().unwrap().len();
            assert!(n >= 2, "{listed}");
            assert_eq!(listed["total_count"], n, "{listed}");
            assert_eq!(counted["total_count"], n, "{counted}");
        }
    }
    app.assert_audit_ok().await;
}
