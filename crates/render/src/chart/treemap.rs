//! Two-level treemap (say subnet → host sized by bytes): groups and their leaves laid out
//! with the squarified algorithm (Bruls, Huizing and van Wijk), so rectangles stay close to
//! squares and small ones remain visible. Groups take categorical colours (legend); leaves
//! show their label and value when there is room, and a tooltip always.

use super::axis::{FONT, fmt_compact, fmt_exact};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height};
use super::{ChartOptions, Treemap};
use crate::palette::{Theme, categorical};
use crate::text::{ellipsize, text_width};

/// Groups named in the legend; the rest are still drawn and labelled in place.
const LEGEND_MAX: usize = 12;
const GROUP_HEAD: f64 = 15.0;

type Rect = [f64; 4];

/// Worst aspect ratio of a row of areas laid along a side of length `side`.
fn worst(row: &[f64], side: f64) -> f64 {
    let sum: f64 = row.iter().sum();
    let (mn, mx) = row
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    if sum <= 0.0 || mn <= 0.0 {
        return f64::INFINITY;
    }
    let s2 = sum * sum;
    let w2 = side * side;
    (w2 * mx / s2).max(s2 / (w2 * mn))
}

/// Rectangles for `values` (sorted largest first) filling `rect`, in the same order.
pub(crate) fn squarify(values: &[f64], rect: Rect) -> Vec<Rect> {
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let [mut x, mut y, mut w, mut h] = rect;
    if total <= 0.0 || w <= 0.0 || h <= 0.0 {
        return vec![[x, y, 0.0, 0.0]; values.len()];
    }
    let k = w * h / total;
    let areas: Vec<f64> = values.iter().map(|v| v.max(0.0) * k).collect();
    let mut out = Vec::with_capacity(values.len());
    let mut i = 0;
    while i < areas.len() {
        let side = w.min(h);
        let mut j = i + 1;
        while j < areas.len() && worst(&areas[i..=j], side) <= worst(&areas[i..j], side) {
            j += 1;
        }
        let row = &areas[i..j];
        let sum: f64 = row.iter().sum();
        if w >= h {
            // A column on the left, of width sum / h.
            let cw = if h > 0.0 { sum / h } else { 0.0 };
            let mut yy = y;
            for a in row {
                let rh = if cw > 0.0 { a / cw } else { 0.0 };
                out.push([x, yy, cw, rh]);
                yy += rh;
            }
            x += cw;
            w -= cw;
        } else {
            let rh = if w > 0.0 { sum / w } else { 0.0 };
            let mut xx = x;
            for a in row {
                let cw = if rh > 0.0 { a / rh } else { 0.0 };
                out.push([xx, y, cw, rh]);
                xx += cw;
            }
            y += rh;
            h -= rh;
        }
        i = j;
    }
    out
}

/// Indices of `values` sorted largest first (ties keep their order: deterministic).
fn order(values: &[f64]) -> Vec<usize> {
    let mut ix: Vec<usize> = (0..values.len()).collect();
    ix.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    ix
}

