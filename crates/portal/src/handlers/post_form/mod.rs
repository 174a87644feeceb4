//! The Add/Edit Post form: reading the multipart body (`fields`), storing new uploads as
//! draft images (`images`), streaming an attached log file to the staging folder (issue 7),
//! validating everything (`validate`), and the page that shows the form again (`page`). A
//! form that fails keeps all it had: text, choices, and images already uploaded (as drafts,
//! listed by id).

mod fields;
mod images;
mod page;
mod validate;

pub use fields::NEW_SLOTS;
pub use page::{data_choices, page};
pub use validate::{ValidPost, validate};

use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::data::upload::Received;
use crate::db::ids::PostId;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::PostForm;
use crate::web::form_fields::read_capped;
use crate::web::{CurrentUser, Visitor};
use fields::unreadable;

/// What a submission asked for.
pub struct Submission {
    pub preview: bool,
    pub form: PostForm,
    /// Problems with uploads, and the status they call for (413, 415, 422, 429).
    pub upload_errors: Vec<String>,
    pub upload_status: Option<StatusCode>,
    /// An attached log file, staged (issue 7).
    pub data_file: Option<Received>,
    /// What was wrong with the attached data, and the status it calls for.
    pub data_error: Option<(StatusCode, String)>,
    /// Parts of the form refused for their size (a field over its cap, a form over the
    /// route's body limit): the submission fails with 413, keeping what was read.
    pub refused: Vec<String>,
}

impl Submission {
    /// Whether the member attached data (a file or pasted lines), even if it failed.
    pub fn has_data(&self) -> bool {
        self.data_file.is_some()
            || self.data_error.is_some()
            || !self.form.data_text.trim().is_empty()
    }
}

/// Checks the CSRF token, which must be the first field, so a forged request is refused
/// before any file is read and before anything else is decided.
pub async fn check_csrf(v: &Visitor, mp: &mut Multipart) -> Result<(), AppError> {
    let mut first = mp
        .next_field()
        .await
        .map_err(unreadable)?
        .ok_or(AppError::Csrf)?;
    if first.name() != Some("csrf") {
        return Err(AppError::Csrf);
    }
    let token = read_capped(&mut first, 256).await.map_err(unreadable)?;
    if token.over {
        return Err(AppError::Csrf);
    }
    v.verify_csrf(&token.text())
}

/// Reads the rest of the form (after [`check_csrf`]), storing new uploads as drafts of `me`.
/// Every field is read with a cap and stops at it ([`read_capped`]); a form cut by the
/// route's body limit keeps what was read before the cut. Both end in 413 with the text kept.
pub async fn read(
    state: &AppState,
    me: &CurrentUser,
    mp: Multipart,
    post_id: Option<PostId>,
) -> Result<Submission, AppError> {
    let raw = fields::read_fields(state, mp).await?;
    let mut form = raw.form;
    images::keep_attached(state, me, post_id, &mut form, raw.images).await?;
    let stored = images::store_new(state, me, &mut form, raw.uploads, &raw.new_alts).await?;
    Ok(Submission {
        preview: raw.preview,
        form,
        upload_errors: stored.errors,
        upload_status: stored.status,
        data_file: raw.data_file,
        data_error: raw.data_error,
        refused: raw.refused,
    })
}
