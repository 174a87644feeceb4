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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use secviz_views::dashboard::Frame;

    use super::*;

    fn row(id: i64) -> DashboardRow {
        DashboardRow {
            id: DashboardId(id),
            owner_id: crate::db::ids::UserId(1),
            dataset_id: "ds".into(),
            title: "Wall".into(),
            spec: String::new(),
            public: 1,
            remixed_from: None,
            created_at: 0,
            updated_at: 0,
            owner_name: "ana".into(),
        }
    }

    fn computed() -> Computed {
        Computed {
            frame: Frame {
                end_us: 0,
                ended: false,
                first_us: None,
                latest_us: None,
                lookback_days: 7,
            },
            panels: Vec::new(),
        }
    }

    /// A computation that counts its runs and takes a while, as a real one does.
    async fn counted(runs: &AtomicUsize, at_us: i64) -> Result<(Computed, i64), AppError> {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok((computed(), at_us))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_viewers_of_an_interval_share_one_computation() {
        let screens = Arc::new(Screens::default());
        let spec = DashboardSpec::soc("Wall");
        let runs = Arc::new(AtomicUsize::new(0));
        // Fifty viewers at once (a share link passed around): one computes, the others
        // wait for it and get the same.
        let viewers: Vec<_> = (0..50)
            .map(|_| {
                let (screens, spec, runs) = (screens.clone(), spec.clone(), runs.clone());
                tokio::spawn(async move {
                    let shown = screens
                        .get(&row(1), &spec, counted(&runs, 42))
                        .await
                        .unwrap();
                    shown.at_us
                })
            })
            .collect();
        for v in viewers {
            assert_eq!(v.await.unwrap(), 42);
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "computed once for fifty viewers"
        );
        // Later in the interval: the same computation, none new.
        let again = screens.get(&row(1), &spec, counted(&runs, 43)).await;
        assert_eq!(again.unwrap().at_us, 42);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // A changed dashboard is computed anew at once.
        let mut changed = spec.clone();
        changed.title = "Wall, changed".into();
        let shown = screens.get(&row(1), &changed, counted(&runs, 44)).await;
        assert_eq!(shown.unwrap().at_us, 44);
        // An interval over: computed again (never served older than its interval).
        changed.refresh_seconds = 0;
        let shown = screens.get(&row(1), &changed, counted(&runs, 45)).await;
        assert_eq!(shown.unwrap().at_us, 45);
        let shown = screens.get(&row(1), &changed, counted(&runs, 46)).await;
        assert_eq!(shown.unwrap().at_us, 46);
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn screens_keep_at_most_max_slots_dashboards() {
        let screens = Screens::default();
        let spec = DashboardSpec::soc("Wall");
        let runs = AtomicUsize::new(0);
        for id in 0..(MAX_SLOTS as i64 + 100) {
            let d = row(id);
            let shown = screens.get(&d, &spec, async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok((computed(), id))
            });
            assert_eq!(shown.await.unwrap().at_us, id);
        }
        assert_eq!(runs.load(Ordering::SeqCst), MAX_SLOTS + 100);
        assert_eq!(screens.slots.lock().unwrap().len(), MAX_SLOTS);
    }
}
