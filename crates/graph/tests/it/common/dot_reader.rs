//! A DOT reader for the tests only: the node and edge statements AfterGlow and secviz write
//! (one statement per line, quoted ids, `[k=v, ...]` attributes). Later attributes win, as in
//! Graphviz.

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct DotGraph {
    pub nodes: BTreeMap<String, BTreeMap<String, String>>,
    pub edges: Vec<(String, String)>,
    pub edge_attrs: Vec<BTreeMap<String, String>>,
}

/// Reads a quoted DOT string starting at `s[0] == '"'`; returns the text and the rest.
fn quoted(s: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    match n {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'n' => out.push('\n'),
                        o => {
                            out.push('\\');
                            out.push(o);
                        }
                    }
                }
            }
            '"' => return (out, &s[i + 2..]),
            c => out.push(c),
        }
    }
    (out, "")
}

fn id(s: &str) -> (String, &str) {
    let s = s.trim_start();
    if s.starts_with('"') {
        quoted(s)
    } else {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(s.len());
        (s[..end].to_string(), &s[end..])
    }
}

fn attrs(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let s = s.trim();
    let Some(body) = s.strip_prefix('[') else {
        return out;
    };
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches([' ', ',', ';']);
        if rest.is_empty() || rest.starts_with(']') {
            break;
        }
        let (k, r) = id(rest);
        let r = r.trim_start();
        let Some(r) = r.strip_prefix('=') else { break };
        let (v, r) = id(r.trim_start());
        out.insert(k, v);
        rest = r;
    }
    out
}

/// Parses the node and edge statements of a DOT file.
pub fn parse_dot(text: &str) -> DotGraph {
    let mut g = DotGraph::default();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('"') {
            continue; // header, defaults, comments, closing brace
        }
        let (a, rest) = quoted(line);
        let rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("->") {
            let (b, r) = id(r);
            g.edges.push((a, b));
            g.edge_attrs.push(attrs(r));
        } else {
            let entry = g.nodes.entry(a).or_default();
            for (k, v) in attrs(rest) {
                entry.insert(k, v);
            }
        }
    }
    g
}
