//! `secviz query "SQL"`: run read-only SQL over the lake with DataFusion.
//!
//! Each dataset is a table; `events` is the union of all of them with a `dataset`
//! column. CSV, JSON lines and Parquet stream to standard output (or `--output`); the
//! table is printed once all rows are in, so it stops at `--max-rows` (1000 unless
//! given).
//!
//! Limits: joins, sorts and aggregations get half the machine's memory unless `--memory`
//! says otherwise, and spill to disk beyond it, so a query cannot take the machine down.
//! `--sandbox` runs SQL from elsewhere the way the portal runs a member's: on a query
//! thread, with the shape limits, the function guards and time and memory budgets that
//! hold (30 s and 512 MiB unless `--timeout` and `--memory` say otherwise), no EXPLAIN.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use secviz_lake::DatasetName;
use secviz_lake::query::{OutputFormat, QueryLimits, QueryOptions, ResultWriter};

use super::datasets::{DataArg, access_to, runtime};

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
    /// Memory for joins, sorts and aggregations, in MiB (beyond it they spill to disk);
    /// default: half the machine's memory. With --sandbox: all the query's memory.
    #[arg(long, value_name = "MIB")]
    pub memory: Option<usize>,
    /// Run the SQL as the portal runs a member's (for SQL from elsewhere): guarded, with
    /// budgets that hold, on a query thread.
    #[arg(long)]
    pub sandbox: bool,
    /// Only these datasets are visible (repeatable); default: all.
    #[arg(long = "dataset", short = 'd')]
    pub datasets: Vec<DatasetName>,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub workers: super::cluster::WorkersArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut lake = args.data.open()?;
    if let Some(cluster) = args.workers.cluster()? {
        lake = lake.with_cluster(cluster);
    }
    if args.format == OutputFormat::Parquet
        && args.output.is_none()
        && std::io::stdout().is_terminal()
    {
        anyhow::bail!("Parquet is binary: redirect standard output or use --output FILE");
    }
    let max_rows = args
        .max_rows
        .or((args.format == OutputFormat::Table).then_some(TABLE_ROWS));
    let rt = runtime()?;
    let access = access_to(&lake, &rt, &args.datasets)?;
    let opts = if args.sandbox {
        let time = Duration::from_secs_f64(args.timeout.unwrap_or(30.0).max(0.001));
        let memory = args.memory.map_or(512 << 20, |m| m << 20);
        QueryOptions {
            access,
            limits: QueryLimits {
                max_rows,
                ..QueryLimits::member_with(time, memory)
            },
            allow_explain: false,
        }
    } else {
        QueryOptions {
            access,
            limits: QueryLimits {
                timeout: args.timeout.map(Duration::from_secs_f64),
                memory_bytes: Some(args.memory.map_or_else(half_the_memory, |m| m << 20)),
                max_rows,
                spill: true,
                sandbox: None,
            },
            allow_explain: true,
        }
    };
    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (format, sql) = (args.format, args.sql.clone());
    let work = move || async move {
        let mut stream = lake.query_stream(&sql, &opts).await?;
        let mut writer = ResultWriter::new(format, stream.schema(), out).map_err(output_error)?;
        while let Some(batch) = stream.next().await {
            writer.write(&batch?).map_err(output_error)?;
        }
        writer.finish().map_err(output_error)?;
        Ok::<_, secviz_lake::query::QueryError>((
            stream.rows(),
            stream.truncated(),
            stream.elapsed(),
        ))
    };
    let outcome = if args.sandbox {
        let limits = secviz_sandbox::JobLimits {
            time: opts_time(&args),
            memory: args.memory.map_or(512 << 20, |m| m << 20),
        };
        let mut cfg = secviz_sandbox::ExecutorConfig::for_machine("secviz-query");
        cfg.slots = 1;
        cfg.nice = 0;
        let executor = secviz_sandbox::Executor::new(cfg);
        rt.block_on(async {
            let admission = executor.admit("cli").expect("an idle executor admits");
            executor.run(admission, limits, work).await
        })
        .unwrap_or_else(|e| {
            Err(secviz_lake::query::QueryError::new(
                secviz_lake::query::QueryErrorKind::Limit(secviz_lake::query::Limit::Time),
                e.to_string(),
            ))
        })
    } else {
        rt.block_on(work())
    };
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

/// The time limit of a sandboxed query.
fn opts_time(args: &Args) -> Duration {
    Duration::from_secs_f64(args.timeout.unwrap_or(30.0).max(0.001))
}

/// Half the machine's memory (from /proc/meminfo; 2 GiB when it cannot be read).
pub fn half_the_memory() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(2 << 30, |kb| kb * 1024 / 2)
}

fn output_error(
    e: secviz_lake::datafusion::arrow::error::ArrowError,
) -> secviz_lake::query::QueryError {
    secviz_lake::query::QueryError::new(
        secviz_lake::query::QueryErrorKind::Internal,
        format!("writing the result: {e}"),
    )
}
