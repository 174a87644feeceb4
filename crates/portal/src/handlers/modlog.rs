//! GET /modlog — the public moderation log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::clock::day;
use crate::db::modlog;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, ModlogPage, ModlogView};

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    let entries = modlog::recent(&state.db, 200)
        .await?
        .into_iter()
        .map(|e| ModlogView {
            target_url: if e.target_kind == "post" {
                format!("/p/{}", e.target_id)
            } else {
                format!("/c/{}", e.target_id)
            },
            target: format!("{} #{}", e.target_kind, e.target_id),
            moderator: e.moderator,
            action: e.action,
            reason: e.reason,
            date: day(e.created_at),
        })
        .collect();
    render(
        StatusCode::OK,
        &ModlogPage {
            chrome: Chrome::new(&visit),
            entries,
        },
    )
}
