//! [`SummaryCache`]: the last merged summaries of a lake, by the files they cover.
//!
//! Files are immutable and named uniquely per ingest, so the list of files is the key,
//! and a commit (a new file list) is never answered from an old merge. An entry holds the
//! tables read so far; a reader asking for more reads them all again, with those it holds
//! (so two analyses that read different tables do not evict each other's).

use std::sync::{Arc, Mutex};

use super::{Summary, Tables};

/// Merged summaries kept, and the most they may hold together.
const CACHED: usize = 4;
const CACHE_BUDGET: usize = 256 << 20;

/// The last merged summaries, by the files they cover.
#[derive(Debug, Default)]
pub struct SummaryCache {
    entries: Mutex<Vec<Cached>>,
}

#[derive(Debug)]
struct Cached {
    files: Vec<String>,
    read: Tables,
    summary: Arc<Summary>,
    held: usize,
}

impl SummaryCache {
    /// The merge of `key` if it holds every table of `wanted`; otherwise `Err` with the
    /// tables the merge kept holds (which a new read should include).
    pub(crate) fn get(&self, key: &[String], wanted: Tables) -> Result<Arc<Summary>, Tables> {
        let mut e = self.entries.lock().expect("summary cache lock");
        let Some(i) = e.iter().position(|c| c.files == key) else {
            return Err(Tables::NONE);
        };
        if !wanted.within(e[i].read) {
            return Err(e[i].read);
        }
        let hit = e.remove(i);
        let s = hit.summary.clone();
        e.push(hit);
        Ok(s)
    }

    /// Keeps `s`, the merge of `key` with the tables `read` (a table given up is `None` in
    /// `s` but was read).
    pub(crate) fn put(&self, key: Vec<String>, read: Tables, s: Arc<Summary>) {
        let held = s.held_bytes();
        if held > CACHE_BUDGET {
            return;
        }
        let mut e = self.entries.lock().expect("summary cache lock");
        e.retain(|c| c.files != key);
        e.push(Cached {
            files: key,
            read,
            summary: s,
            held,
        });
        while e.len() > CACHED || e.iter().map(|c| c.held).sum::<usize>() > CACHE_BUDGET {
            e.remove(0);
        }
    }
}
