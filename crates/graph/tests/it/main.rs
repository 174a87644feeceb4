//! Integration tests of secviz-graph: rules, building, layout, exports and AfterGlow conformance.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

mod aggregate;
mod build;
mod common;
mod conformance;
mod escaping;
mod layout;
mod rules;
