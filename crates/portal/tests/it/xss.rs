//! An XSS corpus pushed through every field the portal shows, then every page rendered and
//! searched for live markup (SECURITY.md rows 17 and 20), on SQLite and PostgreSQL.

use crate::common;

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
    // Who must see each page (200); everyone else gets whatever the page gives them (a
    // redirect to log in, 403, 404), and every answer, error pages included, is checked.
    const ALL: &str = "ana admin moderator anonymous";
    const MEMBERS: &str = "ana admin moderator";
    let pages: Vec<(String, &str)> = vec![
        ("/".to_string(), ALL),
        ("/gallery".into(), ALL),
        ("/gallery?tag=xss".into(), ALL),
        ("/tags".into(), ALL),
        ("/t/xss".into(), ALL),
        (p.clone(), ALL),
        (format!("/p/{second}"), "admin moderator"),
        (format!("{p}/edit"), "ana"),
        (format!("/c/{comment}/edit"), "ana"),
        ("/u/ana".into(), ALL),
        (format!("/search?q={q}"), ALL),
        ("/search?q=alert".into(), ALL),
        ("/modlog".into(), "admin moderator"),
        ("/feed.atom".into(), ALL),
        ("/t/xss/feed.atom".into(), ALL),
        ("/u/ana/feed.atom".into(), ALL),
        ("/admin".into(), "admin"),
        ("/account".into(), MEMBERS),
        ("/new".into(), MEMBERS),
    ];
    let anonymous = app.client();
    let mut checked = 0;
    for (name, who) in [
        ("ana", &ana),
        ("admin", &admin),
        ("moderator", &moderator),
        ("anonymous", &anonymous),
    ] {
        for (path, must_see) in &pages {
            let r = who.get(path).await;
            if must_see.split(' ').any(|w| w == name) {
                assert_eq!(r.status, StatusCode::OK, "{name} must see {path}");
            } else {
                assert!(
                    [
                        StatusCode::OK,
                        StatusCode::SEE_OTHER,
                        StatusCode::UNAUTHORIZED,
                        StatusCode::FORBIDDEN,
                        StatusCode::NOT_FOUND
                    ]
                    .contains(&r.status),
                    "{name} on {path}: {}",
                    r.status
                );
            }
            assert_inert(&r.body, path);
            checked += 1;
        }
    }
    assert_eq!(checked, pages.len() * 4);

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
