//! Charts rasterise to PNG with the embedded font, at the drawing's size times the scale,
//! and the pixels are not all background (something was drawn).

use crate::chart_common;

use chart_common::{all_charts, options};
use secviz_render::Theme;
use secviz_render::chart::chart_svg;
use secviz_render::svg_to_png;

fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn every_chart_type_rasterises_at_its_size() {
    for (name, chart) in all_charts() {
        let svg = chart_svg(&chart, &options(name, Theme::LIGHT));
        let png = svg_to_png(&svg, 2.0).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (w, h) = png_size(&png);
        assert_eq!(w, 1440, "{name}");
        assert!(h > 300, "{name}: height {h}");
        // A flat white image compresses to almost nothing; a drawn chart does not.
        assert!(png.len() > 8_000, "{name}: {} bytes looks blank", png.len());
    }
}
