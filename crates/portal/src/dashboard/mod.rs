//! Dashboards computed once per refresh interval and shared by every viewer (issue 18).
//!
//! A big screen left open, a share link passed around, fifty analysts on one dashboard: they
//! all get the one computation of the current interval. The first viewer after an interval
//! ends computes it (one job of the query executor, admitted under the dashboard owner's
//! name, so one member's screens cannot take the executor from everyone); viewers who come
//! while it runs wait for that same computation instead of starting their own. Nothing is
//! served older than its interval: when the computation cannot run (the executor is full),
//! the viewer is told to come back rather than handed stale numbers.
//!
//! Memory is bounded: at most [`MAX_SLOTS`] dashboards are kept; the least recently
//! computed one not being computed is dropped first.

pub mod pages;
pub mod panels;
pub mod show;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secviz_views::dashboard::{Computed, DashboardSpec};
use sha2::{Digest, Sha256};

use crate::db::dashboards::DashboardRow;
use crate::db::ids::DashboardId;
use crate::error::AppError;

/// Dashboards kept computed at once.
pub const MAX_SLOTS: usize = 256;

/// One computation of a dashboard.
pub struct Shown {
    /// What was computed: the dataset and the spec (a changed spec is computed anew).
    key: [u8; 32],
    pub computed: Computed,
    /// When it was computed (microseconds): the windows' "now".
    pub at_us: i64,
    fresh_until: Instant,
}

impl Shown {
    /// How long until the next computation is due: a screen asks again then, so new data
    /// shows at most one interval (plus the computation) after it arrived.
    pub fn next_in(&self) -> Duration {
        self.fresh_until.saturating_duration_since(Instant::now())
    }
}

#[derive(Default)]
struct Slot {
    cell: tokio::sync::Mutex<Option<Arc<Shown>>>,
}

/// The per-interval computations of the dashboards being watched.
#[derive(Default)]
pub struct Screens {
    slots: Mutex<HashMap<DashboardId, (Arc<Slot>, Instant)>>,
}

fn key_of(d: &DashboardRow, spec: &DashboardSpec) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(d.dataset_id.as_bytes());
    h.update([0]);
    h.update(spec.to_json().as_bytes());
    h.finalize().into()
}

impl Screens {
    fn slot(&self, id: DashboardId) -> Arc<Slot> {
        let mut slots = self.slots.lock().expect("screens lock");
        let now = Instant::now();
        if !slots.contains_key(&id) && slots.len() >= MAX_SLOTS {
            // Drop the least recently used slot nobody is waiting on.
            let victim = slots
                .iter()
                .filter(|(_, (s, _))| Arc::strong_count(s) == 1)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k);
            if let Some(k) = victim {
                slots.remove(&k);
            }
        }
        let entry = slots.entry(id).or_insert_with(|| (Arc::default(), now));
        entry.1 = now;
        entry.0.clone()
    }

    /// Forgets a dashboard's computation (after its spec changed or it was deleted).
    pub fn forget(&self, id: DashboardId) {
        self.slots.lock().expect("screens lock").remove(&id);
    }

    /// The current interval's computation of dashboard `d`, made by `compute` if this
    /// viewer is the first of the interval (viewers who come meanwhile wait for it).
    pub async fn get<F>(
        &self,
        d: &DashboardRow,
        spec: &DashboardSpec,
        compute: F,
    ) -> Result<Arc<Shown>, AppError>
    where
        F: std::future::Future<Output = Result<(Computed, i64), AppError>>,
    {
        let key = key_of(d, spec);
        let slot = self.slot(d.id);
        let mut cell = slot.cell.lock().await;
        if let Some(s) = cell.as_ref()
            && s.key == key
            && s.fresh_until > Instant::now()
        {
            return Ok(s.clone());
        }
        let (computed, at_us) = compute.await?;
        let shown = Arc::new(Shown {
            key,
            computed,
            at_us,
            fresh_until: Instant::now() + Duration::from_secs(u64::from(spec.refresh_seconds)),
        });
        *cell = Some(shown.clone());
        Ok(shown)
    }
}
