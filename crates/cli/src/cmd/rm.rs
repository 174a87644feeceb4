//! `secviz rm DATASET`: remove a dataset (its manifest first, then its files).

use std::process::ExitCode;

use secviz_lake::DatasetName;

use super::datasets::{DataArg, human_bytes, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The dataset to remove.
    pub dataset: DatasetName,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lake = args.data.open()?;
    let m = runtime()?.block_on(lake.remove(&args.dataset))?;
    println!(
        "removed dataset {} ({} rows, {} files, {})",
        m.name,
        m.rows,
        m.files.len(),
        human_bytes(m.bytes)
    );
    Ok(ExitCode::SUCCESS)
}
