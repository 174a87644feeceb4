//! GET/POST /reset/{token} — sets a new password with a reset link. The token is consumed by
//! one atomic UPDATE (single use), every session of the member ends, and the member is told by mail.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect, render};
use crate::auth;
use crate::db::{resets, sessions, users};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Chrome, ResetConfirmPage};

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

fn invalid_link() -> AppError {
    AppError::BadRequest(
        "This reset link is invalid, used or expired. Ask for a new one at /reset.".into(),
    )
}

fn plausible(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn form(
    State(state): State<AppState>,
    visit: Visit,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !plausible(&token)
        || resets::peek(&state.db, &auth::token_hash(&token), state.now())
            .await?
            .is_none()
    {
        return Err(invalid_link());
    }
    render(
        StatusCode::OK,
        &ResetConfirmPage {
            chrome: Chrome::with_forms(&visit),
            token,
            errors: vec![],
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Path(token): Path<String>,
    Form(f): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    if !plausible(&token) {
        return Err(invalid_link());
    }
    let hash = auth::token_hash(&token);
    let user_id = resets::peek(&state.db, &hash, state.now())
        .await?
        .ok_or_else(invalid_link)?;
    let user = users::find_by_id(&state.db, user_id)
        .await?
        .ok_or_else(invalid_link)?;
    let password = match Password::parse_new(&f.password, Some(&user.username)) {
        Ok(p) => p,
        Err(e) => {
            let tpl = ResetConfirmPage {
                chrome: Chrome::with_forms(&visit),
                token,
                errors: vec![e.0],
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &tpl);
        }
    };
    let Ok(ticket) = state.hashing.admit() else {
        let tpl = ResetConfirmPage {
            chrome: Chrome::with_forms(&visit),
            token,
            errors: vec![super::HASH_BUSY.into()],
        };
        let page = render(StatusCode::TOO_MANY_REQUESTS, &tpl)?;
        return Ok(super::too_many(page, crate::hash_pool::RETRY_AFTER_SECS));
    };
    let new_hash = auth::hash_password(ticket, &password).await?;
    // Consume last, atomically: of two racing submissions only one gets the user id.
    let Some(user_id) = resets::consume(&state.db, &hash, state.now()).await? else {
        return Err(invalid_link());
    };
    users::set_password(&state.db, user_id, &new_hash).await?;
    sessions::delete_for_user(&state.db, user_id, None).await?;
    state.sessions_changed();
    tracing::info!(target: "security", event = "password_reset", user = ?user.username);
    if let Ok(email) = Email::parse(&user.email) {
        let body = format!(
            "Hello {},\n\nyour secviz password was just changed with a reset link, and every session was logged out.\nIf this was not you, reset it again at {}/reset and tell the administrators.\n",
            user.username,
            state.public_url()
        );
        state
            .mailer
            .send(&email, "Your secviz password was changed", body)
            .await?;
    }
    Ok(redirect("/login"))
}
