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
    common::ok(
        secviz(data)
            .args(["ingest", "--dataset", "pf", "--year", "2005", "-q"])
            .arg(&log)
            .output()
            .unwrap(),
    );
}

#[test]
fn queries_across_worker_processes_answer_as_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    lake_with_flows(data, 20_000);
    let (a, url_a) = worker(data, SECRET);
    let _a = Reaped(a);
    let (b, url_b) = worker(data, SECRET);
    let _b = Reaped(b);
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
    // Every analysis, across the workers: the same findings as in one process. (The table,
    // not --json: sums of floats added in another order may differ in their last bits.)
    let analyze = |workers: Option<&str>| {
        let mut c = secviz(data);
        c.args(["analyze", "--top", "1000"]);
        if let Some(w) = workers {
            c.args(["--workers", w])
                .env("SECVIZ_WORKER_SECRET", SECRET)
                .env("SECVIZ_WORKER_TASK_BYTES", "4096");
        }
        common::ok(c.output().unwrap())
    };
    let here = analyze(None);
    assert!(
        here.lines().count() > 1 && !here.contains("no findings"),
        "{here}"
    );
    assert_eq!(analyze(Some(&workers)), here);

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
    let (c, url_c) = worker(data, "some-other-secret-0123456789");
    let _c = Reaped(c);
    let (d, url_d) = worker(data, "some-other-secret-0123456789");
    let _d = Reaped(d);
    let out = query(
        data,
        &format!("{url_c},{url_d}"),
        "SELECT src_ip, count(*) FROM pf GROUP BY src_ip",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("secret") && !err.contains("code: '"), "{err}");
}

/// A child process killed when the test ends, passed or not: a failed assertion must not
/// leave a worker computing for minutes beside the next tests.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU time a process has used, in clock ticks (Linux, /proc).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn a_worker_killed_mid_query_fails_the_query_without_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    lake_with_flows(data, 60_000);
    let (a, url_a) = worker(data, SECRET);
    let (b, url_b) = worker(data, SECRET);
    let mut workers = [Reaped(a), Reaped(b)];
    // An edit distance between long strings for every row: seconds of work in the scan
    // stage, which the workers run, far longer than the moment before the kill.
    let sql =
        "SELECT count(*) FROM pf WHERE levenshtein(repeat(raw, 4), reverse(repeat(raw, 4))) > 5";
    let started = Instant::now();
    let q = secviz(data)
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
    let mut q = Reaped(q);
    // The engine splits the file's bytes between the two tasks, but a row group goes whole
    // to one of them, and tasks go to workers from a random offset: the worker to kill is
    // the one doing the work (the other's task may have been empty).
    std::thread::sleep(Duration::from_millis(1000));
    let before = workers.each_ref().map(|w| cpu_ticks(w.0.id()));
    std::thread::sleep(Duration::from_millis(500));
    let used: Vec<u64> = workers
        .iter()
        .zip(before)
        .map(|(w, t)| cpu_ticks(w.0.id()) - t)
        .collect();
    let busy = if used[0] >= used[1] { 0 } else { 1 };
    assert!(used[busy] > 0, "no worker is running the query: {used:?}");
    assert!(
        q.0.try_wait().unwrap().is_none(),
        "the query ended before the kill"
    );
    workers[busy].0.kill().unwrap();
    let _ = workers[busy].0.wait();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = q.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the query hangs after its worker died"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(q.0.stderr.as_mut().unwrap(), &mut err).unwrap();
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
}
