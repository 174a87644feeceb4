//! The Add/Edit Post form: reading the multipart body, storing new uploads as draft images,
//! streaming an attached log file to the staging folder (issue 7), validating everything,
//! and the page that shows the form again. A form that fails keeps all it had: text,
//! choices, and images already uploaded (as drafts, listed by id).

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;
use axum::response::Response;

use super::render;
use crate::data::upload::{Received, UploadError, human_bytes};
use crate::db::{images as image_rows, tags};
use crate::domain::{PostBody, PostKind, TagSlug, Title, short_text};
use crate::error::AppError;
use crate::images::{self, ImageError};
use crate::markdown;
use crate::state::AppState;
use crate::views::{Chrome, DataChoices, FormImage, PostForm, PostFormPage, TagChoice};
use crate::web::form_fields::{body_too_large, read_capped};
use crate::web::{CurrentUser, Visitor};

/// File inputs for new images on one form.
pub const NEW_SLOTS: usize = 4;

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

/// A post that passed validation.
pub struct ValidPost {
    pub kind: PostKind,
    pub title: Title,
    pub body: PostBody,
    pub tool: String,
    pub data_source: String,
    pub tags: Vec<TagSlug>,
    pub images: Vec<FormImage>,
}

fn unreadable(e: MultipartError) -> AppError {
    AppError::BadRequest(format!("The form could not be read: {}", e.body_text()))
}

/// Bytes kept of the post text: 100,000 characters of up to four bytes.
const BODY_CAP: usize = 4 * PostBody::MAX;
/// Bytes kept of any other text field (titles, alt texts, choices, ids are all short).
const SHORT_CAP: usize = 4096;
/// Fields read from one form; a browser sends a few dozen.
const MAX_FIELDS: usize = 512;

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
    mut mp: Multipart,
    post_id: Option<i64>,
) -> Result<Submission, AppError> {
    let max = state.config.max_image_bytes;
    let mut form = PostForm::default();
    let mut preview = false;
    let mut existing: Vec<String> = Vec::new();
    let mut alts: Vec<(String, String)> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut uploads: Vec<(usize, Result<Vec<u8>, ImageError>)> = Vec::new();
    let mut new_alts = vec![String::new(); NEW_SLOTS + 1];
    let mut data_file = None;
    let mut data_error = None;
    let mut refused = Vec::new();
    let mut fields = 0;
    // `Err` from a field read: the body limit cut the form (stop with what we have) or the
    // request is broken (400).
    let cut = |e: MultipartError, refused: &mut Vec<String>| {
        if body_too_large(&e) {
            refused.push(form_too_large(state));
            Ok(())
        } else {
            Err(unreadable(e))
        }
    };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                cut(e, &mut refused)?;
                break;
            }
        };
        fields += 1;
        if fields > MAX_FIELDS {
            refused.push(form_too_large(state));
            break;
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "data_file" {
            // Streamed to disk as it arrives: never whole in memory.
            match state
                .staging
                .receive_field(&mut field, state.config.max_upload_bytes)
                .await
            {
                Ok(r) => data_file = r.or(data_file),
                Err(UploadError::TooLarge { max }) => {
                    data_error = Some((
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "The log file is larger than the limit of {}. Nothing was kept: cut the log (or compress it with gzip) and attach it again.",
                            human_bytes(max)
                        ),
                    ));
                    // The rest of an over-long body may be cut by the body limit: stop here
                    // with what the form had so far.
                    break;
                }
                Err(UploadError::Broken(m)) => {
                    data_error = Some((
                        StatusCode::BAD_REQUEST,
                        format!("The log file could not be received: {m}"),
                    ))
                }
                Err(UploadError::Internal(e)) => return Err(AppError::Internal(e)),
            }
            continue;
        }
        let slot = name
            .strip_prefix("file")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=NEW_SLOTS).contains(n));
        let cap = match (name.as_str(), slot) {
            (_, Some(_)) => max,
            ("data_text", _) => state.config.max_paste_bytes,
            ("body", _) => BODY_CAP,
            _ => SHORT_CAP,
        };
        let value = match read_capped(&mut field, cap).await {
            Ok(v) => v,
            Err(e) => {
                cut(e, &mut refused)?;
                break;
            }
        };
        if let Some(n) = slot {
            if value.over {
                uploads.push((n, Err(ImageError::TooLarge { max })));
            } else if !value.bytes.is_empty() {
                uploads.push((n, Ok(value.bytes)));
            }
            continue;
        }
        if name == "data_text" {
            if value.over {
                data_error = Some((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The pasted data is longer than {}: attach it as a file instead.",
                        human_bytes(cap as u64)
                    ),
                ));
            } else {
                form.data_text = value.text();
            }
            continue;
        }
        if value.over {
            refused.push(format!(
                "{} is longer than this form accepts ({}); it was cut.",
                match name.as_str() {
                    "title" => "The title",
                    "body" => "The text",
                    _ => "A field",
                },
                human_bytes(cap as u64)
            ));
        }
        let value = value.text();
        match name.as_str() {
            "action" => preview = value == "preview",
            "title" => form.title = value,
            "body" => form.body = value,
            "kind" => form.gallery = PostKind::parse(&value) == PostKind::Gallery,
            "tool" => form.tool = value,
            "data_source" => form.data_source = value,
            "tags" => form.tags.push(value),
            "image" => existing.push(value),
            "data_format" => form.data_format = value,
            "data_year" => form.data_year = value,
            "keep_addresses" => form.keep_addresses = value == "1",
            "confirm_keep" => form.confirm_keep = value == "1",
            _ => {
                if let Some(id) = name.strip_prefix("alt_") {
                    alts.push((id.to_string(), value));
                } else if let Some(id) = name.strip_prefix("remove_") {
                    removed.push(id.to_string());
                } else if let Some(n) = name
                    .strip_prefix("newalt")
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| (1..=NEW_SLOTS).contains(n))
                {
                    new_alts[n] = value;
                }
            }
        }
    }

    // Images already uploaded: only the member's own drafts or this post's images count.
    for id in existing
        .into_iter()
        .take(state.config.max_images_per_post * 2)
    {
        if !images::valid_id(&id) || form.images.iter().any(|i| i.id == id) {
            continue;
        }
        let Some(row) = image_rows::get_attachable(&state.db, &id, me.id, post_id).await? else {
            continue;
        };
        if removed.contains(&id) {
            if row.post_id.is_none() && image_rows::delete_draft(&state.db, &id, me.id).await? {
                state.images.remove(&id).await;
            }
            continue;
        }
        let alt = alts
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, a)| a.clone())
            .unwrap_or(row.alt);
        form.images.push(FormImage { id, alt });
    }

    let mut upload_errors = Vec::new();
    let mut upload_status = None;
    for (slot, data) in uploads {
        // Kept for the form when the image is refused.
        let mut keep_alt = || {
            let alt = new_alts[slot].trim();
            if !alt.is_empty() {
                form.pending_alts.push(alt.to_string());
            }
        };
        let processed = match data {
            Ok(bytes) => {
                if !state.limiter.take(
                    &format!("upload:{}", me.id),
                    state.config.limits.uploads_per_hour,
                    3600,
                ) {
                    upload_errors.push(format!(
                        "Image {slot}: too many uploads this hour; try again later."
                    ));
                    upload_status.get_or_insert(StatusCode::TOO_MANY_REQUESTS);
                    keep_alt();
                    continue;
                }
                let limits = state.image_limits();
                tokio::task::spawn_blocking(move || images::process(&bytes, limits))
                    .await
                    .map_err(|e| anyhow::anyhow!("image worker: {e}"))?
            }
            Err(e) => Err(e),
        };
        match processed {
            Ok(p) => {
                let id = images::new_id();
                state.images.save(&id, &p).await?;
                let alt = new_alts[slot].trim().to_string();
                image_rows::insert(
                    &state.db,
                    &id,
                    me.id,
                    &alt,
                    p.mime,
                    p.width,
                    p.height,
                    state.now(),
                )
                .await?;
                form.images.push(FormImage { id, alt });
            }
            Err(e) => {
                keep_alt();
                tracing::info!(target: "security", event = "upload_refused", user = ?me.username, reason = %e);
                upload_status.get_or_insert(match e {
                    ImageError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    ImageError::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                });
                upload_errors.push(format!("Image {slot}: {e}"));
            }
        }
    }
    Ok(Submission {
        preview,
        form,
        upload_errors,
        upload_status,
        data_file,
        data_error,
        refused,
    })
}

