//! Graph building beyond the conformance cases: split modes, `-s`, labels, invisible rows,
//! summed sizes and weights, top-k folding with its note, legends from rules.

use secviz_graph::rules::{Columns, Role, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder, SplitMode};

const ROWS: &[[&str; 4]] = &[
    ["10.0.0.1", "22", "192.0.2.1", "100"],
    ["10.0.0.1", "22", "192.0.2.2", "200"],
    ["10.0.0.2", "80", "192.0.2.1", "300"],
    ["10.0.0.3", "80", "192.0.2.1", "400"],
    ["10.0.0.3", "443", "10.0.0.1", "500"],
];

fn build(rules: &str, opts: BuildOptions) -> Graph {
    let cols = Columns::new(
        ["src", "port", "dst", "bytes"].map(String::from).to_vec(),
        opts.two_node,
    );
    let mut b = GraphBuilder::new(RuleSet::parse(rules, &cols).unwrap(), opts);
    for r in ROWS {
        b.push(r).unwrap();
    }
    b.finish()
}

fn node<'a>(g: &'a Graph, id: &str) -> &'a secviz_graph::Node {
    g.nodes
        .iter()
        .find(|n| n.id == id)
        .unwrap_or_else(|| panic!("no node {id}"))
}

#[test]
fn split_modes_name_event_nodes() {
    for (mode, name) in [
        (SplitMode::PerSource, "10.0.0.1 22"),
        (SplitMode::PerTarget, "22 192.0.2.1"),
        (SplitMode::PerEdge, "10.0.0.1 22 192.0.2.1"),
    ] {
        let g = build(
            "",
            BuildOptions {
                split: mode,
                ..BuildOptions::default()
            },
        );
        let n = node(&g, name);
        assert_eq!(n.label, "22", "the label stays the event value");
        assert_eq!(n.role, Role::Event);
    }
}

#[test]
fn split_source_target_and_source_target_nodes() {
    let g = build("", BuildOptions::default());
    // 10.0.0.1 is a source and (last row) a target: one node, drawn as a source.
    assert!(node(&g, "10.0.0.1").source_target);
    let g = build(
        "",
        BuildOptions {
            split_source_target: true,
            ..BuildOptions::default()
        },
    );
    assert_eq!(node(&g, "S:10.0.0.1").label, "10.0.0.1");
    assert_eq!(node(&g, "T:10.0.0.1").role, Role::Target);
}

#[test]
fn labels_counts_and_no_labels() {
    let g = build(
        "",
        BuildOptions {
            count_labels: true,
            ..BuildOptions::default()
        },
    );
    assert_eq!(node(&g, "80").label, "80 : 2");
    let g = build(
        "",
        BuildOptions {
            no_labels: true,
            ..BuildOptions::default()
        },
    );
    assert!(g.nodes.iter().all(|n| n.label.is_empty()));
    let g = build(
        "target.label = concat(value, \" (\", count, \")\")",
        BuildOptions::default(),
    );
    assert_eq!(node(&g, "192.0.2.1").label, "192.0.2.1 (3)");
}

#[test]
fn invisible_rows_are_dropped_and_counted() {
    let g = build(
        r#"color.event="invisible" if ($fields[1] == 443)"#,
        BuildOptions::default(),
    );
    assert_eq!(g.counts.hidden, 1);
    assert!(!g.nodes.iter().any(|n| n.id == "443"));
    assert!(g.notes.iter().any(|n| n.contains("hidden")));
}

#[test]
fn summed_sizes_and_edge_weights() {
    let g = build(
        "source.size = sum(bytes)\nedge.weight = sum(bytes)\nmaxnodesize = 1.0",
        BuildOptions::default(),
    );
    // 10.0.0.3 sent 900 bytes, the most: it gets the full size; 10.0.0.2 (300) a third.
    assert_eq!(node(&g, "10.0.0.3").size, Some(1.0));
    assert_eq!(node(&g, "10.0.0.2").size, Some(0.33));
    let idx = |id: &str| g.nodes.iter().position(|n| n.id == id).unwrap();
    let e = g
        .edges
        .iter()
        .find(|e| e.from == idx("10.0.0.1") && e.to == idx("22"))
        .unwrap();
    assert_eq!((e.count, e.weight), (2, 300.0));
}

#[test]
fn top_k_folds_the_rest_and_says_so() {
    let g = build("source.top = 1 by degree", BuildOptions::default());
    let sources: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.role == Role::Source)
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(sources.len(), 2, "{sources:?}");
    let other = g
        .nodes
        .iter()
        .find(|n| n.folded > 0)
        .expect("an other node");
    assert_eq!(other.folded, 2);
    assert!(
        g.notes.iter().any(|n| n.contains("folded 2 others")),
        "{:?}",
        g.notes
    );
    assert!(g.legend.iter().any(|l| l.label == "folded sources"));
}

#[test]
fn legend_explains_each_colour() {
    let g = build(
        "source.color = \"red\" when port == 22\nsource.color = \"gray\"\nevent.color = palette(value)",
        BuildOptions::default(),
    );
    let labels: Vec<(&str, &str)> = g
        .legend
        .iter()
        .map(|l| (l.role, l.label.as_str()))
        .collect();
    assert!(labels.contains(&("source", "port == 22")), "{labels:?}");
    assert!(
        labels.contains(&("event", "443")),
        "palette entries name their value: {labels:?}"
    );
    let red = g.legend.iter().find(|l| l.label == "port == 22").unwrap();
    assert_eq!((red.color.as_str(), red.nodes), ("#ff0000", 1));
}

#[test]
fn thresholds_and_fanout() {
    let g = build(
        "",
        BuildOptions {
            omit: 1,
            ..BuildOptions::default()
        },
    );
    assert!(g.nodes.iter().all(|n| n.count > 1), "{:?}", g.nodes);
    let g = build(
        "",
        BuildOptions {
            source_fanout: 1,
            ..BuildOptions::default()
        },
    );
    // Only 10.0.0.3 talks to two ports.
    let sources: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.role == Role::Source)
        .map(|n| n.id.as_str())
        .collect();
    assert_eq!(sources, vec!["10.0.0.3"]);
}
