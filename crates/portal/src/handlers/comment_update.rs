//! GET/POST /c/{id}/edit — the author edits their comment; others get 404.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect, render};
use crate::db::comments;
use crate::domain::CommentBody;
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::{Chrome, CommentEditPage};

#[derive(Deserialize)]
pub struct EditComment {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

pub async fn form(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .filter(|c| c.author_id == me.id && c.deleted == 0)
        .ok_or(AppError::NotFound)?;
    render(
        StatusCode::OK,
        &CommentEditPage {
            chrome: Chrome::new(&visit),
            id: c.id,
            post_id: c.post_id,
            body: c.body,
            error: None,
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<EditComment>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .filter(|c| c.author_id == me.id && c.deleted == 0)
        .ok_or(AppError::NotFound)?;
    let body = match CommentBody::parse(&f.body) {
        Ok(b) => b,
        Err(e) => {
            let tpl = CommentEditPage {
                chrome: Chrome::new(&visit),
                id: c.id,
                post_id: c.post_id,
                body: f.body,
                error: Some(e.0),
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &tpl);
        }
    };
    let html = markdown::render(body.as_str());
    if !comments::update(&state.db, c.id, me.id, body.as_str(), &html, state.now()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect(&format!("/p/{}#c{}", c.post_id, c.id)))
}
