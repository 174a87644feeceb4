//! Drafts of data posts (issue 7): `GET /drafts` (mine), `GET /drafts/{id}` (ingest status
//! with a meta refresh while it runs, the parse report, the view form, the preview, the
//! text), `POST /drafts/{id}` (save, publish or delete), `POST /drafts/{id}/data` (attach
//! data again after a failed ingest, or to a remix without data) and
//! `GET /drafts/{id}/preview.svg`. A draft is its owner's alone: anyone else gets 404.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::draft_form::parse_submit;
use super::post_form;
use super::{Visit, redirect, render};
use crate::clock::day;
use crate::data::policy::client_key;
use crate::data::recipe::{FIELD_CHOICES, KINDS, Recipe, ViewForm};
use crate::data::summary::ParseReport;
use crate::data::upload::human_bytes;
use crate::data::{anon, ids::DatasetId, picture, publish};
use crate::db::datasets::{self, Reader};
use crate::db::states::{DatasetStatus, JobState};
use crate::db::{drafts, jobs, tags};
use crate::domain::{PostBody, TagSlug, Title};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, DraftCard, DraftPage, DraftsPage, PostForm, RejectView, TagChoice};
use crate::web::Visitor;

/// `GET /drafts`: the member's drafts.
pub async fn list(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let mut cards = Vec::new();
    for d in drafts::of_owner(&state.db, me.id).await? {
        let status = match d.dataset_id.as_deref() {
            Some(ds) => datasets::get(&state.db, ds)
                .await?
                .map(|r| r.status.as_str().to_string())
                .unwrap_or_else(|| "no data".into()),
            None => "no data".into(),
        };
        cards.push(DraftCard {
            id: d.id,
            title: if d.title.trim().is_empty() {
                format!("Draft {}", d.id)
            } else {
                d.title
            },
            status,
            date: day(d.updated_at),
        });
    }
    render(
        StatusCode::OK,
        &DraftsPage {
            chrome: Chrome::new(&visit),
            drafts: cards,
        },
    )
}

/// `GET /drafts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let draft = drafts::get_owned(&state.db, super::id(&id)?, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = recipe_form(&draft.recipe);
    let text = DraftText {
        title: draft.title.clone(),
        body: draft.body.clone(),
        tags: split_tags(&draft.tags),
    };
    page(&state, &visit, &draft, form, text, vec![], StatusCode::OK).await
}

/// The text fields of the draft form.
pub struct DraftText {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn recipe_form(recipe: &str) -> ViewForm {
    Recipe::from_json(recipe)
        .map(|r| r.form)
        .unwrap_or_default()
}

/// Renders the draft page.
pub async fn page(
    state: &AppState,
    v: &Visitor,
    draft: &drafts::DraftRow,
    view: ViewForm,
    text: DraftText,
    mut errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let ds = match draft.dataset_id.as_deref() {
        Some(id) => datasets::get(&state.db, id).await?,
        None => None,
    };
    // A remix's data is another member's: shown only while they publish it (issue 14), and
    // its rejected lines, which no post publishes, only to them.
    let me = v.user.as_ref().map(|u| u.id);
    let owned = ds.as_ref().is_some_and(|d| Some(d.owner_id) == me);
    let ds = match ds {
        Some(d) if !owned => {
            let reader = Reader {
                user: me,
                moderator: false,
            };
            if datasets::may_read(&state.db, &d.id, reader).await? {
                Some(d)
            } else {
                errors.push(
                    "The data of this remix was withdrawn by its owner or a moderator: attach data of your own.".into(),
                );
                None
            }
        }
        other => other,
    };
    let job = match &ds {
        Some(d) => jobs::latest_for_dataset(&state.db, &d.id).await?,
        None => None,
    };
    let report = ds
        .as_ref()
        .and_then(|d| ParseReport::from_json(&d.summary))
        .unwrap_or_default();
    let ds_status = ds.as_ref().map(|d| d.status);
    let running = ds_status.is_some_and(|s| s.is_ingesting());
    let (percent, bytes_read, bytes_total, records, events, rejected_now, phase) =
        match (&job, running) {
            (Some(j), true) => (
                if j.bytes_total > 0 {
                    (j.bytes_read.max(0) as u64 * 100 / j.bytes_total as u64).min(100)
                } else {
                    0
                },
                human_bytes(j.bytes_read.max(0) as u64),
                human_bytes(j.bytes_total.max(0) as u64),
                j.records,
                j.events,
                j.rejected,
                if j.state == JobState::Queued {
                    "waiting for a worker".to_string()
                } else {
                    j.phase.clone()
                },
            ),
            _ => (0, String::new(), String::new(), 0, 0, 0, String::new()),
        };
    let tag_choices = tags::list(&state.db)
        .await?
        .into_iter()
        .map(|t| TagChoice {
            checked: text.tags.contains(&t.slug),
            slug: t.slug,
        })
        .collect();
    let preview = (ds_status == Some(DatasetStatus::Ready)
        && Recipe::from_json(&draft.recipe).is_some())
    .then(|| format!("/drafts/{}/preview.svg?v={}", draft.id, draft.updated_at));
    let time_span = match (&report.time_min, &report.time_max) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => String::new(),
    };
    let tpl = DraftPage {
        chrome: Chrome::new(v),
        id: draft.id,
        errors,
        status: ds_status.map_or("none", |s| s.as_str()).to_string(),
        refresh: running,
        error: ds.as_ref().map(|d| d.error.clone()).unwrap_or_default(),
        label: ds.as_ref().map(|d| d.label.clone()).unwrap_or_default(),
        format: ds.as_ref().map(|d| d.format.clone()).unwrap_or_default(),
        anonymized: ds.as_ref().is_none_or(|d| d.is_anonymized()),
        covered: anon::COVERED,
        percent,
        bytes_read,
        bytes_total,
        records,
        events,
        rejected_now,
        phase,
        read: report.read,
        parsed: report.parsed,
        skipped: report.skipped,
        rows: ds.as_ref().map(|d| d.row_count).unwrap_or(0),
        rejected: report
            .rejected
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect(),
        damage: report.damage.clone(),
        rejects: report
            .rejects
            .iter()
            .filter(|_| owned)
            .map(|r| RejectView {
                line: r.line,
                reason: r.reason.clone(),
                detail: r.detail.clone(),
                raw: r.raw.clone(),
            })
            .collect(),
        time_span,
        view,
        kinds: KINDS,
        field_choices: FIELD_CHOICES,
        analyses: secviz_lake::analyze::ANALYSES
            .iter()
            .map(|a| (a.name, a.title))
            .collect(),
        preview,
        title: text.title,
        body: text.body,
        tag_choices,
        remixed_from: draft.remixed_from,
        data: post_form::data_choices(state),
        form: PostForm::default(),
    };
    render(status, &tpl)
}

