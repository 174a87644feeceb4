//! `secviz parse`: logs in, CSV or JSON lines out, rejects to a file, a summary on
//! stderr.
//!
//! ```text
//! secviz parse FILE... [--format auto|pf|tcpdump|pcap|zeek|csv|jsonl|syslog|access]
//!                      [--to csv|jsonl] [--fields a,b,c] [--year YYYY]
//!                      [--rejects FILE] [--strict] [--map from=to]...
//!                      [--max-decompressed-ratio N] [--max-decompressed-bytes N] [-j N]
//! ```
//!
//! `-` reads standard input; gzip is read transparently. For each input the detected
//! format goes to stderr, then the summary (read, parsed, rejected by reason).
//! Rejected lines are counted by reason in the summary, and the first few are shown
//! with their line numbers; `--rejects FILE` writes every one of them (one JSON object per
//! line: source, line, reason, detail, raw). Nothing else is written unasked.
//!
//! Exit status: 0 when something was parsed (rejects are reported, not fatal); 1 on an
//! error, among them inputs of which no line was parsed (empty, or not in the format),
//! and a gzip input that expands past the decompression limits (what was parsed before
//! was written; the message names the flag to raise the limit); 3 with `--strict` at the
//! first reject; 4 when an input was damaged (truncated gzip or pcap: everything before
//! the damage was still written).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use secviz_parse::{
    EventStream, EventWriter, FieldSelection, Format, OutputFormat, ParseError, ParseOptions,
    PcapMode, Reject, escape_control,
};

/// Exit status with `--strict` when a record was rejected.
const EXIT_STRICT: u8 = 3;
/// Exit status when an input was truncated or corrupt.
const EXIT_DAMAGED: u8 = 4;
/// Exit status when nothing at all was parsed.
const EXIT_NOTHING: u8 = 1;
/// Rejected lines shown on stderr per input when they are not written to a file.
const SHOWN_REJECTS: usize = 5;

#[derive(clap::Args)]
pub struct Args {
    /// Input files; `-` reads standard input. Gzip is detected and read transparently.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Input format; `auto` detects it from the first lines.
    #[arg(long, default_value = "auto", value_parser = ["auto", "pf", "tcpdump", "pcap", "zeek", "csv", "jsonl", "syslog", "access"])]
    format: String,

    /// Output format.
    #[arg(long = "to", default_value = "csv", value_parser = ["csv", "jsonl"])]
    to: String,

    /// Columns to print, in order (e.g. `src_ip,dst_port,dst_ip`); default all.
    #[arg(long, value_name = "a,b,c")]
    fields: Option<String>,

    /// Year of time stamps that print none (pf, syslog). Default: the year rule from
    /// the file's modification time (see docs/schema.md).
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    year: Option<i32>,

    /// Write every rejected line here (for all inputs), as JSON lines; without it, the
    /// first few are shown on stderr.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,

    /// Exit non-zero at the first rejected line.
    #[arg(long)]
    strict: bool,

    /// CSV input: map a header name to an event column (`--map ts=time`); repeatable.
    #[arg(long = "map", value_name = "FROM=TO")]
    map: Vec<String>,

    /// Leave out the CSV header line (AfterGlow reads headerless CSV).
    #[arg(long)]
    no_header: bool,

    /// pcap input: one event per packet, or bidirectional flows.
    #[arg(long, default_value = "packets", value_parser = ["packets", "flows"])]
    pcap: String,

    /// pcap flows: seconds of idleness after which a flow ends.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    idle_timeout: f64,

    /// Longest line accepted, in bytes; longer lines are rejected.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    max_line_bytes: usize,

    /// Leave the raw line out of the output's `raw` column.
    #[arg(long)]
    no_raw: bool,

    #[command(flatten)]
    decompress: super::decompress::DecompressArgs,

    #[command(flatten)]
    threads: super::threads::ThreadsArg,
}

/// Validated options shared by all inputs.
struct Plan {
    opts: ParseOptions,
    fields: FieldSelection,
    to: OutputFormat,
    header: bool,
}

impl Args {
    fn plan(&self) -> anyhow::Result<Plan> {
        let format = match self.format.as_str() {
            "auto" => None,
            f => Some(f.parse::<Format>()?),
        };
        let mut csv_map = Vec::new();
        for m in &self.map {
            for pair in m.split(',') {
                let Some((from, to)) = pair.split_once('=') else {
                    bail!("--map expects FROM=TO, got {pair:?}");
                };
                csv_map.push((from.trim().to_string(), to.trim().to_string()));
            }
        }
        if !(self.idle_timeout.is_finite() && self.idle_timeout > 0.0) {
            bail!("--idle-timeout must be a positive number of seconds");
        }
        let pcap = match self.pcap.as_str() {
            "flows" => PcapMode::Flows {
                idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            },
            _ => PcapMode::Packets,
        };
        let mut opts = ParseOptions {
            format,
            year: self.year,
            pcap,
            csv_map,
            strict: self.strict,
            ..Default::default()
        };
        opts.keep_raw = !self.no_raw;
        opts.limits.max_line_bytes = self.max_line_bytes;
        self.decompress.apply(&mut opts.limits);
        opts.threads = self.threads.get();
        let fields = match &self.fields {
            Some(spec) => FieldSelection::parse(spec)?,
            None => FieldSelection::all(),
        };
        let to = if self.to == "jsonl" {
            OutputFormat::Jsonl
        } else {
            OutputFormat::Csv
        };
        Ok(Plan {
            opts,
            fields,
            to,
            header: !self.no_header,
        })
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let plan = args.plan()?;
    let stdout = io::stdout().lock();
    let mut writer = EventWriter::new(
        BufWriter::with_capacity(1 << 16, stdout),
        plan.fields.clone(),
        plan.to,
    );
    if !plan.header {
        writer = writer.without_header();
    }
    let mut shared_rejects = match &args.rejects {
        Some(p) => Some(RejectSink::create(p)?),
        None => None,
    };
    let mut status = 0u8;
    let mut parsed = 0;
    for path in &args.files {
        let outcome = parse_one(path, &plan, &mut writer, shared_rejects.as_mut());
        match outcome {
            Ok((s, n)) => {
                status = status.max(s);
                parsed += n;
            }
            Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e),
        }
        if status == EXIT_STRICT {
            break;
        }
    }
    match writer.finish() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => {
            r.context("writing output")?;
        }
    }
    if let Some(s) = shared_rejects {
        s.finish()?;
    }
    if parsed == 0 && status != EXIT_STRICT {
        eprintln!(
            "error: nothing was parsed (see the summary above): check that the input is a log \
             of the format named there, or name the format with --format"
        );
        status = status.max(EXIT_NOTHING);
    }
    Ok(ExitCode::from(status))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Parses one input into the shared writer; returns the exit status it calls for and the
