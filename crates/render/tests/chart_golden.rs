//! Golden SVGs, one per chart type (light and dark): the drawing of fixed data must not
//! change by accident. Regenerate deliberately with `SECVIZ_UPDATE_GOLDEN=1 cargo test -p
//! secviz-render --test chart_golden` and review the diff.

mod chart_common;

use std::path::PathBuf;

use chart_common::{all_charts, options};
use secviz_render::Theme;
use secviz_render::chart::chart_svg;

fn golden(name: &str, svg: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.svg"));
    if std::env::var_os("SECVIZ_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set SECVIZ_UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        want == svg,
        "{name}: the SVG differs from {} (set SECVIZ_UPDATE_GOLDEN=1 to accept the change)",
        path.display()
    );
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
