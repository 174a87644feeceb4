//! POST /p/{id}/delete — the author deletes their post, its comments and its images.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{Visit, redirect};
use crate::db::posts;
use crate::error::AppError;
use crate::handlers::moderate::CsrfOnly;
use crate::state::AppState;

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let id = super::id(&id)?;
    let images = posts::delete(&state.db, id, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    for img in images {
        state.images.remove(&img).await;
    }
    tracing::info!(event = "post_deleted", post = id, user = ?me.username);
    Ok(redirect(&format!("/u/{}", me.username)))
}
