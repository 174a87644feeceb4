//! The Add/Edit Post form: reading the multipart body, storing new uploads as draft images,
//! streaming an attached log file to the staging folder (issue 7), validating everything,
//! and the page that shows the form again. A form that fails keeps all it had: text,
//! choices, and images already uploaded (as drafts, listed by id).

use axum::extract::Multipart;
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

fn unreadable(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("The form could not be read: {}", e.body_text()))
}

/// Checks the CSRF token, which must be the first field, so a forged request is refused
/// before any file is read and before anything else is decided.
pub async fn check_csrf(v: &Visitor, mp: &mut Multipart) -> Result<(), AppError> {
    let first = mp
        .next_field()
        .await
        .map_err(unreadable)?
        .ok_or(AppError::Csrf)?;
    if first.name() != Some("csrf") {
        return Err(AppError::Csrf);
    }
    v.verify_csrf(&first.text().await.map_err(unreadable)?)
}

/// Reads the rest of the form (after [`check_csrf`]), storing new uploads as drafts of `me`.
pub async fn read(
    state: &AppState,
    me: &CurrentUser,
    mut mp: Multipart,
    post_id: Option<i64>,
) -> Result<Submission, AppError> {
    let bad = unreadable;
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
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
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
        if name == "data_text" {
            let max = state.config.max_paste_bytes;
            let mut text = Vec::new();
            let mut too_big = false;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if text.len() + chunk.len() > max {
                    too_big = true;
                } else if !too_big {
                    text.extend_from_slice(&chunk);
                }
            }
            if too_big {
                data_error = Some((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "The pasted data is longer than {}: attach it as a file instead.",
                        human_bytes(max as u64)
                    ),
                ));
            } else {
                form.data_text = String::from_utf8_lossy(&text).into_owned();
            }
            continue;
        }
        if let Some(n) = name
            .strip_prefix("file")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=NEW_SLOTS).contains(n))
        {
            // Count every byte, keep at most `max`: bounded memory whatever is sent.
            let mut data = Vec::new();
            let mut too_big = false;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                if data.len() + chunk.len() > max {
                    too_big = true;
                    data = Vec::new();
                } else if !too_big {
                    data.extend_from_slice(&chunk);
                }
            }
            if too_big {
                uploads.push((n, Err(ImageError::TooLarge { max })));
            } else if !data.is_empty() {
                uploads.push((n, Ok(data)));
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
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
    })
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
