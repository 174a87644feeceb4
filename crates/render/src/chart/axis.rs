//! Scales and axes: mapping data to pixels (linear, logarithmic, time), "nice" tick values,
//! compact number labels, and drawing an axis with its ticks, grid lines and title.

use super::AxisKind;
use super::time;
use crate::palette::Theme;
use crate::svg::{SvgWriter, Val};

/// A continuous scale from a data domain to a pixel range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    pub kind: AxisKind,
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    /// A scale over `[d0, d1]`; an empty domain is widened so mapping stays finite.
    pub fn new(kind: AxisKind, d0: f64, d1: f64, r0: f64, r1: f64) -> Scale {
        let (mut d0, mut d1) = (d0, d1);
        if kind == AxisKind::Log {
            d0 = d0.max(1.0);
            d1 = d1.max(d0 * 10.0);
        }
        if d1.partial_cmp(&d0) != Some(std::cmp::Ordering::Greater) {
            d1 = d0 + 1.0;
        }
        Scale {
            kind,
            d0,
            d1,
            r0,
            r1,
        }
    }

    pub fn map(&self, v: f64) -> f64 {
        let t = match self.kind {
            AxisKind::Log => (v.max(self.d0).ln() - self.d0.ln()) / (self.d1.ln() - self.d0.ln()),
            _ => (v - self.d0) / (self.d1 - self.d0),
        };
        self.r0 + t * (self.r1 - self.r0)
    }

    /// Tick positions (data values) and labels, about `n` of them.
    pub fn ticks(&self, n: usize) -> Vec<(f64, String)> {
        match self.kind {
            AxisKind::Number => nice_ticks(self.d0, self.d1, n)
                .into_iter()
                .map(|v| (v, fmt_compact(v)))
                .collect(),
            AxisKind::Log => {
                let mut out = Vec::new();
                let mut p = 10f64.powf(self.d0.log10().ceil());
                while p <= self.d1 * 1.0001 && out.len() < 40 {
                    out.push((p, fmt_compact(p)));
                    p *= 10.0;
                }
                out
            }
            AxisKind::Time => {
                let (step, t) = time::ticks(self.d0 as i64, self.d1 as i64, n as i64);
                t.into_iter()
                    .map(|x| (x as f64, time::tick_label(x, step)))
                    .collect()
            }
        }
    }
}

