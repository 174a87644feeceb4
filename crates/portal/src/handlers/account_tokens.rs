//! POST /account/tokens and /account/tokens/{id}/revoke — API tokens for live ingest over
//! HTTP (`live_ingest`). A token is scoped to one of the member's ready datasets, lives at
//! most a year, is shown once when made, and is stored as the SHA-256 of its secret only.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Visit;
use super::account::{TokenForm, page, page_with};
use crate::auth;
use crate::db::states::DatasetStatus;
use crate::db::{datasets, tokens};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    dataset: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    days: String,
}

pub async fn create(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<CreateForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let label = f.label.trim();
    let mut errors = Vec::new();
    if label.is_empty() || label.chars().count() > 64 {
        errors.push("Give the token a name of 1 to 64 characters (where it is used).".to_string());
    }
    let days = match f.days.trim().parse::<i64>() {
        Ok(d) if (1..=tokens::MAX_DAYS).contains(&d) => d,
        _ => {
            errors.push(format!("A token lives 1 to {} days.", tokens::MAX_DAYS));
            0
        }
    };
    let ds = datasets::get_owned(&state.db, &f.dataset, me.id).await?;
    if !ds
        .as_ref()
        .is_some_and(|d| d.status == DatasetStatus::Ready)
    {
        errors.push("Choose one of your datasets that is ready.".to_string());
    }
    if tokens::count_of_owner(&state.db, me.id).await? >= tokens::MAX_PER_OWNER {
        errors.push(format!(
            "You have {} tokens; revoke one you no longer use first.",
            tokens::MAX_PER_OWNER
        ));
    }
    let form = TokenForm {
        new_token: None,
        label: f.label.clone(),
        days: f.days.clone(),
    };
    if !errors.is_empty() {
        return page_with(
            &state,
            &visit,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
        )
        .await;
    }
    let id = hex::encode(rand::random::<[u8; 8]>());
    let secret = auth::new_token();
    let now = state.clock.now();
    tokens::insert(
        &state.db,
        tokens::NewToken {
            id: &id,
            owner_id: me.id,
            dataset_id: &f.dataset,
            label,
            secret_hash: &auth::token_hash(&secret),
            now,
            expires_at: now + days * 86_400,
        },
    )
    .await?;
    tracing::info!(target: "security", event = "api_token_created", token = %id, user = ?me.username);
    let token = format!("svz_{id}_{secret}");
    page_with(
        &state,
        &visit,
        Some("Token made. Copy it now: it is shown this once.".into()),
        vec![],
        StatusCode::OK,
        TokenForm {
            new_token: Some(token),
            ..TokenForm::default()
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(f): Form<RevokeForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let now = state.clock.now();
    if !tokens::revoke(&state.db, me.id, &id, now).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(target: "security", event = "api_token_revoked", token = %id, user = ?me.username);
    page(
        &state,
        &visit,
        Some("Token revoked: it no longer works.".into()),
        vec![],
        StatusCode::OK,
    )
    .await
}
