//! `secviz demo` (issue 7): an empty site gets three live data posts with thumbnails; a
//! site with content is refused.

use crate::common;

use common::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_an_empty_site_and_refuses_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = secviz_portal::Config::new(dir.path());
    let password = secviz_portal::demo::random_password();
    let admin = secviz_portal::demo::DemoAdmin {
        name: "Boss".into(),
        password: password.clone(),
    };
    let report = secviz_portal::demo::run(config, 1, Some(admin))
        .await
        .expect("demo runs");
    assert_eq!(report.admin.as_deref(), Some("boss"));
    assert_eq!(report.posts.len(), 3, "{report:?}");
    assert!(report.posts.iter().all(|p| p.events > 1000), "{report:?}");

    let again = secviz_portal::demo::run(secviz_portal::Config::new(dir.path()), 1, None).await;
    let msg = format!("{:#}", again.unwrap_err());
    assert!(msg.contains("not empty"), "{msg}");

    let path = dir.path().to_path_buf();
    let app = spawn_with(Backend::Sqlite, |c| c.data_dir = path.clone()).await;
    let anon = app.client();
    let gallery = anon.get("/gallery").await;
    assert_eq!(
        gallery.body.matches("/thumb").count(),
        3,
        "{}",
        gallery.body
    );
    for p in &report.posts {
        let page = anon.get(&format!("/p/{}", p.id)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-secviz-viewer"), "{}", page.body);
        // The server pictures behind the viewer draw.
        let src = page
            .body
            .split("<img src=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let src = src.replace("&#38;", "&");
        let (st, _, body) = anon.get_bytes(&src).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{src}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let puzzle = anon.get(&format!("/p/{}", report.posts[2].id)).await;
    assert!(puzzle.body.contains("dns-fixed-port"), "{}", puzzle.body);
    assert!(puzzle.body.contains("1030"), "{}", puzzle.body);

    // Tags have pages, and the administrator can log in and see the admin page.
    let tag = anon.get("/t/puzzle").await;
    assert_eq!(tag.status, StatusCode::OK);
    assert!(
        tag.body.contains(&format!("/p/{}", report.posts[2].id)),
        "{}",
        tag.body
    );
    let boss = app.client();
    assert_ne!(
        boss.get("/admin").await.status,
        StatusCode::OK,
        "before logging in"
    );
    let r = boss
        .submit(
            "/login",
            "/login",
            &[("username", "boss"), ("password", password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let admin = boss.get("/admin").await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
}
