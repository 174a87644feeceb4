//! Uploads cannot exhaust the portal (issue 14, SECURITY.md row 22), on SQLite and
//! PostgreSQL:
//! - a gzip bomb attached to a post (5 GB of log lines from ~18 MB, streamed by the test,
//!   never stored) is refused by the ingest soon after it starts, with a message in the
//!   portal's words; no row of it is kept, and the server's memory stays flat;
//! - multipart fields stop at their cap: an image one byte over gets 413, a 50 MB image
//!   or text field is refused without being held, and the form keeps the member's text.
//!
//! Memory is the test process's peak RSS (the server runs in it), reset before each step
//! through `/proc/self/clear_refs`; each test must be alone in its process so no other
//! test is measured with it (`secviz_testkit::require_own_process`).

use crate::common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use reqwest::StatusCode;

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"))
}

/// Resets the peak RSS to the current RSS; returns it in bytes.
fn reset_peak() -> u64 {
    std::fs::write("/proc/self/clear_refs", "5").expect("Linux lets a process reset its peak RSS");
    status_kb("VmRSS:") * 1024
}

/// Peak RSS since [`reset_peak`], in bytes.
fn peak() -> u64 {
    status_kb("VmHWM:") * 1024
}

const LINE: &str = "Oct 21 06:00:01.015678 rule 57/0(match): pass out on xl1: 10.9.8.7.1030 > 192.0.2.1.53: 46523+ A? h.example. (43) (DF)\n";

/// One gzip member: `LINE` repeated to 1 MiB (about 3.7 KB compressed).
fn bomb_member() -> Bytes {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(1 << 20) / LINE.len() {
        enc.write_all(LINE.as_bytes()).unwrap();
    }
    Bytes::from(enc.finish().unwrap())
}

/// A body of `n` copies of `chunk`, generated as it is sent.
fn repeated(chunk: Bytes, n: usize) -> reqwest::Body {
    let s = futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    reqwest::Body::wrap_stream(s)
}

