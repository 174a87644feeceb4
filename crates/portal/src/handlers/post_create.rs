//! GET/POST /new — Add Post: a discussion or a gallery entry, with preview.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::post_form::{self, ValidPost};
use super::{Visit, redirect};
use crate::db::ids::{PostId, UserId};
use crate::db::{images, posts, tags};
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::PostForm;

pub async fn form(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    visit.require_user()?;
    post_form::page(
        &state,
        &visit,
        None,
        PostForm::default(),
        vec![],
        false,
        StatusCode::OK,
    )
    .await
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    post_form::check_csrf(&visit, &mut mp).await?;
    let me = visit.require_user()?;
    let sub = post_form::read(&state, me, mp, None).await?;
    if sub.has_data() {
        return super::data_upload::create(&state, &visit, sub).await;
    }
    let valid = post_form::validate(&state, &sub.form).await?;
    let too_large = !sub.refused.is_empty();
    let mut errors = sub.refused;
    errors.extend(sub.upload_errors);
    match valid {
        Err(e) => errors.extend(e),
        Ok(_) if sub.preview || !errors.is_empty() => {}
        Ok(post) => {
            if !state
                .limiter
                .take(
                    &format!("post:{}", me.id),
                    state.config.limits.posts_per_hour,
                    3600,
                )
                .await
            {
                errors.push(
                    "You have posted a lot this hour; wait a little and publish again.".into(),
                );
                return post_form::page(
                    &state,
                    &visit,
                    None,
                    sub.form,
                    errors,
                    false,
                    StatusCode::TOO_MANY_REQUESTS,
                )
                .await;
            }
            let id = save(&state, me.id, &post).await?;
            tracing::info!(event = "post_created", post = %id, user = ?me.username);
            return Ok(redirect(&format!("/p/{id}")));
        }
    }
    let status = match (errors.is_empty(), too_large, sub.upload_status) {
        (true, ..) => StatusCode::OK,
        (false, true, _) => StatusCode::PAYLOAD_TOO_LARGE,
        (false, false, Some(s)) => s,
        (false, false, None) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    post_form::page(&state, &visit, None, sub.form, errors, sub.preview, status).await
}

async fn save(state: &AppState, author: UserId, p: &ValidPost) -> Result<PostId, AppError> {
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
    let id = posts::insert(&mut tx, author, &fields, state.now()).await?;
    tags::set_for_post(&mut tx, id, &p.tags).await?;
    for (pos, img) in p.images.iter().enumerate() {
        images::attach(&mut tx, &img.id, author, id, pos as i64, &img.alt).await?;
    }
    tx.commit().await?;
    Ok(id)
}
