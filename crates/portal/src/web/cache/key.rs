//! Which requests the page cache may answer, and under which key.
//!
//! Only the public HTML pages and Atom feeds are cacheable, each under its canonical path
//! plus the query parameters its handler reads, parsed as the handler parses them:
//! `?page=` as a number, `?tag=` as a tag slug, `?sel=` as a selection. Anything else in the
//! query is left out of the key, so `/?x=1`, `/?x=2`, … share one entry and cannot flood the
//! cache. A path that is not in canonical form (`/p/007`, `/u/%61na`) or a repeated parameter
//! is answered by the handler without the cache, so the key space is exactly the page space.
//! Downloads (`/p/{id}/recipe.json`, `data.jsonl.gz`, …), the API and every form page are
//! not here at all.

use secviz_views::Selection;

use crate::domain::{TagSlug, Username};
use crate::handlers::PageQuery;

/// Longest key kept (a long selection is served, not cached).
pub const MAX_KEY_BYTES: usize = 2048;

/// The query parameters a page reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    Nothing,
    Page,
    PageAndTag,
    Selection,
}

/// The cache key of an anonymous `GET path?query`, or `None` when the cache stays out of it.
pub fn page_key(path: &str, query: Option<&str>) -> Option<String> {
    let reads = route(path)?;
    let mut page = None;
    let mut tag = None;
    let mut sel = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let slot = match (reads, name.as_ref()) {
            (Reads::Page | Reads::PageAndTag, "page") => &mut page,
            (Reads::PageAndTag, "tag") => &mut tag,
            (Reads::Selection, "sel") => &mut sel,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            // The handler refuses a repeated parameter; let it say so.
            return None;
        }
    }
    let mut key = path.to_string();
    let mut sep = '?';
    let mut add = |name: &str, value: &str| {
        key.push(sep);
        key.push_str(name);
        key.push('=');
        key.push_str(value);
        sep = '&';
    };
    if let Some(p) = page {
        let n = PageQuery {
            page: Some(p.into_owned()),
            tag: None,
        }
        .page();
        if n != 1 {
            add("page", &n.to_string());
        }
    }
    if let Some(t) = tag.filter(|t| !t.is_empty()) {
        // An unknown tag is a 404, which is never kept; a valid one keys by its slug.
        add("tag", TagSlug::parse(&t).ok()?.as_str());
    }
    if let Some(s) = sel {
        // The page ignores a selection it cannot read, and an empty one selects all.
        if let Some(s) = Selection::from_json(&s)
            .ok()
            .filter(|s| *s != Selection::default())
        {
            add("sel", &serde_json::to_string(&s).ok()?);
        }
    }
    (key.len() <= MAX_KEY_BYTES).then_some(key)
}

/// The pages the cache may hold and what each reads from the query.
fn route(path: &str) -> Option<Reads> {
    match path {
        "/" => return Some(Reads::Page),
        "/gallery" => return Some(Reads::PageAndTag),
        "/tags" | "/modlog" | "/feed.atom" => return Some(Reads::Nothing),
        _ => {}
    }
    let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match parts.as_slice() {
        ["p", id] if canonical_id(id) => Some(Reads::Selection),
        ["t", slug] if canonical_slug(slug) => Some(Reads::Page),
        ["t", slug, "feed.atom"] if canonical_slug(slug) => Some(Reads::Nothing),
        ["u", name] | ["u", name, "feed.atom"] if canonical_name(name) => Some(Reads::Nothing),
        _ => None,
    }
}

fn canonical_id(raw: &str) -> bool {
    raw.parse::<i64>()
        .is_ok_and(|id| id > 0 && id.to_string() == raw)
}

fn canonical_slug(raw: &str) -> bool {
    TagSlug::parse(raw).is_ok_and(|s| s.as_str() == raw)
}

