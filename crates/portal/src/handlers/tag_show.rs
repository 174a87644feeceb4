//! GET /t/{slug} — posts with one tag.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{PageQuery, Visit, render};
use crate::db::posts::Listing;
use crate::db::tags;
use crate::domain::TagSlug;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, Paging, TagPage};

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let slug = TagSlug::parse(&slug).map_err(|_| AppError::NotFound)?;
    let tag = tags::get(&state.db, slug.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let page = q.page();
    let cards = crate::reads::cards(
        &state,
        Listing::Tag(slug.as_str()),
        page,
        super::home::PER_PAGE,
    )
    .await?;
    let tpl = TagPage {
        chrome: Chrome::new(&visit),
        slug: tag.slug.clone(),
        description: tag.description,
        paging: Paging {
            base: format!("/t/{}", tag.slug),
            page,
            has_next: cards.has_next,
        },
        cards,
    };
    render(StatusCode::OK, &tpl)
}
