//! POST /logout — ends the session server-side, so a copied cookie stops working too.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;

use super::{Visit, redirect};
use crate::db::sessions;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::cookies;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visit: Visit,
    Form(f): Form<LogoutForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    if let Some(u) = &visit.user {
        sessions::delete(&state.db, &u.session_hash).await?;
        state.sessions_changed();
    }
    let secure = state.config.secure();
    let mut resp = redirect("/");
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::set_cookie(cookies::session_name(secure), "", 0, secure),
    );
    Ok(resp)
}
