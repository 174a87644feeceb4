//! `secviz view --dataset D`: the interactive viewer over a dataset of the lake, served on
//! this machine for exploring from the command line (linked graph, bars, time line,
//! parallel coordinates; brushing; CSV export). It listens on 127.0.0.1 unless told
//! otherwise, and prints the URL.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use secviz_lake::DatasetName;
use secviz_views::{Field, GraphSpec, ViewSpec};

use super::datasets::{DataArg, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// The dataset to explore.
    #[arg(long, short = 'd')]
    pub dataset: DatasetName,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: SocketAddr,
    /// Fields of the bar charts and parallel axes.
    #[arg(long, value_delimiter = ',', default_value = "src_ip,dst_port,dst_ip")]
    pub fields: Vec<String>,
    /// The graph's node fields: source,target or source,event,target; `none` for no graph.
    #[arg(long, default_value = "src_ip,dst_port,dst_ip")]
    pub graph: String,
    /// A rule file for the graph (colours, sizes, clusters, top-k; docs/rules.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Only records matching this SQL expression.
    #[arg(long, value_name = "SQL")]
    pub filter: Option<String>,
    /// Layout seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Open the viewer with these events selected (the selection as JSON, as
    /// `secviz analyze --links` prints it for each finding).
    #[arg(long, value_name = "JSON")]
    pub sel: Option<String>,
    /// Read the whole recipe (a view spec, JSON) from this file instead.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArg,
}

fn spec_of(a: &Args) -> anyhow::Result<ViewSpec> {
    if let Some(p) = &a.spec {
        return Ok(ViewSpec::from_json(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?);
    }
    let fields = a
        .fields
        .iter()
        .map(|f| Field::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let graph = if a.graph == "none" {
        None
    } else {
        let g = a
            .graph
            .split(',')
            .map(Field::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let rules = match &a.rules {
            Some(p) => {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
            }
            None => String::new(),
        };
        match g.as_slice() {
            [s, t] => Some(GraphSpec {
                source: *s,
                event: None,
                target: *t,
                rules,
                seed: a.seed,
            }),
            [s, e, t] => Some(GraphSpec {
                source: *s,
                event: Some(*e),
                target: *t,
                rules,
                seed: a.seed,
            }),
            _ => anyhow::bail!("--graph takes source,target or source,event,target"),
        }
    };
    let spec = ViewSpec {
        fields,
        graph,
        filter: a.filter.clone(),
        dataset: Some(a.dataset.to_string()),
        ..ViewSpec::linked_default()
    };
    spec.validate()?;
    Ok(spec)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let spec = spec_of(&a)?;
    // Checked here, so a bad selection fails now and not in the browser.
    let query = match &a.sel {
        Some(s) => {
            let sel = secviz_views::Selection::from_json(s)?;
            let json = serde_json::to_string(&sel)?;
            let mut q = String::from("?sel=");
            q.extend(url_encode(&json));
            q
        }
        None => String::new(),
    };
    let lake = a.data.open()?;
    let rt = runtime()?;
    rt.block_on(async {
        lake.require(&a.dataset)
            .await
            .with_context(|| format!("opening dataset {}", a.dataset))?;
        let executor = secviz_sandbox::Executor::new(secviz_sandbox::ExecutorConfig::for_machine(
            "secviz-view",
        ));
        let app = secviz_viewer::page::explorer(lake, a.dataset.clone(), spec, executor);
        let listener = tokio::net::TcpListener::bind(a.addr)
            .await
            .with_context(|| format!("listening on {}", a.addr))?;
        let addr = listener.local_addr()?;
        // The URL on standard output (scripts and tests read it); Ctrl-C stops.
        println!("http://{addr}/{query}");
        eprintln!("exploring dataset {} — press Ctrl-C to stop", a.dataset);
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving the viewer")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn url_encode(s: &str) -> impl Iterator<Item = String> + '_ {
    s.bytes().map(|b| match b {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
            (b as char).to_string()
        }
        b => format!("%{b:02X}"),
    })
}
