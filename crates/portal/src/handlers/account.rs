//! GET /account — password and email changes (both need the current password).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::db::users;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{AccountPage, Chrome};
use crate::web::Visitor;

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    page(&state, &visit, None, vec![], StatusCode::OK).await
}

/// 429 when the hashing pool is full: the page again, saying when to retry.
pub async fn busy(state: &AppState, v: &Visitor) -> Result<Response, AppError> {
    let errors = vec![super::HASH_BUSY.into()];
    let page = page(state, v, None, errors, StatusCode::TOO_MANY_REQUESTS).await?;
    Ok(super::too_many(page, crate::hash_pool::RETRY_AFTER_SECS))
}

pub async fn page(
    state: &AppState,
    v: &Visitor,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let me = v.require_user()?;
    let user = users::find_by_id(&state.db, me.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    render(
        status,
        &AccountPage {
            chrome: Chrome::new(v),
            email: user.email,
            notice,
            errors,
        },
    )
}
