//! The background ingest: tokio tasks fed by the `ingest_jobs` table, so requests never wait
//! for a parse and a restart finds every job where it was.
//!
//! - A worker claims the oldest queued job (one statement, one winner, on every instance
//!   sharing the database: see `db::jobs`), parses the
//!   staged upload into the job's dataset with the lake (anonymized with the site key unless
//!   the member deliberately turned that off), and records the parse report.
//! - While it runs, a heartbeat writes the progress to the job row every second; the draft
//!   page reads it from there (any process can show it).
//! - The lake commits a dataset atomically, so a crash leaves no half dataset. A running job
//!   whose heartbeat went stale belongs to a dead process: it is queued again (resumed from
//!   its staging file) up to [`MAX_ATTEMPTS`] times, then failed. A job that committed
//!   before its process died is finished from the lake's manifest, never ingested twice.
//! - The claim is a lease, fenced by instance and attempt: an instance that was only slow
//!   and lost its claim notices at its next heartbeat and stops without committing, and its
//!   late writes change nothing. Should both commit anyway (the slow one between two
//!   heartbeats), the lake refuses the second commit of the same file, and the second
//!   finishes from the first's manifest.
//! - A panic inside a job fails that job with a clear message; the worker goes on.
//! - The staging file is removed when the job ends either way: with anonymization on, the
//!   original addresses are then nowhere on disk.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secviz_lake::{IngestOptions, IngestProgress, IngestSource, Inside, LakeError};
use secviz_parse::{Format, ParseOptions};

use super::recipe::ParserRecipe;
use super::summary::{MAX_REJECTS, ParseReport, RejectLine};
use super::{anon, ids::DatasetId, wording};
use crate::db::states::{DatasetStatus, JobState};
use crate::db::{datasets, jobs};
use crate::state::AppState;

/// Attempts before an interrupted job is failed instead of resumed.
pub const MAX_ATTEMPTS: i64 = 3;

/// How often an idle worker looks for work it was not woken for (jobs queued by another
/// process, stale jobs).
const POLL: Duration = Duration::from_secs(2);

/// Starts the configured number of workers.
pub fn spawn(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    (0..state.config.ingest_workers.max(1))
        .map(|_| tokio::spawn(worker(state.clone())))
        .collect()
}

