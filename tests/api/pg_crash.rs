//! PostgreSQL crash safety: the test runs its own PostgreSQL (`initdb` into a temporary folder,
//! then `postgres -D …` as the test's own child, not through `pg_ctl`, so it can be SIGKILLed
//! and reaped), kills the postmaster in the middle of a 64-client funding load and starts it
//! again. The server keeps running throughout: /readyz says 503 while the database is down and
//! 200 once it is back; every transfer acknowledged with 200 is in the ledger exactly once, and the
//! ledger audit is clean.

use std::{
    collections::HashSet,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde_json::json;

use crate::helpers::TestApp;

/// A PostgreSQL cluster owned by this test.
struct OwnPg {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    /// The `postgres` user's uid/gid when the test runs as root (PostgreSQL refuses root).
    user: Option<(u32, u32)>,
    child: Option<Child>,
}

fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f[2].parse().ok()?, f[3].parse().ok()?))
}

impl OwnPg {
    fn command(&self, program: &str) -> Command {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new(self.bin.join(program));
        c.current_dir("/");
        if let Some((uid, gid)) = self.user {
            c.uid(uid).gid(gid);
        }
        c
    }

    fn init() -> OwnPg {
        use std::os::unix::fs::MetadataExt;
        let bin = partner_center::embedded_pg::find_bin_dir().expect("PostgreSQL binaries");
        let dir =
            std::env::temp_dir().join(format!("pc-pg-crash-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        let user = if root {
            Some(postgres_user().expect("a postgres user to run PostgreSQL as"))
        } else {
            None
        };
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPg {
            dir,
            bin,
            port,
            user,
            child: None,
        };
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(pg.dir.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-locale",
                "-E",
                "UTF8",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the postmaster and waits until it accepts connections. Right after a SIGKILL the
    /// old backends may still hold the shared memory for a moment: then it is tried again.
    async fn start(&mut self) {
        use sqlx::Connection;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("postgres.log"))
                .unwrap();
            let mut child = self
                .command("postgres")
                .arg("-D")
                .arg(self.dir.join("data"))
                .args(["-p", &self.port.to_string()])
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "unix_socket_directories=",
                ])
                .args(["-c", "max_connections=100"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start postgres");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if let Ok(c) = sqlx::PgConnection::connect(&self.url()).await {
                    c.close().await.ok();
                    self.child = Some(child);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            child.kill().ok();
            child.wait().ok();
            let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "postgres did not start: {log}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// SIGKILL to the postmaster, reaped.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("postgres runs");
        child.kill().expect("SIGKILL the postmaster");
        child.wait().unwrap();
    }
}

impl Drop for OwnPg {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGINT: fast shutdown.
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            c.kill().ok();
            c.wait().ok();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn readyz(app: &TestApp) -> u16 {
    match app.http.get(format!("{}/readyz", app.base)).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_sigkill_mid_funding_loses_no_acknowledged_transfer_and_the_server_recovers() {
    let mut pg = OwnPg::init();
    pg.start().await;
    let app = Arc::new(
        TestApp::spawn_on(&pg.url(), |c| {
            c.database.max_connections = 16;
            c.database.acquire_timeout_secs = 2;
        })
        .await,
    );
    let p = app.create_partner("solution_provider", None).await;
    let mut customers = Vec::new();
    for _ in 0..4 {
        customers.push(app.create_customer(&p, json!({})).await.id);
    }
    app.deposit(&p, "100000").await;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..64usize {
        let (app, p, acked, failed, stop) = (
            app.clone(),
            p.clone(),
            acked.clone(),
            failed.clone(),
            stop.clone(),
        );
        let customer = customers[t % customers.len()].clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"customer_id": customer, "amount": 1});
            while !stop.load(Ordering::Relaxed) {
                let r = app
                    .signed(&p)
                    .try_post("/v2/accounts/partner-accounts/adjust-amount", &body)
                    .await;
                match r {
                    Some(r) if r.status == 200 => acked
                        .lock()
                        .unwrap()
                        .push(r.body["transfer_id"].as_str().unwrap().to_string()),
                    Some(r) => {
                        assert!(
                            r.status >= 500 || r.status == 409,
                            "unexpected {}: {}",
                            r.status,
                            r.text
                        );
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    None => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before_kill = acked.lock().unwrap().len();
    assert!(
        before_kill > 0,
        "the load acknowledged nothing before the kill"
    );
    pg.kill();

    // The server stays up and says the database is not there.
    let down = readyz(&app).await;
    assert_eq!(down, 503, "readyz while PostgreSQL is down");
    tokio::time::sleep(Duration::from_millis(500)).await;

    pg.start().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while readyz(&app).await != 200 {
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at_recovery = acked.lock().unwrap().len();
    // Money moves again on the same server process.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < at_recovery + 50 {
        assert!(Instant::now() < deadline, "no transfers after the recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    let present: Vec<String> = sqlx::query_scalar(
        "select trans_id from adjust_record where operation_type = 'SOURCE_OPERATION_BEADJUST'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let unique: HashSet<&String> = present.iter().collect();
    assert_eq!(
        unique.len(),
        present.len(),
        "a transfer is in the ledger twice"
    );
    let acked_unique: HashSet<&String> = acked.iter().collect();
    assert_eq!(
        acked_unique.len(),
        acked.len(),
        "a transfer id was acknowledged twice"
    );
    for id in &acked {
        assert!(
            unique.contains(id),
            "acknowledged transfer {id} is missing after the crash"
        );
    }
    let cash: i64 = sqlx::query_scalar(
        "select balance from ledger_account where owner_id = $1 and purpose = 'partner_cash'",
    )
    .bind(&p.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(cash, 10_000_000 - 100 * present.len() as i64);
    app.assert_audit_ok().await;
    println!(
        "postgres crash: {} acknowledged ({before_kill} before the kill), {} present, {} refused or unanswered",
        acked.len(),
        present.len(),
        failed.load(Ordering::Relaxed)
    );
}
