//! Add Post with data (issue 7): a post form that carries a log file or pasted lines
//! becomes a draft whose dataset is queued for the background ingest; the member lands on
//! the draft page at once (the request never waits for a parse). A problem with the data
//! (too large, a bad choice, too many uploads) shows the form again with everything typed.

use axum::http::StatusCode;
use axum::response::Response;

use super::post_form::{self, Submission};
use super::{Visit, redirect};
use crate::data::ids::DatasetId;
use crate::data::{UploadChoices, queue_ingest};
use crate::db::drafts::{self, NewDraft};
use crate::db::ids::UserId;
use crate::error::AppError;
use crate::state::AppState;

/// Stages and queues the data of a submission. `Ok(Err)` is the member's problem (status
/// and messages); the staged file is then removed.
pub async fn queue(
    state: &AppState,
    owner: UserId,
    sub: &Submission,
) -> Result<Result<DatasetId, (StatusCode, Vec<String>)>, AppError> {
    let drop_staged = || async {
        if let Some(r) = &sub.data_file {
            state.staging.remove(&r.staging_id).await;
        }
    };
    if !sub.refused.is_empty() {
        drop_staged().await;
        return Ok(Err((StatusCode::PAYLOAD_TOO_LARGE, sub.refused.clone())));
    }
    if let Some((status, msg)) = &sub.data_error {
        drop_staged().await;
        return Ok(Err((*status, vec![msg.clone()])));
    }
    let mut errors = Vec::new();
    let form = &sub.form;
    if !sub.has_data() {
        return Ok(Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["Attach a log file or paste its lines.".into()],
        )));
    }
    let format = match form.data_format.trim() {
        "" | "auto" => None,
        f => match f.parse::<secviz_parse::Format>() {
            Ok(f) => Some(f),
            Err(_) => {
                errors.push(format!(
                    "Unknown log format {}: choose one from the list.",
                    secviz_parse::quoted(f)
                ));
                None
            }
        },
    };
    let year = match form.data_year.trim() {
        "" => None,
        y => match y.parse::<i32>() {
            Ok(y) if (1970..=2100).contains(&y) => Some(y),
            _ => {
                errors.push("The year must be a number from 1970 to 2100.".into());
                None
            }
        },
    };
    let inside = match form.data_inside.trim() {
        "" => None,
        text => match text.parse::<secviz_lake::inside::InsideNetworks>() {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(format!(
                    "Your networks: {e}. Separate several with commas, or leave the field empty for the private ranges."
                ));
                None
            }
        },
    };
    if form.keep_addresses && !form.confirm_keep {
        errors.push(
            "You asked to keep the original addresses: tick the confirmation too, or leave anonymization on."
                .into(),
        );
    }
    if sub.data_file.is_some() && !form.data_text.trim().is_empty() {
        errors.push("Attach a file or paste lines, not both.".into());
    }
    if !errors.is_empty() {
        drop_staged().await;
        return Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, errors)));
    }
    if !state
        .limiter
        .take(
            &format!("data:{owner}"),
            state.config.limits.data_uploads_per_hour,
            3600,
        )
        .await
    {
        drop_staged().await;
        return Ok(Err((
            StatusCode::TOO_MANY_REQUESTS,
            vec!["You have uploaded a lot of data this hour; wait a little and try again.".into()],
        )));
    }
    let received = match &sub.data_file {
        Some(r) => r.clone(),
        None => state
            .staging
            .receive_text(&form.data_text)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
    };
    let choices = UploadChoices {
        format,
        year,
        anonymize: !(form.keep_addresses && form.confirm_keep),
        inside,
    };
    match queue_ingest(state, owner, &received, &choices).await {
        Ok(id) => {
            tracing::info!(event = "data_uploaded", dataset = %id, bytes = received.bytes, anonymize = choices.anonymize);
            Ok(Ok(id))
        }
        Err(e) => {
            state.staging.remove(&received.staging_id).await;
            Err(AppError::Internal(e))
        }
    }
}

/// `POST /new` with data: a draft, then its page.
pub async fn create(
    state: &AppState,
    visit: &Visit,
    sub: Submission,
) -> Result<Response, AppError> {
    let me = visit.require_user()?;
    match queue(state, me.id, &sub).await? {
        Ok(dataset) => {
            let tags = sub.form.tags.join(",");
            let mut tx = state.db.pool.begin().await?;
            let id = drafts::insert(
                &mut tx,
                &NewDraft {
                    owner_id: me.id,
                    title: &crate::markdown::cut(&sub.form.title, 200),
                    body: &sub.form.body,
                    tags: &tags,
                    dataset_id: Some(dataset.as_str()),
                    recipe: "",
                    remixed_from: None,
                    notice: "",
                    images: "",
                },
                state.now(),
            )
            .await?;
            tx.commit().await?;
            Ok(redirect(&format!("/drafts/{id}")))
        }
        Err((status, errors)) => {
            let mut form = sub.form;
            // A file is never sent back to the browser: the member attaches it again.
            form.confirm_keep = false;
            post_form::page(state, visit, None, form, errors, false, status).await
        }
    }
}
