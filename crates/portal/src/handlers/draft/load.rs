//! Loading a member's own draft, and the form values it stored.

use crate::data::recipe::{Recipe, ViewForm};
use crate::db::drafts::{self, DraftRow};
use crate::db::ids::UserId;
use crate::error::AppError;
use crate::state::AppState;

/// The text fields of the draft form.
pub struct DraftText {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
}

impl DraftText {
    /// The text as the draft stored it.
    pub(super) fn of(draft: &DraftRow) -> DraftText {
        DraftText {
            title: draft.title.clone(),
            body: draft.body.clone(),
            tags: split_tags(&draft.tags),
        }
    }
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The view form the draft's recipe was made from (empty when it has none).
pub(super) fn recipe_form(recipe: &str) -> ViewForm {
    Recipe::from_json(recipe)
        .map(|r| r.form)
        .unwrap_or_default()
}

/// Draft `raw_id` of `owner`, or 404 (missing, not a number, or someone else's).
pub(super) async fn owned(
    state: &AppState,
    raw_id: &str,
    owner: UserId,
) -> Result<DraftRow, AppError> {
    drafts::get_owned(&state.db, crate::handlers::id(raw_id)?, owner)
        .await?
        .ok_or(AppError::NotFound)
}
