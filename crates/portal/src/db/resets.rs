//! Password-reset tokens: stored hashed, single use (consumed by one atomic UPDATE), expiring,
//! and a new request voids the older ones.

use super::Db;
use super::ids::UserId;

pub async fn create(
    db: &Db,
    token_hash: &str,
    user_id: UserId,
    now: i64,
    ttl: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(now + ttl)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The member a still-valid token belongs to, without using it up (to show the form).
pub async fn peek(db: &Db, token_hash: &str, now: i64) -> Result<Option<UserId>, sqlx::Error> {
    super::optional(
        sqlx::query_scalar::<_, UserId>(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_one(&db.pool)
        .await,
    )
}

/// Uses the token up; returns its member only the first time and only before it expires.
pub async fn consume(db: &Db, token_hash: &str, now: i64) -> Result<Option<UserId>, sqlx::Error> {
    super::optional(
        sqlx::query_scalar::<_, UserId>(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .fetch_one(&db.pool)
        .await,
    )
}
