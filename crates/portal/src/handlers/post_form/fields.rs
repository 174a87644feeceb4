//! Reading the post form's multipart fields, each with a cap: the text fields into the
//! [`PostForm`], new image files and their alt texts aside for `images`, an attached log
//! file streamed to the staging folder (issue 7), pasted log lines. A field over its cap, or
//! a form cut by the route's body limit, is noted in `refused` and the form keeps the rest.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;

use crate::data::upload::{Received, UploadError, human_bytes};
use crate::domain::{PostBody, PostKind};
use crate::error::AppError;
use crate::images::ImageError;
use crate::state::AppState;
use crate::views::PostForm;
use crate::web::form_fields::{Capped, body_too_large, read_capped};

/// File inputs for new images on one form.
pub const NEW_SLOTS: usize = 4;

/// Bytes kept of the post text: 100,000 characters of up to four bytes.
const BODY_CAP: usize = 4 * PostBody::MAX;
/// Bytes kept of any other text field (titles, alt texts, choices, ids are all short).
const SHORT_CAP: usize = 4096;
/// Fields read from one form; a browser sends a few dozen.
const MAX_FIELDS: usize = 512;

/// A multipart body that could not be read (400).
pub(super) fn unreadable(e: MultipartError) -> AppError {
    AppError::BadRequest(format!("The form could not be read: {}", e.body_text()))
}

/// The fields as read, before images are stored.
#[derive(Default)]
pub(super) struct Fields {
    pub form: PostForm,
    pub preview: bool,
    pub images: AttachedImages,
    /// New image files by slot (1..=[`NEW_SLOTS`]), or why one was refused while reading.
    pub uploads: Vec<(usize, Result<Vec<u8>, ImageError>)>,
    /// Alt texts of the new image slots, by slot.
    pub new_alts: Vec<String>,
    pub data_file: Option<Received>,
    pub data_error: Option<(StatusCode, String)>,
    pub refused: Vec<String>,
}

/// What the form says about images uploaded before: their ids, alt texts and removals.
#[derive(Default)]
pub(super) struct AttachedImages {
    pub ids: Vec<String>,
    pub alts: Vec<(String, String)>,
    pub removed: Vec<String>,
}

/// Reads every field after the CSRF token.
pub(super) async fn read_fields(state: &AppState, mut mp: Multipart) -> Result<Fields, AppError> {
    let mut f = Fields {
        new_alts: vec![String::new(); NEW_SLOTS + 1],
        ..Fields::default()
    };
    let mut count = 0;
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                cut(state, e, &mut f.refused)?;
                break;
            }
        };
        count += 1;
        if count > MAX_FIELDS {
            f.refused.push(form_too_large(state));
            break;
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "data_file" {
            if receive_data_file(state, &mut field, &mut f).await? {
                continue;
            }
            // The rest of an over-long body may be cut by the body limit: stop here with
            // what the form had so far.
            break;
        }
        let slot = image_slot(&name, "file");
        let cap = match (name.as_str(), slot) {
            (_, Some(_)) => state.config.max_image_bytes,
            ("data_text", _) => state.config.max_paste_bytes,
            ("body", _) => BODY_CAP,
            _ => SHORT_CAP,
        };
        let value = match read_capped(&mut field, cap).await {
            Ok(v) => v,
            Err(e) => {
                cut(state, e, &mut f.refused)?;
                break;
            }
        };
        if let Some(n) = slot {
            f.upload(n, value, cap);
        } else if name == "data_text" {
            f.paste(value, cap);
        } else {
            if value.over {
                f.refused.push(cut_message(&name, cap));
            }
            f.set(&name, value.text());
        }
    }
    Ok(f)
}

/// `Err` from a field read: the body limit cut the form (stop with what we have, noted in
/// `refused`) or the request is broken (400).
fn cut(state: &AppState, e: MultipartError, refused: &mut Vec<String>) -> Result<(), AppError> {
    if body_too_large(&e) {
        refused.push(form_too_large(state));
        Ok(())
    } else {
        Err(unreadable(e))
    }
}

