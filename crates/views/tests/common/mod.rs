//! A real lake in a temporary directory, filled with generated pf logs (the project's
//! seeded generator) or hand-written JSON lines, and helpers to ask the lake directly.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use secviz_lake::datafusion::arrow::array::AsArray;
use secviz_lake::datafusion::arrow::compute::cast;
use secviz_lake::datafusion::arrow::datatypes::{DataType, Int64Type};
use secviz_lake::query::QueryOptions;
use secviz_lake::{DatasetName, IngestOptions, IngestSource, Lake};
use tempfile::TempDir;

pub mod serve;

pub struct TestLake {
    pub dir: TempDir,
    pub lake: Lake,
    pub name: DatasetName,
}

fn generator() -> PathBuf {
    // The repository's shared tools sit next to the checkout (../shared from the repo root).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for c in [
        root.join("../shared/tools/gen_security_data.py"),
        PathBuf::from("/work/shared/tools/gen_security_data.py"),
    ] {
        if c.is_file() {
            return c;
        }
    }
    panic!("gen_security_data.py not found next to the repository (../shared/tools)");
}

/// Writes `lines` generated pf log lines (seeded) to a file in `dir`.
pub fn gen_pf(dir: &Path, lines: usize, seed: u64) -> PathBuf {
    let out = dir.join(format!("pf-{lines}-{seed}.log"));
    let st = Command::new("python3")
        .arg(generator())
        .args([
            "--kind",
            "pf",
            "--lines",
            &lines.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&out)
        .status()
        .expect("python3 runs");
    assert!(st.success(), "the generator failed");
    out
}

pub async fn ingest(lake: &Lake, name: &DatasetName, path: &Path) {
    lake.ingest(
        name,
        vec![IngestSource::path(path)],
        IngestOptions::default(),
        Box::new(|_| {}),
        Box::new(|_, _| {}),
    )
    .await
    .expect("ingest");
}

/// A lake holding `lines` generated pf lines as dataset `pf`.
pub async fn pf_lake(lines: usize) -> TestLake {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("data").to_str().unwrap()).unwrap();
    let name = DatasetName::parse("pf").unwrap();
    let log = gen_pf(dir.path(), lines, 7);
    ingest(&lake, &name, &log).await;
    TestLake { dir, lake, name }
}

/// A lake with JSON-lines records of hostile text (`jsonl` dataset).
pub async fn hostile_lake() -> TestLake {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().join("data").to_str().unwrap()).unwrap();
    let name = DatasetName::parse("jsonl").unwrap();
    let path = dir.path().join("hostile.jsonl");
    let mut text = String::new();
    for (i, (uri, ua)) in [
        (
            "=HYPERLINK(\"http://evil.example\",\"x\")",
            "<script>alert(1)</script>",
        ),
        ("+cmd|' /C calc'!A0", "\"><img src=x onerror=alert(2)>"),
        ("-2+3", "@SUM(A1:A9)"),
        ("/index.html", "Mozilla/5.0"),
    ]
    .iter()
    .enumerate()
    {
        let line = serde_json::json!({"time": format!("2024-03-0{}T10:00:00Z", i + 1), "src_ip": format!("10.0.0.{}", i + 1), "dst_ip": "192.0.2.10", "dst_port": 80, "http_uri": uri, "user_agent": ua, "http_method": "GET"});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    ingest(&lake, &name, &path).await;
    TestLake { dir, lake, name }
}

/// A single integer the lake answers to `sql` (operator access, its own entry point).
pub async fn lake_count(lake: &Lake, sql: &str) -> i64 {
    let r = lake
        .query(sql, &QueryOptions::operator())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let col = cast(r.batches[0].column(0), &DataType::Int64).unwrap();
    col.as_primitive::<Int64Type>().value(0)
}
