//! Draws a laid-out link graph as SVG: edges (grouped by colour and width into few paths,
//! so 100,000 edges stay a manageable file), node shapes in their rule colours, labels placed
//! without overlaps, and a legend panel generated from the rules, with the notes that say
//! what was folded, clustered or omitted.

use std::collections::BTreeMap;

use secviz_graph::Graph;
use secviz_graph::color::Rgb;

use crate::labels::{LabelReq, Placed, place};
use crate::palette::Theme;
use crate::svg::{SvgWriter, Val, fmt_num};
use crate::text::{ellipsize, text_width, wrap};

/// How to draw a graph.
#[derive(Clone, Debug)]
pub struct GraphStyle {
    pub theme: Theme,
    /// Largest drawing side in user units; bigger layouts are scaled down to fit.
    pub max_side: f64,
    pub labels: bool,
    /// Label only the hubs and groups (thumbnails: other labels would be unreadable specks).
    pub hub_labels_only: bool,
    pub legend: bool,
    pub font_size: f64,
}

impl Default for GraphStyle {
    fn default() -> Self {
        GraphStyle {
            theme: Theme::LIGHT,
            max_side: 4000.0,
            labels: true,
            hub_labels_only: false,
            legend: true,
            font_size: 10.0,
        }
    }
}

const MARGIN: f64 = 20.0;
const LEGEND_W: f64 = 280.0;
const FONT: &str = "DejaVu Sans, Verdana, sans-serif";
/// Legend lines at most: beyond, the smallest entries are grouped into one line, so a
/// colour ramp over eighty values never becomes eighty lines.
const LEGEND_MAX: usize = 12;
/// Below this many edges arrowheads are drawn; above, they only add clutter.
const ARROWS_MAX: usize = 5000;
/// Node tooltips (`<title>`) up to this many nodes.
const TITLES_MAX: usize = 20_000;

