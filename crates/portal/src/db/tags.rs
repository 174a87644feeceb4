//! The curated tag list (admins manage it) and the tags of each post.

use sqlx::FromRow;

use super::Db;
use super::ids::PostId;
use crate::domain::TagSlug;

#[derive(Debug, Clone, FromRow)]
pub struct TagRow {
    pub slug: String,
    pub description: String,
    pub posts: i64,
}

pub async fn list(db: &Db) -> Result<Vec<TagRow>, sqlx::Error> {
    sqlx::query_as::<_, TagRow>(
        "SELECT t.slug, t.description, (SELECT COUNT(*) FROM post_tags pt JOIN posts p ON p.id = pt.post_id \
         WHERE pt.tag_slug = t.slug AND p.hidden_reason IS NULL) AS posts FROM tags t ORDER BY t.slug",
    )
    .fetch_all(&db.pool)
    .await
}

/// The tag slugs alone, cheap enough for every front page (counts need a scan).
pub async fn slugs(db: &Db) -> Result<Vec<TagRow>, sqlx::Error> {
    sqlx::query_as::<_, TagRow>(
        "SELECT slug, description, 0 AS posts FROM tags ORDER BY slug LIMIT 200",
    )
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, slug: &str) -> Result<Option<TagRow>, sqlx::Error> {
    super::optional(
        sqlx::query_as::<_, TagRow>(
            "SELECT slug, description, 0 AS posts FROM tags WHERE slug = $1",
        )
        .bind(slug)
        .fetch_one(&db.pool)
        .await,
    )
}

/// Adds a tag or updates its description.
pub async fn upsert(
    db: &Db,
    slug: &TagSlug,
    description: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tags (slug, description, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (slug) DO UPDATE SET description = excluded.description",
    )
    .bind(slug.as_str())
    .bind(description)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, slug: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM tags WHERE slug = $1")
        .bind(slug)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn of_post(db: &Db, post_id: PostId) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>(
        "SELECT tag_slug FROM post_tags WHERE post_id = $1 ORDER BY tag_slug",
    )
    .bind(post_id)
    .fetch_all(&db.pool)
    .await
}

/// Replaces a post's tags, keeping only tags of the curated list.
pub async fn set_for_post(
    tx: &mut sqlx::AnyConnection,
    post_id: PostId,
    tags: &[TagSlug],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM post_tags WHERE post_id = $1")
        .bind(post_id)
        .execute(&mut *tx)
        .await?;
    for t in tags {
        sqlx::query(
            "INSERT INTO post_tags (post_id, tag_slug) SELECT $1, slug FROM tags WHERE slug = $2",
        )
        .bind(post_id)
        .bind(t.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
