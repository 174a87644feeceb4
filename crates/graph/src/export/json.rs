//! The JSON the browser viewer (sigma.js + graphology) and the portal load; the format is
//! documented in `docs/graph-json.md`. Columnar arrays keep 50,000 nodes / 200,000 edges
//! compact: colours are indices into a palette, labels are `null` when equal to the id, and
//! positions are rounded to 0.1 point.
//!
//! `<`, `>`, `&` and U+2028/U+2029 are written as `\u` escapes, so the text stays inert even
//! if someone embeds it in HTML (the viewer gets it from an endpoint or a `data-` attribute).

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use super::Positions;
use crate::model::{Counts, Graph, LegendEntry};

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    directed: bool,
    nodes: Nodes<'a>,
    edges: Edges,
    colors: Vec<String>,
    legend: &'a [LegendEntry],
    notes: &'a [String],
    counts: &'a Counts,
}

#[derive(Serialize)]
struct Nodes<'a> {
    id: Vec<&'a str>,
    label: Vec<Option<&'a str>>,
    role: Vec<u8>,
    color: Vec<u32>,
    size: Vec<f64>,
    count: Vec<u64>,
    shape: Vec<&'a str>,
    /// How many nodes each stands for (groups, "other"), else 0.
    folded: Vec<u64>,
    /// 1 for the graph's hubs (`Graph::hubs`), whose labels are always shown.
    hub: Vec<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<Vec<f64>>,
}

#[derive(Serialize)]
struct Edges {
    source: Vec<u32>,
    target: Vec<u32>,
    weight: Vec<f64>,
    count: Vec<u64>,
    /// Index into `colors`, or -1 for the default edge colour.
    color: Vec<i64>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The JSON document as a string.
pub fn to_json(g: &Graph, pos: Option<&Positions>) -> String {
    let mut colors: Vec<String> = Vec::new();
    let mut color_ix: HashMap<String, u32> = HashMap::new();
    let mut ix = |hex: String| -> u32 {
        *color_ix.entry(hex.clone()).or_insert_with(|| {
            colors.push(hex);
            (colors.len() - 1) as u32
        })
    };
    let node_colors: Vec<u32> = g
        .nodes
        .iter()
        .map(|n| ix(n.color.rgb.map_or_else(|| "#000000".into(), |c| c.hex())))
        .collect();
    let edge_colors: Vec<i64> = g
        .edges
        .iter()
        .map(|e| {
            e.color
                .as_ref()
                .and_then(|c| c.rgb)
                .map_or(-1, |c| i64::from(ix(c.hex())))
        })
        .collect();
    let doc = Doc {
        version: 1,
        directed: true,
        nodes: Nodes {
            id: g.nodes.iter().map(|n| n.id.as_str()).collect(),
            label: g
                .nodes
                .iter()
                .map(|n| (n.label != n.id).then_some(n.label.as_str()))
                .collect(),
            role: g
                .nodes
                .iter()
                .map(|n| match n.role {
                    crate::rules::Role::Source => 0,
                    crate::rules::Role::Event => 1,
                    _ => 2,
                })
                .collect(),
            color: node_colors,
            size: (0..g.nodes.len())
                .map(|i| round1(g.node_radius(i)))
                .collect(),
            count: g.nodes.iter().map(|n| n.count).collect(),
            shape: g.nodes.iter().map(|n| n.shape.as_str()).collect(),
            folded: g.nodes.iter().map(|n| n.folded).collect(),
            hub: g.hubs().into_iter().map(u8::from).collect(),
            x: pos.map(|p| p.iter().map(|q| round1(q[0])).collect()),
            y: pos.map(|p| p.iter().map(|q| round1(q[1])).collect()),
        },
        edges: Edges {
            source: g.edges.iter().map(|e| e.from as u32).collect(),
            target: g.edges.iter().map(|e| e.to as u32).collect(),
            weight: g.edges.iter().map(|e| e.weight).collect(),
            count: g.edges.iter().map(|e| e.count).collect(),
            color: edge_colors,
        },
        colors,
        legend: &g.legend,
        notes: &g.notes,
        counts: &g.counts,
    };
    let raw = serde_json::to_string(&doc).expect("graph JSON serialises");
    harden(&raw)
}

/// Escapes characters that matter to HTML parsers; they only occur inside JSON strings.
fn harden(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the JSON document.
pub fn write_json(g: &Graph, pos: Option<&Positions>, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(to_json(g, pos).as_bytes())?;
    writeln!(w)
}
