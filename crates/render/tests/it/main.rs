//! Integration tests of secviz-render: graph and chart drawings, escaping, PNG and golden files.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

mod chart_common;
mod chart_escaping;
mod chart_golden;
mod chart_png;
mod layout_browser;
mod render;
