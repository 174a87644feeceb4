//! POST /dash/{id}/spec (save the JSON), /dash/{id}/add-panel and /dash/{id}/remove-panel
//! (the same, one panel at a time, for those who would rather not write JSON),
//! /dash/{id}/visibility (public or private),
//! /dash/{id}/delete, and /dash/{id}/remix (a copy of someone else's dashboard, private,
//! over the same dataset, which the remixer may read because the dashboard is public).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use secviz_views::dashboard::{DashboardSpec, PanelKind, PanelSpec, Window};
use serde::Deserialize;

use super::dashboard_show::{Extras, load, page};
use super::{Visit, redirect};
use crate::dashboard::pages::AddPanelForm;
use crate::dashboard::show::Loaded;
use crate::db::dashboards;
use crate::error::AppError;
use crate::state::AppState;

/// Stores `spec` as the dashboard's (checked by the caller), forgets its computation so the
/// next viewer sees the new panels, and sends the owner back to it.
async fn save(
    state: &AppState,
    d: &Loaded,
    owner: crate::db::ids::UserId,
    spec: &DashboardSpec,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    dashboards::update_spec(
        &state.db,
        d.row.id,
        owner,
        spec.title.trim(),
        &spec.to_json(),
        now,
    )
    .await?;
    state.screens.forget(d.row.id);
    Ok(redirect(&format!("/dash/{}", d.row.id)))
}

#[derive(Deserialize)]
pub struct SpecForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    json: String,
}

/// The dashboard `raw` if `visit`'s member owns it; 404 otherwise (as if it did not exist,
/// for those who may not see it; the same for those who only may see it).
async fn owned(state: &AppState, visit: &Visit, raw: &str) -> Result<Loaded, AppError> {
    let me = visit.require_user()?;
    let d = load(state, visit, raw).await?;
    if d.row.owner_id != me.id {
        return Err(AppError::NotFound);
    }
    Ok(d)
}

pub async fn spec(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<SpecForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let d = owned(&state, &visit, &raw).await?;
    let me = visit.require_user()?;
    let spec = match DashboardSpec::from_json(&f.json) {
        Ok(s) => s,
        Err(e) => {
            let extras = Extras {
                errors: vec![format!("Not saved: {e}.")],
                spec_json: Some(f.json),
                ..Extras::default()
            };
            return page(&state, &visit, &d, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    save(&state, &d, me.id, &spec).await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: AddPanelForm,
}

/// The panel the add form describes, or why it cannot be added.
fn panel_of(f: &AddPanelForm) -> Result<PanelSpec, String> {
    let kind: PanelKind = serde_json::from_value(serde_json::Value::String(f.kind.clone()))
        .map_err(|_| "Choose the kind of panel.".to_string())?;
    let window: Window = serde_json::from_value(serde_json::Value::String(f.window.clone()))
        .map_err(|_| "Choose a window: 15m, 1h or 24h.".to_string())?;
    let mut p = PanelSpec::of(kind, window);
    p.title = f.title.trim().to_string();
    p.question = f.question.trim().to_string();
    match kind {
        PanelKind::Analysis => p.analysis = Some(f.analysis.clone()),
        PanelKind::View => {
            return Err("A view panel needs a post's view.json: add it in the JSON.".into());
        }
        _ => {}
    }
    Ok(p)
}

pub async fn add_panel(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<AddForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let d = owned(&state, &visit, &raw).await?;
    let me = visit.require_user()?;
    let mut spec = d.spec.clone();
    let added = panel_of(&f.fields).and_then(|p| {
        spec.panels.push(p);
        spec.check().map_err(|e| e.to_string())
    });
    if let Err(e) = added {
        let extras = Extras {
            errors: vec![format!("Not added: {e}")],
            add: Some(f.fields),
            ..Extras::default()
        };
        return page(&state, &visit, &d, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    save(&state, &d, me.id, &spec).await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    n: String,
}

pub async fn remove_panel(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let d = owned(&state, &visit, &raw).await?;
    let me = visit.require_user()?;
    let mut spec = d.spec.clone();
    let n: usize = f.n.trim().parse().map_err(|_| AppError::NotFound)?;
    if n >= spec.panels.len() {
        return Err(AppError::NotFound);
    }
    if spec.panels.len() == 1 {
        let extras = Extras {
            errors: vec![
                "A dashboard keeps at least one panel: delete the dashboard instead.".into(),
            ],
            ..Extras::default()
        };
        return page(&state, &visit, &d, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    spec.panels.remove(n);
    save(&state, &d, me.id, &spec).await
}

#[derive(Deserialize)]
pub struct VisibilityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    public: String,
}

pub async fn visibility(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<VisibilityForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let d = owned(&state, &visit, &raw).await?;
    let me = visit.require_user()?;
    let public = f.public == "1";
    dashboards::set_public(&state.db, d.row.id, me.id, public, state.clock.now()).await?;
    Ok(redirect(&format!("/dash/{}", d.row.id)))
}

#[derive(Deserialize)]
pub struct PlainForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<PlainForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let d = owned(&state, &visit, &raw).await?;
    let me = visit.require_user()?;
    dashboards::delete(&state.db, d.row.id, me.id).await?;
    state.screens.forget(d.row.id);
    Ok(redirect("/dashboards"))
}

pub async fn remix(
    State(state): State<AppState>,
    visit: Visit,
    Path(raw): Path<String>,
    Form(f): Form<PlainForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let d = load(&state, &visit, &raw).await?;
    if dashboards::count_of_owner(&state.db, me.id).await? >= dashboards::MAX_PER_OWNER {
        let extras = Extras {
            errors: vec![format!(
                "You have {} dashboards; delete one you no longer use first.",
                dashboards::MAX_PER_OWNER
            )],
            ..Extras::default()
        };
        return page(&state, &visit, &d, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut spec = d.spec.clone();
    let title: String = format!("{} (remix)", spec.title.trim())
        .chars()
        .take(120)
        .collect();
    spec.title = title;
    let id = dashboards::insert(
        &state.db,
        dashboards::NewDashboard {
            owner_id: me.id,
            dataset_id: &d.row.dataset_id,
            title: &spec.title,
            spec: &spec.to_json(),
            public: false,
            remixed_from: Some(d.row.id),
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(redirect(&format!("/dash/{id}")))
}
