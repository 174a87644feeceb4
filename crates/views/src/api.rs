//! The viewer's JSON API as an axum [`Router`], mounted by the explorer and (issue 7) the
//! portal. Every route names a dataset; the [`ReadPolicy`] the host gives decides whether
//! the caller may read it, and a dataset they may not read is answered like one that does
//! not exist (404). Query parameters: `spec` (the view recipe, JSON; the host's default
//! when absent), `sel` (the selection, JSON), and per route `limit`, `theme`, `width`.
//!
//! Routes (under `/datasets/{dataset}`): `info`, `facets`, `timeline`, `parallel`, `graph`,
//! `graph/selection`, `graph.svg`, `rows`, `export.csv`, `chart.svg`, `chart.png`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::TryStreamExt;
use secviz_lake::{DatasetName, Lake};
use secviz_render::Theme;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::compute::{charts, facets, graph, parallel, rows, timeline};
use crate::error::ViewError;
use crate::selection::Selection;
use crate::source::{Limits, Source};
use crate::spec::ViewSpec;

/// Decides which datasets a request may read.
pub trait ReadPolicy: Clone + Send + Sync + 'static {
    fn may_read(&self, parts: &Parts, dataset: &DatasetName) -> impl Future<Output = bool> + Send;
}

/// Every dataset of the lake: the local explorer, where the user owns the lake.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl ReadPolicy for AllowAll {
    async fn may_read(&self, _: &Parts, _: &DatasetName) -> bool {
        true
    }
}

type GraphCell = Arc<OnceCell<Arc<graph::GraphData>>>;

/// Laid-out graphs by (dataset, version, filter, graph recipe): layout is the costly part,
/// and every selection reuses the same graph.
#[derive(Default)]
struct GraphCache {
    cells: HashMap<String, GraphCell>,
    order: VecDeque<String>,
}

const GRAPH_CACHE: usize = 4;

/// The router's state: the lake, the policy, query limits and the default recipe.
#[derive(Clone)]
pub struct ViewsState<P> {
    lake: Lake,
    policy: P,
    limits: Limits,
    default_spec: Arc<ViewSpec>,
    graphs: Arc<Mutex<GraphCache>>,
}

impl<P: ReadPolicy> ViewsState<P> {
    pub fn new(lake: Lake, policy: P, default_spec: ViewSpec) -> Self {
        ViewsState {
            lake,
            policy,
            limits: Limits::default(),
            default_spec: Arc::new(default_spec),
            graphs: Arc::default(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    spec: Option<String>,
    sel: Option<String>,
    limit: Option<usize>,
    theme: Option<String>,
    width: Option<f64>,
}

/// What every handler starts from.
struct Ctx {
    dataset: DatasetName,
    src: Source,
    spec: ViewSpec,
    sel: Selection,
}

async fn open<P: ReadPolicy>(
    st: &ViewsState<P>,
    parts: &Parts,
    dataset: &str,
    p: &Params,
) -> Result<Ctx, ViewError> {
    let dataset = DatasetName::parse(dataset).map_err(|_| ViewError::NotFound)?;
    if !st.policy.may_read(parts, &dataset).await {
        return Err(ViewError::NotFound);
    }
    let spec = match p.spec.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => ViewSpec::from_json(s)?,
        None => (*st.default_spec).clone(),
    };
    let sel = Selection::from_json(p.sel.as_deref().unwrap_or(""))?;
    sel.predicate()?;
    let src = Source::open(&st.lake, &dataset, spec.filter.as_deref(), st.limits).await?;
    Ok(Ctx {
        dataset,
        src,
        spec,
        sel,
    })
}

fn private_json<T: serde::Serialize>(v: &T) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn info<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let span = timeline::span(&c.src).await?;
    let (total, _) = facets::totals(&c.src, &Selection::default()).await?;
    Ok(private_json(&serde_json::json!({
        "dataset": c.dataset.as_str(),
        "rows": total,
        "version": c.src.manifest.version,
        "anonymized": c.src.manifest.anonymization.is_some(),
        "time_min": span.map(|s| s.0),
        "time_max": span.map(|s| s.1),
        "spec": c.spec,
    })))
}

async fn facets_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    Ok(private_json(
        &facets::facets(&c.src, &c.spec.fields, c.spec.top_k, &c.sel).await?,
    ))
}

async fn timeline_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    Ok(private_json(&timeline::timeline(&c.src, &c.sel).await?))
}

async fn parallel_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let (total, _) = facets::totals(&c.src, &Selection::default()).await?;
    Ok(private_json(
        &parallel::tuples(&c.src, &c.spec.fields, &c.sel, total).await?,
    ))
}

