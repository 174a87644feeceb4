//! GDF for Gephi. Every node gets its own colour (AfterGlow 1.6.6 gave every target node the
//! last source's colour) and its size; edges carry their multiplicity as `weight`.

use std::io::{self, Write};

use super::{Positions, num};
use crate::color::Rgb;
use crate::model::Graph;

/// GDF strings are single-quoted in our output; a quote inside is doubled and line breaks
/// become spaces, so a label cannot end its field or its line.
fn gdf_str(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("'{}'", cleaned.replace('\'', "''"))
}

fn rgb(c: Option<Rgb>) -> String {
    let c = c.unwrap_or(Rgb(100, 100, 100));
    format!("'{},{},{}'", c.0, c.1, c.2)
}

/// Writes `graph` as GDF.
pub fn write_gdf(g: &Graph, pos: Option<&Positions>, w: &mut dyn Write) -> io::Result<()> {
    write!(
        w,
        "nodedef>name VARCHAR,label VARCHAR,width DOUBLE,height DOUBLE,color VARCHAR,role VARCHAR,count INTEGER"
    )?;
    if pos.is_some() {
        write!(w, ",x DOUBLE,y DOUBLE")?;
    }
    writeln!(w)?;
    for (i, n) in g.nodes.iter().enumerate() {
        let size = n.size.unwrap_or(g.settings.max_node_size);
        write!(
            w,
            "{},{},{:.2},{:.2},{},{},{}",
            gdf_str(&n.id),
            gdf_str(&n.label),
            size,
            size,
            rgb(n.color.rgb),
            n.role.name(),
            n.count
        )?;
        if let Some(p) = pos.and_then(|p| p.get(i)) {
            write!(w, ",{:.1},{:.1}", p[0], -p[1])?;
        }
        writeln!(w)?;
    }
    writeln!(
        w,
        "edgedef>node1 VARCHAR,node2 VARCHAR,directed BOOLEAN,color VARCHAR,weight DOUBLE,count INTEGER,label VARCHAR"
    )?;
    for e in &g.edges {
        writeln!(
            w,
            "{},{},true,{},{},{},{}",
            gdf_str(&g.nodes[e.from].id),
            gdf_str(&g.nodes[e.to].id),
            rgb(e.color.as_ref().and_then(|c| c.rgb)),
            num(e.weight),
            e.count,
            gdf_str(e.label.as_deref().unwrap_or(""))
        )?;
    }
    Ok(())
}
