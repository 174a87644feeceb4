//! GET /c/{id} — a comment's permalink: redirects to its place on the post page.

use axum::extract::{Path, State};
use axum::response::Response;

use super::redirect;
use crate::db::comments;
use crate::error::AppError;
use crate::state::AppState;

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(redirect(&format!("/p/{}#c{}", c.post_id, c.id)))
}
