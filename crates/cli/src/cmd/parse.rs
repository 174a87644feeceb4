//! `secviz parse`: logs in, CSV or JSON lines out, rejects to a file, a summary on
//! stderr.
//!
//! ```text
//! secviz parse FILE... [--format auto|pf|tcpdump|pcap|zeek|csv|jsonl|syslog|access]
//!                      [--to csv|jsonl] [--fields a,b,c] [--year YYYY]
//!                      [--rejects FILE] [--strict] [--map from=to]...
//!                      [--max-decompressed-ratio N] [--max-decompressed-bytes N]
//! ```
//!
//! `-` reads standard input; gzip is read transparently. For each input the detected
//! format goes to stderr, then the summary (read, parsed, rejected by reason).
//! Rejected lines go to `<input name>.rejects` in the current directory (one JSON
//! object per line: source, line, reason, detail, raw), created only when there is a
//! reject, or to `--rejects FILE` for all inputs.
//!
//! Exit status: 0 when done (rejects are reported, not fatal); 1 on an error, among
//! them a gzip input that expands past the decompression limits (what was parsed
//! before was written; the message names the flag to raise the limit); 3 with
//! `--strict` at the first reject; 4 when an input was damaged (truncated gzip or
//! pcap: everything before the damage was still written).

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use secviz_parse::{
    EventStream, EventWriter, FieldSelection, Format, OutputFormat, ParseError, ParseOptions,
    PcapMode, Reject,
};

/// Exit status with `--strict` when a record was rejected.
const EXIT_STRICT: u8 = 3;
/// Exit status when an input was truncated or corrupt.
const EXIT_DAMAGED: u8 = 4;

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

    /// Write rejected lines here (for all inputs) instead of `<input>.rejects`.
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
    for path in &args.files {
        let outcome = parse_one(path, &plan, &mut writer, shared_rejects.as_mut());
        match outcome {
            Ok(s) => status = status.max(s),
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
    Ok(ExitCode::from(status))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Parses one input into the shared writer; returns the exit status it calls for.
fn parse_one<W: Write>(
    path: &Path,
    plan: &Plan,
    writer: &mut EventWriter<W>,
    shared: Option<&mut RejectSink>,
) -> anyhow::Result<u8> {
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

    let mut own = None;
    let sink: &mut RejectSink = match shared {
        Some(s) => s,
        None => own.insert(RejectSink::lazy(default_rejects_path(path, stdin))),
    };
    let mut sink_err: Option<io::Error> = None;
    let mut status = 0;
    loop {
        let next = stream.next_batch(&mut |r| {
            if sink_err.is_none()
                && let Err(e) = sink.write(&name, r)
            {
                sink_err = Some(e);
            }
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
                    r.line, r.reason, r.detail
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
    if let Some(p) = sink.path_if_written() {
        eprintln!(
            "{name}: {} rejected lines written to {}",
            summary.rejected_total(),
            p.display()
        );
    }
    if let Some(d) = &summary.damage {
        eprintln!("{name}: input damaged: {d}; everything before it was parsed");
        status = status.max(EXIT_DAMAGED);
    }
    if let Some(s) = own {
        s.finish()?;
    }
    Ok(status)
}

/// `e` with `context`; a decompression refusal also names the flag that raises the limit.
fn refused(e: ParseError, context: &str) -> anyhow::Error {
    match super::decompress::hint(&e) {
        Some(hint) => anyhow::anyhow!("{context}: {e}; {hint}"),
        None => anyhow::Error::new(e).context(context.to_string()),
    }
}

/// `<input file name>.rejects` in the current directory.
fn default_rejects_path(path: &Path, stdin: bool) -> PathBuf {
    if stdin {
        return PathBuf::from("stdin.rejects");
    }
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into());
    PathBuf::from(format!("{base}.rejects"))
}

/// Rejects file, one JSON object per line; created on the first reject.
struct RejectSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    eager: bool,
}

impl RejectSink {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(RejectSink {
            path: path.to_path_buf(),
            out: Some(BufWriter::new(f)),
            eager: true,
        })
    }

    fn lazy(path: PathBuf) -> Self {
        RejectSink {
            path,
            out: None,
            eager: false,
        }
    }

    fn write(&mut self, source: &str, r: &Reject) -> io::Result<()> {
        if self.out.is_none() {
            self.out = Some(BufWriter::new(File::create(&self.path)?));
        }
        let obj = serde_json::json!({
            "source": source,
            "line": r.line,
            "reason": r.reason.as_str(),
            "detail": r.detail,
            "raw": r.raw,
        });
        let out = self.out.as_mut().expect("opened above");
        serde_json::to_writer(&mut *out, &obj)?;
        out.write_all(b"\n")
    }

    fn path_if_written(&self) -> Option<&Path> {
        (self.out.is_some() && !self.eager).then_some(self.path.as_path())
    }

    fn finish(self) -> anyhow::Result<()> {
        if let Some(mut o) = self.out {
            o.flush()
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        Ok(())
    }
}

fn micros_since_epoch(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}