async fn worker(state: AppState) {
    loop {
        if let Err(e) = recover_stale(&state).await {
            tracing::warn!(error = %e, "checking for interrupted ingests failed");
        }
        match jobs::claim_next(&state.db, &state.config.instance, state.now()).await {
            Ok(Some(job)) => run_supervised(&state, job).await,
            Ok(None) => {
                let _ = tokio::time::timeout(POLL, state.ingest_wake.notified()).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming an ingest job failed");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Runs every queued job now, in this task (`secviz demo`, tests without a server).
pub async fn drain(state: &AppState) -> anyhow::Result<()> {
    while let Some(job) = jobs::claim_next(&state.db, &state.config.instance, state.now()).await? {
        run_supervised(state, job).await;
    }
    Ok(())
}

/// Queues again (or fails) running jobs whose process is gone.
pub async fn recover_stale(state: &AppState) -> anyhow::Result<()> {
    let before = state.now() - state.config.ingest_stale_secs;
    for job in jobs::stale(&state.db, before).await? {
        if state.ingest_running.contains(job.id) {
            continue;
        }
        if job.attempts >= MAX_ATTEMPTS {
            let Some(lease) = jobs::take_over(
                &state.db,
                job.id,
                &state.config.instance,
                before,
                state.now(),
            )
            .await?
            else {
                continue;
            };
            tracing::warn!(job = job.id.0, dataset = %job.dataset_id, owner = %job.owner, "ingest interrupted too often: failed");
            let msg = format!(
                "The ingest was interrupted {} times (the server stopped while it ran) and was given up. Upload the file again.",
                job.attempts
            );
            fail(state, &lease, &job, &msg, None).await?;
        } else if jobs::requeue(&state.db, job.id, before).await? {
            tracing::info!(job = job.id.0, dataset = %job.dataset_id, attempts = job.attempts, owner = %job.owner, "resuming an interrupted ingest");
            datasets::set_status(
                &mut *state.db.pool.acquire().await?,
                &job.dataset_id,
                DatasetStatus::Queued,
                "",
                None,
                state.now(),
            )
            .await?;
            state.ingest_wake.notify_one();
        }
    }
    Ok(())
}

/// Runs one job on its own task, so a panic fails the job and not the worker.
async fn run_supervised(state: &AppState, job: jobs::JobRow) {
    state.ingest_running.insert(job.id);
    let handle = tokio::spawn(run(state.clone(), job.clone()));
    let outcome = handle.await;
    state.ingest_running.remove(job.id);
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::error!(job = job.id.0, dataset = %job.dataset_id, error = ?format!("{e:#}"), "ingest failed");
            Some(wording::SERVER_PROBLEM.to_string())
        }
        Err(e) => {
            tracing::error!(job = job.id.0, dataset = %job.dataset_id, panic = e.is_panic(), "ingest worker crashed");
            Some("The ingest stopped unexpectedly (the worker crashed); it was logged. Upload the file again.".to_string())
        }
    };
    if let Some(msg) = failure
        && let Err(e) = fail(state, &job.lease(), &job, &msg, None).await
    {
        tracing::error!(job = job.id.0, error = %e, "recording an ingest failure failed");
    }
    state.invalidate_pages().await;
}

/// Marks a job and its dataset failed with a message for the member, removes the staging
/// file and whatever the lake holds for the dataset. Nothing happens unless `lease` still
/// holds the job.
async fn fail(
    state: &AppState,
    lease: &jobs::Lease,
    job: &jobs::JobRow,
    message: &str,
    report: Option<&ParseReport>,
) -> anyhow::Result<()> {
    let summary = report.map(ParseReport::to_json);
    let mut tx = state.db.pool.begin().await?;
    if !jobs::finish(&mut tx, lease, JobState::Failed, state.now()).await? {
        lost(job);
        return Ok(());
    }
    datasets::set_status(
        &mut tx,
        &job.dataset_id,
        DatasetStatus::Failed,
        message,
        summary.as_deref(),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    state.staging.remove(&job.staging).await;
    if let Some(id) = DatasetId::parse(&job.dataset_id) {
        let _ = state.lake.remove(&id.lake_name()).await;
    }
    Ok(())
}

/// Logs a claim found gone at its end: another instance took the job over.
fn lost(job: &jobs::JobRow) {
    tracing::warn!(job = job.id.0, dataset = %job.dataset_id, attempt = job.attempts, "another instance took this ingest over; this attempt's outcome is dropped");
}

/// Ends a job whose dataset is gone (deleted while the job waited or ran).
async fn drop_deleted(state: &AppState, job: &jobs::JobRow) -> anyhow::Result<()> {
    let mut conn = state.db.pool.acquire().await?;
    if jobs::finish(&mut conn, &job.lease(), JobState::Failed, state.now()).await? {
        state.staging.remove(&job.staging).await;
    } else {
        lost(job);
    }
    Ok(())
}

/// What the parsing thread shares with the heartbeat.
#[derive(Default)]
struct Shared {
    progress: IngestProgress,
    rejects: Vec<RejectLine>,
}

/// One ingest. `Err` is an internal failure (reported generically); problems with the data
/// itself end the job as failed with a message and return `Ok`.
async fn run(state: AppState, job: jobs::JobRow) -> anyhow::Result<()> {
    let Some(ds) = datasets::get(&state.db, &job.dataset_id).await? else {
        // The dataset was deleted while queued.
        return drop_deleted(&state, &job).await;
    };
    let id = DatasetId::parse(&ds.id)
        .ok_or_else(|| anyhow::anyhow!("bad dataset id in the database"))?;
    let name = id.lake_name();
    let mut parser: ParserRecipe = serde_json::from_str(&ds.parse).unwrap_or_default();
    datasets::set_status(
        &mut *state.db.pool.acquire().await?,
        &ds.id,
        DatasetStatus::Running,
        "",
        None,
        state.now(),
    )
    .await?;

    // Committed before the process died: finish from the manifest, never ingest twice.
    if let Some(m) = state.lake.manifest(&name).await? {
        if m.rows > 0 {
            return finish(&state, &job, &ds, &mut parser, &m).await;
        }
        state.lake.remove(&name).await?;
    }
    let Some(staged) = state.staging.fetch(&job.staging).await? else {
        fail(
            &state,
            &job.lease(),
            &job,
            "The uploaded file is no longer on the server. Upload it again.",
            None,
        )
        .await?;
        return Ok(());
    };

    let shared = Arc::new(Mutex::new(Shared::default()));
    let file = std::fs::File::open(&staged.path)?;
    let size = file.metadata()?.len();
    let source = IngestSource::reader(
        ds.label.clone(),
        std::io::BufReader::with_capacity(1 << 20, file),
        Some(size),
    );
    let mut parse = ParseOptions {
        year: parser.year,
        reference_time: Some(parser.reference_time_us),
        ..ParseOptions::default()
    };
    let c = &state.config;
    parse.limits.max_decompressed_ratio =
        (c.max_decompressed_ratio > 0).then_some(c.max_decompressed_ratio);
    parse.limits.max_decompressed_bytes =
        (c.max_decompressed_bytes > 0).then_some(c.max_decompressed_bytes);
    if let Some(f) = parser.requested_format.as_deref() {
        parse.format = Some(
            f.parse::<Format>()
                .map_err(|e| anyhow::anyhow!("stored format: {e}"))?,
        );
    }
    let opts = IngestOptions {
        parse,
        anonymize: ds.is_anonymized().then(|| state.anon_key.clone()),
        // Already mapped when the upload was queued (see `queue_ingest`).
        inside: parser.inside.clone().map(Inside::Stored),
        // Members' uploads are parsed below the priority of the threads serving pages.
        nice: Some(10),
        ..IngestOptions::default()
    };
    let (p1, p2) = (shared.clone(), shared.clone());
    let progress = Box::new(move |p: &IngestProgress| {
        p1.lock().unwrap_or_else(|e| e.into_inner()).progress = p.clone();
    });
    // Rejects arrive anonymized (when the ingest is); keep the first ones for the page.
    let rejects = Box::new(move |_: &str, r: &secviz_parse::Reject| {
        let mut s = p2.lock().unwrap_or_else(|e| e.into_inner());
        if s.rejects.len() < MAX_REJECTS {
            s.rejects.push(RejectLine {
                line: r.line,
                reason: r.reason.as_str().to_string(),
                detail: r.detail.clone(),
                raw: r.raw.chars().take(512).collect(),
            });
        }
    });
    let gone = Arc::new(tokio::sync::Notify::new());
    let heartbeat = tokio::spawn(heartbeat(
        state.clone(),
        job.lease(),
        shared.clone(),
        gone.clone(),
    ));
    let ingest = state
        .lake
        .ingest(&name, vec![source], opts, progress, rejects);
    // Dropping the ingest before its commit leaves nothing in the dataset (the lake's
    // commit is one conditional write); after it, the new owner finishes from the manifest.
    let result = tokio::select! {
        r = ingest => r,
        () = gone.notified() => {
            heartbeat.abort();
            lost(&job);
            return Ok(());
        }
    };
    heartbeat.abort();
    match result {
        Ok(report) => finish(&state, &job, &ds, &mut parser, &report.manifest).await,
        Err(e) => {
            if matches!(e, LakeError::Duplicate { .. })
                && let Some(m) = state.lake.manifest(&name).await?
                && m.rows > 0
            {
                // Another attempt of this job committed the same file first.
                return finish(&state, &job, &ds, &mut parser, &m).await;
            }
            let (member, log) = describe(&e, &state, &ds, &staged.path);
            tracing::info!(job = job.id.0, dataset = %ds.id, reason = ?log, "ingest refused the data");
            let report = {
                let s = shared.lock().unwrap_or_else(|e| e.into_inner());
                ParseReport {
                    read: s.progress.records,
                    events: s.progress.events,
                    rejects: s.rejects.clone(),
                    ..ParseReport::default()
                }
            };
            fail(&state, &job.lease(), &job, &member, Some(&report)).await?;
            Ok(())
        }
    }
}

/// Records a committed dataset (or fails it when nothing could be parsed).
async fn finish(
    state: &AppState,
    job: &jobs::JobRow,
    ds: &datasets::DatasetRow,
    parser: &mut ParserRecipe,
    m: &secviz_lake::Manifest,
) -> anyhow::Result<()> {
    let source = m.ingests.last().and_then(|i| i.sources.first());
    let mut report = source.map(ParseReport::from_source).unwrap_or_default();
    report.time_min = m.time_min_us.map(secviz_lake::format_micros);
    report.time_max = m.time_max_us.map(secviz_lake::format_micros);
    if m.rows > 0 {
        // One pass over what was just written; a profile that fails (out of time on a huge
        // upload) only leaves the form without its column list and presets.
        match state
            .lake
            .profile(
                &secviz_lake::query::Access::Only(vec![m.name.clone()]),
                // Our own fixed query, not a member's: bounded in time and memory, out of
                // the sandbox (which only member SQL needs).
                &secviz_lake::query::QueryLimits {
                    timeout: Some(std::time::Duration::from_secs(120)),
                    memory_bytes: Some(1 << 30),
                    sandbox: None,
                    ..secviz_lake::query::QueryLimits::unlimited()
                },
            )
            .await
        {
            Ok(columns) => report.columns = columns,
            Err(e) => tracing::warn!(dataset = %ds.id, error = %e, "profiling the columns failed"),
        }
    }
    if m.rows == 0 {
        let msg = format!(
            "No line could be read as {}: {} lines read, {} rejected ({}). Choose the format, or check the file.",
            if report.format.is_empty() {
                "a log"
            } else {
                &report.format
            },
            report.read,
            report.rejected_total(),
            report.reasons()
        );
        fail(state, &job.lease(), job, &msg, Some(&report)).await?;
        return Ok(());
    }
    if datasets::get(&state.db, &ds.id).await?.is_none() {
        // Deleted while it was being ingested.
        drop_deleted(state, job).await?;
        state.lake.remove(&m.name).await?;
        return Ok(());
    }
    parser.format = report.format.clone();
    parser.sha256 = report.sha256.clone();
    parser.rows = m.rows;
    parser.key_fingerprint = m.anonymization.as_ref().map(|a| a.key_fingerprint.clone());
    let parse_json = serde_json::to_string(&parser)?;
    let mut tx = state.db.pool.begin().await?;
    if !jobs::finish(&mut tx, &job.lease(), JobState::Done, state.now()).await? {
        lost(job);
        return Ok(());
    }
    datasets::set_ready(
        &mut tx,
        &ds.id,
        &report.format,
        m.rows as i64,
        &report.to_json(),
        &parse_json,
        state.now(),
    )
    .await?;
    tx.commit().await?;
    state.staging.remove(&job.staging).await;
    tracing::info!(job = job.id.0, dataset = %ds.id, rows = m.rows, "ingest committed");
    Ok(())
}

/// Writes the progress every second; it is also the job's heartbeat, which renews the
/// lease. Signals `gone` and stops when the lease is found gone.
async fn heartbeat(
    state: AppState,
    lease: jobs::Lease,
    shared: Arc<Mutex<Shared>>,
    gone: Arc<tokio::sync::Notify>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let p = shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .progress
            .clone();
        let row = jobs::Progress {
            bytes_read: p.bytes_read as i64,
            records: p.records as i64,
            events: p.events as i64,
            rejected: p.rejected as i64,
            phase: if p.committing {
                "committing"
            } else {
                "parsing"
            },
        };
        match jobs::progress(&state.db, &lease, &row, state.now()).await {
            Ok(true) => {}
            Ok(false) => {
                gone.notify_one();
                return;
            }
            Err(e) => {
                tracing::warn!(job = lease.id.0, error = %e, "writing ingest progress failed")
            }
        }
    }
}

/// The member's message for a failed ingest (addresses scrubbed when anonymizing) and the
/// log's.
fn describe(
    e: &LakeError,
    state: &AppState,
    ds: &datasets::DatasetRow,
    path: &std::path::Path,
) -> (String, String) {
    let scrub = |s: &str| anon::scrub(&state.anon_key, ds.is_anonymized(), s);
    let member = match e {
        LakeError::Parse { error, .. }
            if !matches!(error, secviz_parse::ParseError::Decompression(_))
                && gzip_problem(path).is_some() =>
        {
            let g = gzip_problem(path).unwrap_or_default();
            format!("The file is not valid gzip: {g}.")
        }
        _ => wording::lake_error(e)
            .map(|m| scrub(&m))
            .unwrap_or_else(|| wording::SERVER_PROBLEM.to_string()),
    };
    (member, scrub(&e.to_string()))
}

/// Why a file that starts like gzip cannot be decompressed, if it cannot.
fn gzip_problem(path: &std::path::Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut magic = [0u8; 2];
    f.read_exact(&mut magic).ok()?;
    if magic != [0x1f, 0x8b] {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let mut gz = flate2::read::MultiGzDecoder::new(f);
    let mut buf = vec![0u8; 64 * 1024];
    match gz.read(&mut buf) {
        Ok(0) => Some("it holds no data".into()),
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}
