//! The ingest queue (issue 7). A job is one upload waiting in the staging folder to become
//! a dataset.
//!
//! Several instances share the queue (issue 20). A worker claims the oldest queued job in
//! one statement: on PostgreSQL the row is picked `FOR UPDATE SKIP LOCKED`, so concurrent
//! claimers pass over each other's rows instead of queueing behind them; on SQLite the
//! statement runs under the database's write lock and re-checks the state. The claim is a
//! lease: it names the instance (`owner`) and the attempt, the heartbeat renews it, and a
//! stale heartbeat means its process died, so another instance may take the job over (see
//! `data::worker`). Every later write of a claim ([`progress`], [`finish`]) is fenced by
//! [`Lease`]: a process that lost its claim changes nothing, so each job ends exactly once.

use sqlx::FromRow;

pub use super::ids::JobId;
use super::states::JobState;
use super::{Backend, Db, optional};

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
    /// The instance that claimed the job last (empty before the first claim).
    pub owner: String,
}

impl JobRow {
    /// The claim this row records (meaningful for a running job).
    pub fn lease(&self) -> Lease {
        Lease {
            id: self.id,
            owner: self.owner.clone(),
            attempt: self.attempts,
        }
    }
}

/// One claim of a job: the instance and the attempt. Writes made under a lease apply only
/// while the job is still running under that same claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: JobId,
    pub owner: String,
    pub attempt: i64,
}

macro_rules! job_columns {
    () => {
        "id, dataset_id, staging, state, attempts, bytes_total, bytes_read, records, events, rejected, phase, \
         heartbeat_at, started_at, finished_at, created_at, owner "
    };
}

macro_rules! job_select {
    () => {
        concat!("SELECT ", job_columns!(), "FROM ingest_jobs ")
    };
}

/// The claim's fence, appended to an `UPDATE`'s `WHERE` with the lease bound last.
macro_rules! fenced {
    ($n:literal, $o:literal, $a:literal) => {
        concat!(
            "WHERE id = ",
            $n,
            " AND owner = ",
            $o,
            " AND attempts = ",
            $a,
            " AND state = 'running'"
        )
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

/// Claims the oldest queued job for instance `owner`, if any: one statement, one winner.
pub async fn claim_next(db: &Db, owner: &str, now: i64) -> Result<Option<JobRow>, sqlx::Error> {
    macro_rules! claim {
        ($pick:literal) => {
            concat!(
                "UPDATE ingest_jobs SET state = 'running', owner = $1, attempts = attempts + 1, \
                 started_at = $2, heartbeat_at = $3, phase = 'parsing', bytes_read = 0, records = 0, \
                 events = 0, rejected = 0 ",
                $pick,
                "RETURNING ",
                job_columns!()
            )
        };
    }
    let sql = match db.backend {
        Backend::Postgres => claim!(
            "WHERE id = (SELECT id FROM ingest_jobs WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        ),
        // One writer at a time: the re-check only guards against a future change of that.
        Backend::Sqlite => claim!(
            "WHERE id = (SELECT id FROM ingest_jobs WHERE state = 'queued' ORDER BY id LIMIT 1) AND state = 'queued' "
        ),
    };
    optional(
        sqlx::query_as::<_, JobRow>(sql)
            .bind(owner)
            .bind(now)
            .bind(now)
            .fetch_one(&db.pool)
            .await,
    )
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

/// Records progress and renews the lease. False when the claim is gone (the job was taken
/// over or ended by another instance): the caller must stop and write nothing more.
pub async fn progress(db: &Db, lease: &Lease, p: &Progress, now: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(concat!(
        "UPDATE ingest_jobs SET bytes_read = $1, records = $2, events = $3, rejected = $4, phase = $5, heartbeat_at = $6 ",
        fenced!("$7", "$8", "$9")
    ))
    .bind(p.bytes_read)
    .bind(p.records)
    .bind(p.events)
    .bind(p.rejected)
    .bind(p.phase)
    .bind(now)
    .bind(lease.id.0)
    .bind(&lease.owner)
    .bind(lease.attempt)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends a job as [`JobState::Done`] or [`JobState::Failed`], inside the caller's transaction
/// (with the dataset's new status). False when the claim is gone: roll back.
pub async fn finish(
    conn: &mut sqlx::AnyConnection,
    lease: &Lease,
    state: JobState,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(concat!(
        "UPDATE ingest_jobs SET state = $1, finished_at = $2, heartbeat_at = $3 ",
        fenced!("$4", "$5", "$6")
    ))
    .bind(state.as_str())
    .bind(now)
    .bind(now)
    .bind(lease.id.0)
    .bind(&lease.owner)
    .bind(lease.attempt)
    .execute(&mut *conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Takes a running job whose heartbeat is older than `stale_before` over for `owner`
/// without running it (to fail it): the new lease, or `None` if it is not stale any more.
pub async fn take_over(
    db: &Db,
    id: JobId,
    owner: &str,
    stale_before: i64,
    now: i64,
) -> Result<Option<Lease>, sqlx::Error> {
    let attempt = optional(
        sqlx::query_scalar::<_, i64>(
            "UPDATE ingest_jobs SET owner = $1, heartbeat_at = $2 WHERE id = $3 AND state = 'running' \
             AND (heartbeat_at IS NULL OR heartbeat_at < $4) RETURNING attempts",
        )
        .bind(owner)
        .bind(now)
        .bind(id.0)
        .bind(stale_before)
        .fetch_one(&db.pool)
        .await,
    )?;
    Ok(attempt.map(|attempt| Lease {
        id,
        owner: owner.to_string(),
        attempt,
    }))
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
        "UPDATE ingest_jobs SET state = $1, phase = '', owner = '' WHERE id = $2 AND state = $3 \
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
