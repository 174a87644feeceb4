//! `secviz ingest FILE... --dataset NAME`: parse logs into a dataset of the lake.
//!
//! Shows a progress bar on a terminal (bytes, lines per second, rejects, ETA), prints
//! the first rejects with their line numbers (all of them with `--rejects FILE`), and
//! ends with the parse summary of every file. Nothing is visible in the dataset until
//! the commit at the end; an interrupted ingest leaves the dataset as it was, and so
//! does a gzip input refused for expanding past `--max-decompressed-ratio`/`-bytes`.
//!
//! With `--follow`, the one file given is tailed into the dataset until interrupted
//! ([`super::follow`]).
//!
//! Exit status: 0 when events were ingested (some lines may have been rejected: they are
//! reported); 1 on an error; 2 when nothing was ingested (no line parsed, or no records).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secviz_lake::anon::AnonKey;
use secviz_lake::query::escape_control;
use secviz_lake::rollup::RollUp;
use secviz_lake::{DatasetName, IngestOptions, IngestProgress, IngestSource, format_micros};
use secviz_parse::{Format, ParseOptions};

use super::datasets::{DataArg, human_bytes, rejected, runtime};
use super::decompress::DecompressArgs;

/// Exit status when the inputs gave no event.
const EXIT_NOTHING: u8 = 2;

#[derive(clap::Args)]
pub struct Args {
    /// Log files to ingest (`-` reads standard input). Gzip is detected.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The dataset to add them to (created if missing).
    #[arg(long, short = 'd')]
    pub dataset: DatasetName,
    /// Input format (pf, tcpdump, pcap, zeek, csv, jsonl, syslog, access); detected
    /// from the first lines when not given.
    #[arg(long)]
    pub format: Option<Format>,
    /// Anonymize IP addresses (prefix-preserving Crypto-PAn) with the key in this file;
    /// the file is created (mode 0600) when missing.
    #[arg(long, value_name = "KEYFILE")]
    pub anonymize: Option<PathBuf>,
    /// Your own networks, comma-separated (default: the private ranges): what the fan-in
    /// and exfiltration analyses call inside. Decided on the real addresses, so it works
    /// with --anonymize too; kept by the dataset until given again.
    #[arg(long, value_name = "NETWORKS")]
    pub inside: Option<secviz_lake::inside::InsideNetworks>,
    /// Ingest files even when the dataset already holds them (same SHA-256).
    #[arg(long)]
    pub force: bool,
    /// Year of time stamps that have none (pf, BSD syslog).
    #[arg(long)]
    pub year: Option<i32>,
    /// CSV header renames, `header=column` (e.g. `--map ts=time`).
    #[arg(long = "map", value_name = "HEADER=COLUMN")]
    pub csv_map: Vec<String>,
    /// Do not keep the raw line in the `raw` column (smaller datasets).
    #[arg(long)]
    pub no_raw: bool,
    /// Write every rejected line as JSON lines (source, line, reason, detail, raw).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// No progress bar and no reject lines on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Keep reading the file as it grows, across rotation, committing new lines every
    /// --interval, until interrupted (Ctrl-C or SIGTERM). A restart goes on where the last
    /// commit left off.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: the longest a new line waits before it is committed, in seconds.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 1.0,
        requires = "follow"
    )]
    pub interval: f64,
    #[command(flatten)]
    pub decompress: DecompressArgs,
    #[command(flatten)]
    pub threads: super::threads::ThreadsArg,
    #[command(flatten)]
    pub data: DataArg,
}

