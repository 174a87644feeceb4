//! Every kind of error the portal shows a person (issue 17, point 3), against the real app on
//! SQLite and PostgreSQL: forms (sign-up, log-in, the post form), uploads (an empty file,
//! binary garbage, a bad choice), members' SQL and the viewer's API. Each message must speak
//! the web's words: no command-line flag, no Rust debug output or type name, no control
//! character unescaped (nor escaped twice), and said once.
//!
//! Also point 4: an empty or wholly unparseable upload never becomes a post.

use crate::common;

use common::data::{add_post_with_file, data_post, wait_ingest};
use common::*;
use reqwest::StatusCode;

/// What would show that an error was not worded for a person.
const LEAKS: &[&str] = &[
    "--",
    // A control character is shown as one escape (`\u{1b}`), never escaped twice.
    "\\\\u{",
    "Error {",
    "Error(",
    "Some(",
    "None",
    "datafusion",
    "sqlx",
    "anyhow",
    "panicked",
    "backtrace",
    "os error",
];

fn assert_worded(what: &str, m: &str) {
    assert!(!m.trim().is_empty(), "{what}: an empty message");
    for leak in LEAKS {
        assert!(!m.contains(leak), "{what}: {leak:?} in {m:?}");
    }
    assert!(
        !secviz_testkit::has_debug_name(m),
        "{what}: a Rust name in {m:?}"
    );
    assert!(
        !m.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: a raw control character in {m:?}"
    );
}

