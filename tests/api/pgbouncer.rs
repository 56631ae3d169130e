//! The real binary behind PgBouncer in transaction pooling mode (Debian's `pgbouncer`, 1.18 on
//! bookworm: no protocol-level prepared statements), with `database.transaction_pooler` on:
//! funding (keyed and coalesced, concurrent), reads and records through a pool of two server
//! connections shared by the server's eight.

use std::{path::Path, process::Command};

use serde_json::{json, Value};

use crate::helpers::{Creds, TestApp};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A PgBouncer of its own in front of the test's database; stopped on drop.
struct Bouncer {
    child: std::process::Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// (host, port, user, database) of a `postgres://user[:password]@host:port/db` URL, and the
/// password part for PgBouncer's connection string.
fn parts(url: &str) -> (String, String, String, String) {
    let (h, p, u, d, _) = parts_with_password(url);
    (h, p, u, d)
}

fn parts_with_password(url: &str) -> (String, String, String, String, String) {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .expect("a postgres:// URL");
    let (auth, rest) = rest.split_once('@').expect("user@host");
    let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
    let password = if password.is_empty() {
        String::new()
    } else {
        format!(" password={password}")
    };
    let user = user.to_string();
    let (hostport, db) = rest.split_once('/').expect("host/db");
    let db = db.split('?').next().unwrap().to_string();
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    (host.to_string(), port.to_string(), user, db, password)
}

async fn start_bouncer(db_url: &str) -> Bouncer {
    let (host, port, user, db, password) = parts_with_password(db_url);
    let dir = std::env::temp_dir().join(format!("pc-bouncer-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let listen = free_port();
    std::fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).unwrap();
    let ini = format!(
        "[databases]\n\
         pc = host={host} port={port} dbname={db} user={user}{password}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {listen}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {users}\n\
         pool_mode = transaction\n\
         default_pool_size = 2\n\
         max_client_conn = 100\n\
         server_reset_query = DEALLOCATE ALL\n\
         server_reset_query_always = 1\n\
         ignore_startup_parameters = extra_float_digits,options\n\
         logfile = {log}\n",
        users = dir.join("users.txt").display(),
        log = dir.join("pgbouncer.log").display(),
    );
    std::fs::write(dir.join("pgbouncer.ini"), ini).unwrap();
    let mut cmd = Command::new(PGBOUNCER);
    // PgBouncer refuses to run as root: it then switches to the postgres user.
    if is_root() {
        Command::new("chmod")
            .args(["-R", "a+rwX"])
            .arg(&dir)
            .status()
            .unwrap();
        cmd.args(["-u", "postgres"]);
    }
    let mut child = cmd
        .arg(dir.join("pgbouncer.ini"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pgbouncer");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", listen))
            .await
            .is_ok()
        {
            return Bouncer {
                child,
                dir,
                port: listen,
            };
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!(
        "pgbouncer did not come up: {}",
        std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn move_body(customer: &str, amount: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"customer_id": "{customer}", "amount": {amount}}}"#
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_runs_unchanged_behind_pgbouncer_in_transaction_pooling_mode() {
    if !Path::new(PGBOUNCER).exists() {
        // scripts/test installs Debian's pgbouncer in CI; a developer without it is told so.
        assert!(
            std::env::var("CI").is_err(),
            "{PGBOUNCER} is missing (apt-get install -y pgbouncer)"
        );
        eprintln!("skipped: {PGBOUNCER} is missing (apt-get install -y pgbouncer)");
        return;
    }
    // The schema is migrated directly; the binary connects through the pooler only.
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let bouncer = start_bouncer(&app.db_url()).await;
    let (_, _, user, _) = parts(&app.db_url());
    let url = format!("postgres://{user}@127.0.0.1:{}/pc", bouncer.port);
    let (mut child, host) = app
        .start_binary(&[
            ("DATABASE_URL", url.as_str()),
            ("PARTNER_CENTER__DATABASE__TRANSACTION_POOLER", "true"),
        ])
        .await;

    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "100.00").await;

    // 40 concurrent fundings of 1.00 through the pooler, half of them keyed.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (app, p, host) = (app.clone(), p.clone(), host.clone());
            let body = move_body(&customers[i % 4], "1.00");
            tokio::spawn(async move {
                let s = app.signed_at(&p, &host);
                if i % 2 == 0 {
                    s.post_idem(
                        "/v2/accounts/partner-accounts/adjust-amount",
                        &body,
                        &format!("pgb-{i}"),
                    )
                    .await
                } else {
                    s.post("/v2/accounts/partner-accounts/adjust-amount", &body)
                        .await
                }
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(ids.insert(r.ok()["transfer_id"].as_str().unwrap().to_string()));
    }
    // A keyed retry replays; a reclaim; reads of balances, records and changes.
    let s = app.signed_at(&p, &host);
    let again = s
        .post_idem(
            "/v2/accounts/partner-accounts/adjust-amount",
            &move_body(&customers[0], "1.00"),
            "pgb-0",
        )
        .await;
    assert!(ids.contains(again.ok()["transfer_id"].as_str().unwrap()));
    s.post(
        "/v2/accounts/partner-accounts/reclaim",
        &move_body(&customers[1], "2.50"),
    )
    .await
    .ok();
    for _ in 0..3 {
        let b = s.get("/v2/accounts/partner-accounts/balances", "").await;
        let cash = b.ok()["account_balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_type"] == 1)
            .unwrap()["amount"]
            .to_string();
        assert_eq!(cash, "62.50");
        let r = s
            .get("/v3/accounts/partner-accounts/adjust-records", "limit=5")
            .await;
        assert_eq!(r.ok()["total_count"], 41);
        let r = s
            .post(
                "/v2/partners/sub-customers/query",
                &json!({"customer_id": customers[2]}),
            )
            .await;
        assert_eq!(r.ok()["count"], 1, "{}", r.text);
    }
    let r = s
        .get(
            "/v2/accounts/partner-accounts/account-change-records",
            "balance_type=BALANCE_TYPE_DEBIT&limit=3",
        )
        .await;
    assert_eq!(r.ok()["total_count"], 42, "{}", r.text);
    // Each answer is committed before it is sent: a read right after a reclaim sees it.
    for k in 1..=10 {
        s.post(
            "/v2/accounts/partner-accounts/reclaim",
            &move_body(&customers[3], "0.10"),
        )
        .await
        .ok();
        let b = s.get("/v2/accounts/partner-accounts/balances", "").await;
        let cash = b.ok()["account_balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account_type"] == 1)
            .unwrap()["amount"]
            .to_string();
        let fen = 6250 + 10 * k;
        assert_eq!(cash, format!("{}.{:02}", fen / 100, fen % 100), "after {k}");
    }
    // A new customer through the pooler.
    let created = signed_create_customer(&app, &p, &host).await;
    assert_eq!(created.status, 200, "{}", created.text);

    child.kill().ok();
    child.wait().ok();
    drop(bouncer);
    app.assert_audit_ok().await;
}

async fn signed_create_customer(app: &TestApp, p: &Creds, host: &str) -> crate::helpers::Resp {
    let body = json!({
        "domain_name": format!("pgb{}", &uuid::Uuid::new_v4().simple().to_string()[..10]),
        "xaccount_id": uuid::Uuid::new_v4().simple().to_string(),
        "xaccount_type": p.xaccount_type,
        "password": "Cust0mer!pw",
    });
    app.signed_at(p, host)
        .post("/v2/partners/sub-customers", &body)
        .await
}