pub(crate) fn draw(c: &Treemap, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let sums: Vec<f64> = c
        .groups
        .iter()
        .map(|g| g.children.iter().map(|l| l.value.max(0.0)).sum())
        .collect();
    let total: f64 = sums.iter().sum();
    let gorder = order(&sums);
    let mut legend: Vec<LegendItem> = gorder
        .iter()
        .take(LEGEND_MAX)
        .map(|&g| LegendItem::Swatch(categorical(g), c.groups[g].label.clone()))
        .collect();
    if c.groups.len() > LEGEND_MAX {
        legend.push(LegendItem::Swatch(
            t.muted,
            format!(
                "… {} more {} values",
                c.groups.len() - LEGEND_MAX,
                c.group_field
            ),
        ));
    }
    let height = opts.height.unwrap_or(header_height(opts, &legend) + 420.0);
    let summary = format!(
        "Treemap of {} by {} and {}: {} groups, total {}.",
        c.measure,
        c.group_field,
        c.leaf_field,
        c.groups.len(),
        fmt_exact(total)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if total <= 0.0 {
        empty_note(&mut f, "no data");
        return f.finish();
    }
    let area = [PAD, f.top, opts.width - 2.0 * PAD, height - f.top - PAD];
    let sorted: Vec<f64> = gorder.iter().map(|&g| sums[g]).collect();
    let rects = squarify(&sorted, area);
    f.w.start(
        "g",
        &[
            ("class", "treemap".into()),
            ("font-family", FONT.into()),
            ("font-size", 10.0.into()),
            ("stroke", t.background.hex().into()),
        ],
    );
    for (&g, r) in gorder.iter().zip(&rects) {
        let group = &c.groups[g];
        let color = categorical(g);
        let [x, y, w, h] = *r;
        if w < 0.5 || h < 0.5 {
            continue;
        }
        f.w.start("g", &[("class", "group".into())]);
        f.w.text_element(
            "title",
            &[],
            &format!(
                "{} {}: {} {}",
                c.group_field,
                group.label,
                fmt_exact(sums[g]),
                c.measure
            ),
        );
        f.w.empty(
            "rect",
            &[
                ("x", x.into()),
                ("y", y.into()),
                ("width", w.into()),
                ("height", h.into()),
                ("fill", color.mix(t.background, 0.55).hex().into()),
                ("stroke-width", 2.0.into()),
            ],
        );
        // A header strip with the group's name when the group is big enough to carry one.
        let head = if h > 3.0 * GROUP_HEAD && w > 40.0 {
            GROUP_HEAD
        } else {
            0.0
        };
        if head > 0.0 {
            let name = ellipsize(
                &format!("{} ({})", group.label, fmt_compact(sums[g])),
                w - 6.0,
                10.0,
            );
            f.w.text_element(
                "text",
                &[
                    ("x", (x + 3.0).into()),
                    ("y", (y + 11.0).into()),
                    ("font-weight", "bold".into()),
                    ("stroke", "none".into()),
                    (
                        "fill",
                        Theme::text_on(color.mix(t.background, 0.55)).hex().into(),
                    ),
                ],
                &name,
            );
        }
        let values: Vec<f64> = group.children.iter().map(|l| l.value).collect();
        let lorder = order(&values);
        let lsorted: Vec<f64> = lorder.iter().map(|&i| values[i]).collect();
        let inner = [
            x + 1.0,
            y + head + 1.0,
            (w - 2.0).max(0.0),
            (h - head - 2.0).max(0.0),
        ];
        for (&li, lr) in lorder.iter().zip(squarify(&lsorted, inner)) {
            let leaf = &group.children[li];
            let [lx, ly, lw, lh] = lr;
            if lw < 0.5 || lh < 0.5 {
                continue;
            }
            f.w.start("g", &[]);
            f.w.text_element(
                "title",
                &[],
                &format!(
                    "{} {} / {} {}: {} {}",
                    c.group_field,
                    group.label,
                    c.leaf_field,
                    leaf.label,
                    fmt_exact(leaf.value),
                    c.measure
                ),
            );
            f.w.empty(
                "rect",
                &[
                    ("x", lx.into()),
                    ("y", ly.into()),
                    ("width", lw.into()),
                    ("height", lh.into()),
                    ("fill", color.hex().into()),
                    ("stroke-width", 0.75.into()),
                ],
            );
            if lw > 36.0 && lh > 24.0 {
                let label = ellipsize(&leaf.label, lw - 6.0, 10.0);
                let fg = Theme::text_on(color).hex();
                f.w.text_element(
                    "text",
                    &[
                        ("x", (lx + 3.0).into()),
                        ("y", (ly + 12.0).into()),
                        ("stroke", "none".into()),
                        ("fill", fg.clone().into()),
                    ],
                    &label,
                );
                let v = fmt_compact(leaf.value);
                if text_width(&v, 10.0) < lw - 6.0 && lh > 30.0 {
                    f.w.text_element(
                        "text",
                        &[
                            ("x", (lx + 3.0).into()),
                            ("y", (ly + 24.0).into()),
                            ("stroke", "none".into()),
                            ("fill", fg.into()),
                            ("fill-opacity", 0.8.into()),
                        ],
                        &v,
                    );
                }
            }
            f.w.end();
        }
        f.w.end();
        f.w.newline();
    }
    f.w.end();
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squarify_fills_the_rectangle_with_proportional_areas() {
        let values = [6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0];
        let rects = squarify(&values, [0.0, 0.0, 6.0, 4.0]);
        let total: f64 = values.iter().sum();
        for (v, r) in values.iter().zip(&rects) {
            assert!((r[2] * r[3] - v / total * 24.0).abs() < 1e-9);
            assert!(
                r[0] >= -1e-9
                    && r[1] >= -1e-9
                    && r[0] + r[2] <= 6.0 + 1e-9
                    && r[1] + r[3] <= 4.0 + 1e-9
            );
        }
    }
}
