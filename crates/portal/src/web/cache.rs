//! A small in-memory cache of the public pages as anonymous visitors see them (front page,
//! gallery, tags, posts, profiles, moderation log, feeds). Anonymous pages carry no CSRF token
//! and nothing personal, so one rendering serves every anonymous visitor.
//!
//! Invalidation is by generation: every successful state-changing request (any non-GET that
//! answers 2xx or 3xx) bumps it, so no write is ever missing from a page a visitor gets. Entries
//! also expire after [`TTL_SECS`] (changes made by another process, such as `secviz user`).
//! Memory is bounded: at most [`MAX_ENTRIES`] pages of at most [`MAX_BODY`] bytes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Visitor;
use crate::state::AppState;

pub const TTL_SECS: i64 = 60;
pub const MAX_ENTRIES: usize = 4096;
pub const MAX_BODY: usize = 512 * 1024;

struct Entry {
    generation: u64,
    stored_at: i64,
    content_type: HeaderValue,
    body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    generation: AtomicU64,
    pages: RwLock<HashMap<String, Entry>>,
    // Serialises inserts that have to make room, so a burst does not clear the map repeatedly.
    evicting: Mutex<()>,
}

impl PageCache {
    /// Forgets every page (called after each write).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self, key: &str, now: i64) -> Option<(HeaderValue, Bytes)> {
        let generation = self.generation.load(Ordering::SeqCst);
        let pages = self.pages.read().unwrap_or_else(|e| e.into_inner());
        pages
            .get(key)
            .filter(|e| e.generation == generation && now - e.stored_at < TTL_SECS)
            .map(|e| (e.content_type.clone(), e.body.clone()))
    }

    fn put(&self, key: String, generation: u64, now: i64, content_type: HeaderValue, body: Bytes) {
        let mut pages = self.pages.write().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_ENTRIES {
            let _guard = self.evicting.lock().unwrap_or_else(|e| e.into_inner());
            let current = self.generation.load(Ordering::SeqCst);
            pages.retain(|_, e| e.generation == current && now - e.stored_at < TTL_SECS);
            if pages.len() >= MAX_ENTRIES {
                pages.clear();
            }
        }
        pages.insert(
            key,
            Entry {
                generation,
                stored_at: now,
                content_type,
                body,
            },
        );
    }
}

/// Paths whose anonymous rendering may be shared. Pages with forms for visitors (log-in,
/// sign-up, reset) are not here: they carry a per-visitor CSRF token.
fn cacheable(path: &str) -> bool {
    matches!(path, "/" | "/gallery" | "/tags" | "/modlog" | "/feed.atom")
        || ["/p/", "/t/", "/u/"].iter().any(|p| path.starts_with(p)) && !path.ends_with("/edit")
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cache = state.pages.clone();
    let method = req.method().clone();
    if method != Method::GET {
        let resp = next.run(req).await;
        let s = resp.status();
        if s.is_success() || s.is_redirection() {
            cache.invalidate();
        }
        return resp;
    }
    if !state.config.page_cache {
        return next.run(req).await;
    }
    let anonymous = req
        .extensions()
        .get::<Arc<Visitor>>()
        .is_some_and(|v| v.user.is_none());
    let path = req.uri().path();
    if !anonymous || !cacheable(path) {
        return next.run(req).await;
    }
    let key = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let now = state.now();
    if let Some((content_type, body)) = cache.get(&key, now) {
        return (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK || resp.headers().contains_key(header::SET_COOKIE) {
        return resp;
    }
    let Some(content_type) = resp.headers().get(header::CONTENT_TYPE).cloned() else {
        return resp;
    };
    let (parts, body) = resp.into_parts();
    // Handlers render whole pages in memory already, so collecting the body costs no more.
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            if bytes.len() <= MAX_BODY {
                cache.put(key, generation, now, content_type, bytes.clone());
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => crate::error::AppError::Internal(anyhow::anyhow!("reading a page body: {e}"))
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_invalidate_and_time_expires() {
        let c = PageCache::default();
        let ct = HeaderValue::from_static("text/html");
        c.put("/".into(), 0, 100, ct.clone(), Bytes::from_static(b"a"));
        assert!(c.get("/", 110).is_some());
        assert!(c.get("/", 100 + TTL_SECS).is_none(), "expired");
        c.put("/".into(), 0, 100, ct, Bytes::from_static(b"a"));
        c.invalidate();
        assert!(c.get("/", 101).is_none(), "a write happened since");
    }

    #[test]
    fn only_public_pages() {
        for p in [
            "/",
            "/p/1",
            "/t/zeek",
            "/u/ana",
            "/feed.atom",
            "/u/ana/feed.atom",
        ] {
            assert!(cacheable(p), "{p}");
        }
        for p in [
            "/login",
            "/signup",
            "/reset",
            "/new",
            "/account",
            "/admin",
            "/p/1/edit",
            "/search",
            "/img/ab",
        ] {
            assert!(!cacheable(p), "{p}");
        }
    }
}
