//! Withdrawal (issue 14): a post's data leaves the public with the post, everywhere.
//!
//! A remix "with its data" does not copy the dataset: its `post_data` row names the same
//! dataset, which stays its owner's. The read rule (`db::datasets::may_read`) lets the public
//! read a dataset only while a visible post *of its owner* publishes it, so once the owner
//! deletes that post, or a moderator hides it, every route that reads the dataset (the SQL
//! API, the viewer's API, the downloads, the pictures) refuses it for the post and for every
//! remix of it at once. What is left to do is here, run after the post changed:
//!
//! - [`settle`]: once no visible post of the owner publishes the dataset, its cached pictures
//!   are removed (drawn again on demand, e.g. after unhiding) and the page cache is cleared;
//!   and once nothing of the owner uses it (no post, hidden or not, and no draft of theirs),
//!   it is [`purge`]d.
//! - [`purge`]: the dataset goes for good — its row, its files in the lake, its pictures, and
//!   what other members' posts kept of it (the thumbnails drawn from it and the findings of
//!   an analysis). Remixes stay, saying the data was withdrawn by its author.
//!
//! Hiding keeps everything on disk (thumbnails of remixes included, unreachable through the
//! read rule) so that unhiding restores it; deleting does not come back.

use super::ids::DatasetId;
use crate::db::ids::{PostId, UserId};
use crate::db::{datasets, post_data, posts};
use crate::state::AppState;

/// Deletes post `id` of `author` (its comments, tags and images too) and withdraws its data.
/// False when no such post of theirs exists.
pub async fn delete_post(state: &AppState, id: PostId, author: UserId) -> anyhow::Result<bool> {
    // Read first: the post's data row goes with the post.
    let dataset = post_data::get(&state.db, id)
        .await?
        .and_then(|pd| pd.dataset_id);
    let Some(images) = posts::delete(&state.db, id, author).await? else {
        return Ok(false);
    };
    for img in images {
        state.images.remove(&img).await;
    }
    if let Some(ds) = dataset {
        settle(state, &ds).await?;
    }
    Ok(true)
}

/// Withdraws the data of post `id` if hiding it took the data from the public.
pub async fn post_hidden(state: &AppState, id: PostId) -> anyhow::Result<()> {
    if let Some(ds) = post_data::get(&state.db, id)
        .await?
        .and_then(|pd| pd.dataset_id)
    {
        settle(state, &ds).await?;
    }
    Ok(())
}

/// After a post carrying dataset `id` was deleted or hidden: nothing to do while a visible
/// post of its owner still publishes it; otherwise its pictures go, and the dataset itself
/// when its owner no longer uses it.
pub async fn settle(state: &AppState, id: &str) -> anyhow::Result<()> {
    let Some(parsed) = DatasetId::parse(id) else {
        return Ok(());
    };
    let Some(row) = datasets::get(&state.db, id).await? else {
        return Ok(());
    };
    if datasets::is_public(&state.db, id).await? {
        return Ok(());
    }
    state.pictures.forget(&parsed.lake_name()).await;
    let purged = purge(state, &parsed, row.owner_id).await?;
    // Every write already clears it (`web::cache`); said here too because the pages of
    // remixes must never show withdrawn data, whatever route withdrew it.
    state.invalidate_pages().await;
    tracing::info!(event = "data_withdrawn", dataset = id, purged);
    Ok(())
}

/// Removes dataset `id` of `owner` for good if nothing of the owner's uses it any more (see
/// `db::datasets::purge`): the row, the thumbnails other posts drew from it, the lake's files
/// and the pictures. Returns whether it was removed.
pub async fn purge(state: &AppState, id: &DatasetId, owner: UserId) -> anyhow::Result<bool> {
    // A job still running for it finds the row gone when it ends and removes its files.
    let Some(thumbs) = datasets::purge(&state.db, id.as_str(), owner).await? else {
        return Ok(false);
    };
    for img in thumbs {
        state.images.remove(&img).await;
    }
    let name = id.lake_name();
    match state.lake.remove(&name).await {
        Ok(_) | Err(secviz_lake::LakeError::NotFound(_)) => {}
        Err(e) => {
            tracing::warn!(dataset = id.as_str(), error = %e, "removing a dataset's files failed")
        }
    }
    state.pictures.forget(&name).await;
    Ok(true)
}
