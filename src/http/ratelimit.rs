//! Per-caller flow control: a token bucket per credential holder, refilled continuously at
//! `http.rate_limit_per_minute` with the same burst. Over the limit: 429 CBC.0250.

use std::{collections::HashMap, sync::Mutex, time::Instant};

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` = 0 turns flow control off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when none is left.
    pub fn allow(&self, key: &str) -> bool {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&self, key: &str, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let cap = f64::from(self.per_minute);
        let refilled = |tokens: f64, last: Instant| {
            (tokens + now.saturating_duration_since(last).as_secs_f64() * cap / 60.0).min(cap)
        };
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        // A bucket that has refilled completely is the same as no bucket: dropping those keeps
        // the map bounded by the callers active within the last minute.
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, (tokens, last)| refilled(*tokens, *last) < cap);
        }
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((cap, now));
        *tokens = refilled(*tokens, *last);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().expect("rate limiter lock").len()
    }
}

/// Map size at which idle (fully refilled) buckets are dropped.
const PRUNE_AT: usize = 1024;

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
    fn idle_callers_are_forgotten_so_the_map_stays_bounded() {
        let l = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..PRUNE_AT {
            assert!(l.allow_at(&format!("caller-{i}"), t0));
        }
        assert_eq!(l.tracked(), PRUNE_AT);
        // A minute later every bucket is full again: all are dropped, the new caller is kept.
        let later = t0 + std::time::Duration::from_secs(61);
        assert!(l.allow_at("new", later));
        assert_eq!(l.tracked(), 1);
        // A caller still short of tokens is kept, with its remaining budget.
        let busy = RateLimiter::new(2);
        let t1 = t0 + std::time::Duration::from_secs(120);
        assert!(busy.allow_at("busy", t1) && busy.allow_at("busy", t1));
        for i in 0..PRUNE_AT {
            busy.allow_at(&format!("idle-{i}"), t0);
        }
        // At t1 the idle ones are full again and dropped; "busy" is kept, still without a token.
        assert!(!busy.allow_at("busy", t1));
        assert_eq!(busy.tracked(), 1);
    }
}
