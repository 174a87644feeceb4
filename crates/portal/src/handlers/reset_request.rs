//! GET/POST /reset — mails a single-use, expiring link. The answer is the same whether or not
//! the address has an account (no account discovery). A new request voids older links.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, render};
use crate::auth;
use crate::db::{resets, users};
use crate::domain::Email;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, ResetRequestPage};

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn form(visit: Visit) -> Result<Response, AppError> {
    render(
        StatusCode::OK,
        &ResetRequestPage {
            chrome: Chrome::with_forms(&visit),
            sent: false,
            email: String::new(),
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<ResetForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let limit = state.config.limits.resets_per_hour;
    let email = Email::parse(&f.email).ok();
    let account_key = format!(
        "reset-account:{}",
        email.as_ref().map(|e| e.as_str()).unwrap_or("")
    );
    if !state
        .limiter
        .take(&format!("reset-ip:{}", visit.ip), limit, 3600)
        .await
        || !state.limiter.take(&account_key, limit, 3600).await
    {
        tracing::warn!(target: "security", event = "rate_limited", what = "reset", ip = %visit.ip);
        return Err(AppError::TooManyRequests);
    }
    if let Some(email) = &email
        && let Some(user) = users::find_by_email(&state.db, email).await?
    {
        let token = auth::new_token();
        resets::create(
            &state.db,
            &auth::token_hash(&token),
            user.id,
            state.now(),
            state.config.reset_ttl_secs,
        )
        .await?;
        let minutes = state.config.reset_ttl_secs / 60;
        let body = format!(
            "Hello {},\n\nsomeone (hopefully you) asked to reset your secviz password.\nSet a new one here; the link works once and expires in {minutes} minutes:\n\n{}/reset/{token}\n\nIf you did not ask, ignore this mail: your password stays as it is.\n",
            user.username,
            state.public_url()
        );
        state
            .mailer
            .send(email, "Reset your secviz password", body)
            .await?;
        tracing::info!(target: "security", event = "reset_requested", user = ?user.username);
    }
    render(
        StatusCode::OK,
        &ResetRequestPage {
            chrome: Chrome::with_forms(&visit),
            sent: true,
            email: f.email,
        },
    )
}
