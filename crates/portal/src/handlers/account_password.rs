//! POST /account/password — needs the current password; ends every other session of the
//! member and tells them by mail.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Visit;
use crate::auth;
use crate::db::{sessions, users};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<PasswordForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = visit.require_user()?;
    let user = users::find_by_id(&state.db, me.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    // A wrong current password counts as a failed log-in of the account (reserved first, so
    // concurrent guesses cannot overtake the limit).
    let key = format!("login-account:{}", user.username);
    let limit = state.config.limits.login_failures_per_minute;
    let Some(slot) = state.limiter.reserve(&[&key], limit, 60).await else {
        return Err(AppError::TooManyRequests);
    };
    // Two hashes: the current password checked, the new one stored.
    let (Ok(check), Ok(store)) = (state.hashing.admit(), state.hashing.admit()) else {
        drop(slot);
        return super::account::busy(&state, &visit).await;
    };
    if !auth::verify_password(
        check,
        Some(user.password_hash.clone()),
        &Password::typed(&f.current),
    )
    .await?
    {
        slot.keep();
        tracing::warn!(target: "security", event = "reauth_failed", user = ?user.username);
        return super::account::page(
            &state,
            &visit,
            None,
            vec!["The current password is wrong.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // The password was right: not a failure.
    drop(slot);
    let new = match Password::parse_new(&f.new, Some(&user.username)) {
        Ok(p) => p,
        Err(e) => {
            return super::account::page(
                &state,
                &visit,
                None,
                vec![e.0],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    users::set_password(&state.db, user.id, &auth::hash_password(store, &new).await?).await?;
    sessions::delete_for_user(&state.db, user.id, Some(&me.session_hash)).await?;
    state.sessions_changed();
    tracing::info!(target: "security", event = "password_changed", user = ?user.username);
    if let Ok(email) = Email::parse(&user.email) {
        let body = format!(
            "Hello {},\n\nthe password of your secviz account was changed and your other sessions were logged out.\nIf this was not you, reset it at {}/reset and tell the administrators.\n",
            user.username,
            state.public_url()
        );
        state
            .mailer
            .send(&email, "Your secviz password was changed", body)
            .await?;
    }
    super::account::page(
        &state,
        &visit,
        Some("Password changed. Other sessions were logged out.".into()),
        vec![],
        StatusCode::OK,
    )
    .await
}
