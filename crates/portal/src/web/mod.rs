//! The HTTP edge shared by all handlers: cookies, the visitor (session) layer, CSRF and
//! Origin checks, security headers, request ids and the generic error page, body timeouts
//! and capped multipart fields.

pub mod api_limits;
pub mod body_timeout;
pub mod cache;
pub mod cookies;
pub mod form_fields;
pub mod headers;
pub mod session_memory;
pub mod too_large;
pub mod visitor;

pub use visitor::{CurrentUser, Visitor};

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// The client address: the socket peer, or the last `X-Forwarded-For` hop when configured to
/// trust a reverse proxy.
pub fn client_ip(parts: &Parts, trust_proxy: bool) -> IpAddr {
    if trust_proxy
        && let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}
