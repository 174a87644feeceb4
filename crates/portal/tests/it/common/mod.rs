//! Test harness: the real portal on port 0 with a fresh database (a new SQLite file, or a new
//! PostgreSQL database created on `SECVIZ_TEST_PG_URL` and dropped afterwards), a manual
//! clock, and an HTTP client that keeps cookies and does not follow redirects.
#![allow(dead_code)]

pub mod data;

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use secviz_portal::{App, Config, ManualClock, RateLimits, Role};
use sqlx::Connection;

pub use secviz_portal::Backend;

/// Runs each named `async fn(Backend)` on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name($crate::common::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name($crate::common::Backend::Postgres).await }
        }
    )*};
}

pub const PASSWORD: &str = "violet staple orbit lantern";

pub struct TestApp {
    pub base: String,
    pub data: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub db: secviz_portal::db::Db,
    /// The anonymous page cache, for its counters.
    pub pages: Arc<secviz_portal::PageCache>,
    /// Runs the maintenance sweep at once.
    pub sweeper: secviz_portal::Sweeper,
    pg: Option<PgDatabase>,
}

/// A throwaway PostgreSQL database, dropped (forcibly) when the test ends.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await;
                }
            })
        })
        .join();
    }
}

pub fn pg_url() -> String {
    std::env::var("SECVIZ_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn fresh_pg() -> (String, PgDatabase) {
    let admin_url = pg_url();
    let name = format!("secviz_t_{}", hex_id());
    let mut c = sqlx::PgConnection::connect(&admin_url).await.expect(
        "PostgreSQL must be reachable at SECVIZ_TEST_PG_URL (scripts/setup-test-env.sh starts it)",
    );
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await
        .expect("create test database");
    c.close().await.ok();
    let (prefix, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    (format!("{prefix}/{name}"), PgDatabase { admin_url, name })
}

fn hex_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:04x}", n, std::process::id() & 0xffff)
}

/// A fresh, empty database for `backend` (no portal on it): its URL, and what keeps it
/// (the SQLite file's folder, or the PostgreSQL database dropped on drop).
pub async fn fresh_database(backend: Backend) -> (String, Box<dyn std::any::Any + Send>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("secviz.db").display()
            );
            (url, Box::new(dir))
        }
        Backend::Postgres => {
            let (url, guard) = fresh_pg().await;
            (url, Box::new(guard))
        }
    }
}

/// Starts the portal. `tweak` adjusts the configuration (limits default to generous).
pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new());
    let mut config = Config::new(data.path());
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.clock = clock.clone();
    config.limits = RateLimits::generous();
    let mut pg = None;
    if backend == Backend::Postgres {
        let (url, guard) = fresh_pg().await;
        config.database_url = Some(url);
        pg = Some(guard);
    }
    tweak(&mut config);
    let app = App::build(config).await.expect("app builds");
    let db = app.db().clone();
    let pages = app.page_cache();
    let sweeper = app.sweeper();
    let server = app.bind().await.expect("binds");
    let (addr, _handle) = server.spawn();
    TestApp {
        base: format!("http://{addr}"),
        data,
        clock,
        db,
        pages,
        sweeper,
        pg,
    }
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

impl TestApp {
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
        }
    }

    /// Signs a member up through the web form and returns their logged-in client.
    pub async fn member(&self, name: &str) -> Client {
        let c = self.client();
        let r = c
            .submit(
                "/signup",
                "/signup",
                &[
                    ("username", name),
                    ("email", &format!("{name}@example.org")),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "signup of {name} failed: {}",
            r.body
        );
        c
    }

    /// A member with a role (set directly in the database, as `secviz user set-role` does).
    pub async fn with_role(&self, name: &str, role: Role) -> Client {
        let c = self.member(name).await;
        secviz_portal::members::set_role(&self.db, name, role)
            .await
            .unwrap();
        c
    }

    /// The mails written to the outbox, oldest first, with quoted-printable soft breaks undone.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self.data.path().join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .replace("=\r\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .map(|i| i + 19)
        .unwrap_or_else(|| panic!("no csrf field in page: {}", &html[..html.len().min(2000)]));
    html[at..].split('"').next().unwrap().to_string()
}

impl Client {
    pub async fn get(&self, path: &str) -> Resp {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub async fn get_bytes(&self, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (
            r.status(),
            r.headers().clone(),
            r.bytes().await.unwrap().to_vec(),
        )
    }

    /// POSTs a urlencoded form as is (no token added).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// The CSRF token a page hands this client.
    pub async fn csrf(&self, page: &str) -> String {
        let r = self.get(page).await;
        csrf_of(&r.body)
    }

    /// GETs `page` for its token, then POSTs the form to `action` with it, as a browser does.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf(page).await;
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// POSTs the post form (multipart) with a fresh token first, then text fields and files
    /// (`(field, file name, bytes)`).
    pub async fn submit_post(
        &self,
        action: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Resp {
        let token = self.csrf("/new").await;
        let mut form = reqwest::multipart::Form::new().text("csrf", token);
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (field, name, bytes) in files {
            let part = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(name.to_string())
                .mime_str("image/png")
                .unwrap();
            form = form.part(field.to_string(), part);
        }
        let r = self
            .http
            .post(format!("{}{action}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap_or_default(),
        }
    }
}

/// A real PNG of `w`×`h` pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Creates a post through the form and returns its id.
pub async fn create_post(
    c: &Client,
    title: &str,
    body: &str,
    extra: &[(&str, &str)],
    files: &[(&str, &str, Vec<u8>)],
) -> i64 {
    let mut fields = vec![("action", "publish"), ("title", title), ("body", body)];
    fields.extend_from_slice(extra);
    let r = c.submit_post("/new", &fields, files).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "post not created: {}",
        r.body
    );
    r.location().trim_start_matches("/p/").parse().unwrap()
}
