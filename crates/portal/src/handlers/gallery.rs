//! GET /gallery — thumbnails of gallery entries, newest first, optionally one tag.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{PageQuery, Visit, render};
use crate::db::posts::Listing;
use crate::domain::TagSlug;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, GalleryPage, Paging};

pub const PER_PAGE: i64 = 24;

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let tag = match q.tag.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(TagSlug::parse(t).map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let page = q.page();
    let which = match &tag {
        Some(t) => Listing::GalleryTag(t.as_str()),
        None => Listing::Gallery,
    };
    let cards = crate::reads::cards(&state, which, page, PER_PAGE).await?;
    let base = match &tag {
        Some(t) => format!("/gallery?tag={}", t.as_str()),
        None => "/gallery".into(),
    };
    let tpl = GalleryPage {
        chrome: Chrome::new(&visit),
        paging: Paging {
            base,
            page,
            has_next: cards.has_next,
        },
        cards,
        tags: crate::reads::tag_slugs(&state).await?.to_vec(),
        tag: tag.map(|t| t.as_str().to_string()),
    };
    render(StatusCode::OK, &tpl)
}
