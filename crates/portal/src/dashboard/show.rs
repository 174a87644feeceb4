//! What the dashboard routes answer, for a member (`/dash/{id}`) and for a share link
//! (`/s/{token}`) alike: the handlers decide who may see which dashboard, these functions
//! show it under the links' `base`.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secviz_views::Selection;
use secviz_views::dashboard::{Computed, DashboardSpec, drill};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Shown;
use super::pages::{Board, EventsPage, PanelFragment};
use super::panels::{self, PanelView};
use crate::data::ids::DatasetId;
use crate::db::dashboards::DashboardRow;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, html_headers};

/// Milliseconds until the dashboard's next computation, on every refresh answer.
const NEXT_HEADER: header::HeaderName = header::HeaderName::from_static("x-secviz-next-ms");

/// Dashboards one big screen rotates through at most.
pub const MAX_ROTATION: usize = 8;

/// A dashboard row with its spec read.
pub struct Loaded {
    pub row: DashboardRow,
    pub spec: DashboardSpec,
}

impl Loaded {
    /// Reads the stored spec (written only after [`DashboardSpec::check`] passed).
    pub fn new(row: DashboardRow) -> Result<Loaded, AppError> {
        let spec = DashboardSpec::from_json(&row.spec).map_err(|e| {
            AppError::Internal(anyhow::anyhow!(
                "stored dashboard {} unreadable: {e}",
                row.id
            ))
        })?;
        Ok(Loaded { row, spec })
    }
}

/// The current computation of a dashboard and its panels under `base`.
pub struct Current {
    pub shown: Arc<Shown>,
    pub panels: Vec<PanelView>,
    /// Each panel's HTML, as the refresh sends it.
    pub html: Vec<String>,
    pub frame_line: String,
    /// Of what `base`'s viewers see: the same panels, the same ETag (a 304), whatever
    /// computation they came from.
    pub etag: String,
}

/// `base` is where the links start; `drill`: whether rows link to their events (not on a
/// share link's screen).
pub async fn current(
    state: &AppState,
    d: &Loaded,
    base: &str,
    drill: bool,
) -> Result<Current, AppError> {
    let shown = state
        .screens
        .get(&d.row, &d.spec, compute(state, d))
        .await?;
    let now = secviz_lake::now_micros();
    let panels = panels::views(&d.spec, &shown.computed, base, drill, now);
    let frame_line = panels::frame_line(&shown.computed.frame, now);
    let html: Vec<String> = panels
        .iter()
        .map(|p| PanelFragment { panel: p }.render())
        .collect::<Result<_, _>>()?;
    let mut h = Sha256::new();
    h.update(frame_line.as_bytes());
    for p in &html {
        h.update([0]);
        h.update(p.as_bytes());
    }
    let etag = hex::encode(&h.finalize()[..12]);
    Ok(Current {
        shown,
        panels,
        html,
        frame_line,
        etag,
    })
}

/// Computes a dashboard now: one job of the query executor, admitted under its owner's
/// name (so one member's screens cannot take the executor from everyone).
async fn compute(state: &AppState, d: &Loaded) -> Result<(Computed, i64), AppError> {
    let name = DatasetId::parse(&d.row.dataset_id)
        .ok_or(AppError::NotFound)?
        .lake_name();
    let started = std::time::Instant::now();
    let at_us = secviz_lake::now_micros();
    let limits = state.publish_limits();
    let view_limits = secviz_views::Limits {
        time: limits.time,
        memory: limits.memory,
        sandbox: true,
    };
    let (lake, spec) = (state.lake.clone(), d.spec.clone());
    let computed = state
        .member_job(
            &format!("dashboards:{}", d.row.owner_id),
            limits,
            move || async move {
                secviz_views::dashboard::compute(&lake, &name, &spec, at_us, view_limits).await
            },
        )
        .await?
        .map_err(|e| match e {
            secviz_views::ViewError::NotFound => AppError::NotFound,
            secviz_views::ViewError::Busy(b) => AppError::Busy {
                message: format!("{b}."),
                retry_after: b.retry_after.as_secs().max(1),
            },
            other => AppError::Limit(format!("The dashboard could not be computed: {other}.")),
        })?;
    let panel_ms: Vec<u64> = computed.panels.iter().map(|p| p.ms).collect();
    tracing::debug!(dashboard = %d.row.id, ms = started.elapsed().as_millis() as u64, ?panel_ms, "dashboard computed");
    Ok((computed, at_us))
}

/// One board of a big screen.
pub async fn board(
    state: &AppState,
    d: &Loaded,
    base: &str,
    drill: bool,
) -> Result<Board, AppError> {
    let c = current(state, d, base, drill).await?;
    Ok(Board {
        base: base.to_string(),
        title: d.spec.title.clone(),
        refresh_seconds: d.spec.refresh_seconds,
        frame_line: c.frame_line,
        etag: c.etag,
        panels: c.panels,
    })
}

/// Headers of every dashboard answer: revalidate each time (the ETag makes that cheap), so
/// no cache between the server and a screen holds numbers past their interval.
pub fn fresh_headers(r: &mut Response) {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
}

