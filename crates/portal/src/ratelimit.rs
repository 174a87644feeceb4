//! Fixed-window counters in memory, keyed by purpose and client address or account. Windows
//! use the injected clock, so tests advance time instead of sleeping. Memory stays bounded:
//! expired windows are swept when the table grows.
//!
//! Checking and counting happen under one lock ([`RateLimiter::take`],
//! [`RateLimiter::reserve`]): a burst of concurrent requests cannot all read "9 of 10" before
//! any of them counts. Log-ins reserve a failure slot *before* the password is checked and give
//! it back when the password was right, so fifty simultaneous guesses get exactly `limit`
//! answers and the rest 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;

const SWEEP_AT: usize = 50_000;

type Windows = HashMap<String, (i64, u32)>;

#[derive(Clone)]
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    windows: Arc<Mutex<Windows>>,
}

impl RateLimiter {
    pub fn new(clock: Arc<dyn Clock>) -> RateLimiter {
        RateLimiter {
            clock,
            windows: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Windows> {
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many hits `key` has in the current window of `window_secs`.
    pub fn count(&self, key: &str, window_secs: i64) -> u32 {
        count_in(&self.lock(), key, self.clock.now(), window_secs)
    }

    /// Checks and records in one step: true when the hit was allowed (and is now counted).
    pub fn take(&self, key: &str, limit: u32, window_secs: i64) -> bool {
        self.reserve(&[key], limit, window_secs)
            .map(Reservation::keep)
            .is_some()
    }

    /// Counts one hit on every key at once, if each has fewer than `limit` hits in its window;
    /// otherwise counts nothing and returns `None`. The hit is given back when the
    /// [`Reservation`] is dropped, unless [`Reservation::keep`] was called.
    pub fn reserve(&self, keys: &[&str], limit: u32, window_secs: i64) -> Option<Reservation> {
        let now = self.clock.now();
        let mut map = self.lock();
        if keys
            .iter()
            .any(|k| count_in(&map, k, now, window_secs) >= limit)
        {
            return None;
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now - *start < 3600);
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
        Some(Reservation {
            limiter: self.clone(),
            held,
            kept: false,
        })
    }

    /// Forgets `key` (a successful login clears its failure count).
    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

fn count_in(map: &Windows, key: &str, now: i64, window_secs: i64) -> u32 {
    match map.get(key) {
        Some((start, n)) if now - start < window_secs => *n,
        _ => 0,
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
        if self.kept {
            return;
        }
        let mut map = self.limiter.lock();
        for (key, start) in &self.held {
            // A hit counted in a window that has since restarted is already gone.
            if let Some(entry) = map.get_mut(key)
                && entry.0 == *start
            {
                entry.1 = entry.1.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn window_fills_then_resets() {
        let clock = Arc::new(ManualClock::new());
        let rl = RateLimiter::new(clock.clone());
        for _ in 0..3 {
            assert!(rl.take("k", 3, 60));
        }
        assert!(!rl.take("k", 3, 60));
        assert!(rl.take("other", 3, 60));
        clock.advance(61);
        assert!(rl.take("k", 3, 60));
    }

    #[test]
    fn reservations_count_at_once_and_give_back_unless_kept() {
        let rl = RateLimiter::new(Arc::new(ManualClock::new()));
        let a = rl.reserve(&["ip", "acct"], 2, 60).unwrap();
        let b = rl.reserve(&["ip", "acct"], 2, 60).unwrap();
        assert!(rl.reserve(&["ip"], 2, 60).is_none(), "both slots are held");
        drop(a);
        assert_eq!(rl.count("ip", 60), 1, "a dropped reservation is given back");
        assert_eq!(rl.count("acct", 60), 1);
        b.keep();
        assert_eq!(rl.count("ip", 60), 1, "a kept one stays");
        assert!(
            rl.reserve(&["ip", "full"], 1, 60).is_none(),
            "one full key refuses all"
        );
        assert_eq!(rl.count("full", 60), 0, "and counts nothing");
    }

    #[test]
    fn concurrent_reservations_never_pass_the_limit() {
        let rl = RateLimiter::new(Arc::new(ManualClock::new()));
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let rl = rl.clone();
                    s.spawn(move || {
                        (0..50)
                            .filter(|_| rl.reserve(&["k"], 10, 60).map(Reservation::keep).is_some())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 10);
    }
}
