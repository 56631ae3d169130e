//! The connection pool, and what a transaction-mode pooler (PgBouncer) asks of it.
//!
//! Behind such a pooler a server connection is ours only inside a transaction, so every
//! connection handed out has one open (see `startup::connect`) and what was written through it
//! without an explicit transaction is committed when it is given back. sqlx gives a connection
//! back from a task of its own, after the code that used it has moved on: an answer could reach
//! the client before its write was committed (and a read right after it would not see it), and
//! a commit that fails would go unnoticed. [`Conn`] closes both gaps: its commit runs when it is
//! dropped, the request waits for the commits of the connections it used before it answers
//! ([`settle_request`]), and code that answers from another task ends its connection itself
//! ([`Conn::settle`]). Without a pooler all of this is a no-op.

use std::{
    cell::RefCell,
    ops::{Deref, DerefMut},
};

use sqlx::{pool::PoolConnection, Executor, PgConnection, PgPool, Postgres};
use tokio::task::JoinHandle;

/// The pool. Derefs to [`PgPool`] (`begin()`, `close()`, sizes); [`Db::acquire`] hands out a
/// [`Conn`].
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    behind_pooler: bool,
}

impl Db {
    pub fn new(pool: PgPool, behind_pooler: bool) -> Self {
        Db {
            pool,
            behind_pooler,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn behind_pooler(&self) -> bool {
        self.behind_pooler
    }

    /// A connection for statements outside an explicit transaction.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(Conn {
            inner: Some(self.pool.acquire().await?),
            behind_pooler: self.behind_pooler,
        })
    }
}

impl Deref for Db {
    type Target = PgPool;
    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

/// A pooled connection; derefs to [`PgConnection`].
pub struct Conn {
    inner: Option<PoolConnection<Postgres>>,
    behind_pooler: bool,
}

impl Conn {
    /// Ends what this connection has open now (behind a pooler: commits it), so what was written
    /// through it is visible to everyone before the caller answers and a failed commit is this
    /// error instead of a lost write. For code that answers from a task other than the
    /// request's (where [`settle_request`] does not reach).
    pub async fn settle(mut self) -> Result<(), sqlx::Error> {
        if self.behind_pooler {
            if let Some(c) = self.inner.as_mut() {
                c.execute("commit").await?;
            }
            // Given back as is: the pool's release hook finds nothing left to commit.
            self.behind_pooler = false;
        }
        Ok(())
    }
}

impl Deref for Conn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.inner.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.inner.as_mut().expect("a connection until dropped")
    }
}

tokio::task_local! {
    /// The commits of the connections the current request gave back, still running.
    static RELEASES: RefCell<Vec<JoinHandle<bool>>>;
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(mut c) = self.inner.take() else {
            return;
        };
        if !self.behind_pooler {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let commit = rt.spawn(async move { c.execute("commit").await.is_ok() });
        // Outside a request (a background job) nobody waits to answer: it just runs.
        let _ = RELEASES.try_with(|r| r.borrow_mut().push(commit));
    }
}

/// Middleware (behind a pooler): the answer waits until every connection the request used is
/// committed; one whose commit failed turns the answer into a 500, since what it wrote is lost.
pub async fn settle_request(
    axum::extract::State(app): axum::extract::State<crate::state::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !app.db.behind_pooler() {
        return next.run(req).await;
    }
    RELEASES
        .scope(RefCell::new(Vec::new()), async move {
            let response = next.run(req).await;
            let mut committed = true;
            loop {
                let pending = RELEASES.with(|r| std::mem::take(&mut *r.borrow_mut()));
                if pending.is_empty() {
                    break;
                }
                for h in pending {
                    committed &= h.await.unwrap_or(false);
                }
            }
            if committed {
                response
            } else {
                tracing::error!("a connection's commit failed after its request was answered");
                axum::response::IntoResponse::into_response(crate::error::ApiError::internal(
                    anyhow::anyhow!("the request's commit failed"),
                ))
            }
        })
        .await
}
