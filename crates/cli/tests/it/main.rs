//! Integration tests of the `secviz` binary: the real command, spawned as users run it.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

mod cluster_cli;
mod common;
mod dashboard_live;
mod decompression_cli;
mod exit_codes;
mod follow_cli;
mod graph_cli;
mod hostile;
mod lake_cli;
mod lake_crash;
mod parse_cli;
mod pictures_cli;
mod portal_cli;
mod portal_crash;
mod portal_instances;
mod portal_s3;
mod s3_cli;
mod syslog_cli;
