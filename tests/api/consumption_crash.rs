//! Usage ingestion across a server SIGKILL (issue 8): concurrent callers send overlapping usage
//! batches to the real binary, which is killed mid-load and restarted on the same database; every
//! batch is sent again (also those that got no answer). Each event is then charged exactly once,
//! every answered charge is there, the customers' money equals their fee records' splits, the
//! monthly sums equal their details and the ledger audit is clean.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    consumption::{ecs_product, fund, money, record, sell_card, HOUR, USAGE},
    helpers::{Resp, TestApp, ADMIN_TOKEN},
};

/// Sends a usage batch to the server at `host`; `None` when the server is gone.
async fn ingest_at(app: &TestApp, host: &str, records: &[Value]) -> Option<Resp> {
    app.try_send(
        app.http
            .post(format!("http://{host}{USAGE}"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "records": records })),
    )
    .await
}

/// Callers 0–3 and 4–7 send the same sequence of batches (so the same events race), and each
/// batch overlaps the next by half (so events repeat within one caller too).
const GROUPS: usize = 4;
const CALLERS: usize = 8;
const BATCH: usize = 10;

fn event(group: usize, n: usize) -> String {
    format!("g{group}-e{n}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_event_is_charged_once_across_a_sigkill_mid_load_and_a_full_resend() {
    let app = Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    app.deposit(&p, "100000").await;
    let mut customers = Vec::new();
    for i in 0..4 {
        let c = app.create_customer(&p, json!({})).await;
        // Little cash, so that the load runs into credit and arrears too.
        fund(&app, &p, &c.id, "30.00").await.ok();
        if i == 0 {
            let r = app
                .admin(
                    Method::PUT,
                    &format!("/admin/v1/customers/{}/credit-line", c.id),
                    Some(json!({"credit_amount": 20})),
                )
                .await;
            r.ok();
        }
        if i == 1 {
            sell_card(&app, &c.id, "15.00").await;
        }
        customers.push(c.id);
    }
    let ecs = ecs_product(&app, "0.37").await;
    // The records of one event (the same body every time it is sent).
    let rec = {
        let (app, customers, ecs) = (app.clone(), customers.clone(), ecs.clone());
        move |group: usize, n: usize| {
            let customer = &customers[(group + n) % customers.len()];
            let hours = format!("{}.5", 1 + n % 7);
            record(
                &app,
                &event(group, n),
                customer,
                &ecs,
                "duration",
                &hours,
                HOUR,
            )
        }
    };
    let initial: Vec<Value> = {
        let mut v = Vec::new();
        for c in &customers {
            v.push(money(&app, c).await);
        }
        v
    };

    let (mut child, host) = app.start_binary(&[]).await;
    // Every batch ever sent (index: its group and number), answered or not.
    let sent = Arc::new(Mutex::new(HashSet::<(usize, usize)>::new()));
    // Event → fee record id of every `charged` answer before the kill.
    let acked = Arc::new(Mutex::new(HashMap::<String, String>::new()));
    let duplicates = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..CALLERS {
        let (app, host, sent, acked, duplicates, stop, rec) = (
            app.clone(),
            host.clone(),
            sent.clone(),
            acked.clone(),
            duplicates.clone(),
            stop.clone(),
            rec.clone(),
        );
        let group = t % GROUPS;
        tasks.push(tokio::spawn(async move {
            let mut b = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<Value> = (b * BATCH / 2..b * BATCH / 2 + BATCH)
                    .map(|n| rec(group, n))
                    .collect();
                sent.lock().unwrap().insert((group, b));
                let Some(r) = ingest_at(&app, &host, &batch).await else {
                    // The server is gone: a batch in flight at the kill has no answer.
                    break;
                };
                assert_eq!(r.status, 200, "{}", r.text);
                for res in r.body["results"].as_array().unwrap() {
                    match res["status"].as_str().unwrap() {
                        "charged" => {
                            let e = res["event_id"].as_str().unwrap().to_string();
                            let id = res["fee_record_id"].as_str().unwrap().to_string();
                            let before = acked.lock().unwrap().insert(e.clone(), id);
                            assert!(before.is_none(), "{e} was charged twice");
                        }
                        "duplicate" => {
                            duplicates.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("unexpected {other}: {res}"),
                    }
                }
                b += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent: Vec<(usize, usize)> = {
        let mut v: Vec<_> = sent.lock().unwrap().iter().copied().collect();
        v.sort();
        v
    };
    assert!(
        !acked.is_empty(),
        "the load charged nothing before the kill"
    );
    assert!(
        duplicates.load(Ordering::Relaxed) > 0,
        "the overlapping load answered no duplicate"
    );
    let present_at_restart: i64 =
        sqlx::query_scalar("select count(*) from fee_record where event_id is not null")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    // Restart on the same database and send every batch again.
    let (mut child, host) = app.start_binary(&[]).await;
    let mut all_events: HashSet<String> = HashSet::new();
    let mut resent_charged = 0usize;
    for &(group, b) in &sent {
        let batch: Vec<Value> = (b * BATCH / 2..b * BATCH / 2 + BATCH)
            .map(|n| rec(group, n))
            .collect();
        let r = ingest_at(&app, &host, &batch)
            .await
            .expect("the restarted server answers");
        assert_eq!(r.status, 200, "{}", r.text);
        for res in r.body["results"].as_array().unwrap() {
            let e = res["event_id"].as_str().unwrap().to_string();
            let id = res["fee_record_id"].as_str().unwrap_or_default();
            match res["status"].as_str().unwrap() {
                "charged" => {
                    assert!(
                        !acked.contains_key(&e),
                        "{e} was answered charged before the kill and charged again: {res}"
                    );
                    resent_charged += 1;
                }
                "duplicate" => {
                    if let Some(first) = acked.get(&e) {
                        assert_eq!(id, first, "{e} names another fee record after the crash");
                    }
                }
                other => panic!("unexpected {other} on resend: {res}"),
            }
            all_events.insert(e);
        }
    }

    // Exactly one fee record per event, and no other.
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select event_id, count(*) from fee_record where event_id is not null group by event_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (e, n) in &rows {
        assert_eq!(*n, 1, "event {e} has {n} fee records");
    }
    let charged: HashSet<String> = rows.into_iter().map(|(e, _)| e).collect();
    assert_eq!(
        charged, all_events,
        "charged events differ from the events sent"
    );
    let claims: i64 = sqlx::query_scalar(
        "select count(*) from usage_event u join fee_record f
           on f.id = u.fee_record_id and f.event_id = u.event_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        claims as usize,
        all_events.len(),
        "usage_event and fee_record disagree"
    );
    // Every answered charge is there, under the id it was answered with.
    for (e, id) in &acked {
        let found: Option<String> =
            sqlx::query_scalar("select event_id from fee_record where id = $1")
                .bind(id)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        assert_eq!(
            found.as_deref(),
            Some(e.as_str()),
            "answered charge {id} of {e} is missing"
        );
    }

    // The customers' money is their initial money minus their fee records' splits.
    for (c, before) in customers.iter().zip(&initial) {
        let (cash, credit, debt, card): (i64, i64, i64, i64) = sqlx::query_as(
            "select coalesce(sum(cash), 0)::bigint, coalesce(sum(credit), 0)::bigint,
                    coalesce(sum(debt), 0)::bigint, coalesce(sum(card), 0)::bigint
               from fee_record where customer_id = $1",
        )
        .bind(c)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let fen = |v: &Value| -> i64 {
            let d: rust_decimal::Decimal = v.to_string().parse().unwrap();
            (d * rust_decimal::Decimal::from(100)).try_into().unwrap()
        };
        let now = money(&app, c).await;
        assert_eq!(
            fen(&now["cash_amount"]),
            fen(&before["cash_amount"]) - cash,
            "{c}: {now}"
        );
        assert_eq!(
            fen(&now["credit_available"]),
            fen(&before["credit_available"]) - credit,
            "{c}: {now}"
        );
        assert_eq!(fen(&now["debt_amount"]), debt, "{c}: {now}");
        let card_balance: i64 = sqlx::query_scalar(
            "select coalesce(sum(a.balance), 0)::bigint from ledger_account a
               join stored_value_card s on s.id = a.owner_id
              where a.purpose = 'stored_value_card' and s.customer_id = $1",
        )
        .bind(c)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let face: i64 = sqlx::query_scalar(
            "select coalesce(sum(face_value), 0)::bigint from stored_value_card where customer_id = $1",
        )
        .bind(c)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(card_balance, face - card, "{c}: card balance");
    }
    crate::consumption_random::assert_sums_match_details(&app).await;

    let audit = app
        .send(
            app.http
                .get(format!("http://{host}/admin/v1/ledger/audit"))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(audit.body["ok"], true, "{}", audit.text);
    println!(
        "usage crash test: {} batches sent, {} events answered charged before the kill, {} fee \
         records at restart, {} charged only by the resend, {} events",
        sent.len(),
        acked.len(),
        present_at_restart,
        resent_charged,
        all_events.len()
    );
    child.kill().ok();
    child.wait().ok();
}
