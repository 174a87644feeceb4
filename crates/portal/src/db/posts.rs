//! Posts: listing (front page, gallery, tag, member), one post, create, update and delete.
//! Every write of an owned row names the owner in its WHERE clause.

use sqlx::FromRow;

use super::ids::{PostId, UserId};
use super::{Db, optional};

/// A post as shown in lists: enough for a card, not the body.
#[derive(Debug, Clone, FromRow)]
pub struct PostSummary {
    pub id: PostId,
    pub title: String,
    pub teaser: String,
    pub kind: String,
    pub created_at: i64,
    pub author: String,
    pub comments: i64,
    pub lead_image: Option<String>,
    #[sqlx(skip)]
    pub tags: Vec<String>,
}

/// The lead image is never a data post's thumbnail drawn from data the public may not read
/// (withdrawn, issue 14): lists are public.
macro_rules! summary_select {
    () => {
        concat!(
            "SELECT p.id, p.title, p.teaser, p.kind, p.created_at, u.username AS author, \
             (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id AND c.deleted = 0 AND c.hidden_reason IS NULL) AS comments, \
             (SELECT i.id FROM images i WHERE i.post_id = p.id \
              AND NOT EXISTS (SELECT 1 FROM post_data t WHERE t.post_id = p.id AND t.thumb_image = i.id AND NOT ",
            super::datasets::carried_by_owner!("t.dataset_id", "1 = 0"),
            ") ORDER BY i.position, i.id LIMIT 1) AS lead_image \
             FROM posts p JOIN users u ON u.id = p.author_id "
        )
    };
}

