//! The viewer in headless Chromium over a generated dataset: `tests/browser/viewer.mjs`
//! drives the page (graph drawn, brush, clear, keyboard, CSV export) and prints what every
//! view showed; this test checks those numbers against lake queries. Needs node,
//! /usr/bin/chromium and `npm ci` in tests/browser (scripts/setup-test-env.sh).

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::{lake_count, pf_lake};
use secviz_views::ViewSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewer_brushing_clear_keyboard_and_export_match_the_lake() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "run scripts/setup-test-env.sh first (npm ci in tests/browser)"
    );
    let t = pf_lake(4000).await;
    let base =
        common::serve::explorer(t.lake.clone(), t.name.clone(), ViewSpec::linked_default()).await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("viewer.mjs")
            .arg(&base)
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
        "viewer test failed:\n{stdout}\n{stderr}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("VIEWER_RESULT "))
        .expect("the script reports");
    let r: serde_json::Value = serde_json::from_str(line).unwrap();
    let lake = &t.lake;
    let all = lake_count(lake, "SELECT count(*) FROM pf").await;
    assert_eq!(r["initial"]["total"].as_i64().unwrap(), all);
    assert_eq!(
        r["initial"]["timeline"]["total"].as_i64().unwrap(),
        lake_count(lake, "SELECT count(*) FROM pf WHERE time IS NOT NULL").await
    );

    // After brushing the top dst_port bar, every view counts what the lake counts.
    let port: i64 = r["brushed"]["value"].as_str().unwrap().parse().unwrap();
    let expect = lake_count(
        lake,
        &format!("SELECT count(*) FROM pf WHERE dst_port = {port}"),
    )
    .await;
    let after = &r["afterBrush"];
    assert_eq!(after["selected"].as_i64().unwrap(), expect);
    assert_eq!(after["timeline"]["selected"].as_i64().unwrap(), expect);
    for bar in after["facets"]["src_ip"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| !b["other"].as_bool().unwrap())
    {
        let ip = bar["value"].as_str().unwrap();
        let n = lake_count(
            lake,
            &format!("SELECT count(*) FROM pf WHERE dst_port = {port} AND src_ip = '{ip}'"),
        )
        .await;
        assert_eq!(bar["selected"].as_i64().unwrap(), n, "src_ip {ip}");
        assert_eq!(
            bar["total"].as_i64().unwrap(),
            lake_count(
                lake,
                &format!("SELECT count(*) FROM pf WHERE src_ip = '{ip}'")
            )
            .await
        );
    }
    let drawn_tuples = after["parallel"]["selected"].as_i64().unwrap();
    assert!(drawn_tuples > 0 && drawn_tuples <= expect);

    // Clearing restores everything.
    assert_eq!(r["afterClear"]["selected"].as_i64().unwrap(), all);

    // The CSV export holds exactly the selected records.
    let mut rd = csv::Reader::from_reader(r["csv"].as_str().unwrap().as_bytes());
    let header = rd.headers().unwrap().clone();
    let line_col = header.iter().position(|h| h == "line").unwrap();
    let port_col = header.iter().position(|h| h == "dst_port").unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, expect);
    assert!(rows.iter().all(|row| row[port_col] == *port.to_string()));
    let mut lines: Vec<i64> = rows
        .iter()
        .map(|row| row[line_col].parse().unwrap())
        .collect();
    lines.sort_unstable();
    let q = secviz_lake::query::QueryOptions::operator();
    let res = lake
        .query(
            &format!("SELECT line FROM pf WHERE dst_port = {port} ORDER BY line"),
            &q,
        )
        .await
        .unwrap();
    let mut want: Vec<i64> = Vec::new();
    for b in &res.batches {
        let c = secviz_lake::datafusion::arrow::compute::cast(
            b.column(0),
            &secviz_lake::datafusion::arrow::datatypes::DataType::Int64,
        )
        .unwrap();
        let a = secviz_lake::datafusion::arrow::array::AsArray::as_primitive::<
            secviz_lake::datafusion::arrow::datatypes::Int64Type,
        >(&c);
        want.extend(a.values().iter().copied());
    }
    assert_eq!(lines, want, "the export holds the lake's records");

    // Keyboard: a src_ip bar reached with Tab and selected with Enter.
    let kb = &r["keyboard"];
    assert_eq!(kb["pressed"], "true");
    assert!(kb["help"].as_bool().unwrap(), "? shows the shortcuts");
    let ip = kb["value"].as_str().unwrap();
    assert_eq!(
        kb["after"]["selected"].as_i64().unwrap(),
        lake_count(
            lake,
            &format!("SELECT count(*) FROM pf WHERE src_ip = '{ip}'")
        )
        .await
    );
    assert!(
        r["search"].as_str().unwrap().starts_with("Found"),
        "{}",
        r["search"]
    );
}
