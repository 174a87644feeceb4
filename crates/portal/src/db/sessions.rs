//! Server-side sessions. The cookie holds a random token; the table holds only its SHA-256,
//! so a leaked database does not yield live cookies. Each row carries its CSRF token.

use sqlx::FromRow;

use super::ids::UserId;
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: UserId,
    pub username: String,
    pub role: String,
    pub csrf: String,
    pub created_at: i64,
    pub last_seen: i64,
}

pub async fn create(
    db: &Db,
    id_hash: &str,
    user_id: UserId,
    csrf: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)")
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn load(db: &Db, id_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, SessionRow>(
            "SELECT s.user_id, u.username, u.role, s.csrf, s.created_at, s.last_seen \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_one(&db.pool)
        .await,
    )
}

pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
        .bind(now)
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Ends every session of a member, or every one but `keep` (the one changing the password).
pub async fn delete_for_user(
    db: &Db,
    user_id: UserId,
    keep: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Removes sessions past either timeout (called now and then; expired ones are refused anyway).
pub async fn sweep(db: &Db, now: i64, idle: i64, absolute: i64) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("DELETE FROM sessions WHERE last_seen < $1 OR created_at < $2")
        .bind(now - idle)
        .bind(now - absolute)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected())
}
