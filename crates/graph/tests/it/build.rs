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

/// A firewall puzzle in miniature: six hosts send every lookup from port 1030; thirty
/// others use a fresh random port each time.
fn puzzle_graph(rules: &str) -> Graph {
    let cols = Columns::new(["src", "sport", "dst"].map(String::from).to_vec(), false);
    let mut b = GraphBuilder::new(
        RuleSet::parse(rules, &cols).unwrap(),
        BuildOptions::default(),
    );
    let mut x: u64 = 7;
    for i in 0..3000u64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let resolver = format!("61.215.160.{}", 253 + (x >> 60) % 2);
        let row = if i % 2 == 0 {
            [
                format!("195.141.69.{}", 40 + (x >> 40) % 6),
                "1030".to_string(),
                resolver,
            ]
        } else {
            [
                format!("195.141.70.{}", 10 + (x >> 40) % 30),
                (1024 + (x >> 20) % 60_000).to_string(),
                resolver,
            ]
        };
        b.push(&row).unwrap();
    }
    b.finish()
}

#[test]
fn rare_values_fold_into_named_groups_and_the_hub_stays() {
    let g = puzzle_graph("event.group = port_class(value)\nnode.size = count");
    let events: Vec<&secviz_graph::Node> =
        g.nodes.iter().filter(|n| n.role == Role::Event).collect();
    // 1030 (half the rows) stays; every random port is rare and joins its class.
    assert!(events.iter().any(|n| n.id == "1030" && n.folded == 0));
    let groups: Vec<&&secviz_graph::Node> = events.iter().filter(|n| n.folded > 0).collect();
    // A random port that is alone in its class (8080 is "web") stays itself: a group of one
    // says nothing more. There are few such, each seen once or twice.
    let singles: Vec<&&secviz_graph::Node> = events
        .iter()
        .filter(|n| n.folded == 0 && n.id != "1030")
        .collect();
    assert!(
        singles.len() <= 5 && singles.iter().all(|n| n.count <= 2),
        "{singles:?}"
    );
    let labels: Vec<&str> = groups.iter().map(|n| n.label.as_str()).collect();
    assert!(
        labels.iter().any(|l| l.ends_with(" registered ports"))
            && labels.iter().any(|l| l.ends_with(" ephemeral ports")),
        "{labels:?}"
    );
    let folded: u64 = groups.iter().map(|n| n.folded).sum();
    let rows: u64 = groups.iter().map(|n| n.count).sum();
    assert!(folded > 1000, "{folded}");
    let single_rows: u64 = singles.iter().map(|n| n.count).sum();
    assert_eq!(rows + single_rows, 1500, "a group counts its members' rows");
    // Groups are sized like a typical member, so none outweighs the port that matters.
    let hub = node(&g, "1030").size.unwrap();
    assert!(groups.iter().all(|n| n.size.unwrap() < hub), "{groups:?}");
    assert!(
        g.notes.iter().any(
            |n| n.contains("rare event nodes (each under 1% of the rows)")
                && n.contains("event.group = port_class(value)")
        ),
        "{:?}",
        g.notes
    );
    let legend = &g.legend[groups[0].legend];
    assert!(
        legend.grouped && legend.label == "rare events, grouped",
        "{legend:?}"
    );
}

#[test]
fn rare_hosts_group_by_network_and_say_other_when_some_stay() {
    // The 30 hosts of 195.141.70.0/24 hold about 1.7% of the rows each (none near 3%):
    // kept at 1%, grouped at 3%. The NAT'd hosts (about 8% each) stay either way.
    let rules = "source.group = cidr(value, 16)\n";
    let g = puzzle_graph(rules);
    assert!(
        g.nodes
            .iter()
            .all(|n| n.folded == 0 || n.role != Role::Source)
    );
    let g = puzzle_graph(&format!("{rules}source.rare = 3%"));
    let group = g
        .nodes
        .iter()
        .find(|n| n.role == Role::Source && n.folded > 0)
        .expect("a source group");
    assert_eq!(group.label, "30 other hosts in 195.141.0.0/16");
    assert_eq!(group.folded, 30);
    assert!(node(&g, "195.141.69.40").folded == 0);
    // A rule that yields nothing keeps the node.
    let g =
        puzzle_graph("source.group = cidr(value, 16) when value in 10.0.0.0/8\nsource.rare = 5%");
    assert!(g.nodes.iter().all(|n| n.folded == 0));
}

#[test]
fn rare_shares_are_checked() {
    let cols = Columns::positional(false);
    for bad in [
        "source.rare = 0%",
        "source.rare = 2",
        "source.rare = lots",
        "edge.group = 1",
    ] {
        assert!(RuleSet::parse(bad, &cols).is_err(), "{bad}");
    }
    let set = RuleSet::parse("node.rare = 0.5%", &cols).unwrap();
    assert_eq!(set.rare, [Some(0.005); 3]);
}
