//! GET /account — password and email changes (both need the current password), and the
//! member's API tokens for live ingest (see `account_tokens`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visit, render};
use crate::clock::rfc3339;
use crate::db::states::DatasetStatus;
use crate::db::tokens::{self, TokenState};
use crate::db::{datasets, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{AccountPage, Chrome, RejectView, TokenView};
use crate::web::Visitor;

/// Rejected lines shown per token (the latest; all are counted).
const SHOWN_REJECTS: usize = 5;

pub async fn show(State(state): State<AppState>, visit: Visit) -> Result<Response, AppError> {
    page(&state, &visit, None, vec![], StatusCode::OK).await
}

/// 429 when the hashing pool is full: the page again, saying when to retry.
pub async fn busy(state: &AppState, v: &Visitor) -> Result<Response, AppError> {
    let errors = vec![super::HASH_BUSY.into()];
    let page = page(state, v, None, errors, StatusCode::TOO_MANY_REQUESTS).await?;
    Ok(super::too_many(page, crate::hash_pool::RETRY_AFTER_SECS))
}

pub async fn page(
    state: &AppState,
    v: &Visitor,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    page_with(state, v, notice, errors, status, TokenForm::default()).await
}

/// What the token form adds to the page: a token just made, or the fields it failed with.
#[derive(Default)]
pub struct TokenForm {
    pub new_token: Option<String>,
    pub label: String,
    pub days: String,
}

pub async fn page_with(
    state: &AppState,
    v: &Visitor,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
    form: TokenForm,
) -> Result<Response, AppError> {
    let me = v.require_user()?;
    let user = users::find_by_id(&state.db, me.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let now = state.clock.now();
    let owned = datasets::of_owner(&state.db, me.id).await?;
    let label_of = |id: &str| {
        owned
            .iter()
            .find(|d| d.id == id)
            .map_or_else(|| id.to_string(), |d| format!("{} ({})", d.label, d.id))
    };
    let tokens = tokens::of_owner(&state.db, me.id).await?;
    // What each token's lines became, from its dataset's record of the source: the
    // member sees what was stored and what was rejected, with line numbers and reasons.
    let mut manifests = std::collections::HashMap::new();
    for t in &tokens {
        if !manifests.contains_key(&t.dataset_id) {
            let m = match secviz_lake::DatasetName::parse(&t.dataset_id) {
                Ok(name) => state.lake.manifest(&name).await.ok().flatten(),
                Err(_) => None,
            };
            manifests.insert(t.dataset_id.clone(), m);
        }
    }
    let tokens = tokens
        .into_iter()
        .map(|t| {
            let record = manifests
                .get(&t.dataset_id)
                .and_then(Option::as_ref)
                .and_then(|m| m.streams.get(&format!("http-{}", t.id)));
            (t, record)
        })
        .map(|(t, record)| TokenView {
            lines: record.map_or_else(
                || "none yet".to_string(),
                |r| {
                    let rejected = r.summary.rejected_total();
                    format!(
                        "{} read, {} stored, {rejected} rejected",
                        r.summary.read, r.summary.parsed
                    )
                },
            ),
            // The latest first, as kept.
            rejects: record.map_or_else(Vec::new, |r| {
                r.rejects
                    .iter()
                    .rev()
                    .take(SHOWN_REJECTS)
                    .map(|x| RejectView {
                        line: x.line,
                        reason: x.reason.clone(),
                        detail: x.detail.clone(),
                        raw: x.raw.clone(),
                    })
                    .collect()
            }),
            dataset: label_of(&t.dataset_id),
            created: rfc3339(t.created_at),
            expires: rfc3339(t.expires_at),
            last_used: t
                .last_used_at
                .map(rfc3339)
                .unwrap_or_else(|| "never".into()),
            state: match t.state(now) {
                TokenState::Active => "active",
                TokenState::Expired => "expired",
                TokenState::Revoked => "revoked",
            },
            id: t.id,
            label: t.label,
        })
        .collect();
    let datasets = owned
        .iter()
        .filter(|d| d.status == DatasetStatus::Ready)
        .map(|d| (d.id.clone(), format!("{} ({})", d.label, d.id)))
        .collect();
    render(
        status,
        &AccountPage {
            chrome: Chrome::new(v),
            email: user.email,
            notice,
            errors,
            new_token: form.new_token,
            tokens,
            datasets,
            token_label: form.label,
            api_base: state.public_url().to_string(),
            token_days: if form.days.is_empty() {
                tokens::DEFAULT_DAYS.to_string()
            } else {
                form.days
            },
        },
    )
}