/// Draws `graph` at positions `pos` (from `secviz_graph::layout`).
pub fn graph_svg(graph: &Graph, pos: &[[f64; 2]], style: &GraphStyle) -> String {
    let n = graph.nodes.len();
    let radius: Vec<f64> = (0..n).map(|i| graph.node_radius(i)).collect();
    let (mut minx, mut miny, mut maxx, mut maxy) = (0.0f64, 0.0f64, 1.0f64, 1.0f64);
    if n > 0 {
        (minx, miny, maxx, maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (p, r) in pos.iter().zip(&radius) {
            minx = minx.min(p[0] - r);
            miny = miny.min(p[1] - r);
            maxx = maxx.max(p[0] + r);
            maxy = maxy.max(p[1] + r);
        }
    }
    let extent = (maxx - minx).max(maxy - miny).max(1.0);
    let scale = (style.max_side / extent).min(1.0);
    // Labels are placed first, so the drawing grows to hold every one of them: a label
    // beside a node at the edge is never cut, and the legend starts right of them all.
    let at = |p: [f64; 2]| [(p[0] - minx) * scale, (p[1] - miny) * scale];
    let labels = if style.labels {
        place_labels(graph, pos, &radius, &at, scale, style)
    } else {
        Labels::default()
    };
    let (mut x0, mut y0) = (0.0f64, 0.0f64);
    let (mut x1, mut y1) = ((maxx - minx) * scale, (maxy - miny) * scale);
    for (p, _, _) in labels.placed.iter().flatten() {
        x0 = x0.min(p.rect[0]);
        y0 = y0.min(p.rect[1]);
        x1 = x1.max(p.rect[2]);
        y1 = y1.max(p.rect[3]);
    }
    let gw = x1 - x0;
    let gh = y1 - y0;
    let legend_w = if style.legend { LEGEND_W } else { 0.0 };
    let legend_h = legend_height(graph, style);
    let width = (gw + 2.0 * MARGIN + legend_w).ceil();
    let height = (gh.max(legend_h) + 2.0 * MARGIN).ceil();
    let (dx, dy) = (MARGIN - x0, MARGIN - y0);
    let tx = |p: [f64; 2]| {
        let q = at(p);
        [q[0] + dx, q[1] + dy]
    };
    let t = style.theme;

    let mut w = SvgWriter::new(width, height);
    w.empty(
        "rect",
        &[
            ("width", width.into()),
            ("height", height.into()),
            ("fill", t.background.hex().into()),
        ],
    );
    w.newline();
    draw_edges(&mut w, graph, pos, &tx, scale, t);
    draw_nodes(&mut w, graph, pos, &radius, &tx, scale, t);
    if style.labels {
        draw_labels(&mut w, &labels, [dx, dy], style);
    }
    if style.legend {
        draw_legend(&mut w, graph, gw + 2.0 * MARGIN, style);
    }
    w.finish()
}

fn edge_width(weight: f64, scale: f64) -> f64 {
    ((0.6 + weight.max(1.0).ln() * 0.5) * scale.sqrt()).clamp(0.2, 6.0)
}

fn draw_edges(
    w: &mut SvgWriter,
    graph: &Graph,
    pos: &[[f64; 2]],
    tx: &dyn Fn([f64; 2]) -> [f64; 2],
    scale: f64,
    t: Theme,
) {
    let arrows = graph.edges.len() <= ARROWS_MAX;
    if arrows {
        w.start("defs", &[]);
        w.start(
            "marker",
            &[
                ("id", "arrow".into()),
                ("viewBox", "0 0 10 10".into()),
                ("refX", 10.0.into()),
                ("refY", 5.0.into()),
                // In drawing units, so a thick edge (a group's many rows) does not grow a
                // huge arrowhead.
                ("markerUnits", "userSpaceOnUse".into()),
                ("markerWidth", 6.0.into()),
                ("markerHeight", 6.0.into()),
                ("orient", "auto".into()),
            ],
        );
        w.empty(
            "path",
            &[
                ("d", "M0,0L10,5L0,10z".into()),
                ("fill", "context-stroke".into()),
            ],
        );
        w.end();
        w.end();
    }
    // Group by (colour, width) so each group is one path element.
    let mut groups: BTreeMap<(String, String), String> = BTreeMap::new();
    for e in &graph.edges {
        let color = e.color.as_ref().and_then(|c| c.rgb).unwrap_or(t.edge).hex();
        let width = fmt_num(
            e.size
                .map_or_else(|| edge_width(e.weight, scale), |s| s * scale.sqrt()),
        );
        let a = tx(pos[e.from]);
        let mut b = tx(pos[e.to]);
        if arrows {
            // Stop at the target's rim so the arrowhead is visible.
            let r = graph.node_radius(e.to) * scale;
            let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
            let d = dx.hypot(dy);
            if d > r {
                b = [b[0] - dx / d * r, b[1] - dy / d * r];
            }
        }
        let d = groups.entry((color, width)).or_default();
        d.push_str(&format!(
            "M{} {}L{} {}",
            fmt_num(a[0]),
            fmt_num(a[1]),
            fmt_num(b[0]),
            fmt_num(b[1])
        ));
    }
    w.start(
        "g",
        &[("fill", "none".into()), ("stroke-opacity", 0.55.into())],
    );
    for ((color, width), d) in groups {
        let mut attrs: Vec<(&'static str, Val<'_>)> = vec![
            ("d", Val::Owned(d)),
            ("stroke", Val::Owned(color)),
            ("stroke-width", Val::Owned(width)),
        ];
        if arrows {
            attrs.push(("marker-end", "url(#arrow)".into()));
        }
        w.empty("path", &attrs);
        w.newline();
    }
    w.end();
}

fn shape_points(shape: &str, c: [f64; 2], r: f64) -> Option<Vec<[f64; 2]>> {
    let poly = |k: usize, rot: f64| -> Vec<[f64; 2]> {
        (0..k)
            .map(|i| {
                let a = rot + i as f64 * std::f64::consts::TAU / k as f64;
                [c[0] + r * a.cos(), c[1] + r * a.sin()]
            })
            .collect()
    };
    use std::f64::consts::FRAC_PI_2;
    match shape {
        "triangle" => Some(poly(3, -FRAC_PI_2)),
        "invtriangle" => Some(poly(3, FRAC_PI_2)),
        "diamond" => Some(poly(4, -FRAC_PI_2)),
        "pentagon" => Some(poly(5, -FRAC_PI_2)),
        "octagon" => Some(poly(8, std::f64::consts::PI / 8.0)),
        _ => None,
    }
}

/// How a symbol is painted: fill, outline, and dashed for nodes that stand for many.
#[derive(Clone, Copy)]
struct Paint {
    fill: Rgb,
    outline: Rgb,
    dashed: bool,
}

/// Writes one node symbol (also used for legend swatches).
fn symbol(w: &mut SvgWriter, shape: &str, c: [f64; 2], r: f64, paint: Paint, title: Option<&str>) {
    let dashed = paint.dashed;
    let fill = paint.fill.hex();
    let stroke = paint.outline.hex();
    let sw = (r * 0.12).clamp(0.3, 1.0);
    let common = |attrs: &mut Vec<(&'static str, Val<'_>)>| {
        attrs.push(("fill", Val::Owned(fill.clone())));
        attrs.push(("stroke", Val::Owned(stroke.clone())));
        attrs.push(("stroke-width", sw.into()));
    };
    let mut attrs: Vec<(&'static str, Val<'_>)> = Vec::new();
    let tag: &'static str = if let Some(pts) = shape_points(shape, c, r * 1.15) {
        let p: Vec<String> = pts
            .iter()
            .map(|p| format!("{},{}", fmt_num(p[0]), fmt_num(p[1])))
            .collect();
        attrs.push(("points", Val::Owned(p.join(" "))));
        "polygon"
    } else if matches!(shape, "box" | "Mrecord" | "plaintext" | "polygon") {
        attrs.push(("x", (c[0] - r).into()));
        attrs.push(("y", (c[1] - r * 0.8).into()));
        attrs.push(("width", (2.0 * r).into()));
        attrs.push(("height", (1.6 * r).into()));
        "rect"
    } else {
        attrs.push(("cx", c[0].into()));
        attrs.push(("cy", c[1].into()));
        attrs.push(("r", r.into()));
        "circle"
    };
    common(&mut attrs);
    if dashed {
        // A node standing for many (a group, "other"): outlined as a container.
        attrs.push((
            "stroke-dasharray",
            Val::Owned(format!("{} {}", fmt_num(r * 0.3), fmt_num(r * 0.2))),
        ));
        attrs.push(("fill-opacity", 0.6.into()));
    }
    match title {
        Some(t) => {
            w.start(tag, &attrs);
            w.text_element("title", &[], t);
            w.end();
        }
        None => w.empty(tag, &attrs),
    }
}

