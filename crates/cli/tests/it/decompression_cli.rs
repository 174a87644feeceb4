//! SECURITY.md row 22 at the command line: a gzip bomb piped into `secviz ingest` or
//! `secviz parse` (5 GB of log lines from ~18 MB, streamed, never stored) makes the
//! command fail with a message that names the flag raising the limit; the dataset keeps
//! its previous version and a new dataset is not created. The flag lets a genuine file in.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const LINE: &str = "Oct 21 06:00:01.015678 rule 57/0(match): pass out on xl1: 10.9.8.7.1030 > 192.0.2.1.53: 46523+ A? h.example. (43) (DF)\n";

/// One gzip member of `LINE` repeated to 1 MiB (about 3.7 KB compressed).
fn member() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(1 << 20) / LINE.len() {
        enc.write_all(LINE.as_bytes()).unwrap();
    }
    enc.finish().unwrap()
}

/// Runs secviz with `members` MiB of gzip bomb streamed into its standard input.
fn with_bomb(data: &Path, args: &[&str], members: usize) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_secviz"))
        .env("SECVIZ_DATA", data)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("secviz runs");
    let mut input = child.stdin.take().unwrap();
    let m = member();
    // The command stops reading when it refuses the input: the writer then meets a
    // closed pipe and ends.
    let writer = std::thread::spawn(move || {
        for _ in 0..members {
            if input.write_all(&m).is_err() {
                break;
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

use crate::common::{ok, secviz_in as secviz};

#[test]
fn security_row_22_gzip_bomb_is_refused_by_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("fw.log");
    std::fs::write(&log, LINE.repeat(10)).unwrap();
    ok(secviz(
        data,
        &[
            "ingest",
            log.to_str().unwrap(),
            "--dataset",
            "fw",
            "--year",
            "2005",
            "-q",
        ],
    ));
    let manifest = data.join("lake/datasets/fw/manifest.json");
    let before = std::fs::read(&manifest).unwrap();

    let ingest = [
        "ingest",
        "-",
        "--format",
        "pf",
        "--year",
        "2005",
        "-q",
        "--dataset",
    ];
    let out = with_bomb(data, &[&ingest[..], &["fw"]].concat(), 5000);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("more than 100 times its compressed size"),
        "{err}"
    );
    assert!(err.contains("nothing was ingested"), "{err}");
    assert!(err.contains("--max-decompressed-ratio"), "{err}");
    assert!(!err.contains("Decompression"), "no Rust names: {err}");
    assert_eq!(
        std::fs::read(&manifest).unwrap(),
        before,
        "the old version stands"
    );
    let n = ok(secviz(
        data,
        &["query", "--format", "csv", "SELECT count(*) AS n FROM fw"],
    ));
    assert_eq!(n, "n\n10\n");

    // Into a new dataset: it is not created.
    let out = with_bomb(data, &[&ingest[..], &["bomb"]].concat(), 5000);
    assert!(!out.status.success());
    assert!(!data.join("lake/datasets/bomb/manifest.json").exists());
    assert!(!ok(secviz(data, &["datasets"])).contains("bomb"));

    // A genuine (if very repetitive) file gets in with the flag: 18 MiB at ~280x.
    let out = with_bomb(data, &[&ingest[..], &["bomb"]].concat(), 18);
    assert!(!out.status.success(), "past the floor at 280x: refused");
    let out = with_bomb(
        data,
        &[&ingest[..], &["bomb", "--max-decompressed-ratio", "1000"]].concat(),
        18,
    );
    let text = ok(out);
    let rows = 18 * ((1 << 20) / LINE.len());
    assert!(text.contains(&format!("ingested {rows} events")), "{text}");
}

#[test]
fn security_row_22_gzip_bomb_is_refused_by_parse() {
    let dir = tempfile::tempdir().unwrap();
    let out = with_bomb(
        dir.path(),
        &["parse", "-", "--format", "pf", "--year", "2005"],
        5000,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parsing stdin: compressed input refused"),
        "{err}"
    );
    assert!(err.contains("--max-decompressed-ratio"), "{err}");

    let out = with_bomb(
        dir.path(),
        &[
            "parse",
            "-",
            "--format",
            "pf",
            "--year",
            "2005",
            "--max-decompressed-bytes",
            "2000000",
        ],
        4,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more than 2000000 bytes"), "{err}");
    assert!(err.contains("--max-decompressed-bytes"), "{err}");
}
