//! The real `secviz serve`, killed with SIGKILL in the middle of the work that writes data
//! and started again on the same data folder, on SQLite and on PostgreSQL:
//!
//! - mid-ingest of a 37 MB upload: nothing committed is lost (a discussion, a published
//!   data post with its picture, that post's dataset), nothing half-written is visible (the
//!   new dataset has no manifest, the query API does not answer for it, the draft shows it
//!   waiting), and after the restart the ingest runs again and completes with every line;
//! - mid-publish of a data post (drawing its picture and thumbnail): after the restart the
//!   post is either whole, picture and thumbnail included, or the draft is still there and
//!   publishes; no image file is ever half-written under an image id.
//!
//! The kill lands while the work runs: the ingest's progress is seen on the draft page
//! first, and a publish request is killed before it answered (at least one of the tries
//! must have been cut for the test to pass).

use crate::common;

use std::time::{Duration, Instant};

use common::portal::{Browser, Site, csrf_in, percent, pf_lines, staged};
use common::walk;
use reqwest::StatusCode;

/// What was committed before the kills, checked after every restart.
struct Committed {
    discussion: String,
    data_post: String,
    dataset: String,
}

impl Committed {
    async fn create(b: &Browser, site: &Site) -> Committed {
        let r = b
            .add_post(
                &[
                    ("action", "publish"),
                    ("kind", "discussion"),
                    ("title", "Kept discussion"),
                    ("body", "Written before the crash."),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let discussion = r.location;
        let lines = pf_lines(0, 50);
        let r = b
            .add_post(
                &[
                    ("title", "Small week"),
                    ("body", "b"),
                    ("data_format", "pf"),
                    ("data_year", "2025"),
                    ("data_text", &lines),
                ],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let draft = r.location;
        let page = b.wait_ready(&draft).await;
        let token = csrf_in(&page);
        let r = b
            .post_form(&draft, &Browser::view(&token, "publish", "Small week", "3"))
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let committed = site.committed();
        assert_eq!(committed.len(), 1, "{committed:?}");
        Committed {
            discussion,
            data_post: r.location,
            dataset: committed[0].clone(),
        }
    }

    async fn assert_intact(&self, b: &Browser) {
        let page = b.get(&self.discussion).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Written before the crash."));
        b.assert_picture_whole(&self.data_post).await;
        let n = b.count(&self.dataset).await;
        assert!(n.body.contains("\"n\":50"), "{}", n.body);
    }
}

/// Remixes `post` with its data; returns the new draft, ready.
async fn remix(b: &Browser, post: &str) -> String {
    let token = csrf_in(&b.get(post).await.body);
    let r = b
        .post_form(
            &format!("{post}/remix"),
            &[("csrf", &token), ("with_data", "1")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.wait_ready(&r.location).await;
    r.location
}

async fn kill_9_mid_ingest_and_mid_publish(postgres: bool) {
    let site = Site::new(postgres);
    let server = site.start();
    let mut b = Browser::login(&server).await;
    let kept = Committed::create(&b, &site).await;

    // ---- Kill -9 mid-ingest.
    let lines = 300_000;
    let r = b
        .add_post(
            &[
                ("title", "Big week"),
                ("body", "b"),
                ("data_format", "pf"),
                ("data_year", "2025"),
            ],
            Some(pf_lines(1000, lines).into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location;
    let started = Instant::now();
    loop {
        let page = b.get(&draft).await.body;
        // Killed once the ingest is under way and has staged files (the parse threads may
        // read ahead of the writer: progress counts bytes read).
        if percent(&page).is_some_and(|p| p >= 5) && !staged(&site).is_empty() {
            break;
        }
        assert!(
            !page.contains("data-status=\"ready\""),
            "the ingest ended before it could be killed; make the log larger"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill9();
    // Nothing of the new dataset was committed; what it wrote waits in the lake's staging
    // folder, named for the dataset.
    assert_eq!(site.committed(), std::slice::from_ref(&kept.dataset));
    let staged = staged(&site);
    assert_eq!(staged.len(), 1, "{staged:?}");
    let big = staged[0].clone();

    let server = site.start();
    b.base = server.base.clone();
    kept.assert_intact(&b).await;
    let page = b.get(&draft).await.body;
    assert!(
        page.contains("data-status=\"running\"") || page.contains("data-status=\"queued\""),
        "after the restart the draft waits for its data: {page}"
    );
    let n = b.count(&big).await;
    assert_ne!(
        n.status,
        StatusCode::OK,
        "half a dataset answers: {}",
        n.body
    );
    // Resumed once the dead process's heartbeat is stale, and completed.
    let page = b.wait_ready(&draft).await;
    let mut committed = vec![kept.dataset.clone(), big.clone()];
    committed.sort();
    assert_eq!(site.committed(), committed);
    let n = b.count(&big).await;
    assert!(n.body.contains(&format!("\"n\":{lines}")), "{}", n.body);
    assert!(page.contains(&format!("Ready: {lines} events")), "{page}");
    let leftovers: Vec<_> = walk(&site.data().join("lake/tmp"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "the killed ingest's files remain: {leftovers:?}"
    );
    kept.assert_intact(&b).await;

    // ---- Kill -9 mid-publish. First an undisturbed publish, to know how long one takes;
    // then remixes of it are published and killed at points through that time (the last
    // one after it, so both outcomes are met).
    let token = csrf_in(&b.get(&draft).await.body);
    let timed = Instant::now();
    let r = b
        .post_form(&draft, &Browser::view(&token, "publish", "Big week", "4"))
        .await
        .unwrap();
    let publish_time = timed.elapsed();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.assert_picture_whole(&r.location).await;
    let mut published = vec![kept.data_post.clone(), r.location.clone()];
    let mut draft = remix(&b, &r.location).await;
    let mut server = server;
    let mut cut = 0;
    for (n, fraction) in [0.1, 0.3, 0.55, 0.8, 1.5].into_iter().enumerate() {
        let delay = publish_time.mul_f64(fraction);
        let title = format!("Big week {n}");
        let seed = (10 + n).to_string();
        let token = csrf_in(&b.get(&draft).await.body);
        let publish = {
            let (http, url) = (b.http.clone(), format!("{}{draft}", b.base));
            let fields: Vec<(String, String)> = Browser::view(&token, "publish", &title, &seed)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            tokio::spawn(async move { http.post(url).form(&fields).send().await })
        };
        tokio::time::sleep(delay).await;
        server.kill9();
        let answered = publish.await.unwrap();
        if answered.is_err() {
            cut += 1;
        }
        site.assert_image_files_whole();

        server = site.start();
        b.base = server.base.clone();
        kept.assert_intact(&b).await;
        let still_draft = b.get(&draft).await.status == StatusCode::OK;
        eprintln!(
            "publish try {n}: killed after {delay:?} of {publish_time:?}; answered before the kill: {}; still a draft: {still_draft}",
            answered.is_ok()
        );
        let gallery = b.get("/gallery").await.body;
        let post = gallery
            .split("<a href=\"/p/")
            .skip(1)
            .map(|s| format!("/p/{}", s.split('"').next().unwrap()))
            .find(|p| !published.contains(p) && *p != kept.discussion);
        match (still_draft, post) {
            // Not published: the draft remains, whole, and no post appeared.
            (true, None) => {}
            // Published: the post is whole, picture and thumbnail included.
            (false, Some(post)) => {
                b.assert_picture_whole(&post).await;
                assert!(b.get(&post).await.body.contains(&title));
                published.push(post.clone());
                // The next try publishes a remix of it (same dataset).
                draft = remix(&b, &post).await;
            }
            (still_draft, post) => {
                panic!("after the kill: draft kept {still_draft}, new post {post:?}")
            }
        }
        for p in &published {
            b.assert_picture_whole(p).await;
        }
    }
    assert!(cut > 0, "no kill landed while a publish was running");

    // The draft left by the last try publishes.
    let token = csrf_in(&b.get(&draft).await.body);
    let r = b
        .post_form(
            &draft,
            &Browser::view(&token, "publish", "Big week, at last", "99"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.assert_picture_whole(&r.location).await;
    site.assert_image_files_whole();
    server.kill9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingest_and_mid_publish_on_sqlite() {
    kill_9_mid_ingest_and_mid_publish(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_ingest_and_mid_publish_on_postgresql() {
    kill_9_mid_ingest_and_mid_publish(true).await;
}