fn draw_nodes(
    w: &mut SvgWriter,
    graph: &Graph,
    pos: &[[f64; 2]],
    radius: &[f64],
    tx: &dyn Fn([f64; 2]) -> [f64; 2],
    scale: f64,
    t: Theme,
) {
    let titles = graph.nodes.len() <= TITLES_MAX;
    w.start("g", &[]);
    for (i, n) in graph.nodes.iter().enumerate() {
        let fill = n.color.rgb.unwrap_or(t.background);
        let r = (radius[i] * scale).max(1.0);
        let title = titles.then(|| {
            if n.folded > 0 {
                format!("{} ({}, {} lines)", n.label, n.role.name(), n.count)
            } else {
                format!(
                    "{} ({} {}, {} lines)",
                    n.id,
                    n.role.name(),
                    if n.source_target { "+ target" } else { "" },
                    n.count
                )
            }
        });
        symbol(
            w,
            &n.shape,
            tx(pos[i]),
            r,
            Paint {
                fill,
                outline: t.outline,
                dashed: n.folded > 0,
            },
            title.as_deref(),
        );
        w.newline();
    }
    w.end();
}

/// How a label is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelKind {
    Plain,
    /// One of the few nodes the picture is about: bold, larger, always placed.
    Hub,
    /// A node standing for many: italic, muted.
    Group,
}

