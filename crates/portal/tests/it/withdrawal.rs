//! Withdrawal (issue 14) against the real app, on SQLite and PostgreSQL: when its author
//! deletes a data post, or a moderator hides it, its data leaves the public everywhere —
//! every data route of the post and of a remix of it by another member (the SQL API, each
//! route of the viewer's API, the downloads, the thumbnails), the gallery, the post pages,
//! the cached pictures on disk — and a remix says the data was withdrawn and by whom.
//! Unhiding brings it all back; deleting does not.

use crate::common;

use std::path::PathBuf;

use common::data::{GRAPH_VIEW, data_post, publish_graph, remix_with_data, wait_ingest};
use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

/// Routes of the viewer's API, under `/api/v1/views/datasets/{dataset}/`.
const VIEWS_API: &[&str] = &[
    "info",
    "facets",
    "timeline",
    "parallel",
    "graph",
    "graph.svg",
    "chart.svg",
    "chart.png",
    "rows",
    "export.csv",
];

/// Downloads of a data post, under `/p/{id}/`.
const DOWNLOADS: &[&str] = &["data.jsonl.gz", "recipe.json", "view.json", "rules.txt"];

/// A data post by ana, its remix (with the data) published by bob, a remix draft of carol's
/// with the data, and who is looking.
struct World {
    app: TestApp,
    ana: Client,
    bob: Client,
    carol: Client,
    moderator: Client,
    anon: Client,
    post: i64,
    remix: i64,
    carol_draft: String,
    dataset: String,
    /// The gallery thumbnails (image ids) of the post and of the remix.
    post_thumb: String,
    remix_thumb: String,
}

