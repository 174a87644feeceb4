//! The anonymous page cache against the real app (issue 14), on SQLite and PostgreSQL: floods
//! of `HEAD`s and of new query strings neither empty it nor push out the pages people read;
//! a hit answers with the headers of the miss; downloads and API answers are never kept; its
//! bytes stay under the configured bound; a member's write shows at once, and nothing an
//! anonymous visitor sends invalidates it.

use crate::common;

use common::*;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secviz_portal::Role;

/// The `x-cache` header of an answer (`hit`, `miss`, or empty when the cache stayed out).
fn x_cache(h: &HeaderMap) -> &str {
    h.get("x-cache").and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn assert_hit(c: &Client, path: &str, why: &str) {
    let r = c.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}");
    assert_eq!(x_cache(&r.headers), "hit", "{path}: {why}");
}

async fn head(c: &Client, path: &str) -> StatusCode {
    c.http
        .head(format!("{}{path}", c.base))
        .send()
        .await
        .unwrap()
        .status()
}

async fn issue_14_floods_and_anonymous_posts_keep_the_cache(backend: Backend) {
    const BOUND: usize = 256 * 1024;
    let app = spawn_with(backend, |c| c.page_cache_bytes = BOUND).await;
    let ana = app.member("ana").await;
    let id = create_post(&ana, "Port 1030 again", "text", &[], &[]).await;
    let post = format!("/p/{id}");
    let anon = app.client();
    for p in ["/", post.as_str(), "/feed.atom"] {
        let first = anon.get(p).await;
        assert_eq!(x_cache(&first.headers), "miss", "{p}");
        assert_hit(&anon, p, "asked twice").await;
    }

    // HEAD on anything, by anyone: nothing is forgotten.
    for i in 0..60 {
        for p in [
            "/",
            post.as_str(),
            "/login",
            "/nowhere",
            "/p/999999/data.jsonl.gz",
            "/api/v1/datasets/d0/query",
            &format!("/?x={i}"),
        ] {
            let st = head(&anon, p).await;
            assert!(st.is_success() || st.is_client_error(), "{p}: {st}");
        }
    }
    assert_hit(&anon, "/", "after a HEAD flood").await;
    assert_hit(&anon, &post, "after a HEAD flood").await;

    // A HEAD that misses fills the cache as its GET would: a flood of them renders once.
    let other = format!(
        "/p/{}",
        create_post(&ana, "Source port 1030", "text", &[], &[]).await
    );
    let _ = anon.get("/").await;
    let h = anon
        .http
        .head(format!("{}{other}", anon.base))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), StatusCode::OK);
    assert_eq!(x_cache(h.headers()), "miss");
    let head_len = h.headers().get("content-length").cloned();
    assert!(
        h.bytes().await.unwrap().is_empty(),
        "a HEAD answered with a body"
    );
    let g = anon.get(&other).await;
    assert_eq!(x_cache(&g.headers), "hit", "{other} after a HEAD");
    assert_eq!(g.headers.get("content-length").cloned(), head_len);
    assert_eq!(
        g.body.len().to_string(),
        head_len.unwrap().to_str().unwrap()
    );
    // (The new post emptied the cache: the pages people read are read again.)
    for p in ["/", post.as_str(), "/feed.atom"] {
        let _ = anon.get(p).await;
        assert_hit(&anon, p, "asked twice").await;
    }

    // Unknown parameters share the page's entry: a thousand of them add nothing.
    let before = app.pages.stats();
    for i in 0..1000 {
        let r = anon.get(&format!("/?utm_source={i}&x={i}")).await;
        assert_eq!(x_cache(&r.headers), "hit", "?x={i}");
    }
    let after = app.pages.stats();
    assert_eq!(after.entries, before.entries, "{after:?}");
    assert_eq!(after.bytes, before.bytes);

    // New pages nobody asks for twice churn among themselves; the pages people read stay.
    for n in 2..600 {
        let r = anon.get(&format!("/?page={n}")).await;
        assert_eq!(r.status, StatusCode::OK);
        let s = app.pages.stats();
        assert!(s.bytes <= BOUND, "page {n}: {s:?}");
    }
    assert!(
        app.pages.stats().entries < 598,
        "the bound made room: {:?}",
        app.pages.stats()
    );
    assert_hit(&anon, "/", "after 600 new pages").await;
    assert_hit(&anon, &post, "after 600 new pages").await;
    assert_hit(&anon, "/feed.atom", "after 600 new pages").await;

    // Anonymous POSTs change no public page and invalidate nothing: a refused comment, a
    // failed and a successful log-in, a reset request, a refused form without a token.
    let r = anon
        .post(&format!("{post}/comments"), &[("body", "spam")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = anon
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", "not the password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let visitor = app.client();
    let r = visitor
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = anon
        .submit("/reset", "/reset", &[("email", "ana@example.org")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_hit(&anon, "/", "after anonymous POSTs").await;
    assert_hit(&anon, &post, "after anonymous POSTs").await;

    // A member's write shows at once.
    let id2 = create_post(&ana, "Fresh from the member", "text", &[], &[]).await;
    let r = anon.get("/").await;
    assert_eq!(x_cache(&r.headers), "miss", "the write forgot the page");
    assert!(r.body.contains("Fresh from the member"), "{}", r.body);
    assert!(
        anon.get("/feed.atom")
            .await
            .body
            .contains(&format!("/p/{id2}"))
    );
    let edit = [
        ("action", "publish"),
        ("title", "Port 1030, solved"),
        ("body", "text"),
    ];
    let r = ana.submit_post(&format!("{post}/edit"), &edit, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = anon.get(&post).await;
    assert!(r.body.contains("Port 1030, solved"), "edit visible at once");
}

/// Headers that differ between any two answers.
fn comparable(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = h
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "date" | "x-request-id" | "x-cache"))
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    v.sort();
    v
}

async fn issue_14_cache_hit_has_the_headers_of_the_miss(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.with_role("boss", Role::Admin).await;
    let r = admin
        .submit(
            "/admin",
            "/admin/tags",
            &[("slug", "zeek"), ("description", "d")],
        )
        .await;
    assert!(r.status.is_redirection(), "{}", r.body);
    let id = create_post(&admin, "Tagged", "text", &[("tags", "zeek")], &[]).await;
    let anon = app.client();
    for p in [
        "/".to_string(),
        "/gallery".into(),
        "/tags".into(),
        "/modlog".into(),
        format!("/p/{id}"),
        "/t/zeek".into(),
        "/u/boss".into(),
        "/feed.atom".into(),
        "/t/zeek/feed.atom".into(),
        "/u/boss/feed.atom".into(),
    ] {
        let miss = anon.get(&p).await;
        assert_eq!(miss.status, StatusCode::OK, "{p}");
        assert_eq!(x_cache(&miss.headers), "miss", "{p}");
        let hit = anon.get(&p).await;
        assert_eq!(x_cache(&hit.headers), "hit", "{p}");
        assert_eq!(
            comparable(&hit.headers),
            comparable(&miss.headers),
            "{p}: a hit answers as the miss did"
        );
        assert_eq!(hit.body, miss.body, "{p}");
        for must in ["content-type", "content-security-policy", "cache-control"] {
            assert!(hit.headers.contains_key(must), "{p}: {must}");
        }
        assert!(!hit.headers.contains_key("set-cookie"), "{p}");
    }
    // Members are never served from the cache, and never fill it.
    let before = app.pages.stats();
    let r = admin.get("/").await;
    assert_eq!(x_cache(&r.headers), "");
    assert!(r.body.contains("boss"), "the member's own page");
    assert_eq!(app.pages.stats().entries, before.entries);
}

/// pf lines (tcpdump on pflog) for a small dataset.
fn pf_log() -> String {
    (0..20u32)
        .map(|i| {
            format!(
                "Oct 21 06:00:{:02}.015678 rule 57/0(match): pass out on xl1: 10.77.5.{}.1030 > 192.0.2.99.53: 46523+ A? host{i}.example. (43) (DF)\n",
                i,
                i % 3
            )
        })
        .collect()
}

/// A published data post with a link graph; returns its path and dataset id.
async fn data_post(app: &TestApp, c: &Client) -> (String, String) {
    let token = c.csrf("/new").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("title", "A data post")
        .text("body", "Look.")
        .text("data_format", "pf")
        .text("data_year", "2025")
        .text("data_text", pf_log());
    let r = c
        .http
        .post(format!("{}/new", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let draft = r.headers()["location"].to_str().unwrap().to_string();
    let mut page = String::new();
    // Not a timing assertion: a generous bound so a broken worker fails instead of hanging.
    for _ in 0..600 {
        page = c.get(&draft).await.body;
        if page.contains("data-status=\"ready\"") {
            break;
        }
        assert!(!page.contains("data-status=\"failed\""), "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let token = csrf_of(&page);
    let fields = [
        ("csrf", token.as_str()),
        ("action", "publish"),
        ("title", "A data post"),
        ("body", "Look."),
        ("kind", "graph"),
        ("source", "src_ip"),
        ("event", "src_port"),
        ("target", "dst_ip"),
        ("color", "protocol"),
        ("size", "degree"),
        ("cluster_source", "none"),
        ("cluster_target", "none"),
        ("cluster_event", "none"),
        ("fields", "src_ip, dst_ip"),
        ("seed", "3"),
        ("top_k", "10"),
    ];
    let r = c.post(&draft, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let row: (String,) = sqlx::query_as("SELECT id FROM datasets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    (r.location(), row.0)
}

async fn issue_14_downloads_and_api_answers_are_never_cached(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let (post, ds) = data_post(&app, &ana).await;
    let anon = app.client();
    anon.get(&post).await;
    assert_hit(&anon, &post, "the data post's page is an ordinary page").await;
    let before = app.pages.stats();
    let downloads = [
        format!("{post}/recipe.json"),
        format!("{post}/view.json"),
        format!("{post}/rules.txt"),
        format!("{post}/data.jsonl.gz"),
    ];
    let api = [
        format!("/api/v1/views/datasets/{ds}/info"),
        format!("/api/v1/views/datasets/{ds}/export.csv"),
        format!("/api/v1/views/datasets/{ds}/graph.svg"),
        format!("/api/v1/datasets/{ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"),
    ];
    for p in downloads.iter().chain(&api) {
        for round in 0..3 {
            let (st, h, body) = anon.get_bytes(p).await;
            assert_eq!(st, StatusCode::OK, "{p}");
            assert!(!body.is_empty(), "{p}");
            assert_eq!(x_cache(&h), "", "{p} (round {round}): the cache stayed out");
            if downloads.contains(p) {
                assert!(h.contains_key("content-disposition"), "{p} round {round}");
                assert_eq!(h["cache-control"], "private, no-store", "{p} round {round}");
            }
        }
    }
    let after = app.pages.stats();
    assert_eq!(after.entries, before.entries, "{after:?}");
    assert_eq!(after.bytes, before.bytes, "{after:?}");
    // A POST to the read-only query API answers 200 and forgets nothing.
    let r = anon
        .post(
            &format!("/api/v1/datasets/{ds}/query"),
            &[("sql", "SELECT count(*) AS n FROM events")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_hit(&anon, &post, "after an anonymous query").await;
}

async fn issue_14_cache_bytes_stay_under_the_bound(backend: Backend) {
    const BOUND: usize = 96 * 1024;
    let app = spawn_with(backend, |c| c.page_cache_bytes = BOUND).await;
    let ana = app.member("ana").await;
    let mut posts = Vec::new();
    for i in 0..12 {
        let body = format!("{} {i}", "A long paragraph about port scans. ".repeat(80));
        posts.push(create_post(&ana, &format!("Post {i}"), &body, &[], &[]).await);
    }
    let anon = app.client();
    let mut fullest = 0;
    for round in 0..3 {
        for n in 1..150 {
            anon.get(&format!("/?page={n}")).await;
            anon.get(&format!("/gallery?page={n}")).await;
            let s = app.pages.stats();
            assert!(s.bytes <= BOUND, "round {round}, page {n}: {s:?}");
            fullest = fullest.max(s.bytes);
        }
        for id in &posts {
            anon.get(&format!("/p/{id}")).await;
            let s = app.pages.stats();
            assert!(s.bytes <= BOUND, "round {round}, post {id}: {s:?}");
        }
    }
    // It evicts only when full: it filled to within a few pages of its bound.
    assert!(
        fullest >= BOUND * 3 / 4,
        "the cache held at most {fullest} of {BOUND} bytes"
    );
    // Full to its bound, it still keeps and serves.
    let post = format!("/p/{}", posts[0]);
    anon.get(&post).await;
    assert_hit(&anon, &post, "at the bound").await;
    let s = app.pages.stats();
    assert!(s.bytes <= BOUND, "{s:?}");
}

on_both!(
    issue_14_floods_and_anonymous_posts_keep_the_cache,
    issue_14_cache_hit_has_the_headers_of_the_miss,
    issue_14_downloads_and_api_answers_are_never_cached,
    issue_14_cache_bytes_stay_under_the_bound
);
