//! A site of the real `secviz serve` for tests that start, kill and restart it: a data
//! folder with its database (SQLite inside it or a fresh PostgreSQL database), a member, and
//! a browser that keeps cookies.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::{BIN, psql, serve_env, walk};

pub const PASSWORD: &str = "quartz meadow lantern";

/// pf lines: 200 source addresses, 50 destinations on port 80.
pub fn pf_lines(from: usize, n: usize) -> String {
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
pub struct Site {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
}

impl Site {
    pub fn new(postgres: bool) -> Site {
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
            super::fresh_pg_database(&name)
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

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn data_args(&self) -> Vec<String> {
        let mut a = vec!["--data".to_string(), self.data().display().to_string()];
        if let Some(url) = &self.database_url {
            a.extend(["--database-url".to_string(), url.clone()]);
        }
        a
    }

    /// Starts the server; a dead process's ingest is resumed after 3 s.
    pub fn start(&self) -> Server {
        self.start_with(&[])
    }

    /// [`Site::start`] with more options.
    pub fn start_with(&self, extra: &[&str]) -> Server {
        self.start_at(&self.data(), extra, &[])
    }

    /// [`Site::start`] on the site's database with another data folder, more options and
    /// more environment variables: an instance that shares only the database (and what
    /// `extra` names, such as an object store) with the others.
    pub fn start_at(&self, data: &Path, extra: &[&str], env: &[(&str, String)]) -> Server {
        let mut args = self.data_args();
        args[1] = data.display().to_string();
        args.extend(["--ingest-stale-secs".to_string(), "3".to_string()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, addr) = serve_env(self.dir.path(), &args, env);
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    /// Rows of one query on the site's PostgreSQL database, as `psql -At` prints them
    /// (columns separated by `|`).
    pub fn sql(&self, query: &str) -> Vec<String> {
        let url = self.database_url.as_deref().expect("a PostgreSQL site");
        let out = Command::new("psql")
            .arg(url)
            .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", query])
            .output()
            .expect("psql is installed with PostgreSQL");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The datasets the lake has committed (a manifest is the commit).
    pub fn committed(&self) -> Vec<String> {
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

    /// Every image file under an image id is whole (`.<id>.tmp-…` files are writes in
    /// progress, never served).
    pub fn assert_image_files_whole(&self) {
        for f in walk(&self.data().join("images")) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp-") {
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
pub fn whole_image(b: &[u8]) -> bool {
    let png = b.starts_with(b"\x89PNG") && b.ends_with(b"IEND\xae\x42\x60\x82");
    let jpeg = b.starts_with(b"\xff\xd8") && b.ends_with(b"\xff\xd9");
    png || jpeg
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// SIGKILL, as `kill -9`.
    pub fn kill9(mut self) {
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
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub body: String,
    /// The page cache's `x-cache` header: `hit`, `miss` or empty (not cacheable).
    pub x_cache: String,
}

impl Browser {
    /// A visitor without an account (cookies kept, as a browser does).
    pub fn anonymous(server: &Server) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
        }
    }

    pub async fn login(server: &Server) -> Browser {
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
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let (x_cache, location) = (header("x-cache"), header("location"));
        Page {
            x_cache,
            location,
            status: r.status(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Browser::page(r).await
    }

    pub async fn bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap().to_vec())
    }

    pub async fn csrf(&self, path: &str) -> String {
        let html = self.get(path).await.body;
        let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        html[at..].split('"').next().unwrap().to_string()
    }

    /// POSTs a urlencoded form; `Err` when the connection died before an answer.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Result<Page> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await?;
        Ok(Browser::page(r).await)
    }

    /// Add Post: text fields and, when given, a log file.
    pub async fn add_post(&self, fields: &[(&str, &str)], file: Option<Vec<u8>>) -> Page {
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

    pub async fn wait_ready(&self, draft: &str) -> String {
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

    pub async fn count(&self, dataset: &str) -> Page {
        self.get(&format!(
            "/api/v1/datasets/{dataset}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        ))
        .await
    }

    /// The view and text fields of a draft, with `action`. A new `seed` is a new picture
    /// (pictures are cached by view).
    pub fn view<'a>(
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
    pub async fn assert_picture_whole(&self, post: &str) {
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

pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// The folders of the lake's staging area that hold files, by name.
pub fn staged(site: &Site) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(site.data().join("lake/tmp")) else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| !walk(&e.path()).is_empty())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The progress bar's percentage on a draft page, while its ingest runs.
pub fn percent(page: &str) -> Option<u32> {
    if !page.contains("data-status=\"running\"") {
        return None;
    }
    let at = page.find("<progress max=\"100\" value=\"")? + 27;
    page[at..].split('"').next()?.parse().ok()
}
