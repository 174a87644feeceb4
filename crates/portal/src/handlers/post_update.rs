//! GET/POST /p/{id}/edit — the author edits their post. Anyone else gets 404 (not 403), so
//! post ids of others reveal nothing.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::post_form::{self, ValidPost};
use super::{Visit, redirect};
use crate::db::ids::{PostId, UserId};
use crate::db::{images, posts, tags};
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::{FormImage, PostForm};

pub async fn form(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let id = super::id(&id)?;
    let post = posts::get(&state.db, id)
        .await?
        .filter(|p| p.author_id == me.id)
        .ok_or(AppError::NotFound)?;
    let form = PostForm {
        title: post.title,
        body: post.body,
        gallery: post.kind == "gallery",
        tool: post.tool,
        data_source: post.data_source,
        tags: tags::of_post(&state.db, id).await?,
        images: images::for_post(&state.db, id)
            .await?
            .into_iter()
            .map(|i| FormImage {
                id: i.id,
                alt: i.alt,
            })
            .collect(),
        ..PostForm::default()
    };
    post_form::page(
        &state,
        &visit,
        Some(id),
        form,
        vec![],
        false,
        StatusCode::OK,
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    post_form::check_csrf(&visit, &mut mp).await?;
    let me = visit.require_user()?;
    let id = super::id(&id)?;
    posts::get(&state.db, id)
        .await?
        .filter(|p| p.author_id == me.id)
        .ok_or(AppError::NotFound)?;
    let sub = post_form::read(&state, me, mp, Some(id)).await?;
    let too_large = !sub.refused.is_empty();
    let mut errors = sub.refused.clone();
    errors.extend(sub.upload_errors.iter().cloned());
    if sub.has_data() {
        if let Some(r) = &sub.data_file {
            state.staging.remove(&r.staging_id).await;
        }
        errors.push("Data is attached when a post is created. To show other data, remix the post or add a new one.".into());
    }
    match post_form::validate(&state, &sub.form).await? {
        Err(e) => errors.extend(e),
        Ok(_) if sub.preview || !errors.is_empty() => {}
        Ok(post) => {
            if !save(&state, id, me.id, &post).await? {
                return Err(AppError::NotFound);
            }
            return Ok(redirect(&format!("/p/{id}")));
        }
    }
    let status = match (errors.is_empty(), too_large, sub.upload_status) {
        (true, ..) => StatusCode::OK,
        (false, true, _) => StatusCode::PAYLOAD_TOO_LARGE,
        (false, false, Some(s)) => s,
        (false, false, None) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    post_form::page(
        &state,
        &visit,
        Some(id),
        sub.form,
        errors,
        sub.preview,
        status,
    )
    .await
}

async fn save(
    state: &AppState,
    id: PostId,
    author: UserId,
    p: &ValidPost,
) -> Result<bool, AppError> {
    let body_html = markdown::render(p.body.as_str());
    let teaser = markdown::plain_excerpt(p.body.as_str(), 280);
    let fields = posts::PostFields {
        kind: p.kind.as_str(),
        title: p.title.as_str(),
        body: p.body.as_str(),
        body_html: &body_html,
        teaser: &teaser,
        tool: &p.tool,
        data_source: &p.data_source,
    };
    let mut tx = state.db.pool.begin().await?;
    if !posts::update(&mut tx, id, author, &fields, state.now()).await? {
        return Ok(false);
    }
    tags::set_for_post(&mut tx, id, &p.tags).await?;
    let keep: Vec<String> = p.images.iter().map(|i| i.id.clone()).collect();
    let removed = images::detach_others(&mut tx, id, author, &keep).await?;
    for (pos, img) in p.images.iter().enumerate() {
        images::attach(&mut tx, &img.id, author, id, pos as i64, &img.alt).await?;
    }
    tx.commit().await?;
    for r in removed {
        state.images.remove(&r).await;
    }
    Ok(true)
}
