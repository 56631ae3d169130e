//! The `partner-center` command: serve the API (default), apply migrations, print the OpenAPI
//! document, or manage the embedded PostgreSQL cluster.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use partner_center::{
    config::Config,
    embedded_pg::EmbeddedPg,
    startup::{self, Application},
    telemetry,
};

/// jemalloc instead of glibc malloc: under load, glibc's malloc, free and chunk consolidation
/// took about a quarter of the server's CPU (docs/benchmarks.md). jemalloc returns unused pages
/// on its own, so the idle footprint stays small (`tests/embedded.rs` holds it under 50 MiB).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "partner-center",
    version,
    about = "Partner sales platform API server, compatible with the Huawei Cloud BSS partner API (/v2).",
    long_about = "Partner sales platform API server, compatible with the Huawei Cloud BSS partner API (/v2).\n\n\
Configuration: embedded defaults, then config/default.toml (or --config FILE), then environment\n\
variables PARTNER_CENTER__SECTION__KEY, plus DATABASE_URL. Without DATABASE_URL the server runs a\n\
private PostgreSQL cluster under database.data_dir (default ./var) using the machine's initdb/pg_ctl."
)]
struct Cli {
    /// Configuration file (TOML); defaults to config/default.toml when present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Applies pending migrations first.
    Serve {
        /// Address to listen on (overrides http.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI 3.1 document.
    Openapi,
    /// Manage the embedded PostgreSQL cluster (used by scripts/test).
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Ledger maintenance.
    Ledger {
        #[command(subcommand)]
        action: LedgerAction,
    },
}

#[derive(Subcommand)]
enum LedgerAction {
    /// Check every ledger invariant; prints `{"ok": …, "violations": […]}`, exits non-zero when
    /// not ok.
    Audit {
        /// Read only what was written since the last clean incremental run (its checkpoint) and
        /// move the checkpoint forward when clean.
        #[arg(long)]
        incremental: bool,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Create (if needed) and start the cluster; print `export DATABASE_URL=...`.
    Start {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Stop the cluster.
    Stop {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Create an empty database on the DATABASE_URL server and print its URL (for scripts).
    Create { name: String },
    /// Drop a database on the DATABASE_URL server.
    Drop { name: String },
}

/// `url` with its database name replaced.
fn url_with_db(url: &str, db: &str) -> anyhow::Result<String> {
    let (base, rest) = url
        .rsplit_once('/')
        .context("DATABASE_URL has no database path")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{base}/{db}{query}"))
}

async fn maintenance(config: &Config) -> anyhow::Result<(String, sqlx::PgConnection)> {
    use sqlx::Connection;
    let url = config
        .database
        .url
        .as_ref()
        .context("DATABASE_URL is required")?
        .expose()
        .to_string();
    let conn = sqlx::PgConnection::connect(&url_with_db(&url, "postgres")?).await?;
    Ok((url, conn))
}

fn check_db_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        anyhow::bail!("database names here are lower-case letters, digits and _");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("partner-center: {e}");
            return ExitCode::from(2);
        }
    };
    let serving = matches!(cli.command, None | Some(Command::Serve { .. }));
    let with_url = config
        .database
        .url
        .as_ref()
        .is_some_and(|u| !u.expose().is_empty());
    if serving && with_url {
        if let Some(why) = partner_center::local_secrets::refusal(&config) {
            eprintln!("partner-center: {why}");
            return ExitCode::from(2);
        }
    }
    telemetry::init(&config.log);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("partner-center: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The database URL: configured, or the embedded cluster's (started here).
async fn database(config: &Config) -> anyhow::Result<(String, Option<EmbeddedPg>)> {
    match &config.database.url {
        Some(url) if !url.expose().is_empty() => Ok((url.expose().to_string(), None)),
        _ => {
            let pg = EmbeddedPg::start(
                &config.database.data_dir,
                config.database.pg_bin_dir.as_deref(),
            )
            .await?;
            Ok((pg.url(), Some(pg)))
        }
    }
}

async fn run(command: Option<Command>, mut config: Config) -> anyhow::Result<()> {
    match command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => {
            if let Some(addr) = listen {
                config.http.listen = addr;
            }
            let (url, pg) = database(&config).await?;
            let result = async {
                if let Some(pg) = &pg {
                    partner_center::local_secrets::load_or_generate(
                        &mut config,
                        pg.data_dir(),
                        pg.existed(),
                    )?;
                }
                let app = Application::build(config, &url, None).await?;
                tracing::info!(addr = %app.local_addr(), "partner-center listening");
                app.run_until(startup::shutdown_signal()).await
            }
            .await;
            if let Some(pg) = pg {
                pg.stop()?;
            }
            result
        }
        Command::Migrate => {
            let (url, pg) = database(&config).await?;
            let pool = startup::connect(&config, &url).await?;
            let result = startup::migrate(&pool).await;
            pool.close().await;
            if let Some(pg) = pg {
                pg.stop()?;
            }
            result?;
            println!("migrations applied");
            Ok(())
        }
        Command::Ledger {
            action: LedgerAction::Audit { incremental },
        } => {
            let (url, pg) = database(&config).await?;
            let result = async {
                let pool = startup::connect(&config, &url).await?;
                let (ok, json) = if incremental {
                    let r = partner_center::ledger::audit_incremental(&pool).await?;
                    (r.report.clone(), serde_json::to_string_pretty(&r)?)
                } else {
                    let r = partner_center::ledger::audit_snapshot(&pool).await?;
                    (r.clone(), serde_json::to_string_pretty(&r)?)
                };
                pool.close().await;
                anyhow::Ok((ok, json))
            }
            .await;
            if let Some(pg) = pg {
                pg.stop()?;
            }
            let (report, json) = result?;
            println!("{json}");
            if !report.ok {
                anyhow::bail!(
                    "the ledger audit found {} violation(s)",
                    report.violations.len()
                );
            }
            Ok(())
        }
        Command::Openapi => {
            println!("{}", partner_center::http::openapi_json());
            Ok(())
        }
        Command::Db { action } => match action {
            DbAction::Start { data_dir } => {
                let dir = data_dir.unwrap_or(config.database.data_dir);
                let pg = EmbeddedPg::start(&dir, config.database.pg_bin_dir.as_deref()).await?;
                println!("export DATABASE_URL='{}'", pg.url());
                Ok(())
            }
            DbAction::Stop { data_dir } => {
                let dir = data_dir.unwrap_or(config.database.data_dir);
                let pg = EmbeddedPg::start(&dir, config.database.pg_bin_dir.as_deref())
                    .await
                    .context("locating the cluster")?;
                pg.force_stop()
            }
            DbAction::Create { name } => {
                check_db_name(&name)?;
                let (url, mut conn) = maintenance(&config).await?;
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut conn)
                    .await?;
                println!("{}", url_with_db(&url, &name)?);
                Ok(())
            }
            DbAction::Drop { name } => {
                check_db_name(&name)?;
                let (_, mut conn) = maintenance(&config).await?;
                sqlx::query(&format!("drop database if exists {name} with (force)"))
                    .execute(&mut conn)
                    .await?;
                Ok(())
            }
        },
    }
}
