//! Members: creation, lookup, password and email changes, roles.

use sqlx::FromRow;

use super::ids::UserId;
use super::{Db, optional};
use crate::domain::{Email, Role, Username};

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

impl UserRow {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Member)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("That username is taken.")]
    UsernameTaken,
    #[error("An account with that email address exists already.")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn create(
    db: &Db,
    username: &Username,
    email: &Email,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<UserId, CreateUserError> {
    if find_by_name(db, username.as_str()).await?.is_some() {
        return Err(CreateUserError::UsernameTaken);
    }
    let r = sqlx::query_scalar::<_, UserId>(
        "INSERT INTO users (username, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(username.as_str())
    .bind(email.as_str())
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(&db.pool)
    .await;
    match r {
        Ok(id) => Ok(id),
        Err(e) if super::is_unique_violation(&e) => {
            if find_by_name(db, username.as_str()).await?.is_some() {
                Err(CreateUserError::UsernameTaken)
            } else {
                Err(CreateUserError::EmailTaken)
            }
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_name(db: &Db, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, email, password_hash, role, created_at FROM users WHERE username = $1",
        )
        .bind(username.to_ascii_lowercase())
        .fetch_one(&db.pool)
        .await,
    )
}

pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<UserRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, email, password_hash, role, created_at FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_one(&db.pool)
        .await,
    )
}

pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, UserRow>(
            "SELECT id, username, email, password_hash, role, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await,
    )
}

pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
        .fetch_one(&db.pool)
        .await
}

pub async fn list(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(
        "SELECT id, username, email, password_hash, role, created_at FROM users ORDER BY username LIMIT 1000",
    )
    .fetch_all(&db.pool)
    .await
}

pub async fn set_password(db: &Db, user_id: UserId, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn set_email(db: &Db, user_id: UserId, email: &Email) -> Result<(), CreateUserError> {
    sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
        .bind(email.as_str())
        .bind(user_id)
        .execute(&db.pool)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                CreateUserError::EmailTaken
            } else {
                e.into()
            }
        })?;
    Ok(())
}

pub async fn set_role(db: &Db, username: &str, role: Role) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
        .bind(role.as_str())
        .bind(username)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() == 1)
}
