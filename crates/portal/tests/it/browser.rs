//! Starts the portal on port 0 and runs the browser journey (`tests/browser/journey.mjs`:
//! headless Debian Chromium through playwright-core) against it, so `cargo test` covers the
//! real pages in a real browser. Needs `node`, `/usr/bin/chromium` and `npm ci` in
//! `tests/browser` (`scripts/setup-test-env.sh` installs all three).

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use secviz_portal::Role;

async fn browser_journey(backend: Backend) {
    let app = spawn(backend).await;
    secviz_portal::members::create(
        &app.db,
        "root-admin",
        Some("admin@example.org"),
        PASSWORD,
        Role::Admin,
        0,
    )
    .await
    .unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run scripts/setup-test-env.sh first (npm ci in tests/browser)"
    );
    let image = app.data.path().join("graph.png");
    std::fs::write(&image, png(800, 600)).unwrap();
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("journey.mjs")
            .arg(&base)
            .arg(&image)
            .arg("root-admin")
            .arg(PASSWORD)
            .current_dir(&dir)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser journey failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("browser journey: ok"), "{stdout}");
}

on_both!(browser_journey);
