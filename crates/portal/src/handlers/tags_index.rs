//! GET /tags — the curated tag list with post counts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::db::tags;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, TagsPage};

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    let tpl = TagsPage {
        chrome: Chrome::new(&visit),
        tags: tags::list(&state.db).await?,
    };
    render(StatusCode::OK, &tpl)
}
