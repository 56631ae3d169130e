//! The accept loop: HTTP/1.1 and HTTP/2 with bounded resources. At most `http.max_connections`
//! connections are served at once (more clients wait in the listen queue); a request's headers
//! must arrive within `http.header_read_timeout_secs` (hyper's timer, which also runs while a
//! kept-alive connection waits for its next request); a connection with no request in progress
//! (a response still being sent counts as in progress)
//! that receives nothing for `http.idle_timeout_secs` is closed, and so is one whose client stops
//! reading a response for that long. Body read time is bounded by the input layer.

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{body::Body, Router};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpListener,
    sync::Semaphore,
    time::{Instant, Sleep},
};
use tower::ServiceExt;

use crate::config::HttpConfig;

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout());
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(config.max_connections));
    let idle = config.idle_timeout();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let io = TokioIo::new(IdleIo::new(stream, idle, in_flight.clone()));
        let router = router.clone();
        let service = tower::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let busy = Busy::enter(in_flight.clone());
            let router = router.clone();
            async move {
                let resp = router.oneshot(req.map(Body::new)).await;
                // In progress until the body is sent (a long streamed export included).
                resp.map(|r| r.map(|inner| Counted { inner, _busy: busy }))
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let conn =
                builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
            let _ = watcher.watch(conn.into_owned()).await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Counts a request in progress on its connection for as long as it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::SeqCst);
        Busy(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in progress until it is sent or dropped.
struct Counted {
    inner: Body,
    _busy: Busy,
}

impl hyper::body::Body for Counted {
    type Data = hyper::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A stream whose reads fail with `TimedOut` once nothing arrived for `idle` while no request is
/// in progress, and whose writes fail once the peer accepted nothing for `idle`.
struct IdleIo<T> {
    inner: T,
    idle: Duration,
    in_flight: Arc<AtomicUsize>,
    read_timer: Pin<Box<Sleep>>,
    read_armed: bool,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl<T> IdleIo<T> {
    fn new(inner: T, idle: Duration, in_flight: Arc<AtomicUsize>) -> Self {
        IdleIo {
            inner,
            idle,
            in_flight,
            read_timer: Box::pin(tokio::time::sleep(idle)),
            read_armed: false,
            write_timer: Box::pin(tokio::time::sleep(idle)),
            write_armed: false,
        }
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connection {what} timed out"),
    )
}

/// Polls a pending operation's timer: `true` when it expired (and is not to be extended).
fn expired(
    timer: &mut Pin<Box<Sleep>>,
    armed: &mut bool,
    idle: Duration,
    extend: impl Fn() -> bool,
    cx: &mut Context<'_>,
) -> bool {
    if !*armed {
        timer.as_mut().reset(Instant::now() + idle);
        *armed = true;
    }
    while timer.as_mut().poll(cx).is_ready() {
        if !extend() {
            return true;
        }
        timer.as_mut().reset(Instant::now() + idle);
    }
    false
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let in_flight = &this.in_flight;
                let busy = || in_flight.load(Ordering::SeqCst) > 0;
                if expired(
                    &mut this.read_timer,
                    &mut this.read_armed,
                    this.idle,
                    busy,
                    cx,
                ) {
                    Poll::Ready(Err(timed_out("idle")))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<T> IdleIo<T> {
    /// A write's outcome: a pending write fails once the peer accepted nothing for `idle`.
    fn on_write<R>(&mut self, r: Poll<io::Result<R>>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        match r {
            Poll::Ready(r) => {
                self.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let never = || false;
                if expired(
                    &mut self.write_timer,
                    &mut self.write_armed,
                    self.idle,
                    never,
                    cx,
                ) {
                    Poll::Ready(Err(timed_out("write")))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.on_write(r, cx)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.on_write(r, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.on_write(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A body streamed for longer than the idle timeout is sent whole: its request is in
    /// progress until the last byte.
    #[tokio::test]
    async fn a_response_streamed_past_the_idle_timeout_is_not_cut() {
        let mut config = crate::config::Config::default().http;
        config.idle_timeout_secs = 1;
        let slow = || async {
            let chunks = futures_util::stream::unfold(0u32, |n| async move {
                if n == 5 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                Some((Ok::<_, io::Error>(format!("chunk{n}\n")), n + 1))
            });
            Body::from_stream(chunks)
        };
        let router = Router::new().route("/slow", axum::routing::get(slow));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { serve(listener, router, &config, std::future::pending()).await });
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).await.unwrap();
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        for n in 0..5 {
            assert!(
                got.contains(&format!("chunk{n}\n")),
                "chunk{n} missing: {got}"
            );
        }
    }
}
