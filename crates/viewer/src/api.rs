//! The viewer's JSON API as an axum [`Router`], mounted by the explorer and (issue 7) the
//! portal. Every route names a dataset; the [`ReadPolicy`] the host gives decides whether
//! the caller may read it, and a dataset they may not read is answered like one that does
//! not exist (404). Query parameters: `spec` (the view recipe, JSON; the host's default
//! when absent), `sel` (the selection, JSON), and per route `limit`, `theme`, `width`.
//!
//! Routes (under `/datasets/{dataset}`): `info`, `facets`, `timeline`, `parallel`, `graph`,
//! `graph/selection`, `graph.svg`, `rows`, `export.csv`, `chart.svg`, `chart.png`.
//!
//! Every route's work (parsing the recipe, planning the member's filter, querying, laying
//! out, drawing) runs as a job on the host's [`Executor`], admitted per client
//! ([`ReadPolicy::client`]); the handler itself only asks the policy and forwards the
//! answer. A CSV export streams from its job with a time and a byte limit.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use futures::StreamExt;
use secviz_lake::query::Limit;
use secviz_lake::{DatasetName, Lake};
use secviz_render::Theme;
use secviz_sandbox::{Executor, JobLimits, StreamError};
use serde::Deserialize;
use tokio::sync::OnceCell;

use secviz_views::ViewError;
use secviz_views::compute::{charts, facets, graph, parallel, rows, timeline};
use secviz_views::selection::Selection;
use secviz_views::source::{Limits, Source};
use secviz_views::spec::ViewSpec;

/// Decides which datasets a request may read, and who is asking.
pub trait ReadPolicy: Clone + Send + Sync + 'static {
    fn may_read(&self, parts: &Parts, dataset: &DatasetName) -> impl Future<Output = bool> + Send;

    /// Whose request this is, for the executor's admission (one client's requests in
    /// flight are capped): an address, an account. The local explorer has one user.
    fn client(&self, _parts: &Parts) -> String {
        "local".to_string()
    }
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

/// Limits of a CSV export of a selection.
#[derive(Clone, Copy, Debug)]
pub struct ExportLimits {
    /// Wall time of the whole export, including waiting for a slow reader.
    pub time: Duration,
    /// Bytes sent at most; past them the export is cut (and the transfer ends in error,
    /// so a client never mistakes it for the whole).
    pub bytes: u64,
}

impl Default for ExportLimits {
    fn default() -> Self {
        ExportLimits {
            time: Duration::from_secs(120),
            bytes: 256 << 20,
        }
    }
}

/// The router's state: the lake, the policy, where and under which limits the work runs,
/// and the default recipe.
#[derive(Clone)]
pub struct ViewsState<P> {
    lake: Lake,
    policy: P,
    executor: Executor,
    limits: Limits,
    export: ExportLimits,
    default_spec: Arc<ViewSpec>,
    graphs: Arc<Mutex<GraphCache>>,
}

impl<P: ReadPolicy> ViewsState<P> {
    /// Every request's work runs on `executor`, under [`Limits::member`] until told
    /// otherwise.
    pub fn new(lake: Lake, policy: P, default_spec: ViewSpec, executor: Executor) -> Self {
        ViewsState {
            lake,
            policy,
            executor,
            limits: Limits::member(),
            export: ExportLimits::default(),
            default_spec: Arc::new(default_spec),
            graphs: Arc::default(),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_export_limits(mut self, export: ExportLimits) -> Self {
        self.export = export;
        self
    }

    fn job_limits(&self) -> JobLimits {
        JobLimits {
            time: self.limits.time,
            memory: self.limits.memory,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Params {
    spec: Option<String>,
    sel: Option<String>,
    limit: Option<usize>,
    theme: Option<String>,
    width: Option<f64>,
}

/// What every computation starts from.
struct Ctx {
    dataset: DatasetName,
    src: Source,
    spec: ViewSpec,
    sel: Selection,
}

/// The dataset of a request, if the caller may read it (a 404 otherwise, saying nothing).
async fn readable<P: ReadPolicy>(
    st: &ViewsState<P>,
    parts: &Parts,
    dataset: &str,
) -> Result<DatasetName, ViewError> {
    let dataset = DatasetName::parse(dataset).map_err(|_| ViewError::NotFound)?;
    if !st.policy.may_read(parts, &dataset).await {
        return Err(ViewError::NotFound);
    }
    Ok(dataset)
}

/// Parses the recipe and selection and opens the source: on the executor's thread, since
/// planning the member's filter is member work.
async fn open<P: ReadPolicy>(
    st: &ViewsState<P>,
    dataset: DatasetName,
    p: &Params,
) -> Result<Ctx, ViewError> {
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

/// Runs `work` for this request on the executor: the policy is asked first (here), then
/// the request is admitted for its client, and everything else happens in the job.
async fn in_job<P, T, F, Fut>(
    st: &ViewsState<P>,
    parts: &Parts,
    dataset: &str,
    p: Params,
    work: F,
) -> Result<T, ViewError>
where
    P: ReadPolicy,
    F: FnOnce(ViewsState<P>, Ctx, Params) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, ViewError>> + 'static,
    T: Send + 'static,
{
    let dataset = readable(st, parts, dataset).await?;
    let admission = st
        .executor
        .admit(&st.policy.client(parts))
        .map_err(ViewError::Busy)?;
    let job = st.clone();
    st.executor
        .run(admission, st.job_limits(), move || async move {
            let c = open(&job, dataset, &p).await?;
            work(job, c, p).await
        })
        .await?
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
    in_job(&st, &parts, &ds, p, |_, c, _| async move {
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
    })
    .await
}

async fn facets_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, _| async move {
        Ok(private_json(
            &facets::facets(&c.src, &c.spec.fields, c.spec.top_k, &c.sel).await?,
        ))
    })
    .await
}

async fn timeline_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, _| async move {
        Ok(private_json(&timeline::timeline(&c.src, &c.sel).await?))
    })
    .await
}

async fn parallel_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, _| async move {
        let (total, _) = facets::totals(&c.src, &Selection::default()).await?;
        Ok(private_json(
            &parallel::tuples(&c.src, &c.spec.fields, &c.sel, total).await?,
        ))
    })
    .await
}

