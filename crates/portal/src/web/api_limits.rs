//! Rate limits of the JSON APIs that evaluate member input, per client address: requests
//! over the limit get 429 with `Retry-After` and a JSON error in the API's own shape. The
//! query executor caps what runs at once; these cap how often a client may ask at all.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Visitor;
use crate::state::AppState;

/// The window of the per-minute limits.
const WINDOW_SECS: i64 = 60;

/// A 429 in the JSON shape of `{"error": ..., "kind": "rate_limited"}`.
pub fn too_many(message: &str) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(serde_json::json!({ "error": message, "kind": "rate_limited" })),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(WINDOW_SECS as u64));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// The views API: [`crate::config::QueryConfig::views_per_minute`] per address.
pub async fn views_rate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<Arc<Visitor>>()
        .map(|v| v.ip.to_string())
        .unwrap_or_default();
    if !state
        .limiter
        .take(
            &format!("views:{ip}"),
            state.config.queries.views_per_minute,
            WINDOW_SECS,
        )
        .await
    {
        return too_many("too many requests to the viewer: wait a minute and try again");
    }
    next.run(req).await
}
