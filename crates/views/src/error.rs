//! [`ViewError`]: a request the member can fix (4xx, with a message meant for them), a limit
//! that stopped or refused the work (which limit, and what to change), a server too busy
//! for it now (429 with `Retry-After`), a view that does not exist or may not be read (404,
//! saying nothing more), or a failure of ours (5xx, logged with its chain; the member sees
//! a generic message).
//!
//! Answers are JSON: `{"error": "<message>", "kind": "<kind>"}`, plus `"limit"` naming the
//! limit for kind `limit`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secviz_lake::query::{Limit, QueryError, QueryErrorKind, SandboxFailure};
use secviz_sandbox::{Busy, Exceeded, RunError};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("the query took too long or used too much memory: narrow the view or the selection")]
    TooCostly,
    /// A limit of the sandbox stopped or refused the work.
    #[error("{message}")]
    Limit { limit: Limit, message: String },
    /// Something members may not use.
    #[error("{0}")]
    Forbidden(String),
    /// No room now: come back later.
    #[error("{0}")]
    Busy(Busy),
    /// The request went away before the work ended.
    #[error("the request was cancelled")]
    Cancelled,
    /// The server is shutting down.
    #[error("the server is shutting down: try again in a moment")]
    Unavailable,
    #[error("{0}")]
    Query(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ViewError {
    /// A lake query error, for a part of the view named `what` (`filter`, `query`).
    pub fn from_query(e: QueryError, what: &str) -> ViewError {
        match e.kind {
            QueryErrorKind::Limit(limit) => ViewError::Limit {
                limit,
                message: e.message,
            },
            QueryErrorKind::Forbidden => ViewError::Forbidden(format!("{what}: {}", e.message)),
            QueryErrorKind::Cancelled => ViewError::Cancelled,
            QueryErrorKind::Internal => ViewError::Internal(e.message),
            QueryErrorKind::Syntax | QueryErrorKind::Plan | QueryErrorKind::Execution => {
                ViewError::Query(format!("{what}: {}", e.message))
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            ViewError::BadRequest(_) | ViewError::Query(_) => "bad_request",
            ViewError::NotFound => "not_found",
            ViewError::TooCostly | ViewError::Limit { .. } => "limit",
            ViewError::Forbidden(_) => "forbidden",
            ViewError::Busy(_) => "busy",
            ViewError::Cancelled => "cancelled",
            ViewError::Unavailable => "unavailable",
            ViewError::Internal(_) => "internal",
        }
    }
}

impl From<secviz_lake::LakeError> for ViewError {
    /// A dataset a view cannot find is a 404 like any other; everything else of the lake's
    /// is the server's problem (members' data problems end at upload, not in a view).
    fn from(e: secviz_lake::LakeError) -> Self {
        use secviz_lake::LakeError as L;
        match e {
            L::NotFound(_) | L::BadName(_) => ViewError::NotFound,
            L::Cancelled => ViewError::Cancelled,
            L::Duplicate { .. }
            | L::Anonymization(_)
            | L::Invalid(_)
            | L::Sandbox(_)
            | L::Worker(_)
            | L::Key { .. }
            | L::Io { .. }
            | L::Store { .. }
            | L::BadLocation(_)
            | L::Manifest { .. }
            | L::Parse { .. }
            | L::Parquet(_)
            | L::Arrow(_)
            | L::DataFusion(_)
            | L::Internal(_) => ViewError::Internal(e.to_string()),
        }
    }
}

impl From<SandboxFailure> for ViewError {
    fn from(f: SandboxFailure) -> Self {
        ViewError::from_query(f.to_query_error(), "query")
    }
}

impl From<RunError> for ViewError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Busy(b) => ViewError::Busy(b),
            RunError::Exceeded(Exceeded::Cancelled) => ViewError::Cancelled,
            RunError::Exceeded(x) => SandboxFailure::Exceeded(x).into(),
            RunError::Panicked => ViewError::Internal("a view job panicked".into()),
            RunError::Stopped => ViewError::Unavailable,
        }
    }
}

impl From<secviz_lake::datafusion::error::DataFusionError> for ViewError {
    /// Worded as a query's error is ([`QueryError::from_datafusion`]): the engine's own
    /// texts carry debug dumps (`ParserError("...")`) and catalog names.
    fn from(e: secviz_lake::datafusion::error::DataFusionError) -> Self {
        if let Some(f) = SandboxFailure::find(&e) {
            return f.into();
        }
        ViewError::from_query(QueryError::from_datafusion(e, ""), "filter")
    }
}

impl IntoResponse for ViewError {
    fn into_response(self) -> Response {
        let status = match &self {
            ViewError::BadRequest(_) | ViewError::Query(_) | ViewError::Forbidden(_) => {
                StatusCode::BAD_REQUEST
            }
            ViewError::NotFound => StatusCode::NOT_FOUND,
            ViewError::TooCostly | ViewError::Limit { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ViewError::Busy(_) => StatusCode::TOO_MANY_REQUESTS,
            // Nobody reads the answer of a cancelled request; 499 is not standard.
            ViewError::Cancelled => StatusCode::REQUEST_TIMEOUT,
            ViewError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ViewError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            ViewError::Internal(chain) => {
                tracing::error!(error = %chain, "view request failed");
                "internal error".to_string()
            }
            // Member text (a field name, a filter, a JSON value) may carry control
            // characters: shown escaped, once.
            other => secviz_parse::escape_control(&other.to_string()),
        };
        let mut body = serde_json::json!({ "error": message, "kind": self.kind() });
        if let ViewError::Limit { limit, .. } = &self {
            body["limit"] = serde_json::to_value(limit).unwrap_or_default();
        }
        let mut r = (status, Json(body)).into_response();
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        if let ViewError::Busy(b) = &self {
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(b.retry_after.as_secs().max(1)),
            );
        }
        r
    }
}
