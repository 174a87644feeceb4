//! POST /admin/users/{name}/role — admins make members moderators or admins. An admin cannot
//! demote themself (so the site always keeps one).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::admin::require_admin;
use super::{Visit, redirect};
use crate::db::users;
use crate::domain::{Role, Username};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
}

pub async fn set(
    State(state): State<AppState>,
    visit: Visit,
    Path(name): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, AppError> {
    visit.verify_csrf(&f.csrf)?;
    let me = require_admin(&visit)?;
    let name = Username::parse(&name).map_err(|_| AppError::NotFound)?;
    let role = Role::parse(&f.role).ok_or_else(|| AppError::BadRequest("Unknown role.".into()))?;
    if name.as_str() == me.username && role != Role::Admin {
        return super::admin::page(
            &state,
            &visit,
            vec!["You cannot demote yourself; ask another admin.".into()],
            String::new(),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !users::set_role(&state.db, name.as_str(), role).await? {
        return Err(AppError::NotFound);
    }
    state.sessions_changed();
    tracing::info!(target: "security", event = "admin", action = "role_set", member = name.as_str(), role = role.as_str(), admin = ?me.username);
    Ok(redirect("/admin"))
}