fn canonical_name(raw: &str) -> bool {
    Username::parse(raw).is_ok_and(|n| n.as_str() == raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> Option<String> {
        let (path, query) = match uri.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (uri, None),
        };
        page_key(path, query)
    }

    #[test]
    fn only_public_pages_and_feeds() {
        for p in [
            "/",
            "/gallery",
            "/tags",
            "/modlog",
            "/p/1",
            "/t/zeek",
            "/u/ana",
            "/feed.atom",
            "/t/zeek/feed.atom",
            "/u/ana/feed.atom",
        ] {
            assert_eq!(key(p).as_deref(), Some(p), "{p}");
        }
        for p in [
            "/login",
            "/signup",
            "/reset",
            "/new",
            "/account",
            "/admin",
            "/search",
            "/drafts",
            "/img/ab",
            "/healthz",
            "/p/1/edit",
            "/p/1/recipe.json",
            "/p/1/view.json",
            "/p/1/rules.txt",
            "/p/1/data.jsonl.gz",
            "/api/v1/datasets/d1/query",
            "/api/v1/views/datasets/d1/info",
            "/assets/viewer.js",
            "/c/1",
            "/u/ana/x",
        ] {
            assert_eq!(key(p), None, "{p}");
        }
    }

    #[test]
    fn only_canonical_paths() {
        for p in [
            "/p/01", "/p/0", "/p/-1", "/p/x", "/u/Ana", "/u/%61na", "/t/Zeek", "/t/a--b",
        ] {
            assert_eq!(key(p), None, "{p}");
        }
    }

    #[test]
    fn unknown_parameters_share_the_entry() {
        assert_eq!(key("/?x=1").as_deref(), Some("/"));
        assert_eq!(key("/?x=2&y=3").as_deref(), Some("/"));
        assert_eq!(
            key("/tags?page=3").as_deref(),
            Some("/tags"),
            "tags reads no page"
        );
        assert_eq!(key("/p/4?page=3&x=1").as_deref(), Some("/p/4"));
    }

    #[test]
    fn parameters_are_read_as_the_page_reads_them() {
        assert_eq!(key("/?page=2").as_deref(), Some("/?page=2"));
        assert_eq!(key("/?page=02&zz=1").as_deref(), Some("/?page=2"));
        assert_eq!(key("/?page=1").as_deref(), Some("/"));
        assert_eq!(
            key("/?page=junk").as_deref(),
            Some("/"),
            "junk means page 1"
        );
        assert_eq!(key("/?page=999999999").as_deref(), Some("/?page=100000"));
        assert_eq!(
            key("/?pag%65=3").as_deref(),
            Some("/?page=3"),
            "names are decoded"
        );
        assert_eq!(
            key("/gallery?tag=Zeek&page=2").as_deref(),
            Some("/gallery?page=2&tag=zeek")
        );
        assert_eq!(key("/gallery?tag=").as_deref(), Some("/gallery"));
        assert_eq!(key("/gallery?tag=no%20such"), None, "a 404 is not kept");
        assert_eq!(
            key("/?page=2&page=3"),
            None,
            "repeated: the handler answers"
        );
    }

    #[test]
    fn selections_key_by_what_they_select() {
        assert_eq!(key("/p/3?sel=junk").as_deref(), Some("/p/3"));
        assert_eq!(
            key("/p/3?sel=%7B%7D").as_deref(),
            Some("/p/3"),
            "empty selects all"
        );
        let k = key("/p/3?sel=%7B%22time%22%3A%5B1%2C2%5D%7D");
        assert_eq!(k.as_deref(), Some(r#"/p/3?sel={"time":[1,2]}"#));
        assert_eq!(
            key("/p/3?sel=%7B+%22time%22+%3A+%5B1%2C+2%5D+%7D"),
            k,
            "spacing"
        );
        let long = format!("/p/3?sel={}", "x".repeat(10_000));
        assert_eq!(key(&long).as_deref(), Some("/p/3"), "unreadable");
    }
}
