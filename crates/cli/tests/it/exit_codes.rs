//! Every subcommand that reads something, on missing, empty, garbage and unknown input:
//! the exit status says whether it did what was asked, stderr says why in one clear line,
//! nothing leaks from the inside (engine names, Rust debug formatting), and nothing is
//! written beside the input unasked.

use std::path::Path;
use std::process::Command;

use crate::common::BIN;

/// One row of the table: the arguments (run in a folder holding the inputs below, with the
/// lake in `data/`), the exit status, and what stderr must say.
struct Case {
    args: &'static [&'static str],
    status: i32,
    says: &'static str,
}

const CASES: &[Case] = &[
    // parse
    Case {
        args: &["parse", "missing.log"],
        status: 1,
        says: "opening missing.log",
    },
    Case {
        args: &["parse", "empty.log"],
        status: 1,
        says: "the input is empty",
    },
    Case {
        args: &["parse", "--format", "pf", "empty.log"],
        status: 1,
        says: "nothing was parsed",
    },
    Case {
        args: &["parse", "garbage.bin"],
        status: 1,
        says: "could not detect the format",
    },
    Case {
        args: &["parse", "--format", "pf", "garbage.bin"],
        status: 1,
        says: "nothing was parsed",
    },
    Case {
        args: &["parse", "--format", "pf", "garbage.bin"],
        status: 1,
        says: "  line 1: unrecognized: ",
    },
    Case {
        args: &["parse", "--format", "pf", "--strict", "one-bad.log"],
        status: 3,
        says: "strict: line 2: unrecognized",
    },
    // ingest
    Case {
        args: &["ingest", "--dataset", "x", "missing.log"],
        status: 1,
        says: "missing.log is not a readable file",
    },
    Case {
        args: &["ingest", "--dataset", "x", "empty.log"],
        status: 1,
        says: "the input is empty",
    },
    Case {
        args: &["ingest", "--dataset", "x", "--format", "pf", "empty.log"],
        status: 2,
        says: "nothing was ingested: the input has no records",
    },
    Case {
        args: &["ingest", "--dataset", "x", "garbage.bin"],
        status: 1,
        says: "could not detect the format",
    },
    Case {
        args: &["ingest", "--dataset", "x", "--format", "pf", "garbage.bin"],
        status: 2,
        says: "nothing was ingested: no line was parsed",
    },
    // query, analyze, datasets, rm, chart, view, graph over the lake
    Case {
        args: &["query", "--dataset", "nope", "SELECT 1"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["query", "SELECT * FROM nope"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["query", "SELEKT 1"],
        status: 1,
        says: "syntax error",
    },
    Case {
        args: &["analyze", "--dataset", "nope"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["analyze", "--dataset", "fw", "no-such-analysis"],
        status: 1,
        says: "no-such-analysis",
    },
    Case {
        args: &["datasets", "nope"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["rm", "nope"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["chart", "--dataset", "nope", "--field", "dst_port"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["view", "--dataset", "nope"],
        status: 1,
        says: "no dataset named nope",
    },
    Case {
        args: &["graph", "--dataset", "nope", "--columns", "src_ip,dst_ip"],
        status: 1,
        says: "nope",
    },
    // graph from files
    Case {
        args: &["graph", "-i", "missing.csv"],
        status: 1,
        says: "opening missing.csv",
    },
    Case {
        args: &["graph", "-i", "empty.log"],
        status: 1,
        says: "the graph is empty",
    },
    Case {
        args: &["graph", "-i", "short.csv"],
        status: 1,
        says: "every row was rejected",
    },
];

/// Text that would mean an error was not worded for people.
const LEAKS: &[&str] = &[
    "datafusion.",
    "ParserError(",
    "Some(",
    "Error {",
    "panicked",
    "RUST_BACKTRACE",
];

fn inputs(dir: &Path) {
    std::fs::write(dir.join("empty.log"), "").unwrap();
    // Bytes that are no log: control characters and invalid UTF-8, and no separator a
    // CSV or a log could be split on.
    let garbage: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .filter(|b| !b",;|\t ".contains(b))
        .collect();
    std::fs::write(dir.join("garbage.bin"), garbage).unwrap();
    std::fs::write(
        dir.join("one-bad.log"),
        "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 1.2.3.4.1030 > 5.6.7.8.53: 7+ A? x.org. (30)\nnot pf\n",
    )
    .unwrap();
    std::fs::write(dir.join("short.csv"), "a\nb\nc\n").unwrap();
}

fn secviz(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("SECVIZ_DATA", dir.join("data"))
        .env_remove("SECVIZ_DATABASE_URL")
        .args(args)
        .output()
        .expect("secviz runs")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn every_command_on_missing_empty_garbage_and_unknown_input() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    inputs(dir);
    // One real dataset, so that the lake exists and the unknown names are the only fault.
    let fw = dir.join("fw.log");
    std::fs::write(
        &fw,
        "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 1.2.3.4.1030 > 5.6.7.8.53: 7+ A? x.org. (30)\n",
    )
    .unwrap();
    let out = secviz(
        dir,
        &["ingest", "--dataset", "fw", "--year", "2005", "fw.log"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = files_in(dir);

    let mut failures = Vec::new();
    for case in CASES {
        let out = secviz(dir, case.args);
        let err = String::from_utf8_lossy(&out.stderr);
        let mut wrong = Vec::new();
        if out.status.code() != Some(case.status) {
            wrong.push(format!(
                "exit {:?}, expected {}",
                out.status.code(),
                case.status
            ));
        }
        if !err.contains(case.says) {
            wrong.push(format!("stderr does not say {:?}", case.says));
        }
        if let Some(leak) = LEAKS.iter().find(|l| err.contains(*l)) {
            wrong.push(format!("stderr shows {leak:?}"));
        }
        // A failure is said once, on one line that starts with "error: ", and said once
        // (an error's cause printed twice was a bug).
        if case.status != 0 && case.status != 3 {
            let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
            if errors.len() != 1 {
                wrong.push(format!("{} error lines", errors.len()));
            } else if errors[0].matches(case.says).count() > 1 {
                wrong.push("the error says its cause twice".to_string());
            }
        }
        if err.contains('\u{1b}') || err.contains('\u{c}') {
            wrong.push("a control character reached the terminal".to_string());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "secviz {}: {}\n--- stderr:\n{err}",
                case.args.join(" "),
                wrong.join("; ")
            ));
        }
        // Nothing written beside the inputs (the lake's folder aside).
        let now = files_in(dir);
        assert_eq!(
            now,
            before,
            "secviz {} wrote files it was not asked for",
            case.args.join(" ")
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
