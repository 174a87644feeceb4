//! `secviz graph`: AfterGlow's command line, with secviz's layout and outputs.
//!
//! ```text
//! secviz graph [-c RULES] [-i FILE] [-w FILE] [-t] [-p 0..3] [-o N] [-f N] [-g N]
//!              [-b N] [-l N] [-n] [-d] [-s] [-m SIZE] [-e LEN]
//!              [--to dot|svg|png|gdf|gexf|graphml|json] [--seed N] [--header]
//!              [--columns src_ip,dst_port,dst_ip [--format pf|...]] [--dark]
//!              [--dataset NAME --columns ... | --sql "SELECT ..."] [--data DIR]
//! ```
//!
//! Input is AfterGlow CSV (source,event,target or source,target) on stdin or `-i`; with
//! `--columns`, the input is any log `secviz parse` reads and the named event fields make
//! the row. Output goes to stdout or `-w`, DOT by default so `secviz graph -c r < x | neato`
//! works as with AfterGlow. Rows with too few fields are reported on stderr with their line
//! number (read = used + rejected). With `--dataset` (and `--columns`) or `--sql`, the rows
//! come from the lake instead: a read-only query whose result columns make the row, so the
//! rules can name them.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use secviz_graph::export::{write_dot, write_gdf, write_gexf, write_graphml, write_json};
use secviz_graph::layout::{LayoutOptions, layout};
use secviz_graph::rules::{Columns, RuleSet};
use secviz_graph::{BuildOptions, Graph, GraphBuilder, SplitMode};
use secviz_render::{GraphStyle, Theme, graph_svg, svg_to_png};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    Dot,
    Svg,
    Png,
    Gdf,
    Gexf,
    Graphml,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Rule file: AfterGlow property file and/or native rules (docs/rules.md).
    #[arg(short = 'c', long = "rules", value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Read from FILE instead of standard input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write to FILE instead of standard output.
    #[arg(short = 'w', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Two-node mode: rows are source,target.
    #[arg(short = 't')]
    two_node: bool,
    /// Event node split mode: 0 one per event, 1 per source+event, 2 per event+target, 3 per row.
    #[arg(short = 'p', value_name = "0..3", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    split: u8,
    /// Omit nodes seen N times or fewer.
    #[arg(short = 'o', value_name = "N", default_value_t = 0)]
    omit: u64,
    /// Omit sources with a fan-out of N or less.
    #[arg(short = 'f', value_name = "N", default_value_t = 0)]
    source_fanout: u64,
    /// Omit events with a fan-out of N or less.
    #[arg(short = 'g', value_name = "N", default_value_t = 0)]
    event_fanout: u64,
    /// Skip the first N lines.
    #[arg(short = 'b', value_name = "N", default_value_t = 0)]
    skip: u64,
    /// Read at most N lines (after skipping).
    #[arg(short = 'l', value_name = "N")]
    limit: Option<u64>,
    /// No node labels.
    #[arg(short = 'n')]
    no_labels: bool,
    /// Append occurrence counts to labels.
    #[arg(short = 'd')]
    count_labels: bool,
    /// Separate nodes for a value seen as source and as target.
    #[arg(short = 's')]
    split_source_target: bool,
    /// Maximum node size in inches.
    #[arg(short = 'm', value_name = "SIZE", default_value_t = 0.2)]
    max_node_size: f64,
    /// Edge length hint (DOT `len`).
    #[arg(short = 'e', value_name = "LEN", default_value_t = 1.5)]
    edge_len: f64,
    /// Accepted for AfterGlow compatibility (secviz writes no version stamp).
    #[arg(short = 'a', hide = true)]
    _no_stamp: bool,
    /// Above this many distinct edges, aggregate the graph automatically until it reads:
    /// common values stay, rare ones are grouped by network, service class or domain (the
    /// notes say how). 0 keeps every edge.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_EDGES)]
    max_edges: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = To::Dot)]
    to: To,
    /// Layout seed: the same seed gives the same picture.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Add layout positions to DOT output (other formats with positions always have them).
    #[arg(long)]
    layout: bool,
    /// The CSV's first line names its columns (rules may then use the names).
    #[arg(long)]
    header: bool,
    /// Read a log (any format `secviz parse` reads) and use these event fields as the row,
    /// e.g. `src_ip,dst_port,dst_ip`.
    #[arg(long, value_name = "FIELDS")]
    columns: Option<String>,
    /// Log format with --columns (default: detected).
    #[arg(long, value_name = "FORMAT", requires = "columns")]
    format: Option<String>,
    /// Read the rows from this lake dataset (with --columns, or with --sql to shape them).
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    dataset: Option<secviz_lake::DatasetName>,
    /// Read the rows from a read-only SQL query over the lake: each result column is a field
    /// (2 columns: source,target; 3 or more: source,event,target then extra fields for rules).
    #[arg(long, value_name = "SQL", conflicts_with_all = ["input", "columns"])]
    sql: Option<String>,
    #[command(flatten)]
    data: super::datasets::DataArg,
    /// Dark theme for SVG and PNG.
    #[arg(long)]
    dark: bool,
    /// PNG scale (pixels per SVG unit).
    #[arg(long, default_value_t = 1.0)]
    scale: f32,
    /// Print how long reading, layout and writing took (stderr), for benchmarks.
    #[arg(long, hide = true)]
    timings: bool,
}

