//! GET /admin — the tag list and members' roles (admins only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::db::{tags, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{AdminPage, Chrome, UserAdminView};
use crate::web::Visitor;

/// The admin, or 401/403.
pub fn require_admin(v: &Visitor) -> Result<&crate::web::CurrentUser, AppError> {
    let me = v.require_user()?;
    if !me.role.can_administer() {
        tracing::warn!(target: "security", event = "forbidden", what = "admin", user = ?me.username);
        return Err(AppError::Forbidden);
    }
    Ok(me)
}

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    require_admin(&visit)?;
    page(
        &state,
        &visit,
        vec![],
        String::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn page(
    state: &AppState,
    v: &Visitor,
    errors: Vec<String>,
    new_slug: String,
    new_description: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let tpl = AdminPage {
        chrome: Chrome::new(v),
        tags: tags::list(&state.db).await?,
        users: users::list(&state.db)
            .await?
            .into_iter()
            .map(|u| UserAdminView {
                role: u.role().as_str().to_string(),
                name: u.username,
            })
            .collect(),
        errors,
        new_slug,
        new_description,
    };
    render(status, &tpl)
}
