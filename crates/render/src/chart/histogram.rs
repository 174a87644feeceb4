//! Histogram and time line: vertical bars over buckets of a numeric field or of time,
//! stacked by series (say `action`) with a legend, and a tooltip per bucket. A time line's
//! x axis reads UTC dates and times and names the bucket width.

use super::axis::{Scale, bottom_axis, fmt_exact, left_axis, nice_max};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height};
use super::{AxisKind, ChartOptions, Histogram, time};
use crate::palette::{CATEGORICAL, categorical};

const AXIS_H: f64 = 44.0;
const LEFT: f64 = 64.0;

pub(crate) fn draw(c: &Histogram, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let stacked = c.series.len() > 1;
    let color = |i: usize| {
        if stacked {
            categorical(i)
        } else {
            CATEGORICAL[0]
        }
    };
    let legend: Vec<LegendItem> = if stacked {
        c.series
            .iter()
            .enumerate()
            .map(|(i, s)| LegendItem::Swatch(color(i), s.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let height = opts.height.unwrap_or(header_height(opts, &legend) + 300.0);
    let total: f64 = c.bins.iter().flat_map(|b| b.values.iter()).sum();
    let what = if c.x_kind == AxisKind::Time {
        "Time line"
    } else {
        "Histogram"
    };
    let summary = format!(
        "{what} of {} over {}: {} buckets, total {}.",
        c.measure,
        c.x_label,
        c.bins.len(),
        fmt_exact(total)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if c.bins.is_empty() {
        empty_note(&mut f, "no data");
        return f.finish();
    }
    let lo = c.bins.iter().map(|b| b.lo).fold(f64::INFINITY, f64::min);
    let hi = c
        .bins
        .iter()
        .map(|b| b.hi)
        .fold(f64::NEG_INFINITY, f64::max);
    let top = c
        .bins
        .iter()
        .map(|b| b.values.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let (x0, x1) = (PAD + LEFT, opts.width - PAD);
    let (y0, y1) = (height - PAD - AXIS_H, f.top + 4.0);
    let x_kind = if c.x_kind == AxisKind::Log {
        AxisKind::Number
    } else {
        c.x_kind
    };
    let xs = Scale::new(x_kind, lo, hi, x0, x1);
    let ys = Scale::new(AxisKind::Number, 0.0, nice_max(top), y0, y1);
    let x_title = match (&c.bucket, c.x_kind) {
        (Some(b), AxisKind::Time) => format!("{} (UTC, {b} buckets)", c.x_label),
        (Some(b), _) => format!("{} (buckets of {b})", c.x_label),
        (None, AxisKind::Time) => format!("{} (UTC)", c.x_label),
        (None, _) => c.x_label.clone(),
    };
    left_axis(&mut f.w, &ys, x0, Some(x1), &c.measure, t, 5);
    bottom_axis(&mut f.w, &xs, y0, None, &x_title, t, 7);
    f.w.start("g", &[("class", "bins".into())]);
    for b in &c.bins {
        let (bx0, bx1) = (xs.map(b.lo), xs.map(b.hi));
        // A hairline gap between bars when there is room for it.
        let gap = if bx1 - bx0 > 4.0 { 1.0 } else { 0.0 };
        let sum: f64 = b.values.iter().sum();
        if sum <= 0.0 {
            continue;
        }
        let from = if c.x_kind == AxisKind::Time {
            time::format_utc(b.lo as i64)
        } else {
            fmt_exact(b.lo)
        };
        let mut tip = format!("{from}: {} {}", fmt_exact(sum), c.measure);
        if stacked {
            for (s, v) in c.series.iter().zip(&b.values) {
                if *v > 0.0 {
                    tip.push_str(&format!("\n{s}: {}", fmt_exact(*v)));
                }
            }
        }
        f.w.start("g", &[]);
        f.w.text_element("title", &[], &tip);
        let mut acc = 0.0;
        for (i, v) in b.values.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let (ya, yb) = (ys.map(acc), ys.map(acc + v));
            f.w.empty(
                "rect",
                &[
                    ("x", bx0.into()),
                    ("y", yb.into()),
                    ("width", (bx1 - bx0 - gap).max(0.5).into()),
                    ("height", (ya - yb).max(0.5).into()),
                    ("fill", color(i).hex().into()),
                ],
            );
            acc += v;
        }
        f.w.end();
    }
    f.w.end();
    f.finish()
}
