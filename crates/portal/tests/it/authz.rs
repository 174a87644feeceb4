//! The authorisation matrix (SECURITY.md rows 12, 13, 15): every route × {anonymous, member
//! (the author), another member, moderator, admin} → the expected status, on SQLite and
//! PostgreSQL. Others' private things answer 404, not 403, so ids leak nothing. Every POST
//! route also refuses a request without the CSRF token (row 14).

use crate::common;

use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

pub(crate) const ANON: usize = 0;
pub(crate) const AUTHOR: usize = 1;
pub(crate) const OTHER: usize = 2;
pub(crate) const MODERATOR: usize = 3;
pub(crate) const ADMIN: usize = 4;
const WHO: [&str; 5] = ["anonymous", "author", "other member", "moderator", "admin"];

/// What each case gets to work on: made fresh for every request, so deletions do not leak
/// into the next case.
struct Fixture {
    post: i64,
    comment: i64,
    draft: String,
    image: String,
}

async fn fixture(author: &Client) -> Fixture {
    // A draft upload (previewed, never published) and a published image.
    let r = author
        .submit_post(
            "/new",
            &[
                ("action", "preview"),
                ("title", "draft"),
                ("body", "x"),
                ("newalt1", "draft image"),
            ],
            &[("file1", "d.png", png(8, 8))],
        )
        .await;
    let draft = r
        .body
        .split("name=\"image\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let post = create_post(
        author,
        "Matrix post",
        "body text",
        &[("tags", "matrix"), ("newalt1", "an image")],
        &[("file1", "p.png", png(8, 8))],
    )
    .await;
    let page = author.get(&format!("/p/{post}")).await.body;
    let image = page
        .split("src=\"/img/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = author
        .submit(
            &format!("/p/{post}"),
            &format!("/p/{post}/comments"),
            &[("body", "a comment")],
        )
        .await;
    let comment = r.location().rsplit("#c").next().unwrap().parse().unwrap();
    Fixture {
        post,
        comment,
        draft,
        image,
    }
}

fn fill(path: &str, f: &Fixture) -> String {
    path.replace("{post}", &f.post.to_string())
        .replace("{comment}", &f.comment.to_string())
        .replace("{draft}", &f.draft)
        .replace("{image}", &f.image)
}

pub(crate) const OK: u16 = 200;
pub(crate) const SEE: u16 = 303;
pub(crate) const UNAUTH: u16 = 401;
const FORBID: u16 = 403;
pub(crate) const NF: u16 = 404;
pub(crate) const UNPROC: u16 = 422;

/// (method, path, form fields, expected status for [anon, author, other, moderator, admin]).
pub(crate) type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    [u16; 5],
);

