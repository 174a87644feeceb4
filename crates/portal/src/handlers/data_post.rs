//! The data side of a post (issue 7): the viewer island on the post page, the downloads
//! (`/p/{id}/recipe.json`, `view.json`, `rules.txt`, `data.jsonl.gz`; CSV through the
//! viewer's API) and remixes (`POST /p/{id}/remix`). Everything here answers 404 unless
//! the visitor may see the post and read its dataset; a post whose data was withdrawn (its
//! owner's post deleted or hidden, `data::withdraw`) shows why in place of the viewer.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use secviz_viewer::page::mount_attributes;
use secviz_views::{Selection, ViewSpec};
use serde::Deserialize;

use super::{Visit, redirect};
use crate::data::ids::DatasetId;
use crate::data::policy::reader_of;
use crate::data::recipe::Recipe;
use crate::data::{export, picture, publish, reproduce};
use crate::db::datasets::{self, Withdrawal};
use crate::db::ids::PostId;
use crate::db::post_data::{self, PostDataRow};
use crate::db::posts::{self, PostRow};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{DataImage, DataView};
use crate::web::Visitor;

/// Where the viewer's API and assets are mounted.
pub const API_ROOT: &str = "/api/v1/views";
pub const ASSETS: &str = "/assets";

/// A post the visitor may see with a dataset they may read, or 404.
pub async fn readable(
    state: &AppState,
    v: &Visitor,
    id: PostId,
) -> Result<(PostRow, PostDataRow, Recipe), AppError> {
    let post = posts::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let mine = v.user.as_ref().map(|u| u.id) == Some(post.author_id);
    if post.hidden_reason.is_some() && !mine && !v.can_moderate() {
        return Err(AppError::NotFound);
    }
    let pd = post_data::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ds = pd.dataset_id.as_deref().ok_or(AppError::NotFound)?;
    if !datasets::may_read(&state.db, ds, reader_of(v)).await? {
        return Err(AppError::NotFound);
    }
    let recipe = Recipe::from_json(&pd.recipe).ok_or(AppError::NotFound)?;
    Ok((post, pd, recipe))
}

/// The data part of a post page.
pub enum PostData {
    /// The viewer over the data, for a visitor who may read it.
    Shown(Box<DataView>),
    /// The post had data the visitor may no longer read: who withdrew it.
    Withdrawn(Withdrawal),
}

/// What a post page says in place of withdrawn data.
pub fn withdrawn_sentence(w: Withdrawal) -> &'static str {
    match w {
        Withdrawal::ByAuthor => "Data withdrawn by its author.",
        Withdrawal::ByModerator => "Data withdrawn by a moderator.",
    }
}

