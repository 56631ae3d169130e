//! The verified caller, cached in-process for at most `auth.caller_cache_ms` (default 1000 ms,
//! at most 2000 ms; 0 turns the cache off).
//!
//! Two maps: access key → its secret, status and caller; token subject → its token version and
//! caller. An entry older than the bound is never used, so disabling an access key or an
//! account, or revoking its tokens, takes effect on every replica within the bound. A write on
//! this replica that can change who a caller is (any non-GET request except the money moves
//! and the `…/query` searches, see `http::auth::invalidate_callers`) clears this replica's maps at once.
//! Unknown access keys are not cached (a new key works at once). The bound is measured on the
//! monotonic clock: it is a cache lifetime, not a business time rule.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::auth::Caller;

/// The most entries per map; past it the expired ones are dropped, then all if still too many.
const MAX_ENTRIES: usize = 100_000;

/// What an access key resolves to.
pub struct KeyEntry {
    pub active: bool,
    pub secret: String,
    /// `None`: the account (or an operator's partner) is not active.
    pub caller: Option<Caller>,
}

/// What a token subject resolves to.
#[derive(Clone)]
pub struct TokenEntry {
    /// The account's current token version (`None`: no such account).
    pub version: Option<i64>,
    pub caller: Option<Caller>,
}

struct Map<V> {
    entries: HashMap<String, (Instant, V)>,
}

impl<V: Clone> Map<V> {
    fn get(&self, k: &str, bound: Duration) -> Option<V> {
        self.entries
            .get(k)
            .filter(|(at, _)| at.elapsed() < bound)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, k: String, v: V, bound: Duration) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, (at, _)| at.elapsed() < bound);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.clear();
            }
        }
        self.entries.insert(k, (Instant::now(), v));
    }
}

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map {
            entries: HashMap::new(),
        }
    }
}

#[derive(Default)]
pub struct CallerCache {
    keys: Mutex<Map<Arc<KeyEntry>>>,
    tokens: Mutex<Map<TokenEntry>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Single map operations: a panic cannot leave a map half-updated.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CallerCache {
    pub fn key(&self, access_key: &str, bound: Duration) -> Option<Arc<KeyEntry>> {
        if bound.is_zero() {
            return None;
        }
        lock(&self.keys).get(access_key, bound)
    }

    pub fn put_key(&self, access_key: &str, e: Arc<KeyEntry>, bound: Duration) {
        if !bound.is_zero() {
            lock(&self.keys).put(access_key.to_string(), e, bound);
        }
    }

    pub fn token(&self, subject: &str, bound: Duration) -> Option<TokenEntry> {
        if bound.is_zero() {
            return None;
        }
        lock(&self.tokens).get(subject, bound)
    }

    pub fn put_token(&self, subject: &str, e: TokenEntry, bound: Duration) {
        if !bound.is_zero() {
            lock(&self.tokens).put(subject.to_string(), e, bound);
        }
    }

    /// Forgets every cached caller of this replica.
    pub fn clear(&self) {
        lock(&self.keys).entries.clear();
        lock(&self.tokens).entries.clear();
    }
}