const CASES: &[Case] = &[
    ("GET", "/", &[], [OK; 5]),
    ("GET", "/gallery", &[], [OK; 5]),
    ("GET", "/gallery?tag=matrix", &[], [OK; 5]),
    ("GET", "/tags", &[], [OK; 5]),
    ("GET", "/t/matrix", &[], [OK; 5]),
    ("GET", "/t/no-such-tag", &[], [NF; 5]),
    ("GET", "/p/{post}", &[], [OK; 5]),
    ("GET", "/p/999999", &[], [NF; 5]),
    ("GET", "/c/{comment}", &[], [SEE; 5]),
    ("GET", "/u/author", &[], [OK; 5]),
    ("GET", "/search?q=matrix", &[], [OK; 5]),
    ("GET", "/modlog", &[], [OK; 5]),
    ("GET", "/feed.atom", &[], [OK; 5]),
    ("GET", "/t/matrix/feed.atom", &[], [OK; 5]),
    ("GET", "/u/author/feed.atom", &[], [OK; 5]),
    ("GET", "/img/{image}", &[], [OK; 5]),
    ("GET", "/img/{image}/thumb", &[], [OK; 5]),
    ("GET", "/img/{draft}", &[], [NF, OK, NF, NF, NF]),
    ("GET", "/img/{draft}/thumb", &[], [NF, OK, NF, NF, NF]),
    ("GET", "/static/style.css", &[], [OK; 5]),
    ("GET", "/login", &[], [OK; 5]),
    ("GET", "/signup", &[], [OK; 5]),
    ("GET", "/reset", &[], [OK; 5]),
    ("GET", "/new", &[], [UNAUTH, OK, OK, OK, OK]),
    ("GET", "/account", &[], [UNAUTH, OK, OK, OK, OK]),
    ("GET", "/p/{post}/edit", &[], [UNAUTH, OK, NF, NF, NF]),
    ("GET", "/c/{comment}/edit", &[], [UNAUTH, OK, NF, NF, NF]),
    ("GET", "/admin", &[], [UNAUTH, FORBID, FORBID, FORBID, OK]),
    (
        "POST",
        "/p/{post}/comments",
        &[("body", "hello")],
        [UNAUTH, SEE, SEE, SEE, SEE],
    ),
    (
        "POST",
        "/c/{comment}/edit",
        &[("body", "changed")],
        [UNAUTH, SEE, NF, NF, NF],
    ),
    (
        "POST",
        "/c/{comment}/delete",
        &[],
        [UNAUTH, SEE, NF, NF, NF],
    ),
    ("POST", "/p/{post}/delete", &[], [UNAUTH, SEE, NF, NF, NF]),
    (
        "POST",
        "/p/{post}/hide",
        &[("reason", "spam")],
        [UNAUTH, FORBID, FORBID, SEE, SEE],
    ),
    (
        "POST",
        "/p/{post}/unhide",
        &[("reason", "ok")],
        [UNAUTH, FORBID, FORBID, SEE, SEE],
    ),
    (
        "POST",
        "/c/{comment}/hide",
        &[("reason", "spam")],
        [UNAUTH, FORBID, FORBID, SEE, SEE],
    ),
    (
        "POST",
        "/c/{comment}/unhide",
        &[("reason", "ok")],
        [UNAUTH, FORBID, FORBID, SEE, SEE],
    ),
    (
        "POST",
        "/admin/tags",
        &[("slug", "new-tag"), ("description", "d")],
        [UNAUTH, FORBID, FORBID, FORBID, SEE],
    ),
    (
        "POST",
        "/admin/tags/matrix/delete",
        &[],
        [UNAUTH, FORBID, FORBID, FORBID, SEE],
    ),
    (
        "POST",
        "/admin/users/other/role",
        &[("role", "member")],
        [UNAUTH, FORBID, FORBID, FORBID, SEE],
    ),
    (
        "POST",
        "/account/password",
        &[
            ("current", "wrong password here"),
            ("new", "a brand new passphrase"),
        ],
        [UNAUTH, UNPROC, UNPROC, UNPROC, UNPROC],
    ),
    (
        "POST",
        "/account/email",
        &[
            ("current", "wrong password here"),
            ("email", "x@example.org"),
        ],
        [UNAUTH, UNPROC, UNPROC, UNPROC, UNPROC],
    ),
    (
        "POST",
        "/account/tokens",
        &[("dataset", "nope"), ("label", "x"), ("days", "9")],
        [UNAUTH, UNPROC, UNPROC, UNPROC, UNPROC],
    ),
    (
        "POST",
        "/account/tokens/0123456789abcdef/revoke",
        &[],
        [UNAUTH, NF, NF, NF, NF],
    ),
    (
        "MULTIPART",
        "/p/{post}/edit",
        &[("action", "publish"), ("title", "t"), ("body", "b")],
        [UNAUTH, SEE, NF, NF, NF],
    ),
    (
        "MULTIPART",
        "/new",
        &[("action", "publish"), ("title", "t"), ("body", "b")],
        [UNAUTH, SEE, SEE, SEE, SEE],
    ),
];

/// Records a case whose status is not the one expected.
pub(crate) fn expect(
    failures: &mut Vec<String>,
    who: usize,
    method: &str,
    path: &str,
    got: StatusCode,
    expected: u16,
) {
    if got.as_u16() != expected {
        failures.push(format!(
            "{method} {path} as {}: expected {expected}, got {got}",
            WHO[who]
        ));
    }
}

/// Sends one case as `c`: the page's CSRF token goes with every POST, first in a multipart.
pub(crate) async fn send(
    c: &Client,
    method: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    match method {
        "GET" => c.get(path).await.status,
        "POST" => {
            let token = c.csrf("/login").await;
            let mut all = vec![("csrf", token.as_str())];
            all.extend_from_slice(fields);
            c.post(path, &all).await.status
        }
        _ => {
            let token = c.csrf("/login").await;
            let mut form = reqwest::multipart::Form::new().text("csrf", token);
            for (k, v) in fields {
                form = form.text(k.to_string(), v.to_string());
            }
            c.http
                .post(format!("{}{path}", c.base))
                .multipart(form)
                .send()
                .await
                .unwrap()
                .status()
        }
    }
}

