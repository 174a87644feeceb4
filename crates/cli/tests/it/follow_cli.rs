//! `secviz ingest --follow`: new lines queryable within 5 s, a clean stop on SIGTERM, and
//! `kill -9` at any moment losing and repeating nothing that was acknowledged.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::portal::pf_lines;
use crate::common::{ok, secviz_in};

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn follow(data: &Path, log: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_secviz"))
        .env("SECVIZ_DATA", data)
        .args([
            "ingest",
            "--follow",
            "--dataset",
            "live",
            "--year",
            "2005",
            "-q",
        ])
        .args(extra)
        .arg(log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn count(data: &Path, sql: &str) -> Option<u64> {
    let out = secviz_in(data, &["query", "--format", "csv", sql]);
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .nth(1)?
        .parse()
        .ok()
}

/// The follow record's lines read, from the manifest on disk (what was acknowledged).
fn acknowledged(data: &Path) -> u64 {
    let Ok(bytes) = std::fs::read(data.join("lake/datasets/live/manifest.json")) else {
        return 0;
    };
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    m["streams"]
        .as_object()
        .and_then(|s| s.values().next())
        .map_or(0, |s| s["summary"]["read"].as_u64().unwrap())
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn followed_lines_are_queryable_within_5_seconds_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("pf.log");
    append(&log, &pf_lines(0, 100));
    // The default interval (1 s), as a member runs it.
    let child = follow(data, &log, &[]);
    let started = Instant::now();
    while count(data, "SELECT count(*) FROM live") != Some(100) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never ingested"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for round in 0..3 {
        append(&log, &pf_lines(100 + round * 50, 50));
        let appended = Instant::now();
        let want = 150 + round as u64 * 50;
        while count(data, "SELECT count(*) FROM live") != Some(want) {
            assert!(
                appended.elapsed() < Duration::from_secs(5),
                "lines appended were not queryable within 5 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("followed"), "{stdout}");
    assert!(stdout.contains("250 events"), "{stdout}");
    let shown = ok(secviz_in(data, &["datasets", "live"]));
    assert!(shown.contains("live follow"), "{shown}");
    assert!(shown.contains("read to line 250"), "{shown}");
}

#[test]
fn kill_9_during_follow_loses_and_repeats_no_acknowledged_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("pf.log");
    std::fs::write(&log, "").unwrap();
    // A writer appends 12,000 lines in 60 bursts while the follower is killed and started
    // again, over and over (at least four times, the writer still writing for most).
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for k in 0..60 {
                append(&log, &pf_lines(k * 200, 200));
                std::thread::sleep(Duration::from_millis(40));
            }
        })
    };
    let mut kills = 0;
    let mut acked_before_kill = Vec::new();
    while !writer.is_finished() || kills < 4 {
        let mut child = follow(data, &log, &["--interval", "0.1"]);
        std::thread::sleep(Duration::from_millis(300 + 170 * (kills % 4)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        // What was acknowledged before the kill is in the dataset, readable.
        let acked = acknowledged(data);
        acked_before_kill.push(acked);
        if acked > 0 {
            assert_eq!(count(data, "SELECT count(*) FROM live"), Some(acked));
        }
    }
    writer.join().unwrap();
    assert!(kills >= 4);
    // One last follower reads the rest and 100 lines more (so that it is surely running
    // when told to stop), then stops.
    let child = follow(data, &log, &["--interval", "0.1"]);
    append(&log, &pf_lines(12_000, 100));
    let started = Instant::now();
    while acknowledged(data) < 12_100 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the follower did not catch up: {} of 12100 (acknowledged before kills: {acked_before_kill:?})",
            acknowledged(data)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every line once.
    assert_eq!(count(data, "SELECT count(*) FROM live"), Some(12_100));
    assert_eq!(
        count(data, "SELECT count(DISTINCT line) FROM live"),
        Some(12_100)
    );
    assert_eq!(count(data, "SELECT max(line) FROM live"), Some(12_100));
    assert!(
        acked_before_kill.windows(2).all(|w| w[0] <= w[1]),
        "acknowledged lines never go back: {acked_before_kill:?}"
    );
    // What killed followers published without committing was collected when the next one
    // started: only files the manifest names remain.
    let parquet_files = crate::common::walk(&data.join("lake/datasets/live"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .count();
    let manifest = std::fs::read_to_string(data.join("lake/datasets/live/manifest.json")).unwrap();
    assert_eq!(parquet_files, manifest.matches(".parquet\"").count());
}
