//! API tokens for live ingest over HTTP (issue 18): scoped to one dataset of their owner,
//! expiring, revocable, and stored as the SHA-256 of their secret only.
//!
//! A token reads `svz_<id>_<secret>`: the id finds the row, the secret is checked against its
//! hash in constant time ([`crate::auth::same`]). A token is usable while it is neither
//! revoked nor expired and its dataset is still its owner's.

use sqlx::FromRow;

use super::ids::UserId;
use super::{Db, optional};

/// Longest a token may live, and how long one lives unless its owner says.
pub const MAX_DAYS: i64 = 365;
pub const DEFAULT_DAYS: i64 = 90;
/// Tokens a member may hold at once (revoked and expired ones included until swept).
pub const MAX_PER_OWNER: i64 = 50;

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: String,
    pub owner_id: UserId,
    pub dataset_id: String,
    pub label: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// What a token's state is at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenRow {
    pub fn state(&self, now: i64) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }
}

macro_rules! token_select {
    () => {
        "SELECT id, owner_id, dataset_id, label, secret_hash, created_at, expires_at, revoked_at, last_used_at FROM api_tokens "
    };
}

pub struct NewToken<'a> {
    pub id: &'a str,
    pub owner_id: UserId,
    pub dataset_id: &'a str,
    pub label: &'a str,
    pub secret_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert(db: &Db, t: NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, owner_id, dataset_id, label, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id)
    .bind(t.owner_id)
    .bind(t.dataset_id)
    .bind(t.label)
    .bind(t.secret_hash)
    .bind(t.now)
    .bind(t.expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn count_of_owner(db: &Db, owner: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE owner_id = $1")
        .bind(owner)
        .fetch_one(&db.pool)
        .await
}

/// The member's tokens, newest first.
pub async fn of_owner(db: &Db, owner: UserId) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(concat!(
        token_select!(),
        "WHERE owner_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(owner)
    .fetch_all(&db.pool)
    .await
}

pub async fn get(db: &Db, id: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, TokenRow>(concat!(token_select!(), "WHERE id = $1"))
            .bind(id)
            .fetch_one(&db.pool)
            .await,
    )
}

/// Revokes a token of `owner`'s; false when there is no such token of theirs.
pub async fn revoke(db: &Db, owner: UserId, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND owner_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn touch(db: &Db, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
