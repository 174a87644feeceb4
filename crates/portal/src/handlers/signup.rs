//! GET/POST /signup — create an account, then log in. Limited per client address; when the
//! hashing pool is full the visitor gets 429 with `Retry-After` and the form as typed.

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{HASH_BUSY, Visit, redirect, render, too_many};
use crate::auth;
use crate::db::users::{self, CreateUserError};
use crate::domain::{Email, Password, Role, Username};
use crate::error::AppError;
use crate::hash_pool::RETRY_AFTER_SECS;
use crate::state::AppState;
use crate::views::{Chrome, SignupPage};
use crate::web::visitor::start_session;

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn form(visit: Visit) -> Result<Response, AppError> {
    let tpl = SignupPage {
        chrome: Chrome::with_forms(&visit),
        username: String::new(),
        email: String::new(),
        errors: vec![],
    };
    render(StatusCode::OK, &tpl)
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<SignupForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let limit = state.config.limits.signups_per_hour;
    let Some(slot) = state
        .limiter
        .reserve(&[&format!("signup-ip:{}", visit.ip)], limit, 3600)
        .await
    else {
        tracing::warn!(target: "security", event = "rate_limited", what = "signup", ip = %visit.ip);
        return Err(AppError::TooManyRequests);
    };
    let username = Username::parse(&f.username);
    let email = Email::parse(&f.email);
    let password = Password::parse_new(&f.password, username.as_ref().ok().map(|u| u.as_str()));
    let (username, email, password) = match (username, email, password) {
        (Ok(u), Ok(e), Ok(p)) => (u, e, p),
        (u, e, p) => {
            let errors = [u.err(), e.err(), p.err()]
                .into_iter()
                .flatten()
                .map(|e| e.0)
                .collect();
            slot.keep();
            return again(&visit, f, errors);
        }
    };
    let Ok(ticket) = state.hashing.admit() else {
        // Not counted: the visitor did nothing wrong and may try again in a moment.
        drop(slot);
        tracing::warn!(target: "security", event = "busy", what = "signup", ip = %visit.ip);
        return Ok(too_many(
            again(&visit, f, vec![HASH_BUSY.into()])?,
            RETRY_AFTER_SECS,
        ));
    };
    slot.keep();
    let hash = auth::hash_password(ticket, &password).await?;
    let id = match users::create(
        &state.db,
        &username,
        &email,
        &hash,
        Role::Member,
        state.now(),
    )
    .await
    {
        Ok(id) => id,
        Err(CreateUserError::Db(e)) => return Err(e.into()),
        Err(e) => return again(&visit, f, vec![e.to_string()]),
    };
    tracing::info!(target: "security", event = "signup", user = %username);
    let cookie = start_session(&state, id).await?;
    let mut resp = redirect("/");
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// The form again with what was typed (never the password) and what was wrong.
fn again(visit: &Visit, f: SignupForm, errors: Vec<String>) -> Result<Response, AppError> {
    let tpl = SignupPage {
        chrome: Chrome::with_forms(visit),
        username: f.username,
        email: f.email,
        errors,
    };
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl)?.into_response())
}
