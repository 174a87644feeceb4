//! POST /c/{id}/delete — the author deletes their comment (replies keep their place).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{Visit, redirect};
use crate::db::comments;
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
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .filter(|c| c.author_id == me.id)
        .ok_or(AppError::NotFound)?;
    if !comments::delete(&state.db, c.id, me.id, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect(&format!("/p/{}#c{}", c.post_id, c.id)))
}
