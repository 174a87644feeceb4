//! The data layer: one sqlx `Any` pool over SQLite or PostgreSQL, with migrations kept per
//! backend (`migrations/sqlite`, `migrations/postgres`). Queries are static strings with `$n`
//! placeholders, which both backends accept; only full-text search differs per backend.
//! Times are Unix seconds and flags integers so rows decode the same on both.

pub mod comments;
pub mod dashboards;
pub mod datasets;
pub mod drafts;
pub mod ids;
pub mod images;
pub mod jobs;
pub mod modlog;
pub mod post_data;
pub mod posts;
pub mod resets;
pub mod search;
pub mod sessions;
pub mod singleton;
pub mod states;
pub mod tags;
pub mod tokens;
pub mod users;

use std::time::Duration;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!(
                "database URL must start with sqlite:// or postgres:// (got {:?})",
                crate::config::redact_url(url)
            )
        }
    }
}

/// The pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

impl Db {
    /// Connects and brings the schema up to date.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        options = match backend {
            Backend::Sqlite => options
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; NORMAL is durable in WAL mode
                        // up to the last checkpointed transaction, and much faster.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options
            .connect(url)
            .await
            .with_context(|| format!("cannot open database {}", crate::config::redact_url(url)))?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .context("running database migrations")?;
        Ok(Db { pool, backend })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps "no such row" to `None` and keeps every other error.
pub(crate) fn optional<T>(r: Result<T, sqlx::Error>) -> Result<Option<T>, sqlx::Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(sqlx::Error::RowNotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// True when the error is a unique-constraint violation (e.g. a taken username).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.message().contains("UNIQUE constraint failed")
                || d.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}
