//! [`Running`]: the ingest jobs this process is running. The state holds it and the worker
//! fills it; it lives apart from both so that neither imports the other.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::db::jobs::JobId;

/// Jobs running in this process (never "stale" here, whatever the clock says).
#[derive(Default)]
pub struct Running(Mutex<HashSet<JobId>>);

impl Running {
    pub(crate) fn insert(&self, id: JobId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
    }
    pub(crate) fn remove(&self, id: JobId) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
    pub(crate) fn contains(&self, id: JobId) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id)
    }
}
