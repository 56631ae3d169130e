//! Building and running the application: pool, migrations, state, router, graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use std::str::FromStr;

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Executor, PgPool,
};
use tokio::net::TcpListener;

use crate::{
    config::Config,
    crypto::SecretBox,
    http,
    service::sms::SmsSender,
    state::{App, AppState, Clock, SandboxClock, SystemClock},
};

/// A pooled connection idle at least this long is pinged before it is handed out.
const IDLE_PING_AFTER: Duration = Duration::from_secs(1);

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect(config: &Config, url: &str) -> anyhow::Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(config.database.max_connections)
        .min_connections(config.database.min_connections)
        .acquire_timeout(Duration::from_secs(config.database.acquire_timeout_secs))
        // sqlx would ping every connection it hands out (a round trip before each request's
        // first statement). Here only one idle for a while is pinged, so a busy server does not
        // pay a round trip per request while a connection the server dropped is still noticed;
        // behind a pooler the `begin` of every checkout is that test.
        .test_before_acquire(false);
    if !config.database.transaction_pooler {
        return pool
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_PING_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect(url)
            .await
            .context("connecting to PostgreSQL");
    }
    // Behind a transaction-mode pooler a server connection is ours only inside a transaction:
    // sqlx parses and executes a statement in two exchanges, so every connection handed out
    // opens one (`begin` inside it is a no-op with a warning; its commit ends it) and ends it
    // when given back; statements are not cached (the pooler's `server_reset_query` drops
    // them between transactions).
    let options = PgConnectOptions::from_str(url)
        .context("parsing the database URL")?
        .statement_cache_capacity(0);
    pool.after_connect(|conn, _| {
        Box::pin(async move {
            conn.execute("begin").await?;
            Ok(())
        })
    })
    .before_acquire(|conn, _| {
        Box::pin(async move {
            conn.execute("begin").await?;
            Ok(true)
        })
    })
    .after_release(|conn, _| {
        Box::pin(async move {
            // Ends what the borrower left open: its reads and autocommit-style writes count.
            Ok(conn.execute("commit").await.is_ok())
        })
    })
    .connect_with(options)
    .await
    .context("connecting to PostgreSQL through the pooler")
}

/// Key of the session advisory lock that lets one process at a time apply migrations.
const MIGRATION_LOCK: i64 = 0x7061_7274_6e65_7231; // "partner1"

/// How often a process waiting for another one's migrations tries the lock again.
const MIGRATION_LOCK_POLL: Duration = Duration::from_millis(250);

/// Applies the pending migrations, one process at a time.
///
/// sqlx's own lock is a blocking `pg_advisory_lock`: a second replica starting while the first
/// builds an index `concurrently` (migration 0029) would wait inside that statement, holding a
/// snapshot; the build waits for every older snapshot to end, and PostgreSQL resolves the cycle
/// by cancelling one side, possibly the build (leaving an invalid index). Here the lock is tried
/// without waiting and retried between statements, so a waiting replica holds no snapshot.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await.context("connecting to migrate")?;
    loop {
        let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .fetch_one(&mut *conn)
            .await
            .context("taking the migration lock")?;
        if locked {
            break;
        }
        tokio::time::sleep(MIGRATION_LOCK_POLL).await;
    }
    let mut migrator = sqlx::migrate::Migrator {
        migrations: MIGRATOR.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    migrator.set_locking(false);
    let applied = migrator.run_direct(&mut *conn).await;
    let unlocked = sqlx::query("select pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    if applied.is_err() || unlocked.is_err() {
        // The session may still hold the lock: never hand it back to the pool.
        conn.close_on_drop();
    }
    applied.context("applying migrations")?;
    unlocked.context("releasing the migration lock")?;
    Ok(())
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects, migrates and binds (port 0 picks a free port). `clock` defaults to the system clock.
    pub async fn build(
        config: Config,
        database_url: &str,
        clock: Option<Arc<dyn Clock>>,
    ) -> anyhow::Result<Application> {
        let pool = connect(&config, database_url).await?;
        if config.database.transaction_pooler {
            tracing::info!("behind a transaction pooler: migrations are not applied at start");
        } else {
            migrate(&pool).await?;
        }
        let listener = TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.http.listen))?;
        let secrets = SecretBox::from_base64(config.auth.secret_encryption_key.expose())
            .map_err(|e| anyhow::anyhow!("auth.secret_encryption_key: {e}"))?;
        let sms = SmsSender::from_config(&config.sms)?;
        let limiter = match &config.http.rate_limit_redis_url {
            Some(url) if !url.expose().is_empty() => http::ratelimit::RateLimiter::with_redis(
                config.http.rate_limit_per_minute,
                url.expose(),
            )?,
            _ => http::ratelimit::RateLimiter::new(config.http.rate_limit_per_minute),
        };
        let mut clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
        if config.sandbox.clock {
            tracing::warn!("sandbox.clock: the clock moves forward on POST /admin/v1/clock");
            clock = Arc::new(SandboxClock::new(clock));
        }
        let state = AppState(Arc::new(App {
            db: crate::db::pool::Db::new(pool, config.database.transaction_pooler),
            config,
            secrets,
            clock,
            metrics: Default::default(),
            limiter,
            sms,
            funding_batches: Default::default(),
            balance_reads: crate::service::read_coalesce::ReadCoalescer::new("partner_balances"),
            callers: Default::default(),
        }));
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = http::router(self.state.clone());
        let rules = tokio::spawn(run_time_rules(self.state.clone()));
        let webhooks = crate::service::webhooks::spawn_background(self.state.clone());
        let served = http::serve::serve(self.listener, router, &self.state.config.http, shutdown)
            .await
            .context("serving HTTP");
        rules.abort();
        webhooks.iter().for_each(|t| t.abort());
        served?;
        self.state.db.close().await;
        Ok(())
    }
}

/// Runs every time-driven rule ([`crate::service::time_rules::run_all`]) once a minute by the
/// app clock while the server runs. Reads evaluate their rules lazily too, so the minute is only
/// how soon a rule happens unasked.
async fn run_time_rules(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match crate::service::time_rules::run_all(&state).await {
            Ok(pass) => tracing::debug!(?pass, "time-driven rules ran"),
            Err(e) => tracing::warn!(error = ?e.source, "time-driven rules failed"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; draining");
}