/// `GET …/panels`: the panels' HTML as JSON, or 304 when the viewer has them already.
pub async fn panels_json(
    state: &AppState,
    d: &Loaded,
    base: &str,
    drill: bool,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let c = current(state, d, base, drill).await?;
    let quoted = format!("\"{}\"", c.etag);
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == quoted || t.trim() == "*");
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = json!({
            "etag": c.etag,
            "frame": c.frame_line,
            "computed_us": c.shown.at_us,
            "refresh_seconds": d.spec.refresh_seconds,
            "panels": c.html,
        });
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&quoted) {
        r.headers_mut().insert(header::ETAG, v);
    }
    // When the next computation is due: the screen asks again then.
    r.headers_mut().insert(
        NEXT_HEADER,
        HeaderValue::from(c.shown.next_in().as_millis() as u64),
    );
    fresh_headers(&mut r);
    Ok(r)
}

/// `GET …/panels/{n}.svg?theme=light|dark`: a view panel's drawing, from the interval's
/// computation. An SVG that can do nothing but be looked at.
pub async fn picture(
    state: &AppState,
    d: &Loaded,
    file: &str,
    dark: bool,
) -> Result<Response, AppError> {
    let n: usize = file
        .strip_suffix(".svg")
        .and_then(|n| n.parse().ok())
        .ok_or(AppError::NotFound)?;
    let shown = state
        .screens
        .get(&d.row, &d.spec, compute(state, d))
        .await?;
    let svg = match shown.computed.panels.get(n).map(|p| &p.body) {
        Some(secviz_views::dashboard::Body::Picture { light, dark: night }) => {
            if dark {
                night.clone()
            } else {
                light.clone()
            }
        }
        _ => return Err(AppError::NotFound),
    };
    let mut r = (StatusCode::OK, svg).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::web::headers::UPLOAD_CSP),
    );
    fresh_headers(&mut r);
    Ok(r)
}

/// `GET …/events?sel=`: the newest events of a panel's row (its selection).
pub async fn events_page(
    state: &AppState,
    chrome: Chrome,
    d: &Loaded,
    base: &str,
    sel: &str,
) -> Result<Response, AppError> {
    if sel.len() > 16 * 1024 {
        return Err(AppError::BadRequest("The selection is too long.".into()));
    }
    let selection = Selection::from_json(sel).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let name = DatasetId::parse(&d.row.dataset_id)
        .ok_or(AppError::NotFound)?
        .lake_name();
    let limits = state.query_limits();
    let view_limits = secviz_views::Limits {
        time: limits.time,
        memory: limits.memory,
        sandbox: true,
    };
    let lake = state.lake.clone();
    let sel2 = selection.clone();
    let rows = state
        .member_job(
            &format!("dashboards:{}", d.row.owner_id),
            limits,
            move || async move {
                let source = secviz_views::Source::open(&lake, &name, None, view_limits).await?;
                drill::events(&source, &sel2, 100).await
            },
        )
        .await?
        .map_err(|e| match e {
            secviz_views::ViewError::NotFound => AppError::NotFound,
            secviz_views::ViewError::BadRequest(m) => AppError::BadRequest(m),
            other => AppError::Limit(format!("The events could not be read: {other}.")),
        })?;
    let page = EventsPage {
        chrome,
        title: d.spec.title.clone(),
        back: base.to_string(),
        described: describe(&selection),
        rows,
    };
    let mut r = (StatusCode::OK, html_headers(), page.render()?).into_response();
    fresh_headers(&mut r);
    Ok(r)
}

/// A selection in words: `src_ip = 10.0.0.1, auth_result = failure, 14:00 UTC to 15:00 UTC`.
fn describe(s: &Selection) -> String {
    let now = secviz_lake::now_micros();
    let mut parts: Vec<String> = s
        .values
        .iter()
        .map(|(k, vs)| {
            let vals: Vec<String> = vs
                .iter()
                .map(|v| match v {
                    Some(v) => serde_json::to_value(v)
                        .ok()
                        .map(|j| match j {
                            serde_json::Value::String(t) => t,
                            other => other.to_string(),
                        })
                        .unwrap_or_default(),
                    None => "(none)".into(),
                })
                .collect();
            format!("{k} = {}", vals.join(" or "))
        })
        .collect();
    if let Some([a, b]) = s.time {
        parts.push(format!(
            "{} to {}",
            panels::clock(a, now),
            panels::clock(b, now)
        ));
    }
    if parts.is_empty() {
        "every event".into()
    } else {
        parts.join(", ")
    }
}

/// `GET …/dashboard.json`: the export.
pub fn export(d: &Loaded) -> Response {
    let slug: String = d
        .spec
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let disposition = format!("attachment; filename=\"dashboard-{slug}.json\"");
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        d.spec.to_json(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    fresh_headers(&mut r);
    r
}

/// `?rotate=a,b,c&every=60`: the others of a rotation (at most [`MAX_ROTATION`] in all)
/// and the seconds each shows (10 to 3600; 60 unless told).
pub fn rotation(rotate: Option<&str>, every: Option<&str>) -> (Vec<String>, u32) {
    let others: Vec<String> = rotate
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 128)
        .take(MAX_ROTATION - 1)
        .map(str::to_string)
        .collect();
    let every = every
        .and_then(|e| e.trim().parse::<u32>().ok())
        .unwrap_or(60)
        .clamp(10, 3600);
    (others, every)
}
