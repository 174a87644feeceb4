//! One file per action. Each handler reads top to bottom: extract → authorise → load → act →
//! respond. Shared helpers for rendering, redirects and paging live here.

pub mod account;
pub mod account_email;
pub mod account_password;
pub mod account_tokens;
pub mod admin;
pub mod admin_roles;
pub mod admin_tags;
pub mod comment_create;
pub mod comment_delete;
pub mod comment_show;
pub mod comment_update;
pub mod dashboard_edit;
pub mod dashboard_list;
pub mod dashboard_share;
pub mod dashboard_show;
pub mod data_post;
pub mod data_upload;
pub mod dataset_query;
pub mod draft;
mod draft_form;
pub mod feeds;
pub mod gallery;
pub mod home;
pub mod image_serve;
pub mod live_ingest;
pub mod login;
pub mod logout;
pub mod member_show;
pub mod moderate;
pub mod modlog;
pub mod post_create;
pub mod post_delete;
pub mod post_form;
pub mod post_show;
pub mod post_update;
pub mod reset_confirm;
pub mod reset_request;
pub mod search;
pub mod signup;
pub mod static_files;
pub mod tag_show;
pub mod tags_index;

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::views::html_headers;
use crate::web::Visitor;

/// The visitor the session layer put into the request.
pub type Visit = Extension<Arc<Visitor>>;

/// Renders a template with a status.
pub fn render<T: Template>(status: StatusCode, tpl: &T) -> Result<Response, AppError> {
    Ok((status, html_headers(), tpl.render()?).into_response())
}

/// What a visitor reads when every password-hashing place is taken.
pub const HASH_BUSY: &str =
    "The site is busy checking other passwords. Wait a moment and try again.";

/// Turns a rendered page (a form with what was typed) into a 429 that says when to retry.
pub fn too_many(mut resp: Response, retry_secs: u32) -> Response {
    *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_secs));
    resp
}

/// 303 See Other: after a successful POST the browser GETs the result.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `?page=N` (1-based; junk means page 1).
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    pub page: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, 100_000)
    }
}

/// Parses a numeric path id (a post's, a comment's, a draft's: the caller's type says
/// which); anything else is a 404.
pub fn id<Id: From<i64>>(raw: &str) -> Result<Id, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .map(Id::from)
        .ok_or(AppError::NotFound)
}
