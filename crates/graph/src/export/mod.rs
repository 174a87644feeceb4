//! Writers for the formats other tools read: DOT (AfterGlow-compatible, for Graphviz), GDF
//! and GEXF (Gephi), GraphML, and the JSON the browser viewer loads.
//!
//! Labels come from attacker-controlled logs. Each writer escapes for its own syntax with the
//! helpers below; the `escape` tests feed every writer the same hostile labels.

mod dot;
mod gdf;
mod gexf;
mod graphml;
mod json;

pub use dot::write_dot;
pub use gdf::write_gdf;
pub use gexf::write_gexf;
pub use graphml::write_graphml;
pub use json::{to_json, write_json};

/// Node positions from the layout, in points, indexed like `Graph::nodes`.
pub type Positions = [[f64; 2]];

/// Escapes text for XML character data and attribute values (both quote kinds), and
/// replaces characters XML 1.0 cannot carry at all with U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a DOT double-quoted string: `"` and `\` are escaped (so Graphviz's
/// `\N`-style escapes cannot be smuggled in), line breaks become `\n`, other control
/// characters are dropped.
pub fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Formats a number compactly: integers without a fraction, others to 2 decimals.
pub(crate) fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}
