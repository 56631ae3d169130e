//! Per-caller flow control: a token bucket per credential holder, refilled continuously at
//! `http.rate_limit_per_minute` with the same burst. Over the limit: 429 CBC.0250 with
//! `Retry-After`. With `http.rate_limit_redis_url` every replica shares one bucket per caller in
//! Redis (GCRA in one Lua script, so concurrent replicas cannot both spend the last token); while
//! Redis cannot be reached each process falls back to its own buckets and logs a warning.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<Buckets>,
    shared: Option<Shared>,
}

#[derive(Default)]
struct Buckets {
    /// Per caller: tokens left and when they were counted.
    map: HashMap<String, (f64, Instant)>,
    last_prune: Option<Instant>,
}

/// The Redis side: a lazily (re)opened multiplexed connection; after a failure Redis is left
/// alone for [`REDIS_RETRY`] and the local buckets decide.
struct Shared {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    down_since: Mutex<Option<Instant>>,
    script: redis::Script,
}

/// GCRA: the key holds the theoretical arrival time (ms, Redis clock). A call is allowed when
/// the new arrival time stays within one period (`ARGV[2]`, the burst) of now; else the reply
/// is how many ms to wait.
const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > period then
  return new_tat - now - period
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(new_tat - now))
return 0
"#;

/// How long Redis is bypassed after it failed.
const REDIS_RETRY: Duration = Duration::from_secs(1);
/// Longest wait for Redis on one request.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

impl Shared {
    async fn take(&self, key: &str, per_minute: u32) -> redis::RedisResult<Option<Duration>> {
        let mut guard = self.conn.lock().await;
        let mut conn = match guard.as_ref() {
            Some(c) => c.clone(),
            None => {
                let c = self.client.get_multiplexed_async_connection().await?;
                *guard = Some(c.clone());
                c
            }
        };
        drop(guard);
        let interval_ms = 60_000.0 / f64::from(per_minute);
        let wait_ms: i64 = self
            .script
            .key(format!("partner-center:rate:{key}"))
            .arg(interval_ms)
            .arg(60_000)
            .invoke_async(&mut conn)
            .await?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms as u64)))
    }
}

impl RateLimiter {
    /// `per_minute` = 0 turns flow control off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::default(),
            shared: None,
        }
    }

    /// Shares the limit through the Redis at `url` (checked for syntax only: Redis may come
    /// later).
    pub fn with_redis(per_minute: u32, url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("http.rate_limit_redis_url: {e}"))?;
        Ok(RateLimiter {
            shared: Some(Shared {
                client,
                conn: tokio::sync::Mutex::new(None),
                down_since: Mutex::new(None),
                script: redis::Script::new(GCRA),
            }),
            ..RateLimiter::new(per_minute)
        })
    }

    /// Takes one token for `key`; on refusal, how long until one is available.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        if let Some(shared) = &self.shared {
            let skip = shared
                .down_since
                .lock()
                .expect("rate limiter lock")
                .is_some_and(|t| t.elapsed() < REDIS_RETRY);
            if !skip {
                match tokio::time::timeout(REDIS_TIMEOUT, shared.take(key, self.per_minute)).await {
                    Ok(Ok(wait)) => {
                        let recovered = shared.down_since.lock().expect("rate limiter lock").take();
                        if recovered.is_some() {
                            tracing::info!("rate limit: Redis reachable again, limits shared");
                        }
                        return wait.map_or(Ok(()), Err);
                    }
                    outcome => {
                        let why = match outcome {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".to_string(),
                        };
                        *shared.conn.lock().await = None;
                        let mut down = shared.down_since.lock().expect("rate limiter lock");
                        if down.is_none() {
                            tracing::warn!(error = %why, "rate limit: Redis unreachable, limiting per process");
                        }
                        *down = Some(Instant::now());
                    }
                }
            }
        }
        self.take_at(key, Instant::now()).map_or(Ok(()), Err)
    }

    /// Takes one token for `key`; false when none is left.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        self.take_at(key, now).is_none()
    }

    /// Takes one local token for `key`: `None` when taken, else the wait for the next one.
    fn take_at(&self, key: &str, now: Instant) -> Option<Duration> {
        if self.per_minute == 0 {
            return None;
        }
        let cap = f64::from(self.per_minute);
        let refilled = |tokens: f64, last: Instant| {
            (tokens + now.saturating_duration_since(last).as_secs_f64() * cap / 60.0).min(cap)
        };
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        // A bucket that has refilled completely is the same as no bucket: dropping those keeps
        // the map bounded by the callers active within the last minute. At most one scan per
        // second, so many active callers do not make every request scan the map.
        let due = buckets
            .last_prune
            .is_none_or(|t| now.saturating_duration_since(t) >= PRUNE_EVERY);
        if buckets.map.len() >= PRUNE_AT && due {
            buckets
                .map
                .retain(|_, (tokens, last)| refilled(*tokens, *last) < cap);
            buckets.last_prune = Some(now);
        }
        let (tokens, last) = buckets.map.entry(key.to_string()).or_insert((cap, now));
        *tokens = refilled(*tokens, *last);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - *tokens) * 60.0 / cap))
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().expect("rate limiter lock").map.len()
    }
}

