//! secviz-render draws link graphs and charts as SVG, and rasterises SVG to PNG.
//!
//! The shared toolkit, for graphs and the charts in `chart/`:
//! - [`svg::SvgWriter`]: builds SVG documents and escapes every text and attribute value;
//! - [`palette`]: themes (light and dark), the categorical palette and the severity ramp;
//! - [`text`]: text width estimation for layout without a font engine;
//! - [`png::svg_to_png`]: rasterisation with resvg and an embedded font (deterministic).
//!
//! [`graph::graph_svg`] draws a laid-out [`secviz_graph::Graph`] with its legend.
//!
//! Not here: computing what is drawn (graph building and layout are secviz-graph's, chart
//! data is secviz-views'), and any I/O: it turns values into SVG text and PNG bytes.

pub mod chart;
pub mod graph;
mod labels;
pub mod palette;
pub mod png;
pub mod svg;
pub mod text;

pub use graph::{GraphStyle, graph_svg};
pub use palette::Theme;
pub use png::{RenderError, svg_to_png, svg_to_png_fit};
pub use svg::SvgWriter;