/// POSTs multipart `fields`, then `file` streamed under `file_field`, then `after` fields.
async fn post_streamed(
    c: &Client,
    action: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, reqwest::Body),
    after: &[(&str, &str)],
) -> Resp {
    let token = c.csrf("/new").await;
    let mut form = reqwest::multipart::Form::new().text("csrf", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let (field, name, body) = file;
    let part = reqwest::multipart::Part::stream(body)
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .unwrap();
    form = form.part(field.to_string(), part);
    for (k, v) in after {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = c
        .http
        .post(format!("{}{action}", c.base))
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

/// The draft page once its ingest ended (ready or failed). A generous bound so a broken
/// worker fails the test instead of hanging it.
async fn wait_ingest(c: &Client, draft: &str, within: Duration) -> String {
    let started = Instant::now();
    while started.elapsed() < within {
        let page = c.get(draft).await.body;
        if page.contains("data-status=\"ready\"") || page.contains("data-status=\"failed\"") {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the ingest of {draft} did not end within {within:?}");
}

async fn dataset_of_draft(app: &TestApp, draft: &str) -> String {
    let id: i64 = draft.trim_start_matches("/drafts/").parse().unwrap();
    sqlx::query_scalar("SELECT dataset_id FROM drafts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn security_row_22_gzip_bomb_upload_is_refused(backend: Backend) {
    secviz_testkit::require_own_process("the gzip-bomb upload test");
    let app = spawn(backend).await;
    let ana = app.member("ana").await;

    // A genuine dataset first: the bomb must leave it alone.
    let token = ana.csrf("/new").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("title", "genuine")
        .text("body", "b")
        .text("data_format", "pf")
        .text("data_year", "2025")
        .text("data_text", LINE.repeat(25));
    let r = ana
        .http
        .post(format!("{}/new", ana.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let genuine = r.headers()["location"].to_str().unwrap().to_string();
    let page = wait_ingest(&ana, &genuine, Duration::from_secs(120)).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let genuine_ds = dataset_of_draft(&app, &genuine).await;

    let member = bomb_member();
    let members = 5000; // 5000 MiB of log lines
    assert!(
        member.len() * members < 20 << 20,
        "{}",
        member.len() * members
    );
    let before = reset_peak();
    let started = Instant::now();
    let r = post_streamed(
        &ana,
        "/new",
        &[
            ("title", "Firewall week"),
            ("body", "b"),
            ("data_format", "pf"),
            ("data_year", "2025"),
        ],
        ("data_file", "fw.log.gz", repeated(member, members)),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    // Refused soon after the ingest starts: the whole bomb would take many minutes.
    let page = wait_ingest(&ana, &draft, Duration::from_secs(60)).await;
    let took = started.elapsed();
    let grew = peak().saturating_sub(before);
    assert!(page.contains("data-status=\"failed\""), "{page}");
    assert!(page.contains("The gzip file was refused"), "{page}");
    assert!(
        page.contains("more than 100 times its compressed size"),
        "{page}"
    );
    assert!(page.contains("Nothing of it was kept"), "{page}");
    assert!(
        !page.contains("--max") && !page.contains("Decompression"),
        "no command-line flags or Rust names on a web page: {page}"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert!(grew < 256 << 20, "memory grew by {} MiB", grew >> 20);

    // No row of it anywhere: the dataset failed with none, the lake holds nothing for it,
    // the staged upload is gone.
    let ds = dataset_of_draft(&app, &draft).await;
    let (status, rows): (String, i64) =
        sqlx::query_as("SELECT status, row_count FROM datasets WHERE id = $1")
            .bind(&ds)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), rows), ("failed", 0));
    let lake = app.data.path().join("lake/datasets");
    assert!(
        !lake.join(&ds).exists(),
        "the lake keeps nothing of the bomb"
    );
    let q = ana
        .get(&format!(
            "/api/v1/datasets/{ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        ))
        .await;
    assert_ne!(q.status, StatusCode::OK, "{}", q.body);
    let staged = std::fs::read_dir(app.data.path().join("staging"))
        .unwrap()
        .count();
    assert_eq!(staged, 0, "the staged bomb was removed");

    // The genuine dataset is whole.
    let q = ana
        .get(&format!(
            "/api/v1/datasets/{genuine_ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        ))
        .await;
    assert!(q.body.contains("\"n\":25"), "{}", q.body);
}

async fn multipart_fields_stop_at_their_cap(backend: Backend) {
    secviz_testkit::require_own_process("the multipart memory test");
    let cap = 1 << 20;
    let app = spawn_with(backend, |c| c.max_image_bytes = cap).await;
    let ana = app.member("ana").await;
    let images = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM images")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    // One byte over: 413, the text before and after the image kept, nothing stored.
    let r = post_streamed(
        &ana,
        "/new",
        &[
            ("action", "publish"),
            ("title", "Kept title"),
            ("body", "Kept body"),
        ],
        (
            "file1",
            "big.png",
            reqwest::Body::from(vec![0x89u8; cap + 1]),
        ),
        &[("newalt1", "Kept alt text")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("larger than"), "{}", r.body);
    for kept in ["Kept title", "Kept body", "Kept alt text"] {
        assert!(r.body.contains(kept), "{kept} lost: {}", r.body);
    }
    assert_eq!(images(&app).await, 0);

    // A 50 MB image field: refused without being held.
    let fifty = 50 << 20;
    let chunk = Bytes::from(vec![0x89u8; 64 << 10]);
    let before = reset_peak();
    let r = post_streamed(
        &ana,
        "/new",
        &[
            ("action", "publish"),
            ("title", "Big image"),
            ("body", "Still here"),
        ],
        (
            "file1",
            "huge.png",
            repeated(chunk.clone(), fifty / chunk.len()),
        ),
        &[("newalt1", "Alt after the image")],
    )
    .await;
    let grew = peak().saturating_sub(before);
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    for kept in ["Big image", "Still here", "Alt after the image"] {
        assert!(r.body.contains(kept), "{kept} lost: {}", r.body);
    }
    assert!(grew < 20 << 20, "memory grew by {} MiB", grew >> 20);
    assert_eq!(images(&app).await, 0);

    // A 50 MB text field: cut at its cap, 413, the other fields kept.
    let before = reset_peak();
    let token = ana.csrf("/new").await;
    let text = reqwest::multipart::Part::stream(repeated(
        Bytes::from(vec![b'a'; 64 << 10]),
        fifty / (64 << 10),
    ));
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("title", "Long body")
        .part("body", text)
        .text("tool", "kept tool");
    let r = ana
        .http
        .post(format!("{}/new", ana.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    let grew = peak().saturating_sub(before);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(
        body.contains("The text is longer than this form accepts"),
        "{body}"
    );
    assert!(
        body.contains("Long body") && body.contains("kept tool"),
        "{body}"
    );
    assert!(grew < 20 << 20, "memory grew by {} MiB", grew >> 20);

    // A form past its route's body limit (editing allows five images' worth): 413 with the
    // text read before the cut, not a bare error.
    let post = create_post(&ana, "Editable", "first text", &[], &[]).await;
    let r = post_streamed(
        &ana,
        &format!("/p/{post}/edit"),
        &[
            ("action", "publish"),
            ("title", "Edited title"),
            ("body", "Edited body"),
        ],
        ("file1", "huge.png", repeated(chunk, fifty / (64 << 10))),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body.contains("Edited title") && r.body.contains("Edited body"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("The form is larger than this site accepts"),
        "{}",
        r.body
    );
    assert_eq!(images(&app).await, 0);
}

on_both!(
    security_row_22_gzip_bomb_upload_is_refused,
    multipart_fields_stop_at_their_cap
);
