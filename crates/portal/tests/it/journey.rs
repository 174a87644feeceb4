//! The whole member journey against the real app, on SQLite and PostgreSQL: sign up, log in,
//! add a gallery post with an image, find it on the front page, in the gallery, on its tag
//! page, in search and in the Atom feed, comment, reply, edit, delete.

use crate::common;

use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

async fn journey(backend: Backend) {
    let app = spawn(backend).await;
    let anon = app.client();

    // An empty site explains how to create the first admin.
    let home = anon.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("secviz user add"), "{}", home.body);

    let admin = app.with_role("root-admin", Role::Admin).await;
    let r = admin
        .submit(
            "/admin",
            "/admin/tags",
            &[
                ("slug", "firewall"),
                ("description", "pf and iptables logs"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Sign up, log out, log in again.
    let ana = app.member("ana").await;
    let r = ana.submit("/", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(ana.get("/new").await.status, StatusCode::UNAUTHORIZED);
    let r = ana
        .submit(
            "/login",
            "/login",
            &[("username", "ana"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(ana.get("/new").await.status, StatusCode::OK);

    // A gallery post with an image, previewed first.
    let fields = [
        ("action", "preview"),
        ("title", "Blocked hosts on the edge firewall"),
        (
            "body",
            "Top talkers from **pf** logs.\n\n```\nblock in on em0 from 10.0.0.1\n```\n\n| src | hits |\n|---|---|\n| 10.0.0.1 | 42 |",
        ),
        ("kind", "gallery"),
        ("tool", "secviz graph"),
        ("data_source", "pf logs, one week"),
        ("tags", "firewall"),
        ("newalt1", "Link graph of blocked sources"),
    ];
    let r = ana
        .submit_post("/new", &fields, &[("file1", "graph.png", png(640, 480))])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("<table>") && r.body.contains("Preview"),
        "preview shows rendered Markdown"
    );
    let image_id = r
        .body
        .split("name=\"image\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let mut publish = fields.to_vec();
    publish[0] = ("action", "publish");
    publish.retain(|(k, _)| *k != "newalt1");
    let alt_key = format!("alt_{image_id}");
    publish.push(("image", &image_id));
    publish.push((&alt_key, "Link graph of blocked sources"));
    let r = ana.submit_post("/new", &publish, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post_url = r.location();
    let post_id = post_url.trim_start_matches("/p/").to_string();

    // Found everywhere.
    let page = anon.get(&post_url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<pre><code>block in on em0"),
        "fenced code renders"
    );
    assert!(page.body.contains(&format!("src=\"/img/{image_id}\"")));
    let home = anon.get("/").await.body;
    assert!(
        home.contains("Blocked hosts on the edge firewall")
            && home.contains(&format!("/img/{image_id}/thumb"))
    );
    assert!(
        home.contains(
            "Sign up and start posting about analytics and visualization of security data"
        )
    );
    assert!(anon.get("/gallery").await.body.contains(&post_url));
    assert!(
        anon.get("/gallery?tag=firewall")
            .await
            .body
            .contains(&post_url)
    );
    assert!(anon.get("/t/firewall").await.body.contains(&post_url));
    let found = anon.get("/search?q=talkers").await.body;
    assert!(found.contains(&post_url), "search finds the post: {found}");
    let feed = anon.get("/feed.atom").await;
    assert_eq!(
        feed.headers["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    assert!(
        feed.body.contains("Blocked hosts on the edge firewall")
            && feed.body.contains(&format!("{}/p/{post_id}", app.base))
    );
    assert!(
        anon.get("/t/firewall/feed.atom")
            .await
            .body
            .contains("<entry>")
    );
    assert!(anon.get("/u/ana/feed.atom").await.body.contains("<entry>"));
    let (status, headers, bytes) = anon.get_bytes(&format!("/img/{image_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 640);

    // Comment, reply, find the comment by search, edit, delete.
    let bob = app.member("bob").await;
    let r = bob
        .submit(
            &post_url,
            &format!("{post_url}/comments"),
            &[("body", "Which **rules** produced the colours?")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let comment_id = r.location().rsplit("#c").next().unwrap().to_string();
    let r = ana
        .submit(
            &post_url,
            &format!("{post_url}/comments"),
            &[("body", "The default rules file."), ("parent", &comment_id)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = anon.get(&post_url).await.body;
    assert!(
        page.contains("<strong>rules</strong>")
            && page.contains("class=\"reply\"")
            && page.contains("2 comments")
    );
    assert!(
        anon.get("/search?q=colours")
            .await
            .body
            .contains(&format!("#c{comment_id}"))
    );
    assert!(anon.get("/").await.body.contains("2 comments"));

    let r = bob
        .submit(
            &format!("/c/{comment_id}/edit"),
            &format!("/c/{comment_id}/edit"),
            &[("body", "Which rules made the colours? (edited)")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(anon.get(&post_url).await.body.contains("(edited)"));
    let r = bob
        .submit(&post_url, &format!("/c/{comment_id}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = anon.get(&post_url).await.body;
    assert!(page.contains("deleted by its author") && !page.contains("(edited)"));

    // Edit the post (keep the image), then delete it.
    let edit = ana.get(&format!("{post_url}/edit")).await;
    assert!(edit.body.contains("Blocked hosts on the edge firewall"));
    let mut changed = publish.clone();
    changed[1] = ("title", "Blocked hosts, revised");
    let r = ana
        .submit_post(&format!("{post_url}/edit"), &changed, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        anon.get(&post_url)
            .await
            .body
            .contains("Blocked hosts, revised")
    );
    let r = ana
        .submit(&post_url, &format!("{post_url}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.get(&post_url).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        anon.get_bytes(&format!("/img/{image_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!anon.get("/search?q=talkers").await.body.contains(&post_url));
}

async fn failed_post_keeps_every_field(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let body = "A long analysis that must not be lost.\n\n```\nline 1\n```";
    let r = ana
        .submit_post(
            "/new",
            &[
                ("action", "publish"),
                ("title", ""),
                ("body", body),
                ("kind", "gallery"),
                ("tool", "gnuplot"),
                ("newalt1", ""),
            ],
            &[("file1", "x.png", png(20, 20))],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Give the post a title"));
    assert!(r.body.contains("needs alt text"));
    assert!(r.body.contains("names its data source"));
    assert!(
        r.body.contains("A long analysis that must not be lost."),
        "body kept"
    );
    assert!(r.body.contains("value=\"gnuplot\""), "tool kept");
    assert!(
        r.body.contains("name=\"image\" value=\""),
        "uploaded image kept as a draft"
    );
}

on_both!(journey, failed_post_keeps_every_field);

async fn anonymous_page_cache_never_serves_stale_pages(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let moderator = app.with_role("mod", Role::Moderator).await;
    let anon = app.client();
    let id = common::create_post(&ana, "First title", "text", &[], &[]).await;
    let p = format!("/p/{id}");
    for _ in 0..2 {
        assert!(anon.get(&p).await.body.contains("First title"));
        assert!(anon.get("/").await.body.contains("First title"));
    }
    let fields = [
        ("action", "publish"),
        ("title", "Second title"),
        ("body", "text"),
    ];
    let r = ana.submit_post(&format!("{p}/edit"), &fields, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        anon.get(&p).await.body.contains("Second title"),
        "edit visible at once"
    );
    assert!(anon.get("/").await.body.contains("Second title"));
    moderator
        .submit(&p, &format!("{p}/hide"), &[("reason", "off topic")])
        .await;
    assert_eq!(
        anon.get(&p).await.status,
        StatusCode::NOT_FOUND,
        "hidden at once"
    );
    assert!(!anon.get("/").await.body.contains("Second title"));
    // Pages with a per-visitor token are never shared.
    let a = app.client().csrf("/login").await;
    let b = app.client().csrf("/login").await;
    assert_ne!(a, b);
}

on_both!(anonymous_page_cache_never_serves_stale_pages);
