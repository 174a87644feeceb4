//! GET / — the newest posts, the sign-up box for visitors, and how to start an empty site.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{PageQuery, Visit, render};
use crate::db::posts::Listing;
use crate::db::users;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, IndexPage, Paging};

pub const PER_PAGE: i64 = 10;

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page = q.page();
    let cards = crate::reads::cards(&state, Listing::All, page, PER_PAGE).await?;
    let no_members = cards.posts.is_empty() && page == 1 && users::count(&state.db).await? == 0;
    let tpl = IndexPage {
        chrome: Chrome::new(&visit),
        paging: Paging {
            base: "/".into(),
            page,
            has_next: cards.has_next,
        },
        cards,
        tags: crate::reads::tag_slugs(&state).await?.to_vec(),
        no_members,
    };
    render(StatusCode::OK, &tpl)
}
