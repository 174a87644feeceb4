//! Checking a submitted post form: every problem at once, as messages for the form.

use crate::db::tags;
use crate::domain::{PostBody, PostKind, TagSlug, Title, short_text};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{FormImage, PostForm};

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
