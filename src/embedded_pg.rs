//! A private PostgreSQL cluster for the no-`DATABASE_URL` default: created with the machine's own
//! `initdb`/`pg_ctl` under a data folder, listening only on loopback with a generated password,
//! reused on the next start and stopped on shutdown.
//!
//! As root the cluster runs as the `postgres` system user (PostgreSQL refuses root). When that
//! user cannot reach the data folder (a clone in root's 0700 home), the cluster itself lives in
//! `/var/lib/partner-center/clusters/<hash of the data folder>` owned by `postgres`; the data
//! folder keeps the password, port and secrets and names the cluster's place in
//! `cluster-location`.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context};

const DB_NAME: &str = "partner_center";
const SUPERUSER: &str = "partner_center";

/// Where clusters go whose data folder the `postgres` user cannot reach.
pub const RELOCATED_ROOT: &str = "/var/lib/partner-center/clusters";

pub struct EmbeddedPg {
    data_dir: PathBuf,
    /// Folder of `pgdata` and `postgres.log`: the data folder, or a relocated one.
    cluster_dir: PathBuf,
    /// Whether the cluster existed before this start.
    existed: bool,
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
        let data_dir = usable_data_dir(data_dir)?;
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
            cluster_dir: data_dir.clone(),
            existed: false,
            data_dir: data_dir.clone(),
            bin_dir,
            port: 0,
            password: String::new(),
            started_here: false,
            run_as,
        };
        pg.cluster_dir = pg.choose_cluster_dir()?;
        pg.existed = pg.pgdata().join("PG_VERSION").is_file();
        tracing::info!(
            data_dir = %pg.data_dir.display(),
            cluster = %pg.pgdata().display(),
            "embedded PostgreSQL cluster location"
        );
        pg.init_if_needed()?;
        pg.password = std::fs::read_to_string(data_dir.join("pg-password"))
            .with_context(|| {
                format!(
                    "the cluster {} exists but its password file {} cannot be read; restore it, \
                     or remove the cluster to start afresh",
                    pg.pgdata().display(),
                    data_dir.join("pg-password").display()
                )
            })?
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
        self.cluster_dir.join("pgdata")
    }

    /// The data folder (password, port, `secrets.json`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The cluster's own folder (`pgdata`).
    pub fn cluster_path(&self) -> PathBuf {
        self.pgdata()
    }

    /// Whether the cluster was there before this start (false: initdb ran now).
    pub fn existed(&self) -> bool {
        self.existed
    }

    /// Whether the cluster user can reach `dir` (search permission along the whole path; the
    /// cluster's own files in it are handed to that user).
    fn cluster_user_can_use(&self, dir: &Path) -> bool {
        let Some(user) = &self.run_as else {
            return true;
        };
        Command::new("runuser")
            .args(["-u", user, "--", "test", "-x"])
            .arg(dir)
            .current_dir("/")
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The data folder when the cluster user can use it (or the cluster is already there), else
    /// a folder of its own under [`RELOCATED_ROOT`], recorded in `cluster-location`.
    fn choose_cluster_dir(&self) -> anyhow::Result<PathBuf> {
        if self.data_dir.join("pgdata/PG_VERSION").is_file()
            || self.cluster_user_can_use(&self.data_dir)
        {
            return Ok(self.data_dir.clone());
        }
        let user = self.run_as.clone().unwrap_or_default();
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            self.data_dir.as_os_str().as_encoded_bytes(),
        ));
        let dir = Path::new(RELOCATED_ROOT).join(&hash[..16]);
        let advice = |what: &str| {
            format!(
                "the data folder {} is not reachable by the `{user}` user the private PostgreSQL \
                 runs as, and {what}. Set PARTNER_CENTER__DATABASE__DATA_DIR to a folder outside \
                 private home folders (e.g. /var/lib/partner-center), or set DATABASE_URL",
                self.data_dir.display()
            )
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| advice(&format!("{} cannot be created", dir.display())))?;
        for d in [
            Path::new("/var/lib/partner-center"),
            Path::new(RELOCATED_ROOT),
        ] {
            set_mode(d, 0o755)?;
        }
        self.run(
            {
                let mut c = Command::new("chown");
                c.arg(&user).arg(&dir);
                c
            },
            "chown of the cluster folder",
        )
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e:#}",
                advice("its cluster folder cannot be handed to it")
            )
        })?;
        set_mode(&dir, 0o700)?;
        if !self.cluster_user_can_use(&dir) {
            bail!(advice(&format!("{} is not usable either", dir.display())));
        }
        std::fs::write(
            self.data_dir.join("cluster-location"),
            format!("{}\n", dir.join("pgdata").display()),
        )?;
        tracing::warn!(
            cluster = %dir.join("pgdata").display(),
            "the `{user}` user cannot reach the data folder; the PostgreSQL cluster lives outside it"
        );
        Ok(dir)
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
                // The caller's working folder may be closed to that user (root's home).
                c.current_dir("/");
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
        let init_pw = self.cluster_dir.join("pgdata-initpw");
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
        let out = cmd.output().context("cannot run initdb");
        let _ = std::fs::remove_file(&init_pw);
        let out = out?;
        if !out.status.success() {
            let log = self.data_dir.join("initdb.log");
            let _ = std::fs::write(&log, [out.stdout, out.stderr].concat());
            bail!(
                "the private PostgreSQL cluster could not be created in {} (initdb's output is in \
                 {}). Make sure the folder is on a local, writable file system with free space, or \
                 set PARTNER_CENTER__DATABASE__DATA_DIR to another folder, or DATABASE_URL",
                self.pgdata().display(),
                log.display()
            );
        }
        tracing::info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL cluster created");
        Ok(())
    }

    fn running(&self) -> bool {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(self.pgdata()).arg("status");
        cmd.output().map(|o| o.status.success()).unwrap_or(false)
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let log = self.cluster_dir.join("postgres.log");
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

/// Creates the data folder and checks this user can write it; says what to do when not.
fn usable_data_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let advice = "set PARTNER_CENTER__DATABASE__DATA_DIR to a folder this user can write, or set \
                  DATABASE_URL to an existing database";
    if data_dir.exists() && !data_dir.is_dir() {
        bail!(
            "the data folder {} is not a folder; {advice}",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "the data folder {} cannot be created ({e}); {advice}",
            data_dir.display()
        )
    })?;
    let data_dir = data_dir.canonicalize()?;
    let probe = data_dir.join(".write-test");
    std::fs::write(&probe, b"").map_err(|e| {
        anyhow::anyhow!(
            "the data folder {} is not writable ({e}); {advice}",
            data_dir.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(data_dir)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}
