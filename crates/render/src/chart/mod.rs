//! Server-side charts: bar (top k + "other"), histogram and time line, parallel coordinates,
//! treemap, heatmap and scatter plot, drawn as SVG with the toolkit of this crate (escaping
//! writer, palette, text widths) and rasterised with [`crate::svg_to_png`] when PNG is wanted.
//!
//! The chart types hold data that is already aggregated (the lake computes it, see
//! `secviz-views`); this module only lays it out and draws it. They are serde types so the
//! same data can go to the browser viewer as JSON. Drawing is deterministic: the same data
//! and options give the same bytes, which golden tests pin.
//!
//! Every text in a chart may come from a log (a host name, a URI, a user agent), so text
//! only reaches the SVG through [`crate::svg::SvgWriter`], which escapes it.

mod axis;
mod bar;
mod frame;
mod heatmap;
mod histogram;
mod parallel;
mod scatter;
pub mod time;
mod treemap;

use serde::{Deserialize, Serialize};

use crate::palette::Theme;

/// A labelled value: a bar, a treemap leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub label: String,
    pub value: f64,
}

/// What was folded into the "other" bar: the summed value and how many distinct values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Other {
    pub value: f64,
    pub values: u64,
}

/// Top values of one field, largest first, with the rest folded into "other".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    /// The field the bars count (axis title).
    pub field: String,
    /// What a bar's length measures ("events", "bytes").
    pub measure: String,
    pub bars: Vec<Category>,
    #[serde(default)]
    pub other: Option<Other>,
}

/// How a continuous axis reads its numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisKind {
    /// Plain numbers.
    #[default]
    Number,
    /// Microseconds since the Unix epoch, shown as UTC dates and times.
    Time,
    /// Numbers on a logarithmic scale (values ≤ 0 are drawn at the axis start).
    Log,
}

/// One bucket of a histogram: `[lo, hi)` and one value per series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub values: Vec<f64>,
}

/// A histogram of a numeric field, or a time line (a histogram over time), stacked by series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub x_label: String,
    pub measure: String,
    pub x_kind: AxisKind,
    /// Series names (stack order, bottom first); one name for an unstacked chart.
    pub series: Vec<String>,
    pub bins: Vec<Bin>,
    /// The bucket width in words ("1 hour"), shown under the title.
    #[serde(default)]
    pub bucket: Option<String>,
}

/// One axis of a parallel-coordinates plot: categorical (values are indices into
/// `categories`, first at the top) or numeric over `[min, max]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParallelAxis {
    pub field: String,
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    #[serde(default)]
    pub min: f64,
    #[serde(default)]
    pub max: f64,
    #[serde(default)]
    pub log: bool,
}

/// One distinct tuple of values and how many records have it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParallelLine {
    pub values: Vec<f64>,
    pub count: f64,
}

/// Parallel coordinates over 2 to 6 fields; lines are coloured by the first axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parallel {
    pub axes: Vec<ParallelAxis>,
    pub lines: Vec<ParallelLine>,
    /// Records not drawn (tuples beyond the top k), for the note under the title.
    #[serde(default)]
    pub omitted: f64,
}

/// A treemap group (say a /24) and its leaves (hosts), sized by value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeGroup {
    pub label: String,
    pub children: Vec<Category>,
}

/// A two-level treemap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Treemap {
    pub group_field: String,
    pub leaf_field: String,
    pub measure: String,
    pub groups: Vec<TreeGroup>,
}

/// One heatmap cell: column `x`, row `y` (indices into the labels) and its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeatCell {
    pub x: u32,
    pub y: u32,
    pub value: f64,
}

/// A heatmap of two categorical fields (say source /24 × destination port).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    pub x_label: String,
    pub y_label: String,
    pub measure: String,
    pub x: Vec<String>,
    pub y: Vec<String>,
    pub cells: Vec<HeatCell>,
}

/// One scatter point; `value` (a count) sizes it, `group` indexes `groups` for its colour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    #[serde(default = "one")]
    pub value: f64,
    #[serde(default)]
    pub group: u32,
}

fn one() -> f64 {
    1.0
}

/// A scatter plot of two numeric (or time) fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scatter {
    pub x_label: String,
    pub y_label: String,
    pub x_kind: AxisKind,
    pub y_kind: AxisKind,
    /// Colour groups (legend); empty for one colour.
    #[serde(default)]
    pub groups: Vec<String>,
    pub points: Vec<Point>,
}

/// Any chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Chart {
    Bar(BarChart),
    Histogram(Histogram),
    Parallel(Parallel),
    Treemap(Treemap),
    Heatmap(Heatmap),
    Scatter(Scatter),
}

/// Title, size and colours of a drawing.
#[derive(Clone, Debug)]
pub struct ChartOptions {
    pub title: String,
    /// A line under the title (dataset, filter, totals).
    pub subtitle: Option<String>,
    pub width: f64,
    /// Height of the drawing; `None` picks one that fits the data (bar charts grow with bars).
    pub height: Option<f64>,
    pub theme: Theme,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            title: String::new(),
            subtitle: None,
            width: 800.0,
            height: None,
            theme: Theme::LIGHT,
        }
    }
}

/// Draws `chart` as an SVG document.
pub fn chart_svg(chart: &Chart, opts: &ChartOptions) -> String {
    match chart {
        Chart::Bar(c) => bar::draw(c, opts),
        Chart::Histogram(c) => histogram::draw(c, opts),
        Chart::Parallel(c) => parallel::draw(c, opts),
        Chart::Treemap(c) => treemap::draw(c, opts),
        Chart::Heatmap(c) => heatmap::draw(c, opts),
        Chart::Scatter(c) => scatter::draw(c, opts),
    }
}
