//! Typed configuration: embedded defaults → `config/default.toml` (or `--config FILE`) → environment
//! `PARTNER_CENTER__SECTION__KEY`, plus the standard `DATABASE_URL`. Validated at load; secrets never
//! print.

use std::{fmt, net::SocketAddr, path::PathBuf};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

/// A string that never appears in `Debug` or `Display` output.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Development mode (`PARTNER_CENTER__DEV=true`): the published development secrets are
    /// accepted with `DATABASE_URL`, and the private cluster keeps them instead of generating keys.
    pub dev: bool,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub admin: AdminConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub sms: SmsConfig,
    pub customers: CustomersConfig,
    pub idempotency: IdempotencyConfig,
    pub events: EventsConfig,
    pub webhooks: WebhooksConfig,
    #[serde(default)]
    pub withdrawals: WithdrawalsConfig,
    #[serde(default)]
    pub sandbox: SandboxConfig,
    #[serde(default)]
    pub orders: OrdersConfig,
    #[serde(default)]
    pub funding: FundingConfig,
}

/// How concurrent fundings and reclaims are batched (service::funding::coalesce).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingConfig {
    /// Queues that batch concurrent `adjust-amount`, `reclaim` and `batch-adjust-amount` requests
    /// into shared transactions. Each calling partner always uses the same queue, so requests of
    /// different partners share transactions too; at most this many batches are written at once.
    /// 0 = one queue per calling partner (only one partner's requests share a transaction).
    pub coalesce_lanes: u32,
}

