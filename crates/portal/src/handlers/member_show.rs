//! GET /u/{name} — a member's posts and recent comments.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::clock::day;
use crate::db::posts::Listing;
use crate::db::{comments, users};
use crate::domain::Username;
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::{Chrome, MemberCommentView, MemberPage};

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let name = Username::parse(&name).map_err(|_| AppError::NotFound)?;
    let user = users::find_by_name(&state.db, name.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let cards = crate::reads::cards(&state, Listing::Author(user.id), 1, 20).await?;
    let comments = comments::by_author(&state.db, user.id, 20)
        .await?
        .into_iter()
        .map(|c| MemberCommentView {
            post_id: c.post_id,
            comment_id: c.id,
            post_title: c.post_title,
            excerpt: markdown::plain_excerpt(&c.body, 140),
            date: day(c.created_at),
        })
        .collect();
    let tpl = MemberPage {
        chrome: Chrome::new(&visit),
        role: user.role().as_str().to_string(),
        joined: day(user.created_at),
        name: user.username,
        cards,
        comments,
    };
    render(StatusCode::OK, &tpl)
}
