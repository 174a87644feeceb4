//! The accept loop: HTTP/1.1 over hyper with a header-read timeout, a cap on connections per
//! client address, and graceful shutdown.
//!
//! `axum::serve` has no header timeout, so a client that opens connections and sends half a
//! request line could hold them forever (slowloris). Here every connection is served by
//! hyper's HTTP/1 builder with [`Config::header_timeout`]: a request's headers, and the next
//! request on an idle keep-alive connection, must arrive within it or the connection is
//! closed. Bodies are bounded by `web::body_timeout`; answers by [`Config::write_timeout`]:
//! a client that stops reading has its connection closed. A client address holding
//! [`Config::max_connections_per_ip`] connections has further ones closed at once.
//!
//! Only HTTP/1.1 is spoken (no h2c): the portal sits behind a TLS proxy or is reached
//! directly by browsers, which use HTTP/2 only over TLS, and cleartext HTTP/2 would bring a
//! protocol that the header timeout does not cover.
//!
//! Handlers read the client address from `ConnectInfo<SocketAddr>`, inserted here into
//! every request, as `axum::serve` did.
//!
//! [`Config::header_timeout`]: crate::Config::header_timeout
//! [`Config::write_timeout`]: crate::Config::write_timeout
//! [`Config::max_connections_per_ip`]: crate::Config::max_connections_per_ip

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long in-flight requests may run on after shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(30);

/// What the accept loop enforces.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    /// A write that makes no progress for this long ends the connection.
    pub write_timeout: Duration,
    /// Connections per client address; 0 for no cap.
    pub per_ip: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish (for at most [`DRAIN`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let counts = Arc::new(PerIp::new(limits.per_ip));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = counts.take(peer.ip()) else {
            tracing::debug!(target: "security", event = "too_many_connections", client = %peer.ip());
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let stream = StallGuard::new(stream, limits.write_timeout);
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                // Timeouts, resets and malformed requests: the client's business.
                tracing::debug!(client = %peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running {DRAIN:?} after shutdown; closing them");
    }
}

/// A connection whose writes fail once one has made no progress for `timeout`: a client
/// that stops reading an answer (a download, a long JSON) cannot hold the connection, the
/// answer's buffers and the task writing it for as long as it likes.
struct StallGuard<S> {
    inner: S,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> StallGuard<S> {
    fn new(inner: S, timeout: Duration) -> StallGuard<S> {
        StallGuard {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// After a write that could not proceed: has it waited too long?
    fn waited_too_long(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.timeout;
        let t = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        t.as_mut().poll(cx).is_ready()
    }

    fn outcome<T>(
        &mut self,
        cx: &mut Context<'_>,
        p: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        match p {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending if self.waited_too_long(cx) => {
                tracing::debug!(target: "security", event = "write_timeout");
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.outcome(cx, p)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let p = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.outcome(cx, p)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let p = Pin::new(&mut self.inner).poll_flush(cx);
        self.outcome(cx, p)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Errors of `accept` that concern one connection are skipped; others (out of file
/// descriptors) are logged and the loop pauses, as `axum::serve` does.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Open connections per client address.
struct PerIp {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One counted connection; dropping it frees the place.
struct Slot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn new(max: usize) -> PerIp {
        PerIp {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `ip`, unless it holds the most already.
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_per_address_are_counted_and_freed() {
        let per = Arc::new(PerIp::new(2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = per.take(a).unwrap();
        let _second = per.take(a).unwrap();
        assert!(per.take(a).is_none(), "a third from one address");
        assert!(per.take(b).is_some(), "another address is not affected");
        drop(first);
        assert!(per.take(a).is_some(), "a closed connection frees its place");
        let unlimited = Arc::new(PerIp::new(0));
        let held: Vec<_> = (0..100).map(|_| unlimited.take(a).unwrap()).collect();
        drop(held);
        assert!(unlimited.open.lock().unwrap().is_empty());
    }
}
