//! Per-caller flow control: a token bucket per credential holder, refilled continuously at
//! `http.rate_limit_per_minute` with the same burst. Over the limit: 429 CBC.0250.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    /// Per caller: tokens left and when they were counted.
    map: HashMap<String, (f64, Instant)>,
    last_prune: Option<Instant>,
}

impl RateLimiter {
    /// `per_minute` = 0 turns flow control off.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            buckets: Mutex::default(),
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
            true
        } else {
            false
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
