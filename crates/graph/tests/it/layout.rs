//! Layout: deterministic for a seed (same bytes twice, and with 1 or 2 threads), different
//! for another seed, finite, and with node discs kept apart.

use secviz_graph::layout::{LayoutOptions, layout, layout_edges};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder};

/// A tiny seeded LCG (no RNG crate): `next(m)` is a number below `m`.
fn lcg(mut s: u64) -> impl FnMut(u64) -> u64 {
    move |m| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) % m
    }
}

/// A botnet-like graph: bots beaconing to a few C&C servers, querying resolvers, some
/// scanning targets. Deterministic ([`lcg`]).
fn botnet(rows: usize) -> Graph {
    let rules = RuleSet::parse("", &Columns::positional(false)).unwrap();
    let mut b = GraphBuilder::new(rules, BuildOptions::default());
    let mut next = lcg(42);
    for _ in 0..rows {
        let bot = format!("10.0.{}.{}", next(8), next(250));
        let (ev, tgt) = match next(10) {
            0..=3 => ("irc-join".to_string(), format!("198.51.100.{}", next(4))),
            4..=6 => ("dns-query".to_string(), format!("10.9.9.{}", next(2))),
            _ => (
                "scan".to_string(),
                format!("203.0.{}.{}", next(20), next(250)),
            ),
        };
        b.push(&[bot, ev, tgt]).unwrap();
    }
    b.finish()
}

fn bits(p: &[[f64; 2]]) -> Vec<u64> {
    p.iter()
        .flat_map(|q| [q[0].to_bits(), q[1].to_bits()])
        .collect()
}

#[test]
fn same_seed_same_bytes_with_one_or_two_threads() {
    let g = botnet(3000);
    assert!(g.nodes.len() > 500, "{} nodes", g.nodes.len());
    let opts = LayoutOptions {
        seed: 7,
        ..LayoutOptions::default()
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| layout(&g, &opts));
    let b = two.install(|| layout(&g, &opts));
    let c = two.install(|| layout(&g, &opts));
    assert_eq!(bits(&a), bits(&b), "1 vs 2 threads");
    assert_eq!(bits(&b), bits(&c), "twice");
    let other = layout(&g, &LayoutOptions { seed: 8, ..opts });
    assert_ne!(bits(&a), bits(&other), "another seed gives another layout");
    assert!(a.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
}

#[test]
fn discs_mostly_do_not_overlap() {
    let g = botnet(1500);
    let pos = layout(&g, &LayoutOptions::default());
    let n = g.nodes.len();
    let (mut pairs, mut overlapping) = (0u64, 0u64);
    for i in 0..n {
        for j in (i + 1)..n {
            pairs += 1;
            let d = (pos[i][0] - pos[j][0]).hypot(pos[i][1] - pos[j][1]);
            if d < 0.8 * (g.node_radius(i) + g.node_radius(j)) {
                overlapping += 1;
            }
        }
    }
    assert!(
        overlapping * 1000 < pairs,
        "{overlapping} of {pairs} pairs overlap"
    );
}

#[test]
fn edges_are_shorter_than_random_pairs() {
    // A force layout puts neighbours closer than unrelated nodes.
    let g = botnet(2000);
    let pos = layout(&g, &LayoutOptions::default());
    let dist = |a: usize, b: usize| (pos[a][0] - pos[b][0]).hypot(pos[a][1] - pos[b][1]);
    let edge_mean = g.edges.iter().map(|e| dist(e.from, e.to)).sum::<f64>() / g.edges.len() as f64;
    let n = g.nodes.len();
    let pair_mean = (0..n).map(|i| dist(i, (i * 7919 + 13) % n)).sum::<f64>() / n as f64;
    assert!(
        edge_mean * 2.0 < pair_mean,
        "edges {edge_mean:.1} vs pairs {pair_mean:.1}"
    );
}

#[test]
fn empty_and_tiny_graphs() {
    let (p, _) = layout_edges(0, &[], vec![], &LayoutOptions::default(), &mut |_, _| {});
    assert!(p.is_empty());
    let (p, _) = layout_edges(1, &[], vec![5.0], &LayoutOptions::default(), &mut |_, _| {});
    assert_eq!(p.len(), 1);
    let (p, _) = layout_edges(
        2,
        &[(0, 1, 1.0)],
        vec![5.0, 5.0],
        &LayoutOptions::default(),
        &mut |_, _| {},
    );
    assert!((p[0][0] - p[1][0]).hypot(p[0][1] - p[1][1]) > 5.0);
}

/// Big enough for every parallel path: more nodes than one chunk of the per-node passes
/// (8,192) and than the tree's parallel subtree threshold (20,000). One, two and three
/// threads split that work differently; the bytes must not change.
#[test]
fn a_graph_of_thirty_thousand_nodes_is_the_same_bytes_on_one_two_or_three_threads() {
    let n = 30_000u32;
    let mut next = lcg(7);
    // Clients each talking to two of 300 servers, and a few hubs everyone calls.
    let mut edges: Vec<(u32, u32, f32)> = Vec::new();
    for c in 300..n {
        edges.push((c, next(300) as u32, 1.0));
        edges.push((c, next(300) as u32, 1.0 + (next(5) as f32)));
        if next(10) == 0 {
            edges.push((c, next(3) as u32, 1.0));
        }
    }
    let radius = || (0..n).map(|i| if i < 300 { 6.0 } else { 3.0 }).collect();
    let opts = LayoutOptions {
        seed: 3,
        max_iter: 40,
        ..LayoutOptions::default()
    };
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| layout_edges(n as usize, &edges, radius(), &opts, &mut |_, _| {}).0)
    };
    let one = on(1);
    assert_eq!(one.len(), n as usize);
    assert!(one.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
    assert_eq!(bits(&one), bits(&on(2)), "1 vs 2 threads");
    assert_eq!(bits(&one), bits(&on(3)), "1 vs 3 threads");
}
