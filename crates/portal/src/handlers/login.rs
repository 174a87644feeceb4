//! GET/POST /login — checks the password and starts a new session (new id: no fixation).
//! Failed attempts are limited per client address and per account; the answer never says
//! which of username and password was wrong.
//!
//! The failure slot is reserved before the password is checked (and given back when it was
//! right), so concurrent guesses cannot overtake the limit; the check itself waits for a place
//! on the hashing pool, and when there is none the visitor gets 429 with `Retry-After` and the
//! form with their user name.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::{HASH_BUSY, Visit, redirect, render, too_many};
use crate::auth;
use crate::db::{sessions, users};
use crate::domain::{Password, Username};
use crate::error::AppError;
use crate::hash_pool::RETRY_AFTER_SECS;
use crate::logtext;
use crate::state::AppState;
use crate::views::{Chrome, LoginPage};
use crate::web::visitor::start_session;

/// The failure window, in seconds.
const WINDOW_SECS: i64 = 60;

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
    // Only a valid user name can be an account: anything else has no account bucket (and no
    // megabyte-long key in the limiter's table) and no database lookup.
    let account = Username::parse(&name).ok();
    let ip_key = format!("login-ip:{}", visit.ip);
    let account_key = account.as_ref().map(|a| format!("login-account:{a}"));
    let mut keys = vec![ip_key.as_str()];
    keys.extend(account_key.as_deref());
    let limit = state.config.limits.login_failures_per_minute;
    let Some(slot) = state.limiter.reserve(&keys, limit, WINDOW_SECS).await else {
        tracing::warn!(target: "security", event = "rate_limited", what = "login", ip = %visit.ip, user = %logtext::typed(&name));
        let msg = "Too many failed log-ins. Wait a minute and try again.";
        return again(&visit, f.username, msg, WINDOW_SECS as u32);
    };
    let Ok(ticket) = state.hashing.admit() else {
        drop(slot);
        tracing::warn!(target: "security", event = "busy", what = "login", ip = %visit.ip);
        return again(&visit, f.username, HASH_BUSY, RETRY_AFTER_SECS);
    };
    let user = match &account {
        Some(a) => users::find_by_name(&state.db, a.as_str()).await?,
        None => None,
    };
    let ok = auth::verify_password(
        ticket,
        user.as_ref().map(|u| u.password_hash.clone()),
        &Password::typed(&f.password),
    )
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        slot.keep();
        tracing::warn!(target: "security", event = "login_failed", ip = %visit.ip, user = %logtext::typed(&name));
        let tpl = LoginPage {
            chrome: Chrome::with_forms(&visit),
            username: f.username,
            error: Some("Wrong username or password.".into()),
        };
        return render(StatusCode::UNAUTHORIZED, &tpl);
    };
    drop(slot);
    if let Some(k) = &account_key {
        state.limiter.clear(k).await;
    }
    // A session the visitor already had ends here: the new one gets a fresh id.
    if let Some(old) = &visit.user {
        sessions::delete(&state.db, &old.session_hash).await?;
        state.sessions_changed();
    }
    tracing::info!(target: "security", event = "login", user = ?user.username, ip = %visit.ip);
    let cookie = start_session(&state, user.id).await?;
    let mut resp = redirect("/");
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// 429: the form again with what was typed, the reason, and when to try again.
fn again(
    visit: &Visit,
    username: String,
    why: &str,
    retry_secs: u32,
) -> Result<Response, AppError> {
    let tpl = LoginPage {
        chrome: Chrome::with_forms(visit),
        username,
        error: Some(why.into()),
    };
    Ok(too_many(
        render(StatusCode::TOO_MANY_REQUESTS, &tpl)?,
        retry_secs,
    ))
}
