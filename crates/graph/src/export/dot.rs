//! DOT in AfterGlow's shape: the same header, `fillcolor`/`xlabel` per node, `shape=box` for
//! events, sizes as `width`/`height` with `fixedsize=true`, so `secviz graph | neato` works
//! as `afterglow.pl | neato` did. Unlike AfterGlow, every name and label is escaped. With
//! positions, nodes carry `pos="x,y!"` for `neato -n`.

use std::io::{self, Write};

use super::{Positions, dot_escape, num};
use crate::model::Graph;
use crate::rules::Role;

/// Writes `graph` as DOT.
pub fn write_dot(g: &Graph, pos: Option<&Positions>, w: &mut dyn Write) -> io::Result<()> {
    let s = &g.settings;
    writeln!(w, "digraph structs {{")?;
    writeln!(w, "graph [label=\"secviz\", fontsize=8];")?;
    for note in &g.notes {
        writeln!(w, "// {}", note.replace(['\n', '\r'], " "))?;
    }
    let fixed = if s.sized { ", fixedsize=true" } else { "" };
    writeln!(
        w,
        "node [shape=ellipse, style=filled, penwidth=0, fontsize=10, width={m}, height={m}, fontcolor=\"black\", label=\"\" {fixed}];",
        m = s.max_node_size
    )?;
    writeln!(w, "edge [len={}];", s.edge_len)?;
    writeln!(w, "concentrate=true;")?;
    for (i, n) in g.nodes.iter().enumerate() {
        write!(
            w,
            "\"{}\" [fillcolor=\"{}\", xlabel=\"{}\"",
            dot_escape(&n.id),
            dot_escape(&n.color.name),
            dot_escape(&n.label)
        )?;
        if let Some(size) = n.size {
            write!(w, ",width=\"{size:.2}\",height=\"{size:.2}\"")?;
        }
        let default_shape = if n.role == Role::Event {
            "box"
        } else {
            "ellipse"
        };
        if n.shape != "ellipse" || default_shape != "ellipse" {
            write!(w, ",shape={}", shape_name(&n.shape))?;
        }
        if let Some(p) = pos.and_then(|p| p.get(i)) {
            // Graphviz positions are in points with y up.
            write!(w, ",pos=\"{:.1},{:.1}!\"", p[0], -p[1])?;
        }
        writeln!(w, "]")?;
    }
    for e in &g.edges {
        write!(
            w,
            "\"{}\" -> \"{}\"",
            dot_escape(&g.nodes[e.from].id),
            dot_escape(&g.nodes[e.to].id)
        )?;
        let mut attrs = Vec::new();
        if let Some(c) = &e.color {
            attrs.push(format!("color=\"{}\", style=solid", dot_escape(&c.name)));
        }
        if let Some(sz) = e.size.filter(|s| *s > 0.0) {
            attrs.push(format!("penwidth={}", num(sz)));
        }
        if let Some(l) = &e.label {
            attrs.push(format!("label=\"{}\"", dot_escape(l)));
        }
        if !attrs.is_empty() {
            write!(w, " [{}]", attrs.join(", "))?;
        }
        writeln!(w)?;
    }
    writeln!(w, "}}")
}

/// Shapes come from a fixed list (checked when rules are read), but a computed shape could
/// be anything: fall back to ellipse rather than write an unknown word into DOT.
fn shape_name(s: &str) -> &str {
    if crate::rules::SHAPES.contains(&s) {
        s
    } else {
        "ellipse"
    }
}
