//! Labels in charts come from logs: hostile ones must come out as text, never markup, in
//! every chart type, titles included; and the SVG must stay well-formed (resvg reads it).

use crate::chart_common;

use chart_common::{HOSTILE, hostile_charts};
use secviz_render::Theme;
use secviz_render::chart::{ChartOptions, chart_svg};
use secviz_render::svg_to_png;

#[test]
fn hostile_labels_are_escaped_in_every_chart_type() {
    for (name, chart) in hostile_charts() {
        let opts = ChartOptions {
            title: HOSTILE[0].into(),
            subtitle: Some(HOSTILE[1].into()),
            theme: Theme::DARK,
            ..ChartOptions::default()
        };
        let svg = chart_svg(&chart, &opts);
        for bad in ["<script", "<img", "<svg onload", "<![CDATA["] {
            assert!(
                !svg.contains(bad),
                "{name}: {bad} reached the SVG unescaped"
            );
        }
        assert!(
            svg.contains("&lt;script&gt;"),
            "{name}: the hostile label is not shown escaped"
        );
        // resvg parses it as XML: a broken document would fail here.
        let png = svg_to_png(&svg, 0.5).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{name}");
    }
}
