//! Request bodies that come too slowly are cut with 408.
//!
//! A request's headers are bounded by hyper's header-read timeout (see `crate::serve`);
//! its body is bounded here, because hyper has no body timeout. Every body is wrapped in
//! [`Timed`], which fails the read when the client falls behind any of three deadlines:
//!
//! - idle: nothing arrived for [`Config::body_idle_timeout`] (a stalled upload);
//! - rate: after that first period, fewer than [`Config::body_min_rate`] bytes a second on
//!   average since the request began (a body trickled a byte at a time);
//! - total: the body is not complete after [`Config::body_timeout`].
//!
//! The handler then sees a read error; [`layer`] notices that the body timed out and answers
//! 408 with `Connection: close` in place of whatever the handler made of the error, so the
//! connection is freed. The deadlines are checked only while the handler waits for the body:
//! a server busy elsewhere never cuts a client that kept sending.
//!
//! [`Config::body_idle_timeout`]: crate::Config::body_idle_timeout
//! [`Config::body_min_rate`]: crate::Config::body_min_rate
//! [`Config::body_timeout`]: crate::Config::body_timeout

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::state::AppState;

/// The three bounds of a body.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    pub idle: Duration,
    /// Bytes a second; 0 turns the floor off.
    pub min_rate: u64,
    pub total: Duration,
}

/// The error a timed-out body read returns.
#[derive(Debug, thiserror::Error)]
#[error("the request body came too slowly")]
pub struct TooSlow;

/// A body that fails when its client falls behind its [`Deadlines`].
pub struct Timed {
    inner: Body,
    limits: Deadlines,
    started: Instant,
    last: Instant,
    bytes: u64,
    /// Created at the first wait, so bodies read at once (and GETs) never arm a timer.
    sleep: Option<Pin<Box<Sleep>>>,
    tripped: Arc<AtomicBool>,
}

impl Timed {
    pub fn new(inner: Body, limits: Deadlines, tripped: Arc<AtomicBool>) -> Timed {
        let now = Instant::now();
        Timed {
            inner,
            limits,
            started: now,
            last: now,
            bytes: 0,
            sleep: None,
            tripped,
        }
    }

    /// The earliest of the three deadlines, given what has arrived so far.
    fn deadline(&self) -> Instant {
        let l = &self.limits;
        let mut at = (self.last + l.idle).min(self.started + l.total);
        if l.min_rate > 0 {
            let earned = Duration::from_secs_f64(self.bytes as f64 / l.min_rate as f64);
            at = at.min(self.started + l.idle + earned);
        }
        at
    }
}

impl http_body::Body for Timed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.tripped.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                    this.last = Instant::now();
                    let at = this.deadline();
                    if let Some(s) = &mut this.sleep {
                        s.as_mut().reset(at);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let at = this.deadline();
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.tripped.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(TooSlow))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Wraps every request body in [`Timed`]; answers 408 when it tripped.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let c = &state.config;
    let limits = Deadlines {
        idle: c.body_idle_timeout,
        min_rate: c.body_min_rate,
        total: c.body_timeout,
    };
    let tripped = Arc::new(AtomicBool::new(false));
    let (parts, body) = req.into_parts();
    let client = super::client_ip(&parts, c.trust_proxy);
    let path = parts.uri.path().to_string();
    let body = Body::new(Timed::new(body, limits, tripped.clone()));
    let resp = next.run(Request::from_parts(parts, body)).await;
    if !tripped.load(Ordering::Relaxed) {
        return resp;
    }
    tracing::info!(target: "security", event = "slow_body_cut", %client, path = ?path);
    let mut resp = crate::error::page(
        StatusCode::REQUEST_TIMEOUT,
        "Too slow",
        "The request came in too slowly and was stopped. Check your connection and try again.",
        None,
    );
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
