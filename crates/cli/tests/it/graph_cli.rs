//! `secviz graph` end to end: AfterGlow flags on a conformance case, every output format,
//! rejected rows reported with their line number, refused rules with line and column.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn secviz() -> Command {
    Command::new(env!("CARGO_BIN_EXE_secviz"))
}

fn case(name: &str) -> PathBuf {
    secviz_testkit::afterglow_case(name)
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = secviz()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn afterglow_flags_and_pipe_habits() {
    let dir = case("thresholds");
    let rules = dir.join("rules.properties");
    let input = std::fs::read(dir.join("input.csv")).unwrap();
    // `secviz graph -c rules -o 2 -f 1 < in.csv` writes DOT on stdout, like afterglow.pl.
    let out = run_stdin(
        &["graph", "-c", rules.to_str().unwrap(), "-o", "2", "-f", "1"],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph structs {"));
    let expected = std::fs::read_to_string(dir.join("expected.dot")).unwrap();
    let edges = |s: &str| {
        let mut v: Vec<String> = s
            .lines()
            .filter(|l| l.contains(" -> "))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(edges(&dot), edges(&expected));
    // -i / -w
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("g.dot");
    let st = secviz()
        .args([
            "graph",
            "-c",
            rules.to_str().unwrap(),
            "-o",
            "2",
            "-f",
            "1",
            "-i",
        ])
        .arg(dir.join("input.csv"))
        .arg("-w")
        .arg(&out_path)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(std::fs::read_to_string(out_path).unwrap(), dot);
}

#[test]
fn every_output_format_is_written() {
    let dir = case("colors-regex");
    let rules = dir.join("rules.properties");
    let input = std::fs::read(dir.join("input.csv")).unwrap();
    for (to, magic) in [
        ("dot", &b"digraph"[..]),
        ("svg", b"<?xml"),
        ("png", b"\x89PNG"),
        ("gdf", b"nodedef>"),
        ("gexf", b"<?xml"),
        ("graphml", b"<?xml"),
        ("json", b"{\"version\":1"),
    ] {
        let out = run_stdin(
            &["graph", "-c", rules.to_str().unwrap(), "--to", to],
            &input,
        );
        assert!(
            out.status.success(),
            "{to}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.starts_with(magic),
            "{to} output starts with {magic:?}"
        );
    }
}

#[test]
fn short_rows_are_reported_with_line_numbers() {
    let input = b"10.0.0.1,ssh,10.0.0.2\nonlyone\n10.0.0.3,web,10.0.0.4\n";
    let out = run_stdin(&["graph"], input);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: rejected"), "{err}");
    assert!(err.contains("3 rows read, 2 used, 1 rejected"), "{err}");
}

#[test]
fn refused_rules_name_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("bad.properties");
    std::fs::write(
        &rules,
        "color.source=\"red\"\ncolor.target=system(\"id\")\n",
    )
    .unwrap();
    let out = run_stdin(&["graph", "-c", rules.to_str().unwrap()], b"a,b,c\n");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2, column 14") && err.contains("system()"),
        "{err}"
    );
}

#[test]
fn same_seed_same_svg() {
    let input = std::fs::read(case("two-node").join("input.csv")).unwrap();
    let a = run_stdin(&["graph", "--to", "svg", "--seed", "3"], &input);
    let b = run_stdin(&["graph", "--to", "svg", "--seed", "3"], &input);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn parsed_logs_give_rows_with_columns() {
    let pf = "Oct 21 06:00:18.115328 rule 188/0(match): block in on xl1: 80.98.183.23.36319 > 195.66.105.110.1433: S 2741972366:2741972366(0) win 16384 <mss 1400,nop,nop,sackOK> (DF)\n\
Oct 21 06:00:18.142975 rule 201/0(match): pass out on fxp0: 212.8.166.157.5763 > 202.49.192.206.143: S 1737572649:1737572649(0) win 32768 <mss 1380,nop,nop,sackOK> (DF)\n\
Oct 21 06:00:18.166422 rule 201/0(match): pass in on xl1: 83.141.12.20.15017 > 195.66.105.110.1433: udp 672\n";
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("r.rules");
    std::fs::write(
        &rules,
        "event.cluster = port_class(value)\ntarget.color = \"red\" when dst_ip in 195.66.0.0/16\n",
    )
    .unwrap();
    let out = run_stdin(
        &[
            "graph",
            "--columns",
            "src_ip,dst_port,dst_ip",
            "-c",
            rules.to_str().unwrap(),
        ],
        pf.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.contains("\"80.98.183.23\" -> \"database\""), "{dot}");
    assert!(dot.contains("\"database\" -> \"195.66.105.110\""), "{dot}");
    assert!(
        dot.contains("\"195.66.105.110\" [fillcolor=\"red\""),
        "{dot}"
    );
    assert!(dot.contains("\"mail\""), "port 143 is mail: {dot}");
}

/// A graph of a lake dataset is the graph of the log it was ingested from, and `--sql`
/// shapes the rows (here: only blocked traffic, two-node).
#[test]
fn lake_datasets_and_queries_give_rows() {
    let pf = "Oct 21 06:00:18.115328 rule 188/0(match): block in on xl1: 80.98.183.23.36319 > 195.66.105.110.1433: S 2741972366:2741972366(0) win 16384 <mss 1400,nop,nop,sackOK> (DF)\n\
Oct 21 06:00:18.142975 rule 201/0(match): pass out on fxp0: 212.8.166.157.5763 > 202.49.192.206.143: S 1737572649:1737572649(0) win 32768 <mss 1380,nop,nop,sackOK> (DF)\n\
Oct 21 06:00:18.166422 rule 201/0(match): pass in on xl1: 83.141.12.20.15017 > 195.66.105.110.1433: udp 672\n";
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("fw.log");
    std::fs::write(&log, pf).unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let ingest = secviz()
        .args([
            "ingest",
            log.to_str().unwrap(),
            "--dataset",
            "fw",
            "--year",
            "2005",
        ])
        .args(["--data", data])
        .output()
        .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let from_file = run_stdin(
        &["graph", "--columns", "src_ip,dst_port,dst_ip"],
        pf.as_bytes(),
    );
    let from_lake = secviz()
        .args([
            "graph",
            "--dataset",
            "fw",
            "--columns",
            "src_ip,dst_port,dst_ip",
        ])
        .args(["--data", data])
        .output()
        .unwrap();
    assert!(
        from_lake.status.success(),
        "{}",
        String::from_utf8_lossy(&from_lake.stderr)
    );
    // Same nodes, edges and attributes (the lake may hand rows back in another order).
    let sorted = |b: &[u8]| {
        let mut l: Vec<String> = String::from_utf8_lossy(b)
            .lines()
            .map(String::from)
            .collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&from_lake.stdout), sorted(&from_file.stdout));
    assert!(String::from_utf8_lossy(&from_lake.stdout).contains("\"1433\" -> \"195.66.105.110\""));

    let blocked = secviz()
        .args([
            "graph",
            "--sql",
            "SELECT src_ip, dst_ip FROM fw WHERE action = 'block'",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    let dot = String::from_utf8_lossy(&blocked.stdout);
    assert!(
        blocked.status.success(),
        "{}",
        String::from_utf8_lossy(&blocked.stderr)
    );
    assert!(
        dot.contains("\"80.98.183.23\" -> \"195.66.105.110\""),
        "{dot}"
    );
    assert!(!dot.contains("212.8.166.157"), "only blocked rows: {dot}");

    let bad = secviz()
        .args(["graph", "--sql", "SELECT src_ip FROM nope", "--data", data])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("nope"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// A graph over `--max-edges` is aggregated automatically: the picture keeps few nodes,
/// says how in its notes (stderr, the SVG's legend, the JSON), and `--max-edges 0` keeps
/// every edge.
#[test]
fn graphs_over_the_edge_limit_are_aggregated_and_say_how() {
    let tmp = tempfile::tempdir().unwrap();
    let log = secviz_testkit::generate("pf", 20_000, 7, &tmp.path().join("pf.log"));
    let graph = |extra: &[&str], to: &str| {
        let out = secviz()
            .args([
                "graph",
                "--columns",
                "src_ip,dst_port,dst_ip",
                "--to",
                to,
                "-i",
            ])
            .arg(&log)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.stdout, String::from_utf8(out.stderr).unwrap())
    };
    let (whole, stderr) = graph(&["--max-edges", "0"], "json");
    assert!(!stderr.contains("aggregated"), "{stderr}");
    let whole: serde_json::Value = serde_json::from_slice(&whole).unwrap();
    let edges = whole["edges"]["source"].as_array().unwrap().len();
    assert!(edges > 1_000, "the generated log makes {edges} edges");
    assert!(whole["counts"].get("aggregated_from_edges").is_none());

    let (json, stderr) = graph(&["--max-edges", "1000"], "json");
    assert!(
        stderr.contains(&format!(
            "note: aggregated automatically: {} edges, more than the 1,000",
            secviz_graph::numbers::thousands(edges as u64)
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: --max-edges 0 draws every edge"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["counts"]["aggregated_from_edges"], edges as u64);
    let nodes = json["nodes"]["id"].as_array().unwrap();
    assert!(nodes.len() <= 3 * 200, "{} nodes", nodes.len());
    assert!(
        nodes.len() * 4 < whole["nodes"]["id"].as_array().unwrap().len(),
        "aggregation made the graph smaller"
    );
    let notes: Vec<&str> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("sources: ") && n.contains(" network into ")),
        "{notes:?}"
    );
    // The SVG says it too, in its legend.
    let (svg, _) = graph(&["--max-edges", "1000"], "svg");
    let svg = String::from_utf8(svg).unwrap();
    assert!(
        svg.contains("aggregated automatically"),
        "the SVG's notes say how"
    );
}
