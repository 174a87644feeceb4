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

use crate::data::ids::DatasetId;
use crate::db::dashboards::DashboardRow;
use crate::db::ids::DashboardId;
use crate::error::AppError;
use crate::state::AppState;

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
    /// SHA-256 of the computed numbers: the same numbers, the same ETag.
    pub digest: String,
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

    /// The current interval's computation of dashboard `d`, computing it if this viewer is
    /// the first of the interval.
    pub async fn get(
        &self,
        state: &AppState,
        d: &DashboardRow,
        spec: &DashboardSpec,
    ) -> Result<Arc<Shown>, AppError> {
        let key = key_of(d, spec);
        let slot = self.slot(d.id);
        let mut cell = slot.cell.lock().await;
        if let Some(s) = cell.as_ref()
            && s.key == key
            && s.fresh_until > Instant::now()
        {
            return Ok(s.clone());
        }
        let shown = Arc::new(compute(state, d, spec, key).await?);
        *cell = Some(shown.clone());
        Ok(shown)
    }
}

async fn compute(
    state: &AppState,
    d: &DashboardRow,
    spec: &DashboardSpec,
    key: [u8; 32],
) -> Result<Shown, AppError> {
    let name = DatasetId::parse(&d.dataset_id)
        .ok_or(AppError::NotFound)?
        .lake_name();
    let started = Instant::now();
    let at_us = secviz_lake::now_micros();
    let limits = state.publish_limits();
    let view_limits = secviz_views::Limits {
        time: limits.time,
        memory: limits.memory,
        sandbox: true,
    };
    let (lake, spec2) = (state.lake.clone(), spec.clone());
    let computed = state
        .member_job(
            &format!("dashboards:{}", d.owner_id),
            limits,
            move || async move {
                secviz_views::dashboard::compute(&lake, &name, &spec2, at_us, view_limits).await
            },
        )
        .await?
        .map_err(|e| match e {
            secviz_views::ViewError::NotFound => AppError::NotFound,
            secviz_views::ViewError::Busy(b) => AppError::Busy {
                message: format!("{b}."),
                retry_after: b.retry_after.as_secs().max(1),
            },
            other => AppError::Limit(format!("The dashboard could not be computed: {other}.")),
        })?;
    let json = serde_json::to_vec(&computed.panels).map_err(anyhow::Error::from)?;
    let digest = hex::encode(&Sha256::digest(&json)[..12]);
    tracing::debug!(dashboard = %d.id, ms = started.elapsed().as_millis() as u64, "dashboard computed");
    Ok(Shown {
        key,
        computed,
        at_us,
        fresh_until: Instant::now() + Duration::from_secs(u64::from(spec.refresh_seconds)),
        digest,
    })
}
