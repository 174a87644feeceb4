//! The post form page (with errors or a preview), and the data section's choices that the
//! draft page shows too.

use axum::http::StatusCode;
use axum::response::Response;

use super::fields::NEW_SLOTS;
use crate::data::upload::human_bytes;
use crate::db::ids::PostId;
use crate::db::tags;
use crate::error::AppError;
use crate::handlers::render;
use crate::markdown;
use crate::state::AppState;
use crate::views::{Chrome, DataChoices, PostForm, PostFormPage, TagChoice};
use crate::web::Visitor;

/// The form page, with errors or a preview.
pub async fn page(
    state: &AppState,
    v: &Visitor,
    editing: Option<PostId>,
    form: PostForm,
    errors: Vec<String>,
    preview: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let tag_choices = tags::list(&state.db)
        .await?
        .into_iter()
        .map(|t| TagChoice {
            checked: form.tags.contains(&t.slug),
            slug: t.slug,
        })
        .collect();
    let free = state
        .config
        .max_images_per_post
        .saturating_sub(form.images.len())
        .min(NEW_SLOTS);
    let tpl = PostFormPage {
        chrome: Chrome::new(v),
        editing,
        preview_html: preview.then(|| markdown::render(&form.body)),
        form,
        tag_choices,
        errors,
        max_images: state.config.max_images_per_post,
        new_slots: (1..=free).collect(),
        data: data_choices(state),
    };
    render(status, &tpl)
}

/// The data section's choices.
pub fn data_choices(state: &AppState) -> DataChoices {
    DataChoices {
        formats: secviz_parse::Format::ALL.iter().map(|f| f.name()).collect(),
        covered: crate::data::anon::COVERED,
        max_upload: human_bytes(state.config.max_upload_bytes),
        max_paste: human_bytes(state.config.max_paste_bytes as u64),
    }
}
