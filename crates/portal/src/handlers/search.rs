//! GET /search?q= — full-text search over visible posts and comments.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, render};
use crate::clock::day;
use crate::db::search::{self, Hit};
use crate::error::AppError;
use crate::markdown;
use crate::state::AppState;
use crate::views::{Chrome, HitView, SearchPage};

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Query(sq): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let q: String = sq.q.chars().filter(|c| !c.is_control()).take(200).collect();
    let q = q.trim().to_string();
    let (posts, comments) = if q.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            search::posts(&state.db, &q, 25).await?,
            search::comments(&state.db, &q, 25).await?,
        )
    };
    let view = |h: Hit| HitView {
        url: match h.comment_id {
            Some(c) => format!("/p/{}#c{c}", h.post_id),
            None => format!("/p/{}", h.post_id),
        },
        title: h.title,
        excerpt: markdown::plain_excerpt(&h.body, 200),
        author: h.author,
        date: day(h.created_at),
    };
    let tpl = SearchPage {
        chrome: Chrome::new(&visit),
        posts: posts.into_iter().map(view).collect(),
        comments: comments.into_iter().map(view).collect(),
        q,
    };
    render(StatusCode::OK, &tpl)
}
