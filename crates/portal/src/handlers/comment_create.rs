//! POST /p/{id}/comments — a comment or a reply (one level: a reply to a reply joins the
//! top-level thread). A failed comment shows the post again with the text kept.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect};
use crate::db::{comments, posts};
use crate::domain::CommentBody;
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::CommentForm;

#[derive(Deserialize)]
pub struct NewComment {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    parent: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<NewComment>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let post_id = super::id(&id)?;
    let post = posts::get(&state.db, post_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if post.hidden_reason.is_some() && post.author_id != me.id && !visit.can_moderate() {
        return Err(AppError::NotFound);
    }
    let parent = match f.parent.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => {
            let c = comments::get(&state.db, super::id(p)?)
                .await?
                .filter(|c| c.post_id == post_id)
                .ok_or(AppError::NotFound)?;
            Some(c.parent_id.unwrap_or(c.id))
        }
    };
    let keep = |error: String| CommentForm {
        body: f.body.clone(),
        parent,
        error: Some(error),
    };
    let body = match CommentBody::parse(&f.body) {
        Ok(b) => b,
        Err(e) => {
            return super::post_show::page(
                &state,
                &visit,
                post_id,
                keep(e.0),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    if !state
        .limiter
        .take(
            &format!("comment:{}", me.id),
            state.config.limits.comments_per_10_minutes,
            600,
        )
        .await
    {
        let msg = "You are commenting very fast; wait a few minutes and send again.".to_string();
        return super::post_show::page(
            &state,
            &visit,
            post_id,
            keep(msg),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let html = markdown::render(body.as_str());
    let cid = comments::insert(
        &state.db,
        post_id,
        me.id,
        parent,
        body.as_str(),
        &html,
        state.now(),
    )
    .await?;
    Ok(redirect(&format!("/p/{post_id}#c{cid}")))
}
