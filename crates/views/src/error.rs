//! [`ViewError`]: a request the member can fix (4xx, with a message meant for them), a view
//! that does not exist or may not be read (404, saying nothing more), or a failure of ours
//! (5xx, logged with its chain; the member sees a generic message).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{0}")]
    BadRequest(String),
    #[error("not found")]
    NotFound,
    #[error("the query took too long or used too much memory: narrow the view or the selection")]
    TooCostly,
    #[error("{0}")]
    Query(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<secviz_lake::LakeError> for ViewError {
    fn from(e: secviz_lake::LakeError) -> Self {
        match e {
            secviz_lake::LakeError::NotFound(_) | secviz_lake::LakeError::BadName { .. } => {
                ViewError::NotFound
            }
            other => ViewError::Internal(other.to_string()),
        }
    }
}

impl From<secviz_lake::datafusion::error::DataFusionError> for ViewError {
    fn from(e: secviz_lake::datafusion::error::DataFusionError) -> Self {
        use secviz_lake::datafusion::error::DataFusionError as E;
        match e.find_root() {
            E::ResourcesExhausted(_) => ViewError::TooCostly,
            // Errors in the member's own filter expression: shown to them.
            E::Plan(m) | E::SQL(_, Some(m)) => ViewError::Query(m.clone()),
            E::SchemaError(..) | E::SQL(..) => ViewError::Query(e.find_root().to_string()),
            other => ViewError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ViewError {
    fn into_response(self) -> Response {
        let status = match &self {
            ViewError::BadRequest(_) | ViewError::Query(_) => StatusCode::BAD_REQUEST,
            ViewError::NotFound => StatusCode::NOT_FOUND,
            ViewError::TooCostly => StatusCode::UNPROCESSABLE_ENTITY,
            ViewError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = match &self {
            ViewError::Internal(chain) => {
                tracing::error!(error = %chain, "view request failed");
                "internal error".to_string()
            }
            other => other.to_string(),
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
