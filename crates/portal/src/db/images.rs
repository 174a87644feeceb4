//! Image rows. An image belongs to its uploader; until attached to a post it is private to
//! them (a draft upload). Attaching checks the owner in the same statement.

use sqlx::FromRow;

use super::ids::{PostId, UserId};
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct ImageRow {
    pub id: String,
    pub owner_id: UserId,
    pub post_id: Option<PostId>,
    pub alt: String,
    pub mime: String,
    pub width: i64,
    pub height: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    id: &str,
    owner_id: UserId,
    alt: &str,
    mime: &str,
    width: u32,
    height: u32,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO images (id, owner_id, alt, mime, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(owner_id)
    .bind(alt)
    .bind(mime)
    .bind(i64::from(width))
    .bind(i64::from(height))
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn get(db: &Db, id: &str) -> Result<Option<ImageRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, ImageRow>(
            "SELECT id, owner_id, post_id, alt, mime, width, height FROM images WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await,
    )
}

/// An image of `owner_id` that is a draft or already belongs to `post_id`.
pub async fn get_attachable(
    db: &Db,
    id: &str,
    owner_id: UserId,
    post_id: Option<PostId>,
) -> Result<Option<ImageRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, ImageRow>(
            "SELECT id, owner_id, post_id, alt, mime, width, height FROM images \
             WHERE id = $1 AND owner_id = $2 AND (post_id IS NULL OR post_id = $3)",
        )
        .bind(id)
        .bind(owner_id)
        .bind(post_id.unwrap_or(PostId(-1)))
        .fetch_one(&db.pool)
        .await,
    )
}

pub async fn for_post(db: &Db, post_id: PostId) -> Result<Vec<ImageRow>, sqlx::Error> {
    sqlx::query_as::<_, ImageRow>(
        "SELECT id, owner_id, post_id, alt, mime, width, height FROM images WHERE post_id = $1 ORDER BY position, id",
    )
    .bind(post_id)
    .fetch_all(&db.pool)
    .await
}

/// Attaches an image of `owner_id` to their post at `position` with its alt text.
pub async fn attach(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    owner_id: UserId,
    post_id: PostId,
    position: i64,
    alt: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE images SET post_id = $1, position = $2, alt = $3 WHERE id = $4 AND owner_id = $5 AND (post_id IS NULL OR post_id = $6)",
    )
    .bind(post_id)
    .bind(position)
    .bind(alt)
    .bind(id)
    .bind(owner_id)
    .bind(post_id)
    .execute(&mut *tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes the images of a post that are no longer in `keep`; returns the removed ids.
pub async fn detach_others(
    tx: &mut sqlx::AnyConnection,
    post_id: PostId,
    owner_id: UserId,
    keep: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let current = sqlx::query_scalar::<_, String>(
        "SELECT id FROM images WHERE post_id = $1 AND owner_id = $2",
    )
    .bind(post_id)
    .bind(owner_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut removed = Vec::new();
    for id in current.into_iter().filter(|id| !keep.contains(id)) {
        sqlx::query("DELETE FROM images WHERE id = $1 AND owner_id = $2")
            .bind(&id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        removed.push(id);
    }
    Ok(removed)
}

/// Deletes a draft (unattached) image of `owner_id`; true when one was deleted.
pub async fn delete_draft(db: &Db, id: &str, owner_id: UserId) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM images WHERE id = $1 AND owner_id = $2 AND post_id IS NULL")
        .bind(id)
        .bind(owner_id)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}
