//! The browser viewer, built from `web/` by `build.rs` (npm ci + esbuild) and embedded in
//! the binary, served with a content hash in its URL so browsers may cache it for good.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The bundled viewer script (an ES module).
pub const VIEWER_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/viewer.js"));
/// The viewer's style sheet.
pub const VIEWER_CSS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/web/viewer.css"));

/// A short hash of both files, for `?v=` in asset URLs.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in VIEWER_JS.iter().chain(VIEWER_CSS) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    })
}

fn asset(body: &'static [u8], mime: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

/// `GET /viewer.js` and `GET /viewer.css`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/viewer.js",
            get(|| async { asset(VIEWER_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/viewer.css",
            get(|| async { asset(VIEWER_CSS, "text/css; charset=utf-8") }),
        )
}
