//! Application state shared by every handler: pool, configuration, keys, clock, metrics.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc, Mutex,
};

use chrono::{DateTime, Utc};

use crate::{
    config::Config,
    crypto::SecretBox,
    http::{metrics::Metrics, ratelimit::RateLimiter},
    service::{funding::Coalescer, sms::SmsSender},
};

/// The source of "now". Tests use a [`ManualClock`] to move time instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// The clients' time, for transport checks (the `X-Sdk-Date` window): `now` except on a
    /// sandbox clock moved ahead.
    fn real_now(&self) -> DateTime<Utc> {
        self.now()
    }
    /// The movable sandbox clock, when this is one (`sandbox.clock = true`).
    fn sandbox(&self) -> Option<&SandboxClock> {
        None
    }
}

/// A sandbox's clock: another clock (the system's, or a test's) plus an offset that only grows.
/// Moved by `POST /admin/v1/clock`, which runs the time-driven rules for the time passed.
pub struct SandboxClock {
    base: Arc<dyn Clock>,
    offset_ms: AtomicI64,
    /// Held by whoever moves the clock, for the whole move and its rules.
    pub moving: tokio::sync::Mutex<()>,
}

impl SandboxClock {
    pub fn new(base: Arc<dyn Clock>) -> Self {
        SandboxClock {
            base,
            offset_ms: AtomicI64::new(0),
            moving: tokio::sync::Mutex::new(()),
        }
    }

    /// How far ahead of the underlying clock this one is, in whole seconds.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst) / 1000
    }

    /// Moves forward by `ms` milliseconds (negative values are ignored: never backwards).
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms.max(0), Ordering::SeqCst);
    }
}

impl Clock for SandboxClock {
    fn now(&self) -> DateTime<Utc> {
        self.base.now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
    fn real_now(&self) -> DateTime<Utc> {
        self.base.real_now()
    }
    fn sandbox(&self) -> Option<&SandboxClock> {
        Some(self)
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = t;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

pub struct App {
    pub db: crate::db::pool::Db,
    pub config: Config,
    pub secrets: SecretBox,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    pub sms: SmsSender,
    /// Per-caller flow control of the partner/customer API.
    pub limiter: RateLimiter,
    /// Concurrent fundings and reclaims, coalesced into shared transactions (per lane).
    pub funding_batches: Coalescer,
    /// Concurrent reads of partners' own balances, answered by one query.
    pub balance_reads: crate::service::read_coalesce::ReadCoalescer<crate::ledger::PartnerMoney>,
    /// Verified callers, kept for at most `auth.caller_cache_ms`.
    pub callers: crate::service::caller_cache::CallerCache,
}

impl App {
    /// The app clock, to the microsecond (what PostgreSQL keeps, whether a time is bound as a
    /// parameter or sent inside a JSON document).
    pub fn now(&self) -> DateTime<Utc> {
        chrono::SubsecRound::trunc_subsecs(self.clock.now(), 6)
    }
}