/// The message for a form cut by the body limit of its route.
pub(super) fn form_too_large(state: &AppState) -> String {
    format!(
        "The form is larger than this site accepts (images up to {} each); what came after that point was not read.",
        human_bytes(state.config.max_image_bytes as u64)
    )
}

/// The message for a text field over its cap.
fn cut_message(name: &str, cap: usize) -> String {
    format!(
        "{} is longer than this form accepts ({}); it was cut.",
        match name {
            "title" => "The title",
            "body" => "The text",
            _ => "A field",
        },
        human_bytes(cap as u64)
    )
}

/// The slot of `file1`..`file4` (or `newalt1`..: `prefix` says which), if `name` is one.
fn image_slot(name: &str, prefix: &str) -> Option<usize> {
    name.strip_prefix(prefix)
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=NEW_SLOTS).contains(n))
}

/// Streams the attached log file to disk as it arrives (never whole in memory). Returns
/// false when the form should not be read further.
async fn receive_data_file(
    state: &AppState,
    field: &mut Field<'_>,
    f: &mut Fields,
) -> Result<bool, AppError> {
    match state
        .staging
        .receive_field(field, state.config.max_upload_bytes)
        .await
    {
        Ok(r) => f.data_file = r.or(f.data_file.take()),
        Err(UploadError::TooLarge { max }) => {
            f.data_error = Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The log file is larger than the limit of {}. Nothing was kept: cut the log (or compress it with gzip) and attach it again.",
                    human_bytes(max)
                ),
            ));
            return Ok(false);
        }
        Err(UploadError::Broken(m)) => {
            f.data_error = Some((
                StatusCode::BAD_REQUEST,
                format!("The log file could not be received: {m}"),
            ))
        }
        Err(e @ UploadError::Empty(_)) => {
            f.data_error = Some((
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{e} Attach the log again, or paste its lines."),
            ))
        }
        Err(UploadError::Internal(e)) => return Err(AppError::Internal(e)),
    }
    Ok(true)
}

impl Fields {
    /// A new image file in slot `n` (refused here when over the cap, skipped when empty).
    fn upload(&mut self, n: usize, value: Capped, cap: usize) {
        if value.over {
            self.uploads
                .push((n, Err(ImageError::TooLarge { max: cap })));
        } else if !value.bytes.is_empty() {
            self.uploads.push((n, Ok(value.bytes)));
        }
    }

    /// Pasted log lines.
    fn paste(&mut self, value: Capped, cap: usize) {
        if value.over {
            self.data_error = Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The pasted data is longer than {}: attach it as a file instead.",
                    human_bytes(cap as u64)
                ),
            ));
        } else {
            self.form.data_text = value.text();
        }
    }

    /// A text field; unknown names are ignored.
    fn set(&mut self, name: &str, value: String) {
        let form = &mut self.form;
        match name {
            "action" => self.preview = value == "preview",
            "title" => form.title = value,
            "body" => form.body = value,
            "kind" => form.gallery = PostKind::parse(&value) == PostKind::Gallery,
            "tool" => form.tool = value,
            "data_source" => form.data_source = value,
            "tags" => form.tags.push(value),
            "image" => self.images.ids.push(value),
            "data_format" => form.data_format = value,
            "data_year" => form.data_year = value,
            "data_inside" => form.data_inside = value,
            "keep_addresses" => form.keep_addresses = value == "1",
            "confirm_keep" => form.confirm_keep = value == "1",
            _ => {
                if let Some(id) = name.strip_prefix("alt_") {
                    self.images.alts.push((id.to_string(), value));
                } else if let Some(id) = name.strip_prefix("remove_") {
                    self.images.removed.push(id.to_string());
                } else if let Some(n) = image_slot(name, "newalt") {
                    self.new_alts[n] = value;
                }
            }
        }
    }
}
