//! Automatic aggregation (`BuildOptions::max_edges`): a graph over its edge limit is folded
//! into one that reads, keeps the values that carry the traffic, loses no row, and says
//! how; a graph within its limit is not touched.

use std::collections::HashSet;

use secviz_graph::rules::{Columns, Role, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder};

/// The most nodes a role keeps after aggregation (the library's `ROLE_BUDGET`).
const ROLE_BUDGET: usize = 200;

/// A seeded xorshift, so the rows are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const CNC: &str = "185.27.202.250:6667";
const RESOLVER: &str = "10.0.0.53:53";

/// A botnet's flows as source,target rows: 20,000 bots in 40 /16 networks; 30% of the rows
/// go to the C&C server, 10% to the resolver, the rest to web servers all over 74.0.0.0/8.
fn botnet_rows() -> Vec<[String; 2]> {
    let mut r = Rng(0x5ec_712);
    (0..20_000)
        .map(|_| {
            let src = format!("10.{}.{}.{}", r.next(40), r.next(256), 1 + r.next(254));
            let dst = match r.next(10) {
                0..=2 => CNC.to_string(),
                3 => RESOLVER.to_string(),
                _ => format!(
                    "74.{}.{}.{}:{}",
                    r.next(256),
                    r.next(256),
                    1 + r.next(254),
                    if r.next(2) == 0 { 80 } else { 443 }
                ),
            };
            [src, dst]
        })
        .collect()
}

fn build(rows: &[[String; 2]], rules: &str, max_edges: Option<u64>) -> Graph {
    let cols = Columns::new(vec!["src".into(), "dst".into()], true);
    let opts = BuildOptions {
        two_node: true,
        max_edges,
        ..BuildOptions::default()
    };
    let mut b = GraphBuilder::new(RuleSet::parse(rules, &cols).unwrap(), opts);
    for r in rows {
        b.push(r).unwrap();
    }
    b.finish()
}

fn of_role(g: &Graph, role: Role) -> Vec<&secviz_graph::Node> {
    g.nodes.iter().filter(|n| n.role == role).collect()
}

#[test]
fn a_graph_over_its_limit_is_aggregated_keeps_its_hubs_and_says_how() {
    let rows = botnet_rows();
    let distinct: HashSet<&[String; 2]> = rows.iter().collect();
    let g = build(&rows, "", Some(5_000));
    assert_eq!(g.counts.aggregated_from_edges, Some(distinct.len() as u64));
    for role in [Role::Source, Role::Target] {
        let n = of_role(&g, role).len();
        assert!(n <= ROLE_BUDGET, "{n} {role:?} nodes after aggregation");
    }
    // The hubs stay themselves, labelled with their value.
    for hub in [CNC, RESOLVER] {
        let n = g.nodes.iter().find(|n| n.id == hub).expect("the hub stays");
        assert_eq!((n.label.as_str(), n.folded), (hub, 0));
    }
    // They are the picture's hubs (labelled first and bold), though the groups of bots have
    // the higher degree: in an aggregated graph the values with the most rows are.
    let hubs = g.hubs();
    for hub in [CNC, RESOLVER] {
        let i = g.nodes.iter().position(|n| n.id == hub).unwrap();
        assert!(hubs[i], "{hub} is a hub");
    }
    // Bots group by /16: one node per network, each saying what it holds.
    let sources = of_role(&g, Role::Source);
    assert_eq!(sources.len(), 40, "one node per /16 of bots");
    for s in &sources {
        assert!(
            s.folded >= 2 && s.label.ends_with(".0.0/16") && s.label.contains(" hosts in 10."),
            "{s:?}"
        );
    }
    let bots: u64 = sources.iter().map(|s| s.folded).sum();
    let distinct_bots: HashSet<&String> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(bots, distinct_bots.len() as u64, "every bot is in a group");
    // Web servers: the /8 would leave one group, so the largest /16s stay and the rest
    // become one "other" node.
    let other = of_role(&g, Role::Target)
        .into_iter()
        .find(|n| n.label.ends_with(" other targets"))
        .expect("an other node");
    assert!(other.folded > 2, "{other:?}");
    assert!(
        of_role(&g, Role::Target)
            .iter()
            .any(|n| n.label.contains(" web endpoints in 74.") && n.label.ends_with("/16")),
        "web servers grouped by /16"
    );
    // No row is lost: the edges still carry every row.
    let carried: u64 = g.edges.iter().map(|e| e.count).sum();
    assert_eq!(carried, rows.len() as u64);
    let notes = g.notes.join("\n");
    assert!(
        notes.contains(&format!(
            "aggregated automatically: {} edges, more than the 5,000",
            secviz_graph::numbers::thousands(distinct.len() as u64)
        )),
        "{notes}"
    );
    assert!(
        notes.contains(&format!(
            "sources: no value has 1% of the rows; grouped {} others by /16 network into 40 nodes",
            secviz_graph::numbers::thousands(bots)
        )),
        "{notes}"
    );
    assert!(
        notes.contains("targets: kept the 2 values with at least 1% of the rows each"),
        "{notes}"
    );
    assert!(
        notes.contains(
            "others by /16 network and service class into 197 nodes; folded the smallest"
        ),
        "{notes}"
    );
}

#[test]
fn a_graph_within_its_limit_is_not_touched() {
    let rows = botnet_rows();
    let whole = build(&rows, "", None);
    assert_eq!(whole.counts.aggregated_from_edges, None);
    let limit = whole.edges.len() as u64;
    assert_eq!(build(&rows, "", Some(limit)), whole, "at the limit");
    let cut = build(&rows, "", Some(limit - 1));
    assert_eq!(cut.counts.aggregated_from_edges, Some(limit), "one over");
}

#[test]
fn values_without_a_group_keep_the_largest_and_fold_the_rest() {
    // Users (no natural group) log in to hosts: user i has i % 50 + 1 logins.
    let mut rows = Vec::new();
    for i in 0..1_000u32 {
        for _ in 0..(i % 50 + 1) {
            rows.push([format!("user{i}"), format!("10.9.{}.{}", i % 4, i % 200)]);
        }
    }
    let g = build(&rows, "", Some(100));
    let sources = of_role(&g, Role::Source);
    assert!(sources.len() <= ROLE_BUDGET);
    let other = sources
        .iter()
        .find(|n| n.label.ends_with(" other sources"))
        .expect("an other node");
    let kept: Vec<_> = sources.iter().filter(|n| n.folded == 0).collect();
    assert_eq!(kept.len() + other.folded as usize, 1_000);
    // The 199 kept are the busiest: 200 users have 41 to 50 logins, everyone else fewer.
    let fewest = kept.iter().map(|n| n.count).min();
    assert_eq!(fewest, Some(41));
    let notes = g.notes.join("\n");
    assert!(
        notes.contains("kept the largest 199 of the 1,000 values with no natural group"),
        "{notes}"
    );
    let carried: u64 = g.edges.iter().map(|e| e.count).sum();
    assert_eq!(carried, rows.len() as u64);
}

#[test]
fn rule_folds_run_first_and_the_limit_counts_what_they_left() {
    let rows = botnet_rows();
    // `target.top = 10` already makes the targets few: only the sources need aggregating.
    let g = build(&rows, "target.top = 10", Some(5_000));
    assert!(g.counts.aggregated_from_edges.is_some());
    assert_eq!(
        of_role(&g, Role::Target).len(),
        11,
        "the rule's ten and its other node"
    );
    assert!(!g.notes.join("\n").contains("targets: "), "{:?}", g.notes);
}
