//! Concurrent reads of one kind answered by one query (the partner balance read, issue 13).
//!
//! A read that finds no query of its kind in flight starts one at once with its own key, so a
//! lone read is never delayed. Reads that arrive while a query is in flight wait, and the next
//! query answers all of them together. That query starts only after the current one has ended,
//! so after they arrived. So every read sees every write committed before it was made, as a query
//! of its own would: a client that got a funding's answer and then reads sees the funding.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Mutex};

use tokio::sync::oneshot;

use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
};

/// The most keys one query reads; more waiting reads are left to the next query.
pub const MAX_KEYS: usize = 512;

type Answer<V> = oneshot::Sender<ApiResult<Option<V>>>;

/// The reads waiting for the next query: (key, where its answer goes).
type Waiting<V> = Vec<(String, Answer<V>)>;

/// One kind of read. `None` while no query of this kind runs; else the reads waiting for the
/// next one.
pub struct ReadCoalescer<V> {
    /// The kind's name in `/metrics` (`coalesced_reads_total{kind=…}`).
    name: &'static str,
    waiting: Mutex<Option<Waiting<V>>>,
}

impl<V> ReadCoalescer<V> {
    pub fn new(name: &'static str) -> Self {
        ReadCoalescer {
            name,
            waiting: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Waiting<V>>> {
        // Every change under this lock is one assignment or push: a panic cannot tear it.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a kind of read runs: every value found for the keys (a key without a value is left out).
pub type Load<V> = fn(AppState, Vec<String>) -> Loading<V>;

/// The query of a [`Load`], running.
pub type Loading<V> = Pin<Box<dyn Future<Output = Result<HashMap<String, V>, sqlx::Error>> + Send>>;

/// The coalescer of a kind of read, in the app state.
pub type Which<V> = fn(&AppState) -> &ReadCoalescer<V>;

/// Reads the value of `key`, sharing the query with the concurrent reads of the same kind.
pub async fn read<V: Clone + Send + 'static>(
    app: &AppState,
    which: Which<V>,
    load: Load<V>,
    key: String,
) -> ApiResult<Option<V>> {
    let (tx, rx) = oneshot::channel();
    let first = {
        let mut waiting = which(app).lock();
        match waiting.as_mut() {
            Some(queue) => {
                queue.push((key, tx));
                None
            }
            None => {
                *waiting = Some(Vec::new());
                Some((key, tx))
            }
        }
    };
    if let Some(first) = first {
        // A task of its own: the query answers the others even if this request is dropped.
        tokio::spawn(lead(app.clone(), which, load, vec![first]));
    }
    rx.await.unwrap_or_else(|_| {
        Err(ApiError::internal(anyhow::anyhow!(
            "the read's query stopped"
        )))
    })
}

/// Marks the kind idle again if the leader stops early (a panic): the waiting reads' senders are
/// dropped, so they answer 500 instead of waiting for ever.
struct Leading<V: 'static> {
    app: AppState,
    which: Which<V>,
    armed: bool,
}

impl<V> Drop for Leading<V> {
    fn drop(&mut self) {
        if self.armed {
            *(self.which)(&self.app).lock() = None;
        }
    }
}

async fn lead<V: Clone + Send + 'static>(
    app: AppState,
    which: Which<V>,
    load: Load<V>,
    mut batch: Waiting<V>,
) {
    let mut leading = Leading {
        app: app.clone(),
        which,
        armed: true,
    };
    loop {
        let mut keys: Vec<String> = batch.iter().map(|(k, _)| k.clone()).collect();
        keys.sort_unstable();
        keys.dedup();
        app.metrics
            .record_coalesced_read(which(&app).name, batch.len());
        match load(app.clone(), keys).await {
            Ok(found) => {
                for (k, tx) in batch {
                    let _ = tx.send(Ok(found.get(&k).cloned()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, reads = batch.len(), "a coalesced read failed");
                for (_, tx) in batch {
                    let _ = tx.send(Err(ApiError::internal(anyhow::anyhow!("{e}"))));
                }
            }
        }
        let mut waiting = which(&app).lock();
        let queue = waiting.get_or_insert_with(Vec::new);
        if queue.is_empty() {
            *waiting = None;
            leading.armed = false;
            return;
        }
        let n = queue.len().min(MAX_KEYS);
        batch = queue.drain(..n).collect();
    }
}