/// records it parsed.
fn parse_one<W: Write>(
    path: &Path,
    plan: &Plan,
    writer: &mut EventWriter<W>,
    mut shared: Option<&mut RejectSink>,
) -> anyhow::Result<(u8, u64)> {
    let stdin = path.as_os_str() == "-";
    let name = if stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let mut opts = plan.opts.clone();
    opts.source = name.clone();
    let (reader, bar): (Box<dyn Read + Send>, ProgressBar) = if stdin {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bytes} read ({bytes_per_sec})")
                .expect("valid template"),
        );
        (Box::new(bar.wrap_read(io::stdin())), bar)
    } else {
        let file = File::open(path).with_context(|| format!("opening {name}"))?;
        let meta = file.metadata().with_context(|| format!("reading {name}"))?;
        opts.reference_time = meta.modified().ok().map(micros_since_epoch);
        let bar = ProgressBar::new(meta.len());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
            )
            .expect("valid template"),
        );
        (Box::new(bar.wrap_read(file)), bar)
    };
    let mut stream =
        EventStream::open(reader, opts).map_err(|e| refused(e, &format!("opening {name}")))?;
    bar.suspend(|| {
        let gz = if stream.gzip() { " (gzip)" } else { "" };
        eprintln!("{name}: format {}{gz}", stream.format());
    });

    let mut shown: Vec<Reject> = Vec::new();
    let mut sink_err: Option<io::Error> = None;
    let mut status = 0;
    loop {
        let next = stream.next_batch(&mut |r| match shared.as_deref_mut() {
            Some(sink) => {
                if sink_err.is_none()
                    && let Err(e) = sink.write(&name, r)
                {
                    sink_err = Some(e);
                }
            }
            None if shown.len() < SHOWN_REJECTS => shown.push(r.clone()),
            None => {}
        });
        if let Some(e) = sink_err.take() {
            return Err(anyhow::Error::new(e).context("writing rejects"));
        }
        match next {
            Ok(Some(batch)) => writer.write_batch(&batch).context("writing output")?,
            Ok(None) => break,
            Err(ParseError::Strict(r)) => {
                bar.finish_and_clear();
                eprintln!(
                    "{name}: strict: line {}: {}: {}",
                    r.line,
                    r.reason,
                    escape_control(&r.detail)
                );
                status = EXIT_STRICT;
                break;
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(refused(e, &format!("parsing {name}")));
            }
        }
    }
    bar.finish_and_clear();
    let summary = stream.summary();
    eprintln!("{name}: {summary}");
    if !shown.is_empty() {
        let more = summary.rejected_total() as usize > shown.len();
        eprintln!(
            "{name}: {} rejected line{}{}:",
            if more { "the first" } else { "the" },
            if shown.len() == 1 && !more { "" } else { "s" },
            if more {
                " (--rejects FILE writes them all)"
            } else {
                ""
            }
        );
        for r in &shown {
            let raw: String = r.raw.chars().take(120).collect();
            eprintln!(
                "  line {}: {}: {}: {}",
                r.line,
                r.reason,
                escape_control(&r.detail),
                escape_control(&raw)
            );
        }
    }
    if let Some(y) = &summary.year {
        eprintln!("{name}: note: {y}{}", YEAR_NOTE_TAIL);
    }
    if let Some(d) = &summary.damage {
        eprintln!("{name}: input damaged: {d}; everything before it was parsed");
        status = status.max(EXIT_DAMAGED);
    }
    Ok((status, summary.parsed))
}

/// Ends the note on how a log without years was dated: what the reference day was, and
/// how to choose otherwise.
pub const YEAR_NOTE_TAIL: &str = " (the reference day is the file's modification time, or today for standard input; --year sets the year)";

/// `e` with `context` (main adds what to do: [`super::advice`]).
fn refused(e: ParseError, context: &str) -> anyhow::Error {
    anyhow::Error::new(e).context(context.to_string())
}

/// `--rejects FILE`: every rejected line of every input, one JSON object per line.
struct RejectSink {
    path: PathBuf,
    out: BufWriter<File>,
}

impl RejectSink {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(RejectSink {
            path: path.to_path_buf(),
            out: BufWriter::new(f),
        })
    }

    fn write(&mut self, source: &str, r: &Reject) -> io::Result<()> {
        super::rejects::write_line(&mut self.out, source, r)
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

fn micros_since_epoch(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}
