//! Crash safety: the real binary is SIGKILLed in the middle of a funding load; after a restart the
//! ledger audit is clean, every acknowledged transfer is there, and every transfer that is there is
//! whole (journal, postings, balances and adjust record together).

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use serde_json::json;

use crate::helpers::{TestApp, ADMIN_TOKEN};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn start_binary(app: &TestApp) -> (Child, String) {
    let host = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_partner-center"))
        .arg("serve")
        .env("DATABASE_URL", app.db_url())
        .env("PARTNER_CENTER__HTTP__LISTEN", &host)
        .env("PARTNER_CENTER__ADMIN__TOKEN", ADMIN_TOKEN)
        .env("PARTNER_CENTER__DATABASE__MAX_CONNECTIONS", "8")
        .env("PARTNER_CENTER__LOG__LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start partner-center");
    for _ in 0..200 {
        if let Ok(r) = app.http.get(format!("http://{host}/healthz")).send().await {
            if r.status().is_success() {
                return (child, host);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!("partner-center did not come up on {host}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_sigkill_mid_load_every_acknowledged_transfer_is_there_and_the_audit_is_clean() {
    let app = Arc::new(TestApp::spawn().await);
    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "100000").await;

    let (mut child, host) = start_binary(&app).await;
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..16usize {
        let (app, p, host, acked, stop) = (
            app.clone(),
            p.clone(),
            host.clone(),
            acked.clone(),
            stop.clone(),
        );
        let customer = customers[t % customers.len()].clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"customer_id": customer, "amount": 1});
            while !stop.load(Ordering::Relaxed) {
                let r = app
                    .signed_at(&p, &host)
                    .try_post("/v2/accounts/partner-accounts/adjust-amount", &body)
                    .await;
                match r {
                    Some(r) if r.status == 200 => acked
                        .lock()
                        .unwrap()
                        .push(r.body["transfer_id"].as_str().unwrap().to_string()),
                    Some(r) => panic!("unexpected {}: {}", r.status, r.text),
                    // The server is gone: a request in flight at the kill has no answer.
                    None => break,
                }
            }
        }));
    }
    // Let the load run, then kill the server without warning.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "the load acknowledged nothing before the kill"
    );

    let (mut child, host) = start_binary(&app).await;
    let audit = app
        .send(
            app.http
                .get(format!("http://{host}/admin/v1/ledger/audit"))
                .bearer_auth(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(audit.body["ok"], true, "{}", audit.text);
    let present: Vec<String> = sqlx::query_scalar(
        "select trans_id from adjust_record where operation_type = 'SOURCE_OPERATION_BEADJUST'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for id in &acked {
        assert!(
            present.contains(id),
            "acknowledged transfer {id} is missing after the crash"
        );
    }
    // Whole or absent: the partner's cash is exactly the deposit minus the recorded transfers.
    let cash: i64 = sqlx::query_scalar(
        "select balance from ledger_account where owner_id = $1 and purpose = 'partner_cash'",
    )
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(cash, 10_000_000 - 100 * present.len() as i64);
    println!(
        "crash test: {} acknowledged, {} present after restart",
        acked.len(),
        present.len()
    );
    child.kill().ok();
    child.wait().ok();
}
