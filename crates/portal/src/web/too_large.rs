//! A body over its route's limit is refused by axum with a bare "length limit exceeded":
//! this layer gives it the site's page instead (413, in the words of the site). Answers
//! that already are pages or JSON (the upload forms' own 413, the APIs') pass unchanged.
//!
//! Every 413 closes the connection: otherwise hyper reads and throws away the rest of the
//! body to keep the connection alive, so a client sending megabytes to a 16 KiB form made
//! the server receive them all (measured: about a millisecond of CPU per megabyte login,
//! which a flood turned into delays for everyone's pages).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

pub async fn page(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return resp;
    }
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    let ours = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if ours {
        return resp;
    }
    let mut page = crate::error::page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Too large",
        "What was sent is larger than this form accepts. Go back, shorten it and try again.",
        None,
    );
    page.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    page
}
