//! The `secviz graph` pipeline for benchmarks, without building the whole `secviz` binary
//! (which links DataFusion): same library calls, same flags subset.
//!
//! `graph_bench -i IN.csv -w OUT [--to svg|json|dot|png] [-t] [--seed N] [--timings]`
use std::time::Instant;

use secviz_graph::export::{write_dot, write_json};
use secviz_graph::layout::{LayoutOptions, layout};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, GraphBuilder};
use secviz_render::{GraphStyle, graph_svg, svg_to_png};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args[i + 1].clone())
    };
    let input = get("-i").expect("-i IN");
    let output = get("-w").expect("-w OUT");
    let to = get("--to").unwrap_or_else(|| "dot".into());
    let seed = get("--seed").map_or(1, |s| s.parse().unwrap());
    let two_flag = args.iter().any(|a| a == "-t");
    let timings = args.iter().any(|a| a == "--timings");
    let t0 = Instant::now();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(&input)
        .unwrap();
    let mut rec = csv::StringRecord::new();
    let mut b: Option<GraphBuilder> = None;
    while rdr.read_record(&mut rec).unwrap() {
        let fields: Vec<&str> = rec.iter().collect();
        let b = b.get_or_insert_with(|| {
            let two = two_flag || fields.len() == 2;
            GraphBuilder::new(
                RuleSet::parse("", &Columns::positional(two)).unwrap(),
                BuildOptions {
                    two_node: two,
                    ..BuildOptions::default()
                },
            )
        });
        let _ = b.push(&fields);
    }
    let g = b.expect("rows").finish();
    let built = t0.elapsed();
    let t1 = Instant::now();
    let pos = (to != "dot").then(|| {
        layout(
            &g,
            &LayoutOptions {
                seed,
                ..LayoutOptions::default()
            },
        )
    });
    let laid = t1.elapsed();
    let t2 = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&output).unwrap());
    match to.as_str() {
        "dot" => write_dot(&g, None, &mut out).unwrap(),
        "json" => write_json(&g, pos.as_deref(), &mut out).unwrap(),
        "svg" => {
            use std::io::Write;
            out.write_all(graph_svg(&g, pos.as_deref().unwrap(), &GraphStyle::default()).as_bytes())
                .unwrap()
        }
        "png" => {
            use std::io::Write;
            let svg = graph_svg(&g, pos.as_deref().unwrap(), &GraphStyle::default());
            out.write_all(&svg_to_png(&svg, 0.5).unwrap()).unwrap()
        }
        other => panic!("--to {other}"),
    }
    if timings {
        eprintln!(
            "nodes {} edges {} build {:.3}s layout {:.3}s write {:.3}s",
            g.nodes.len(),
            g.edges.len(),
            built.as_secs_f64(),
            laid.as_secs_f64(),
            t2.elapsed().as_secs_f64()
        );
    }
}
