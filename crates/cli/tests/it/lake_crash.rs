//! A `secviz ingest` killed with SIGKILL in the middle leaves the dataset exactly as it
//! was, still readable; the next ingest cleans up what the killed one left.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::walk;

fn secviz(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secviz"));
    c.env("SECVIZ_DATA", data);
    c
}

fn pf_lines(from: usize, n: usize) -> String {
    let mut s = String::with_capacity(n * 120);
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

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("secviz runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn kill_9_mid_ingest_leaves_the_dataset_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let first = data.join("first.log");
    std::fs::write(&first, pf_lines(0, 2000)).unwrap();
    run_ok(
        secviz(data)
            .args(["ingest", "--dataset", "pf", "--year", "2005", "-q"])
            .arg(&first),
    );
    let manifest_path = data.join("lake/datasets/pf/manifest.json");
    let manifest_before = std::fs::read(&manifest_path).unwrap();
    let sql = "SELECT count(*) AS n, count(DISTINCT src_ip) AS s, max(line) AS l FROM pf";
    let answer_before = run_ok(secviz(data).args(["query", "--format", "csv", sql]));
    assert_eq!(answer_before, "n,s,l\n2000,1400,2000\n");

    // A second ingest from a pipe: feed it enough that Parquet files are being staged,
    // then kill it while its input is still open, so it is surely mid-way.
    let mut child = secviz(data)
        .args([
            "ingest",
            "-",
            "--dataset",
            "pf",
            "--format",
            "pf",
            "--year",
            "2005",
            "-q",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let staging = data.join("lake/tmp/pf");
    let started = Instant::now();
    let mut fed = 2000;
    let staged = loop {
        stdin.write_all(pf_lines(fed, 20_000).as_bytes()).unwrap();
        fed += 20_000;
        let files: Vec<_> = walk(&staging)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        if !files.is_empty() && fed > 100_000 {
            break files;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the ingest never staged a file"
        );
    };
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    drop(stdin);
    assert!(
        staged.iter().any(|p| p.exists()),
        "the killed ingest left its staged files"
    );

    // Exactly as before, and readable.
    assert_eq!(std::fs::read(&manifest_path).unwrap(), manifest_before);
    assert_eq!(
        run_ok(secviz(data).args(["query", "--format", "csv", sql])),
        answer_before
    );
    assert!(run_ok(secviz(data).args(["datasets"])).contains("pf"));

    // The next ingest into the dataset removes the leftovers and commits normally.
    let third = data.join("third.log");
    std::fs::write(&third, pf_lines(500_000, 1000)).unwrap();
    run_ok(
        secviz(data)
            .args(["ingest", "--dataset", "pf", "--year", "2005", "-q"])
            .arg(&third),
    );
    assert!(
        staged.iter().all(|p| !p.exists()),
        "leftovers were not collected"
    );
    let after =
        run_ok(secviz(data).args(["query", "--format", "csv", "SELECT count(*) AS n FROM pf"]));
    assert_eq!(after, "n\n3000\n");
    let parquet_files = walk(&data.join("lake/datasets/pf"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!(
        parquet_files,
        manifest["files"].as_array().unwrap().len(),
        "only files the manifest names remain"
    );
}
