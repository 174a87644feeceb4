//! A small in-memory cache of the public pages as anonymous visitors see them (front page,
//! gallery, tags, posts, profiles, moderation log) and of the Atom feeds (public documents,
//! the same for everyone, built from the configured public URL). Anonymous pages carry no
//! CSRF token and nothing personal, so one rendering serves every anonymous visitor.
//!
//! What it keeps, and what it never keeps:
//! - only `GET`s by anonymous visitors of the pages [`key::page_key`] names, under their
//!   canonical path plus the query parameters the page reads (unknown ones are dropped);
//! - only 200 answers that are HTML or Atom, set no cookie, are not downloads
//!   (`Content-Disposition`) and do not say `Cache-Control: no-store` or `private`, and whose
//!   rendering handed out no CSRF token. Data exports and API answers are never read whole;
//! - the handler's headers with the body, so a hit answers exactly as the miss did (the
//!   outer layers add the request id and the security headers to both). `x-cache: hit` or
//!   `miss` tells operators and tests which it was.
//!
//! Memory is bounded in bytes ([`store`]: a segmented LRU; total and per-page caps from the
//! configuration). Invalidation: a member's successful write (and a sign-up, which can change
//! the front page) forgets every page, so no write is missing from a page a visitor gets;
//! on PostgreSQL it also tells the other instances to forget theirs ([`peers`]).
//! Nothing an anonymous visitor sends invalidates: not a `HEAD`, not a refused form, not a
//! `POST` to the read-only query API. Entries also expire after [`store::TTL_SECS`].

mod key;
pub mod peers;
pub mod shared;
pub mod store;

use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use store::CachedPage;
pub use store::{CacheStats, PageCache};

use super::Visitor;
use crate::state::AppState;

/// Response header naming a cache `hit` or `miss`.
pub const X_CACHE: &str = "x-cache";

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let visitor = req.extensions().get::<Arc<Visitor>>().cloned();
    let member = visitor.as_ref().is_none_or(|v| v.user.is_some());
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let invalidates = invalidates(&method, req.uri().path(), member);
        let resp = next.run(req).await;
        let s = resp.status();
        if invalidates && (s.is_success() || s.is_redirection()) {
            state.invalidate_pages().await;
        }
        return resp;
    }
    let (Some(visitor), false, true) = (visitor, member, state.config.page_cache) else {
        return next.run(req).await;
    };
    let Some(key) = key::page_key(req.uri().path(), req.uri().query()) else {
        return next.run(req).await;
    };
    let now = state.now();
    if let Some(page) = state.pages.get(&key, now) {
        return replay(&page);
    }
    let generation = state.pages.generation();
    // A HEAD that misses is answered as the GET it stands for (hyper sends no body for a
    // HEAD), so that it fills the cache: a flood of HEADs costs one rendering, not one each.
    let mut req = req;
    *req.method_mut() = Method::GET;
    let resp = next.run(req).await;
    let mut resp = if storable(&resp) && !visitor.handed_out_token() {
        let max = state.config.page_cache_entry_bytes;
        keep(&state.pages, &key, generation, now, resp, max).await
    } else {
        resp
    };
    resp.headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("miss"));
    resp
}

/// Whether a request that is not a read may have changed what anonymous visitors see: a
/// write by a member, or a sign-up (the first member changes the front page). The query APIs
/// under `/api/` answer `POST`s without changing anything.
fn invalidates(method: &Method, path: &str, member: bool) -> bool {
    let writes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    writes && !path.starts_with("/api/") && (member || path == "/signup")
}

/// A 200 page or feed that may be shown to every anonymous visitor.
fn storable(resp: &Response) -> bool {
    let h = resp.headers();
    let page_or_feed = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/atom+xml"));
    let shared = h.get_all(header::CACHE_CONTROL).iter().all(|v| {
        let v = v.to_str().unwrap_or("no-store").to_ascii_lowercase();
        !v.contains("no-store") && !v.contains("private")
    });
    resp.status() == StatusCode::OK
        && page_or_feed
        && shared
        && !h.contains_key(header::SET_COOKIE)
        && !h.contains_key(header::CONTENT_DISPOSITION)
}

/// Headers that belong to one request and are neither kept nor replayed.
fn per_request(name: &HeaderName) -> bool {
    name == header::SET_COOKIE
        || name == header::DATE
        || name.as_str() == "x-request-id"
        || name.as_str() == X_CACHE
}

/// Reads the body (only when its exact size is known and within `max`: handlers render whole
/// pages in memory already, so this costs nothing more) and keeps the page.
async fn keep(
    pages: &PageCache,
    key: &str,
    generation: u64,
    now: i64,
    resp: Response,
    max: usize,
) -> Response {
    let fits = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= max as u64);
    if !fits {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => {
            let mut headers = HeaderMap::with_capacity(parts.headers.len());
            for (name, value) in &parts.headers {
                if !per_request(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            let page = CachedPage {
                headers,
                body: bytes.clone(),
            };
            pages.put(key, generation, now, Arc::new(page));
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => crate::error::AppError::Internal(anyhow::anyhow!("reading a page body: {e}"))
            .into_response(),
    }
}

/// A kept page, answered as the handler answered it.
fn replay(page: &CachedPage) -> Response {
    let mut resp = Response::new(Body::from(page.body.clone()));
    *resp.headers_mut() = page.headers.clone();
    resp.headers_mut()
        .insert(X_CACHE, HeaderValue::from_static("hit"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_members_writes_and_sign_ups_invalidate() {
        let post = Method::POST;
        assert!(invalidates(&post, "/p/1/edit", true));
        assert!(invalidates(&post, "/signup", false));
        assert!(
            !invalidates(&post, "/login", false),
            "logging in changes no page"
        );
        assert!(!invalidates(&post, "/reset", false));
        assert!(
            !invalidates(&post, "/p/1/comments", false),
            "refused anyway"
        );
        assert!(
            !invalidates(&post, "/api/v1/datasets/d1/query", true),
            "reads"
        );
        for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(!invalidates(&m, "/p/1/edit", true), "{m}");
        }
    }

    #[test]
    fn downloads_and_private_answers_are_not_storable() {
        let page = |headers: &[(HeaderName, &'static str)]| {
            let mut r = Response::new(Body::from("x"));
            for (n, v) in headers {
                r.headers_mut()
                    .insert(n.clone(), HeaderValue::from_static(v));
            }
            r
        };
        let html = (header::CONTENT_TYPE, "text/html; charset=utf-8");
        assert!(storable(&page(std::slice::from_ref(&html))));
        assert!(storable(&page(&[(
            header::CONTENT_TYPE,
            "application/atom+xml; charset=utf-8"
        )])));
        assert!(!storable(&page(&[(
            header::CONTENT_TYPE,
            "application/gzip"
        )])));
        assert!(!storable(&page(&[
            html.clone(),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"x\"")
        ])));
        assert!(!storable(&page(&[
            html.clone(),
            (header::CACHE_CONTROL, "private, no-store")
        ])));
        assert!(!storable(&page(&[
            html.clone(),
            (header::CACHE_CONTROL, "No-Store")
        ])));
        assert!(!storable(&page(&[
            html.clone(),
            (header::SET_COOKIE, "a=b")
        ])));
        let mut not_found = page(&[html]);
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        assert!(!storable(&not_found));
    }
}
