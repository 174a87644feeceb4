//! GraphML with typed keys for label, role, colour, size, count and (when laid out) x/y, and
//! weight/count/colour on edges, readable by Gephi, yEd, NetworkX and igraph.

use std::io::{self, Write};

use super::{Positions, num, xml_escape};
use crate::model::Graph;

/// Writes `graph` as GraphML.
pub fn write_graphml(g: &Graph, pos: Option<&Positions>, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns">"#
    )?;
    for (id, kind, name, ty) in [
        ("d0", "node", "label", "string"),
        ("d1", "node", "name", "string"),
        ("d2", "node", "role", "string"),
        ("d3", "node", "color", "string"),
        ("d4", "node", "size", "double"),
        ("d5", "node", "count", "long"),
        ("d6", "node", "x", "double"),
        ("d7", "node", "y", "double"),
        ("d8", "edge", "weight", "double"),
        ("d9", "edge", "count", "long"),
        ("d10", "edge", "color", "string"),
        ("d11", "edge", "label", "string"),
        ("d12", "graph", "notes", "string"),
    ] {
        writeln!(
            w,
            r#"<key id="{id}" for="{kind}" attr.name="{name}" attr.type="{ty}"/>"#
        )?;
    }
    writeln!(w, r#"<graph id="G" edgedefault="directed">"#)?;
    if !g.notes.is_empty() {
        writeln!(
            w,
            r#"<data key="d12">{}</data>"#,
            xml_escape(&g.notes.join("; "))
        )?;
    }
    for (i, n) in g.nodes.iter().enumerate() {
        write!(
            w,
            r#"<node id="n{i}"><data key="d0">{}</data><data key="d1">{}</data><data key="d2">{}</data><data key="d3">{}</data><data key="d4">{:.2}</data><data key="d5">{}</data>"#,
            xml_escape(&n.label),
            xml_escape(&n.id),
            n.role.name(),
            n.color.rgb.map_or_else(|| "none".to_string(), |c| c.hex()),
            n.size.unwrap_or(g.settings.max_node_size),
            n.count
        )?;
        if let Some(p) = pos.and_then(|p| p.get(i)) {
            write!(
                w,
                r#"<data key="d6">{:.1}</data><data key="d7">{:.1}</data>"#,
                p[0], p[1]
            )?;
        }
        writeln!(w, "</node>")?;
    }
    for (i, e) in g.edges.iter().enumerate() {
        write!(
            w,
            r#"<edge id="e{i}" source="n{}" target="n{}"><data key="d8">{}</data><data key="d9">{}</data>"#,
            e.from,
            e.to,
            num(e.weight),
            e.count
        )?;
        if let Some(c) = e.color.as_ref().and_then(|c| c.rgb) {
            write!(w, r#"<data key="d10">{}</data>"#, c.hex())?;
        }
        if let Some(l) = &e.label {
            write!(w, r#"<data key="d11">{}</data>"#, xml_escape(l))?;
        }
        writeln!(w, "</edge>")?;
    }
    writeln!(w, "</graph>\n</graphml>")
}