/// The message for a form cut by the body limit of its route.
fn form_too_large(state: &AppState) -> String {
    format!(
        "The form is larger than this site accepts (images up to {} each); what came after that point was not read.",
        human_bytes(state.config.max_image_bytes as u64)
    )
}

/// Checks every field; returns all problems at once.
pub async fn validate(
    state: &AppState,
    form: &PostForm,
) -> Result<Result<ValidPost, Vec<String>>, AppError> {
    let mut errors = Vec::new();
    let title = Title::parse(&form.title).map_err(|e| errors.push(e.0)).ok();
    let body = PostBody::parse(&form.body)
        .map_err(|e| errors.push(e.0))
        .ok();
    let kind = if form.gallery {
        PostKind::Gallery
    } else {
        PostKind::Discussion
    };
    let tool = short_text(&form.tool, 120, "Tool")
        .map_err(|e| errors.push(e.0))
        .unwrap_or_default();
    let data_source = short_text(&form.data_source, 120, "Data source")
        .map_err(|e| errors.push(e.0))
        .unwrap_or_default();
    if kind == PostKind::Gallery {
        if form.images.is_empty() {
            errors.push("A gallery entry needs at least one image.".into());
        }
        if tool.is_empty() {
            errors.push("A gallery entry names the tool that made the picture.".into());
        }
        if data_source.is_empty() {
            errors.push("A gallery entry names its data source.".into());
        }
    }
    let curated = tags::list(&state.db).await?;
    let mut chosen = Vec::new();
    for t in &form.tags {
        match TagSlug::parse(t) {
            Ok(s) if curated.iter().any(|c| c.slug == s.as_str()) => {
                if !chosen.contains(&s) {
                    chosen.push(s)
                }
            }
            _ => errors.push("Choose tags from the list.".into()),
        }
    }
    let mut images = Vec::new();
    for (n, i) in form.images.iter().enumerate() {
        match short_text(&i.alt, 300, "Alt text") {
            Ok(a) if !a.is_empty() => images.push(FormImage {
                id: i.id.clone(),
                alt: a,
            }),
            Ok(_) => errors.push(format!(
                "Image {} needs alt text: describe what it shows for readers who cannot see it.",
                n + 1
            )),
            Err(e) => errors.push(e.0),
        }
    }
    if form.images.len() > state.config.max_images_per_post {
        errors.push(format!(
            "A post has at most {} images.",
            state.config.max_images_per_post
        ));
    }
    Ok(match (title, body, errors.is_empty()) {
        (Some(title), Some(body), true) => Ok(ValidPost {
            kind,
            title,
            body,
            tool,
            data_source,
            tags: chosen,
            images,
        }),
        _ => Err(errors),
    })
}

/// The form page, with errors or a preview.
pub async fn page(
    state: &AppState,
    v: &Visitor,
    editing: Option<i64>,
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
