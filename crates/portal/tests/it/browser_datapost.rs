//! Starts the portal on port 0 and runs the data-post path in a real browser
//! (`tests/browser/datapost.mjs`: headless Debian Chromium through playwright-core): attach a
//! generated pf log, wait for the ingest, choose the view, publish, open the post as another
//! member, brush, remix. Needs `node`, `/usr/bin/chromium` and `npm ci` in `tests/browser`.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

async fn browser_datapost(backend: Backend) {
    let app = spawn(backend).await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run scripts/setup-test-env.sh first (npm ci in tests/browser)"
    );
    // A generated pf log (the demo's DNS generator, seeded).
    let log = app.data.path().join("dns-pf.log");
    std::fs::write(&log, secviz_portal::demo::dns_pf(11, 3000)).unwrap();
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("datapost.mjs")
            .arg(&base)
            .arg(&log)
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
        "browser data path failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("datapost browser path: ok"), "{stdout}");
}

on_both!(browser_datapost);
