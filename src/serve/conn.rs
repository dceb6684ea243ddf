//! `serve`'s connections, bounded: at most [`MAX_CONNECTIONS`] open at once (beyond that
//! a new one is closed at once), a request's headers must arrive within
//! [`HEADER_TIMEOUT`] of waiting for them (Slowloris: a client that trickles its headers,
//! or sends none, is cut), and a client that reads nothing of an answer for
//! [`WRITE_STALL`] is cut (a reader that never reads held its whole answer for as long as
//! it liked). axum's own `serve` offers none of these, so this is the accept loop.
//!
//! May import: nothing of ours.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;

/// Connections open at once (Prometheus needs one per scraper; a browser a few).
pub const MAX_CONNECTIONS: usize = 256;
/// How long a request's headers may take to arrive (an idle keep-alive connection too).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may read nothing of an answer before the connection is cut.
pub const WRITE_STALL: Duration = Duration::from_secs(15);

/// Serves `router` on `listener` until `shutdown`; then gives open connections `drain`
/// to finish and closes the rest.
pub async fn serve(listener: tokio::net::TcpListener, router: axum::Router, shutdown: impl Future<Output = ()>, drain: Duration) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        while tasks.try_join_next().is_some() {}
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: pause instead of spinning.
                tracing::warn!(error = %e, "serve: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!("serve: connection refused: {MAX_CONNECTIONS} open already");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let svc = TowerToHyperService::new(router.clone());
        tasks.spawn(async move {
            let io = TokioIo::new(Stall::new(tcp, WRITE_STALL));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "serve: connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(drain, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

/// A connection whose writes fail once none has made progress for `limit`.
struct Stall<T> {
    inner: T,
    limit: Duration,
    stalled_since: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> Stall<T> {
    fn new(inner: T, limit: Duration) -> Self {
        Stall { inner, limit, stalled_since: None }
    }

    fn waited<R>(&mut self, cx: &mut Context<'_>, r: Poll<std::io::Result<R>>) -> Poll<std::io::Result<R>> {
        match r {
            Poll::Ready(r) => {
                self.stalled_since = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.limit;
                let timer = self.stalled_since.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client read nothing"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Stall<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stall<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.waited(cx, r)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.waited(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
