//! `secviz query "SQL"`: run read-only SQL over the lake with DataFusion.
//!
//! Each dataset is a table; `events` is the union of all of them with a `dataset`
//! column. CSV, JSON lines and Parquet stream to standard output (or `--output`); the
//! table is printed once all rows are in, so it stops at `--max-rows` (1000 unless
//! given).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use secviz_lake::DatasetName;
use secviz_lake::query::{Access, OutputFormat, QueryLimits, QueryOptions, ResultWriter};

use super::datasets::{DataArg, runtime};

/// Rows the table format shows unless `--max-rows` says otherwise.
const TABLE_ROWS: usize = 1000;

#[derive(clap::Args)]
pub struct Args {
    /// The SQL (SELECT only; `EXPLAIN [ANALYZE]` shows the plan).
    pub sql: String,
    /// Output format: table, csv, json (JSON lines) or parquet.
    #[arg(long, short = 'f', default_value = "table")]
    pub format: OutputFormat,
    /// Write the result to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop after this many rows.
    #[arg(long)]
    pub max_rows: Option<usize>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Memory for joins, sorts and aggregations, in MiB (beyond it they spill to disk).
    #[arg(long, value_name = "MIB")]
    pub memory: Option<usize>,
    /// Only these datasets are visible (repeatable); default: all.
    #[arg(long = "dataset", short = 'd')]
    pub datasets: Vec<DatasetName>,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lake = args.data.open()?;
    if args.format == OutputFormat::Parquet
        && args.output.is_none()
        && std::io::stdout().is_terminal()
    {
        anyhow::bail!("Parquet is binary: redirect standard output or use --output FILE");
    }
    let max_rows = args
        .max_rows
        .or((args.format == OutputFormat::Table).then_some(TABLE_ROWS));
    let opts = QueryOptions {
        access: if args.datasets.is_empty() {
            Access::All
        } else {
            Access::Only(args.datasets.clone())
        },
        limits: QueryLimits {
            timeout: args.timeout.map(Duration::from_secs_f64),
            memory_bytes: args.memory.map(|m| m << 20),
            max_rows,
            spill: true,
        },
        allow_explain: true,
    };
    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let mut stream = lake.query_stream(&args.sql, &opts).await?;
        let mut writer =
            ResultWriter::new(args.format, stream.schema(), out).map_err(output_error)?;
        while let Some(batch) = stream.next().await {
            writer.write(&batch?).map_err(output_error)?;
        }
        writer.finish().map_err(output_error)?;
        Ok::<_, secviz_lake::query::QueryError>((
            stream.rows(),
            stream.truncated(),
            stream.elapsed(),
        ))
    });
    match outcome {
        Ok((rows, truncated, elapsed)) => {
            if truncated {
                eprintln!(
                    "note: showing the first {rows} rows (raise --max-rows, or use --format csv)"
                );
            } else if args.format == OutputFormat::Table {
                eprintln!(
                    "{rows} row{} in {:.3} s",
                    if rows == 1 { "" } else { "s" },
                    elapsed.as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(caret) = e.caret(&args.sql) {
                for l in caret.lines() {
                    eprintln!("  {l}");
                }
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn output_error(
    e: secviz_lake::datafusion::arrow::error::ArrowError,
) -> secviz_lake::query::QueryError {
    secviz_lake::query::QueryError::new(
        secviz_lake::query::QueryErrorKind::Internal,
        format!("writing the result: {e}"),
    )
}
