//! `secviz datasets [NAME]`: list the lake's datasets, or show one in detail (its
//! ingests, sources with hashes, parse summaries and rejects). Also holds the
//! data-location argument and runtime shared by the lake commands.

use std::process::ExitCode;

use anyhow::Context;
use secviz_lake::manifest::{Manifest, ParseSummary};
use secviz_lake::query::escape_control;
use secviz_lake::{DatasetName, Lake, format_micros};

/// Where the data lives: shared by ingest, query, datasets, rm and analyze.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArg {
    /// Data directory or object-store URL; the lake lives in <DATA>/lake.
    #[arg(
        long = "data",
        env = "SECVIZ_DATA",
        default_value = "./secviz-data",
        value_name = "DIR|URL"
    )]
    pub data: String,
}

impl DataArg {
    pub fn open(&self) -> anyhow::Result<Lake> {
        Lake::open(&self.data).with_context(|| format!("opening the lake in {}", self.data))
    }
}

/// What `--dataset NAME` (repeatable) allows a query or an analysis to read: all datasets
/// when none is named. A name that is not in the lake is an error (a typo must not give
/// an empty answer and a success).
pub fn access_to(
    lake: &Lake,
    rt: &tokio::runtime::Runtime,
    names: &[DatasetName],
) -> anyhow::Result<secviz_lake::query::Access> {
    if names.is_empty() {
        return Ok(secviz_lake::query::Access::All);
    }
    for name in names {
        rt.block_on(lake.require(name))
            .map_err(|e| anyhow::anyhow!("{e} (`secviz datasets` lists the datasets there are)"))?;
    }
    Ok(secviz_lake::query::Access::Only(names.to_vec()))
}

/// The runtime the lake's async API runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[derive(clap::Args)]
pub struct Args {
    /// Show this dataset in detail instead of listing all.
    pub name: Option<DatasetName>,
    /// Print JSON (the manifests) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataArg,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lake = args.data.open()?;
    let rt = runtime()?;
    match &args.name {
        Some(name) => {
            let m = rt.block_on(lake.require(name))?;
            if args.json {
                println!("{}", String::from_utf8_lossy(&m.to_json()).trim_end());
            } else {
                print_detail(&m);
            }
        }
        None => {
            let all = rt.block_on(lake.datasets())?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else if all.is_empty() {
                eprintln!(
                    "no datasets in {} (add one with `secviz ingest FILE --dataset NAME`)",
                    lake.store().describe()
                );
            } else {
                print_list(&all);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(all: &[Manifest]) {
    let mut rows = vec![
        [
            "dataset",
            "rows",
            "files",
            "size",
            "from",
            "to",
            "rejected",
            "anonymized",
        ]
        .map(String::from),
    ];
    for m in all {
        rows.push([
            m.name.to_string(),
            m.rows.to_string(),
            m.files.len().to_string(),
            human_bytes(m.bytes),
            m.time_min_us.map(format_micros).unwrap_or_default(),
            m.time_max_us.map(format_micros).unwrap_or_default(),
            m.rejected_total().to_string(),
            if m.anonymization.is_some() {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

fn print_detail(m: &Manifest) {
    println!("dataset    {}", m.name);
    println!(
        "rows       {} in {} files ({})",
        m.rows,
        m.files.len(),
        human_bytes(m.bytes)
    );
    if let (Some(a), Some(b)) = (m.time_min_us, m.time_max_us) {
        println!("time       {} .. {}", format_micros(a), format_micros(b));
    }
    println!(
        "version    {} (created {}, updated {})",
        m.version, m.created, m.updated
    );
    println!("schema     {}", m.schema_version);
    if let Some(a) = &m.anonymization {
        println!("anonymized {} with key {}", a.scheme, a.key_fingerprint);
    }
    for i in &m.ingests {
        println!("\ningest {} at {}: {} rows", i.id, i.at, i.rows);
        for s in &i.sources {
            let sum = &s.summary;
            println!(
                "  {}  {} {}",
                escape_control(&s.name),
                s.format,
                if s.gzip { "(gzip)" } else { "" }
            );
            println!("    sha256 {}  {} bytes", s.sha256, s.bytes);
            println!("    {}", counts(sum));
            if let Some(d) = &sum.damage {
                println!("    input damaged: {}", escape_control(d));
            }
            for r in s.rejects.iter().take(5) {
                println!(
                    "    line {}: {}: {}",
                    r.line,
                    r.reason,
                    escape_control(&r.detail)
                );
            }
            if s.rejects.len() > 5 || sum.rejected_total() > s.rejects.len() as u64 {
                println!("    ... {} rejects in all", sum.rejected_total());
            }
        }
    }
    for s in m.streams.values() {
        let sum = &s.summary;
        println!(
            "\nlive {} {} ({}): {} appends, {} .. {}",
            s.kind,
            escape_control(&s.name),
            s.format,
            s.appends,
            s.started,
            s.updated
        );
        if let Some(c) = &s.cursor {
            println!("    read to line {} (byte {})", c.line, c.offset);
        }
        println!("    {}", counts(sum));
        if s.dropped > 0 {
            // Lost before they could be read, so in none of the counts above.
            println!(
                "    dropped {} before reading (the kernel's UDP buffer overflowed, or the receiver's queue was full)",
                s.dropped
            );
        }
        // The latest rejects are the ones kept for a live source.
        for r in s.rejects.iter().rev().take(5) {
            println!(
                "    line {}: {}: {}",
                r.line,
                r.reason,
                escape_control(&r.detail)
            );
        }
    }
    if !m.retired.is_empty() {
        println!(
            "\n{} files replaced by compaction wait for their last readers",
            m.retired.len()
        );
    }
}

/// A source's parse counts, the rejects by reason: `parsed + rejected = read`.
fn counts(sum: &ParseSummary) -> String {
    format!(
        "read {} parsed {} {} skipped {} events {}",
        sum.read,
        sum.parsed,
        rejected(sum),
        sum.skipped,
        sum.events
    )
}

/// "rejected 3 (bad_field 2, line_too_long 1)": the rejects of a source, by reason.
pub fn rejected(sum: &ParseSummary) -> String {
    let reasons: Vec<String> = sum
        .rejected
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    if reasons.is_empty() {
        format!("rejected {}", sum.rejected_total())
    } else {
        format!("rejected {} ({})", sum.rejected_total(), reasons.join(", "))
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
