//! Static assets embedded in the binary (no files to deploy), the health check and the 404.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

const STYLE: &str = include_str!("../../static/style.css");

pub async fn style() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLE,
    )
        .into_response()
}

const SCREEN_STYLE: &str = include_str!("../../static/screen.css");

/// The big screen's stylesheet (dashboards in a control room).
pub async fn screen_style() -> Response {
    asset("text/css; charset=utf-8", SCREEN_STYLE)
}

const DASHBOARD_SCRIPT: &str = include_str!("../../static/dashboard.js");

/// The dashboards' refresh and rotation (the pages work without it, reloading instead).
pub async fn dashboard_script() -> Response {
    asset("text/javascript; charset=utf-8", DASHBOARD_SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

const FAVICON: &str = include_str!("../../static/favicon.svg");

pub async fn favicon() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        FAVICON,
    )
        .into_response()
}

pub async fn health() -> &'static str {
    "ok"
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
