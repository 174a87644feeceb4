//! Scatter plot of two numeric (or time) fields: one disc per distinct point, its area
//! proportional to how many records share it, coloured by group with a legend. Log axes
//! suit ports and byte counts.

use super::axis::{Scale, bottom_axis, fmt_exact, left_axis, nice_max};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height};
use super::{AxisKind, ChartOptions, Scatter, time};
use crate::palette::{CATEGORICAL, categorical};

const AXIS_H: f64 = 44.0;
const LEFT: f64 = 64.0;
const R_MIN: f64 = 2.5;
const R_MAX: f64 = 14.0;

fn domain(kind: AxisKind, values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    match kind {
        AxisKind::Number if lo >= 0.0 => (0.0, nice_max(hi)),
        AxisKind::Log => (
            10f64.powf(lo.max(1.0).log10().floor()),
            10f64.powf(hi.max(1.0).log10().ceil()),
        ),
        _ => (lo, hi),
    }
}

fn describe(kind: AxisKind, v: f64) -> String {
    if kind == AxisKind::Time {
        time::format_utc(v as i64)
    } else {
        fmt_exact(v)
    }
}

pub(crate) fn draw(c: &Scatter, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let grouped = c.groups.len() > 1;
    let color = |g: u32| {
        if grouped {
            categorical(g as usize)
        } else {
            CATEGORICAL[0]
        }
    };
    let legend: Vec<LegendItem> = if grouped {
        c.groups
            .iter()
            .enumerate()
            .map(|(i, g)| LegendItem::Swatch(color(i as u32), g.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let height = opts.height.unwrap_or(header_height(opts, &legend) + 360.0);
    let records: f64 = c.points.iter().map(|p| p.value).sum();
    let summary = format!(
        "Scatter plot of {} against {}: {} distinct points, {} records.",
        c.y_label,
        c.x_label,
        c.points.len(),
        fmt_exact(records)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if c.points.is_empty() {
        empty_note(&mut f, "no data");
        return f.finish();
    }
    let (x0, x1) = (PAD + LEFT, opts.width - PAD - R_MAX);
    let (y0, y1) = (height - PAD - AXIS_H, f.top + R_MAX);
    let (dx0, dx1) = domain(c.x_kind, c.points.iter().map(|p| p.x));
    let (dy0, dy1) = domain(c.y_kind, c.points.iter().map(|p| p.y));
    let xs = Scale::new(c.x_kind, dx0, dx1, x0, x1);
    let ys = Scale::new(c.y_kind, dy0, dy1, y0, y1);
    let title = |label: &str, kind: AxisKind| {
        if kind == AxisKind::Time {
            format!("{label} (UTC)")
        } else {
            label.to_string()
        }
    };
    left_axis(
        &mut f.w,
        &ys,
        x0,
        Some(x1),
        &title(&c.y_label, c.y_kind),
        t,
        6,
    );
    bottom_axis(
        &mut f.w,
        &xs,
        y0,
        Some(y1),
        &title(&c.x_label, c.x_kind),
        t,
        7,
    );
    let vmax = c.points.iter().map(|p| p.value).fold(1.0, f64::max);
    f.w.start(
        "g",
        &[
            ("class", "points".into()),
            ("fill-opacity", 0.7.into()),
            ("stroke", t.background.hex().into()),
            ("stroke-width", 0.5.into()),
        ],
    );
    for p in &c.points {
        let r = R_MIN + (R_MAX - R_MIN) * (p.value.max(0.0) / vmax).sqrt();
        f.w.start(
            "circle",
            &[
                ("cx", xs.map(p.x).into()),
                ("cy", ys.map(p.y).into()),
                ("r", r.into()),
                ("fill", color(p.group).hex().into()),
            ],
        );
        let group = if grouped {
            c.groups
                .get(p.group as usize)
                .map(|g| format!(" [{g}]"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        f.w.text_element(
            "title",
            &[],
            &format!(
                "{} {}, {} {}: {} records{group}",
                c.x_label,
                describe(c.x_kind, p.x),
                c.y_label,
                describe(c.y_kind, p.y),
                fmt_exact(p.value)
            ),
        );
        f.w.end();
    }
    f.w.end();
    f.finish()
}
