//! `secviz worker` processes and `secviz query --workers`: the same answers as without
//! workers; a worker killed with SIGKILL in the middle of a query makes the query fail with
//! a clear message and a non-zero exit, not hang; a worker given the wrong secret refuses.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;

const SECRET: &str = "cli-test-secret-0123456789";

fn secviz(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secviz"));
    c.env("SECVIZ_DATA", data);
    c
}

/// A `secviz worker` on a free port of 127.0.0.1, and its URL (from its first line).
fn worker(data: &Path, secret: &str) -> (Child, String) {
    let mut child = secviz(data)
        .args(["worker", "--listen", "127.0.0.1:0"])
        .env("SECVIZ_WORKER_SECRET", secret)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (child, url)
}

fn query(data: &Path, workers: &str, sql: &str) -> Output {
    secviz(data)
        .args(["query", "--format", "csv", "--workers", workers, sql])
        .env("SECVIZ_WORKER_SECRET", SECRET)
        .env("SECVIZ_WORKER_TASK_BYTES", "4096")
        .output()
        .unwrap()
}

fn lake_with_flows(data: &Path, lines: usize) {
    let log = data.join("pf.log");
    std::fs::write(&log, crate::common::portal::pf_lines(0, lines)).unwrap();
    let out = secviz(data)
        .args(["ingest", "--dataset", "pf", "--year", "2005", "-q"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn queries_across_worker_processes_answer_as_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    lake_with_flows(data, 20_000);
    let (mut a, url_a) = worker(data, SECRET);
    let (mut b, url_b) = worker(data, SECRET);
    let workers = format!("{url_a},{url_b}");
    for sql in [
        "SELECT src_ip, count(*) AS n FROM pf GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10",
        "SELECT dst_ip, count(DISTINCT src_ip) AS n FROM pf GROUP BY dst_ip ORDER BY n DESC, dst_ip",
        "SELECT date_trunc('minute', time) AS m, count(*) FROM events GROUP BY m ORDER BY m",
    ] {
        let here = common::ok(
            secviz(data)
                .args(["query", "--format", "csv", sql])
                .output()
                .unwrap(),
        );
        let spread = common::ok(query(data, &workers, sql));
        assert!(here.lines().count() > 2, "{here}");
        assert_eq!(spread, here, "{sql}");
    }
    let plan = common::ok(query(
        data,
        &workers,
        "EXPLAIN ANALYZE SELECT src_ip, count(*) FROM pf GROUP BY src_ip",
    ));
    assert!(
        plan.contains("NetworkShuffleExec") || plan.contains("NetworkCoalesceExec"),
        "{plan}"
    );

    // A worker that does not hold the secret refuses, and the query says so.
    let (mut c, url_c) = worker(data, "some-other-secret-0123456789");
    let (mut d, url_d) = worker(data, "some-other-secret-0123456789");
    let out = query(
        data,
        &format!("{url_c},{url_d}"),
        "SELECT src_ip, count(*) FROM pf GROUP BY src_ip",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("secret") && !err.contains("code: '"), "{err}");
    for w in [&mut a, &mut b, &mut c, &mut d] {
        let _ = w.kill();
        let _ = w.wait();
    }
}

#[test]
fn a_worker_killed_mid_query_fails_the_query_without_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    lake_with_flows(data, 60_000);
    let (mut a, url_a) = worker(data, SECRET);
    let (mut b, url_b) = worker(data, SECRET);
    // An edit distance between long strings for every row: seconds of work in the scan
    // stage, which the workers run, far longer than the moment before the kill.
    let sql =
        "SELECT count(*) FROM pf WHERE levenshtein(repeat(raw, 4), reverse(repeat(raw, 4))) > 5";
    let started = Instant::now();
    let mut q = secviz(data)
        .args([
            "query",
            "--format",
            "csv",
            "--workers",
            &format!("{url_a},{url_b}"),
            sql,
        ])
        .env("SECVIZ_WORKER_SECRET", SECRET)
        .env("SECVIZ_WORKER_TASK_BYTES", "4096")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        q.try_wait().unwrap().is_none(),
        "the query ended before the kill"
    );
    a.kill().unwrap();
    let _ = a.wait();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = q.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the query hangs after its worker died"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = q.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !status.success(),
        "the query succeeded without a worker: {err}"
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("worker"), "{err}");
    assert!(
        !err.contains("code: '") && !err.contains("DataFusionError"),
        "{err}"
    );
    eprintln!("failed after {:?}: {err}", started.elapsed());
    let _ = b.kill();
    let _ = b.wait();
}