/// The tick step: 1, 2 or 5 times a power of ten, giving at most about `n` ticks.
pub(crate) fn nice_step(span: f64, n: usize) -> f64 {
    let raw = span / n.max(1) as f64;
    if raw.is_nan() || raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values within `[lo, hi]` on a nice step.
pub(crate) fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step(hi - lo, n);
    let mut v = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 && out.len() < 100 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// The top of a value axis that starts at zero: `max` rounded up to a nice step.
pub(crate) fn nice_max(max: f64) -> f64 {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let step = nice_step(max, 5);
    (max / step).ceil() * step
}

/// `950`, `1.2k`, `3.4M`, `12G`: short labels for axes.
pub(crate) fn fmt_compact(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if x.fract().abs() < 1e-9 || x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// `1,234,567` (or a decimal with two places): exact numbers for tooltips and notes.
pub(crate) fn fmt_exact(v: f64) -> String {
    if v.fract() != 0.0 {
        return format!("{v:.2}");
    }
    let out = secviz_graph::numbers::thousands(v.abs() as u64);
    if v < 0.0 { format!("-{out}") } else { out }
}

pub(crate) const FONT: &str = "DejaVu Sans, Verdana, sans-serif";
pub(crate) const TICK_FONT: f64 = 11.0;

/// Draws a horizontal axis at `y` for `scale` (x range), with grid lines up to `grid_top`.
pub(crate) fn bottom_axis(
    w: &mut SvgWriter,
    scale: &Scale,
    y: f64,
    grid_top: Option<f64>,
    title: &str,
    t: Theme,
    n: usize,
) {
    w.start(
        "g",
        &[
            ("class", "axis x".into()),
            ("font-family", FONT.into()),
            ("font-size", TICK_FONT.into()),
        ],
    );
    w.empty("line", &line(scale.r0, y, scale.r1, y, t.muted));
    for (v, label) in scale.ticks(n) {
        let x = scale.map(v);
        if let Some(top) = grid_top {
            w.empty(
                "line",
                &[
                    ("x1", x.into()),
                    ("y1", top.into()),
                    ("x2", x.into()),
                    ("y2", y.into()),
                    ("stroke", t.edge.hex().into()),
                    ("stroke-opacity", 0.35.into()),
                    ("stroke-width", 1.0.into()),
                ],
            );
        }
        w.empty("line", &line(x, y, x, y + 4.0, t.muted));
        w.text_element(
            "text",
            &[
                ("x", x.into()),
                ("y", (y + 16.0).into()),
                ("text-anchor", "middle".into()),
                ("fill", t.muted.hex().into()),
            ],
            &label,
        );
    }
    let mid = (scale.r0 + scale.r1) / 2.0;
    w.text_element(
        "text",
        &[
            ("x", mid.into()),
            ("y", (y + 34.0).into()),
            ("text-anchor", "middle".into()),
            ("fill", t.text.hex().into()),
            ("font-size", 12.0.into()),
        ],
        title,
    );
    w.end();
}

/// Draws a vertical axis at `x` for `scale` (y range), with grid lines across to `grid_right`.
pub(crate) fn left_axis(
    w: &mut SvgWriter,
    scale: &Scale,
    x: f64,
    grid_right: Option<f64>,
    title: &str,
    t: Theme,
    n: usize,
) {
    w.start(
        "g",
        &[
            ("class", "axis y".into()),
            ("font-family", FONT.into()),
            ("font-size", TICK_FONT.into()),
        ],
    );
    w.empty("line", &line(x, scale.r0, x, scale.r1, t.muted));
    for (v, label) in scale.ticks(n) {
        let y = scale.map(v);
        if let Some(right) = grid_right {
            w.empty(
                "line",
                &[
                    ("x1", x.into()),
                    ("y1", y.into()),
                    ("x2", right.into()),
                    ("y2", y.into()),
                    ("stroke", t.edge.hex().into()),
                    ("stroke-opacity", 0.35.into()),
                    ("stroke-width", 1.0.into()),
                ],
            );
        }
        w.empty("line", &line(x - 4.0, y, x, y, t.muted));
        w.text_element(
            "text",
            &[
                ("x", (x - 6.0).into()),
                ("y", (y + 4.0).into()),
                ("text-anchor", "end".into()),
                ("fill", t.muted.hex().into()),
            ],
            &label,
        );
    }
    let mid = (scale.r0 + scale.r1) / 2.0;
    w.text_element(
        "text",
        &[
            (
                "transform",
                format!(
                    "translate({} {}) rotate(-90)",
                    crate::svg::fmt_num(x - 48.0),
                    crate::svg::fmt_num(mid)
                )
                .into(),
            ),
            ("text-anchor", "middle".into()),
            ("fill", t.text.hex().into()),
            ("font-size", 12.0.into()),
        ],
        title,
    );
    w.end();
}

/// Attributes of a 1-pixel line.
pub(crate) fn line(
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    color: crate::palette::Rgb,
) -> [(&'static str, Val<'static>); 6] {
    [
        ("x1", x1.into()),
        ("y1", y1.into()),
        ("x2", x2.into()),
        ("y2", y2.into()),
        ("stroke", color.hex().into()),
        ("stroke-width", 1.0.into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_and_labels() {
        assert_eq!(
            nice_ticks(0.0, 100.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(nice_max(873.0), 1000.0);
        assert_eq!(fmt_compact(1234.0), "1234");
        assert_eq!(fmt_compact(12_340.0), "12.3k");
        assert_eq!(fmt_compact(3_400_000.0), "3.4M");
        assert_eq!(fmt_exact(1_234_567.0), "1,234,567");
    }

    #[test]
    fn log_scale_maps_decades_evenly() {
        let s = Scale::new(AxisKind::Log, 1.0, 1000.0, 0.0, 300.0);
        assert!((s.map(10.0) - 100.0).abs() < 1e-9);
        assert!((s.map(0.0) - 0.0).abs() < 1e-9);
        assert_eq!(s.ticks(5).len(), 4);
    }
}
