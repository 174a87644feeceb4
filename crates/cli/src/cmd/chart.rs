//! `secviz chart`: draw a chart of a dataset, or of log files parsed on the fly, as SVG or
//! PNG; with `--spec` a post's recipe, its link graph included. Drawn by the function the
//! portal draws posts with (`secviz_views::picture::draw`): the same recipe over the same
//! data gives the same bytes.
//!
//! Files are parsed into a temporary lake first (with a progress bar on a terminal), so a
//! chart of a file and of the dataset ingested from it are the same picture.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secviz_lake::{DatasetName, IngestOptions, IngestSource, Lake};
use secviz_render::Theme;
use secviz_views::compute::charts;
use secviz_views::{Field, Limits, ViewKind, ViewSpec, picture};

use super::datasets::{DataArg, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// Log files to chart (parsed into a temporary dataset); or use --dataset.
    pub files: Vec<PathBuf>,
    /// Chart this dataset of the lake.
    #[arg(long, short = 'd', conflicts_with = "files")]
    pub dataset: Option<DatasetName>,
    /// bar, timeline, histogram, parallel, treemap, heatmap or scatter.
    #[arg(long = "type", short = 't', default_value = "bar")]
    pub kind: String,
    /// The field of a bar chart or histogram (`dst_port`, `src_ip/24`, `bytes`).
    #[arg(long)]
    pub field: Option<String>,
    /// Fields of parallel coordinates (2 to 6), treemap (group,leaf), heatmap (x,y), scatter (x,y).
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Only records matching this SQL expression (`action = 'block'`).
    #[arg(long, value_name = "SQL")]
    pub filter: Option<String>,
    /// Bars, groups or cells shown before the rest is folded into "other".
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Stack the time line / colour scatter points by this field.
    #[arg(long)]
    pub series: Option<String>,
    /// Size treemap and heatmap cells by the sum of this amount (default: count records).
    #[arg(long)]
    pub size: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    /// light or dark.
    #[arg(long, default_value = "light")]
    pub theme: String,
    #[arg(long, default_value_t = 800.0)]
    pub width: f64,
    /// Output format: svg or png.
    #[arg(long, default_value = "svg")]
    pub to: String,
    /// Write to this file instead of standard output.
    #[arg(long = "write", short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Read the recipe (a view spec, JSON) from this file; other flags are ignored.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArg,
}

fn field(s: &str) -> anyhow::Result<Field> {
    Ok(Field::parse(s)?)
}

/// The recipe from the flags.
fn spec_of(a: &Args) -> anyhow::Result<ViewSpec> {
    if let Some(p) = &a.spec {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        return Ok(ViewSpec::from_json(&text)?);
    }
    let kind = ViewKind::parse(&a.kind)?;
    let mut fields: Vec<Field> = a
        .fields
        .iter()
        .map(|f| field(f))
        .collect::<anyhow::Result<_>>()?;
    if let Some(f) = &a.field {
        fields.insert(0, field(f)?);
    }
    if fields.is_empty() && matches!(kind, ViewKind::Bar) {
        bail!("a bar chart needs --field (for example --field dst_port)");
    }
    let spec = ViewSpec {
        kind,
        fields,
        filter: a.filter.clone(),
        top_k: a.top,
        series: a.series.as_deref().map(field).transpose()?,
        size: a.size.as_deref().map(field).transpose()?,
        title: a.title.clone(),
        graph: None,
        dataset: a.dataset.as_ref().map(|d| d.to_string()),
        ..ViewSpec::linked_default()
    };
    spec.validate()?;
    Ok(spec)
}

/// Parses `files` into dataset `chart` of a temporary lake, with a progress bar.
async fn temp_lake(
    files: &[PathBuf],
    dir: &std::path::Path,
) -> anyhow::Result<(Lake, DatasetName)> {
    let lake = Lake::open(dir.to_str().context("temporary directory path")?)?;
    let name = DatasetName::parse("chart")?;
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} parsing {msg} {binary_bytes} ({binary_bytes_per_sec})",
        )
        .expect("template"),
    );
    let progress_bar = bar.clone();
    let rejected = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = rejected.clone();
    let sources = files.iter().map(IngestSource::path).collect();
    let report = lake
        .ingest(
            &name,
            sources,
            IngestOptions::default(),
            Box::new(move |p| {
                progress_bar.set_message(p.source_name.clone());
                progress_bar.set_position(p.bytes_read);
            }),
            Box::new(move |_, _| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }),
        )
        .await
        .context("parsing the files")?;
    bar.finish_and_clear();
    let rejected = rejected.load(std::sync::atomic::Ordering::Relaxed);
    if rejected > 0 {
        eprintln!(
            "{} records parsed, {rejected} lines rejected (see `secviz parse` for the reasons)",
            report.rows
        );
    }
    Ok((lake, name))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = spec_of(&a)?;
    let theme = match a.theme.as_str() {
        "light" => Theme::LIGHT,
        "dark" => Theme::DARK,
        other => bail!("unknown theme {other:?}: use light or dark"),
    };
    let png = match a.to.as_str() {
        "svg" => false,
        "png" => true,
        other => bail!("unknown output format {other:?}: use svg or png"),
    };
    if png && a.write.is_none() && std::io::stdout().is_terminal() {
        bail!("PNG is binary: redirect standard output or use -w FILE");
    }
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let rt = runtime()?;
    let svg = rt.block_on(async {
        let (lake, name) = match (&a.dataset, a.files.is_empty()) {
            (Some(d), _) => {
                let lake = a.data.open()?;
                // Named here: the views' own "not found" does not say what was missing.
                lake.require(d)
                    .await
                    .with_context(|| format!("opening dataset {d}"))?;
                (lake, d.clone())
            }
            (None, false) => temp_lake(&a.files, tmp.path()).await?,
            (None, true) => bail!("give log files to chart, or --dataset NAME"),
        };
        // The one function the portal draws a post's picture with: a recipe with a link
        // graph gives the graph, any other its chart.
        let look = picture::Look {
            theme,
            width: a.width,
            thumbnail: false,
        };
        let mut drawn = picture::draw(&lake, &name, &spec, Limits::operator(), &[look]).await?;
        anyhow::Ok(drawn.pop().unwrap_or_default())
    })?;
    let bytes = if png {
        charts::png(&svg)?
    } else {
        svg.into_bytes()
    };
    match &a.write {
        Some(p) => std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?,
        None => std::io::stdout()
            .lock()
            .write_all(&bytes)
            .context("writing the chart")?,
    }
    Ok(ExitCode::SUCCESS)
}
