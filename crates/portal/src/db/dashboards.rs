//! Dashboards and their share links (issue 18).
//!
//! Who may see a dashboard is decided in one place ([`may_view`]): its owner always; anyone
//! else only while it is public *and* they may read its dataset ([`datasets::may_read`]), so
//! a public dashboard never shows data its owner has not published (and goes dark with the
//! data when a post is deleted or hidden). A share link is the owner's own grant: it shows
//! that one dashboard read-only to whoever holds the link, until revoked.

use sqlx::FromRow;

use super::datasets::{self, Reader};
use super::ids::{DashboardId, UserId};
use super::{Db, optional};

/// Dashboards a member may hold, and share links per dashboard.
pub const MAX_PER_OWNER: i64 = 50;
pub const MAX_SHARES: i64 = 20;

#[derive(Debug, Clone, FromRow)]
pub struct DashboardRow {
    pub id: DashboardId,
    pub owner_id: UserId,
    pub dataset_id: String,
    pub title: String,
    /// The export JSON (`secviz_views::dashboard::DashboardSpec`).
    pub spec: String,
    pub public: i64,
    pub remixed_from: Option<DashboardId>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The owner's name (joined).
    pub owner_name: String,
}

impl DashboardRow {
    pub fn is_public(&self) -> bool {
        self.public != 0
    }
}

macro_rules! dashboard_select {
    () => {
        "SELECT b.id, b.owner_id, b.dataset_id, b.title, b.spec, b.public, b.remixed_from, \
         b.created_at, b.updated_at, u.username AS owner_name \
         FROM dashboards b JOIN users u ON u.id = b.owner_id "
    };
}

pub struct NewDashboard<'a> {
    pub owner_id: UserId,
    pub dataset_id: &'a str,
    pub title: &'a str,
    pub spec: &'a str,
    pub public: bool,
    pub remixed_from: Option<DashboardId>,
    pub now: i64,
}

pub async fn insert(db: &Db, d: NewDashboard<'_>) -> Result<DashboardId, sqlx::Error> {
    sqlx::query_scalar::<_, DashboardId>(
        "INSERT INTO dashboards (owner_id, dataset_id, title, spec, public, remixed_from, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(d.owner_id)
    .bind(d.dataset_id)
    .bind(d.title)
    .bind(d.spec)
    .bind(i64::from(d.public))
    .bind(d.remixed_from)
    .bind(d.now)
    .fetch_one(&db.pool)
    .await
}

pub async fn get(db: &Db, id: DashboardId) -> Result<Option<DashboardRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, DashboardRow>(concat!(dashboard_select!(), "WHERE b.id = $1"))
            .bind(id)
            .fetch_one(&db.pool)
            .await,
    )
}

/// Whether `reader` may see dashboard `d` (see the module's doc).
pub async fn may_view(db: &Db, d: &DashboardRow, reader: Reader) -> Result<bool, sqlx::Error> {
    if reader.user == Some(d.owner_id) {
        return Ok(true);
    }
    Ok(d.is_public() && datasets::may_read(db, &d.dataset_id, reader).await?)
}

pub async fn count_of_owner(db: &Db, owner: UserId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM dashboards WHERE owner_id = $1")
        .bind(owner)
        .fetch_one(&db.pool)
        .await
}

/// The member's dashboards, newest first.
pub async fn of_owner(db: &Db, owner: UserId) -> Result<Vec<DashboardRow>, sqlx::Error> {
    sqlx::query_as::<_, DashboardRow>(concat!(
        dashboard_select!(),
        "WHERE b.owner_id = $1 ORDER BY b.updated_at DESC, b.id DESC"
    ))
    .bind(owner)
    .fetch_all(&db.pool)
    .await
}

/// Other members' public dashboards whose dataset is published (anyone may read it), newest
/// first.
pub async fn public_of_others(
    db: &Db,
    me: Option<UserId>,
    limit: i64,
) -> Result<Vec<DashboardRow>, sqlx::Error> {
    sqlx::query_as::<_, DashboardRow>(concat!(
        dashboard_select!(),
        "WHERE b.public = 1 AND b.owner_id <> $1 AND ",
        datasets::carried_by_owner!("b.dataset_id", "1 = 0"),
        " ORDER BY b.updated_at DESC, b.id DESC LIMIT $2"
    ))
    .bind(me.unwrap_or(UserId(-1)))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// Replaces the spec (and title) of `owner`'s dashboard; false when there is none of theirs.
pub async fn update_spec(
    db: &Db,
    id: DashboardId,
    owner: UserId,
    title: &str,
    spec: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE dashboards SET title = $1, spec = $2, updated_at = $3 WHERE id = $4 AND owner_id = $5",
    )
    .bind(title)
    .bind(spec)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn set_public(
    db: &Db,
    id: DashboardId,
    owner: UserId,
    public: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE dashboards SET public = $1, updated_at = $2 WHERE id = $3 AND owner_id = $4",
    )
    .bind(i64::from(public))
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

pub async fn delete(db: &Db, id: DashboardId, owner: UserId) -> Result<bool, sqlx::Error> {
    // Share links first: SQLite enforces the cascade only with foreign keys on, which every
    // connection of ours turns on, but the rows say what is meant.
    sqlx::query(
        "DELETE FROM dashboard_shares WHERE dashboard_id IN (SELECT id FROM dashboards WHERE id = $1 AND owner_id = $2)",
    )
    .bind(id)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    let r = sqlx::query("DELETE FROM dashboards WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(owner)
        .execute(&db.pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

#[derive(Debug, Clone, FromRow)]
pub struct ShareRow {
    pub id: String,
    pub dashboard_id: DashboardId,
    pub label: String,
    pub secret_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

macro_rules! share_select {
    () => {
        "SELECT id, dashboard_id, label, secret_hash, created_at, revoked_at FROM dashboard_shares "
    };
}

pub async fn insert_share(
    db: &Db,
    id: &str,
    dashboard: DashboardId,
    label: &str,
    secret_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO dashboard_shares (id, dashboard_id, label, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(dashboard)
    .bind(label)
    .bind(secret_hash)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn share_count(db: &Db, dashboard: DashboardId) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM dashboard_shares WHERE dashboard_id = $1")
        .bind(dashboard)
        .fetch_one(&db.pool)
        .await
}

/// The dashboard's share links, newest first.
pub async fn shares_of(db: &Db, dashboard: DashboardId) -> Result<Vec<ShareRow>, sqlx::Error> {
    sqlx::query_as::<_, ShareRow>(concat!(
        share_select!(),
        "WHERE dashboard_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(dashboard)
    .fetch_all(&db.pool)
    .await
}

pub async fn get_share(db: &Db, id: &str) -> Result<Option<ShareRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, ShareRow>(concat!(share_select!(), "WHERE id = $1"))
            .bind(id)
            .fetch_one(&db.pool)
            .await,
    )
}

/// Revokes a share link of `owner`'s dashboard; false when there is no such live link.
pub async fn revoke_share(
    db: &Db,
    dashboard: DashboardId,
    owner: UserId,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE dashboard_shares SET revoked_at = $1 WHERE id = $2 AND dashboard_id = $3 AND revoked_at IS NULL \
         AND dashboard_id IN (SELECT id FROM dashboards WHERE owner_id = $4)",
    )
    .bind(now)
    .bind(id)
    .bind(dashboard)
    .bind(owner)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() > 0)
}