/// Group labels say what the grey nodes hold: up to this many are always placed.
const GROUP_LABELS_MUST: usize = 20;

/// Hub labels are this much larger than the others.
const HUB_SCALE: f64 = 1.3;

/// Placed labels (in drawing units before the margin shift) and their font size.
#[derive(Default)]
struct Labels {
    font_size: f64,
    /// Per node: where its label goes, its text and kind, or `None` when it did not fit.
    placed: Vec<Option<(Placed, String, LabelKind)>>,
}

fn place_labels(
    graph: &Graph,
    pos: &[[f64; 2]],
    radius: &[f64],
    at: &dyn Fn([f64; 2]) -> [f64; 2],
    scale: f64,
    style: &GraphStyle,
) -> Labels {
    let fs = (style.font_size * scale.sqrt()).max(6.0);
    let degree = graph.degrees();
    let hub = graph.hubs();
    let kinds: Vec<LabelKind> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.folded > 0 {
                LabelKind::Group
            } else if hub[i] {
                LabelKind::Hub
            } else {
                LabelKind::Plain
            }
        })
        .collect();
    let groups = kinds.iter().filter(|k| **k == LabelKind::Group).count();
    let size_of = |k: LabelKind| {
        if k == LabelKind::Hub {
            fs * HUB_SCALE
        } else {
            fs
        }
    };
    let texts: Vec<String> = graph
        .nodes
        .iter()
        .zip(&kinds)
        .map(|(n, k)| {
            if style.hub_labels_only && *k == LabelKind::Plain {
                String::new()
            } else {
                ellipsize(&n.label, 40.0 * fs, size_of(*k))
            }
        })
        .collect();
    let reqs: Vec<LabelReq> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let c = at(pos[i]);
            let k = kinds[i];
            let size = size_of(k);
            // Bold text runs up to 15% wider (DejaVu Sans Bold against Book, measured in Chromium).
            let bold = if k == LabelKind::Hub { 1.15 } else { 1.0 };
            LabelReq {
                x: c[0],
                y: c[1],
                r: (radius[i] * scale).max(1.0),
                w: if texts[i].is_empty() {
                    0.0
                } else {
                    text_width(&texts[i], size) * bold
                },
                h: size * 1.2,
                // Hubs first, then groups (they say what the rest is), then by degree.
                priority: match k {
                    LabelKind::Hub => 1 << 62,
                    LabelKind::Group => 1 << 61,
                    LabelKind::Plain => 0,
                } + u64::from(degree[i]) * 1_000_000
                    + n.count.min(999_999),
                must: !texts[i].is_empty()
                    && (k == LabelKind::Hub
                        || (k == LabelKind::Group && groups <= GROUP_LABELS_MUST)),
            }
        })
        .collect();
    let placed = place(&reqs)
        .into_iter()
        .zip(texts)
        .zip(kinds)
        .map(|((p, text), k)| p.filter(|_| !text.is_empty()).map(|p| (p, text, k)))
        .collect();
    Labels {
        font_size: fs,
        placed,
    }
}