/// The data part of post `id`'s page, if it is a data post, with the post's thumbnail (the
/// gallery's; the page never shows it). `sel` is the `?sel=` of the page (a selection a
/// comment linked to); junk is ignored. The caller has checked the visitor may see the post,
/// and read its data row `pd` (none for a post without data).
pub async fn view(
    state: &AppState,
    v: &Visitor,
    id: PostId,
    pd: Option<&PostDataRow>,
    sel: Option<&str>,
) -> Result<Option<(PostData, Option<String>)>, AppError> {
    let Some(pd) = pd else {
        return Ok(None);
    };
    let thumb = pd.thumb_image.clone();
    let may_read = match pd.dataset_id.as_deref() {
        Some(ds) => datasets::may_read(&state.db, ds, reader_of(v)).await?,
        None => false,
    };
    if !may_read {
        let why = datasets::withdrawal(&state.db, pd.dataset_id.as_deref()).await?;
        return Ok(Some((PostData::Withdrawn(why), thumb)));
    }
    let (Some(ds), Some(recipe)) = (
        pd.dataset_id.as_deref().and_then(DatasetId::parse),
        Recipe::from_json(&pd.recipe),
    ) else {
        return Ok(None);
    };
    let row = datasets::get(&state.db, ds.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let sel = sel
        .and_then(|s| Selection::from_json(s).ok())
        .unwrap_or_default();
    let mount = mount_attributes(API_ROOT, &ds.lake_name(), &recipe.view, &sel);
    let analysis = crate::data::findings::table(id, &pd.analysis);
    let view = DataView {
        api: mount.api,
        spec: mount.spec,
        sel: mount.sel,
        images: mount
            .images
            .into_iter()
            .map(|i| DataImage {
                src: i.src,
                alt: i.alt,
            })
            .collect(),
        assets_version: secviz_viewer::assets::version().to_string(),
        dataset: ds.to_string(),
        label: row.label.clone(),
        format: row.format.clone(),
        rows: row.row_count,
        anonymized: row.is_anonymized(),
        recipe: recipe.to_json_pretty(),
        reproduce: reproduce::commands(id, &recipe),
        analysis,
        analysis_name: recipe
            .analysis
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        remixed_from: pd.remixed_from,
    };
    Ok(Some((PostData::Shown(Box::new(view)), thumb)))
}

fn download(body: impl IntoResponse, mime: &'static str, name: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// `GET /p/{id}/recipe.json`.
pub async fn recipe(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = super::id(&id)?;
    let (_, _, recipe) = readable(&state, &visit, id).await?;
    Ok(download(
        recipe.to_json_pretty(),
        "application/json",
        format!("post-{id}.recipe.json"),
    ))
}

/// `GET /p/{id}/view.json`: the view spec alone (`secviz chart --spec`).
pub async fn view_spec(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = super::id(&id)?;
    let (_, _, recipe) = readable(&state, &visit, id).await?;
    let spec = ViewSpec {
        dataset: Some(reproduce::local_name(id)),
        ..recipe.view
    };
    let json = serde_json::to_string_pretty(&spec).map_err(anyhow::Error::from)?;
    Ok(download(
        json,
        "application/json",
        format!("post-{id}.view.json"),
    ))
}

/// `GET /p/{id}/rules.txt`: the graph's rules (`secviz graph -c`).
pub async fn rules(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = super::id(&id)?;
    let (_, _, recipe) = readable(&state, &visit, id).await?;
    let text = match (&recipe.view.graph, picture::is_graph(&recipe.view)) {
        (Some(g), true) => g.rules.clone(),
        _ => return Err(AppError::NotFound),
    };
    Ok(download(
        text,
        "text/plain; charset=utf-8",
        format!("post-{id}.rules"),
    ))
}

/// `GET /p/{id}/data.jsonl.gz`: the dataset's events, as stored (anonymized when it is).
pub async fn data(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = super::id(&id)?;
    let (_, pd, _) = readable(&state, &visit, id).await?;
    let ds = pd
        .dataset_id
        .as_deref()
        .and_then(DatasetId::parse)
        .ok_or(AppError::NotFound)?;
    let limits = secviz_sandbox::JobLimits {
        time: state.config.queries.export_time,
        memory: state.config.queries.memory_per_job(),
    };
    let body = export::jsonl_gz(
        &state.executor,
        &crate::data::policy::client_key(&visit),
        limits,
        &state.lake,
        &ds.lake_name(),
    )
    .await?;
    Ok(download(
        body,
        "application/gzip",
        format!("post-{id}.jsonl.gz"),
    ))
}

#[derive(Deserialize)]
pub struct RemixForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    with_data: Option<String>,
}

/// `POST /p/{id}/remix`: a new draft of the visitor's own with the post's recipe (and,
/// when asked, its data).
pub async fn remix(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<RemixForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let id = super::id(&id)?;
    let (post, pd, _) = readable(&state, &visit, id).await?;
    let with_data = f.with_data.as_deref() == Some("1");
    let draft = publish::remix(&state, me.id, id, &post.title, &pd, with_data).await?;
    tracing::info!(event = "remixed", post = %id, draft = %draft, with_data);
    Ok(redirect(&format!("/drafts/{draft}")))
}
