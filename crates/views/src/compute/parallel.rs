//! Parallel-coordinates tuples: the most frequent distinct combinations of the view's
//! fields (at most [`MAX_LINES`]), with whole-view and selected counts, and one axis per
//! field: categorical axes list the values the lines use (most frequent first), amount
//! axes span the values' range (logarithmic when it covers several orders of magnitude).

use std::collections::HashMap;

use secviz_render::chart::{Parallel, ParallelAxis, ParallelLine};
use serde::Serialize;

use super::{column, counts, floats, selected_count, strings};
use crate::error::ViewError;
use crate::field::{Field, FieldKind};
use crate::selection::Selection;
use crate::source::Source;
use crate::sql::Sql;

/// Most tuples sent to the browser or drawn.
pub const MAX_LINES: usize = 300;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    pub field: Field,
    /// Values of a categorical axis, top first; `null` is "no value".
    pub categories: Option<Vec<Option<String>>>,
    pub min: f64,
    pub max: f64,
    pub log: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// Per axis: the category index, or the value.
    pub values: Vec<f64>,
    pub total: u64,
    pub selected: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tuples {
    pub axes: Vec<Axis>,
    pub lines: Vec<Line>,
    /// Records in tuples not drawn.
    pub omitted: u64,
}

pub async fn tuples(
    src: &Source,
    fields: &[Field],
    sel: &Selection,
    total: u64,
) -> Result<Tuples, ViewError> {
    if fields.len() < 2 {
        return Ok(Tuples {
            axes: Vec::new(),
            lines: Vec::new(),
            omitted: 0,
        });
    }
    let cols: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} AS a{i}", f.sql()))
        .collect();
    let names: Vec<String> = (0..fields.len()).map(|i| format!("a{i}")).collect();
    let group: Vec<String> = (1..=fields.len()).map(|i| i.to_string()).collect();
    let mut q = Sql::new(format!("SELECT {}, count(*) AS total, ", cols.join(", ")));
    q.append(&selected_count(sel)?).push(&format!(
        " AS selected FROM events GROUP BY {} ORDER BY total DESC, {} LIMIT {MAX_LINES}",
        group.join(", "),
        names
            .iter()
            .map(|n| format!("{n} ASC NULLS LAST"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let b = src.collect(&q).await?;
    let n = fields.len();
    let totals = counts(&b, n)?;
    let sels = counts(&b, n + 1)?;
    let mut axes = Vec::with_capacity(n);
    let mut per_axis: Vec<Vec<f64>> = Vec::with_capacity(n);
    for (i, f) in fields.iter().enumerate() {
        if f.kind() == FieldKind::Measure {
            let vals = column(&b, i, floats)?;
            let present: Vec<f64> = vals.iter().flatten().copied().collect();
            let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
            let log = lo >= 0.0 && hi / lo.max(1.0) > 1000.0;
            per_axis.push(vals.into_iter().map(|v| v.unwrap_or(lo)).collect());
            axes.push(Axis {
                field: *f,
                categories: None,
                min: lo,
                max: hi,
                log,
            });
        } else {
            let vals = column(&b, i, strings)?;
            // Categories ordered by the records their lines carry.
            let mut weight: HashMap<Option<String>, u64> = HashMap::new();
            for (v, t) in vals.iter().zip(&totals) {
                *weight.entry(v.clone()).or_default() += t;
            }
            let mut cats: Vec<(Option<String>, u64)> = weight.into_iter().collect();
            cats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let index: HashMap<Option<String>, usize> = cats
                .iter()
                .enumerate()
                .map(|(i, c)| (c.0.clone(), i))
                .collect();
            per_axis.push(vals.iter().map(|v| index[v] as f64).collect());
            axes.push(Axis {
                field: *f,
                categories: Some(cats.into_iter().map(|c| c.0).collect()),
                min: 0.0,
                max: 0.0,
                log: false,
            });
        }
    }
    let lines: Vec<Line> = (0..totals.len())
        .map(|r| Line {
            values: per_axis.iter().map(|a| a[r]).collect(),
            total: totals[r],
            selected: sels[r],
        })
        .collect();
    let drawn: u64 = lines.iter().map(|l| l.total).sum();
    Ok(Tuples {
        axes,
        lines,
        omitted: total.saturating_sub(drawn),
    })
}

impl Tuples {
    /// The chart of these tuples (counts of the selection when one is given).
    pub fn to_chart(&self, selected_only: bool) -> Parallel {
        Parallel {
            axes: self
                .axes
                .iter()
                .map(|a| ParallelAxis {
                    field: a.field.to_string(),
                    categories: a.categories.as_ref().map(|c| {
                        c.iter()
                            .map(|v| v.clone().unwrap_or_else(|| "(none)".into()))
                            .collect()
                    }),
                    min: a.min,
                    max: a.max,
                    log: a.log,
                })
                .collect(),
            lines: self
                .lines
                .iter()
                .filter(|l| !selected_only || l.selected > 0)
                .map(|l| ParallelLine {
                    values: l.values.clone(),
                    count: if selected_only { l.selected } else { l.total } as f64,
                })
                .collect(),
            omitted: self.omitted as f64,
        }
    }
}
