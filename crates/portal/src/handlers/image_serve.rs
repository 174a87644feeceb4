//! GET /img/{id}, /img/{id}/thumb and /img/{id}/thumb-dark — uploaded images, re-encoded at upload, served with the
//! stored fixed type, `nosniff` and a sandboxing CSP. A draft upload (not yet in a post) is
//! visible only to its owner; an image of a hidden post only to its author and moderators; a
//! data post's thumbnail only to those who may read its dataset (none once it is withdrawn).
//! Everyone else gets 404, as if it did not exist.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Visit;
use crate::data::policy::{may_see_thumbnail, reader_of};
use crate::db::{images, posts};
use crate::error::AppError;
use crate::images::valid_id;
use crate::state::AppState;
use crate::web::Visitor;
use crate::web::headers::UPLOAD_CSP;

/// Which file of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Full,
    Thumb,
    /// The thumbnail for dark pages (data posts draw one; others serve their thumbnail).
    ThumbDark,
}

pub async fn full(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(&state, &visit, &id, Variant::Full).await
}

pub async fn thumb(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(&state, &visit, &id, Variant::Thumb).await
}

pub async fn thumb_dark(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    serve(&state, &visit, &id, Variant::ThumbDark).await
}

async fn serve(
    state: &AppState,
    v: &Visitor,
    id: &str,
    variant: Variant,
) -> Result<Response, AppError> {
    if !valid_id(id) {
        return Err(AppError::NotFound);
    }
    let img = images::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let me = v.user.as_ref().map(|u| u.id);
    // A thumbnail drawn from data: never kept by shared caches, and asked for again each
    // time, so a withdrawal holds at once.
    let mut drawn_from_data = false;
    let public = match img.post_id {
        None => {
            if me != Some(img.owner_id) {
                return Err(AppError::NotFound);
            }
            false
        }
        Some(pid) => {
            let post = posts::get(&state.db, pid)
                .await?
                .ok_or(AppError::NotFound)?;
            if post.hidden_reason.is_some() && me != Some(post.author_id) && !v.can_moderate() {
                return Err(AppError::NotFound);
            }
            match may_see_thumbnail(&state.db, pid, id, reader_of(v)).await? {
                Some(false) => return Err(AppError::NotFound),
                Some(true) => drawn_from_data = true,
                None => {}
            }
            post.hidden_reason.is_none()
        }
    };
    let read = match variant {
        Variant::Full => state.images.read(id, false).await,
        Variant::Thumb => state.images.read(id, true).await,
        Variant::ThumbDark => state.images.read_dark_thumb(id).await,
    };
    let bytes = match read {
        Ok(Some(b)) => b,
        Ok(None) => return Err(AppError::NotFound),
        Err(e) => return Err(e.context("reading an image").into()),
    };
    let mime = match img.mime.as_str() {
        "image/jpeg" => "image/jpeg",
        _ => "image/png",
    };
    let ext = if mime == "image/jpeg" { "jpg" } else { "png" };
    let disposition = format!("inline; filename=\"{id}.{ext}\"");
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(UPLOAD_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match (public, drawn_from_data) {
            (true, false) => "public, max-age=86400",
            (true, true) => "private, no-cache",
            (false, _) => "private, no-store",
        }),
    );
    Ok(resp)
}
