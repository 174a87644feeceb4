//! Who is asking. A middleware loads the session (only when a session cookie is present),
//! enforces the idle and absolute timeouts, and puts a [`Visitor`] into the request. After the
//! handler it sets the anonymous CSRF cookie if a page handed out a token, and clears a dead
//! session cookie.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::cookies;
use crate::auth;
use crate::db::ids::UserId;
use crate::db::sessions;
use crate::domain::Role;
use crate::error::AppError;
use crate::state::AppState;

/// A logged-in member.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub csrf: String,
    /// SHA-256 of the session token (to end this session or keep it).
    pub session_hash: String,
}

/// The visitor of one request.
#[derive(Debug)]
pub struct Visitor {
    pub user: Option<CurrentUser>,
    pub ip: std::net::IpAddr,
    anon_csrf: Option<String>,
    new_anon_csrf: OnceLock<String>,
    /// Set when a page asked for the CSRF token (it is in the page: never shared).
    token_asked: AtomicBool,
}

impl Visitor {
    /// The member, or 401 (the page says how to log in).
    pub fn require_user(&self) -> Result<&CurrentUser, AppError> {
        self.user.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The CSRF token for forms on this page. Members have one per session; anonymous
    /// visitors get a random one in a cookie (double submit), set when first needed.
    pub fn csrf_token(&self) -> String {
        self.token_asked.store(true, Ordering::Relaxed);
        if let Some(u) = &self.user {
            return u.csrf.clone();
        }
        if let Some(t) = &self.anon_csrf {
            return t.clone();
        }
        self.new_anon_csrf.get_or_init(auth::new_token).clone()
    }

    /// True when this request's page holds the visitor's CSRF token (so it is theirs alone).
    pub fn handed_out_token(&self) -> bool {
        self.token_asked.load(Ordering::Relaxed)
    }

    /// Refuses a state change whose form token does not match (403).
    pub fn verify_csrf(&self, submitted: &str) -> Result<(), AppError> {
        let expected = match (&self.user, &self.anon_csrf) {
            (Some(u), _) => Some(u.csrf.as_str()),
            (None, Some(t)) => Some(t.as_str()),
            (None, None) => None,
        };
        match expected {
            Some(e) if auth::same(e, submitted) => Ok(()),
            _ => Err(AppError::Csrf),
        }
    }

    pub fn can_moderate(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.can_moderate())
    }
}

pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secure = state.config.secure();
    let (mut parts, body) = req.into_parts();
    let ip = super::client_ip(&parts, state.config.trust_proxy);
    let anon_csrf = cookies::read(&parts.headers, cookies::csrf_name(secure));
    let mut clear_session = false;
    let mut user = None;
    if let Some(token) = cookies::read(&parts.headers, cookies::session_name(secure)) {
        let read_only = matches!(parts.method, Method::GET | Method::HEAD);
        match load(&state, &token, read_only).await {
            Ok(Some(u)) => user = Some(u),
            Ok(None) => clear_session = true,
            Err(e) => return AppError::Internal(e.into()).into_response_with_log(),
        }
    }
    let visitor = Arc::new(Visitor {
        user,
        ip,
        anon_csrf,
        new_anon_csrf: OnceLock::new(),
        token_asked: AtomicBool::new(false),
    });
    parts.extensions.insert(visitor.clone());
    req = Request::from_parts(parts, body);
    let mut resp = next.run(req).await;
    if let Some(t) = visitor.new_anon_csrf.get() {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set_cookie(cookies::csrf_name(secure), t, 12 * 3600, secure),
        );
    }
    if clear_session && !resp.headers().contains_key(header::SET_COOKIE) {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set_cookie(cookies::session_name(secure), "", 0, secure),
        );
    }
    resp
}

/// The session's member if the session exists and has not timed out. A read (`GET`,
/// `HEAD`) may be answered from the remembered sessions; anything else reads the table
/// (see `session_memory`).
async fn load(
    state: &AppState,
    token: &str,
    read_only: bool,
) -> Result<Option<CurrentUser>, sqlx::Error> {
    let hash = auth::token_hash(token);
    let now = state.now();
    let timed_out = |s: &sessions::SessionRow| {
        now - s.last_seen >= state.config.session_idle_secs
            || now - s.created_at >= state.config.session_absolute_secs
    };
    let recalled = read_only
        .then(|| state.sessions.recall(&hash, now))
        .flatten()
        // Timeouts are decided on the stored row: another instance may have seen it since.
        .filter(|s| !timed_out(s));
    let s = match recalled {
        Some(s) => s,
        None => {
            let generation = state.sessions.generation();
            let Some(s) = sessions::load(&state.db, &hash).await? else {
                return Ok(None);
            };
            if timed_out(&s) {
                sessions::delete(&state.db, &hash).await?;
                return Ok(None);
            }
            state.sessions.remember(&hash, &s, generation, now);
            s
        }
    };
    // Write at most once a minute per session: reads stay reads.
    if now - s.last_seen >= 60 {
        sessions::touch(&state.db, &hash, now).await?;
        state.sessions.seen(&hash, now);
    }
    Ok(Some(CurrentUser {
        id: s.user_id,
        username: s.username,
        role: Role::parse(&s.role).unwrap_or(Role::Member),
        csrf: s.csrf,
        session_hash: hash,
    }))
}

/// Starts a session for `user_id` with a new random id (never reusing one the visitor
/// brought: no fixation) and returns its cookie.
pub async fn start_session(
    state: &AppState,
    user_id: UserId,
) -> Result<axum::http::HeaderValue, AppError> {
    let token = auth::new_token();
    sessions::create(
        &state.db,
        &auth::token_hash(&token),
        user_id,
        &auth::new_token(),
        state.now(),
    )
    .await?;
    let secure = state.config.secure();
    Ok(cookies::set_cookie(
        cookies::session_name(secure),
        &token,
        state.config.session_absolute_secs,
        secure,
    ))
}
