//! A private PostgreSQL cluster for the no-`DATABASE_URL` default: created with the machine's own
//! `initdb`/`pg_ctl` under a data folder, listening only on loopback with a generated password,
//! reused on the next start and stopped on shutdown.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

const DB_NAME: &str = "partner_center";
const SUPERUSER: &str = "partner_center";

pub struct EmbeddedPg {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    /// Whether this process started the cluster (and so must stop it).
    started_here: bool,
    run_as: Option<String>,
}

/// Finds a PostgreSQL program: on PATH, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() {
                return Some(dir);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, p)| p)
}

fn current_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn user_exists(name: &str) -> bool {
    std::fs::read_to_string("/etc/passwd")
        .map(|s| s.lines().any(|l| l.split(':').next() == Some(name)))
        .unwrap_or(false)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

impl EmbeddedPg {
    /// Creates (first time) and starts the cluster under `data_dir`, then ensures the database.
    pub async fn start(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<EmbeddedPg> {
        let found = match bin_dir {
            Some(dir) => (dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
                .then(|| dir.to_path_buf()),
            None => find_bin_dir(),
        };
        let bin_dir = found.context(
            "no DATABASE_URL is set and no PostgreSQL binaries (initdb, pg_ctl) were found on PATH or \
             under /usr/lib/postgresql/*/bin. Install PostgreSQL (Debian/Ubuntu: `apt-get install \
             postgresql`) or set DATABASE_URL to an existing database",
        )?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data folder {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        // initdb refuses to run as root: run the cluster as the `postgres` system user then.
        let run_as = if current_uid() == Some(0) {
            if !user_exists("postgres") {
                bail!("running as root needs a `postgres` system user for the embedded PostgreSQL; create one or set DATABASE_URL");
            }
            Some("postgres".to_string())
        } else {
            None
        };
        let mut pg = EmbeddedPg {
            data_dir: data_dir.clone(),
            bin_dir,
            port: 0,
            password: String::new(),
            started_here: false,
            run_as,
        };
        pg.init_if_needed()?;
        pg.password = std::fs::read_to_string(data_dir.join("pg-password"))
            .context("reading the embedded cluster's password")?
            .trim()
            .to_string();
        if pg.running() {
            pg.port = pg.saved_port()?;
        } else {
            let saved = pg.saved_port().ok();
            pg.port = match saved {
                Some(p) if port_free(p) => p,
                _ => free_port()?,
            };
            std::fs::write(data_dir.join("pg-port"), pg.port.to_string())?;
            pg.pg_ctl_start()?;
            pg.started_here = true;
        }
        pg.ensure_database().await?;
        Ok(pg)
    }

    fn pgdata(&self) -> PathBuf {
        self.data_dir.join("pgdata")
    }

    fn saved_port(&self) -> anyhow::Result<u16> {
        Ok(std::fs::read_to_string(self.data_dir.join("pg-port"))?
            .trim()
            .parse()?)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, mut cmd: Command, what: &str) -> anyhow::Result<()> {
        let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn init_if_needed(&self) -> anyhow::Result<()> {
        if self.pgdata().join("PG_VERSION").is_file() {
            return Ok(());
        }
        let password: String = {
            use rand::Rng;
            rand::thread_rng()
                .sample_iter(&rand::distributions::Alphanumeric)
                .take(32)
                .map(char::from)
                .collect()
        };
        let pw_file = self.data_dir.join("pg-password");
        std::fs::write(&pw_file, &password)?;
        set_mode(&pw_file, 0o600)?;
        std::fs::create_dir_all(self.pgdata())?;
        // The cluster user needs its own copy of the password file for initdb.
        let init_pw = self.data_dir.join("pgdata-initpw");
        std::fs::write(&init_pw, &password)?;
        if let Some(user) = &self.run_as {
            self.run(
                {
                    let mut c = Command::new("chown");
                    c.arg("-R").arg(user).arg(self.pgdata()).arg(&init_pw);
                    c
                },
                "chown of the data folder",
            )?;
        }
        set_mode(&self.pgdata(), 0o700)?;
        let mut cmd = self.command("initdb");
        cmd.arg("-D")
            .arg(self.pgdata())
            .arg("-U")
            .arg(SUPERUSER)
            .arg("--auth-host=scram-sha-256")
            .arg("--auth-local=scram-sha-256")
            .arg("--encoding=UTF8")
            .arg("--no-locale")
            .arg(format!("--pwfile={}", init_pw.display()));
        let result = self.run(cmd, "initdb");
        let _ = std::fs::remove_file(&init_pw);
        result?;
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL cluster created");
        Ok(())
    }

    fn running(&self) -> bool {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(self.pgdata()).arg("status");
        cmd.output().map(|o| o.status.success()).unwrap_or(false)
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let log = self.data_dir.join("postgres.log");
        if let Some(user) = &self.run_as {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)?;
            self.run(
                {
                    let mut c = Command::new("chown");
                    c.arg(user).arg(&log);
                    c
                },
                "chown of the log",
            )?;
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D")
            .arg(self.pgdata())
            .arg("-l")
            .arg(&log)
            .arg("-w")
            .arg("-t")
            .arg("60")
            .arg("-o")
            .arg(format!(
                "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories=''",
                self.port
            ))
            .arg("start");
        self.run(cmd, "pg_ctl start")?;
        tracing::info!(port = self.port, "embedded PostgreSQL started");
        Ok(())
    }

    fn url_for(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// The URL of the application database.
    pub fn url(&self) -> String {
        self.url_for(DB_NAME)
    }

    /// The URL of the maintenance database (for creating test databases).
    pub fn admin_url(&self) -> String {
        self.url_for("postgres")
    }

    async fn ensure_database(&self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url())
            .await
            .context("connecting to the embedded PostgreSQL")?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(DB_NAME)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("create database {DB_NAME}"))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }

    /// Stops the cluster if this process started it.
    pub fn stop(&self) -> anyhow::Result<()> {
        if self.started_here {
            self.force_stop()?;
        }
        Ok(())
    }

    /// Stops the cluster whoever started it.
    pub fn force_stop(&self) -> anyhow::Result<()> {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D")
            .arg(self.pgdata())
            .arg("-m")
            .arg("fast")
            .arg("-w")
            .arg("stop");
        self.run(cmd, "pg_ctl stop")?;
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}
