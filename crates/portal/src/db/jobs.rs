//! The ingest queue (issue 7). A job is one upload waiting in the staging folder to become
//! a dataset. Workers claim a job with a conditional update, so two workers (or two portal
//! processes on one PostgreSQL) never run the same job; a running job keeps its heartbeat
//! fresh, and a stale heartbeat means its process died (see `data::worker`).

use sqlx::FromRow;

pub use super::ids::JobId;
use super::states::JobState;
use super::{Db, optional};

#[derive(Debug, Clone, FromRow)]
pub struct JobRow {
    pub id: JobId,
    pub dataset_id: String,
    /// The staging file's random id (never a client file name).
    pub staging: String,
    #[sqlx(try_from = "String")]
    pub state: JobState,
    pub attempts: i64,
    pub bytes_total: i64,
    pub bytes_read: i64,
    pub records: i64,
    pub events: i64,
    pub rejected: i64,
    /// What the worker is doing: `parsing`, `committing`, `drawing`.
    pub phase: String,
    pub heartbeat_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! job_select {
    () => {
        "SELECT id, dataset_id, staging, state, attempts, bytes_total, bytes_read, records, events, rejected, phase, \
         heartbeat_at, started_at, finished_at, created_at FROM ingest_jobs "
    };
}

pub async fn insert(
    tx: &mut sqlx::AnyConnection,
    dataset_id: &str,
    staging: &str,
    bytes_total: i64,
    now: i64,
) -> Result<JobId, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO ingest_jobs (dataset_id, staging, state, bytes_total, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(dataset_id)
    .bind(staging)
    .bind(JobState::Queued.as_str())
    .bind(bytes_total)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map(JobId)
}

pub async fn get(db: &Db, id: JobId) -> Result<Option<JobRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, JobRow>(concat!(job_select!(), "WHERE id = $1"))
            .bind(id.0)
            .fetch_one(&db.pool)
            .await,
    )
}

/// The newest job of a dataset (the one its page reports).
pub async fn latest_for_dataset(db: &Db, dataset_id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    optional(
        sqlx::query_as::<_, JobRow>(concat!(
            job_select!(),
            "WHERE dataset_id = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(dataset_id)
        .fetch_one(&db.pool)
        .await,
    )
}

/// Claims the oldest queued job, if any: only one claimer can win it.
pub async fn claim_next(db: &Db, now: i64) -> Result<Option<JobRow>, sqlx::Error> {
    loop {
        let Some(id) = optional(
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM ingest_jobs WHERE state = $1 ORDER BY id LIMIT 1",
            )
            .bind(JobState::Queued.as_str())
            .fetch_one(&db.pool)
            .await,
        )?
        else {
            return Ok(None);
        };
        let won = sqlx::query(
            "UPDATE ingest_jobs SET state = $1, attempts = attempts + 1, started_at = $2, heartbeat_at = $3, \
             phase = 'parsing', bytes_read = 0, records = 0, events = 0, rejected = 0 WHERE id = $4 AND state = $5",
        )
        .bind(JobState::Running.as_str())
        .bind(now)
        .bind(now)
        .bind(id)
        .bind(JobState::Queued.as_str())
        .execute(&db.pool)
        .await?
        .rows_affected()
            == 1;
        if won {
            return get(db, JobId(id)).await;
        }
        // Another worker took it between our two statements: look again.
    }
}

/// Progress of a running job (also its heartbeat).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub bytes_read: i64,
    pub records: i64,
    pub events: i64,
    pub rejected: i64,
    pub phase: &'static str,
}

pub async fn progress(db: &Db, id: JobId, p: &Progress, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ingest_jobs SET bytes_read = $1, records = $2, events = $3, rejected = $4, phase = $5, heartbeat_at = $6 \
         WHERE id = $7 AND state = $8",
    )
    .bind(p.bytes_read)
    .bind(p.records)
    .bind(p.events)
    .bind(p.rejected)
    .bind(p.phase)
    .bind(now)
    .bind(id.0)
    .bind(JobState::Running.as_str())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Ends a job as [`JobState::Done`] or [`JobState::Failed`].
pub async fn finish(db: &Db, id: JobId, state: JobState, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ingest_jobs SET state = $1, finished_at = $2, heartbeat_at = $3 WHERE id = $4",
    )
    .bind(state.as_str())
    .bind(now)
    .bind(now)
    .bind(id.0)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Running jobs whose heartbeat is older than `stale_before`: their process is gone.
pub async fn stale(db: &Db, stale_before: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as::<_, JobRow>(concat!(
        job_select!(),
        "WHERE state = $1 AND (heartbeat_at IS NULL OR heartbeat_at < $2) ORDER BY id LIMIT 100"
    ))
    .bind(JobState::Running.as_str())
    .bind(stale_before)
    .fetch_all(&db.pool)
    .await
}

/// Puts a stale running job back in the queue; false if someone else already did.
pub async fn requeue(db: &Db, id: JobId, stale_before: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE ingest_jobs SET state = $1, phase = '' WHERE id = $2 AND state = $3 \
         AND (heartbeat_at IS NULL OR heartbeat_at < $4)",
    )
    .bind(JobState::Queued.as_str())
    .bind(id.0)
    .bind(JobState::Running.as_str())
    .bind(stale_before)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Jobs not finished for a dataset (queued or running).
pub async fn pending_for_dataset(db: &Db, dataset_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM ingest_jobs WHERE dataset_id = $1 AND state IN ($2, $3)",
    )
    .bind(dataset_id)
    .bind(JobState::Queued.as_str())
    .bind(JobState::Running.as_str())
    .fetch_one(&db.pool)
    .await
}

/// The staging files of jobs not finished (queued or running): the sweep keeps them.
pub async fn pending_staging(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar::<_, String>("SELECT staging FROM ingest_jobs WHERE state IN ($1, $2)")
        .bind(JobState::Queued.as_str())
        .bind(JobState::Running.as_str())
        .fetch_all(&db.pool)
        .await
}
