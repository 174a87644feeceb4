//! Comments: one level of replies, edit and soft delete by their author (a deleted comment
//! with replies keeps its place as "deleted"), hide by moderators.

use sqlx::FromRow;

use super::ids::{CommentId, PostId, UserId};
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct CommentRow {
    pub id: CommentId,
    pub post_id: PostId,
    pub author_id: UserId,
    pub author: String,
    pub parent_id: Option<CommentId>,
    pub body: String,
    pub body_html: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: i64,
    pub hidden_reason: Option<String>,
}

pub async fn for_post(db: &Db, post_id: PostId) -> Result<Vec<CommentRow>, sqlx::Error> {
    sqlx::query_as::<_, CommentRow>(
        "SELECT c.id, c.post_id, c.author_id, u.username AS author, c.parent_id, c.body, c.body_html, \
         c.created_at, c.updated_at, c.deleted, c.hidden_reason \
         FROM comments c JOIN users u ON u.id = c.author_id WHERE c.post_id = $1 ORDER BY c.created_at, c.id LIMIT 5000",
    )
    .bind(post_id)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: CommentId) -> Result<Option<CommentRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, CommentRow>(
            "SELECT c.id, c.post_id, c.author_id, u.username AS author, c.parent_id, c.body, c.body_html, \
             c.created_at, c.updated_at, c.deleted, c.hidden_reason \
             FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await,
    )
}

/// A member's recent visible comments with the title of the post they belong to.
#[derive(Debug, Clone, FromRow)]
pub struct MemberComment {
    pub id: CommentId,
    pub post_id: PostId,
    pub post_title: String,
    pub body: String,
    pub created_at: i64,
}

pub async fn by_author(
    db: &Db,
    author_id: UserId,
    limit: i64,
) -> Result<Vec<MemberComment>, sqlx::Error> {
    sqlx::query_as::<_, MemberComment>(
        "SELECT c.id, c.post_id, p.title AS post_title, c.body, c.created_at FROM comments c JOIN posts p ON p.id = c.post_id \
         WHERE c.author_id = $1 AND c.deleted = 0 AND c.hidden_reason IS NULL AND p.hidden_reason IS NULL \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $2",
    )
    .bind(author_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    db: &Db,
    post_id: PostId,
    author_id: UserId,
    parent_id: Option<CommentId>,
    body: &str,
    body_html: &str,
    now: i64,
) -> Result<CommentId, sqlx::Error> {
    sqlx::query_scalar::<_, CommentId>(
        "INSERT INTO comments (post_id, author_id, parent_id, body, body_html, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(post_id)
    .bind(author_id)
    .bind(parent_id)
    .bind(body)
    .bind(body_html)
    .bind(now)
    .bind(now)
    .fetch_one(&db.pool)
    .await
}

/// Edits a comment of `author_id`; false when there is no such live comment of theirs.
pub async fn update(
    db: &Db,
    id: CommentId,
    author_id: UserId,
    body: &str,
    body_html: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE comments SET body = $1, body_html = $2, updated_at = $3 WHERE id = $4 AND author_id = $5 AND deleted = 0",
    )
    .bind(body)
    .bind(body_html)
    .bind(now)
    .bind(id)
    .bind(author_id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes a comment of `author_id`: its text is erased, the row stays so replies keep their place.
pub async fn delete(
    db: &Db,
    id: CommentId,
    author_id: UserId,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE comments SET deleted = 1, body = '', body_html = '', updated_at = $1 WHERE id = $2 AND author_id = $3 AND deleted = 0",
    )
    .bind(now)
    .bind(id)
    .bind(author_id)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_hidden(db: &Db, id: CommentId, reason: Option<&str>) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE comments SET hidden_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}
