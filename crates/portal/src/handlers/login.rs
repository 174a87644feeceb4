//! GET/POST /login — checks the password and starts a new session (new id: no fixation).
//! Failed attempts are limited per client address and per account; the answer never says
//! which of username and password was wrong.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect, render};
use crate::auth;
use crate::db::{sessions, users};
use crate::domain::Password;
use crate::error::AppError;
use crate::logtext;
use crate::state::AppState;
use crate::views::{Chrome, LoginPage};
use crate::web::visitor::start_session;

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn form(visit: Visit) -> Result<Response, AppError> {
    render(
        StatusCode::OK,
        &LoginPage {
            chrome: Chrome::with_forms(&visit),
            username: String::new(),
            error: None,
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let name = f.username.trim().to_ascii_lowercase();
    let ip_key = format!("login-ip:{}", visit.ip);
    let account_key = format!("login-account:{name}");
    let limit = state.config.limits.login_failures_per_minute;
    if !state.limiter.allows(&ip_key, limit, 60) || !state.limiter.allows(&account_key, limit, 60) {
        tracing::warn!(target: "security", event = "rate_limited", what = "login", ip = %visit.ip, user = %logtext::typed(&name));
        return Err(AppError::TooManyRequests);
    }
    let user = users::find_by_name(&state.db, &name).await?;
    let ok = auth::verify_password(
        user.as_ref().map(|u| u.password_hash.clone()),
        &Password::typed(&f.password),
    )
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        state.limiter.hit(&ip_key, 60);
        state.limiter.hit(&account_key, 60);
        tracing::warn!(target: "security", event = "login_failed", ip = %visit.ip, user = %logtext::typed(&name));
        let tpl = LoginPage {
            chrome: Chrome::with_forms(&visit),
            username: f.username,
            error: Some("Wrong username or password.".into()),
        };
        return render(StatusCode::UNAUTHORIZED, &tpl);
    };
    state.limiter.clear(&account_key);
    // A session the visitor already had ends here: the new one gets a fresh id.
    if let Some(old) = &visit.user {
        sessions::delete(&state.db, &old.session_hash).await?;
    }
    tracing::info!(target: "security", event = "login", user = ?user.username, ip = %visit.ip);
    let cookie = start_session(&state, user.id).await?;
    let mut resp = redirect("/");
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}
