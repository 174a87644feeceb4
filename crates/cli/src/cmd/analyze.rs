//! `secviz analyze [NAME] --dataset D`: run the built-in analyses.
//!
//! With a NAME, runs that analysis (parameters with `--param name=value`); without,
//! runs every analysis and prints all findings, most notable first.

use std::process::ExitCode;
use std::time::Duration;

use secviz_lake::DatasetName;
use secviz_lake::analyze::{ANALYSES, Finding, Params};
use secviz_lake::query::{QueryLimits, escape_control};

use super::datasets::{DataArg, access_to, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The analysis to run (see --list); all of them when not given.
    pub name: Option<String>,
    /// Datasets to analyse (repeatable); all datasets when not given.
    #[arg(long = "dataset", short = 'd')]
    pub datasets: Vec<DatasetName>,
    /// A parameter of the analysis, `name=value` (repeatable).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// List the analyses and their parameters.
    #[arg(long)]
    pub list: bool,
    /// Findings to print when running all analyses.
    #[arg(long, default_value_t = 40)]
    pub top: usize,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub workers: super::cluster::WorkersArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        for a in ANALYSES {
            println!("{:<18} {}", a.name, a.description);
            for p in a.params {
                println!(
                    "{:<18}   --param {}={} : {}",
                    "", p.name, p.default, p.description
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut lake = args.data.open()?;
    if let Some(cluster) = args.workers.cluster()? {
        lake = lake.with_cluster(cluster);
    }
    let rt = runtime()?;
    let access = access_to(&lake, &rt, &args.datasets)?;
    let limits = QueryLimits {
        timeout: args.timeout.map(Duration::from_secs_f64),
        ..QueryLimits::unlimited()
    };
    let findings: Vec<Finding> = match &args.name {
        Some(name) => {
            anyhow::ensure!(args.params.len() < 64, "too many parameters");
            let params = Params::parse(args.params.iter().map(String::as_str))?;
            rt.block_on(lake.analyze(&access, name, &params, &limits))?
                .findings
        }
        None => {
            anyhow::ensure!(args.params.is_empty(), "--param needs an analysis NAME");
            let mut all = rt.block_on(lake.analyze_all(&access, &limits))?;
            all.truncate(args.top);
            all
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
        return Ok(ExitCode::SUCCESS);
    }
    if findings.is_empty() {
        println!("no findings");
    }
    for f in &findings {
        println!(
            "{:>4.2}  {:<18} {}",
            f.score,
            f.analysis,
            escape_control(&f.headline)
        );
    }
    Ok(ExitCode::SUCCESS)
}
