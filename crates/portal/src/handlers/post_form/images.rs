//! The post form's images: those uploaded before (kept only when they are the member's own
//! drafts or this post's, with their alt texts, unless removed) and new files (rate-limited,
//! decoded and re-encoded off the async threads, stored as drafts of the member). A refused
//! image keeps its alt text for the form and says why.

use axum::http::StatusCode;

use super::fields::AttachedImages;
use crate::db::ids::PostId;
use crate::db::images as image_rows;
use crate::error::AppError;
use crate::images::{self, ImageError};
use crate::state::AppState;
use crate::views::{FormImage, PostForm};
use crate::web::CurrentUser;

/// Adds the images already uploaded that the form still lists to `form.images`, and deletes
/// the member's draft images the form removed.
pub(super) async fn keep_attached(
    state: &AppState,
    me: &CurrentUser,
    post_id: Option<PostId>,
    form: &mut PostForm,
    attached: AttachedImages,
) -> Result<(), AppError> {
    // Only the member's own drafts or this post's images count.
    for id in attached
        .ids
        .into_iter()
        .take(state.config.max_images_per_post * 2)
    {
        if !images::valid_id(&id) || form.images.iter().any(|i| i.id == id) {
            continue;
        }
        let Some(row) = image_rows::get_attachable(&state.db, &id, me.id, post_id).await? else {
            continue;
        };
        if attached.removed.contains(&id) {
            if row.post_id.is_none() && image_rows::delete_draft(&state.db, &id, me.id).await? {
                state.images.remove(&id).await;
            }
            continue;
        }
        let alt = attached
            .alts
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, a)| a.clone())
            .unwrap_or(row.alt);
        form.images.push(FormImage { id, alt });
    }
    Ok(())
}

/// What became of the new image files: problems, and the status the first one calls for
/// (413, 415, 422, 429).
pub(super) struct Stored {
    pub errors: Vec<String>,
    pub status: Option<StatusCode>,
}

/// Processes and stores the new image files as drafts of `me`, adding them to `form.images`.
pub(super) async fn store_new(
    state: &AppState,
    me: &CurrentUser,
    form: &mut PostForm,
    uploads: Vec<(usize, Result<Vec<u8>, ImageError>)>,
    new_alts: &[String],
) -> Result<Stored, AppError> {
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
                if !state
                    .limiter
                    .take(
                        &format!("upload:{}", me.id),
                        state.config.limits.uploads_per_hour,
                        3600,
                    )
                    .await
                {
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
    Ok(Stored {
        errors: upload_errors,
        status: upload_status,
    })
}