async fn matrix(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.with_role("admin", Role::Admin).await;
    let clients = [
        app.client(),
        app.member("author").await,
        app.member("other").await,
        app.with_role("moderator", Role::Moderator).await,
        admin.clone(),
    ];
    let mut failures = Vec::new();
    admin
        .submit(
            "/admin",
            "/admin/tags",
            &[("slug", "matrix"), ("description", "")],
        )
        .await;
    let mut f = fixture(&clients[AUTHOR]).await;
    for (method, path, fields, expected) in CASES {
        for who in [ANON, AUTHOR, OTHER, MODERATOR, ADMIN] {
            if *method != "GET" {
                // State changes get fresh things to change; the tag is restored if deleted.
                admin
                    .submit(
                        "/admin",
                        "/admin/tags",
                        &[("slug", "matrix"), ("description", "")],
                    )
                    .await;
                f = fixture(&clients[AUTHOR]).await;
            }
            let got = send(&clients[who], method, &fill(path, &f), fields).await;
            expect(&mut failures, who, method, path, got, expected[who]);
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix:\n{}",
        failures.join("\n")
    );
}

async fn every_post_route_needs_the_csrf_token(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.with_role("admin", Role::Admin).await;
    admin
        .submit("/admin", "/admin/tags", &[("slug", "matrix")])
        .await;
    let anon = app.client();
    anon.get("/login").await; // holds an anonymous CSRF cookie, sends no token
    let f = fixture(&admin).await;
    let mut paths: Vec<(bool, String)> = CASES
        .iter()
        .filter(|c| c.0 != "GET")
        .map(|c| (c.0 == "MULTIPART", fill(c.1, &f)))
        .collect();
    paths.extend(["/login", "/signup", "/logout", "/reset"].map(|p| (false, p.to_string())));
    for (multipart, path) in &paths {
        for (who, c) in [("admin", &admin), ("anonymous", &anon)] {
            let send = |token: Option<&'static str>| {
                let url = format!("{}{path}", c.base);
                let fields = [("body", "x"), ("reason", "x"), ("title", "x")];
                let req = if *multipart {
                    let mut form = reqwest::multipart::Form::new();
                    if let Some(t) = token {
                        form = form.text("csrf", t);
                    }
                    for (k, v) in fields {
                        form = form.text(k, v);
                    }
                    c.http.post(url).multipart(form)
                } else {
                    let mut all = fields.to_vec();
                    if let Some(t) = token {
                        all.push(("csrf", t));
                    }
                    c.http.post(url).form(&all)
                };
                async move { req.send().await.unwrap().status() }
            };
            let missing = send(None).await;
            let wrong = send(Some("0123456789abcdef")).await;
            assert_eq!(
                missing,
                StatusCode::FORBIDDEN,
                "POST {path} without token as {who}"
            );
            assert_eq!(
                wrong,
                StatusCode::FORBIDDEN,
                "POST {path} with a wrong token as {who}"
            );
        }
        // A real token from a foreign or null Origin is refused too.
        let token = admin.csrf("/login").await;
        for origin in ["https://evil.example", "null"] {
            let r = admin
                .http
                .post(format!("{}{path}", admin.base))
                .header("origin", origin)
                .form(&[("csrf", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                StatusCode::FORBIDDEN,
                "POST {path} from Origin {origin}"
            );
        }
        let r = admin
            .http
            .post(format!("{}{path}", admin.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "POST {path} with Sec-Fetch-Site: cross-site"
        );
    }
    // The same-origin Origin header a browser sends is accepted.
    let token = admin.csrf("/login").await;
    let r = admin
        .http
        .post(format!("{}/p/{}/comments", admin.base, f.post))
        .header("origin", &app.base)
        .form(&[("csrf", token.as_str()), ("body", "same origin")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// What the data routes work on: a published data post and an unpublished draft with its
/// own data, both of the author's.
pub(crate) struct DataFixture {
    post: i64,
    pub(crate) post_dataset: String,
    draft: String,
    pub(crate) draft_dataset: String,
}

pub(crate) async fn data_fixture(app: &TestApp, author: &Client) -> DataFixture {
    let post = data::data_post(author, "Matrix data post").await;
    let post_dataset: String =
        sqlx::query_scalar("SELECT dataset_id FROM post_data WHERE post_id = $1")
            .bind(post)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let (draft, draft_dataset) = data_draft(app, author).await;
    DataFixture {
        post,
        post_dataset,
        draft,
        draft_dataset,
    }
}

/// A draft of `author`'s with its own data, ingested; its path and dataset.
async fn data_draft(app: &TestApp, author: &Client) -> (String, String) {
    let r = data::add_post_with_file(
        author,
        &[
            ("title", "Matrix draft"),
            ("body", "not yet"),
            ("data_format", "pf"),
            ("data_year", "2025"),
            ("data_text", &data::pf_log()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = data::wait_ingest(author, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    // Saved once with a graph, so it has a recipe and a preview.
    let token = csrf_of(&page);
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("action", "save"),
        ("title", "Matrix draft"),
        ("body", "not yet"),
    ];
    fields.extend_from_slice(data::GRAPH_VIEW);
    let r = author.post(&draft, &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id: i64 = draft.trim_start_matches("/drafts/").parse().unwrap();
    let draft_dataset: String = sqlx::query_scalar("SELECT dataset_id FROM drafts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    (draft, draft_dataset)
}

fn fill_data(path: &str, f: &DataFixture) -> String {
    path.replace("{post}", &f.post.to_string())
        .replace("{pds}", &f.post_dataset)
        .replace("{draft}", &f.draft)
        .replace("{dds}", &f.draft_dataset)
}

const COUNT: &str = "sql=SELECT%20count(*)%20AS%20n%20FROM%20events";

/// The data routes (issue 7, issue 14): a published post's data, recipe and pictures are
/// public; a draft, its preview and its dataset are its author's alone, and answer 404 to
/// everyone else, staff included (a draft is not published content to moderate).
async fn data_matrix(backend: Backend) {
    let app = spawn(backend).await;
    let clients = [
        app.client(),
        app.member("author").await,
        app.member("other").await,
        app.with_role("moderator", Role::Moderator).await,
        app.with_role("admin", Role::Admin).await,
    ];
    let f = data_fixture(&app, &clients[AUTHOR]).await;
    let count_post = format!("/api/v1/datasets/{{pds}}/query?{COUNT}");
    let count_draft = format!("/api/v1/datasets/{{dds}}/query?{COUNT}");
    let reads: Vec<(String, [u16; 5])> = vec![
        ("/drafts".into(), [UNAUTH, OK, OK, OK, OK]),
        ("{draft}".into(), [UNAUTH, OK, NF, NF, NF]),
        ("{draft}/preview.svg".into(), [UNAUTH, OK, NF, NF, NF]),
        ("/p/{post}/recipe.json".into(), [OK; 5]),
        ("/p/{post}/view.json".into(), [OK; 5]),
        ("/p/{post}/rules.txt".into(), [OK; 5]),
        ("/p/{post}/data.jsonl.gz".into(), [OK; 5]),
        (count_post, [OK; 5]),
        (count_draft, [NF, OK, NF, NF, NF]),
        ("/api/v1/views/datasets/{pds}/info".into(), [OK; 5]),
        (
            "/api/v1/views/datasets/{dds}/info".into(),
            [NF, OK, NF, NF, NF],
        ),
        (
            "/api/v1/views/datasets/{dds}/graph.svg".into(),
            [NF, OK, NF, NF, NF],
        ),
    ];
    let mut failures = Vec::new();
    for (path, expected) in &reads {
        for who in [ANON, AUTHOR, OTHER, MODERATOR, ADMIN] {
            let path = fill_data(path, &f);
            let got = send(&clients[who], "GET", &path, &[]).await;
            expect(&mut failures, who, "GET", &path, got, expected[who]);
        }
    }
    // Changes, each on fresh things: a remix of the post, a save, a publish and a
    // deletion of the draft, new data attached to it.
    let changes: &[Case] = &[
        (
            "POST",
            "/p/{post}/remix",
            &[("with_data", "1")],
            [UNAUTH, SEE, SEE, SEE, SEE],
        ),
        (
            "POST",
            "{draft}",
            &[("action", "save"), ("title", "t"), ("body", "b")],
            // The author's save shows the draft again, saved.
            [UNAUTH, OK, NF, NF, NF],
        ),
        (
            "POST",
            "{draft}",
            &[("action", "delete")],
            [UNAUTH, SEE, NF, NF, NF],
        ),
        (
            "MULTIPART",
            "{draft}/data",
            &[
                ("data_format", "pf"),
                ("data_year", "2025"),
                (
                    "data_text",
                    "Oct 21 06:00:01.015678 rule 57/0(match): pass out on xl1: 10.1.1.1.1030 > 192.0.2.1.53: 1+ A? a.example. (43)",
                ),
            ],
            [UNAUTH, SEE, NF, NF, NF],
        ),
    ];
    let mut f = f;
    for (method, path, fields, expected) in changes {
        for who in [ANON, AUTHOR, OTHER, MODERATOR, ADMIN] {
            if path.contains("{draft}") {
                (f.draft, f.draft_dataset) = data_draft(&app, &clients[AUTHOR]).await;
            }
            let path = fill_data(path, &f);
            let got = send(&clients[who], method, &path, fields).await;
            expect(&mut failures, who, method, &path, got, expected[who]);
        }
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix of the data routes:\n{}",
        failures.join("\n")
    );
}

on_both!(matrix, data_matrix, every_post_route_needs_the_csrf_token);
