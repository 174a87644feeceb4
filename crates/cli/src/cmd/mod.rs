//! One module per subcommand. Each exposes `Args` and `run(Args) -> anyhow::Result<ExitCode>`.
//! `decompress` holds the flags that `parse` and `ingest` share, `rejects` their rejects file,
//! `advice` what the command line offers against each library error.

pub mod advice;
pub mod analyze;
pub mod chart;
pub mod cluster;
pub mod datasets;
pub mod decompress;
pub mod demo;
pub mod follow;
pub mod graph;
pub mod ingest;
pub mod parse;
pub mod presets;
pub mod query;
pub mod rejects;
pub mod rm;
pub mod serve;
pub mod threads;
pub mod user;
pub mod view;
pub mod worker;