/// The cached graph of the context's recipe, built on first use.
async fn graph_of<P: ReadPolicy>(
    st: &ViewsState<P>,
    c: &Ctx,
) -> Result<(Arc<graph::GraphData>, crate::spec::GraphSpec), ViewError> {
    let g = c
        .spec
        .graph
        .clone()
        .ok_or_else(|| ViewError::BadRequest("this view has no graph".into()))?;
    let key = serde_json::to_string(&(
        c.dataset.as_str(),
        c.src.manifest.version,
        &c.spec.filter,
        &g,
    ))
    .map_err(|e| ViewError::Internal(e.to_string()))?;
    let cell = {
        let mut cache = st.graphs.lock().expect("graph cache lock");
        if !cache.cells.contains_key(&key) {
            if cache.order.len() >= GRAPH_CACHE
                && let Some(old) = cache.order.pop_front()
            {
                cache.cells.remove(&old);
            }
            cache.order.push_back(key.clone());
        }
        cache.cells.entry(key).or_default().clone()
    };
    let data = cell
        .get_or_try_init(|| async { graph::build(&c.src, &g).await.map(Arc::new) })
        .await?;
    Ok((data.clone(), g))
}

async fn graph_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let (data, _) = graph_of(&st, &c).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        data.json.clone(),
    )
        .into_response())
}

async fn graph_selection_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let (data, g) = graph_of(&st, &c).await?;
    let (nodes, truncated) = graph::selected_nodes(&c.src, &g, &data, &c.sel).await?;
    Ok(private_json(
        &serde_json::json!({ "nodes": nodes, "truncated": truncated }),
    ))
}

fn theme(p: &Params) -> Theme {
    if p.theme.as_deref() == Some("dark") {
        Theme::DARK
    } else {
        Theme::LIGHT
    }
}

/// SVG drawn by us from escaped text, still served sandboxed: it is never a document.
fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        svg,
    )
        .into_response()
}

async fn graph_svg_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let (data, _) = graph_of(&st, &c).await?;
    let style = secviz_render::GraphStyle {
        theme: theme(&p),
        max_side: 1600.0,
        ..Default::default()
    };
    Ok(svg_response(secviz_render::graph_svg(
        &data.graph,
        &data.positions,
        &style,
    )))
}

async fn chart_svg_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let width = p.width.unwrap_or(800.0).clamp(240.0, 2400.0);
    Ok(svg_response(
        charts::render(
            &c.src,
            c.dataset.as_str(),
            &c.spec,
            &c.sel,
            theme(&p),
            width,
        )
        .await?,
    ))
}

async fn chart_png_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let width = p.width.unwrap_or(800.0).clamp(240.0, 2400.0);
    let svg = charts::render(
        &c.src,
        c.dataset.as_str(),
        &c.spec,
        &c.sel,
        theme(&p),
        width,
    )
    .await?;
    let png = tokio::task::spawn_blocking(move || charts::png(&svg))
        .await
        .map_err(|e| ViewError::Internal(e.to_string()))??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        png,
    )
        .into_response())
}

async fn rows_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    Ok(private_json(
        &rows::rows(&c.src, &c.spec.fields, &c.sel, p.limit.unwrap_or(100)).await?,
    ))
}

async fn export_csv_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let c = open(&st, &parts, &ds, &p).await?;
    let stream = rows::csv_stream(&c.src, &c.sel)
        .await?
        .map_err(|e| std::io::Error::other(e.to_string()));
    // The dataset name is validated ([a-z0-9_-]), so it is safe in the header.
    let disposition = format!(
        "attachment; filename=\"{}-selection.csv\"",
        c.dataset.as_str()
    );
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| ViewError::Internal(e.to_string()))?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

/// The API routes, relative to where the host mounts them.
pub fn router<P: ReadPolicy>(state: ViewsState<P>) -> Router {
    Router::new()
        .route("/datasets/{dataset}/info", get(info::<P>))
        .route("/datasets/{dataset}/facets", get(facets_h::<P>))
        .route("/datasets/{dataset}/timeline", get(timeline_h::<P>))
        .route("/datasets/{dataset}/parallel", get(parallel_h::<P>))
        .route("/datasets/{dataset}/graph", get(graph_h::<P>))
        .route(
            "/datasets/{dataset}/graph/selection",
            get(graph_selection_h::<P>),
        )
        .route("/datasets/{dataset}/graph.svg", get(graph_svg_h::<P>))
        .route("/datasets/{dataset}/chart.svg", get(chart_svg_h::<P>))
        .route("/datasets/{dataset}/chart.png", get(chart_png_h::<P>))
        .route("/datasets/{dataset}/rows", get(rows_h::<P>))
        .route("/datasets/{dataset}/export.csv", get(export_csv_h::<P>))
        .with_state(state)
}
