//! Security events are logged, secrets never are, and member input cannot forge log lines
//! (SECURITY.md row 27); a 500 logs its whole error chain under the request id the member
//! sees (row 28). On SQLite and PostgreSQL.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::*;
use reqwest::StatusCode;
use secviz_portal::Role;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of this test binary (one global subscriber, as in production).
fn log() -> &'static Buffer {
    static LOG: OnceLock<Buffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Buffer::default();
        let writer = buf.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buf
    })
}

fn text() -> String {
    String::from_utf8_lossy(&log().0.lock().unwrap()).into_owned()
}

async fn security_events_without_secrets(backend: Backend) {
    log();
    let app = spawn(backend).await;
    let admin = app.with_role("boss", Role::Admin).await;
    let c = app.client();
    let forged = "eve\r\nFAKE-LINE event=login user=boss";
    let r = c
        .submit(
            "/login",
            "/login",
            &[("username", forged), ("password", "hunter2-secret-guess")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    admin
        .submit("/admin", "/admin/tags", &[("slug", "logged")])
        .await;
    let member = app.member("mallory").await;
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);

    let log = text();
    assert!(log.contains("login_failed"), "{log}");
    assert!(log.contains("tag_saved"), "{log}");
    assert!(
        log.contains("event=\"forbidden\"") || log.contains("event=forbidden"),
        "{log}"
    );
    assert!(
        !log.contains("hunter2-secret-guess") && !log.contains(PASSWORD),
        "a password reached the log"
    );
    assert!(
        log.to_lowercase().contains("fake-line"),
        "the attempt is logged"
    );
    assert!(
        !log.lines()
            .any(|l| l.to_lowercase().starts_with("fake-line")),
        "CR/LF in a username forged a log line"
    );
    if let Some(line) = log.lines().find(|l| l.contains("secviz_session=")) {
        panic!("a session token reached the log: {line}");
    }
}

async fn security_row_27_long_user_names_are_cut_in_the_log(backend: Backend) {
    log();
    // Production limits: the first ten attempts are logged as failures, the rest as refused.
    let app = spawn_with(backend, |c| c.limits = secviz_portal::RateLimits::default()).await;
    let c = app.client();
    let token = c.csrf("/login").await;
    // As long as the log-in form takes (16 KiB; a larger body is refused with 413 before
    // anything is logged), marked with the backend: both backends' tests share this log.
    let tag = format!("{backend:?}").to_lowercase();
    let name = format!("{tag}{}", "m".repeat(15_000));
    let before = log().0.lock().unwrap().len();
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let r = c
            .post(
                "/login",
                &[("csrf", &token), ("username", &name), ("password", "guess")],
            )
            .await;
        statuses.push(r.status);
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[10..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let grown = log().0.lock().unwrap().len() - before;
    // Other tests of this binary log at the same time; they add far less than this bound.
    assert!(
        grown < 50 * 2048,
        "50 attempts grew the log by {grown} bytes"
    );
    let log = text();
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(&format!("{tag}mmmmmmmm")))
        .collect();
    assert_eq!(ours.len(), 50, "every attempt is logged, once");
    for line in &ours {
        assert!(line.len() < 1024, "a line of {} bytes", line.len());
        let marker = format!("(cut: {} bytes in all)", name.len());
        assert!(line.contains(&marker), "{line}");
    }
    assert!(ours.iter().any(|l| l.contains("login_failed")));
    assert!(ours.iter().any(|l| l.contains("rate_limited")));
}

async fn internal_errors_are_logged_with_their_request_id(backend: Backend) {
    log();
    let app = spawn(backend).await;
    sqlx::query("ALTER TABLE users RENAME TO users_gone")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let r = app.client().get("/u/somebody").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let id = r.headers["x-request-id"].to_str().unwrap().to_string();
    let log = text();
    let line = log
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("no log line for request {id}"));
    assert!(
        line.contains("internal error") && line.contains("database"),
        "{line}"
    );
}

on_both!(
    security_events_without_secrets,
    security_row_27_long_user_names_are_cut_in_the_log,
    internal_errors_are_logged_with_their_request_id
);