/// Which posts a list shows.
#[derive(Debug, Clone, Copy)]
pub enum Listing<'a> {
    All,
    Gallery,
    GalleryTag(&'a str),
    Tag(&'a str),
    Author(UserId),
}

/// One page of visible posts, newest first. Fetch `limit + 1` to learn whether more follow.
pub async fn list(
    db: &Db,
    which: Listing<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<PostSummary>, sqlx::Error> {
    let mut posts = match which {
        Listing::All => {
            sqlx::query_as::<_, PostSummary>(concat!(
                summary_select!(),
                "WHERE p.hidden_reason IS NULL ORDER BY p.created_at DESC, p.id DESC LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
        Listing::Gallery => {
            sqlx::query_as::<_, PostSummary>(concat!(
                summary_select!(),
                "WHERE p.hidden_reason IS NULL AND p.kind = 'gallery' ORDER BY p.created_at DESC, p.id DESC LIMIT $1 OFFSET $2"
            ))
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
        Listing::GalleryTag(tag) => {
            sqlx::query_as::<_, PostSummary>(concat!(
                summary_select!(),
                "WHERE p.hidden_reason IS NULL AND p.kind = 'gallery' AND p.id IN (SELECT post_id FROM post_tags WHERE tag_slug = $1) \
                 ORDER BY p.created_at DESC, p.id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(tag)
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
        Listing::Tag(tag) => {
            sqlx::query_as::<_, PostSummary>(concat!(
                summary_select!(),
                "WHERE p.hidden_reason IS NULL AND p.id IN (SELECT post_id FROM post_tags WHERE tag_slug = $1) \
                 ORDER BY p.created_at DESC, p.id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(tag)
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
        Listing::Author(id) => {
            sqlx::query_as::<_, PostSummary>(concat!(
                summary_select!(),
                "WHERE p.hidden_reason IS NULL AND p.author_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2 OFFSET $3"
            ))
            .bind(id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&db.pool)
            .await?
        }
    };
    attach_tags(db, &mut posts).await?;
    Ok(posts)
}

/// Fills in the tags of listed posts. Posts of one page usually have close ids, so one range
/// query serves them all; a page spread wide (a member's posts over years) asks per post.
async fn attach_tags(db: &Db, posts: &mut [PostSummary]) -> Result<(), sqlx::Error> {
    let (Some(lo), Some(hi)) = (
        posts.iter().map(|p| p.id).min(),
        posts.iter().map(|p| p.id).max(),
    ) else {
        return Ok(());
    };
    if hi.0 - lo.0 > 2_000 {
        for p in posts.iter_mut() {
            p.tags = super::tags::of_post(db, p.id).await?;
        }
        return Ok(());
    }
    let rows = sqlx::query_as::<_, (PostId, String)>(
        "SELECT post_id, tag_slug FROM post_tags WHERE post_id >= $1 AND post_id <= $2 ORDER BY tag_slug",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(&db.pool)
    .await?;
    for p in posts.iter_mut() {
        p.tags = rows
            .iter()
            .filter(|(id, _)| *id == p.id)
            .map(|(_, t)| t.clone())
            .collect();
    }
    Ok(())
}

/// One post with everything its page shows.
#[derive(Debug, Clone, FromRow)]
pub struct PostRow {
    pub id: PostId,
    pub author_id: UserId,
    pub author: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub teaser: String,
    pub tool: String,
    pub data_source: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub hidden_reason: Option<String>,
}

pub async fn get(db: &Db, id: PostId) -> Result<Option<PostRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, PostRow>(
            "SELECT p.id, p.author_id, u.username AS author, p.kind, p.title, p.body, p.body_html, p.teaser, \
             p.tool, p.data_source, p.created_at, p.updated_at, p.hidden_reason \
             FROM posts p JOIN users u ON u.id = p.author_id WHERE p.id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await,
    )
}

/// The fields a member writes.
#[derive(Debug, Clone)]
pub struct PostFields<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub body_html: &'a str,
    pub teaser: &'a str,
    pub tool: &'a str,
    pub data_source: &'a str,
}

pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    author_id: UserId,
    f: &PostFields<'_>,
    now: i64,
) -> Result<PostId, sqlx::Error> {
    sqlx::query_scalar::<_, PostId>(
        "INSERT INTO posts (author_id, kind, title, body, body_html, teaser, tool, data_source, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(author_id)
    .bind(f.kind)
    .bind(f.title)
    .bind(f.body)
    .bind(f.body_html)
    .bind(f.teaser)
    .bind(f.tool)
    .bind(f.data_source)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

/// Updates a post of `author_id`; false when no such post of theirs exists.
pub async fn update(
    tx: &mut sqlx::AnyConnection,
    id: PostId,
    author_id: UserId,
    f: &PostFields<'_>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE posts SET kind = $1, title = $2, body = $3, body_html = $4, teaser = $5, tool = $6, data_source = $7, updated_at = $8 \
         WHERE id = $9 AND author_id = $10",
    )
    .bind(f.kind)
    .bind(f.title)
    .bind(f.body)
    .bind(f.body_html)
    .bind(f.teaser)
    .bind(f.tool)
    .bind(f.data_source)
    .bind(now)
    .bind(id)
    .bind(author_id)
    .execute(&mut *tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a post of `author_id` with its comments and tags; returns its image ids (to remove
/// the files) or `None` when no such post of theirs exists.
pub async fn delete(
    db: &Db,
    id: PostId,
    author_id: UserId,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let images = sqlx::query_scalar::<_, String>(
        "SELECT id FROM images WHERE post_id = $1 AND owner_id = $2",
    )
    .bind(id)
    .bind(author_id)
    .fetch_all(&mut *tx)
    .await?;
    // Replies first: SQLite's cascade order within one table is not guaranteed.
    sqlx::query("DELETE FROM comments WHERE post_id = $1 AND parent_id IS NOT NULL AND post_id IN (SELECT id FROM posts WHERE id = $2 AND author_id = $3)")
        .bind(id)
        .bind(id)
        .bind(author_id)
        .execute(&mut *tx)
        .await?;
    let r = sqlx::query("DELETE FROM posts WHERE id = $1 AND author_id = $2")
        .bind(id)
        .bind(author_id)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(None);
    }
    for img in &images {
        sqlx::query("DELETE FROM images WHERE id = $1 AND owner_id = $2")
            .bind(img)
            .bind(author_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Some(images))
}

/// Hides or unhides a post (moderators); the reason is public in the moderation log.
pub async fn set_hidden(db: &Db, id: PostId, reason: Option<&str>) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE posts SET hidden_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn count_visible(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM posts WHERE hidden_reason IS NULL")
        .fetch_one(&db.pool)
        .await
}
