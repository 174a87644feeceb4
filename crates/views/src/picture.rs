//! A recipe becomes a picture here, and only here. The post's picture (the viewer's
//! server-drawn `graph.svg` and charts), its gallery thumbnails, `secviz chart --spec` and
//! therefore the post's reproduce command all call [`draw`] (or [`graph_picture`] over a
//! graph already built), so the same recipe over the same events gives the same bytes
//! wherever it is drawn.

use secviz_lake::{DatasetName, Lake};
use secviz_render::{GraphStyle, Theme};

use crate::compute::{self, charts, graph};
use crate::error::ViewError;
use crate::selection::Selection;
use crate::source::{Limits, Source};
use crate::spec::{ViewKind, ViewSpec};

/// Width of a chart picture (`secviz chart`'s default).
pub const CHART_WIDTH: f64 = 800.0;
/// Largest side of a graph picture: larger layouts are scaled down to it.
pub const GRAPH_MAX_SIDE: f64 = 1600.0;

/// How a picture is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    pub theme: Theme,
    /// Width of charts.
    pub width: f64,
    /// A gallery thumbnail: graphs without legend, labelled only at hubs and groups.
    pub thumbnail: bool,
}

impl Look {
    /// The post's picture.
    pub fn picture(theme: Theme) -> Look {
        Look {
            theme,
            width: CHART_WIDTH,
            thumbnail: false,
        }
    }

    /// A gallery thumbnail.
    pub fn thumbnail(theme: Theme) -> Look {
        Look {
            thumbnail: true,
            ..Look::picture(theme)
        }
    }
}

/// Whether the recipe's picture is its link graph (graph and linked views with a graph).
pub fn is_graph(spec: &ViewSpec) -> bool {
    spec.graph.is_some() && matches!(spec.kind, ViewKind::Graph | ViewKind::Linked)
}

/// The SVG of a built, laid-out graph in `look`.
pub fn graph_picture(data: &graph::GraphData, look: &Look) -> String {
    let style = GraphStyle {
        theme: look.theme,
        max_side: GRAPH_MAX_SIDE,
        legend: !look.thumbnail,
        hub_labels_only: look.thumbnail,
        ..GraphStyle::default()
    };
    secviz_render::graph_svg(&data.graph, &data.positions, &style)
}

/// Draws the picture of `spec` over `dataset` once per look (a graph is built and laid
/// out once for all of them). A graph with no node is an error that says why, never an
/// empty picture. Member work in the portal: call it in a job of the query executor.
pub async fn draw(
    lake: &Lake,
    dataset: &DatasetName,
    spec: &ViewSpec,
    limits: Limits,
    looks: &[Look],
) -> Result<Vec<String>, ViewError> {
    let src = Source::open(lake, dataset, spec.filter.as_deref(), limits).await?;
    match (&spec.graph, is_graph(spec)) {
        (Some(g), true) => {
            let data = graph::build(&src, g).await?;
            if data.graph.nodes.is_empty() {
                return Err(ViewError::BadRequest(
                    graph::why_empty(&src, g, &data).await?,
                ));
            }
            Ok(looks.iter().map(|l| graph_picture(&data, l)).collect())
        }
        _ => {
            if let Some(why) = why_no_chart(&src, spec).await? {
                return Err(ViewError::BadRequest(why));
            }
            let mut out = Vec::with_capacity(looks.len());
            for l in looks {
                out.push(
                    charts::render(
                        &src,
                        dataset.as_str(),
                        spec,
                        &Selection::default(),
                        l.theme,
                        l.width,
                    )
                    .await?,
                );
            }
            Ok(out)
        }
    }
}

/// Why a chart of `spec` would show nothing, and what to change: no event passes the
/// filter, or none has a value for any of its fields. A chart with some values draws.
async fn why_no_chart(src: &Source, spec: &ViewSpec) -> Result<Option<String>, ViewError> {
    let (events, counts) = compute::value_counts(src, &spec.fields).await?;
    if events == 0 {
        return Ok(Some(
            "No event passes the filter: loosen it or clear it to draw the chart.".to_string(),
        ));
    }
    if !counts.is_empty() && counts.iter().all(|n| *n == 0) {
        let names: Vec<String> = spec.fields.iter().map(|f| f.to_string()).collect();
        return Ok(Some(format!(
            "None of the {events} events has a value for {}: choose fields this data holds (its columns are listed with the form), or a preset.",
            names.join(" or ")
        )));
    }
    Ok(None)
}
