//! `secviz analyze [NAME] --dataset D`: run the built-in analyses.
//!
//! With a NAME, runs that analysis (parameters with `--param name=value`); without,
//! runs every analysis and prints all findings, most notable first.

use std::process::ExitCode;
use std::time::Duration;

use secviz_lake::DatasetName;
use secviz_lake::analyze::baseline::{NOTABLE, NOTABLE_Z};
use secviz_lake::analyze::{ANALYSES, Finding, NotRun, Params, Read};
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
    /// Under each finding, the command that opens the viewer with its events selected.
    #[arg(long)]
    pub links: bool,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read every event instead of the summaries kept beside the data files: exact counts
    /// of distinct sources per port (the summaries estimate them above 32, within a few
    /// percent), at the cost of reading everything.
    #[arg(long)]
    pub rows: bool,
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
    if args.rows {
        lake = lake.reading_rows();
    }
    if let Some(cluster) = args.workers.cluster()? {
        lake = lake.with_cluster(cluster);
    }
    let rt = runtime()?;
    let access = access_to(&lake, &rt, &args.datasets)?;
    let limits = QueryLimits {
        timeout: args.timeout.map(Duration::from_secs_f64),
        ..QueryLimits::unlimited()
    };
    let mut read = None;
    let (findings, not_run): (Vec<Finding>, Vec<NotRun>) = match &args.name {
        Some(name) => {
            anyhow::ensure!(args.params.len() < 64, "too many parameters");
            let params = Params::parse(args.params.iter().map(String::as_str))?;
            let r = rt.block_on(lake.analyze(&access, name, &params, &limits))?;
            read = Some(r.read);
            let not_run = r
                .not_run
                .map(|reason| NotRun {
                    analysis: r.name,
                    title: r.title,
                    reason,
                })
                .into_iter()
                .collect();
            (r.findings, not_run)
        }
        None => {
            anyhow::ensure!(args.params.is_empty(), "--param needs an analysis NAME");
            let mut report = rt.block_on(lake.analyze_all(&access, &limits))?;
            report.findings.truncate(args.top);
            (report.findings, report.not_run)
        }
    };
    if args.json {
        let mut out = serde_json::json!({ "findings": findings, "not_run": not_run });
        if let Some(read) = read {
            out["read"] = serde_json::to_value(read)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let dataset = match args.datasets.as_slice() {
            [one] => one.to_string(),
            _ => "DATASET".to_string(),
        };
        print!(
            "{}",
            table(&findings, &not_run, args.links.then_some(dataset.as_str()))
        );
        if read == Some(Read::Summaries) && not_run.is_empty() {
            println!("answered from the summaries kept beside the data (--rows reads every event)");
        }
    }
    // One analysis asked for by name that could not run did not do what was asked.
    if args.name.is_some() && !not_run.is_empty() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The findings as a table for people: score (a `!` marks notable ones), analysis and the
/// sentence, then the analyses that could not run and why. With `links` (a dataset name),
/// each finding is followed by the `secviz view` command that selects its events.
fn table(findings: &[Finding], not_run: &[NotRun], links: Option<&str>) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("no findings\n");
    } else {
        out.push_str(&format!(
            "{:<6} {:<18} {}\n",
            "SCORE", "ANALYSIS", "FINDING"
        ));
    }
    for f in findings {
        out.push_str(&format!(
            "{:>4.2}{} {:<18} {}\n",
            f.score,
            if f.notable() { " !" } else { "  " },
            f.analysis,
            escape_control(&f.headline)
        ));
        if let (Some(dataset), Some(sel)) = (links, f.focus.selection_json()) {
            out.push_str(&format!(
                "{:<25} secviz view -d {dataset} --sel {}\n",
                "",
                shell_quote(&escape_control(&sel))
            ));
        }
    }
    if findings.iter().any(Finding::notable) {
        out.push_str(&format!(
            "! notable: {NOTABLE_Z} or more robust deviations above what is typical in this data (score {NOTABLE:.2} or more)\n"
        ));
    }
    for n in not_run {
        out.push_str(&format!(
            "not run: {} ({}): {}\n",
            n.analysis, n.title, n.reason
        ));
    }
    out
}

/// `s` in single quotes for a POSIX shell: values from logs end up in these commands, and
/// inside single quotes only the quote itself needs care.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_hostile_values_literal() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("x'; rm -rf / #"), r"'x'\''; rm -rf / #'");
    }
}
