//! Fixed-window counters in memory, keyed by purpose and client address or account. Windows
//! use the injected clock, so tests advance time instead of sleeping. Memory stays bounded:
//! expired windows are swept when the table grows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;

const SWEEP_AT: usize = 50_000;

#[derive(Clone)]
pub struct RateLimiter {
    clock: Arc<dyn Clock>,
    windows: Arc<Mutex<HashMap<String, (i64, u32)>>>,
}

impl RateLimiter {
    pub fn new(clock: Arc<dyn Clock>) -> RateLimiter {
        RateLimiter {
            clock,
            windows: Arc::default(),
        }
    }

    /// How many hits `key` has in the current window of `window_secs`.
    pub fn count(&self, key: &str, window_secs: i64) -> u32 {
        let now = self.clock.now();
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((start, n)) if now - start < window_secs => *n,
            _ => 0,
        }
    }

    /// True while `key` has fewer than `limit` hits in the window.
    pub fn allows(&self, key: &str, limit: u32, window_secs: i64) -> bool {
        self.count(key, window_secs) < limit
    }

    /// Records one hit for `key`.
    pub fn hit(&self, key: &str, window_secs: i64) {
        let now = self.clock.now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now - *start < 3600);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= window_secs {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Checks and records in one step: true when the hit was allowed.
    pub fn take(&self, key: &str, limit: u32, window_secs: i64) -> bool {
        if !self.allows(key, limit, window_secs) {
            return false;
        }
        self.hit(key, window_secs);
        true
    }

    /// Forgets `key` (a successful login clears its failure count).
    pub fn clear(&self, key: &str) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
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
}
