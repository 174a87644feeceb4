//! Response hardening and request bookkeeping:
//! - a request id on every request (`X-Request-Id`), and the generic 500 page that shows it
//!   while the log gets the full error chain;
//! - security headers on every response: CSP without inline script, nosniff, frame-ancestors,
//!   Referrer-Policy, HSTS behind TLS; handlers that serve uploads set a stricter CSP first;
//! - the Origin check on state-changing requests (with the CSRF token as the second lock).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, InternalError};
use crate::logtext;
use crate::state::AppState;

/// The CSP of HTML pages: scripts and styles only from our own files, images only ours.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The CSP of uploaded files: nothing runs, even if a browser were tricked into rendering one.
pub const UPLOAD_CSP: &str =
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox";

/// Characters of a request path or `Origin` kept in a log line.
const PATH_CHARS: usize = 256;
/// Characters of an internal error's chain kept in a log line.
const CHAIN_CHARS: usize = 2048;

pub async fn request_id(req: Request, next: Next) -> Response {
    let id = hex::encode(rand::random::<[u8; 8]>());
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    if let Some(InternalError(chain)) = resp.extensions().get::<InternalError>().cloned() {
        // The path and the chain may hold what a visitor typed: escaped (no forged lines) and
        // bounded (no megabyte lines).
        tracing::error!(
            request_id = %id,
            %method,
            path = %logtext::bounded(&path, PATH_CHARS),
            error = %logtext::bounded(&chain, CHAIN_CHARS),
            "internal error"
        );
        resp = crate::error::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The error was logged. If it keeps happening, tell the administrators this request id:",
            Some(&id),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if state.config.secure() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
    }
    // No version banner: nothing here names the server software.
    h.remove(header::SERVER);
    resp
}

/// Refuses state-changing requests sent from another site: `Sec-Fetch-Site: cross-site`, an
/// `Origin` of `null`, or an `Origin` that is neither the public URL nor this request's host.
pub async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return AppError::CrossSite.into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let public = state.public_url();
        let scheme = if state.config.secure() {
            "https"
        } else {
            "http"
        };
        let by_host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("{scheme}://{h}"));
        let ok = origin == public || by_host.as_deref() == Some(origin);
        if !ok {
            tracing::warn!(target: "security", event = "cross_origin_post", origin = %logtext::bounded(origin, PATH_CHARS));
            return AppError::CrossSite.into_response();
        }
    }
    next.run(req).await
}

/// Turns a handler panic into an internal error, logged by [`request_id`] with its message.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    AppError::Internal(anyhow::anyhow!("handler panicked: {msg}")).into_response()
}
