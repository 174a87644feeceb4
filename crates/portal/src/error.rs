//! One error type for handlers, split into what the member did (4xx, a page that says so) and
//! what went wrong inside (5xx). An internal error's whole chain goes to the log with the
//! request id; the member sees a generic page with that id and nothing else.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::views::{Chrome, MessagePage};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("login required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF check failed")]
    Csrf,
    #[error("cross-site request refused")]
    CrossSite,
    #[error("too many requests")]
    TooManyRequests,
    #[error("{0}")]
    BadRequest(String),
    /// No room for member work now (the query executor is full, or this address has
    /// enough in flight): 429 with `Retry-After`.
    #[error("{message}")]
    Busy { message: String, retry_after: u64 },
    /// A limit stopped member work (time, memory): 422 saying which.
    #[error("{0}")]
    Limit(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<secviz_sandbox::RunError> for AppError {
    fn from(e: secviz_sandbox::RunError) -> Self {
        use secviz_sandbox::RunError;
        match e {
            RunError::Busy(b) => AppError::Busy {
                message: format!("{b}."),
                retry_after: b.retry_after.as_secs().max(1),
            },
            RunError::Stopped => AppError::Busy {
                message: "The server is restarting. Try again in a moment.".into(),
                retry_after: 5,
            },
            RunError::Exceeded(x) => AppError::Limit(format!("The work stopped: {x}.")),
            RunError::Panicked => {
                AppError::Internal(anyhow::anyhow!("a job of the query executor panicked"))
            }
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("rendering a template"))
    }
}

/// Marks a 500 response; the request-id middleware logs the chain and writes the page.
#[derive(Clone, Debug)]
pub struct InternalError(pub Arc<String>);

impl AppError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not found", "There is nothing here, or it is not yours to see.".into()),
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "Please log in", "This page is for members. Log in or sign up first.".into()),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "Your account may not do this.".into()),
            AppError::Csrf => (StatusCode::FORBIDDEN, "Form expired", "The form was too old or not sent from this site. Go back, reload the page and try again.".into()),
            AppError::CrossSite => (StatusCode::FORBIDDEN, "Refused", "This request came from another site and was refused.".into()),
            AppError::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, "Slow down", "Too many attempts. Wait a minute and try again.".into()),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            AppError::Busy { message, .. } => (StatusCode::TOO_MANY_REQUESTS, "Busy", message.clone()),
            AppError::Limit(m) => (StatusCode::UNPROCESSABLE_ENTITY, "Too much work", m.clone()),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", String::new()),
        }
    }

    /// Same as `into_response`; named for call sites outside handlers.
    pub fn into_response_with_log(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut()
                .insert(InternalError(Arc::new(format!("{e:#}"))));
            return resp;
        }
        match &self {
            AppError::Forbidden | AppError::Csrf | AppError::CrossSite => {
                tracing::warn!(target: "security", event = "refused", reason = %self);
            }
            _ => {}
        }
        let (status, title, message) = self.parts();
        let mut resp = page(status, title, &message, None);
        if let AppError::Busy { retry_after, .. } = &self {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after),
            );
        }
        resp
    }
}

/// A plain message page (errors, confirmations).
pub fn page(status: StatusCode, title: &str, message: &str, request_id: Option<&str>) -> Response {
    let tpl = MessagePage {
        chrome: Chrome::plain(),
        title: title.to_string(),
        message: message.to_string(),
        request_id: request_id.map(str::to_string),
    };
    match askama::Template::render(&tpl) {
        Ok(html) => (status, crate::views::html_headers(), html).into_response(),
        Err(_) => (status, title.to_string()).into_response(),
    }
}