/// `POST /drafts/{id}`: `action` is `save` (also the preview), `publish` or `delete`.
pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let sub = parse_submit(&body);
    visit.verify_csrf(&sub.csrf)?;
    let me = visit.require_user()?;
    let draft = drafts::get_owned(&state.db, super::id(&id)?, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if sub.action == "delete" {
        if let Some(Some(ds)) = drafts::delete(&state.db, draft.id, me.id).await? {
            crate::data::release(&state, &ds, me.id).await?;
        }
        tracing::info!(event = "draft_deleted", draft = draft.id);
        return Ok(redirect("/drafts"));
    }
    let form = sub.view.into_form();
    let text = DraftText {
        title: sub.title,
        body: sub.body,
        tags: sub.tags,
    };
    let mut errors = Vec::new();
    let dataset = draft.dataset_id.clone().unwrap_or_default();
    let recipe = match form.to_spec(&dataset) {
        Ok((view, analysis)) => {
            let parser = match draft.dataset_id.as_deref() {
                Some(id) => datasets::get(&state.db, id)
                    .await?
                    .and_then(|d| serde_json::from_str(&d.parse).ok())
                    .unwrap_or_default(),
                None => Default::default(),
            };
            Some(Recipe {
                version: 1,
                dataset: dataset.clone(),
                parser,
                view,
                analysis,
                form: form.clone(),
            })
        }
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    // The draft keeps what was typed, even when the view has problems.
    let recipe_json = match &recipe {
        Some(r) => r.to_json(),
        None => Recipe::from_json(&draft.recipe)
            .map(|mut r| {
                r.form = form.clone();
                r.to_json()
            })
            .unwrap_or_default(),
    };
    drafts::update(
        &state.db,
        draft.id,
        me.id,
        &drafts::DraftUpdate {
            title: &crate::markdown::cut(&text.title, 200),
            body: &text.body,
            tags: &text.tags.join(","),
            recipe: &recipe_json,
        },
        state.now(),
    )
    .await?;
    let draft = drafts::get_owned(&state.db, draft.id, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if sub.action != "publish" || !errors.is_empty() {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return page(&state, &visit, &draft, form, text, errors, status).await;
    }
    let post_text = match validate_text(&state, &text).await? {
        Ok(t) => t,
        Err(e) => {
            return page(
                &state,
                &visit,
                &draft,
                form,
                text,
                e,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let Some(recipe) = recipe else {
        return page(
            &state,
            &visit,
            &draft,
            form,
            text,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if !state.limiter.take(
        &format!("post:{}", me.id),
        state.config.limits.posts_per_hour,
        3600,
    ) {
        let e =
            vec!["You have posted a lot this hour; wait a little and publish again.".to_string()];
        return page(
            &state,
            &visit,
            &draft,
            form,
            text,
            e,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    match publish::publish(&state, me.id, &draft, &post_text, &recipe).await {
        Ok(post) => {
            tracing::info!(event = "data_post_published", post, draft = draft.id, dataset = %recipe.dataset);
            Ok(redirect(&format!("/p/{post}")))
        }
        Err(publish::PublishError::Member(m)) => {
            page(
                &state,
                &visit,
                &draft,
                form,
                text,
                vec![m],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(publish::PublishError::Internal(e)) => Err(AppError::Internal(e)),
    }
}

async fn validate_text(
    state: &AppState,
    text: &DraftText,
) -> Result<Result<publish::PostText, Vec<String>>, AppError> {
    let mut errors = Vec::new();
    let title = Title::parse(&text.title).map_err(|e| errors.push(e.0)).ok();
    let body = PostBody::parse(&text.body)
        .map_err(|e| errors.push(e.0))
        .ok();
    let curated = tags::list(&state.db).await?;
    let mut chosen = Vec::new();
    for t in &text.tags {
        match TagSlug::parse(t) {
            Ok(s) if curated.iter().any(|c| c.slug == s.as_str()) => {
                if !chosen.contains(&s) {
                    chosen.push(s)
                }
            }
            _ => errors.push("Choose tags from the list.".into()),
        }
    }
    Ok(match (title, body, errors.is_empty()) {
        (Some(title), Some(body), true) => Ok(publish::PostText {
            title,
            body,
            tags: chosen,
        }),
        _ => Err(errors),
    })
}

/// `GET /drafts/{id}/preview.svg`: the picture of the draft's recipe (owner only).
pub async fn preview(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let draft = drafts::get_owned(&state.db, super::id(&id)?, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let recipe = Recipe::from_json(&draft.recipe).ok_or(AppError::NotFound)?;
    let ds = draft
        .dataset_id
        .as_deref()
        .and_then(DatasetId::parse)
        .ok_or(AppError::NotFound)?;
    let reader = Reader {
        user: Some(me.id),
        moderator: false,
    };
    if !datasets::may_read(&state.db, ds.as_str(), reader).await? {
        return Err(AppError::NotFound);
    }
    let limits = state.query_limits();
    let (pictures, lake, name, view) = (
        state.pictures.clone(),
        state.lake.clone(),
        ds.lake_name(),
        recipe.view,
    );
    let drawn = state
        .member_job(&client_key(&visit), limits, move || async move {
            pictures
                .svg(&lake, &name, &view, picture::limits(&limits))
                .await
        })
        .await
        .map_err(secviz_views::ViewError::from)
        .and_then(|r| r);
    let svg = match drawn {
        Ok(s) => s,
        Err(e) => error_svg(&format!("The view could not be drawn: {e}")),
    };
    Ok(svg_response(svg))
}

/// An SVG with a message (a preview that failed), text escaped.
fn error_svg(msg: &str) -> String {
    let esc = msg
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="60" viewBox="0 0 800 60"><text x="10" y="35" font-family="sans-serif" font-size="14" fill="#a00">{esc}</text></svg>"##
    )
}

/// An SVG answer that can do nothing but be looked at.
pub fn svg_response(svg: String) -> Response {
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
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// `POST /drafts/{id}/data`: attach (new) data to a draft.
pub async fn attach(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    post_form::check_csrf(&visit, &mut mp).await?;
    let me = visit.require_user()?;
    let draft = drafts::get_owned(&state.db, super::id(&id)?, me.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sub = post_form::read(&state, me, mp, None).await?;
    let form = recipe_form(&draft.recipe);
    let text = DraftText {
        title: draft.title.clone(),
        body: draft.body.clone(),
        tags: split_tags(&draft.tags),
    };
    let queued = super::data_upload::queue(&state, me.id, &sub).await;
    match queued {
        Ok(Ok(dataset)) => {
            let old = draft.dataset_id.clone();
            let mut tx = state.db.pool.begin().await?;
            drafts::set_dataset(&mut tx, draft.id, me.id, dataset.as_str(), state.now()).await?;
            tx.commit().await?;
            if let Some(old) = old {
                crate::data::release(&state, &old, me.id).await?;
            }
            Ok(redirect(&format!("/drafts/{}", draft.id)))
        }
        Ok(Err((status, errors))) => page(&state, &visit, &draft, form, text, errors, status).await,
        Err(e) => Err(e),
    }
}
