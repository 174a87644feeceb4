//! Library-level pipeline for benchmarks and tuning: AfterGlow CSV in, laid-out JSON and
//! DOT out, with timings on stderr. `cargo run --release -p secviz-graph --example
//! csv_layout -- IN.csv OUT_PREFIX [seed]`; `MAX_EDGES=N` aggregates above N edges.
use std::time::Instant;

use secviz_graph::export::{write_dot, write_json};
use secviz_graph::layout::{LayoutOptions, layout_edges};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, GraphBuilder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, prefix) = (&args[1], &args[2]);
    let seed = args.get(3).map_or(1, |s| s.parse().unwrap());
    let max_edges = std::env::var("MAX_EDGES").ok().map(|v| v.parse().unwrap());
    let t = Instant::now();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(input)
        .unwrap();
    let mut b: Option<GraphBuilder> = None;
    for r in rdr.records() {
        let r = r.unwrap();
        let fields: Vec<&str> = r.iter().collect();
        let b = b.get_or_insert_with(|| {
            let two = fields.len() == 2;
            GraphBuilder::new(
                RuleSet::parse("", &Columns::positional(two)).unwrap(),
                BuildOptions {
                    two_node: two,
                    max_edges,
                    ..BuildOptions::default()
                },
            )
        });
        let _ = b.push(&fields);
    }
    let read = t.elapsed();
    let g = b.unwrap().finish();
    let built = t.elapsed();
    eprintln!(
        "read+push {:.3}s finish {:.3}s",
        read.as_secs_f64(),
        (built - read).as_secs_f64()
    );
    let t = Instant::now();
    let edges: Vec<(u32, u32, f32)> = g
        .edges
        .iter()
        .map(|e| (e.from as u32, e.to as u32, 1.0 + (e.count as f32).ln()))
        .collect();
    let radius = (0..g.nodes.len()).map(|i| g.node_radius(i)).collect();
    let opts = LayoutOptions {
        seed,
        ..LayoutOptions::default()
    };
    let (pos, report) = layout_edges(g.nodes.len(), &edges, radius, &opts, &mut |_, _| {});
    let laid = t.elapsed();
    write_json(
        &g,
        Some(&pos),
        &mut std::io::BufWriter::new(std::fs::File::create(format!("{prefix}.json")).unwrap()),
    )
    .unwrap();
    write_dot(
        &g,
        None,
        &mut std::io::BufWriter::new(std::fs::File::create(format!("{prefix}.dot")).unwrap()),
    )
    .unwrap();
    eprintln!(
        "nodes {} edges {} build {:.3}s layout {:.3}s levels {:?} iterations {:?}\nphases {:?}",
        g.nodes.len(),
        g.edges.len(),
        built.as_secs_f64(),
        laid.as_secs_f64(),
        report.levels,
        report.iterations,
        report
            .seconds
            .iter()
            .map(|(w, s)| format!("{w}: {s:.2}s"))
            .collect::<Vec<_>>()
    );
}
