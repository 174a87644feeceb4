//! Drafts of data posts (issue 7): the text a member wrote, the dataset and the view recipe,
//! private to their owner until published. Every query names the owner.

use sqlx::FromRow;

use super::ids::{DraftId, PostId, UserId};
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct DraftRow {
    pub id: DraftId,
    pub owner_id: UserId,
    pub title: String,
    pub body: String,
    /// Chosen tag slugs, comma-separated.
    pub tags: String,
    pub dataset_id: Option<String>,
    /// The view recipe (JSON, `data::recipe::Recipe`), empty until one is chosen.
    pub recipe: String,
    pub remixed_from: Option<PostId>,
    /// A one-time note for the owner.
    pub notice: String,
    /// Images uploaded with the draft, attached after the picture on publish (JSON list
    /// of `{id, alt}`).
    pub images: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! draft_select {
    () => {
        "SELECT id, owner_id, title, body, tags, dataset_id, recipe, remixed_from, notice, images, created_at, updated_at FROM drafts "
    };
}

/// The fields of a new draft.
pub struct NewDraft<'a> {
    pub owner_id: UserId,
    pub title: &'a str,
    pub body: &'a str,
    pub tags: &'a str,
    pub dataset_id: Option<&'a str>,
    pub recipe: &'a str,
    pub remixed_from: Option<PostId>,
    pub notice: &'a str,
    pub images: &'a str,
}

pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    d: &NewDraft<'_>,
    now: i64,
) -> Result<DraftId, sqlx::Error> {
    sqlx::query_scalar::<_, DraftId>(
        "INSERT INTO drafts (owner_id, title, body, tags, dataset_id, recipe, remixed_from, notice, images, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(d.owner_id)
    .bind(d.title)
    .bind(d.body)
    .bind(d.tags)
    .bind(d.dataset_id)
    .bind(d.recipe)
    .bind(d.remixed_from)
    .bind(d.notice)
    .bind(d.images)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

/// A draft of `owner_id`, or `None` (missing or someone else's: the caller answers 404).
pub async fn get_owned(
    db: &Db,
    id: DraftId,
    owner_id: UserId,
) -> Result<Option<DraftRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, DraftRow>(concat!(draft_select!(), "WHERE id = $1 AND owner_id = $2"))
            .bind(id)
            .bind(owner_id)
            .fetch_one(&db.pool)
            .await,
    )
}

pub async fn of_owner(db: &Db, owner_id: UserId) -> Result<Vec<DraftRow>, sqlx::Error> {
    sqlx::query_as::<_, DraftRow>(concat!(
        draft_select!(),
        "WHERE owner_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 200"
    ))
    .bind(owner_id)
    .fetch_all(&db.pool)
    .await
}

/// What saving a draft writes.
pub struct DraftUpdate<'a> {
    pub title: &'a str,
    pub body: &'a str,
    /// Tag slugs, comma-separated.
    pub tags: &'a str,
    pub recipe: &'a str,
}

/// Saves the text and recipe of a draft of `owner_id`; false if no such draft of theirs.
pub async fn update(
    db: &Db,
    id: DraftId,
    owner_id: UserId,
    d: &DraftUpdate<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE drafts SET title = $1, body = $2, tags = $3, recipe = $4, notice = '', updated_at = $5 WHERE id = $6 AND owner_id = $7",
    )
    .bind(d.title)
    .bind(d.body)
    .bind(d.tags)
    .bind(d.recipe)
    .bind(now)
    .bind(id)
    .bind(owner_id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Points a draft of `owner_id` at another dataset (a new upload after a failed one).
pub async fn set_dataset(
    tx: &mut sqlx::AnyConnection,
    id: DraftId,
    owner_id: UserId,
    dataset_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE drafts SET dataset_id = $1, notice = '', updated_at = $2 WHERE id = $3 AND owner_id = $4",
    )
    .bind(dataset_id)
    .bind(now)
    .bind(id)
    .bind(owner_id)
    .execute(&mut *tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a draft of `owner_id`; returns its dataset id (to clean up) or `None` when no
/// such draft of theirs exists.
pub async fn delete(
    db: &Db,
    id: DraftId,
    owner_id: UserId,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let Some(d) = get_owned(db, id, owner_id).await? else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM drafts WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .execute(&db.pool)
        .await?;
    Ok(Some(d.dataset_id))
}

/// Deletes a published draft inside the publishing transaction.
pub async fn delete_in(
    tx: &mut sqlx::AnyConnection,
    id: DraftId,
    owner_id: UserId,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM drafts WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Drafts that use a dataset (to report a finished ingest to them).
pub async fn count_for_dataset(db: &Db, dataset_id: &str) -> Result<DraftId, sqlx::Error> {
    sqlx::query_scalar::<_, DraftId>("SELECT COUNT(*) FROM drafts WHERE dataset_id = $1")
        .bind(dataset_id)
        .fetch_one(&db.pool)
        .await
}