/// Rejects printed on standard error before the rest are only counted.
const SHOWN_REJECTS: usize = 10;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let lake = args.data.open()?;
    if args.follow {
        anyhow::ensure!(
            args.files.len() == 1 && args.files[0].as_os_str() != "-",
            "--follow reads one file (not standard input)"
        );
        anyhow::ensure!(
            args.interval.is_finite() && (0.05..=3600.0).contains(&args.interval),
            "--interval must be between 0.05 and 3600 seconds"
        );
    }
    let anonymize = match &args.anonymize {
        Some(path) => {
            let (key, created) = AnonKey::load_or_create(path)?;
            if created {
                eprintln!(
                    "created anonymization key {} (mode 0600); keep it secret and keep it safe",
                    path.display()
                );
            }
            Some(key)
        }
        None => None,
    };
    let mut parse = ParseOptions {
        format: args.format,
        year: args.year,
        keep_raw: !args.no_raw,
        ..Default::default()
    };
    args.decompress.apply(&mut parse.limits);
    parse.threads = args.threads.get();
    for m in &args.csv_map {
        let (h, c) = m
            .split_once('=')
            .with_context(|| format!("--map {m:?}: expected HEADER=COLUMN"))?;
        parse.csv_map.push((h.to_string(), c.to_string()));
    }
    let mut sources = Vec::with_capacity(args.files.len());
    for f in &args.files {
        if f.as_os_str() == "-" {
            sources.push(IngestSource::reader("-", std::io::stdin(), None));
        } else {
            anyhow::ensure!(f.is_file(), "{} is not a readable file", f.display());
            sources.push(IngestSource::path(f));
        }
    }
    if args.follow {
        let opts = secviz_lake::live::FollowOptions {
            parse,
            anonymize,
            inside: args.inside.clone().map(secviz_lake::Inside::Real),
            interval: Duration::from_secs_f64(args.interval),
            ..Default::default()
        };
        let sink = RejectSink::new(args.rejects.as_deref(), args.quiet)?;
        let reject_state = sink.state.clone();
        let on_reject =
            Box::new(move |source: &str, r: &secviz_parse::Reject| sink.take(source, r));
        let code = super::follow::run(
            &lake,
            &args.files[0],
            &args.dataset,
            args.quiet,
            opts,
            on_reject,
        )?;
        reject_state
            .lock()
            .map(|mut s| s.finish())
            .unwrap_or(Ok(0))?;
        return Ok(code);
    }
    let opts = IngestOptions {
        parse,
        anonymize,
        inside: args.inside.clone().map(secviz_lake::Inside::Real),
        force: args.force,
        ..IngestOptions::default()
    };

    let bar = progress_bar(args.quiet);
    let started = Instant::now();
    let on_progress = {
        let bar = bar.clone();
        Box::new(move |p: &IngestProgress| update_bar(&bar, p, started))
    };
    let sink = RejectSink::new(args.rejects.as_deref(), args.quiet)?;
    let reject_state = sink.state.clone();
    let on_reject = Box::new(move |source: &str, r: &secviz_parse::Reject| sink.take(source, r));

    let rt = runtime()?;
    let result = rt.block_on(lake.ingest(&args.dataset, sources, opts, on_progress, on_reject));
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e @ secviz_lake::LakeError::Parse { .. }) => {
            return Err(anyhow::Error::new(e).context("nothing was ingested"));
        }
        Err(e) => return Err(e.into()),
    };
    let rejected_total = reject_state
        .lock()
        .map(|mut s| s.finish())
        .unwrap_or(Ok(0))?;

    let secs = report.elapsed.as_secs_f64().max(1e-9);
    println!(
        "ingested {} events from {} source{} into {} (version {}) in {:.1} s ({:.0} events/s)",
        report.rows,
        report.sources.len(),
        if report.sources.len() == 1 { "" } else { "s" },
        report.dataset,
        report.version,
        secs,
        report.rows as f64 / secs
    );
    for s in &report.sources {
        let sum = &s.summary;
        println!(
            "  {}: {}{}, read {} parsed {} {} skipped {}",
            escape_control(&s.name),
            s.format,
            if s.gzip { " (gzip)" } else { "" },
            sum.read,
            sum.parsed,
            rejected(sum),
            sum.skipped
        );
        if let Some(d) = &sum.damage {
            println!(
                "    input damaged, kept everything before: {}",
                escape_control(d)
            );
        }
        if let Some(y) = &sum.year_note {
            println!("    note: {y}{}", super::parse::YEAR_NOTE_TAIL);
        }
    }
    let m = &report.manifest;
    println!(
        "  wrote {} files ({}); dataset now {} rows{}",
        report.files,
        human_bytes(report.bytes),
        m.rows,
        match (m.time_min_us, m.time_max_us) {
            (Some(a), Some(b)) => format!(", {} .. {}", format_micros(a), format_micros(b)),
            _ => String::new(),
        }
    );
    match &report.rollup {
        RollUp::Written { files, bytes } => println!(
            "  merged the summaries of its {files} files into one for the analyses ({})",
            human_bytes(*bytes)
        ),
        RollUp::Current => {}
        RollUp::Skipped(why) => println!("  note: no merged summary for the analyses: {why}"),
        RollUp::Failed(why) => println!(
            "  note: the merged summary for the analyses was not written ({}); they merge the files' own",
            escape_control(why)
        ),
    }
    if rejected_total > SHOWN_REJECTS as u64 && args.rejects.is_none() {
        println!("  {rejected_total} lines were rejected; list them all with --rejects FILE");
    }
    if report.rows == 0 {
        eprintln!(
            "error: nothing was ingested: {}",
            if rejected_total > 0 {
                "no line was parsed (see the rejected lines above); is the format right? (--format)"
            } else {
                "the input has no records"
            }
        );
        return Ok(ExitCode::from(EXIT_NOTHING));
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(quiet: bool) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr_with_hz(8)
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {bytes}/{total_bytes} {msg} ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn update_bar(bar: &ProgressBar, p: &IngestProgress, started: Instant) {
    if p.committing {
        bar.set_message("committing");
        return;
    }
    if let Some(total) = p.bytes_total {
        bar.set_length(total);
    }
    bar.set_position(p.bytes_read);
    let rate = p.records as f64 / started.elapsed().as_secs_f64().max(1e-3);
    let file = if p.sources > 1 {
        format!(" file {}/{}", p.source + 1, p.sources)
    } else {
        String::new()
    };
    bar.set_message(format!("{:.0} lines/s, {} rejects{file}", rate, p.rejected));
}

/// Prints the first rejects, writes all of them to `--rejects FILE`, counts them.
struct RejectSink {
    state: Arc<Mutex<RejectState>>,
}

struct RejectState {
    file: Option<BufWriter<File>>,
    shown: usize,
    count: u64,
    quiet: bool,
    error: Option<std::io::Error>,
}

impl RejectState {
    fn finish(&mut self) -> anyhow::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(e).context("writing the rejects file");
        }
        if let Some(f) = &mut self.file {
            f.flush().context("writing the rejects file")?;
        }
        Ok(self.count)
    }
}

impl RejectSink {
    fn new(path: Option<&std::path::Path>, quiet: bool) -> anyhow::Result<RejectSink> {
        let file = match path {
            Some(p) => Some(BufWriter::new(
                File::create(p).with_context(|| format!("creating {}", p.display()))?,
            )),
            None => None,
        };
        let state = RejectState {
            file,
            shown: 0,
            count: 0,
            quiet,
            error: None,
        };
        Ok(RejectSink {
            state: Arc::new(Mutex::new(state)),
        })
    }

    fn take(&self, source: &str, r: &secviz_parse::Reject) {
        let Ok(mut s) = self.state.lock() else { return };
        s.count += 1;
        if !s.quiet && s.shown < SHOWN_REJECTS {
            s.shown += 1;
            eprintln!(
                "{}:{}: {}: {}",
                escape_control(source),
                r.line,
                r.reason,
                escape_control(&r.detail)
            );
        }
        if let Some(f) = s.file.as_mut()
            && let Err(e) = super::rejects::write_line(f, source, r)
        {
            s.error.get_or_insert(e);
        }
    }
}