async fn world(backend: Backend) -> World {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let bob = app.member("bob").await;
    let carol = app.member("carol").await;
    let moderator = app.with_role("mod", Role::Moderator).await;
    let anon = app.client();
    let post = data_post(&ana, "Lookups from port 1030").await;
    let draft = remix_with_data(&bob, post).await;
    let page = wait_ingest(&bob, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let remix = publish_graph(&bob, &draft, "Remix of the lookups by bob").await;
    let carol_draft = remix_with_data(&carol, post).await;
    let rows = sqlx::query_as::<_, (i64, Option<String>, Option<String>)>(
        "SELECT post_id, dataset_id, thumb_image FROM post_data ORDER BY post_id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0, rows[1].0), (post, remix));
    assert_eq!(
        rows[0].1, rows[1].1,
        "a remix references the post's dataset"
    );
    World {
        dataset: rows[0].1.clone().unwrap(),
        post_thumb: rows[0].2.clone().unwrap(),
        remix_thumb: rows[1].2.clone().unwrap(),
        app,
        ana,
        bob,
        carol,
        moderator,
        anon,
        post,
        remix,
        carol_draft,
    }
}

impl World {
    /// Every route that reads the dataset through `post`: the SQL API, the viewer's API, the
    /// post's downloads and its thumbnail (full and small).
    fn data_routes(&self, post: i64, thumb: &str) -> Vec<String> {
        let ds = &self.dataset;
        let mut routes = vec![format!(
            "/api/v1/datasets/{ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        )];
        routes.extend(
            VIEWS_API
                .iter()
                .map(|r| format!("/api/v1/views/datasets/{ds}/{r}")),
        );
        routes.extend(DOWNLOADS.iter().map(|r| format!("/p/{post}/{r}")));
        routes.push(format!("/img/{thumb}"));
        routes.push(format!("/img/{thumb}/thumb"));
        routes
    }

    fn post_routes(&self) -> Vec<String> {
        self.data_routes(self.post, &self.post_thumb)
    }

    fn remix_routes(&self) -> Vec<String> {
        self.data_routes(self.remix, &self.remix_thumb)
    }

    fn pictures(&self) -> PathBuf {
        self.app.data.path().join("pictures").join(&self.dataset)
    }

    /// Where the lake keeps the dataset's files.
    fn lake_dir(&self) -> PathBuf {
        self.app
            .data
            .path()
            .join("lake")
            .join("datasets")
            .join(&self.dataset)
    }

    fn image_file(&self, id: &str) -> PathBuf {
        self.app.data.path().join("images").join(id)
    }

    /// The SQL API by POST (JSON body), the other way in.
    async fn query_post(&self, c: &Client) -> StatusCode {
        c.http
            .post(format!("{}/api/v1/datasets/{}/query", c.base, self.dataset))
            .json(&serde_json::json!({"sql": "SELECT count(*) AS n FROM events"}))
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// Asserts that `who` gets `want` on every route, listing every route that answers otherwise.
async fn expect_all(who: &str, c: &Client, routes: &[String], want: StatusCode) {
    let mut wrong = Vec::new();
    for r in routes {
        let (status, _, body) = c.get_bytes(r).await;
        if status != want {
            let body = match std::str::from_utf8(&body) {
                Ok(text) => text.chars().take(120).collect(),
                Err(_) => format!("({} bytes)", body.len()),
            };
            wrong.push(format!("{r}: {status} {body}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{who} expected {want} on every data route, got:\n{}",
        wrong.join("\n")
    );
}

/// The data is public: every route answers everyone, the pages show the pictures.
async fn assert_public(w: &World, when: &str) {
    let mut routes = w.post_routes();
    routes.extend(w.remix_routes());
    for (who, c) in [
        ("anonymous", &w.anon),
        ("another member", &w.carol),
        ("the remix's author", &w.bob),
    ] {
        expect_all(&format!("{when}: {who}"), c, &routes, StatusCode::OK).await;
        assert_eq!(w.query_post(c).await, StatusCode::OK, "{when}: {who}");
    }
    let gallery = w.anon.get("/gallery").await.body;
    for thumb in [&w.post_thumb, &w.remix_thumb] {
        assert!(
            gallery.contains(&format!("/img/{thumb}/thumb")),
            "{when}: {gallery}"
        );
        // Never kept by a shared cache: a withdrawal must hold at once.
        let (_, headers, _) = w.anon.get_bytes(&format!("/img/{thumb}/thumb")).await;
        assert_eq!(headers["cache-control"], "private, no-cache", "{when}");
    }
    let page = w.anon.get(&format!("/p/{}", w.remix)).await.body;
    assert!(page.contains("data-secviz-viewer"), "{when}: {page}");
    assert!(!page.contains("Data withdrawn"), "{when}: {page}");
}

/// The data is withdrawn from the public: every data route of the post and of the remix
/// answers 404 to anonymous visitors, other members and the remix's author; the gallery and
/// the remix page show no picture of it; the remix page says `sentence`; its pictures are
/// gone from disk.
async fn assert_withdrawn(w: &World, when: &str, sentence: &str) {
    let mut routes = w.post_routes();
    routes.extend(w.remix_routes());
    for (who, c) in [
        ("anonymous", &w.anon),
        ("another member", &w.carol),
        ("the remix's author", &w.bob),
    ] {
        expect_all(&format!("{when}: {who}"), c, &routes, StatusCode::NOT_FOUND).await;
        assert_eq!(
            w.query_post(c).await,
            StatusCode::NOT_FOUND,
            "{when}: {who}"
        );
    }
    for list in ["/gallery", "/", "/u/bob"] {
        let body = w.anon.get(list).await.body;
        for thumb in [&w.post_thumb, &w.remix_thumb] {
            assert!(!body.contains(thumb.as_str()), "{when}: {list}: {body}");
        }
    }
    let gallery = w.anon.get("/gallery").await.body;
    assert!(
        gallery.contains("Remix of the lookups by bob"),
        "{when}: the remix stays in the gallery: {gallery}"
    );
    for (who, c) in [
        ("anonymous", &w.anon),
        ("another member", &w.carol),
        ("the remix's author", &w.bob),
    ] {
        let page = c.get(&format!("/p/{}", w.remix)).await;
        assert_eq!(page.status, StatusCode::OK, "{when}: {who}");
        assert!(page.body.contains(sentence), "{when}: {who}: {}", page.body);
        assert!(!page.body.contains("data-secviz-viewer"), "{when}: {who}");
        assert!(!page.body.contains("/api/v1/views/"), "{when}: {who}");
        assert!(!page.body.contains(&w.remix_thumb), "{when}: {who}");
        assert!(!page.body.contains(&w.dataset), "{when}: {who}");
    }
    assert!(
        !w.pictures().exists(),
        "{when}: the cached pictures of the dataset are still on disk"
    );
    // Carol's remix draft no longer shows the data nor draws it.
    let draft = w.carol.get(&w.carol_draft).await.body;
    assert!(!draft.contains("data-status=\"ready\""), "{when}: {draft}");
    assert_eq!(
        w.carol
            .get(&format!("{}/preview.svg", w.carol_draft))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "{when}"
    );
}

async fn issue_14_deleting_a_post_withdraws_its_data_from_remixes(backend: Backend) {
    let w = world(backend).await;
    assert_public(&w, "before").await;
    assert!(w.pictures().exists(), "publishing drew the pictures");
    let lake = w.lake_dir();
    assert!(
        lake.exists(),
        "the dataset's files are at {}",
        lake.display()
    );

    let p = format!("/p/{}", w.post);
    let r = w.ana.submit(&p, &format!("{p}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    assert_withdrawn(&w, "after the delete", "Data withdrawn by its author.").await;
    // Gone for everyone: moderators and the author too, from the post and the remix.
    let mut routes = w.post_routes();
    routes.extend(w.remix_routes());
    for (who, c) in [("moderator", &w.moderator), ("author", &w.ana)] {
        expect_all(who, c, &routes, StatusCode::NOT_FOUND).await;
        let page = c.get(&format!("/p/{}", w.remix)).await.body;
        assert!(
            page.contains("Data withdrawn by its author."),
            "{who}: {page}"
        );
    }
    // Nothing of it is kept: not the dataset, not its files, not the remix's thumbnail or
    // findings. The remix itself stays.
    assert!(!lake.exists(), "the dataset's files are still on disk");
    for thumb in [&w.post_thumb, &w.remix_thumb] {
        assert!(!w.image_file(thumb).exists(), "thumbnail {thumb} kept");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM datasets")
        .fetch_one(&w.app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "the dataset row is kept");
    let (ds, thumb, analysis): (Option<String>, Option<String>, String) = sqlx::query_as(
        "SELECT dataset_id, thumb_image, analysis FROM post_data WHERE post_id = $1",
    )
    .bind(w.remix)
    .fetch_one(&w.app.db.pool)
    .await
    .unwrap();
    assert_eq!((ds, thumb, analysis.as_str()), (None, None, ""));
    let draft = w.carol.get(&w.carol_draft).await.body;
    assert!(draft.contains("data-status=\"none\""), "{draft}");
    // A remix of the remix is refused: there is nothing to remix.
    let page = format!("/p/{}", w.remix);
    let token = csrf_of(&w.carol.get(&page).await.body);
    let r = w
        .carol
        .post(
            &format!("{page}/remix"),
            &[("csrf", token.as_str()), ("with_data", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn issue_14_hiding_a_post_withdraws_its_data_until_unhidden(backend: Backend) {
    let w = world(backend).await;
    assert_public(&w, "before").await;
    assert!(w.pictures().exists(), "publishing drew the pictures");

    let p = format!("/p/{}", w.post);
    let r = w
        .moderator
        .submit(&p, &format!("{p}/hide"), &[("reason", "leaks a customer")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    assert_withdrawn(&w, "after the hide", "Data withdrawn by a moderator.").await;
    let draft = w.carol.get(&w.carol_draft).await.body;
    assert!(draft.contains("was withdrawn"), "{draft}");
    let token = csrf_of(&draft);
    let mut publish = vec![
        ("csrf", token.as_str()),
        ("action", "publish"),
        ("title", "Carol's remix"),
        ("body", "text"),
    ];
    publish.extend_from_slice(GRAPH_VIEW);
    let r = w.carol.post(&w.carol_draft, &publish).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // The author and moderators still see the hidden post's data.
    for (who, c) in [("author", &w.ana), ("moderator", &w.moderator)] {
        expect_all(who, c, &w.post_routes(), StatusCode::OK).await;
        let page = c.get(&p).await.body;
        assert!(page.contains("data-secviz-viewer"), "{who}: {page}");
    }
    // The remix's thumbnail is kept on disk for the unhide, out of everyone else's reach.
    assert!(w.image_file(&w.remix_thumb).exists());

    let r = w
        .moderator
        .submit(&p, &format!("{p}/unhide"), &[("reason", "restored")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_public(&w, "after the unhide").await;
    // The pictures are drawn again on demand: carol's remix draft previews again.
    let (status, _, svg) = w
        .carol
        .get_bytes(&format!("{}/preview.svg", w.carol_draft))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
    assert!(w.pictures().exists(), "the preview drew the picture again");
}

/// The author deleted their post but kept a draft with the data: the data stays theirs alone
/// (remixes say it was withdrawn by its author) until the draft goes too.
async fn issue_14_a_draft_of_the_author_keeps_withdrawn_data_private(backend: Backend) {
    let w = world(backend).await;
    let own_draft = remix_with_data(&w.ana, w.post).await;
    let p = format!("/p/{}", w.post);
    let r = w.ana.submit(&p, &format!("{p}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    expect_all("bob", &w.bob, &w.remix_routes(), StatusCode::NOT_FOUND).await;
    let page = w.anon.get(&format!("/p/{}", w.remix)).await.body;
    assert!(page.contains("Data withdrawn by its author."), "{page}");
    let query = &w.remix_routes()[0];
    assert_eq!(w.ana.get(query).await.status, StatusCode::OK);
    let lake = w.lake_dir();
    assert!(
        lake.exists(),
        "the dataset's files are at {}",
        lake.display()
    );

    // Deleting that draft removes the data for good.
    let token = csrf_of(&w.ana.get(&own_draft).await.body);
    let r = w
        .ana
        .post(
            &own_draft,
            &[("csrf", token.as_str()), ("action", "delete")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(w.ana.get(query).await.status, StatusCode::NOT_FOUND);
    assert!(!lake.exists(), "the dataset's files are still on disk");
    assert!(!w.image_file(&w.remix_thumb).exists());
    let page = w.anon.get(&format!("/p/{}", w.remix)).await.body;
    assert!(page.contains("Data withdrawn by its author."), "{page}");
}

/// The data stays public while another visible post of its author publishes it; it goes
/// with the last one.
async fn issue_14_the_data_stays_public_while_another_post_of_the_author_shows_it(
    backend: Backend,
) {
    let w = world(backend).await;
    let draft = remix_with_data(&w.ana, w.post).await;
    let second = publish_graph(&w.ana, &draft, "The lookups again").await;
    let p = format!("/p/{}", w.post);
    let r = w.ana.submit(&p, &format!("{p}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    expect_all("anonymous", &w.anon, &w.remix_routes(), StatusCode::OK).await;
    assert!(w.pictures().exists());

    let p = format!("/p/{second}");
    let r = w
        .moderator
        .submit(&p, &format!("{p}/hide"), &[("reason", "leaks a customer")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    expect_all(
        "anonymous",
        &w.anon,
        &w.remix_routes(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let page = w.anon.get(&format!("/p/{}", w.remix)).await.body;
    assert!(page.contains("Data withdrawn by a moderator."), "{page}");
    assert!(!w.pictures().exists());
}

on_both!(
    issue_14_the_data_stays_public_while_another_post_of_the_author_shows_it,
    issue_14_deleting_a_post_withdraws_its_data_from_remixes,
    issue_14_hiding_a_post_withdraws_its_data_until_unhidden,
    issue_14_a_draft_of_the_author_keeps_withdrawn_data_private,
);
