//! [`SummaryCache`]: the last merged summaries of a lake, by the files they cover.
//!
//! Files are immutable and named uniquely per ingest, so the list of files is the key,
//! and a commit (a new file list) is never answered from an old merge.

use std::sync::{Arc, Mutex};

use super::Summary;

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
    summary: Arc<Summary>,
    held: usize,
}

impl SummaryCache {
    pub(crate) fn get(&self, key: &[String]) -> Option<Arc<Summary>> {
        let mut e = self.entries.lock().expect("summary cache lock");
        let i = e.iter().position(|c| c.files == key)?;
        let hit = e.remove(i);
        let s = hit.summary.clone();
        e.push(hit);
        Some(s)
    }

    pub(crate) fn put(&self, key: Vec<String>, s: Arc<Summary>) {
        let held = s.held_bytes();
        if held > CACHE_BUDGET {
            return;
        }
        let mut e = self.entries.lock().expect("summary cache lock");
        e.retain(|c| c.files != key);
        e.push(Cached {
            files: key,
            summary: s,
            held,
        });
        while e.len() > CACHED || e.iter().map(|c| c.held).sum::<usize>() > CACHE_BUDGET {
            e.remove(0);
        }
    }
}
