//! Fixed-window counters keyed by purpose and client address or account. Windows use the
//! injected clock, so tests advance time instead of sleeping.
//!
//! Where the counters live:
//! - in memory (SQLite, the one-box default): bounded, expired windows are swept when the
//!   table grows;
//! - in the database (PostgreSQL, where several instances serve one site, issue 20): one
//!   row per key in `rate_limits`, so a client cannot multiply its allowance by spreading
//!   requests over instances. Rows of windows long past are removed by the maintenance
//!   sweep. Should the database fail, the request is let through and the failure logged:
//!   the limiter never turns a database problem into "too many requests".
//!
//! Checking and counting happen in one step ([`RateLimiter::take`],
//! [`RateLimiter::reserve`]): under one lock in memory, under row locks taken in key order in
//! one transaction in the database. A burst of concurrent requests cannot all read "9 of 10"
//! before any of them counts. Log-ins reserve a failure slot *before* the password is
//! checked and give it back when the password was right, so fifty simultaneous guesses get
//! exactly `limit` answers and the rest 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;
use crate::db::{Backend, Db};

const SWEEP_AT: usize = 50_000;

/// The longest window any limit uses; older windows are gone.
pub const LONGEST_WINDOW_SECS: i64 = 3600;

type Windows = HashMap<String, (i64, u32)>;

#[derive(Clone)]
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    counters: Counters,
}

#[derive(Clone)]
enum Counters {
    Memory(Arc<Mutex<Windows>>),
    Shared(Db),
}

impl RateLimiter {
    /// Counters in memory: one instance.
    pub fn new(clock: Arc<dyn Clock>) -> RateLimiter {
        RateLimiter {
            clock,
            counters: Counters::Memory(Arc::default()),
        }
    }

    /// Counters for `db`: shared by every instance on PostgreSQL, in memory on SQLite.
    pub fn for_db(clock: Arc<dyn Clock>, db: &Db) -> RateLimiter {
        match db.backend {
            Backend::Postgres => RateLimiter {
                clock,
                counters: Counters::Shared(db.clone()),
            },
            Backend::Sqlite => RateLimiter::new(clock),
        }
    }

    /// Whether the counters are shared through the database.
    pub fn is_shared(&self) -> bool {
        matches!(self.counters, Counters::Shared(_))
    }

    /// Checks and records in one step: true when the hit was allowed (and is now counted).
    pub async fn take(&self, key: &str, limit: u32, window_secs: i64) -> bool {
        self.reserve(&[key], limit, window_secs)
            .await
            .map(Reservation::keep)
            .is_some()
    }

    /// Counts one hit on every key at once, if each has fewer than `limit` hits in its window;
    /// otherwise counts nothing and returns `None`. The hit is given back when the
    /// [`Reservation`] is dropped, unless [`Reservation::keep`] was called.
    pub async fn reserve(
        &self,
        keys: &[&str],
        limit: u32,
        window_secs: i64,
    ) -> Option<Reservation> {
        let now = self.clock.now();
        let held = match &self.counters {
            Counters::Memory(windows) => {
                reserve_in_memory(&mut lock(windows), keys, limit, now, window_secs)?
            }
            Counters::Shared(db) => {
                match shared::reserve(db, keys, limit, now, window_secs).await {
                    Ok(held) => held?,
                    Err(e) => {
                        tracing::warn!(error = %e, "the shared rate limit could not be read; the request is let through");
                        Vec::new()
                    }
                }
            }
        };
        Some(Reservation {
            limiter: self.clone(),
            held,
            kept: false,
        })
    }

    /// Forgets `key` (a successful login clears its failure count).
    pub async fn clear(&self, key: &str) {
        match &self.counters {
            Counters::Memory(windows) => {
                lock(windows).remove(key);
            }
            Counters::Shared(db) => {
                if let Err(e) = shared::clear(db, key).await {
                    tracing::warn!(error = %e, "clearing a shared rate limit failed");
                }
            }
        }
    }

    /// How many hits `key` has in the current window of `window_secs`.
    pub async fn count(&self, key: &str, window_secs: i64) -> u32 {
        let now = self.clock.now();
        match &self.counters {
            Counters::Memory(windows) => count_in(&lock(windows), key, now, window_secs),
            Counters::Shared(db) => shared::count(db, key, now, window_secs).await.unwrap_or(0),
        }
    }
}

fn lock(windows: &Mutex<Windows>) -> MutexGuard<'_, Windows> {
    windows.lock().unwrap_or_else(|e| e.into_inner())
}

fn reserve_in_memory(
    map: &mut Windows,
    keys: &[&str],
    limit: u32,
    now: i64,
    window_secs: i64,
) -> Option<Vec<(String, i64)>> {
    if keys
        .iter()
        .any(|k| count_in(map, k, now, window_secs) >= limit)
    {
        return None;
    }
    if map.len() >= SWEEP_AT {
        map.retain(|_, (start, _)| now - *start < LONGEST_WINDOW_SECS);
    }
    let mut held = Vec::with_capacity(keys.len());
    for key in keys {
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= window_secs {
            *entry = (now, 0);
        }
        entry.1 += 1;
        held.push((key.to_string(), entry.0));
    }
    Some(held)
}

fn count_in(map: &Windows, key: &str, now: i64, window_secs: i64) -> u32 {
    match map.get(key) {
        Some((start, n)) if now - start < window_secs => *n,
        _ => 0,
    }
}

