//! Housekeeping on a timer: expired sessions and reset tokens are deleted (they are refused
//! anyway; this keeps the tables small), and draft uploads never attached to a post within a
//! day are removed with their files, and so are staged log uploads no pending ingest job
//! names (left by a crash between the upload and its job, or by a refused form), and image
//! files a crash left half-written under their temporary name, and rate-limit windows long
//! past. With several instances on one database, one of them sweeps at a time
//! (`db::singleton`); the others skip that round.

use std::time::Duration;

use crate::db::singleton;
use crate::state::AppState;

/// Time between sweeps.
pub const EVERY: Duration = Duration::from_secs(600);

/// Drafts older than this are removed.
const DRAFT_TTL: i64 = 24 * 3600;

/// One sweep, unless another instance sweeps now; errors are logged, never fatal. True when
/// this instance swept.
pub async fn sweep(state: &AppState) -> bool {
    let alone = singleton::run_alone(
        &state.db,
        singleton::Task::Sweep,
        &state.config.instance,
        state.now(),
        try_sweep(state),
    )
    .await;
    match alone {
        Ok(Some(Ok(()))) => true,
        Ok(None) => false,
        Ok(Some(Err(e))) | Err(e) => {
            tracing::warn!(error = %e, "maintenance sweep failed");
            false
        }
    }
}

async fn try_sweep(state: &AppState) -> Result<(), sqlx::Error> {
    let now = state.now();
    let c = &state.config;
    crate::db::sessions::sweep(&state.db, now, c.session_idle_secs, c.session_absolute_secs)
        .await?;
    sqlx::query("DELETE FROM password_resets WHERE expires_at < $1 OR used_at IS NOT NULL")
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    let stale = sqlx::query_scalar::<_, String>(
        "SELECT id FROM images WHERE post_id IS NULL AND created_at < $1 LIMIT 1000",
    )
    .bind(now - DRAFT_TTL)
    .fetch_all(&state.db.pool)
    .await?;
    for id in stale {
        sqlx::query("DELETE FROM images WHERE id = $1 AND post_id IS NULL")
            .bind(&id)
            .execute(&state.db.pool)
            .await?;
        state.images.remove(&id).await;
    }
    sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(now - crate::ratelimit::LONGEST_WINDOW_SECS)
        .execute(&state.db.pool)
        .await?;
    sweep_staging(state).await?;
    state
        .images
        .remove_partials(Duration::from_secs(3600))
        .await;
    Ok(())
}

/// Removes staged uploads older than a day that no queued or running job uses (left by a
/// crash between the upload and its job, or by a refused form), and what a crash left in the
/// receiving folder.
async fn sweep_staging(state: &AppState) -> Result<(), sqlx::Error> {
    let pending: std::collections::HashSet<String> = crate::db::jobs::pending_staging(&state.db)
        .await?
        .into_iter()
        .collect();
    let staged = match state.staging.ids().await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "could not list the staged uploads");
            return Ok(());
        }
    };
    let day_ago = state.now() - DRAFT_TTL;
    let n = state.staging.remove_abandoned(day_ago);
    if n > 0 {
        tracing::info!(files = n, "removed uploads a crash cut off mid-way");
    }
    for (id, modified) in staged {
        if modified < day_ago && !pending.contains(&id) {
            tracing::info!(staging = %id, "removing an orphaned upload");
            state.staging.remove(&id).await;
        }
    }
    Ok(())
}
