//! Drawing: a generated botnet graph renders to a PNG that is not blank and shows every
//! legend colour; the SVG parses and hostile labels stay text.

use secviz_graph::layout::{LayoutOptions, layout};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder};
use secviz_render::{GraphStyle, Theme, graph_svg, svg_to_png};

const RULES: &str = r#"
color.source="gold" if ($fields[0] =~ /^10\.0\.0\./)
color.source="orange"
color.event="red" if ($fields[1] eq "irc-join")
color.event="lightblue"
color.target="forestgreen" if (subnet($fields[2], "10.0.0.0/8"))
color.target="purple"
"#;

pub(crate) fn botnet(extra: &[(&str, &str, &str)]) -> Graph {
    let rules = RuleSet::parse(RULES, &Columns::positional(false)).unwrap();
    let mut b = GraphBuilder::new(rules, BuildOptions::default());
    let mut s: u64 = 9;
    let mut next = |m: u64| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) % m
    };
    for _ in 0..800 {
        let bot = format!("10.0.{}.{}", next(3), next(200));
        let (ev, tgt) = match next(3) {
            0 => ("irc-join", format!("198.51.100.{}", next(3))),
            1 => ("dns-query", format!("10.9.9.{}", next(2))),
            _ => ("web", format!("203.0.113.{}", next(40))),
        };
        b.push(&[bot, ev.to_string(), tgt]).unwrap();
    }
    for (a, e, t) in extra {
        b.push(&[*a, *e, *t]).unwrap();
    }
    b.finish()
}

fn rgb_of(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(&hex[1..], 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn botnet_png_is_not_blank_and_shows_legend_colours() {
    let g = botnet(&[]);
    assert!(g.legend.len() >= 6, "legend: {:?}", g.legend);
    let pos = layout(&g, &LayoutOptions::default());
    let svg = graph_svg(&g, &pos, &GraphStyle::default());
    let png = svg_to_png(&svg, 1.0).unwrap();
    let pm = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    let px: Vec<[u8; 3]> = pm
        .pixels()
        .iter()
        .map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect();
    let non_white = px.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        non_white * 50 > px.len(),
        "only {non_white} of {} pixels drawn",
        px.len()
    );
    for entry in &g.legend {
        let want = rgb_of(&entry.color);
        let close = |p: &[u8; 3]| p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 2);
        assert!(
            px.iter().any(close),
            "legend colour {} ({}) not in the PNG",
            entry.color,
            entry.label
        );
    }
}

#[test]
fn png_rendering_is_deterministic_and_has_text() {
    let g = botnet(&[]);
    let pos = layout(&g, &LayoutOptions::default());
    let svg = graph_svg(&g, &pos, &GraphStyle::default());
    assert_eq!(
        svg_to_png(&svg, 1.0).unwrap(),
        svg_to_png(&svg, 1.0).unwrap()
    );
    // The embedded font draws text: a label-only SVG is not blank.
    let text = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><rect width="120" height="30" fill="#fff"/><text x="5" y="20" font-size="14" font-family="DejaVu Sans">Legend</text></svg>"##;
    let pm = resvg::tiny_skia::Pixmap::decode_png(&svg_to_png(text, 1.0).unwrap()).unwrap();
    assert!(pm.pixels().iter().any(|p| p.demultiply().red() < 100));
}

#[test]
fn hostile_labels_stay_text_in_svg_light_and_dark() {
    let hostile = "<script>alert(1)</script>";
    let g = botnet(&[(hostile, "\"onload=\"x", "]]><!--&amp;")]);
    let pos = layout(&g, &LayoutOptions::default());
    for theme in [Theme::LIGHT, Theme::DARK] {
        let svg = graph_svg(
            &g,
            &pos,
            &GraphStyle {
                theme,
                ..GraphStyle::default()
            },
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
        assert!(
            !doc.descendants()
                .any(|n| n.attributes().any(|a| a.name() == "onload"))
        );
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(
            texts.iter().any(|t| t.contains(hostile)),
            "label kept as text"
        );
        assert!(svg_to_png(&svg, 0.5).is_ok());
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[1..4], b"PNG");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

#[test]
fn fit_scales_large_pictures_down_and_never_up() {
    let big = r#"<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="1000"><rect width="4000" height="1000" fill="red"/></svg>"#;
    assert_eq!(
        png_size(&secviz_render::svg_to_png_fit(big, 1200).unwrap()),
        (1200, 300)
    );
    let small = r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="red"/></svg>"#;
    assert_eq!(
        png_size(&secviz_render::svg_to_png_fit(small, 1200).unwrap()),
        (300, 200)
    );
}

/// Issue 16: a colour ramp over many values keeps the legend to 12 lines, the last one
/// grouping the rest; the graph's hubs get bold labels.
#[test]
fn legends_stay_short_and_hubs_are_labelled() {
    let cols = Columns::new(["src", "dst"].map(String::from).to_vec(), true);
    // Every source its own severity colour: 60 legend entries.
    let rules = RuleSet::parse("source.color = severity(count, 60)", &cols).unwrap();
    let mut b = GraphBuilder::new(
        rules,
        BuildOptions {
            two_node: true,
            ..BuildOptions::default()
        },
    );
    for s in 0..60u32 {
        for k in 0..=s {
            // Every source calls the two servers; a few call a third.
            let dst = match k % 3 {
                0 => "192.0.2.1",
                1 => "192.0.2.2",
                _ => "192.0.2.3",
            };
            b.push(&[format!("10.0.0.{s}"), dst.to_string()]).unwrap();
        }
    }
    let g = b.finish();
    assert!(g.legend.len() > 12, "{}", g.legend.len());
    let pos = layout(&g, &LayoutOptions::default());
    let svg = graph_svg(&g, &pos, &GraphStyle::default());
    // 11 lines: the targets' own colour (3 nodes, the largest entry), 10 severities; then
    // one line for the other 50.
    assert!(svg.contains(">Target (3)<"), "{svg}");
    let lines = svg.matches("Source: severity").count();
    assert_eq!(lines, 10, "{svg}");
    assert!(svg.contains(">50 more colours (50 nodes)<"), "{svg}");
    let hubs: Vec<&str> = svg
        .split("<text ")
        .filter(|t| t.starts_with("x=") && t.contains("class=\"hub\""))
        .filter_map(|t| t.split_once('>').map(|(_, r)| r.split('<').next().unwrap()))
        .collect();
    let mut hubs = hubs;
    hubs.sort();
    assert_eq!(hubs, ["192.0.2.1", "192.0.2.2", "192.0.2.3"], "{svg}");
}