/// `--max-edges`: about what lays out in half a minute here (1 M edges take 12 s), and far
/// more than a picture shows; beyond it, a graph is aggregated unless asked not to be.
const DEFAULT_MAX_EDGES: u64 = 2_000_000;

/// Rejected rows printed on stderr before only counting them.
const REJECTS_SHOWN: u64 = 20;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let progress = progress_bar();
    let started = Instant::now();
    let (graph, read) = match (&args.sql, &args.dataset, &args.columns) {
        (Some(sql), _, _) => build_from_lake(&args, sql.clone(), &progress)?,
        (None, Some(ds), Some(cols)) => {
            let fields = secviz_parse::FieldSelection::parse(cols).context("--columns")?;
            let list: Vec<String> = fields.names().iter().map(|n| format!("\"{n}\"")).collect();
            let sql = format!("SELECT {} FROM \"{ds}\"", list.join(", "));
            build_from_lake(&args, sql, &progress)?
        }
        (None, Some(_), None) => {
            bail!("--dataset needs --columns (e.g. src_ip,dst_port,dst_ip) or --sql")
        }
        (None, None, Some(cols)) => build_from_log(&args, cols, &progress)?,
        (None, None, None) => build_from_csv(&args, &progress)?,
    };
    progress.finish_and_clear();
    eprintln!(
        "secviz graph: {read} rows read, {} used, {} rejected, {} hidden; {} nodes, {} edges",
        read - graph.counts.rejected - graph.counts.hidden,
        graph.counts.rejected,
        graph.counts.hidden,
        graph.nodes.len(),
        graph.edges.len()
    );
    for note in &graph.notes {
        eprintln!("note: {note}");
    }
    if graph.counts.aggregated_from_edges.is_some() {
        eprintln!("note: --max-edges 0 draws every edge (the layout of a million takes seconds)");
    }
    if graph.nodes.is_empty() {
        bail!(
            "the graph is empty, nothing was written: {}",
            if read == 0 {
                "the input has no rows"
            } else if graph.counts.rejected == read {
                "every row was rejected (see the lines above; --columns says which fields to read)"
            } else {
                "the rules hid every row"
            }
        );
    }
    let built = started.elapsed();
    let bytes = render(&args, &graph, &progress)?;
    match &args.output {
        Some(p) => std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?,
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes).context("writing standard output")?;
            out.flush().context("writing standard output")?;
        }
    }
    if args.timings {
        eprintln!(
            "timings: build {:.3}s, layout+write {:.3}s, total {:.3}s",
            built.as_secs_f64(),
            (started.elapsed() - built).as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn progress_bar() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid progress template"),
    );
    pb
}

fn build_options(args: &Args) -> BuildOptions {
    BuildOptions {
        two_node: args.two_node,
        split: SplitMode::from_flag(args.split).expect("clap checks the range"),
        split_source_target: args.split_source_target,
        omit: args.omit,
        source_fanout: args.source_fanout,
        event_fanout: args.event_fanout,
        no_labels: args.no_labels,
        count_labels: args.count_labels,
        max_node_size: args.max_node_size,
        edge_len: args.edge_len,
        max_edges: (args.max_edges > 0).then_some(args.max_edges),
    }
}

