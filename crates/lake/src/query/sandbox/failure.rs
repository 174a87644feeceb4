//! [`SandboxFailure`]: why the sandbox stopped or refused a member's query, carried
//! through DataFusion's errors as an external error so that [`crate::query::QueryError`]
//! can name the limit.

use datafusion::error::DataFusionError;
use secviz_sandbox::Exceeded;

use crate::query::error::{Limit, QueryError, QueryErrorKind};

/// A stop or a refusal by the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxFailure {
    /// A budget ran out while the query ran.
    #[error("{0}")]
    Exceeded(Exceeded),
    /// The query would need more than a limit allows, seen before or while running it.
    #[error("{message}")]
    Limit { limit: Limit, message: String },
    /// Something members may not use (a function, a kind of pattern).
    #[error("{0}")]
    Forbidden(String),
}

impl SandboxFailure {
    pub fn limit(limit: Limit, message: impl Into<String>) -> SandboxFailure {
        SandboxFailure::Limit {
            limit,
            message: message.into(),
        }
    }

    pub fn into_datafusion(self) -> DataFusionError {
        DataFusionError::External(Box::new(self))
    }

    /// The sandbox failure inside `err`, wherever DataFusion or Arrow wrapped it.
    pub fn find(err: &DataFusionError) -> Option<SandboxFailure> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(f) = e.downcast_ref::<SandboxFailure>() {
                return Some(f.clone());
            }
            if let Some(DataFusionError::External(inner)) = e.downcast_ref::<DataFusionError>()
                && let Some(f) = inner.downcast_ref::<SandboxFailure>()
            {
                return Some(f.clone());
            }
            cur = e.source();
        }
        None
    }

    /// What the member is told.
    pub fn to_query_error(&self) -> QueryError {
        match self {
            SandboxFailure::Exceeded(Exceeded::Time { .. }) => QueryError::new(
                QueryErrorKind::Limit(Limit::Time),
                format!("the query stopped: {}", self),
            ),
            SandboxFailure::Exceeded(Exceeded::Memory { .. }) => QueryError::new(
                QueryErrorKind::Limit(Limit::Memory),
                format!("the query stopped: {}", self),
            ),
            SandboxFailure::Exceeded(Exceeded::Cancelled) => QueryError::new(
                QueryErrorKind::Cancelled,
                format!("the query stopped: {}", self),
            ),
            SandboxFailure::Limit { limit, message } => {
                QueryError::new(QueryErrorKind::Limit(*limit), message.clone())
            }
            SandboxFailure::Forbidden(m) => QueryError::new(QueryErrorKind::Forbidden, m.clone()),
        }
    }
}

/// The budget check as a DataFusion result.
pub fn check() -> datafusion::error::Result<()> {
    secviz_sandbox::budget::check().map_err(|e| SandboxFailure::Exceeded(e).into_datafusion())
}

/// The room check as a DataFusion result.
pub fn ensure_room(bytes: usize) -> datafusion::error::Result<()> {
    secviz_sandbox::budget::ensure_room(bytes)
        .map_err(|e| SandboxFailure::Exceeded(e).into_datafusion())
}
