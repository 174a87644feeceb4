//! GET /dash/{id} (the dashboard), /dash/{id}/screen (big-screen mode, `?rotate=ID,ID&every=S`
//! to rotate), /dash/{id}/panels (the refresh), /dash/{id}/events (the events behind a
//! panel's row, `?sel=`) and /dash/{id}/dashboard.json (the export).
//!
//! Who may see it: `dashboards::may_view` (its owner; anyone else while it is public and its
//! dataset published). Everyone else gets the 404 of a dashboard that does not exist.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Visit, id};
use crate::clock::rfc3339;
use crate::dashboard::pages::{DashboardPage, ScreenPage, ShareView};
use crate::dashboard::show::{self, Loaded};
use crate::data::policy::reader_of;
use crate::db::dashboards;
use crate::db::ids::DashboardId;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, html_headers};
use crate::web::Visitor;

/// The dashboard `raw` if `v` may see it.
pub async fn load(state: &AppState, v: &Visitor, raw: &str) -> Result<Loaded, AppError> {
    let id: DashboardId = id(raw)?;
    let row = dashboards::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !dashboards::may_view(&state.db, &row, reader_of(v)).await? {
        return Err(AppError::NotFound);
    }
    Loaded::new(row)
}

/// What a form adds to the dashboard's page.
#[derive(Default)]
pub struct Extras {
    pub notice: Option<String>,
    pub errors: Vec<String>,
    pub new_share: Option<String>,
    pub share_label: String,
    /// The member's text of a failed save.
    pub spec_json: Option<String>,
    /// The add-a-panel form of a failed add.
    pub add: Option<crate::dashboard::pages::AddPanelForm>,
}

pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let d = load(&state, &visit, &raw).await?;
    page(&state, &visit, &d, Extras::default(), StatusCode::OK).await
}

pub async fn page(
    state: &AppState,
    v: &Visitor,
    d: &Loaded,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, AppError> {
    let base = format!("/dash/{}", d.row.id);
    let current = show::current(state, d, &base, true).await?;
    let me = v.user.as_ref();
    let is_owner = me.is_some_and(|u| u.id == d.row.owner_id);
    let shares = if is_owner {
        dashboards::shares_of(&state.db, d.row.id)
            .await?
            .into_iter()
            .map(|s| ShareView {
                id: s.id,
                label: s.label,
                created: rfc3339(s.created_at),
                revoked: s.revoked_at.is_some(),
            })
            .collect()
    } else {
        vec![]
    };
    let kinds: Vec<String> = secviz_views::dashboard::PanelKind::ALL
        .iter()
        .map(|k| format!("\"{}\"", k.name()))
        .collect();
    let page = DashboardPage {
        chrome: Chrome::new(v),
        id: d.row.id.to_string(),
        base,
        title: d.spec.title.clone(),
        owner: d.row.owner_name.clone(),
        dataset: d.row.dataset_id.clone(),
        public: d.row.is_public(),
        remixed_from: d.row.remixed_from.map(|r| r.to_string()),
        refresh_seconds: d.spec.refresh_seconds,
        frame_line: current.frame_line,
        etag: current.etag,
        panels: current.panels,
        is_owner,
        can_remix: me.is_some() && !is_owner,
        notice: extras.notice,
        errors: extras.errors,
        shares,
        new_share: extras.new_share,
        share_label: extras.share_label,
        spec_json: extras.spec_json.unwrap_or_else(|| d.spec.to_json()),
        kinds: kinds.join(", "),
        panel_names: d
            .spec
            .panels
            .iter()
            .map(|p| format!("{} ({})", p.shown_title(), p.window.label()))
            .collect(),
        kind_choices: secviz_views::dashboard::PanelKind::ALL
            .iter()
            .filter(|k| **k != secviz_views::dashboard::PanelKind::View)
            .map(|k| (k.name().to_string(), k.title().to_string()))
            .collect(),
        analysis_choices: secviz_lake::analyze::ANALYSES
            .iter()
            .map(|a| (a.name.to_string(), a.title.to_string()))
            .collect(),
        add: extras
            .add
            .unwrap_or_else(|| crate::dashboard::pages::AddPanelForm {
                window: "1h".into(),
                ..Default::default()
            }),
    };
    let mut r = (status, html_headers(), page.render()?).into_response();
    show::fresh_headers(&mut r);
    Ok(r)
}

#[derive(Deserialize, Default)]
pub struct ScreenQuery {
    #[serde(default)]
    pub rotate: Option<String>,
    #[serde(default)]
    pub every: Option<String>,
}

pub async fn screen(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Query(q): Query<ScreenQuery>,
) -> Result<Response, AppError> {
    let first = load(&state, &visit, &raw).await?;
    let (others, every) = show::rotation(q.rotate.as_deref(), q.every.as_deref());
    let mut boards =
        vec![show::board(&state, &first, &format!("/dash/{}", first.row.id), true).await?];
    for o in others {
        // A dashboard of the rotation this viewer may not see is left out, like a missing one.
        if let Ok(d) = load(&state, &visit, &o).await {
            boards.push(show::board(&state, &d, &format!("/dash/{}", d.row.id), true).await?);
        }
    }
    screen_response(boards, every)
}

/// The big-screen page of `boards` (rotating every `every` seconds when more than one).
pub fn screen_response(
    boards: Vec<crate::dashboard::pages::Board>,
    every: u32,
) -> Result<Response, AppError> {
    let every = if boards.len() > 1 { every } else { 0 };
    let page = ScreenPage { boards, every };
    let mut r = (StatusCode::OK, html_headers(), page.render()?).into_response();
    show::fresh_headers(&mut r);
    Ok(r)
}

pub async fn panels(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = load(&state, &visit, &raw).await?;
    show::panels_json(&state, &d, &format!("/dash/{}", d.row.id), true, &headers).await
}

#[derive(Deserialize, Default)]
pub struct PictureQuery {
    #[serde(default)]
    pub theme: String,
}

pub async fn picture(
    State(state): State<AppState>,
    visit: Visit,
    Path((raw, file)): Path<(String, String)>,
    Query(q): Query<PictureQuery>,
) -> Result<Response, AppError> {
    let d = load(&state, &visit, &raw).await?;
    show::picture(&state, &d, &file, q.theme == "dark").await
}

#[derive(Deserialize, Default)]
pub struct EventsQuery {
    #[serde(default)]
    pub sel: String,
}

pub async fn events(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Query(q): Query<EventsQuery>,
) -> Result<Response, AppError> {
    let d = load(&state, &visit, &raw).await?;
    let base = format!("/dash/{}", d.row.id);
    show::events_page(&state, Chrome::new(&visit), &d, &base, &q.sel).await
}

pub async fn export(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let d = load(&state, &visit, &raw).await?;
    Ok(show::export(&d))
}
