//! Dashboards (issue 18): a grid of panels over one dataset, each answering a stated question
//! over a moving time window ([`spec`]); their computation over the lake ([`compute`]); and
//! the events behind a panel's row ([`drill`]).

pub mod compute;
pub mod drill;
pub mod spec;

use secviz_lake::{DatasetName, Lake};
use serde::Serialize;

pub use compute::{Body, Frame, PanelData};
pub use spec::{DashboardSpec, PanelKind, PanelSpec, SpecError, Window};

use crate::error::ViewError;
use crate::source::{Limits, Source};

/// A dashboard computed once: where its windows end and each panel's answer, in the
/// spec's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Computed {
    pub frame: Frame,
    pub panels: Vec<PanelData>,
}

/// Computes every panel of `spec` over `dataset` at `now_us`, one after another (a
/// dashboard is one job of the query executor, so a screen never takes more than its share).
pub async fn compute(
    lake: &Lake,
    dataset: &DatasetName,
    spec: &DashboardSpec,
    now_us: i64,
    limits: Limits,
) -> Result<Computed, ViewError> {
    let source = Source::open(lake, dataset, None, limits).await?;
    let frame = compute::frame(&source, spec, now_us).await?;
    let mut panels = Vec::with_capacity(spec.panels.len());
    for p in &spec.panels {
        panels.push(compute::panel(lake, dataset, &source, &frame, p, &limits).await);
    }
    Ok(Computed { frame, panels })
}
