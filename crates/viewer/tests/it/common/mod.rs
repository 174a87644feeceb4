//! A real lake in a temporary directory, filled with generated pf logs (the project's
//! seeded generator) or hand-written JSON lines, and helpers to ask the lake directly.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

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

/// Writes `lines` generated pf log lines (seeded) to a file in `dir`.
pub fn gen_pf(dir: &Path, lines: usize, seed: u64) -> PathBuf {
    secviz_testkit::generate(
        "pf",
        lines,
        seed,
        &dir.join(format!("pf-{lines}-{seed}.log")),
    )
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

/// The first column of what the lake answers to `sql`, as text (operator access).
pub async fn lake_strings(lake: &Lake, sql: &str) -> Vec<String> {
    let r = lake
        .query(sql, &QueryOptions::operator())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    let mut out = Vec::new();
    for b in &r.batches {
        let col = cast(b.column(0), &DataType::Utf8).unwrap();
        let text = col.as_string::<i32>();
        out.extend((0..col.len()).map(|i| text.value(i).to_string()));
    }
    out
}

/// The nodes the default linked graph (`src_ip` -> `dst_port` -> `dst_ip`) must have over the
/// `pf` dataset: every address and port of the rows that have all three.
pub async fn default_graph_nodes(lake: &Lake) -> std::collections::BTreeSet<String> {
    let all = "src_ip IS NOT NULL AND dst_port IS NOT NULL AND dst_ip IS NOT NULL";
    let sql = format!(
        "SELECT DISTINCT v FROM (SELECT src_ip AS v FROM pf WHERE {all} \
         UNION ALL SELECT CAST(dst_port AS VARCHAR) FROM pf WHERE {all} \
         UNION ALL SELECT dst_ip FROM pf WHERE {all})"
    );
    let nodes: std::collections::BTreeSet<String> =
        lake_strings(lake, &sql).await.into_iter().collect();
    assert!(
        nodes.len() > 100,
        "the generated log has only {} nodes",
        nodes.len()
    );
    nodes
}

/// The node ids of a graph document of the viewer's JSON.
pub fn graph_ids(doc: &serde_json::Value) -> std::collections::BTreeSet<String> {
    doc["nodes"]["id"]
        .as_array()
        .expect("nodes.id")
        .iter()
        .map(|v| v.as_str().expect("text id").to_string())
        .collect()
}
