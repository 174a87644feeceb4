//! Members' sessions, remembered between their page views.
//!
//! Every page a member asked for used to read the session table first: a hop to a database
//! connection's thread and back, for a row that changes once a minute at most (its "last
//! seen"). Here a session read from the table is remembered, and a member's next pages are
//! served from memory. What must never be stale is not:
//! - a request that can change something (anything but `GET` and `HEAD`) always reads the
//!   table, so every write is authorised by the session as stored;
//! - a moderator's or an administrator's session is never remembered: privileged pages
//!   always read the table, so a demotion holds at once everywhere;
//! - ending sessions (log-out, log-in over an old session, a password change or reset, a
//!   role change) forgets every remembered session;
//! - only one instance owns a SQLite database, so only there are sessions remembered. On
//!   PostgreSQL, several instances share the table and a log-out on one must hold on the
//!   very next request to another: every request reads the table;
//! - a remembered session is read again after [`FRESH_SECS`], so a change made to the table
//!   by another process (`secviz user set-role` promoting a member) shows within that time;
//! - the idle and absolute timeouts are checked on every request, and a session that looks
//!   timed out from memory is read again before it is ended.
//!
//! At most [`MAX_SESSIONS`] are remembered; when full, everything is forgotten (sessions
//! exist only after a rate-limited log-in, so a visitor cannot fill it with made-up cookies:
//! a cookie the table does not know is never remembered).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::sessions::SessionRow;

/// Seconds a remembered session is served before the table is read again.
pub const FRESH_SECS: i64 = 10;

/// Sessions remembered at most (about 300 bytes each).
pub const MAX_SESSIONS: usize = 50_000;

struct Remembered {
    row: SessionRow,
    read_at: i64,
}

/// The remembered sessions, by the SHA-256 of their token.
#[derive(Default)]
pub struct SessionMemory {
    map: Mutex<HashMap<String, Remembered>>,
    /// Bumped by every forget: a row read before it is not remembered.
    generation: AtomicU64,
    enabled: bool,
}

impl SessionMemory {
    /// `enabled` false remembers nothing (a database other instances share).
    pub fn new(enabled: bool) -> SessionMemory {
        SessionMemory {
            enabled,
            ..SessionMemory::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Remembered>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation to pass to [`SessionMemory::remember`] for a row read from now on.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The session under `hash`, if remembered and read from the table less than
    /// [`FRESH_SECS`] ago.
    pub fn recall(&self, hash: &str, now: i64) -> Option<SessionRow> {
        let map = self.lock();
        let r = map.get(hash)?;
        (now - r.read_at < FRESH_SECS && now >= r.read_at).then(|| r.row.clone())
    }

    /// Remembers a member's session read from the table at `now` (privileged ones are not
    /// remembered, nor a row read before a forget).
    pub fn remember(&self, hash: &str, row: &SessionRow, generation: u64, now: i64) {
        if !self.enabled || row.role != "member" {
            return;
        }
        let mut map = self.lock();
        // Read under the lock: `forget` bumps, then clears under the same lock.
        if self.generation() != generation {
            return;
        }
        if map.len() >= MAX_SESSIONS && !map.contains_key(hash) {
            map.clear();
        }
        map.insert(
            hash.to_string(),
            Remembered {
                row: row.clone(),
                read_at: now,
            },
        );
    }

    /// Notes that the session's "last seen" was written (so the idle timeout counts from it).
    pub fn seen(&self, hash: &str, now: i64) {
        if let Some(r) = self.lock().get_mut(hash) {
            r.row.last_seen = now;
        }
    }

    /// Forgets every remembered session: some session ended or a role changed.
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let forgotten = std::mem::take(&mut *self.lock());
        drop(forgotten);
    }

    /// Sessions remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::UserId;

    fn row(role: &str) -> SessionRow {
        SessionRow {
            user_id: UserId::from(1),
            username: "ana".into(),
            role: role.into(),
            csrf: "t".into(),
            created_at: 0,
            last_seen: 0,
        }
    }

    #[test]
    fn a_members_session_is_recalled_until_stale_or_forgotten() {
        let m = SessionMemory::new(true);
        m.remember("h", &row("member"), m.generation(), 100);
        assert!(m.recall("h", 100).is_some());
        assert!(m.recall("h", 100 + FRESH_SECS - 1).is_some());
        assert!(m.recall("h", 100 + FRESH_SECS).is_none(), "read again");
        assert!(
            m.recall("h", 99).is_none(),
            "a clock that went back reads again"
        );
        assert!(m.recall("other", 100).is_none());
        m.forget();
        assert!(m.recall("h", 100).is_none(), "forgotten");
        assert!(m.is_empty());
    }

    #[test]
    fn privileged_sessions_and_rows_read_before_a_forget_are_not_remembered() {
        let m = SessionMemory::new(true);
        m.remember("a", &row("admin"), m.generation(), 0);
        m.remember("b", &row("moderator"), m.generation(), 0);
        assert!(m.is_empty());
        let before = m.generation();
        m.forget();
        m.remember("c", &row("member"), before, 0);
        assert!(
            m.recall("c", 0).is_none(),
            "the session may have ended since"
        );
    }

    #[test]
    fn last_seen_follows_the_write() {
        let m = SessionMemory::new(true);
        m.remember("h", &row("member"), m.generation(), 5);
        m.seen("h", 7);
        assert_eq!(m.recall("h", 7).map(|r| r.last_seen), Some(7));
    }

    #[test]
    fn switched_off_it_remembers_nothing() {
        let m = SessionMemory::new(false);
        m.remember("h", &row("member"), m.generation(), 0);
        assert!(m.recall("h", 0).is_none());
    }

    #[test]
    fn memory_is_bounded() {
        let m = SessionMemory::new(true);
        for i in 0..MAX_SESSIONS + 10 {
            m.remember(&format!("h{i}"), &row("member"), m.generation(), 0);
            assert!(m.len() <= MAX_SESSIONS);
        }
        assert!(m.recall(&format!("h{}", MAX_SESSIONS + 9), 0).is_some());
    }
}