impl Default for FundingConfig {
    fn default() -> Self {
        FundingConfig { coalesce_lanes: 2 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// A movable clock (`GET`/`POST /admin/v1/clock`): system time plus a forward-only offset;
    /// moving it runs every time-driven rule for the time passed. Sandboxes only: refused
    /// unless `dev = true`, and refused with `sms.sender = "webhook"` (real messages).
    pub clock: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address the API listens on.
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Requests per minute (and burst) allowed to one caller on the partner/customer API; 0 = no
    /// limit. Over it: 429 CBC.0250.
    pub rate_limit_per_minute: u32,
    /// Redis shared by every replica for the per-caller limit (`redis://host:port/db`); unset:
    /// each process counts alone. While Redis cannot be reached, each process counts alone.
    pub rate_limit_redis_url: Option<Secret>,
    /// Time a client has to send a request's headers (slow clients are disconnected).
    pub header_read_timeout_secs: u64,
    /// Time a client has to send a request's body (408 CBC.0100 after it).
    pub body_read_timeout_secs: u64,
    /// An open connection with no request in progress and no byte received for this long is
    /// closed.
    pub idle_timeout_secs: u64,
    /// Most connections served at once; further clients wait in the listen queue.
    pub max_connections: usize,
}

impl HttpConfig {
    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_read_timeout_secs)
    }
    pub fn body_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_read_timeout_secs)
    }
    pub fn idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.idle_timeout_secs)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Also read from the standard `DATABASE_URL`. When neither is set the server
    /// runs a private PostgreSQL cluster under `data_dir`.
    pub url: Option<Secret>,
    /// Folder of the embedded cluster (used only without a URL).
    pub data_dir: PathBuf,
    /// Folder holding `initdb` and `pg_ctl` for the embedded cluster; searched on PATH and under
    /// /usr/lib/postgresql/*/bin when unset.
    pub pg_bin_dir: Option<PathBuf>,
    pub max_connections: u32,
    pub min_connections: u32,
    pub acquire_timeout_secs: u64,
    /// The URL points to a transaction-mode pooler (PgBouncer `pool_mode = transaction`, also
    /// versions before 1.21 without prepared-statement support): no statement cache, every
    /// connection handed out runs inside a transaction (so a statement's parse and execute reach
    /// the same server), and no migrations at start (run `partner-center migrate` against
    /// PostgreSQL itself). See README, "Running N replicas behind PgBouncer".
    pub transaction_pooler: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Bearer token of the vendor admin API (`/admin/v1`). At least 16 characters.
    pub token: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// HMAC key for IAM-compatible tokens (JWT, HS256). At least 32 characters.
    pub token_key: Secret,
    /// Token lifetime in seconds.
    pub token_ttl_secs: i64,
    /// Audience claim of issued tokens.
    pub token_audience: String,
    /// Key that encrypts secret keys at rest: 32 bytes, base64 (standard alphabet).
    pub secret_encryption_key: Secret,
    /// Largest allowed difference between `X-Sdk-Date` and the server clock, in seconds.
    pub signature_max_skew_secs: i64,
    /// How long a verified caller (access key or token subject → account, partner, role,
    /// scope) may be reused without reading the database, in milliseconds; at most 2000, 0 turns
    /// the cache off. Disabling a key or an account takes effect within this bound.
    pub caller_cache_ms: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// `tracing` filter directive, e.g. `info` or `partner_center=debug,info`. `RUST_LOG` wins.
    pub level: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmsSenderKind {
    /// Development: codes are logged and readable through the admin API.
    Log,
    /// Production: codes are POSTed as JSON to `sms.webhook_url`.
    Webhook,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub sender: SmsSenderKind,
    pub webhook_url: Option<String>,
    pub webhook_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomersConfig {
    /// How many customer accounts may be registered with one mobile number.
    pub mobile_registration_limit: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalsConfig {
    /// Days a confirmed top-up stays "unposted" (未入账) before it counts as withdrawable.
    pub clearing_days: i64,
}

impl Default for WithdrawalsConfig {
    fn default() -> Self {
        WithdrawalsConfig { clearing_days: 7 }
    }
}

/// Yearly/monthly resources' renewal and expiry (service::orders::expiry).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersConfig {
    /// Days before expiry an auto-renewal is deducted (2–7) unless the customer set its own.
    pub renew_days_before: i64,
    /// Days an expired resource stays usable (grace period) before it is frozen.
    pub grace_days: i64,
    /// Days a frozen resource is kept before it is deleted.
    pub retention_days: i64,
    /// Orders one customer may create within any 60 seconds; more: `CBC.99008040` (too frequent).
    #[serde(default = "default_orders_per_minute")]
    pub max_orders_per_minute: i64,
    /// Orders one customer may create in one Beijing (UTC+8) day; more: `CBC.99008056`.
    #[serde(default = "default_orders_per_day")]
    pub max_orders_per_day: i64,
}

fn default_orders_per_minute() -> i64 {
    30
}

fn default_orders_per_day() -> i64 {
    1000
}

impl Default for OrdersConfig {
    fn default() -> Self {
        OrdersConfig {
            renew_days_before: 7,
            grace_days: 15,
            retention_days: 15,
            max_orders_per_minute: default_orders_per_minute(),
            max_orders_per_day: default_orders_per_day(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// How long a stored `Idempotency-Key` outcome is kept and replayed, in hours. After that the
    /// key is forgotten: a request reusing it runs as a new request.
    pub retention_hours: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// How long events stay in the feed (and their deliveries and attempts), in days; older ones
    /// are swept.
    pub retention_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow endpoints on loopback, private, link-local and unique-local addresses (and plain
    /// http to loopback). Development and tests only: it opens the server to SSRF.
    pub allow_private_targets: bool,
    /// Deliveries this server sends at once; 0 = this server does not deliver.
    pub max_concurrency: usize,
    /// Timeout of one delivery request, in seconds.
    pub request_timeout_secs: u64,
    /// How often the delivery worker looks for due deliveries, in milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dev: false,
            http: HttpConfig {
                listen: "127.0.0.1:8080".parse().expect("valid default address"),
                body_limit_bytes: 1024 * 1024,
                rate_limit_per_minute: 6000,
                rate_limit_redis_url: None,
                header_read_timeout_secs: 10,
                body_read_timeout_secs: 30,
                idle_timeout_secs: 60,
                max_connections: 4096,
            },
            database: DatabaseConfig {
                url: None,
                data_dir: PathBuf::from("var"),
                pg_bin_dir: None,
                max_connections: 32,
                min_connections: 0,
                acquire_timeout_secs: 10,
                transaction_pooler: false,
            },
            admin: AdminConfig {
                token: Secret::new(PUBLISHED_SECRETS[0].published),
            },
            auth: AuthConfig {
                token_key: Secret::new(PUBLISHED_SECRETS[1].published),
                token_ttl_secs: 24 * 3600,
                token_audience: "partner-center".into(),
                secret_encryption_key: Secret::new(PUBLISHED_SECRETS[2].published),
                signature_max_skew_secs: 15 * 60,
                caller_cache_ms: 1000,
            },
            log: LogConfig {
                format: LogFormat::Text,
                level: "info".into(),
            },
            sms: SmsConfig {
                sender: SmsSenderKind::Log,
                webhook_url: None,
                webhook_timeout_secs: 5,
            },
            customers: CustomersConfig {
                mobile_registration_limit: 5,
            },
            idempotency: IdempotencyConfig {
                retention_hours: 7 * 24,
            },
            events: EventsConfig { retention_days: 30 },
            webhooks: WebhooksConfig {
                allow_private_targets: false,
                max_concurrency: 8,
                request_timeout_secs: 10,
                poll_interval_ms: 1000,
            },
            withdrawals: WithdrawalsConfig::default(),
            sandbox: SandboxConfig::default(),
            orders: OrdersConfig::default(),
            funding: FundingConfig::default(),
        }
    }
}

/// A secret setting: its key, its environment variable and the value the README publishes.
pub struct PublishedSecret {
    pub key: &'static str,
    pub env: &'static str,
    pub published: &'static str,
}

pub const PUBLISHED_SECRETS: [PublishedSecret; 3] = [
    PublishedSecret {
        key: "admin.token",
        env: "PARTNER_CENTER__ADMIN__TOKEN",
        published: "dev-admin-token-change-me",
    },
    PublishedSecret {
        key: "auth.token_key",
        env: "PARTNER_CENTER__AUTH__TOKEN_KEY",
        published: "dev-token-key-change-me-0123456789abcdef",
    },
    PublishedSecret {
        key: "auth.secret_encryption_key",
        env: "PARTNER_CENTER__AUTH__SECRET_ENCRYPTION_KEY",
        published: "ZGV2LXNlY3JldC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=",
    },
];

impl Config {
    /// The secret setting `key` (one of [`PUBLISHED_SECRETS`]).
    pub fn secret_mut(&mut self, key: &str) -> &mut Secret {
        match key {
            "admin.token" => &mut self.admin.token,
            "auth.token_key" => &mut self.auth.token_key,
            _ => &mut self.auth.secret_encryption_key,
        }
    }

    /// The secrets still unset, i.e. at their published development value.
    pub fn published_secrets(&self) -> Vec<&'static PublishedSecret> {
        let mut me = self.clone();
        PUBLISHED_SECRETS
            .iter()
            .filter(|s| me.secret_mut(s.key).expose() == s.published)
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration could not be read: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads the configuration: defaults, then the file (explicit `--config`, else
    /// `config/default.toml` when it exists), then `PARTNER_CENTER__*` variables and `DATABASE_URL`.
    pub fn load(file: Option<&std::path::Path>) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(ConfigError::Invalid(format!(
                        "configuration file {} does not exist",
                        path.display()
                    )));
                }
                fig = fig.merge(Toml::file(path));
            }
            None => {
                let default = std::path::Path::new("config/default.toml");
                if default.exists() {
                    fig = fig.merge(Toml::file(default));
                }
            }
        }
        fig = fig.merge(
            Env::prefixed("PARTNER_CENTER__")
                .split("__")
                .lowercase(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                fig = fig.merge(Serialized::default("database.url", url));
            }
        }
        let cfg: Config = fig.extract().map_err(Box::new)?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if self.admin.token.expose().len() < 16 {
            return bad("admin.token must be at least 16 characters");
        }
        if self.auth.token_key.expose().len() < 32 {
            return bad("auth.token_key must be at least 32 characters");
        }
        if self.auth.token_ttl_secs <= 0 {
            return bad("auth.token_ttl_secs must be positive");
        }
        if self.auth.signature_max_skew_secs <= 0 {
            return bad("auth.signature_max_skew_secs must be positive");
        }
        if crate::crypto::SecretBox::from_base64(self.auth.secret_encryption_key.expose()).is_err()
        {
            return bad("auth.secret_encryption_key must be 32 bytes encoded in standard base64");
        }
        if self.auth.caller_cache_ms > 2000 {
            return bad("auth.caller_cache_ms must be at most 2000");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections must be at least 1");
        }
        if self.database.min_connections > self.database.max_connections {
            return bad("database.min_connections must not exceed database.max_connections");
        }
        if self.http.body_limit_bytes < 1024 {
            return bad("http.body_limit_bytes must be at least 1024");
        }
        if self.http.header_read_timeout_secs == 0
            || self.http.body_read_timeout_secs == 0
            || self.http.idle_timeout_secs == 0
        {
            return bad("http.header_read_timeout_secs, http.body_read_timeout_secs and http.idle_timeout_secs must be at least 1");
        }
        if self.http.max_connections == 0 {
            return bad("http.max_connections must be at least 1");
        }
        if self.sms.sender == SmsSenderKind::Webhook
            && self.sms.webhook_url.as_deref().unwrap_or("").is_empty()
        {
            return bad("sms.webhook_url is required when sms.sender = \"webhook\"");
        }
        if self.customers.mobile_registration_limit < 1 {
            return bad("customers.mobile_registration_limit must be at least 1");
        }
        if !(1..=24 * 365).contains(&self.idempotency.retention_hours) {
            return bad("idempotency.retention_hours must be between 1 and 8760");
        }
        if !(2..=7).contains(&self.orders.renew_days_before) {
            return bad("orders.renew_days_before must be between 2 and 7");
        }
        if !(0..=365).contains(&self.orders.grace_days)
            || !(0..=365).contains(&self.orders.retention_days)
        {
            return bad("orders.grace_days and orders.retention_days must be between 0 and 365");
        }
        if !(1..=10_000).contains(&self.orders.max_orders_per_minute)
            || !(1..=1_000_000).contains(&self.orders.max_orders_per_day)
        {
            return bad("orders.max_orders_per_minute must be 1–10000 and orders.max_orders_per_day 1–1000000");
        }
        if self.funding.coalesce_lanes > 1024 {
            return bad("funding.coalesce_lanes must be between 0 and 1024");
        }
        if !(0..=365).contains(&self.withdrawals.clearing_days) {
            return bad("withdrawals.clearing_days must be between 0 and 365");
        }
        if !(1..=3650).contains(&self.events.retention_days) {
            return bad("events.retention_days must be between 1 and 3650");
        }
        if !(1..=300).contains(&self.webhooks.request_timeout_secs) {
            return bad("webhooks.request_timeout_secs must be between 1 and 300");
        }
        if !(10..=60_000).contains(&self.webhooks.poll_interval_ms) {
            return bad("webhooks.poll_interval_ms must be between 10 and 60000");
        }
        if self.webhooks.max_concurrency > 256 {
            return bad("webhooks.max_concurrency must be at most 256");
        }
        // A production deployment is one without development mode (its secrets are its own)
        // or one that sends real SMS; a clock that jumps ahead never runs there.
        if self.sandbox.clock && !self.dev {
            return bad(
                "sandbox.clock requires dev = true (a movable clock is never for production)",
            );
        }
        if self.sandbox.clock && self.sms.sender == SmsSenderKind::Webhook {
            return bad(
                "sandbox.clock is refused with sms.sender = \"webhook\" (production settings)",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_secrets_do_not_print() {
        let cfg = Config::default();
        cfg.validate().unwrap();
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("dev-admin-token"), "{dbg}");
        assert!(!dbg.contains("dev-token-key"), "{dbg}");
        assert!(!dbg.contains("ZGV2"), "{dbg}");
    }

    #[test]
    fn the_defaults_are_the_published_secrets_and_configured_ones_are_not() {
        let mut cfg = Config::default();
        let names: Vec<_> = cfg.published_secrets().iter().map(|s| s.env).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        cfg.admin.token = Secret::new("an-admin-token-of-my-own");
        let names: Vec<_> = cfg.published_secrets().iter().map(|s| s.env).collect();
        assert_eq!(
            names,
            [
                "PARTNER_CENTER__AUTH__TOKEN_KEY",
                "PARTNER_CENTER__AUTH__SECRET_ENCRYPTION_KEY"
            ]
        );
    }

    #[test]
    fn invalid_values_fail_with_a_clear_message() {
        let mut cfg = Config::default();
        cfg.admin.token = Secret::new("short");
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("admin.token"), "{err}");
        let mut cfg = Config::default();
        cfg.auth.secret_encryption_key = Secret::new("not base64!");
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("secret_encryption_key"));
    }

    #[test]
    fn the_sandbox_clock_is_refused_with_production_settings() {
        let mut cfg = Config::default();
        cfg.sandbox.clock = true;
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("sandbox.clock requires dev"), "{err}");
        cfg.dev = true;
        cfg.validate().unwrap();
        cfg.sms.sender = SmsSenderKind::Webhook;
        cfg.sms.webhook_url = Some("https://sms.example.com/send".into());
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("sms.sender"), "{err}");
        cfg.sandbox.clock = false;
        cfg.validate().unwrap();
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment's Jail closure signature")]
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[http]\nlisten = \"127.0.0.1:9000\"\n[log]\nformat = \"json\"\n",
            )?;
            jail.set_env("PARTNER_CENTER__LOG__FORMAT", "text");
            jail.set_env("PARTNER_CENTER__DATABASE__MAX_CONNECTIONS", "7");
            let cfg = Config::load(Some(std::path::Path::new("custom.toml"))).unwrap();
            assert_eq!(cfg.http.listen.port(), 9000);
            assert_eq!(cfg.log.format, LogFormat::Text);
            assert_eq!(cfg.database.max_connections, 7);
            jail.set_env("PARTNER_CENTER__HTTP__LISTEN", "not-an-address");
            let err = Config::load(Some(std::path::Path::new("custom.toml"))).unwrap_err();
            assert!(
                err.to_string().to_lowercase().contains("http.listen"),
                "{err}"
            );
            Ok(())
        });
    }
}
