//! An XSS corpus pushed through every field the portal shows, then every page rendered and
//! searched for live markup (SECURITY.md rows 17 and 20), on SQLite and PostgreSQL.

mod common;

use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

const PAYLOAD: &str =
    "<script>alert(1)</script>\"><img src=x onerror=alert(2)><svg onload=alert(3)>'\"><x>";

const MARKDOWN: &str = "[click](javascript:alert(4)) [entity](&#106;avascript:alert(5)) \
    <a href=\"data:text/html;base64,PHNjcmlwdD4=\">data</a> ![track](https://evil.example/pixel.png) \
    <iframe src=\"https://evil.example\"></iframe> <div style=\"background:url(javascript:alert(6))\">s</div>";

/// Markup that must never reach a page unescaped.
const LIVE: &[&str] = &[
    "<script>alert",
    "<img src=x",
    "<img src=\"x\"",
    "<svg",
    "<x>",
    "href=\"javascript:",
    "href=\"data:",
    "src=\"https://evil.example",
    "<iframe",
    "style=\"background",
];

fn assert_inert(page: &str, path: &str) {
    let lower = page.to_lowercase();
    for bad in LIVE {
        assert!(!lower.contains(bad), "{path} contains live {bad:?}");
    }
}

async fn corpus_is_inert_on_every_page(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.with_role("admin", Role::Admin).await;
    let moderator = app.with_role("moderator", Role::Moderator).await;
    let ana = app.member("ana").await;
    let desc = PAYLOAD;
    let r = admin
        .submit(
            "/admin",
            "/admin/tags",
            &[("slug", "xss"), ("description", desc)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let body = format!(
        "{PAYLOAD}\n\n{MARKDOWN}\n\n```\n{PAYLOAD}\n```\n\n| a | b |\n|---|---|\n| {PAYLOAD} | x |"
    );
    let fields = [
        ("title", PAYLOAD),
        ("body", body.as_str()),
        ("kind", "gallery"),
        ("tool", PAYLOAD),
        ("data_source", PAYLOAD),
        ("tags", "xss"),
        ("newalt1", PAYLOAD),
    ];
    let post = create_post(
        &ana,
        PAYLOAD,
        &body,
        &fields[2..],
        &[("file1", "a.png", png(8, 8))],
    )
    .await;
    let p = format!("/p/{post}");
    let r = ana
        .submit(
            &p,
            &format!("{p}/comments"),
            &[("body", &format!("{PAYLOAD}\n{MARKDOWN}"))],
        )
        .await;
    let comment = r.location().rsplit("#c").next().unwrap().to_string();
    ana.submit(
        &p,
        &format!("{p}/comments"),
        &[("body", PAYLOAD), ("parent", &comment)],
    )
    .await;
    let second = create_post(&ana, "hidden one", PAYLOAD, &[], &[]).await;
    moderator
        .submit(
            &format!("/p/{second}"),
            &format!("/p/{second}/hide"),
            &[("reason", PAYLOAD)],
        )
        .await;

    let q: String = form_urlencoded::byte_serialize(PAYLOAD.as_bytes()).collect();
    let pages = [
        "/".to_string(),
        "/gallery".into(),
        "/gallery?tag=xss".into(),
        "/tags".into(),
        "/t/xss".into(),
        p.clone(),
        format!("/p/{second}"),
        format!("{p}/edit"),
        format!("/c/{comment}/edit"),
        "/u/ana".into(),
        format!("/search?q={q}"),
        "/search?q=alert".into(),
        "/modlog".into(),
        "/feed.atom".into(),
        "/t/xss/feed.atom".into(),
        "/u/ana/feed.atom".into(),
        "/admin".into(),
        "/account".into(),
        "/new".into(),
    ];
    let mut checked = 0;
    for who in [&ana, &admin, &moderator, &app.client()] {
        for path in &pages {
            let r = who.get(path).await;
            if r.status == StatusCode::OK {
                assert_inert(&r.body, path);
                checked += 1;
            }
        }
    }
    assert!(checked >= 50, "only {checked} pages rendered");

    // The payload is visible as text (escaped), not silently dropped.
    let page = ana.get(&p).await.body;
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "title shown escaped"
    );

    // Forms that fail reflect what was typed, escaped.
    let r = ana
        .submit_post(
            "/new",
            &[("action", "publish"), ("title", PAYLOAD), ("body", "")],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_inert(&r.body, "failed post form");
    let anon = app.client();
    let r = anon
        .submit(
            "/login",
            "/login",
            &[("username", PAYLOAD), ("password", "whatever password")],
        )
        .await;
    assert_inert(&r.body, "failed login");
    let r = anon
        .submit(
            "/signup",
            "/signup",
            &[("username", PAYLOAD), ("email", PAYLOAD), ("password", "x")],
        )
        .await;
    assert_inert(&r.body, "failed signup");
}

on_both!(corpus_is_inert_on_every_page);
