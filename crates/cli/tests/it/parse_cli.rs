//! `secviz parse` end to end: the real binary on generated and real files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn secviz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_secviz"))
}

fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = secviz();
    cmd.current_dir(dir)
        .arg("parse")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("secviz runs");
    if let Some(data) = stdin {
        let mut input = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || input.write_all(&data));
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn generate(dir: &Path, kind: &str, lines: usize) -> PathBuf {
    secviz_testkit::generate(kind, lines, 5, &dir.join(format!("{kind}.log")))
}

/// The shared real samples (`data/real` of the shared folder).
static REAL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| secviz_testkit::real("").display().to_string());

#[test]
fn pf_to_csv_fields_in_order_like_pf2csv() {
    let dir = tempfile::tempdir().unwrap();
    let pf = generate(dir.path(), "pf", 2_000);
    let out = run_in(
        dir.path(),
        &[
            pf.to_str().unwrap(),
            "--fields",
            "src_ip,dst_port,dst_ip",
            "--to",
            "csv",
            "--year",
            "2005",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "src_ip,dst_port,dst_ip");
    assert_eq!(lines.len(), 2_001);
    // The first generated line, by hand: "... pass in on ...: SRC.SPORT > DST.DPORT: ..."
    let first = std::fs::read_to_string(&pf)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let body = first.split(": ").nth(2).unwrap();
    let (src, dst) = body.split_once(" > ").unwrap();
    let ip = |e: &str| e.rsplit_once('.').unwrap().0.to_string();
    assert!(
        lines[1].starts_with(&format!("{},", ip(src))),
        "{} vs {body}",
        lines[1]
    );
    assert!(lines[1].ends_with(&ip(dst)), "{} vs {body}", lines[1]);
    let err = text(&out.stderr);
    assert!(err.contains("format pf"), "{err}");
    assert!(err.contains("read 2000 parsed 2000 rejected 0"), "{err}");
    assert!(
        !dir.path().join("pf.log.rejects").exists(),
        "no rejects file without rejects"
    );
}

#[test]
fn stdin_gzip_and_jsonl_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(format!("{}/loghub/OpenSSH_2k.log", *REAL)).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&data).unwrap();
    let gz = enc.finish().unwrap();
    let out = run_in(
        dir.path(),
        &[
            "-",
            "--to",
            "jsonl",
            "--year",
            "2005",
            "--fields",
            "time,src_ip,user,auth_result",
        ],
        Some(&gz),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2000);
    let second: serde_json::Value = serde_json::from_str(stdout.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["user"], "webmaster");
    assert_eq!(second["auth_result"], "failure");
    assert_eq!(second["time"], "2005-12-10T06:55:46.000000Z");
    assert!(text(&out.stderr).contains("stdin: format syslog (gzip)"));
}

#[test]
fn rejects_are_shown_on_stderr_and_written_only_to_the_file_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.log");
    std::fs::write(&input, "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 1.2.3.4.1030 > 5.6.7.8.53: 7+ A? x.org. (30)\nnot a pf line \x1b[31m\nOct 21 06:06:59 rule 1/0(match): block in on xl1: 1.2.3.999 > 5.6.7.8: icmp: echo request\n").unwrap();
    let out = run_in(
        dir.path(),
        &["mixed.log", "--format", "pf", "--year", "2005"],
        None,
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 2, "header and one event");
    let err = text(&out.stderr);
    assert!(
        err.contains("read 3 parsed 1 rejected 2 (unrecognized 1, bad_address 1)"),
        "{err}"
    );
    // Each rejected line with its number and reason; a terminal escape in a log line is
    // shown escaped, never sent to the terminal.
    let line2 = err
        .lines()
        .find(|l| l.starts_with("  line 2: unrecognized: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line2.ends_with("not a pf line \\u{1b}[31m"), "{line2}");
    assert!(!err.contains('\x1b'), "{err}");
    assert!(err.contains("  line 3: bad_address: "), "{err}");
    // How the lines were dated, since pf prints no year.
    assert!(
        err.contains(
            "mixed.log: note: the log prints no year: its first line is dated 2005, the year given"
        ),
        "{err}"
    );
    // Nothing written that was not asked for.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, ["mixed.log"]);

    // --rejects FILE collects them all, as JSON lines.
    let out = run_in(
        dir.path(),
        &["mixed.log", "--rejects", "all.jsonl", "--year", "2005"],
        None,
    );
    assert!(out.status.success());
    let rejects = std::fs::read_to_string(dir.path().join("all.jsonl")).unwrap();
    let r: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0]["line"].as_u64(), r[0]["reason"].as_str()),
        (Some(2), Some("unrecognized"))
    );
    assert_eq!(r[0]["raw"], "not a pf line \x1b[31m");
    assert_eq!(
        (r[1]["line"].as_u64(), r[1]["reason"].as_str()),
        (Some(3), Some("bad_address"))
    );
}

#[test]
fn strict_exits_non_zero_at_the_first_reject() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &["-", "--format", "syslog", "--strict"],
        Some(b"Dec 10 06:55:46 LabSZ sshd[1]: ok\nnonsense\nDec 10 06:55:47 LabSZ sshd[1]: ok\n"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("strict: line 2"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn csv_map_and_formula_neutralisation() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "when,who,from\n2024-01-01T00:00:00Z,=HYPERLINK(\"http://x\"),10.0.0.1\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "people.csv",
            "--map",
            "when=time,who=user,from=src_ip",
            "--fields",
            "time,user,src_ip",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().nth(1).unwrap(),
        r#"2024-01-01T00:00:00.000000Z,"'=HYPERLINK(""http://x"")",10.0.0.1"#
    );
}

#[test]
fn truncated_gzip_keeps_the_prefix_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let pf = generate(dir.path(), "pf", 20_000);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&std::fs::read(&pf).unwrap()).unwrap();
    let gz = enc.finish().unwrap();
    std::fs::write(dir.path().join("cut.log.gz"), &gz[..gz.len() / 2]).unwrap();
    let out = run_in(
        dir.path(),
        &[
            "cut.log.gz",
            "--fields",
            "raw",
            "--no-header",
            "--year",
            "2005",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("input damaged"));
    let kept = text(&out.stdout);
    let original = std::fs::read_to_string(&pf).unwrap();
    let n = kept.lines().count();
    assert!(n > 1_000 && n < 20_000);
    // Raw lines with commas are quoted in CSV; compare unquoted.
    for (a, b) in kept.lines().zip(original.lines()) {
        assert_eq!(a.trim_matches('"').replace("\"\"", "\""), b);
    }
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            &format!("{}/loghub/Linux_2k.log", *REAL),
            "--fields",
            "src_ip,nope",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown field \"nope\""),
        "{}",
        text(&out.stderr)
    );
    let out = run_in(dir.path(), &["/no/such/file"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/no/such/file"));
    let out = run_in(dir.path(), &["-"], Some(b"just words here\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--format"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn pcap_flows_and_many_files_share_one_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        &[
            &format!("{}/zeek-training/dns.pcap", *REAL),
            &format!("{}/zeek-training/http.pcap", *REAL),
            "--pcap",
            "flows",
            "--fields",
            "source,src_ip,dst_ip,packets",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "source,src_ip,dst_ip,packets", "one header");
    assert!(
        lines[1].ends_with("dns.pcap,25.229.246.205,138.183.230.21,2"),
        "{}",
        lines[1]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("http.pcap,206.210.229.35,128.11.134.107,11")),
        "{stdout}"
    );
}
