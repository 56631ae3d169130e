//! The binary as a newcomer runs it: no DATABASE_URL, a private PostgreSQL under a data folder that
//! survives restarts, graceful SIGTERM, clear start-up failures, idle memory.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_partner-center");
const TOKEN: &str = "embedded-test-admin-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(data_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("DATABASE_URL")
        .env("PARTNER_CENTER__DATABASE__DATA_DIR", data_dir)
        .env("PARTNER_CENTER__ADMIN__TOKEN", TOKEN)
        .env("RUST_LOG", "warn");
    c
}

fn serve(data_dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.with_extension("log"))
        .unwrap();
    command(data_dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("PARTNER_CENTER__LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("server starts")
}

async fn wait_ready(port: u16, child: &mut Child) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("server exited early: {status}");
        }
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            if r.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server not ready in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminate(child: &mut Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            return;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap())
        .unwrap()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = std::fs::remove_file(self.0.with_extension("log"));
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    TempDir(dir)
}

#[tokio::test]
async fn without_database_url_the_server_runs_its_own_postgres_and_keeps_data_across_restarts() {
    let dir = temp_dir("embedded");
    let port = free_port();
    let client = reqwest::Client::new();

    let mut first = serve(&dir.0, port);
    wait_ready(port, &mut first).await;
    let created = client
        .post(format!("http://127.0.0.1:{port}/admin/v1/partners"))
        .bearer_auth(TOKEN)
        .json(
            &serde_json::json!({"name": "Kept", "partner_type": "solution_provider",
                                   "login_name": "kept01", "password": "Passw0rd!"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["partner_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Idle memory of the server process (the embedded PostgreSQL runs in other processes).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss = rss_kib(first.id());
    println!("idle server RSS: {rss} KiB");
    assert!(rss < 50 * 1024, "idle RSS {rss} KiB is not under 50 MiB");

    let pg_port: u16 = std::fs::read_to_string(dir.0.join("pg-port"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    terminate(&mut first);
    // The private cluster stopped with the server.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", pg_port)).is_err(),
        "PostgreSQL still listening"
    );

    let mut second = serve(&dir.0, port);
    wait_ready(port, &mut second).await;
    let shown = client
        .get(format!("http://127.0.0.1:{port}/admin/v1/partners/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(
        shown.json::<serde_json::Value>().await.unwrap()["login_name"],
        "kept01"
    );
    terminate(&mut second);
}

#[test]
fn without_postgres_binaries_the_server_says_what_to_install() {
    let dir = temp_dir("nobin");
    let out = command(&dir.0)
        .env("PARTNER_CENTER__DATABASE__PG_BIN_DIR", "/nonexistent/bin")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apt-get install postgresql") && err.contains("DATABASE_URL"),
        "{err}"
    );
}

#[test]
fn invalid_configuration_fails_at_start_with_a_clear_message() {
    let dir = temp_dir("badcfg");
    let out = command(&dir.0)
        .env("PARTNER_CENTER__ADMIN__TOKEN", "short")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("admin.token"), "{err}");
    assert!(
        !err.contains("short"),
        "the secret value must not be printed: {err}"
    );
}

#[test]
fn help_explains_the_subcommands() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for sub in ["serve", "migrate", "openapi", "db"] {
        assert!(text.contains(sub), "{sub} missing from --help: {text}");
    }
}

#[test]
fn db_start_prints_only_the_export_line_for_scripts() {
    let dir = temp_dir("dbstart");
    let out = command(&dir.0)
        .env("RUST_LOG", "info")
        .args(["db", "start", "--data-dir"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("export DATABASE_URL='postgres://"),
        "{stdout}"
    );
    let stop = command(&dir.0)
        .args(["db", "stop", "--data-dir"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(
        stop.status.success(),
        "{}",
        String::from_utf8_lossy(&stop.stderr)
    );
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// Root's newcomer: a clone in a 0700 home folder (like /root), the README's run command (the
/// built binary, `serve`, from the clone's folder, no DATABASE_URL, no data folder configured).
/// The `postgres` user cannot reach `./var`, so the cluster lives under /var/lib/partner-center;
/// the data (and the generated secrets, mode 0600) survive a restart.
#[tokio::test]
async fn as_root_a_clone_in_a_0700_home_folder_runs_and_keeps_its_data() {
    use std::os::unix::fs::PermissionsExt;
    if !is_root() {
        println!("skipped: not running as root");
        return;
    }
    let home = temp_dir("root-home");
    std::fs::create_dir_all(&home.0).unwrap();
    std::fs::set_permissions(&home.0, std::fs::Permissions::from_mode(0o700)).unwrap();
    let clone = home.0.join("partner-center");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--depth", "1"])
        .arg(format!("file://{}", env!("CARGO_MANIFEST_DIR")))
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git clone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let log = home.0.join("server.log");
    let start = || {
        let mut c = Command::new(BIN);
        c.current_dir(&clone)
            .env_remove("DATABASE_URL")
            .env_remove("PARTNER_CENTER__DATABASE__DATA_DIR")
            .env_remove("PARTNER_CENTER__ADMIN__TOKEN")
            .env("PARTNER_CENTER__LOG__FORMAT", "json")
            .env("RUST_LOG", "info")
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .unwrap(),
            );
        c.spawn().unwrap()
    };
    let var = clone.join("var");
    let cleanup_cluster = || {
        if let Ok(at) = std::fs::read_to_string(var.join("cluster-location")) {
            let pgdata = PathBuf::from(at.trim());
            if let Some(dir) = pgdata.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    };
    let mut first = start();
    let client = reqwest::Client::new();
    let ready = tokio::time::timeout(Duration::from_secs(120), wait_ready(port, &mut first)).await;
    let server_log = std::fs::read_to_string(&log).unwrap_or_default();
    if ready.is_err() {
        first.kill().ok();
        cleanup_cluster();
        panic!("not ready: {server_log}");
    }
    // It says where the cluster lives, outside the home folder the postgres user cannot enter.
    let location = std::fs::read_to_string(var.join("cluster-location")).unwrap();
    assert!(
        location.starts_with(partner_center::embedded_pg::RELOCATED_ROOT),
        "{location}"
    );
    assert!(server_log.contains(location.trim()), "{server_log}");
    assert!(!server_log.contains("Permission denied"), "{server_log}");
    // Generated secrets, readable by root only; the development admin token is refused.
    let secrets = var.join(partner_center::local_secrets::FILE);
    let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    let token = kept["admin.token"].as_str().unwrap().to_string();
    assert_ne!(token, "dev-admin-token-change-me");
    let partners = format!("http://127.0.0.1:{port}/admin/v1/partners");
    let r = client
        .get(&partners)
        .bearer_auth("dev-admin-token-change-me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let created = client
        .post(&partners)
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"name": "Root's", "partner_type": "solution_provider",
                                  "login_name": "rootnew01", "password": "Passw0rd!"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    terminate(&mut first);

    let mut second = start();
    wait_ready(port, &mut second).await;
    let listed: serde_json::Value = client
        .get(&partners)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    terminate(&mut second);
    cleanup_cluster();
    assert_eq!(listed["partners"][0]["login_name"], "rootnew01", "{listed}");
}

#[test]
fn a_data_folder_that_cannot_be_used_gets_advice_not_initdbs_error() {
    let dir = temp_dir("notafolder");
    std::fs::write(&dir.0, b"a file").unwrap();
    let out = command(&dir.0).arg("serve").output().unwrap();
    let _ = std::fs::remove_file(&dir.0);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a folder"), "{err}");
    assert!(err.contains("PARTNER_CENTER__DATABASE__DATA_DIR"), "{err}");
    assert!(!err.contains("initdb:"), "{err}");
}
