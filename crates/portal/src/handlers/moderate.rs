//! POST /p/{id}/hide|unhide and /c/{id}/hide|unhide — moderators (and admins) hide content
//! with a reason that the public moderation log shows. Hiding a data post withdraws its data
//! from the public, remixes included; unhiding restores it (`data::withdraw`).

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect};
use crate::db::modlog::Target;
use crate::db::{comments, modlog, posts};
use crate::domain::short_text;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::CurrentUser;

/// A form whose only field is the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Checks token and role; returns the moderator and the reason.
fn authorise<'a>(visit: &'a Visit, f: &ReasonForm) -> Result<(&'a CurrentUser, String), AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    if !me.role.can_moderate() {
        tracing::warn!(target: "security", event = "forbidden", what = "moderate", user = ?me.username);
        return Err(AppError::Forbidden);
    }
    let reason = short_text(&f.reason, 300, "A reason").map_err(|e| AppError::BadRequest(e.0))?;
    if reason.is_empty() {
        return Err(AppError::BadRequest(
            "Moderation needs a reason; it is shown in the public log.".into(),
        ));
    }
    Ok((me, reason))
}

pub async fn hide_post(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let (me, reason) = authorise(&visit, &f)?;
    let id = super::id(&id)?;
    if !posts::set_hidden(&state.db, id, Some(&reason)).await? {
        return Err(AppError::NotFound);
    }
    modlog::record(
        &state.db,
        me.id,
        "hid",
        Target::Post(id),
        &reason,
        state.now(),
    )
    .await?;
    crate::data::withdraw::post_hidden(&state, id).await?;
    tracing::info!(target: "security", event = "moderation", action = "hide_post", post = %id, moderator = ?me.username);
    Ok(redirect(&format!("/p/{id}")))
}

pub async fn unhide_post(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let (me, reason) = authorise(&visit, &f)?;
    let id = super::id(&id)?;
    if !posts::set_hidden(&state.db, id, None).await? {
        return Err(AppError::NotFound);
    }
    modlog::record(
        &state.db,
        me.id,
        "restored",
        Target::Post(id),
        &reason,
        state.now(),
    )
    .await?;
    Ok(redirect(&format!("/p/{id}")))
}

pub async fn hide_comment(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let (me, reason) = authorise(&visit, &f)?;
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    comments::set_hidden(&state.db, c.id, Some(&reason)).await?;
    modlog::record(
        &state.db,
        me.id,
        "hid",
        Target::Comment(c.id),
        &reason,
        state.now(),
    )
    .await?;
    tracing::info!(target: "security", event = "moderation", action = "hide_comment", comment = %c.id, moderator = ?me.username);
    Ok(redirect(&format!("/p/{}#c{}", c.post_id, c.id)))
}

pub async fn unhide_comment(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let (me, reason) = authorise(&visit, &f)?;
    let c = comments::get(&state.db, super::id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    comments::set_hidden(&state.db, c.id, None).await?;
    modlog::record(
        &state.db,
        me.id,
        "restored",
        Target::Comment(c.id),
        &reason,
        state.now(),
    )
    .await?;
    Ok(redirect(&format!("/p/{}#c{}", c.post_id, c.id)))
}
