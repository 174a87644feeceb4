//! `POST /drafts/{id}/data`: attach (new) data to a draft, after a failed ingest or to a
//! remix without data. The upload is queued like a new data post's; the dataset the draft
//! had is released when nothing else of the member uses it.

use axum::extract::{Multipart, Path, State};
use axum::response::Response;

use super::load::{DraftText, owned, recipe_form};
use super::page::page;
use crate::db::drafts;
use crate::error::AppError;
use crate::handlers::{Visit, post_form, redirect};
use crate::state::AppState;

pub async fn attach(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    post_form::check_csrf(&visit, &mut mp).await?;
    let me = visit.require_user()?;
    let draft = owned(&state, &id, me.id).await?;
    let sub = post_form::read(&state, me, mp, None).await?;
    let form = recipe_form(&draft.recipe);
    let text = DraftText::of(&draft);
    let queued = crate::handlers::data_upload::queue(&state, me.id, &sub).await;
    match queued {
        Ok(Ok(dataset)) => {
            let old = draft.dataset_id.clone();
            let mut tx = state.db.pool.begin().await?;
            drafts::set_dataset(&mut tx, draft.id, me.id, dataset.as_str(), state.now()).await?;
            tx.commit().await?;
            if let Some(old) = old {
                crate::data::release(&state, &old, me.id).await?;
            }
            Ok(redirect(&format!("/drafts/{}", draft.id)))
        }
        Ok(Err((status, errors))) => page(&state, &visit, &draft, form, text, errors, status).await,
        Err(e) => Err(e),
    }
}
