//! The parts every chart shares: the background, the title and subtitle, an accessible
//! name (`<title>`/`<desc>`), and the legend row under the title, which wraps to more rows
//! when its entries do not fit the width.

use super::ChartOptions;
use super::axis::FONT;
use crate::palette::{Rgb, Theme};
use crate::svg::SvgWriter;
use crate::text::{ellipsize, text_width};

pub(crate) const PAD: f64 = 16.0;
const LEGEND_FONT: f64 = 11.0;
const LEGEND_ROW: f64 = 18.0;
const SWATCH: f64 = 10.0;
/// Longest legend entry text before it is cut with "…".
const LEGEND_TEXT_MAX: f64 = 220.0;

/// A legend entry: a colour swatch and what it stands for.
pub(crate) enum LegendItem {
    Swatch(Rgb, String),
    /// A colour ramp from `lo` to `hi` labelled with the values at its ends.
    Ramp(Vec<Rgb>, String, String),
}

/// A drawing with its chrome done; `top` is where the plot may start.
pub(crate) struct Frame {
    pub w: SvgWriter,
    pub width: f64,
    pub height: f64,
    pub top: f64,
    pub theme: Theme,
}

/// Height the title, subtitle and legend take.
pub(crate) fn header_height(opts: &ChartOptions, legend: &[LegendItem]) -> f64 {
    let mut h = PAD;
    if !opts.title.is_empty() {
        h += 20.0;
    }
    if opts.subtitle.is_some() {
        h += 17.0;
    }
    let rows = legend_rows(legend, opts.width).len();
    if rows > 0 {
        h += 6.0 + rows as f64 * LEGEND_ROW;
    }
    h + 8.0
}

fn item_width(item: &LegendItem) -> f64 {
    match item {
        LegendItem::Swatch(_, label) => {
            SWATCH + 5.0 + text_width(label, LEGEND_FONT).min(LEGEND_TEXT_MAX) + 16.0
        }
        LegendItem::Ramp(_, lo, hi) => {
            text_width(lo, LEGEND_FONT) + 110.0 + text_width(hi, LEGEND_FONT) + 16.0
        }
    }
}

/// Legend entries split into rows that fit the width.
fn legend_rows(legend: &[LegendItem], width: f64) -> Vec<Vec<&LegendItem>> {
    let mut rows: Vec<Vec<&LegendItem>> = Vec::new();
    let mut x = PAD;
    for item in legend {
        let iw = item_width(item);
        if rows.is_empty() || (x + iw > width - PAD && !rows.last().is_none_or(Vec::is_empty)) {
            rows.push(Vec::new());
            x = PAD;
        }
        rows.last_mut().expect("a row").push(item);
        x += iw;
    }
    rows
}

impl Frame {
    /// Starts a `width` × `height` drawing with background, title, subtitle and legend.
    /// `summary` is the accessible description (what the chart shows, in words).
    pub fn new(opts: &ChartOptions, height: f64, legend: &[LegendItem], summary: &str) -> Frame {
        let width = opts.width;
        let t = opts.theme;
        let mut w = SvgWriter::new(width, height);
        w.text_element(
            "title",
            &[],
            if opts.title.is_empty() {
                "chart"
            } else {
                &opts.title
            },
        );
        w.text_element("desc", &[], summary);
        w.empty(
            "rect",
            &[
                ("width", width.into()),
                ("height", height.into()),
                ("fill", t.background.hex().into()),
            ],
        );
        w.newline();
        let mut y = PAD;
        if !opts.title.is_empty() {
            y += 15.0;
            let title = ellipsize(&opts.title, width - 2.0 * PAD, 16.0);
            w.text_element(
                "text",
                &[
                    ("x", PAD.into()),
                    ("y", y.into()),
                    ("font-family", FONT.into()),
                    ("font-size", 16.0.into()),
                    ("font-weight", "bold".into()),
                    ("fill", t.text.hex().into()),
                ],
                &title,
            );
            y += 5.0;
        }
        if let Some(sub) = &opts.subtitle {
            y += 14.0;
            let sub = ellipsize(sub, width - 2.0 * PAD, 12.0);
            w.text_element(
                "text",
                &[
                    ("x", PAD.into()),
                    ("y", y.into()),
                    ("font-family", FONT.into()),
                    ("font-size", 12.0.into()),
                    ("fill", t.muted.hex().into()),
                ],
                &sub,
            );
            y += 3.0;
        }
        let rows = legend_rows(legend, width);
        if !rows.is_empty() {
            y += 6.0;
            w.start(
                "g",
                &[
                    ("class", "legend".into()),
                    ("font-family", FONT.into()),
                    ("font-size", LEGEND_FONT.into()),
                ],
            );
            for row in rows {
                let mut x = PAD;
                for item in row {
                    draw_item(&mut w, item, x, y, t);
                    x += item_width(item);
                }
                y += LEGEND_ROW;
            }
            w.end();
            w.newline();
        }
        Frame {
            w,
            width,
            height,
            top: y + 8.0,
            theme: t,
        }
    }

    pub fn finish(self) -> String {
        self.w.finish()
    }
}

fn draw_item(w: &mut SvgWriter, item: &LegendItem, x: f64, y: f64, t: Theme) {
    match item {
        LegendItem::Swatch(color, label) => {
            w.empty(
                "rect",
                &[
                    ("x", x.into()),
                    ("y", (y + 2.0).into()),
                    ("width", SWATCH.into()),
                    ("height", SWATCH.into()),
                    ("fill", color.hex().into()),
                    ("stroke", t.outline.hex().into()),
                    ("stroke-width", 0.5.into()),
                ],
            );
            let text = ellipsize(label, LEGEND_TEXT_MAX, LEGEND_FONT);
            w.text_element(
                "text",
                &[
                    ("x", (x + SWATCH + 5.0).into()),
                    ("y", (y + 11.0).into()),
                    ("fill", t.text.hex().into()),
                ],
                &text,
            );
        }
        LegendItem::Ramp(stops, lo, hi) => {
            w.text_element(
                "text",
                &[
                    ("x", x.into()),
                    ("y", (y + 11.0).into()),
                    ("fill", t.text.hex().into()),
                ],
                lo,
            );
            let x0 = x + text_width(lo, LEGEND_FONT) + 5.0;
            let n = stops.len().max(1) as f64;
            for (i, c) in stops.iter().enumerate() {
                w.empty(
                    "rect",
                    &[
                        ("x", (x0 + i as f64 * 100.0 / n).into()),
                        ("y", (y + 2.0).into()),
                        ("width", (100.0 / n + 0.3).into()),
                        ("height", SWATCH.into()),
                        ("fill", c.hex().into()),
                    ],
                );
            }
            w.text_element(
                "text",
                &[
                    ("x", (x0 + 105.0).into()),
                    ("y", (y + 11.0).into()),
                    ("fill", t.text.hex().into()),
                ],
                hi,
            );
        }
    }
}

/// The "no data" message drawn in place of an empty chart.
pub(crate) fn empty_note(f: &mut Frame, what: &str) {
    let t = f.theme;
    let (x, y) = (f.width / 2.0, (f.top + f.height) / 2.0);
    f.w.text_element(
        "text",
        &[
            ("x", x.into()),
            ("y", y.into()),
            ("text-anchor", "middle".into()),
            ("font-family", FONT.into()),
            ("font-size", 13.0.into()),
            ("fill", t.muted.hex().into()),
        ],
        what,
    );
}

/// Colour of the "other" bar or cell: neutral so it does not read as a value.
pub(crate) fn other_color(t: Theme) -> Rgb {
    t.muted.mix(t.background, 0.3)
}