fn read_rules(args: &Args, columns: &Columns) -> anyhow::Result<RuleSet> {
    let Some(path) = &args.rules else {
        return Ok(RuleSet::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading rules {}", path.display()))?;
    let rules = RuleSet::parse(&text, columns)
        .with_context(|| format!("in rule file {}", path.display()))?;
    for w in &rules.warnings {
        eprintln!("{}: {w}", path.display());
    }
    Ok(rules)
}

fn open_input(args: &Args) -> anyhow::Result<Box<dyn Read + Send>> {
    Ok(match &args.input {
        Some(p) => Box::new(File::open(p).with_context(|| format!("opening {}", p.display()))?),
        None => Box::new(io::stdin()),
    })
}

/// Feeds one row to the builder, reporting a rejected row with its line number.
fn push_row(b: &mut GraphBuilder, fields: &[&str], line: u64) {
    if let Err(reason) = b.push(fields) {
        if b.rejected_count() <= REJECTS_SHOWN {
            eprintln!("line {line}: rejected: {reason}");
        } else if b.rejected_count() == REJECTS_SHOWN + 1 {
            eprintln!("(further rejected lines are only counted)");
        }
    }
}

fn build_from_csv(args: &Args, pb: &ProgressBar) -> anyhow::Result<(Graph, u64)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, open_input(args)?));
    let mut record = csv::ByteRecord::new();
    let mut line = 0u64;
    let mut builder: Option<GraphBuilder> = None;
    let mut names: Option<Vec<String>> = None;
    let mut read = 0u64;
    loop {
        let more = rdr
            .read_byte_record(&mut record)
            .with_context(|| format!("reading CSV at line {}", line + 1))?;
        if !more {
            break;
        }
        line = record.position().map_or(line + 1, |p| p.line());
        if line <= args.skip {
            continue;
        }
        if args.header && names.is_none() {
            names = Some(
                record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            );
            continue;
        }
        if args.limit.is_some_and(|l| read >= l) {
            break;
        }
        read += 1;
        // Borrowed from the record unless a field is not UTF-8.
        let fields: Vec<std::borrow::Cow<'_, str>> =
            record.iter().map(String::from_utf8_lossy).collect();
        let b = match &mut builder {
            Some(b) => b,
            None => {
                // The first row decides two-node mode (AfterGlow does the same).
                let two = args.two_node || fields.len() == 2;
                let columns = match &names {
                    Some(n) => Columns::new(n.clone(), two),
                    None => Columns::positional(two),
                };
                let mut opts = build_options(args);
                opts.two_node = two;
                builder.insert(GraphBuilder::new(read_rules(args, &columns)?, opts))
            }
        };
        let refs: Vec<&str> = fields.iter().map(|f| &**f).collect();
        push_row(b, &refs, line);
        if read.is_multiple_of(65_536) {
            pb.set_message(format!("{read} rows, {} nodes", b.node_count()));
            pb.tick();
        }
    }
    let builder = match builder {
        Some(b) => b,
        None => {
            let columns = Columns::positional(args.two_node);
            GraphBuilder::new(read_rules(args, &columns)?, build_options(args))
        }
    };
    pb.set_message("applying rules");
    Ok((builder.finish(), read))
}

fn build_from_log(args: &Args, cols: &str, pb: &ProgressBar) -> anyhow::Result<(Graph, u64)> {
    use secviz_parse::{EventStream, FieldSelection, Format, ParseOptions};
    let selection = FieldSelection::parse(cols).context("--columns")?;
    let two = args.two_node || selection.len() == 2;
    if selection.len() < 2 {
        bail!("--columns needs at least two fields (source,target or source,event,target)");
    }
    let mut opts = ParseOptions::default();
    if let Some(f) = &args.format {
        opts.format = Some(
            f.parse::<Format>()
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?,
        );
    }
    let mut stream = EventStream::open(open_input(args)?, opts).context("opening the log")?;
    let columns = Columns::new(selection.names().to_vec(), two);
    let mut bopts = build_options(args);
    bopts.two_node = two;
    let mut builder = GraphBuilder::new(read_rules(args, &columns)?, bopts);
    let mut read = 0u64;
    let mut cells: Vec<String> = vec![String::new(); selection.len()];
    let mut parse_rejects = 0u64;
    'batches: while let Some(batch) = stream
        .next_batch(&mut |reject| {
            parse_rejects += 1;
            if parse_rejects <= REJECTS_SHOWN {
                eprintln!("{reject}");
            }
        })
        .context("parsing the log")?
    {
        let view = selection.view(&batch);
        for row in 0..view.num_rows() {
            read += 1;
            if read <= args.skip {
                continue;
            }
            if args.limit.is_some_and(|l| read - args.skip > l) {
                break 'batches;
            }
            for (k, cell) in cells.iter_mut().enumerate() {
                cell.clear();
                view.cell(row, k, cell);
            }
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            push_row(&mut builder, &refs, read);
        }
        pb.set_message(format!("{read} events, {} nodes", builder.node_count()));
        pb.tick();
    }
    eprintln!("{}", stream.summary());
    let used = read.saturating_sub(args.skip);
    Ok((builder.finish(), used))
}

