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

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{BIN, psql, serve, walk};
use reqwest::StatusCode;

const PASSWORD: &str = "quartz meadow lantern";

/// pf lines: 200 source addresses, 50 destinations on port 80.
fn pf_lines(from: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 125);
    for i in from..from + n {
        let t = 6 * 3600 + i / 10;
        s.push_str(&format!(
            "Oct 21 {:02}:{:02}:{:02}.{:06} rule 12/0(match): block in on xl1: 10.0.{}.{}.{} > 192.0.2.{}.80: S 1:1(0) win 8192 (DF)\n",
            t / 3600 % 24,
            t / 60 % 60,
            t % 60,
            i % 1_000_000,
            i % 7,
            1 + i % 200,
            1024 + i % 60000,
            1 + i % 50
        ));
    }
    s
}

/// A data folder and its database (SQLite inside it, or a fresh PostgreSQL database).
struct Site {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Site {
    fn new(postgres: bool) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let database_url = postgres.then(|| {
            let name = format!(
                "secviz_crash_{}_{}",
                std::process::id(),
                dir.path()
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_lowercase()
            )
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
            common::fresh_pg_database(&name)
        });
        let site = Site { dir, database_url };
        let out = Command::new(BIN)
            .args(["user", "add", "ana"])
            .args(site.data_args())
            .env_remove("SECVIZ_DATA")
            .env_remove("SECVIZ_DATABASE_URL")
            .env("SECVIZ_PASSWORD", PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        site
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn data_args(&self) -> Vec<String> {
        let mut a = vec!["--data".to_string(), self.data().display().to_string()];
        if let Some(url) = &self.database_url {
            a.extend(["--database-url".to_string(), url.clone()]);
        }
        a
    }

    /// Starts the server; a dead process's ingest is resumed after 3 s.
    fn start(&self) -> Server {
        let mut args = self.data_args();
        args.extend(["--ingest-stale-secs".to_string(), "3".to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, addr) = serve(self.dir.path(), &args);
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    /// The datasets the lake has committed (a manifest is the commit).
    fn committed(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.data().join("lake/datasets"))
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().join("manifest.json").exists())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Every image file under an image id is whole (`.partial` files are writes in
    /// progress, never served).
    fn assert_image_files_whole(&self) {
        for f in walk(&self.data().join("images")) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".partial") {
                continue;
            }
            assert!(
                whole_image(&std::fs::read(&f).unwrap()),
                "half-written {name}"
            );
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(url) = &self.database_url {
            let name = url.rsplit('/').next().unwrap();
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A whole PNG (ends with its IEND chunk) or JPEG (ends with EOI).
fn whole_image(b: &[u8]) -> bool {
    let png = b.starts_with(b"\x89PNG") && b.ends_with(b"IEND\xae\x42\x60\x82");
    let jpeg = b.starts_with(b"\xff\xd8") && b.ends_with(b"\xff\xd9");
    png || jpeg
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// SIGKILL, as `kill -9`.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A member's browser: cookies kept across restarts (same host), no redirects followed.
struct Browser {
    http: reqwest::Client,
    base: String,
}

struct Page {
    status: StatusCode,
    location: String,
    body: String,
}

impl Browser {
    async fn login(server: &Server) -> Browser {
        let b = Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
        };
        let token = b.csrf("/login").await;
        let r = b
            .post_form(
                "/login",
                &[
                    ("csrf", &token),
                    ("username", "ana"),
                    ("password", PASSWORD),
                ],
            )
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        b
    }

    async fn page(r: reqwest::Response) -> Page {
        Page {
            status: r.status(),
            location: r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Browser::page(r).await
    }

    async fn bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.body;
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..].split('"').next().unwrap().to_string()
    }

    /// POSTs a urlencoded form; `Err` when the connection died before an answer.
    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Result<Page> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await?;
        Ok(Browser::page(r).await)
    }

    /// Add Post: text fields and, when given, a log file.
    async fn add_post(&self, fields: &[(&str, &str)], file: Option<Vec<u8>>) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf", self.csrf("/new").await);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some(bytes) = file {
            let part = reqwest::multipart::Part::bytes(bytes).file_name("week.log");
            form = form.part("data_file", part);
        }
        let r = self
            .http
            .post(format!("{}/new", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        Browser::page(r).await
    }

    async fn wait_ready(&self, draft: &str) -> String {
        let started = Instant::now();
        loop {
            let page = self.get(draft).await.body;
            if page.contains("data-status=\"ready\"") {
                return page;
            }
            assert!(!page.contains("data-status=\"failed\""), "{page}");
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the ingest of {draft} did not end"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn count(&self, dataset: &str) -> Page {
        self.get(&format!(
            "/api/v1/datasets/{dataset}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        ))
        .await
    }

    /// The view and text fields of a draft, with `action`. A new `seed` is a new picture
    /// (pictures are cached by view).
    fn view<'a>(
        csrf: &'a str,
        action: &'a str,
        title: &'a str,
        seed: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        vec![
            ("csrf", csrf),
            ("action", action),
            ("title", title),
            ("body", "Who knocks on port 80."),
            ("kind", "graph"),
            ("source", "dst_ip"),
            ("event", "dst_port"),
            ("target", "action"),
            ("color", "protocol"),
            ("size", "degree"),
            ("cluster_source", "none"),
            ("cluster_target", "none"),
            ("cluster_event", "none"),
            ("fields", "src_ip, dst_ip"),
            ("seed", seed),
            ("top_k", "10"),
        ]
    }

    /// The post's picture (the thumbnail the gallery shows for it), checked whole in both
    /// sizes.
    async fn assert_picture_whole(&self, post: &str) {
        let page = self.get(post).await;
        assert_eq!(page.status, StatusCode::OK, "{post}: {}", page.body);
        let gallery = self.get("/gallery").await.body;
        let id = gallery
            .split(&format!("<a href=\"{post}\">"))
            .nth(1)
            .and_then(|s| s.split("</a>").next())
            .and_then(|item| item.split("src=\"/img/").nth(1))
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| panic!("{post} has no picture in the gallery: {gallery}"))
            .to_string();
        for path in [format!("/img/{id}"), format!("/img/{id}/thumb")] {
            let (status, bytes) = self.bytes(&path).await;
            assert_eq!(status, StatusCode::OK, "{post}: {path}");
            assert!(whole_image(&bytes), "{post}: {path} is not a whole image");
        }
    }
}

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

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
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

/// The folders of the lake's staging area that hold files, by name.
fn staged(site: &Site) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(site.data().join("lake/tmp")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| !walk(&e.path()).is_empty())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The progress bar's percentage on a draft page, while its ingest runs.
fn percent(page: &str) -> Option<u32> {
    if !page.contains("data-status=\"running\"") {
        return None;
    }
    let at = page.find("<progress max=\"100\" value=\"")? + 27;
    page[at..].split('"').next()?.parse().ok()
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
