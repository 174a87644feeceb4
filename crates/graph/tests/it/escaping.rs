//! Hostile labels (from attacker-controlled logs) in every export format: each output still
//! parses, and each label comes back exactly as it went in (minus control characters where a
//! format cannot carry them), never as markup or syntax.

use crate::common;

use common::dot_reader::parse_dot;
use secviz_graph::export::{to_json, write_dot, write_gdf, write_gexf, write_graphml};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder};

const HOSTILE: &[&str] = &[
    r#"a"b"#,
    r"back\slash\N\G",
    "<script>alert(1)</script>",
    "]]><!--",
    "it's & that's",
    "comma,separated,'quoted'",
    "line\nbreak",
    "\u{2028}js-line-separator",
    "=cmd|' /C calc'!A0",
    r#"" -> "injected"; x [label="y"#,
];

fn hostile_graph() -> Graph {
    let rules = RuleSet::parse(
        "source.label = concat(value)\nedge.color = \"red\"",
        &Columns::positional(true),
    )
    .unwrap();
    let mut b = GraphBuilder::new(
        rules,
        BuildOptions {
            two_node: true,
            ..BuildOptions::default()
        },
    );
    for (i, h) in HOSTILE.iter().enumerate() {
        b.push(&[h.to_string(), format!("t{i}")]).unwrap();
        b.push(&[format!("s{i}"), h.to_string()]).unwrap();
    }
    b.finish()
}

fn positions(g: &Graph) -> Vec<[f64; 2]> {
    (0..g.nodes.len())
        .map(|i| [i as f64, -(i as f64)])
        .collect()
}

#[test]
fn dot_round_trips_hostile_names() {
    let g = hostile_graph();
    let mut out = Vec::new();
    write_dot(&g, Some(&positions(&g)), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let parsed = parse_dot(&text);
    assert_eq!(parsed.nodes.len(), g.nodes.len(), "{text}");
    assert_eq!(parsed.edges.len(), g.edges.len());
    for h in HOSTILE {
        let attrs = parsed
            .nodes
            .get(*h)
            .unwrap_or_else(|| panic!("node {h:?} in\n{text}"));
        assert_eq!(attrs.get("xlabel").map(String::as_str), Some(*h));
    }
    assert!(!parsed.nodes.contains_key("injected"));
}

#[test]
fn gexf_and_graphml_parse_and_keep_labels() {
    let g = hostile_graph();
    let pos = positions(&g);
    for write in [write_gexf, write_graphml] {
        let mut out = Vec::new();
        write(&g, Some(&pos), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
        let texts: Vec<String> = doc
            .descendants()
            .flat_map(|n| {
                let mut v: Vec<String> = n.attributes().map(|a| a.value().to_string()).collect();
                if let Some(t) = n.text() {
                    v.push(t.to_string());
                }
                v
            })
            .collect();
        for h in HOSTILE {
            assert!(texts.iter().any(|t| t == h), "{h:?} not found intact");
        }
    }
}

/// Splits a GDF line into fields, honouring single quotes with doubled quotes inside.
fn gdf_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('\'', false) => quoted = true,
            ('\'', true) if chars.peek() == Some(&'\'') => {
                chars.next();
                cur.push('\'');
            }
            ('\'', true) => quoted = false,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn gdf_fields_stay_in_their_columns() {
    let g = hostile_graph();
    let mut out = Vec::new();
    write_gdf(&g, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        g.nodes.len() + g.edges.len() + 2,
        "one line per node and edge"
    );
    let header_cols = lines[0].split(',').count();
    let mut names = Vec::new();
    for l in &lines[1..=g.nodes.len()] {
        let f = gdf_fields(l);
        assert_eq!(f.len(), header_cols, "{l}");
        names.push(f[0].clone());
    }
    for h in HOSTILE {
        let expect: String = h
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        assert!(names.contains(&expect), "{h:?}");
    }
}

#[test]
fn json_round_trips_and_has_no_raw_markup() {
    let g = hostile_graph();
    let text = to_json(&g, Some(&positions(&g)));
    assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
    assert!(!text.contains('\u{2028}'));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = v["nodes"]["id"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    for h in HOSTILE {
        assert!(ids.contains(h), "{h:?}");
    }
}