/// Rows from a lake query: the result's columns, formatted as text (null as empty), feed the
/// builder like CSV fields, so a lake graph and a CSV graph of the same rows are the same.
fn build_from_lake(args: &Args, sql: String, pb: &ProgressBar) -> anyhow::Result<(Graph, u64)> {
    use futures::StreamExt;
    use secviz_lake::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    use secviz_lake::query::{Access, QueryLimits, QueryOptions};
    let lake = args.data.open()?;
    let opts = QueryOptions {
        access: Access::All,
        limits: QueryLimits::unlimited(),
        allow_explain: false,
    };
    let rt = super::datasets::runtime()?;
    rt.block_on(async {
        let mut stream = match lake.query_stream(&sql, &opts).await {
            Ok(s) => s,
            Err(e) => {
                let caret = e.caret(&sql).map(|c| format!("\n{c}")).unwrap_or_default();
                bail!("query failed: {e}{caret}");
            }
        };
        let schema = stream.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if names.len() < 2 {
            bail!("the query must give at least two columns (source,target or source,event,target), it gave {}", names.len());
        }
        let two = args.two_node || names.len() == 2;
        let columns = Columns::new(names.clone(), two);
        let mut bopts = build_options(args);
        bopts.two_node = two;
        let mut builder = GraphBuilder::new(read_rules(args, &columns)?, bopts);
        let fmt = FormatOptions::default().with_null("");
        let mut read = 0u64;
        let mut cells: Vec<String> = vec![String::new(); names.len()];
        'batches: while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| anyhow::anyhow!("query failed: {e}"))?;
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &fmt))
                .collect::<Result<Vec<_>, _>>()
                .context("formatting the query result")?;
            for row in 0..batch.num_rows() {
                read += 1;
                if read <= args.skip {
                    continue;
                }
                if args.limit.is_some_and(|l| read - args.skip > l) {
                    break 'batches;
                }
                for (cell, f) in cells.iter_mut().zip(&formatters) {
                    cell.clear();
                    use std::fmt::Write as _;
                    let _ = write!(cell, "{}", f.value(row));
                }
                let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
                push_row(&mut builder, &refs, read);
            }
            pb.set_message(format!("{read} rows, {} nodes", builder.node_count()));
            pb.tick();
        }
        pb.set_message("applying rules");
        Ok((builder.finish(), read.saturating_sub(args.skip)))
    })
}

fn render(args: &Args, graph: &Graph, pb: &ProgressBar) -> anyhow::Result<Vec<u8>> {
    let needs_layout = !matches!(args.to, To::Dot) || args.layout;
    let positions = if needs_layout {
        pb.set_message(format!("laying out {} nodes", graph.nodes.len()));
        let opts = LayoutOptions {
            seed: args.seed,
            ..LayoutOptions::default()
        };
        let t = Instant::now();
        let pos = layout(graph, &opts);
        if args.timings {
            eprintln!("timings: layout {:.3}s", t.elapsed().as_secs_f64());
        }
        Some(pos)
    } else {
        None
    };
    let pos = positions.as_deref();
    let mut out = Vec::new();
    let style = GraphStyle {
        theme: if args.dark { Theme::DARK } else { Theme::LIGHT },
        labels: !args.no_labels,
        ..GraphStyle::default()
    };
    match args.to {
        To::Dot => write_dot(graph, pos, &mut out)?,
        To::Gdf => write_gdf(graph, pos, &mut out)?,
        To::Gexf => write_gexf(graph, pos, &mut out)?,
        To::Graphml => write_graphml(graph, pos, &mut out)?,
        To::Json => write_json(graph, pos, &mut out)?,
        To::Svg => out = graph_svg(graph, pos.unwrap_or(&[]), &style).into_bytes(),
        To::Png => {
            pb.set_message("rasterising");
            let svg = graph_svg(graph, pos.unwrap_or(&[]), &style);
            out = svg_to_png(&svg, args.scale).context("rendering PNG")?;
        }
    }
    Ok(out)
}
