//! `GET /drafts/{id}`: the draft page as the draft stored it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::load::{DraftText, owned, recipe_form};
use super::page::page;
use crate::error::AppError;
use crate::handlers::Visit;
use crate::state::AppState;

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let draft = owned(&state, &id, me.id).await?;
    let form = recipe_form(&draft.recipe);
    let text = DraftText::of(&draft);
    page(&state, &visit, &draft, form, text, vec![], StatusCode::OK).await
}
