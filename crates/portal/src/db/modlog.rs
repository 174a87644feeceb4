//! The public moderation log: who hid or restored what, and why.

use sqlx::FromRow;

use super::Db;
use super::ids::{CommentId, PostId, UserId};

/// What a moderator acted on. Stored as a kind and the row's id, so the log names posts
/// and comments alike (and keeps naming them once they are deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Post(PostId),
    Comment(CommentId),
}

impl Target {
    fn kind(self) -> &'static str {
        match self {
            Target::Post(_) => "post",
            Target::Comment(_) => "comment",
        }
    }

    fn id(self) -> i64 {
        match self {
            Target::Post(id) => id.0,
            Target::Comment(id) => id.0,
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ModlogRow {
    pub moderator: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: i64,
    pub reason: String,
    pub created_at: i64,
}

pub async fn record(
    db: &Db,
    moderator_id: UserId,
    action: &str,
    target: Target,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO modlog (moderator_id, action, target_kind, target_id, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(moderator_id)
    .bind(action)
    .bind(target.kind())
    .bind(target.id())
    .bind(reason)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<ModlogRow>, sqlx::Error> {
    sqlx::query_as::<_, ModlogRow>(
        "SELECT u.username AS moderator, m.action, m.target_kind, m.target_id, m.reason, m.created_at \
         FROM modlog m JOIN users u ON u.id = m.moderator_id ORDER BY m.created_at DESC, m.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}
