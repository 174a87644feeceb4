//! AfterGlow conformance: every case in `shared/conformance/afterglow/` (input, property
//! file, flags, and the DOT AfterGlow 1.6.6 wrote) must give the same graph: node set, edge
//! set, and per node fill colour, shape, label and size (see that folder's README).
//!
//! secviz's own cases (`crates/graph/tests/conformance/`) pin what those leave open: node
//! sizes summed from counts (`sum.*` with `size.*`), under `-m`, `-o` and `-t`, including
//! AfterGlow's quirks (a size rule that evaluates to 0 falls through to the next one; a
//! conditional size is remembered per node; sizes scale by the largest, but by at least 1).
//! Their input is a shared case's (`input-from`); `scripts/afterglow-cases.sh` runs
//! AfterGlow to write their `expected.dot`.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::dot_reader::{DotGraph, parse_dot};
use secviz_graph::export::write_dot;
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, GraphBuilder, SplitMode};

fn cases_dir() -> PathBuf {
    secviz_testkit::afterglow_case("")
}

/// AfterGlow's flags, as the case's `flags` file gives them.
fn options(flags: &str) -> BuildOptions {
    let mut o = BuildOptions::default();
    let toks: Vec<&str> = flags.split_whitespace().collect();
    let mut i = 0;
    while i < toks.len() {
        let arg = |i: usize| toks[i + 1];
        match toks[i] {
            "-t" => o.two_node = true,
            "-d" => o.count_labels = true,
            "-n" => o.no_labels = true,
            "-s" => o.split_source_target = true,
            "-p" => {
                o.split = SplitMode::from_flag(arg(i).parse().unwrap()).unwrap();
                i += 1;
            }
            "-o" => {
                o.omit = arg(i).parse().unwrap();
                i += 1;
            }
            "-f" => {
                o.source_fanout = arg(i).parse().unwrap();
                i += 1;
            }
            "-g" => {
                o.event_fanout = arg(i).parse().unwrap();
                i += 1;
            }
            "-m" => {
                o.max_node_size = arg(i).parse().unwrap();
                i += 1;
            }
            other => panic!("flag {other} not handled by this test"),
        }
        i += 1;
    }
    o
}

/// secviz's own cases, beside the shared ones.
fn own_cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

fn run_case(dir: &Path) -> DotGraph {
    let flags = std::fs::read_to_string(dir.join("flags")).unwrap_or_default();
    let opts = options(&flags);
    let rules_text = std::fs::read_to_string(dir.join("rules.properties")).unwrap();
    let input = match std::fs::read_to_string(dir.join("input-from")) {
        Ok(from) => std::fs::read(cases_dir().join(from.trim()).join("input.csv")).unwrap(),
        Err(_) => std::fs::read(dir.join("input.csv")).unwrap(),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&input[..]);
    let records: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let two = opts.two_node || records.first().is_some_and(|r| r.len() == 2);
    let rules = RuleSet::parse(&rules_text, &Columns::positional(two)).unwrap();
    let mut b = GraphBuilder::new(rules, opts);
    for r in &records {
        b.push(r).unwrap();
    }
    let g = b.finish();
    let mut out = Vec::new();
    write_dot(&g, None, &mut out).unwrap();
    parse_dot(&String::from_utf8(out).unwrap())
}

fn compare(name: &str, expected: &DotGraph, got: &DotGraph) -> Vec<String> {
    let mut problems = Vec::new();
    let en: BTreeSet<&String> = expected.nodes.keys().collect();
    let gn: BTreeSet<&String> = got.nodes.keys().collect();
    for missing in en.difference(&gn).take(5) {
        problems.push(format!("{name}: missing node {missing}"));
    }
    for extra in gn.difference(&en).take(5) {
        problems.push(format!("{name}: extra node {extra}"));
    }
    let ee: BTreeSet<_> = expected.edges.iter().collect();
    let ge: BTreeSet<_> = got.edges.iter().collect();
    for missing in ee.difference(&ge).take(5) {
        problems.push(format!("{name}: missing edge {missing:?}"));
    }
    for extra in ge.difference(&ee).take(5) {
        problems.push(format!("{name}: extra edge {extra:?}"));
    }
    for (id, want) in &expected.nodes {
        let Some(have) = got.nodes.get(id) else {
            continue;
        };
        for key in ["fillcolor", "shape", "label", "width", "height"] {
            let w = norm(key, want);
            let h = norm(key, have);
            if w != h {
                problems.push(format!(
                    "{name}: node {id}: {key} expected {w:?}, got {h:?}"
                ));
            }
        }
    }
    problems
}

/// The value that counts for comparison: xlabel or label; shape defaults to ellipse;
/// sizes to two decimals; colours case-insensitively.
fn norm(key: &str, attrs: &BTreeMap<String, String>) -> Option<String> {
    match key {
        "label" => attrs.get("xlabel").or_else(|| attrs.get("label")).cloned(),
        "shape" => Some(
            attrs
                .get("shape")
                .cloned()
                .unwrap_or_else(|| "ellipse".into()),
        ),
        "width" | "height" => attrs
            .get(key)
            .map(|v| format!("{:.2}", v.parse::<f64>().unwrap())),
        "fillcolor" => attrs.get(key).map(|v| v.to_lowercase()),
        _ => attrs.get(key).cloned(),
    }
}

#[test]
fn every_afterglow_case_gives_the_same_graph() {
    let mut cases: Vec<PathBuf> = Vec::new();
    for dir in [cases_dir(), own_cases_dir()] {
        let mut these: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("conformance cases at {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        these.sort();
        cases.extend(these);
    }
    assert!(
        cases.len() >= 11,
        "expected the conformance cases, found {}",
        cases.len()
    );
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let expected = parse_dot(&std::fs::read_to_string(case.join("expected.dot")).unwrap());
        assert!(!expected.nodes.is_empty(), "{name}: expected.dot has nodes");
        let got = run_case(case);
        problems.extend(compare(&name, &expected, &got));
    }
    assert!(
        problems.is_empty(),
        "{} difference(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
