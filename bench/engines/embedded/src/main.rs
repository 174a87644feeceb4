//! Baseline: plain embedded DataFusion in one process.
//! usage: bench-embedded <parquet dir> <out dir> [runs]
use datafusion::prelude::{SessionConfig, SessionContext};

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let (data, out, runs) = engines_common::args_after(1);
    // default target_partitions = number of cores (2 here)
    let ctx = SessionContext::new_with_config(SessionConfig::new());
    engines_common::register_flows(&ctx, &data).await?;
    engines_common::run_all(&ctx, "embedded", runs, &out).await
}
