//! Parallel coordinates over 2 to 6 fields: one vertical axis per field (categorical axes
//! list their values top-down, numeric axes have ticks), one polyline per distinct tuple,
//! coloured by the first field's value and thicker for tuples many records share. Heavy
//! lines are drawn last so they stay visible.

use super::axis::{FONT, Scale, TICK_FONT, fmt_exact};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height};
use super::{AxisKind, ChartOptions, Parallel, ParallelAxis};
use crate::palette::{CATEGORICAL, categorical};
use crate::svg::fmt_num;
use crate::text::ellipsize;

const LEGEND_MAX: usize = 12;

/// The y position of value `v` on axis `a` spanning `[top, bottom]`.
fn axis_y(a: &ParallelAxis, v: f64, top: f64, bottom: f64) -> f64 {
    match &a.categories {
        Some(cats) => {
            let n = cats.len().max(1) as f64;
            top + (v + 0.5) / n * (bottom - top)
        }
        None => Scale::new(
            if a.log {
                AxisKind::Log
            } else {
                AxisKind::Number
            },
            a.min,
            a.max,
            bottom,
            top,
        )
        .map(v),
    }
}

fn value_text(a: &ParallelAxis, v: f64) -> String {
    match &a.categories {
        Some(cats) => cats.get(v as usize).cloned().unwrap_or_default(),
        None => fmt_exact(v),
    }
}

pub(crate) fn draw(c: &Parallel, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let first = c.axes.first();
    let colored = first.is_some_and(|a| a.categories.is_some());
    let color = |line: &super::ParallelLine| {
        if colored {
            categorical(line.values.first().copied().unwrap_or(0.0) as usize)
        } else {
            CATEGORICAL[0]
        }
    };
    let mut legend = Vec::new();
    if let Some(cats) = first.and_then(|a| a.categories.as_ref()) {
        legend = cats
            .iter()
            .take(LEGEND_MAX)
            .enumerate()
            .map(|(i, s)| LegendItem::Swatch(categorical(i), s.clone()))
            .collect();
        if cats.len() > LEGEND_MAX {
            legend.push(LegendItem::Swatch(
                t.muted,
                format!("… {} more", cats.len() - LEGEND_MAX),
            ));
        }
    }
    let height = opts.height.unwrap_or(header_height(opts, &legend) + 380.0);
    let records: f64 = c.lines.iter().map(|l| l.count).sum();
    let fields: Vec<&str> = c.axes.iter().map(|a| a.field.as_str()).collect();
    let summary = format!(
        "Parallel coordinates over {}: {} distinct tuples, {} records drawn, {} not drawn.",
        fields.join(", "),
        c.lines.len(),
        fmt_exact(records),
        fmt_exact(c.omitted)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if c.axes.len() < 2 || c.lines.is_empty() {
        empty_note(
            &mut f,
            if c.axes.len() < 2 {
                "parallel coordinates need at least two fields"
            } else {
                "no data"
            },
        );
        return f.finish();
    }
    let n = c.axes.len();
    let margin = 90.0;
    let xs: Vec<f64> = (0..n)
        .map(|i| PAD + margin + i as f64 * (opts.width - 2.0 * (PAD + margin)) / (n - 1) as f64)
        .collect();
    let (top, bottom) = (f.top + 22.0, height - PAD - 8.0);
    let spacing = if n > 1 { xs[1] - xs[0] } else { opts.width };
    let label_w = (spacing / 2.0 - 8.0).min(160.0);
    // Lines, lightest first.
    let vmax = c.lines.iter().map(|l| l.count).fold(1.0, f64::max);
    let mut order: Vec<usize> = (0..c.lines.len()).collect();
    order.sort_by(|a, b| c.lines[*a].count.total_cmp(&c.lines[*b].count));
    f.w.start(
        "g",
        &[
            ("class", "lines".into()),
            ("fill", "none".into()),
            ("stroke-opacity", 0.6.into()),
            ("stroke-linejoin", "round".into()),
        ],
    );
    for i in order {
        let line = &c.lines[i];
        let mut d = String::new();
        for (k, (a, v)) in c.axes.iter().zip(&line.values).enumerate() {
            let y = axis_y(a, *v, top, bottom);
            d.push_str(&format!(
                "{}{},{}",
                if k == 0 { "M" } else { "L" },
                fmt_num(xs[k]),
                fmt_num(y)
            ));
        }
        let width =
            0.75 + 3.25 * (line.count.max(1.0).ln() / vmax.max(1.0).ln().max(1e-9)).clamp(0.0, 1.0);
        f.w.start(
            "path",
            &[
                ("d", d.into()),
                ("stroke", color(line).hex().into()),
                ("stroke-width", width.into()),
            ],
        );
        let tuple: Vec<String> = c
            .axes
            .iter()
            .zip(&line.values)
            .map(|(a, v)| format!("{}={}", a.field, value_text(a, *v)))
            .collect();
        f.w.text_element(
            "title",
            &[],
            &format!("{}: {} records", tuple.join(", "), fmt_exact(line.count)),
        );
        f.w.end();
    }
    f.w.end();
    f.w.newline();
    // Axes over the lines.
    f.w.start(
        "g",
        &[
            ("class", "axes".into()),
            ("font-family", FONT.into()),
            ("font-size", TICK_FONT.into()),
        ],
    );
    for (a, &x) in c.axes.iter().zip(&xs) {
        f.w.empty("line", &super::axis::line(x, top, x, bottom, t.text));
        f.w.text_element(
            "text",
            &[
                ("x", x.into()),
                ("y", (top - 10.0).into()),
                ("text-anchor", "middle".into()),
                ("font-size", 12.0.into()),
                ("font-weight", "bold".into()),
                ("fill", t.text.hex().into()),
            ],
            &a.field,
        );
        let ticks: Vec<(f64, String)> = match &a.categories {
            Some(cats) => {
                let every = ((cats.len() as f64 * 12.0 / (bottom - top)).ceil() as usize).max(1);
                cats.iter()
                    .enumerate()
                    .filter(|(i, _)| i % every == 0)
                    .map(|(i, s)| (i as f64, s.clone()))
                    .collect()
            }
            None => Scale::new(
                if a.log {
                    AxisKind::Log
                } else {
                    AxisKind::Number
                },
                a.min,
                a.max,
                bottom,
                top,
            )
            .ticks(6),
        };
        for (v, label) in ticks {
            let y = axis_y(a, v, top, bottom);
            f.w.empty("line", &super::axis::line(x - 3.0, y, x + 3.0, y, t.text));
            let label = ellipsize(&label, label_w, TICK_FONT);
            // Text with a halo in the background colour so it reads over the lines.
            f.w.text_element(
                "text",
                &[
                    ("x", (x + 5.0).into()),
                    ("y", (y + 4.0).into()),
                    ("fill", t.text.hex().into()),
                    ("stroke", t.background.hex().into()),
                    ("stroke-width", 3.0.into()),
                    ("paint-order", "stroke".into()),
                ],
                &label,
            );
        }
    }
    f.w.end();
    f.finish()
}
