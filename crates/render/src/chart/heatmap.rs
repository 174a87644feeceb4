//! Heatmap of two categorical fields: a grid of cells shaded by value on a sequential ramp
//! (one ramp per theme so low values stay visible on white and on near-black), logarithmic
//! when the values span more than two orders of magnitude, with the ramp in the legend.

use super::axis::{FONT, TICK_FONT, fmt_compact, fmt_exact};
use super::frame::{Frame, LegendItem, PAD, empty_note, header_height};
use super::{ChartOptions, Heatmap};
use crate::palette::{Rgb, Theme};
use crate::svg::fmt_num;
use crate::text::{ellipsize, text_width};

const LIGHT_RAMP: [Rgb; 5] = [
    Rgb(0xde, 0xeb, 0xf7),
    Rgb(0x9e, 0xca, 0xe1),
    Rgb(0x42, 0x92, 0xc6),
    Rgb(0x08, 0x51, 0x9c),
    Rgb(0x08, 0x30, 0x6b),
];
const DARK_RAMP: [Rgb; 5] = [
    Rgb(0x1b, 0x2f, 0x45),
    Rgb(0x1f, 0x4e, 0x79),
    Rgb(0x2f, 0x7f, 0xc1),
    Rgb(0x6b, 0xae, 0xd6),
    Rgb(0xc6, 0xdb, 0xef),
];
const LABEL_MAX: f64 = 140.0;

fn ramp(theme: Theme) -> &'static [Rgb; 5] {
    if theme.background.luminance() < 0.2 {
        &DARK_RAMP
    } else {
        &LIGHT_RAMP
    }
}

/// The colour at `t` in `0..=1` along a ramp.
fn at(stops: &[Rgb; 5], t: f64) -> Rgb {
    let pos = t.clamp(0.0, 1.0) * 4.0;
    let i = (pos.floor() as usize).min(3);
    stops[i].mix(stops[i + 1], pos - i as f64)
}

pub(crate) fn draw(c: &Heatmap, opts: &ChartOptions) -> String {
    let t = opts.theme;
    let stops = ramp(t);
    let max = c.cells.iter().map(|k| k.value).fold(0.0, f64::max);
    let min_pos = c
        .cells
        .iter()
        .map(|k| k.value)
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let log = min_pos.is_finite() && max / min_pos > 100.0;
    let shade = |v: f64| -> f64 {
        if max <= 0.0 {
            0.0
        } else if log {
            (v.max(1.0).ln() / max.max(1.0).ln()).max(0.0)
        } else {
            v / max
        }
    };
    let lo = if log { "1" } else { "0" }.to_string();
    let legend = vec![LegendItem::Ramp(
        (0..10).map(|i| at(stops, i as f64 / 9.0)).collect(),
        lo,
        format!(
            "{} {}{}",
            fmt_compact(max),
            c.measure,
            if log { " (log)" } else { "" }
        ),
    )];
    let ylab_w =
        c.y.iter()
            .map(|s| text_width(s, TICK_FONT))
            .fold(0.0, f64::max)
            .min(LABEL_MAX)
            + 8.0;
    let xlab_h =
        c.x.iter()
            .map(|s| text_width(s, TICK_FONT))
            .fold(0.0, f64::max)
            .min(LABEL_MAX)
            * 0.72
            + 12.0;
    let head = header_height(opts, &legend);
    let ny = c.y.len().max(1) as f64;
    let nx = c.x.len().max(1) as f64;
    let plot_w = opts.width - 2.0 * PAD - ylab_w - 24.0;
    let height = opts
        .height
        .unwrap_or(head + (ny * 22.0).clamp(120.0, 900.0) + xlab_h + 30.0 + PAD);
    let summary = format!(
        "Heatmap of {} by {} and {}: {} × {} cells, largest {}.",
        c.measure,
        c.y_label,
        c.x_label,
        c.x.len(),
        c.y.len(),
        fmt_exact(max)
    );
    let mut f = Frame::new(opts, height, &legend, &summary);
    if c.cells.is_empty() {
        empty_note(&mut f, "no data");
        return f.finish();
    }
    let x0 = PAD + 24.0 + ylab_w;
    let y0 = f.top;
    let cw = plot_w / nx;
    let ch = (height - y0 - xlab_h - 30.0 - PAD) / ny;
    f.w.start(
        "g",
        &[
            ("class", "labels".into()),
            ("font-family", FONT.into()),
            ("font-size", TICK_FONT.into()),
            ("fill", t.text.hex().into()),
        ],
    );
    for (i, label) in c.y.iter().enumerate() {
        let y = y0 + (i as f64 + 0.5) * ch + 4.0;
        f.w.text_element(
            "text",
            &[
                ("x", (x0 - 6.0).into()),
                ("y", y.into()),
                ("text-anchor", "end".into()),
            ],
            &ellipsize(label, LABEL_MAX, TICK_FONT),
        );
    }
    let ybase = y0 + ny * ch;
    for (i, label) in c.x.iter().enumerate() {
        let x = x0 + (i as f64 + 0.5) * cw;
        let tr = format!(
            "translate({} {}) rotate(-45)",
            fmt_num(x + 3.0),
            fmt_num(ybase + 10.0)
        );
        f.w.text_element(
            "text",
            &[("transform", tr.into()), ("text-anchor", "end".into())],
            &ellipsize(label, LABEL_MAX, TICK_FONT),
        );
    }
    f.w.text_element(
        "text",
        &[
            ("x", (x0 + plot_w / 2.0).into()),
            ("y", (ybase + xlab_h + 22.0).into()),
            ("text-anchor", "middle".into()),
            ("font-size", 12.0.into()),
        ],
        &c.x_label,
    );
    let tr = format!(
        "translate({} {}) rotate(-90)",
        fmt_num(PAD + 8.0),
        fmt_num(y0 + ny * ch / 2.0)
    );
    f.w.text_element(
        "text",
        &[
            ("transform", tr.into()),
            ("text-anchor", "middle".into()),
            ("font-size", 12.0.into()),
        ],
        &c.y_label,
    );
    f.w.end();
    f.w.start(
        "g",
        &[
            ("class", "cells".into()),
            ("font-family", FONT.into()),
            ("font-size", 10.0.into()),
        ],
    );
    let show_values = cw >= 34.0 && ch >= 15.0;
    for k in &c.cells {
        let (Some(xl), Some(yl)) = (c.x.get(k.x as usize), c.y.get(k.y as usize)) else {
            continue;
        };
        let fill = at(stops, shade(k.value));
        let (x, y) = (x0 + f64::from(k.x) * cw, y0 + f64::from(k.y) * ch);
        f.w.start("g", &[]);
        f.w.text_element(
            "title",
            &[],
            &format!(
                "{} {yl}, {} {xl}: {} {}",
                c.y_label,
                c.x_label,
                fmt_exact(k.value),
                c.measure
            ),
        );
        f.w.empty(
            "rect",
            &[
                ("x", (x + 0.5).into()),
                ("y", (y + 0.5).into()),
                ("width", (cw - 1.0).max(0.5).into()),
                ("height", (ch - 1.0).max(0.5).into()),
                ("fill", fill.hex().into()),
            ],
        );
        if show_values {
            f.w.text_element(
                "text",
                &[
                    ("x", (x + cw / 2.0).into()),
                    ("y", (y + ch / 2.0 + 3.5).into()),
                    ("text-anchor", "middle".into()),
                    ("fill", Theme::text_on(fill).hex().into()),
                ],
                &fmt_compact(k.value),
            );
        }
        f.w.end();
    }
    f.w.end();
    f.finish()
}
