//! `POST /drafts/{id}`: `action` is `save` (also the preview), `publish` or `delete`. Saving
//! keeps what was typed even when the view has problems; publishing saves first, then checks
//! the text and the member's posting rate and makes the post.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::load::{DraftText, owned};
use super::page::page;
use crate::data::publish;
use crate::data::recipe::{Recipe, ViewForm};
use crate::db::ids::{PostId, UserId};
use crate::db::{datasets, drafts, tags};
use crate::domain::{PostBody, TagSlug, Title};
use crate::error::AppError;
use crate::handlers::draft_form::parse_submit;
use crate::handlers::{Visit, redirect};
use crate::state::AppState;
use crate::web::Visitor;

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let sub = parse_submit(&body);
    visit.verify_csrf(&sub.csrf)?;
    let me = visit.require_user()?;
    let draft = owned(&state, &id, me.id).await?;
    if sub.action == "delete" {
        return delete(&state, &draft, me.id).await;
    }
    let form = sub.view.into_form();
    let text = DraftText {
        title: sub.title,
        body: sub.body,
        tags: sub.tags,
    };
    let (recipe, errors) = recipe_of(&state, &draft, &form).await?;
    let draft = save(&state, &draft, me.id, &form, &text, recipe.as_ref()).await?;
    if sub.action != "publish" || !errors.is_empty() {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return page(&state, &visit, &draft, form, text, errors, status).await;
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let post_text = match validate_text(&state, &text).await? {
        Ok(t) => t,
        Err(e) => return page(&state, &visit, &draft, form, text, e, unprocessable).await,
    };
    let Some(recipe) = recipe else {
        return page(&state, &visit, &draft, form, text, errors, unprocessable).await;
    };
    if !state
        .limiter
        .take(
            &format!("post:{}", me.id),
            state.config.limits.posts_per_hour,
            3600,
        )
        .await
    {
        let e =
            vec!["You have posted a lot this hour; wait a little and publish again.".to_string()];
        let status = StatusCode::TOO_MANY_REQUESTS;
        return page(&state, &visit, &draft, form, text, e, status).await;
    }
    let published = publish::publish(&state, me.id, &draft, &post_text, &recipe).await;
    respond_published(&state, &visit, &draft, form, text, &recipe, published).await
}

/// Deletes the draft, and its dataset when nothing else of the member uses it.
async fn delete(
    state: &AppState,
    draft: &drafts::DraftRow,
    me: UserId,
) -> Result<Response, AppError> {
    if let Some(Some(ds)) = drafts::delete(&state.db, draft.id, me).await? {
        crate::data::release(state, &ds, me).await?;
    }
    tracing::info!(event = "draft_deleted", draft = %draft.id);
    Ok(redirect("/drafts"))
}

/// The recipe of the view form over the draft's dataset, or what is wrong with the form.
async fn recipe_of(
    state: &AppState,
    draft: &drafts::DraftRow,
    form: &ViewForm,
) -> Result<(Option<Recipe>, Vec<String>), AppError> {
    let dataset = draft.dataset_id.clone().unwrap_or_default();
    match form.to_spec(&dataset) {
        Ok((view, analysis)) => {
            let parser = match draft.dataset_id.as_deref() {
                Some(id) => datasets::get(&state.db, id)
                    .await?
                    .and_then(|d| serde_json::from_str(&d.parse).ok())
                    .unwrap_or_default(),
                None => Default::default(),
            };
            let recipe = Recipe {
                version: 1,
                dataset,
                parser,
                view,
                analysis,
                form: form.clone(),
            };
            Ok((Some(recipe), Vec::new()))
        }
        Err(e) => Ok((None, e)),
    }
}

/// Stores what was typed and returns the draft as saved. The draft keeps the form even when
/// the view has problems (then with the recipe it had).
async fn save(
    state: &AppState,
    draft: &drafts::DraftRow,
    me: UserId,
    form: &ViewForm,
    text: &DraftText,
    recipe: Option<&Recipe>,
) -> Result<drafts::DraftRow, AppError> {
    let recipe_json = match recipe {
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
        me,
        &drafts::DraftUpdate {
            title: &crate::markdown::cut(&text.title, 200),
            body: &text.body,
            tags: &text.tags.join(","),
            recipe: &recipe_json,
        },
        state.now(),
    )
    .await?;
    drafts::get_owned(&state.db, draft.id, me)
        .await?
        .ok_or(AppError::NotFound)
}

/// The post's text, checked; or every problem with it.
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

/// To the new post; or the draft page again with why publishing was refused.
async fn respond_published(
    state: &AppState,
    v: &Visitor,
    draft: &drafts::DraftRow,
    form: ViewForm,
    text: DraftText,
    recipe: &Recipe,
    published: Result<PostId, publish::PublishError>,
) -> Result<Response, AppError> {
    match published {
        Ok(post) => {
            tracing::info!(event = "data_post_published", post = %post, draft = %draft.id, dataset = %recipe.dataset);
            Ok(redirect(&format!("/p/{post}")))
        }
        Err(publish::PublishError::Member(m)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(state, v, draft, form, text, vec![m], status).await
        }
        Err(publish::PublishError::Internal(e)) => Err(AppError::Internal(e)),
    }
}