/// The counters in the `rate_limits` table (PostgreSQL).
mod shared {
    use crate::db::Db;

    /// `Ok(None)`: a key is at its limit, nothing was counted.
    pub(super) async fn reserve(
        db: &Db,
        keys: &[&str],
        limit: u32,
        now: i64,
        window_secs: i64,
    ) -> Result<Option<Vec<(String, i64)>>, sqlx::Error> {
        // Rows are locked in key order, so two reservations never wait on each other in a
        // circle.
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = db.pool.begin().await?;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            sqlx::query(
                "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 0) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let (start, hits) = sqlx::query_as::<_, (i64, i64)>(
                "SELECT window_start, hits FROM rate_limits WHERE key = $1 FOR UPDATE",
            )
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            let (start, hits) = if now - start >= window_secs {
                (now, 0)
            } else {
                (start, hits)
            };
            if hits >= i64::from(limit) {
                // Dropping the transaction rolls it back.
                return Ok(None);
            }
            rows.push((key.to_string(), start, hits + 1));
        }
        for (key, start, hits) in &rows {
            sqlx::query("UPDATE rate_limits SET window_start = $1, hits = $2 WHERE key = $3")
                .bind(start)
                .bind(hits)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(rows.into_iter().map(|(k, s, _)| (k, s)).collect()))
    }

    /// Gives back one hit per key, if its window has not restarted since.
    pub(super) async fn give_back(db: &Db, held: &[(String, i64)]) -> Result<(), sqlx::Error> {
        for (key, start) in held {
            sqlx::query(
                "UPDATE rate_limits SET hits = hits - 1 WHERE key = $1 AND window_start = $2 AND hits > 0",
            )
            .bind(key)
            .bind(start)
            .execute(&db.pool)
            .await?;
        }
        Ok(())
    }

    pub(super) async fn clear(db: &Db, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM rate_limits WHERE key = $1")
            .bind(key)
            .execute(&db.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn count(
        db: &Db,
        key: &str,
        now: i64,
        window_secs: i64,
    ) -> Result<u32, sqlx::Error> {
        let row = sqlx::query_as::<_, (i64, i64)>(
            "SELECT window_start, hits FROM rate_limits WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&db.pool)
        .await?;
        Ok(match row {
            Some((start, hits)) if now - start < window_secs => hits.max(0) as u32,
            _ => 0,
        })
    }
}

/// Hits counted by [`RateLimiter::reserve`]; given back on drop unless kept.
#[must_use = "dropping a reservation gives its hits back at once"]
pub struct Reservation {
    limiter: RateLimiter,
    /// Each key with the start of the window its hit was counted in.
    held: Vec<(String, i64)>,
    kept: bool,
}

impl Reservation {
    /// The hits stay counted (a failed log-in, an accepted sign-up).
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.kept || self.held.is_empty() {
            return;
        }
        match &self.limiter.counters {
            Counters::Memory(windows) => {
                let mut map = lock(windows);
                for (key, start) in &self.held {
                    // A hit counted in a window that has since restarted is already gone.
                    if let Some(entry) = map.get_mut(key)
                        && entry.0 == *start
                    {
                        entry.1 = entry.1.saturating_sub(1);
                    }
                }
            }
            // Drop cannot wait: the hit is given back on a task of its own.
            Counters::Shared(db) => {
                let (db, held) = (db.clone(), std::mem::take(&mut self.held));
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        if let Err(e) = shared::give_back(&db, &held).await {
                            tracing::warn!(error = %e, "giving back a shared rate-limit hit failed");
                        }
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn window_fills_then_resets() {
        let clock = Arc::new(ManualClock::new());
        let rl = RateLimiter::new(clock.clone());
        for _ in 0..3 {
            assert!(rl.take("k", 3, 60).await);
        }
        assert!(!rl.take("k", 3, 60).await);
        assert!(rl.take("other", 3, 60).await);
        clock.advance(61);
        assert!(rl.take("k", 3, 60).await);
    }

    #[tokio::test]
    async fn reservations_count_at_once_and_give_back_unless_kept() {
        let rl = RateLimiter::new(Arc::new(ManualClock::new()));
        let a = rl.reserve(&["ip", "acct"], 2, 60).await.unwrap();
        let b = rl.reserve(&["ip", "acct"], 2, 60).await.unwrap();
        assert!(
            rl.reserve(&["ip"], 2, 60).await.is_none(),
            "both slots are held"
        );
        drop(a);
        assert_eq!(
            rl.count("ip", 60).await,
            1,
            "a dropped reservation is given back"
        );
        assert_eq!(rl.count("acct", 60).await, 1);
        b.keep();
        assert_eq!(rl.count("ip", 60).await, 1, "a kept one stays");
        assert!(
            rl.reserve(&["ip", "full"], 1, 60).await.is_none(),
            "one full key refuses all"
        );
        assert_eq!(rl.count("full", 60).await, 0, "and counts nothing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_reservations_never_pass_the_limit() {
        let rl = RateLimiter::new(Arc::new(ManualClock::new()));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let rl = rl.clone();
                tokio::spawn(async move {
                    let mut granted = 0;
                    for _ in 0..50 {
                        if let Some(r) = rl.reserve(&["k"], 10, 60).await {
                            r.keep();
                            granted += 1;
                        }
                    }
                    granted
                })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            granted += t.await.unwrap();
        }
        assert_eq!(granted, 10);
    }
}
