//! GET /dashboards — the member's dashboards, a form for a new one (the default SOC
//! dashboard of a dataset, or an imported export) and other members' public dashboards.
//! POST /dashboards — makes one.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use secviz_views::dashboard::DashboardSpec;
use serde::Deserialize;

use super::{Visit, redirect, render};
use crate::dashboard::pages::{DashboardCard, DashboardsPage};
use crate::db::dashboards::{self, DashboardRow};
use crate::db::datasets;
use crate::db::states::DatasetStatus;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::Chrome;
use crate::web::Visitor;

/// Public dashboards listed.
const PUBLIC_LISTED: i64 = 50;

#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    dataset: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    json: String,
}

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    page(&state, &visit, vec![], NewForm::default(), StatusCode::OK).await
}

fn card(d: DashboardRow) -> DashboardCard {
    DashboardCard {
        id: d.id.to_string(),
        public: d.is_public(),
        title: d.title,
        dataset: d.dataset_id,
        owner: d.owner_name,
    }
}

async fn page(
    state: &AppState,
    v: &Visitor,
    errors: Vec<String>,
    form: NewForm,
    status: StatusCode,
) -> Result<Response, AppError> {
    let me = v.user.as_ref().map(|u| u.id);
    let (mine, datasets) = match me {
        Some(id) => {
            let mine = dashboards::of_owner(&state.db, id).await?;
            let ds = datasets::of_owner(&state.db, id)
                .await?
                .into_iter()
                .filter(|d| d.status == DatasetStatus::Ready)
                .map(|d| (d.id.clone(), format!("{} ({})", d.label, d.id)))
                .collect();
            (mine, ds)
        }
        None => (vec![], vec![]),
    };
    let public = dashboards::public_of_others(&state.db, me, PUBLIC_LISTED).await?;
    render(
        status,
        &DashboardsPage {
            chrome: Chrome::new(v),
            errors,
            mine: mine.into_iter().map(card).collect(),
            public: public.into_iter().map(card).collect(),
            datasets,
            form_dataset: form.dataset,
            form_title: form.title,
            form_json: form.json,
        },
    )
}

pub async fn create(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<NewForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let mut errors = Vec::new();
    let ds = datasets::get_owned(&state.db, &f.dataset, me.id).await?;
    if !ds
        .as_ref()
        .is_some_and(|d| d.status == DatasetStatus::Ready)
    {
        errors.push("Choose one of your datasets that is ready.".to_string());
    }
    let spec = if f.json.trim().is_empty() {
        let title = f.title.trim();
        let spec = DashboardSpec::soc(title);
        spec.check().map(|_| spec)
    } else {
        DashboardSpec::from_json(&f.json)
    };
    let spec = match spec {
        Ok(s) => Some(s),
        Err(e) => {
            errors.push(format!("The dashboard cannot be made: {e}."));
            None
        }
    };
    if dashboards::count_of_owner(&state.db, me.id).await? >= dashboards::MAX_PER_OWNER {
        errors.push(format!(
            "You have {} dashboards; delete one you no longer use first.",
            dashboards::MAX_PER_OWNER
        ));
    }
    let (Some(spec), true) = (spec, errors.is_empty()) else {
        return page(&state, &visit, errors, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let id = dashboards::insert(
        &state.db,
        dashboards::NewDashboard {
            owner_id: me.id,
            dataset_id: &f.dataset,
            title: spec.title.trim(),
            spec: &spec.to_json(),
            public: false,
            remixed_from: None,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(redirect(&format!("/dash/{id}")))
}
