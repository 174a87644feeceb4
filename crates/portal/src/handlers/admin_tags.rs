//! POST /admin/tags and /admin/tags/{slug}/delete — admins curate the tag list.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::admin::require_admin;
use super::{Visit, redirect};
use crate::db::tags;
use crate::domain::{TagSlug, short_text};
use crate::error::AppError;
use crate::handlers::moderate::CsrfOnly;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
}

pub async fn save(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<TagForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = require_admin(&visit)?;
    let slug = TagSlug::parse(&f.slug);
    let description = short_text(&f.description, 300, "A description");
    let (slug, description) = match (slug, description) {
        (Ok(s), Ok(d)) => (s, d),
        (s, d) => {
            let errors = [s.err(), d.err()]
                .into_iter()
                .flatten()
                .map(|e| e.0)
                .collect();
            return super::admin::page(
                &state,
                &visit,
                errors,
                f.slug,
                f.description,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    tags::upsert(&state.db, &slug, &description, state.now()).await?;
    tracing::info!(target: "security", event = "admin", action = "tag_saved", tag = slug.as_str(), admin = ?me.username);
    Ok(redirect("/admin"))
}

pub async fn delete(
    State(state): State<AppState>,
    visit: Visit,
    Path(slug): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = require_admin(&visit)?;
    let slug = TagSlug::parse(&slug).map_err(|_| AppError::NotFound)?;
    if !tags::delete(&state.db, slug.as_str()).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(target: "security", event = "admin", action = "tag_deleted", tag = slug.as_str(), admin = ?me.username);
    Ok(redirect("/admin"))
}
