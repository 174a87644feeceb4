//! Golden SVGs, one per chart type (light and dark): the drawing of fixed data must not
//! change by accident. Tests only read them; a change is accepted deliberately with
//! `cargo run -p secviz-render --example bless_golden` and a review of the diff.

use crate::chart_common;

use std::path::PathBuf;

use chart_common::{all_charts, options};
use secviz_render::Theme;
use secviz_render::chart::chart_svg;

fn golden(name: &str, svg: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.svg"));
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (write the golden files with `cargo run -p secviz-render --example bless_golden`)",
            path.display()
        )
    });
    if want != svg {
        // The new drawing goes beside the build, never over the golden file, for a diff.
        let got = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.svg"));
        std::fs::write(&got, svg).unwrap();
        panic!(
            "{name}: the SVG differs from {} (the new drawing is {}; to accept it run \
             `cargo run -p secviz-render --example bless_golden` and review the diff)",
            path.display(),
            got.display()
        );
    }
}

#[test]
fn every_chart_type_matches_its_golden_svg() {
    for (name, chart) in all_charts() {
        golden(name, &chart_svg(&chart, &options(name, Theme::LIGHT)));
        golden(
            &format!("{name}-dark"),
            &chart_svg(&chart, &options(name, Theme::DARK)),
        );
    }
}

#[test]
fn drawing_is_deterministic() {
    for (name, chart) in all_charts() {
        let a = chart_svg(&chart, &options(name, Theme::LIGHT));
        let b = chart_svg(&chart.clone(), &options(name, Theme::LIGHT));
        assert_eq!(a, b, "{name}");
    }
}
