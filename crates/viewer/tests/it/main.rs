//! Integration tests of the view stack (secviz-views and secviz-viewer): computing views over a real lake, the HTTP API and the viewer in Chromium.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

mod common;
mod viewer_browser;
mod views_api;
mod views_compute;
