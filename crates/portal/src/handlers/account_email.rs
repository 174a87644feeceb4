//! POST /account/email — needs the current password; the old address is told.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Visit;
use crate::auth;
use crate::db::users::{self, CreateUserError};
use crate::domain::{Email, Password};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    current: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<EmailForm>,
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
    let Ok(check) = state.hashing.admit() else {
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
    let email = match Email::parse(&f.email) {
        Ok(e) => e,
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
    match users::set_email(&state.db, user.id, &email).await {
        Ok(()) => {}
        Err(CreateUserError::Db(e)) => return Err(e.into()),
        Err(e) => {
            return super::account::page(
                &state,
                &visit,
                None,
                vec![e.to_string()],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    tracing::info!(target: "security", event = "email_changed", user = ?user.username);
    if let Ok(old) = Email::parse(&user.email) {
        let body = format!(
            "Hello {},\n\nthe email address of your secviz account was changed from this address to another one.\nIf this was not you, reset your password at {}/reset and tell the administrators.\n",
            user.username,
            state.public_url()
        );
        state
            .mailer
            .send(&old, "Your secviz email address was changed", body)
            .await?;
    }
    super::account::page(
        &state,
        &visit,
        Some("Email address changed.".into()),
        vec![],
        StatusCode::OK,
    )
    .await
}
