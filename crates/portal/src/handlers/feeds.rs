//! Atom feeds: the site, one tag, one member. Entries carry the sanitised HTML of each post
//! (escaped once more by the XML template) and absolute links built from the configured
//! public URL, never from the request's Host header.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::clock::rfc3339;
use crate::db::posts::{self, Listing};
use crate::db::{tags, users};
use crate::domain::{TagSlug, Username};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Feed, FeedEntry};

const ENTRIES: i64 = 20;

pub async fn site(State(state): State<AppState>) -> Result<Response, AppError> {
    build(
        &state,
        Listing::All,
        "secviz: newest posts".into(),
        "/feed.atom",
        "/",
    )
    .await
}

pub async fn tag(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let slug = TagSlug::parse(&slug).map_err(|_| AppError::NotFound)?;
    tags::get(&state.db, slug.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let s = slug.as_str();
    build(
        &state,
        Listing::Tag(s),
        format!("secviz: posts tagged {s}"),
        &format!("/t/{s}/feed.atom"),
        &format!("/t/{s}"),
    )
    .await
}

pub async fn member(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let name = Username::parse(&name).map_err(|_| AppError::NotFound)?;
    let user = users::find_by_name(&state.db, name.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let n = &user.username;
    build(
        &state,
        Listing::Author(user.id),
        format!("secviz: posts by {n}"),
        &format!("/u/{n}/feed.atom"),
        &format!("/u/{n}"),
    )
    .await
}

async fn build(
    state: &AppState,
    which: Listing<'_>,
    title: String,
    self_path: &str,
    page_path: &str,
) -> Result<Response, AppError> {
    let base = state.public_url();
    let summaries = posts::list(&state.db, which, ENTRIES, 0).await?;
    let mut entries = Vec::with_capacity(summaries.len());
    let mut updated = 0;
    for s in summaries {
        let Some(p) = posts::get(&state.db, s.id).await? else {
            continue;
        };
        updated = updated.max(p.updated_at);
        entries.push(FeedEntry {
            url: format!("{base}/p/{}", p.id),
            title: p.title,
            author: p.author,
            published: rfc3339(p.created_at),
            updated: rfc3339(p.updated_at),
            summary: p.teaser,
            // Relative image links would break in feed readers: make ours absolute.
            content_html: p
                .body_html
                .replace("src=\"/img/", &format!("src=\"{base}/img/")),
            tags: s.tags,
        });
    }
    let feed = Feed {
        title,
        self_url: format!("{base}{self_path}"),
        page_url: format!("{base}{page_path}"),
        updated: rfc3339(if updated == 0 { state.now() } else { updated }),
        entries,
    };
    let body = askama::Template::render(&feed)?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}
