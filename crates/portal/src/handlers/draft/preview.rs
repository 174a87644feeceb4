//! `GET /drafts/{id}/preview.svg`: the picture of the draft's recipe (owner only), drawn on
//! the query executor; a view that cannot be drawn gives an SVG that says why.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::load::owned;
use crate::data::policy::client_key;
use crate::data::recipe::Recipe;
use crate::data::{ids::DatasetId, picture};
use crate::db::datasets::{self, Reader};
use crate::error::AppError;
use crate::handlers::Visit;
use crate::state::AppState;

pub async fn preview(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    let draft = owned(&state, &id, me.id).await?;
    let recipe = Recipe::from_json(&draft.recipe).ok_or(AppError::NotFound)?;
    let ds = draft
        .dataset_id
        .as_deref()
        .and_then(DatasetId::parse)
        .ok_or(AppError::NotFound)?;
    let reader = Reader {
        user: Some(me.id),
        moderator: false,
    };
    if !datasets::may_read(&state.db, ds.as_str(), reader).await? {
        return Err(AppError::NotFound);
    }
    let limits = state.query_limits();
    let (pictures, lake, name, view) = (
        state.pictures.clone(),
        state.lake.clone(),
        ds.lake_name(),
        recipe.view,
    );
    let drawn = state
        .member_job(&client_key(&visit), limits, move || async move {
            pictures
                .svg(&lake, &name, &view, picture::limits(&limits))
                .await
        })
        .await
        .map_err(secviz_views::ViewError::from)
        .and_then(|r| r);
    let svg = match drawn {
        Ok(s) => s,
        Err(e) => error_svg(&format!("The view could not be drawn: {e}")),
    };
    Ok(svg_response(svg))
}

/// An SVG with a message (a preview that failed), text escaped and wrapped at about 95
/// characters a line, so a long reason is read whole, not cut at the right edge.
fn error_svg(msg: &str) -> String {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut lines: Vec<String> = vec![String::new()];
    for word in msg.split_whitespace() {
        let last = lines.last_mut().expect("one line");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > 95 {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    let height = 20 + 20 * lines.len();
    let texts: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!(r#"<text x="10" y="{}">{}</text>"#, 30 + 20 * i, esc(l)))
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="{height}" viewBox="0 0 800 {height}"><g font-family="sans-serif" font-size="14" fill="#a00">{texts}</g></svg>"##
    )
}

/// An SVG answer that can do nothing but be looked at.
pub fn svg_response(svg: String) -> Response {
    let mut r = (StatusCode::OK, svg).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::web::headers::UPLOAD_CSP),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}
