//! Tasks that one instance at a time may run (the maintenance sweep), when several portal
//! instances share one database (issue 20).
//!
//! On PostgreSQL the task runs under a transaction-level advisory lock
//! (`pg_try_advisory_xact_lock`): the lock ends with the transaction, so a task whose future
//! is dropped or whose process dies never leaves it held, and the pooled connection comes
//! back clean. SQLite has no advisory locks: a lease row in `singleton_leases` stands in, and
//! it expires after [`LEASE_SECS`] should its holder die.

use super::{Backend, Db};

/// How long a SQLite lease outlives a holder that died without giving it back.
pub const LEASE_SECS: i64 = 3600;

/// The tasks, each with its own lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `maintenance::sweep`: expired sessions, stale drafts and orphaned files.
    Sweep,
}

impl Task {
    /// The PostgreSQL advisory lock key ("secv" and a number: clear of other users' keys).
    fn key(self) -> i64 {
        match self {
            Task::Sweep => 0x7365_6376_0000_0001,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Task::Sweep => "sweep",
        }
    }
}

/// Runs `work` unless another instance runs `task` now; `None` when it was skipped.
pub async fn run_alone<T>(
    db: &Db,
    task: Task,
    owner: &str,
    now: i64,
    work: impl Future<Output = T>,
) -> Result<Option<T>, sqlx::Error> {
    match db.backend {
        Backend::Postgres => {
            let mut tx = db.pool.begin().await?;
            let got = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_xact_lock($1)")
                .bind(task.key())
                .fetch_one(&mut *tx)
                .await?;
            if !got {
                return Ok(None);
            }
            let out = work.await;
            // Ends the transaction, and the lock with it.
            tx.commit().await?;
            Ok(Some(out))
        }
        Backend::Sqlite => {
            let won = sqlx::query(
                "INSERT INTO singleton_leases (name, owner, until) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
                 WHERE singleton_leases.until < $4",
            )
            .bind(task.name())
            .bind(owner)
            .bind(now + LEASE_SECS)
            .bind(now)
            .execute(&db.pool)
            .await?
            .rows_affected()
                == 1;
            if !won {
                return Ok(None);
            }
            let out = work.await;
            sqlx::query("DELETE FROM singleton_leases WHERE name = $1 AND owner = $2")
                .bind(task.name())
                .bind(owner)
                .execute(&db.pool)
                .await?;
            Ok(Some(out))
        }
    }
}
