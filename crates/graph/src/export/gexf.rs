//! GEXF 1.3 for Gephi, with the `viz` module: colour, size, shape and (when laid out)
//! position per node; weight and colour per edge. Node ids are indices (`n0`), the names and
//! labels go into escaped attributes.

use std::io::{self, Write};

use super::{Positions, num, xml_escape};
use crate::model::Graph;

fn viz_shape(shape: &str) -> &'static str {
    match shape {
        "box" | "Mrecord" | "plaintext" | "polygon" | "octagon" | "pentagon" => "square",
        "triangle" | "invtriangle" => "triangle",
        "diamond" => "diamond",
        _ => "disc",
    }
}

/// Writes `graph` as GEXF 1.3.
pub fn write_gexf(g: &Graph, pos: Option<&Positions>, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        w,
        r#"<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" version="1.3">"#
    )?;
    writeln!(
        w,
        "<meta><creator>secviz</creator><description>{}</description></meta>",
        xml_escape(&g.notes.join("; "))
    )?;
    writeln!(w, r#"<graph defaultedgetype="directed" mode="static">"#)?;
    writeln!(
        w,
        r#"<attributes class="node"><attribute id="name" title="name" type="string"/><attribute id="role" title="role" type="string"/><attribute id="count" title="count" type="long"/><attribute id="folded" title="folded" type="long"/></attributes>"#
    )?;
    writeln!(
        w,
        r#"<attributes class="edge"><attribute id="count" title="count" type="long"/></attributes>"#
    )?;
    writeln!(w, "<nodes>")?;
    for (i, n) in g.nodes.iter().enumerate() {
        write!(
            w,
            r#"<node id="n{i}" label="{}"><attvalues><attvalue for="name" value="{}"/><attvalue for="role" value="{}"/><attvalue for="count" value="{}"/><attvalue for="folded" value="{}"/></attvalues>"#,
            xml_escape(&n.label),
            xml_escape(&n.id),
            n.role.name(),
            n.count,
            n.folded
        )?;
        if let Some(c) = n.color.rgb {
            write!(w, r#"<viz:color r="{}" g="{}" b="{}"/>"#, c.0, c.1, c.2)?;
        }
        let size = n.size.unwrap_or(g.settings.max_node_size) * 72.0 / 2.0;
        write!(w, r#"<viz:size value="{size:.2}"/>"#)?;
        write!(w, r#"<viz:shape value="{}"/>"#, viz_shape(&n.shape))?;
        if let Some(p) = pos.and_then(|p| p.get(i)) {
            write!(
                w,
                r#"<viz:position x="{:.1}" y="{:.1}" z="0"/>"#,
                p[0], -p[1]
            )?;
        }
        writeln!(w, "</node>")?;
    }
    writeln!(w, "</nodes>\n<edges>")?;
    for (i, e) in g.edges.iter().enumerate() {
        write!(
            w,
            r#"<edge id="e{i}" source="n{}" target="n{}" weight="{}""#,
            e.from,
            e.to,
            num(e.weight)
        )?;
        if let Some(l) = &e.label {
            write!(w, r#" label="{}""#, xml_escape(l))?;
        }
        write!(
            w,
            r#"><attvalues><attvalue for="count" value="{}"/></attvalues>"#,
            e.count
        )?;
        if let Some(c) = e.color.as_ref().and_then(|c| c.rgb) {
            write!(w, r#"<viz:color r="{}" g="{}" b="{}"/>"#, c.0, c.1, c.2)?;
        }
        if let Some(s) = e.size {
            write!(w, r#"<viz:thickness value="{}"/>"#, num(s))?;
        }
        writeln!(w, "</edge>")?;
    }
    writeln!(w, "</edges>\n</graph>\n</gexf>")
}
