//! Read-only share links of a dashboard: POST /dash/{id}/shares (make one: shown once),
//! POST /dash/{id}/shares/{sid}/revoke; and what a link shows without a login:
//! GET /s/{token} (the big screen; `?rotate=TOKEN,TOKEN&every=S` rotates through other
//! links), /s/{token}/panels (the refresh) and /s/{token}/panels/{n}.svg (a view panel's
//! drawing). A link shows the dashboard, not the dataset: its screen has no drill-down to
//! the events.
//!
//! A link reads `<id>_<secret>`: the id finds the row, the secret is checked against its
//! SHA-256 in constant time. A wrong, revoked or unknown link is a 404 like any missing page.
//! What a link shows is computed once per interval for all its viewers (`dashboard`), so
//! passing a link around does not multiply the work.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::dashboard_show::{Extras, PictureQuery, ScreenQuery, load, page, screen_response};
use super::{Visit, redirect};
use crate::auth;
use crate::dashboard::show::{self, Loaded};
use crate::db::dashboards;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
}

pub async fn create(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<ShareForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let d = load(&state, &visit, &raw).await?;
    if d.row.owner_id != me.id {
        return Err(AppError::NotFound);
    }
    let label = f.label.trim();
    let mut errors = Vec::new();
    if label.is_empty() || label.chars().count() > 64 {
        errors.push("Name the link in 1 to 64 characters (where it is shown).".to_string());
    }
    if dashboards::share_count(&state.db, d.row.id).await? >= dashboards::MAX_SHARES {
        errors.push(format!(
            "This dashboard has {} share links; revoke one first.",
            dashboards::MAX_SHARES
        ));
    }
    if !errors.is_empty() {
        let extras = Extras {
            errors,
            share_label: f.label.clone(),
            ..Extras::default()
        };
        return page(&state, &visit, &d, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let id = hex::encode(rand::random::<[u8; 8]>());
    let secret = auth::new_token();
    dashboards::insert_share(
        &state.db,
        &id,
        d.row.id,
        label,
        &auth::token_hash(&secret),
        state.clock.now(),
    )
    .await?;
    tracing::info!(target: "security", event = "dashboard_share_created", share = %id, dashboard = %d.row.id);
    let link = format!("{}/s/{id}_{secret}", state.public_url());
    let extras = Extras {
        notice: Some("Share link made.".into()),
        new_share: Some(link),
        ..Extras::default()
    };
    page(&state, &visit, &d, extras, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    visit: Visit,
    Path((raw, sid)): Path<(String, String)>,
    Form(f): Form<RevokeForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let d = load(&state, &visit, &raw).await?;
    if !dashboards::revoke_share(&state.db, d.row.id, me.id, &sid, state.clock.now()).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(target: "security", event = "dashboard_share_revoked", share = %sid, dashboard = %d.row.id);
    Ok(redirect(&format!("/dash/{}", d.row.id)))
}

/// The dashboard a share link shows, if the link is live.
async fn shared(state: &AppState, token: &str) -> Result<Loaded, AppError> {
    let (id, secret) = token.split_once('_').ok_or(AppError::NotFound)?;
    if id.len() != 16 || secret.len() > 128 {
        return Err(AppError::NotFound);
    }
    let share = dashboards::get_share(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if share.revoked_at.is_some() || !auth::same(&auth::token_hash(secret), &share.secret_hash) {
        return Err(AppError::NotFound);
    }
    let row = dashboards::get(&state.db, share.dashboard_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Loaded::new(row)
}

pub async fn screen(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<ScreenQuery>,
) -> Result<Response, AppError> {
    let first = shared(&state, &token).await?;
    let (others, every) = show::rotation(q.rotate.as_deref(), q.every.as_deref());
    let mut boards = vec![show::board(&state, &first, &format!("/s/{token}"), false).await?];
    for o in others {
        if let Ok(d) = shared(&state, &o).await {
            boards.push(show::board(&state, &d, &format!("/s/{o}"), false).await?);
        }
    }
    screen_response(boards, every)
}

pub async fn panels(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = shared(&state, &token).await?;
    show::panels_json(&state, &d, &format!("/s/{token}"), false, &headers).await
}

pub async fn picture(
    State(state): State<AppState>,
    Path((token, file)): Path<(String, String)>,
    Query(q): Query<PictureQuery>,
) -> Result<Response, AppError> {
    let d = shared(&state, &token).await?;
    show::picture(&state, &d, &file, q.theme == "dark").await
}
