//! The layout check in Chromium (issue 17, point 5): every chart type and a link graph, at
//! the widths the portal and the CLI draw (800, the default of both; 480, a narrow request
//! of the viewer's API), light and dark, are opened in headless Chromium
//! (`tests/browser/layout.mjs`, Debian's browser through playwright-core), which measures
//! every text as laid out with the real font: none may reach outside its drawing or overlap
//! another. The screenshots go beside the build; `SECVIZ_UPDATE_SCREENSHOTS=1` also copies
//! the 800-wide ones and the graphs to `docs/screenshots/layout/`.

use crate::chart_common::{all_charts, options};

use std::path::PathBuf;
use std::process::Command;

use secviz_graph::layout::{LayoutOptions, layout};
use secviz_render::chart::{BarChart, Category, Chart, Other, chart_svg};
use secviz_render::{GraphStyle, Theme, graph_svg};

const WIDTHS: &[f64] = &[800.0, 480.0];
const THEMES: &[(&str, Theme)] = &[("light", Theme::LIGHT), ("dark", Theme::DARK)];

/// Bars with the counts of a large log and labels of every length: where counts were cut.
fn bar_large() -> Chart {
    let labels = [
        "10.0.0.5",
        "mail.example.org",
        "a-very-long-hostname.internal.corp.example.com",
        "2001:db8:85a3::8a2e:370:7334",
        "53",
        "GET /index.php?option=com_content&view=article&id=1",
    ];
    Chart::Bar(BarChart {
        field: "dst_host".into(),
        measure: "bytes".into(),
        bars: labels
            .iter()
            .enumerate()
            .map(|(i, l)| Category {
                label: l.to_string(),
                value: 2_234_567_890.0 / (i as f64 + 1.0),
            })
            .collect(),
        other: Some(Other {
            value: 397_215_004.0,
            values: 12_345,
        }),
    })
}

fn drawings() -> Vec<(String, String)> {
    let mut charts = all_charts();
    charts.push(("bar-large", bar_large()));
    let mut out = Vec::new();
    for (name, chart) in &charts {
        for &width in WIDTHS {
            for (theme_name, theme) in THEMES {
                let mut o = options(name, *theme);
                o.width = width;
                out.push((format!("{name}-{width}-{theme_name}"), chart_svg(chart, &o)));
            }
        }
    }
    let g = crate::render::botnet(&[]);
    let pos = layout(&g, &LayoutOptions::default());
    // Long notes (an aggregated graph says in sentences how it was made) wrap in the legend.
    let mut noted = g.clone();
    noted.notes.push("aggregated automatically: 10,104,834 edges, more than the 2,000,000 a picture may draw; rare values grouped: 4,341,226 nodes became 234 (6,812 edges)".into());
    noted.notes.push(format!(
        "targets: {}",
        "a-very-long-unbroken-value-".repeat(6)
    ));
    for (theme_name, theme) in THEMES {
        let style = GraphStyle {
            theme: *theme,
            ..GraphStyle::default()
        };
        out.push((
            format!("graph-botnet-{theme_name}"),
            graph_svg(&g, &pos, &style),
        ));
        out.push((
            format!("graph-notes-{theme_name}"),
            graph_svg(&noted, &pos, &style),
        ));
    }
    out
}

#[test]
fn no_text_is_clipped_or_overlaps_in_chromium() {
    let browser = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").exists(),
        "run scripts/setup-test-env.sh first (npm ci in tests/browser)"
    );
    let dir = tempfile::tempdir().unwrap();
    let list = drawings();
    for (name, svg) in &list {
        std::fs::write(dir.path().join(format!("{name}.svg")), svg).unwrap();
    }
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("layout-screenshots");
    let out = Command::new("node")
        .arg("layout.mjs")
        .arg(dir.path())
        .arg(&shots)
        .current_dir(&browser)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LAYOUT_RESULT "))
        .unwrap_or_else(|| panic!("the layout check did not run:\n{stdout}\n{stderr}"));
    let result: serde_json::Value = serde_json::from_str(result).unwrap();
    assert_eq!(
        result["drawings"].as_u64(),
        Some(list.len() as u64),
        "{stdout}"
    );
    assert!(
        result["texts"].as_u64().unwrap() > 50 * list.len() as u64 / 10,
        "texts were measured: {stdout}"
    );
    assert!(
        out.status.success() && result["failed"] == 0,
        "text clipped or overlapping (screenshots in {}):\n{stdout}\n{stderr}",
        shots.display()
    );
    if std::env::var_os("SECVIZ_UPDATE_SCREENSHOTS").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots/layout");
        std::fs::create_dir_all(&docs).unwrap();
        for (name, _) in &list {
            if name.contains("-800-") || name.starts_with("graph-") {
                let png = format!("{name}.png");
                std::fs::copy(shots.join(&png), docs.join(&png)).unwrap();
            }
        }
    }
}
