//! Bar chart of the top values of a field: horizontal bars (long labels such as host names
//! and addresses stay readable), largest first, with the rest folded into one "other" bar in
//! a neutral colour, the value at the end of each bar and its share in the tooltip.

use super::axis::{FONT, Scale, TICK_FONT, bottom_axis, fmt_compact, fmt_exact, nice_max};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height, other_color};
use super::{AxisKind, BarChart, ChartOptions};
use crate::palette::CATEGORICAL;
use crate::text::{ellipsize, text_width};

const BAR_H: f64 = 18.0;
const GAP: f64 = 6.0;
const AXIS_H: f64 = 44.0;

pub(crate) fn draw(c: &BarChart, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let fill = CATEGORICAL[0];
    let mut rows: Vec<(&str, f64, bool)> = c
        .bars
        .iter()
        .map(|b| (b.label.as_str(), b.value, false))
        .collect();
    let other_label;
    if let Some(o) = &c.other {
        other_label = format!("other ({} values)", fmt_exact(o.values as f64));
        rows.push((&other_label, o.value, true));
    }
    let mut legend = vec![LegendItem::Swatch(
        fill,
        format!("top {} values of {}", c.bars.len(), c.field),
    )];
    if c.other.is_some() {
        legend.push(LegendItem::Swatch(
            other_color(t),
            "all other values".into(),
        ));
    }
    let total: f64 = rows.iter().map(|r| r.1).sum();
    let head = header_height(opts, &legend);
    let natural = head + rows.len().max(1) as f64 * (BAR_H + GAP) + AXIS_H + PAD;
    let height = opts.height.unwrap_or(natural);
    let summary = format!(
        "Bar chart of the {} most frequent values of {} by {}, total {}.",
        c.bars.len(),
        c.field,
        c.measure,
        fmt_exact(total)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if rows.is_empty() {
        empty_note(&mut f, "no data");
        return f.finish();
    }
    let label_w = rows
        .iter()
        .map(|r| text_width(r.0, TICK_FONT))
        .fold(0.0, f64::max)
        .min(opts.width * 0.4)
        + 8.0;
    let x0 = PAD + label_w;
    let x1 = opts.width - PAD - 60.0;
    let max = nice_max(rows.iter().map(|r| r.1).fold(0.0, f64::max));
    let scale = Scale::new(AxisKind::Number, 0.0, max, x0, x1.max(x0 + 10.0));
    let plot_top = f.top;
    // Bars share the space left when the height is fixed.
    let step = ((height - plot_top - AXIS_H - PAD) / rows.len() as f64).clamp(4.0, BAR_H + GAP);
    let bar_h = (step * BAR_H / (BAR_H + GAP)).max(2.0);
    let axis_y = plot_top + step * rows.len() as f64 + 4.0;
    bottom_axis(&mut f.w, &scale, axis_y, Some(plot_top), &c.measure, t, 6);
    f.w.start(
        "g",
        &[
            ("class", "bars".into()),
            ("font-family", FONT.into()),
            ("font-size", TICK_FONT.into()),
        ],
    );
    for (i, (label, value, is_other)) in rows.iter().enumerate() {
        let y = plot_top + i as f64 * step;
        let color = if *is_other { other_color(t) } else { fill };
        let share = if total > 0.0 {
            value / total * 100.0
        } else {
            0.0
        };
        f.w.start(
            "g",
            &[("class", if *is_other { "bar other" } else { "bar" }.into())],
        );
        f.w.text_element(
            "title",
            &[],
            &format!("{label}: {} {} ({share:.1}%)", fmt_exact(*value), c.measure),
        );
        f.w.empty(
            "rect",
            &[
                ("x", x0.into()),
                ("y", y.into()),
                ("width", (scale.map(*value) - x0).max(1.0).into()),
                ("height", bar_h.into()),
                ("fill", color.hex().into()),
            ],
        );
        let shown = ellipsize(label, label_w - 8.0, TICK_FONT);
        f.w.text_element(
            "text",
            &[
                ("x", (x0 - 6.0).into()),
                ("y", (y + bar_h / 2.0 + 4.0).into()),
                ("text-anchor", "end".into()),
                ("fill", t.text.hex().into()),
            ],
            &shown,
        );
        f.w.text_element(
            "text",
            &[
                ("x", (scale.map(*value) + 4.0).into()),
                ("y", (y + bar_h / 2.0 + 4.0).into()),
                ("fill", t.muted.hex().into()),
            ],
            &fmt_compact(*value),
        );
        f.w.end();
        f.w.newline();
    }
    f.w.end();
    f.finish()
}
