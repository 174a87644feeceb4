//! `GET /drafts/{id}`: the draft page as the draft stored it, or opened on a preset view
//! (`?preset=scans`). A draft whose data is ready but has no view yet opens on the best
//! preset for its data.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::load::{DraftText, owned, recipe_form};
use super::page::page;
use crate::data::presets;
use crate::data::recipe::Recipe;
use crate::data::summary::ParseReport;
use crate::db::datasets::{self, Reader};
use crate::error::AppError;
use crate::handlers::Visit;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    preset: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let draft = owned(&state, &id, me.id).await?;
    let mut form = recipe_form(&draft.recipe);
    let fresh = Recipe::from_json(&draft.recipe).is_none();
    if (fresh || q.preset.is_some())
        && let Some(ds) = draft.dataset_id.as_deref()
        && let Some(row) = datasets::get(&state.db, ds).await?
        && datasets::may_read(
            &state.db,
            ds,
            Reader {
                user: Some(me.id),
                moderator: false,
            },
        )
        .await?
    {
        let columns = ParseReport::from_json(&row.summary)
            .map(|r| r.columns)
            .unwrap_or_default();
        let found = q.preset.as_deref().and_then(|k| presets::find(&columns, k));
        let best = || presets::presets(&columns).into_iter().next();
        if let Some(p) = found.or_else(|| fresh.then(best).flatten()) {
            form = p.form;
        }
    }
    let text = DraftText::of(&draft);
    page(&state, &visit, &draft, form, text, vec![], StatusCode::OK).await
}