/// The text of the page's error box (`class="errors"`), tags removed.
fn errors_of(what: &str, html: &str) -> String {
    let start = html
        .find("class=\"errors\"")
        .unwrap_or_else(|| panic!("{what}: no error box in {html}"));
    let rest = &html[start..];
    let end = rest.find("</div>").or_else(|| rest.find("</p>")).unwrap();
    let mut text = String::new();
    let mut in_tag = true;
    for c in rest[..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// `s` percent-encoded for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post_count(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM posts")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    n
}

/// Bytes that are no log: control characters and invalid UTF-8.
fn garbage() -> Vec<u8> {
    (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

async fn uploads_and_forms(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let anon = app.client();

    // Forms.
    let r = anon
        .submit(
            "/signup",
            "/signup",
            &[
                ("username", "a b\u{1b}[31m"),
                ("email", "not-an-address"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_worded("sign-up", &errors_of("sign-up", &r.body));
    let r = anon
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", "wrong password here")],
        )
        .await;
    assert_worded("log-in", &errors_of("log-in", &r.body));
    let r = add_post_with_file(
        &ana,
        &[("title", ""), ("body", ""), ("data_format", "no-such\u{7}")],
        Some(("a.log", b"x\n".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_worded("a bad format", &errors_of("a bad format", &r.body));

    // An empty file: refused on the form, with the text kept; no post, no draft.
    let r = add_post_with_file(
        &ana,
        &[("title", "Kept empty title"), ("body", "Kept empty body")],
        Some(("empty.log", Vec::new())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let m = errors_of("an empty file", &r.body);
    assert!(m.contains("“empty.log” is empty"), "{m}");
    assert_worded("an empty file", &m);
    assert!(
        r.body.contains("Kept empty title") && r.body.contains("Kept empty body"),
        "{}",
        r.body
    );
    assert_eq!(post_count(&app).await, 0, "an empty upload became a post");
    let drafts = ana.get("/drafts").await;
    assert!(!drafts.body.contains("Kept empty title"), "{}", drafts.body);

    // Binary garbage: the draft says so once, in words; publishing it makes no post.
    let r = add_post_with_file(
        &ana,
        &[("title", "Garbage"), ("body", "b")],
        Some(("noise.bin", garbage())),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = wait_ingest(&ana, &draft).await;
    assert!(page.contains("data-status=\"failed\""), "{page}");
    let m = errors_of(
        "garbage",
        &page[page.find("id=\"data-status\"").unwrap() - 30..],
    );
    assert_eq!(m.matches("could not be read").count(), 1, "said once: {m}");
    assert!(m.contains("binary data"), "{m}");
    assert!(
        m.contains("Format list"),
        "what to do, in the form's words: {m}"
    );
    assert_worded("garbage", &m);
    let token = csrf_of(&page);
    let r = ana
        .post(
            &draft,
            &[
                ("csrf", token.as_str()),
                ("action", "publish"),
                ("title", "Garbage"),
                ("body", "b"),
                ("kind", "graph"),
                ("source", "src_ip"),
                ("target", "dst_ip"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_worded("publishing failed data", &errors_of("publish", &r.body));
    assert_eq!(post_count(&app).await, 0, "unparseable data became a post");

    // Lines of no known format: what was read, what was rejected.
    let r = add_post_with_file(
        &ana,
        &[("title", "Notes"), ("body", "b"), ("data_format", "pf")],
        Some(("notes.txt", b"hello world\nthis is not a log\n".to_vec())),
    )
    .await;
    let draft = r.location();
    let page = wait_ingest(&ana, &draft).await;
    assert!(page.contains("data-status=\"failed\""), "{page}");
    let m = errors_of(
        "no pf line",
        &page[page.find("id=\"data-status\"").unwrap() - 30..],
    );
    assert!(m.contains("2 lines read, 2 rejected"), "{m}");
    assert_worded("no pf line", &m);
    assert!(
        page.contains("Rejected lines"),
        "the first bad lines: {page}"
    );
    assert_eq!(post_count(&app).await, 0);

    // A log without years: the draft notes how its lines were dated (issue 17, point 6).
    let r = add_post_with_file(
        &ana,
        &[("title", "Years"), ("body", "b"), ("data_format", "pf")],
        Some(("pf.log", common::data::pf_log().into_bytes())),
    )
    .await;
    let page = wait_ingest(&ana, &r.location()).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let note = page
        .split("id=\"year-note\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no note on the dates: {page}"));
    assert!(
        note.starts_with("the log prints no year: its first line is dated ")
            && note.contains("day of the upload"),
        "{note}"
    );
}

async fn sql_and_views_api(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let post = data_post(&ana, "Errors").await;
    let (ds,): (String,) = sqlx::query_as("SELECT id FROM datasets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();

    for sql in [
        "SELEC src_ip FROM events",
        "SELECT nope FROM events",
        "SELECT * FROM no_such_table",
        "SELECT substr(src_ip, 'x') FROM events",
        "SELECT 1/0",
        "SELECT src_ip FROM events WHERE src_ip IN (SELECT 1) GROUP BY",
        "SELECT CAST('x' AS INT)",
        "DROP TABLE events",
        "SELECT '\u{1b}[31m' + 1",
    ] {
        let q = format!("/api/v1/datasets/{ds}/query?sql={}", encode(sql));
        let r = ana.get(&q).await;
        assert!(r.status.is_client_error(), "{sql}: {} {}", r.status, r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let m = v["error"]["message"].as_str().unwrap_or_default();
        assert_worded(sql, m);
    }

    // The viewer's API: the post's own view with a broken filter, then broken views.
    let spec: serde_json::Value =
        serde_json::from_str(&ana.get(&format!("/p/{post}/view.json")).await.body).unwrap();
    let mut broken = Vec::new();
    for filter in [
        "src_ip = = 1",
        "nope > 3",
        "substr(src_ip, 'x') = 'a'",
        "src_ip IN (SELECT 1)",
        "'\u{1b}[31m' + 1 = 2",
    ] {
        let mut s = spec.clone();
        s["filter"] = filter.into();
        broken.push((filter.to_string(), s.to_string()));
    }
    broken.push(("not JSON".into(), "{\"kind\": ".into()));
    broken.push((
        "an unknown kind".into(),
        "{\"kind\": \"pie\\u001b\"}".into(),
    ));
    let mut too_deep = spec.clone();
    too_deep["filter"] = "(".repeat(200).into();
    broken.push(("a deep filter".into(), too_deep.to_string()));
    for route in ["facets", "graph", "rows", "chart.svg"] {
        for (what, s) in &broken {
            let q = format!("/api/v1/views/datasets/{ds}/{route}?spec={}", encode(s));
            let r = ana.get(&q).await;
            assert!(
                r.status.is_client_error(),
                "{route} {what}: {} {}",
                r.status,
                r.body
            );
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            let m = v["error"].as_str().unwrap_or_default();
            assert_worded(&format!("{route} with {what}"), m);
        }
    }
}

on_both!(uploads_and_forms, sql_and_views_api);
