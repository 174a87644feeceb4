//! POST /p/{id}/delete — the author deletes their post, its comments and its images; a data
//! post's data is withdrawn with it, from remixes too (`data::withdraw`).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{Visit, redirect};
use crate::data::withdraw;
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
    if !withdraw::delete_post(&state, id, me.id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(event = "post_deleted", post = %id, user = ?me.username);
    Ok(redirect(&format!("/u/{}", me.username)))
}
