//! The public moderation log: who hid or restored what, and why.

use sqlx::FromRow;

use super::Db;

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
    moderator_id: i64,
    action: &str,
    target_kind: &str,
    target_id: i64,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO modlog (moderator_id, action, target_kind, target_id, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(moderator_id)
    .bind(action)
    .bind(target_kind)
    .bind(target_id)
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