fn draw_labels(w: &mut SvgWriter, labels: &Labels, shift: [f64; 2], style: &GraphStyle) {
    let fs = labels.font_size;
    let t = style.theme;
    w.start(
        "g",
        &[
            ("font-family", FONT.into()),
            ("font-size", fs.into()),
            ("fill", t.text.hex().into()),
            ("stroke", t.background.hex().into()),
            ("stroke-width", (fs / 4.0).into()),
            ("stroke-opacity", 0.8.into()),
            ("paint-order", "stroke".into()),
        ],
    );
    // Leader lines of labels placed away from their node, under the text.
    let leaders: Vec<String> = labels
        .placed
        .iter()
        .flatten()
        .filter_map(|(p, _, _)| p.leader)
        .map(|l| {
            format!(
                "M{} {}L{} {}",
                fmt_num(l[0] + shift[0]),
                fmt_num(l[1] + shift[1]),
                fmt_num(l[2] + shift[0]),
                fmt_num(l[3] + shift[1])
            )
        })
        .collect();
    if !leaders.is_empty() {
        w.empty(
            "path",
            &[
                ("class", "leader".into()),
                ("d", Val::Owned(leaders.concat())),
                ("stroke", t.muted.hex().into()),
                ("stroke-width", (fs / 12.0).max(0.5).into()),
                ("fill", "none".into()),
            ],
        );
        w.newline();
    }
    for (p, text, kind) in labels.placed.iter().flatten() {
        let mut attrs: Vec<(&'static str, Val<'_>)> = vec![
            ("x", (p.x + shift[0]).into()),
            ("y", (p.y + shift[1]).into()),
            ("text-anchor", p.anchor.into()),
        ];
        match kind {
            LabelKind::Plain => {}
            LabelKind::Hub => {
                attrs.push(("class", "hub".into()));
                attrs.push(("font-size", (fs * HUB_SCALE).into()));
                attrs.push(("font-weight", "bold".into()));
            }
            LabelKind::Group => {
                attrs.push(("class", "group".into()));
                attrs.push(("font-style", "italic".into()));
                attrs.push(("fill", t.muted.hex().into()));
            }
        }
        w.text_element("text", &attrs, text);
        w.newline();
    }
    w.end();
}

/// Lines a note may take in the legend: the notes of an aggregated graph say in a sentence
/// or two how it was made, and cut short they would not.
const NOTE_LINES: usize = 4;

/// A note as drawn: wrapped between words in the legend's width.
fn note_lines(note: &str) -> Vec<String> {
    wrap(note, LEGEND_W - MARGIN - 24.0, 10.0, NOTE_LINES)
}

fn legend_lines(graph: &Graph) -> usize {
    // Notes: 14 px a line and 4 between notes, counted in the legend's 18 px lines.
    let note_px: f64 = graph
        .notes
        .iter()
        .map(|n| note_lines(n).len() as f64 * 14.0 + 4.0)
        .sum();
    graph.legend.len().min(LEGEND_MAX) + 3 + (note_px / 18.0).ceil() as usize
}

/// The legend entries drawn (indices, in the legend's order) and, when there are more
/// than [`LEGEND_MAX`], how many entries and nodes the last line groups: the entries
/// with the fewest nodes go, grouped entries (which explain the picture's groups) stay.
fn legend_shown(graph: &Graph) -> (Vec<usize>, Option<(usize, u64)>) {
    let all = &graph.legend;
    if all.len() <= LEGEND_MAX {
        return ((0..all.len()).collect(), None);
    }
    let mut rank: Vec<usize> = (0..all.len()).collect();
    rank.sort_by(|a, b| {
        (all[*b].grouped, all[*b].nodes)
            .cmp(&(all[*a].grouped, all[*a].nodes))
            .then(a.cmp(b))
    });
    let mut shown: Vec<usize> = rank[..LEGEND_MAX - 1].to_vec();
    shown.sort_unstable();
    let rest = &rank[LEGEND_MAX - 1..];
    let nodes = rest.iter().map(|i| all[*i].nodes).sum();
    (shown, Some((rest.len(), nodes)))
}

fn legend_height(graph: &Graph, style: &GraphStyle) -> f64 {
    if !style.legend {
        return 0.0;
    }
    legend_lines(graph) as f64 * 18.0 + 40.0
}

fn role_title(role: &str) -> &str {
    match role {
        "source" => "Source",
        "event" => "Event",
        "target" => "Target",
        "source+target" => "Source & target",
        "edge" => "Edge",
        other => other,
    }
}