/// Map size at which idle (fully refilled) buckets are dropped.
const PRUNE_AT: usize = 1024;
/// Shortest time between two such scans.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_is_limited_and_others_are_not() {
        let l = RateLimiter::new(3);
        assert!(l.allow("a") && l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
        assert!(RateLimiter::new(0).allow("a"));
    }

    #[test]
    fn a_refusal_says_when_the_next_token_comes() {
        let l = RateLimiter::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(l.take_at("a", t0), None);
        }
        let wait = l.take_at("a", t0).unwrap();
        assert!((wait.as_secs_f64() - 1.0).abs() < 1e-6, "{wait:?}");
        let half = l.take_at("a", t0 + Duration::from_millis(500)).unwrap();
        assert!((half.as_secs_f64() - 0.5).abs() < 1e-6, "{half:?}");
        assert_eq!(l.take_at("a", t0 + Duration::from_secs(1)), None);
    }

    #[test]
    fn idle_callers_are_forgotten_so_the_map_stays_bounded() {
        let l = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..PRUNE_AT {
            assert!(l.allow_at(&format!("caller-{i}"), t0));
        }
        assert_eq!(l.tracked(), PRUNE_AT);
        // A minute later every bucket is full again: all are dropped, the new caller is kept.
        let later = t0 + Duration::from_secs(61);
        assert!(l.allow_at("new", later));
        assert_eq!(l.tracked(), 1);
        // A caller still short of tokens is kept, with its remaining budget.
        let busy = RateLimiter::new(2);
        let t1 = t0 + Duration::from_secs(120);
        assert!(busy.allow_at("busy", t1) && busy.allow_at("busy", t1));
        for i in 0..PRUNE_AT {
            busy.allow_at(&format!("idle-{i}"), t0);
        }
        // At t1 the idle ones are full again and dropped; "busy" is kept, still without a token.
        assert!(!busy.allow_at("busy", t1));
        assert_eq!(busy.tracked(), 1);
    }

    #[test]
    fn the_map_is_scanned_at_most_once_a_second() {
        let l = RateLimiter::new(60);
        let t0 = Instant::now();
        let pruned_at = t0 + Duration::from_secs(61);
        for i in 0..PRUNE_AT {
            l.allow_at(&format!("a-{i}"), t0);
        }
        l.allow_at("first", pruned_at);
        assert_eq!(l.tracked(), 1);
        // Buckets that are full again by now, but the last scan was under a second ago: kept.
        for i in 0..PRUNE_AT {
            l.allow_at(&format!("b-{i}"), t0);
        }
        l.allow_at("soon", pruned_at + Duration::from_millis(500));
        assert_eq!(l.tracked(), PRUNE_AT + 2);
        // A second after the last scan, the next one drops them (and "first", full again too).
        l.allow_at("later", pruned_at + Duration::from_secs(1));
        assert_eq!(l.tracked(), 2);
    }
}
