//! Issue 7: an ingest interrupted by a dead worker or a restart leaves no half dataset; the
//! job is resumed (or failed after too many attempts) and the draft survives. A dead
//! process is simulated as the worker sees one: a running job whose heartbeat went stale.

use crate::common;

use common::*;
use reqwest::StatusCode;

fn pf_lines(n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Oct 21 06:00:{:02}.015678 rule 57/0(match): pass out on xl1: 10.9.8.{}.1030 > 192.0.2.1.53: 46523+ A? h{i}.example. (43) (DF)\n",
                i % 60,
                i % 7
            )
        })
        .collect()
}

async fn upload(c: &Client, text: &str) -> String {
    let token = c.csrf("/new").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("title", "restart")
        .text("body", "b")
        .text("data_format", "pf")
        .text("data_year", "2025")
        .text("data_text", text.to_string());
    let r = c
        .http
        .post(format!("{}/new", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn wait_status(c: &Client, draft: &str) -> String {
    for _ in 0..600 {
        let page = c.get(draft).await.body;
        if page.contains("data-status=\"ready\"") || page.contains("data-status=\"failed\"") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!(
        "the ingest of {draft} did not end: {}",
        c.get(draft).await.body
    );
}

/// Puts the finished job back into the state a killed process leaves: running, stale
/// heartbeat, nothing committed in the lake, the upload still staged.
async fn kill_mid_ingest(app: &TestApp, text: &str, attempts: i64) -> String {
    let (job, staging, ds): (i64, String, String) =
        sqlx::query_as("SELECT id, staging, dataset_id FROM ingest_jobs ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let lake_dir = app.data.path().join("lake");
    // No half dataset: whatever the lake holds for it goes (a killed ingest never committed).
    for e in std::fs::read_dir(&lake_dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().contains(&ds) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    std::fs::write(
        app.data
            .path()
            .join("staging")
            .join(format!("{staging}.upload")),
        text,
    )
    .unwrap();
    sqlx::query(
        "UPDATE ingest_jobs SET state = 'running', attempts = $1, heartbeat_at = 0 WHERE id = $2",
    )
    .bind(attempts)
    .bind(job)
    .execute(&app.db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE datasets SET status = 'running', row_count = 0 WHERE id = $1")
        .bind(&ds)
        .execute(&app.db.pool)
        .await
        .unwrap();
    ds
}

async fn stale_job_is_resumed(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let text = pf_lines(50);
    let draft = upload(&ana, &text).await;
    assert!(
        wait_status(&ana, &draft)
            .await
            .contains("data-status=\"ready\"")
    );
    let ds = kill_mid_ingest(&app, &text, 1).await;
    // The page shows it running; then the worker finds the stale heartbeat and resumes it.
    assert!(
        ana.get(&draft)
            .await
            .body
            .contains("data-status=\"running\"")
    );
    app.clock.advance(120);
    let page = wait_status(&ana, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let (rows, attempts): (i64, i64) = sqlx::query_as(
        "SELECT d.row_count, j.attempts FROM datasets d JOIN ingest_jobs j ON j.dataset_id = d.id WHERE d.id = $1",
    )
    .bind(&ds)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(rows, 50, "ingested once, whole");
    assert_eq!(attempts, 2);
    let q = ana
        .get(&format!(
            "/api/v1/datasets/{ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events"
        ))
        .await;
    assert!(q.body.contains("\"n\":50"), "{}", q.body);
}

async fn too_many_interruptions_fail_and_keep_the_draft(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let text = pf_lines(20);
    let draft = upload(&ana, &text).await;
    wait_status(&ana, &draft).await;
    kill_mid_ingest(&app, &text, 3).await;
    app.clock.advance(120);
    let page = wait_status(&ana, &draft).await;
    assert!(page.contains("data-status=\"failed\""), "{page}");
    assert!(page.contains("interrupted 3 times"), "{page}");
    assert!(page.contains("Your draft is kept"), "{page}");
    assert_eq!(ana.get(&draft).await.status, StatusCode::OK);
}

/// What a crash leaves besides a job: an upload staged whose job was never written, and one
/// cut off while it arrived. The sweep removes them once a day old, never an upload a job
/// still waits for.
async fn uploads_orphaned_by_a_crash_are_swept(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let text = pf_lines(20);
    // A job another instance runs (its heartbeat fresh for days): its upload stays.
    let draft = upload(&ana, &text).await;
    wait_status(&ana, &draft).await;
    let (job, waiting): (i64, String) =
        sqlx::query_as("SELECT id, staging FROM ingest_jobs ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let kept = app
        .data
        .path()
        .join("staging")
        .join(format!("{waiting}.upload"));
    std::fs::write(&kept, &text).unwrap();
    sqlx::query("UPDATE ingest_jobs SET state = 'running', owner = 'elsewhere', heartbeat_at = $1 WHERE id = $2")
        .bind(time::OffsetDateTime::now_utc().unix_timestamp() + 5 * 24 * 3600)
        .bind(job)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let staging = app.data.path().join("staging");
    let orphan = staging.join(format!("{}.upload", "0123456789abcdef".repeat(2)));
    std::fs::write(&orphan, &text).unwrap();
    let cut = app
        .data
        .path()
        .join("receiving")
        .join("fedcba9876543210fedcba9876543210.upload");
    std::fs::write(&cut, &text[..100]).unwrap();
    assert!(app.sweeper.sweep().await);
    assert!(orphan.exists() && cut.exists(), "young files stay");
    app.clock.advance(2 * 24 * 3600);
    assert!(app.sweeper.sweep().await);
    assert!(!orphan.exists(), "the orphaned upload is removed");
    assert!(!cut.exists(), "the cut-off upload is removed");
    assert!(kept.exists(), "the upload of a running job stays");
}

on_both!(
    stale_job_is_resumed,
    too_many_interruptions_fail_and_keep_the_draft,
    uploads_orphaned_by_a_crash_are_swept
);

/// A new server on the same data folder (SQLite there) finishes what the old one left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_resumes_the_ingest() {
    let first = spawn(Backend::Sqlite).await;
    let ana = first.member("ana").await;
    let text = pf_lines(30);
    let draft = upload(&ana, &text).await;
    wait_status(&ana, &draft).await;
    let ds = kill_mid_ingest(&first, &text, 1).await;
    let dir = first.data.path().to_path_buf();
    // The second server shares the folder (and so the SQLite database and the lake).
    let second = spawn_with(Backend::Sqlite, |c| c.data_dir = dir.clone()).await;
    second.clock.advance(120);
    let ana2 = Client {
        http: ana.http.clone(),
        base: second.base.clone(),
    };
    let page = wait_status(&ana2, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let rows: (i64,) = sqlx::query_as("SELECT row_count FROM datasets WHERE id = $1")
        .bind(&ds)
        .fetch_one(&second.db.pool)
        .await
        .unwrap();
    assert_eq!(rows.0, 30);
}