fn draw_legend(w: &mut SvgWriter, graph: &Graph, x0: f64, style: &GraphStyle) {
    let t = style.theme;
    let h = legend_height(graph, style);
    w.start(
        "g",
        &[("font-family", FONT.into()), ("font-size", 11.0.into())],
    );
    w.empty(
        "rect",
        &[
            ("x", x0.into()),
            ("y", MARGIN.into()),
            ("width", (LEGEND_W - MARGIN).into()),
            ("height", h.into()),
            ("rx", 6.0.into()),
            ("fill", t.panel.hex().into()),
            ("stroke", t.muted.hex().into()),
            ("stroke-width", 0.5.into()),
        ],
    );
    let tx = x0 + 12.0;
    let mut y = MARGIN + 22.0;
    w.text_element(
        "text",
        &[
            ("x", tx.into()),
            ("y", y.into()),
            ("font-weight", "bold".into()),
            ("fill", t.text.hex().into()),
        ],
        "Legend",
    );
    y += 20.0;
    let text_w = LEGEND_W - MARGIN - 44.0;
    let (shown, rest) = legend_shown(graph);
    for &i in &shown {
        let entry = &graph.legend[i];
        let fill = parse_hex(&entry.color).unwrap_or(t.background);
        if entry.role == "edge" {
            w.empty(
                "line",
                &[
                    ("x1", tx.into()),
                    ("y1", (y - 4.0).into()),
                    ("x2", (tx + 12.0).into()),
                    ("y2", (y - 4.0).into()),
                    ("stroke", fill.hex().into()),
                    ("stroke-width", 2.5.into()),
                ],
            );
        } else {
            let shape = if entry.role == "event" {
                "box"
            } else {
                "ellipse"
            };
            symbol(
                w,
                shape,
                [tx + 6.0, y - 4.0],
                5.5,
                Paint {
                    fill,
                    outline: t.outline,
                    dashed: entry.grouped,
                },
                None,
            );
        }
        let text = if entry.label.is_empty() {
            format!("{} ({})", role_title(entry.role), entry.nodes)
        } else {
            format!(
                "{}: {} ({})",
                role_title(entry.role),
                entry.label,
                entry.nodes
            )
        };
        w.text_element(
            "text",
            &[
                ("x", (tx + 18.0).into()),
                ("y", y.into()),
                ("fill", t.text.hex().into()),
            ],
            &ellipsize(&text, text_w, 11.0),
        );
        y += 18.0;
    }
    if let Some((entries, nodes)) = rest {
        symbol(
            w,
            "ellipse",
            [tx + 6.0, y - 4.0],
            5.5,
            Paint {
                fill: t.muted,
                outline: t.outline,
                dashed: true,
            },
            None,
        );
        w.text_element(
            "text",
            &[
                ("x", (tx + 18.0).into()),
                ("y", y.into()),
                ("fill", t.muted.hex().into()),
            ],
            &ellipsize(
                &format!("{entries} more colours ({nodes} nodes)"),
                text_w,
                11.0,
            ),
        );
        y += 18.0;
    }
    let summary = format!(
        "{} nodes, {} edges from {} rows",
        graph.nodes.len(),
        graph.edges.len(),
        graph.counts.rows
    );
    w.text_element(
        "text",
        &[
            ("x", tx.into()),
            ("y", (y + 4.0).into()),
            ("fill", t.muted.hex().into()),
        ],
        &summary,
    );
    y += 22.0;
    for note in &graph.notes {
        for line in note_lines(note) {
            w.text_element(
                "text",
                &[
                    ("x", tx.into()),
                    ("y", y.into()),
                    ("font-size", 10.0.into()),
                    ("fill", t.muted.hex().into()),
                ],
                &line,
            );
            y += 14.0;
        }
        y += 4.0;
    }
    w.end();
}

fn parse_hex(s: &str) -> Option<Rgb> {
    secviz_graph::color::Color::parse(s).and_then(|c| c.rgb)
}
