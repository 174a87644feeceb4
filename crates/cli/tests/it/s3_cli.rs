//! The lake on S3 through the real binary (moto on 127.0.0.1, configured only through the
//! usual AWS_* variables, as an operator would): `--data s3://bucket/prefix` ingests,
//! lists and queries like a local folder, and two `secviz ingest` processes racing into one
//! dataset both land, one version each.

use std::path::Path;
use std::process::{Command, Output};

use secviz_testkit::s3::S3Server;

use crate::common::{BIN, ok};

fn pf(day: u32, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Oct {day} 06:{:02}:{:02}.000001 rule 57/0(match): pass in on xl1: 10.0.0.{}.1030 > 192.0.2.53.53: 7+ A? x{i}.example. (30)\n",
                i / 60 % 60,
                i % 60,
                i % 200
            )
        })
        .collect()
}

/// `secviz ARGS` in `dir`, configured for the server only through the AWS_* variables.
fn command(server: &S3Server, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_remove("SECVIZ_DATA").args(args);
    for (k, v) in server.env() {
        c.env(k, v);
    }
    c
}

fn run(server: &S3Server, dir: &Path, args: &[&str]) -> Output {
    command(server, dir, args).output().expect("secviz runs")
}

#[test]
fn ingest_and_query_a_lake_on_s3() {
    let server = S3Server::start();
    server.bucket("logs");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), pf(21, 500)).unwrap();
    std::fs::write(dir.path().join("b.log"), pf(22, 700)).unwrap();
    let data = "s3://logs/secviz";
    // Two writers at once into one dataset.
    let spawn = |file: &str| {
        let mut c = Command::new(BIN);
        c.current_dir(dir.path()).env_remove("SECVIZ_DATA").args([
            "ingest",
            file,
            "--dataset",
            "fw",
            "--year",
            "2005",
            "--data",
            data,
        ]);
        for (k, v) in server.env() {
            c.env(k, v);
        }
        c.spawn().expect("secviz runs")
    };
    let (a, b) = (spawn("a.log"), spawn("b.log"));
    for mut p in [a, b] {
        assert!(p.wait().unwrap().success(), "an ingest failed");
    }
    let list = ok(run(
        &server,
        dir.path(),
        &["datasets", "--json", "--data", data],
    ));
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list[0]["name"], "fw", "{list}");
    assert_eq!(list[0]["rows"], 1200, "both ingests landed: {list}");
    let csv = ok(run(
        &server,
        dir.path(),
        &[
            "query",
            "-f",
            "csv",
            "--data",
            data,
            "SELECT count(DISTINCT src_ip) AS hosts, count(*) AS n FROM fw",
        ],
    ));
    assert_eq!(csv.trim(), "hosts,n\n200,1200", "{csv}");
    // Nothing was written to the working folder.
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(files.len(), 2);
}