/// The cached graph of the context's recipe, built on first use.
async fn graph_of<P: ReadPolicy>(
    st: &ViewsState<P>,
    c: &Ctx,
) -> Result<(Arc<graph::GraphData>, secviz_views::spec::GraphSpec), ViewError> {
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
    in_job(&st, &parts, &ds, p, |st, c, _| async move {
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
    })
    .await
}

async fn graph_selection_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |st, c, _| async move {
        let (data, g) = graph_of(&st, &c).await?;
        let (nodes, truncated) = graph::selected_nodes(&c.src, &g, &data, &c.sel).await?;
        Ok(private_json(
            &serde_json::json!({ "nodes": nodes, "truncated": truncated }),
        ))
    })
    .await
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
    in_job(&st, &parts, &ds, p, |st, c, p| async move {
        let (data, _) = graph_of(&st, &c).await?;
        Ok(svg_response(secviz_views::picture::graph_picture(
            &data,
            &secviz_views::picture::Look::picture(theme(&p)),
        )))
    })
    .await
}

async fn chart_svg_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, p| async move {
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
    })
    .await
}

async fn chart_png_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, p| async move {
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
        // On this job's thread: rasterising is member work too.
        let png = charts::png(&svg)?;
        Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            png,
        )
            .into_response())
    })
    .await
}

async fn rows_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    in_job(&st, &parts, &ds, p, |_, c, p| async move {
        Ok(private_json(
            &rows::rows(&c.src, &c.spec.fields, &c.sel, p.limit.unwrap_or(100)).await?,
        ))
    })
    .await
}

/// The selection as CSV, streamed from the job as it is made: at most
/// [`ExportLimits::bytes`], within [`ExportLimits::time`].
async fn export_csv_h<P: ReadPolicy>(
    State(st): State<ViewsState<P>>,
    parts: Parts,
    Path(ds): Path<String>,
    Query(p): Query<Params>,
) -> Result<Response, ViewError> {
    let dataset = readable(&st, &parts, &ds).await?;
    let admission = st
        .executor
        .admit(&st.policy.client(&parts))
        .map_err(ViewError::Busy)?;
    let limits = JobLimits {
        time: st.export.time,
        memory: st.limits.memory,
    };
    let cap = st.export.bytes;
    let job = st.clone();
    // The dataset name is validated ([a-z0-9_-]), so it is safe in the header.
    let disposition = format!(
        "attachment; filename=\"{}-selection.csv\"",
        dataset.as_str()
    );
    let mut pieces = st
        .executor
        .stream(admission, limits, move |sink| async move {
            let c = open(&job, dataset, &p).await?;
            let mut csv = std::pin::pin!(rows::csv_stream(&c.src, &c.sel).await?);
            let mut sent = 0u64;
            while let Some(chunk) = csv.next().await {
                let chunk: Bytes = chunk?;
                sent += chunk.len() as u64;
                if sent > cap {
                    return Err(ViewError::Limit {
                        limit: Limit::AnswerBytes,
                        message: format!(
                            "the export is larger than {}: narrow the selection",
                            secviz_sandbox::budget::bytes(cap)
                        ),
                    });
                }
                let n = chunk.len();
                sink.send(chunk, n)
                    .await
                    .map_err(|_| ViewError::Cancelled)?;
            }
            Ok(())
        });
    // The first piece (the header line) or the error decides the status.
    let first = match pieces.next().await {
        Some(Ok(first)) => first,
        Some(Err(e)) => return Err(stream_error(e)),
        None => Bytes::new(),
    };
    let rest = pieces.map(|r| {
        r.map_err(|e| {
            let e = stream_error(e);
            tracing::info!(error = %e, "a CSV export ended early");
            std::io::Error::other(e.to_string())
        })
    });
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
    let mut r = Body::from_stream(body).into_response();
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

fn stream_error(e: StreamError<ViewError>) -> ViewError {
    match e {
        StreamError::Job(e) => e,
        StreamError::Run(e) => e.into(),
        StreamError::Incomplete => ViewError::Internal("a CSV export ended without a word".into()),
    }
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
