//! `GET /drafts`: the member's drafts, with the state of each one's data.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::clock::day;
use crate::db::{datasets, drafts};
use crate::error::AppError;
use crate::handlers::{Visit, render};
use crate::state::AppState;
use crate::views::{Chrome, DraftCard, DraftsPage};

pub async fn list(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let mut cards = Vec::new();
    for d in drafts::of_owner(&state.db, me.id).await? {
        let status = match d.dataset_id.as_deref() {
            Some(ds) => datasets::get(&state.db, ds)
                .await?
                .map(|r| r.status.as_str().to_string())
                .unwrap_or_else(|| "no data".into()),
            None => "no data".into(),
        };
        cards.push(DraftCard {
            id: d.id,
            title: if d.title.trim().is_empty() {
                format!("Draft {}", d.id)
            } else {
                d.title
            },
            status,
            date: day(d.updated_at),
        });
    }
    render(
        StatusCode::OK,
        &DraftsPage {
            chrome: Chrome::new(&visit),
            drafts: cards,
        },
    )
}
