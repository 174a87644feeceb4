//! Facet counts: the top k values of each field with their record counts in the whole view
//! and in the selection, and the "other" values folded together. These feed the bar charts
//! of the viewer; the totals give the selection's size.

use serde::Serialize;

use super::{column, counts, selected_count, strings};
use crate::error::ViewError;
use crate::field::Field;
use crate::selection::Selection;
use crate::source::Source;
use crate::sql::Sql;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FacetValue {
    pub value: Option<String>,
    pub total: u64,
    pub selected: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtherCounts {
    pub total: u64,
    pub selected: u64,
    /// How many distinct values were folded.
    pub values: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Facet {
    pub field: Field,
    pub values: Vec<FacetValue>,
    pub other: Option<OtherCounts>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Facets {
    pub total: u64,
    pub selected: u64,
    pub facets: Vec<Facet>,
    /// Counted by the dataset's summaries, not by a pass over its rows.
    pub from_summaries: bool,
}

/// The total and selected record counts of the view.
pub async fn totals(src: &Source, sel: &Selection) -> Result<(u64, u64), ViewError> {
    if let Some((rows, _)) = super::summarized::head(src, sel).await? {
        return Ok((rows, rows));
    }
    let mut q = Sql::new("SELECT count(*), ");
    q.append(&selected_count(sel)?).push(" FROM events");
    let b = src.collect(&q).await?;
    Ok((
        counts(&b, 0)?.first().copied().unwrap_or(0),
        counts(&b, 1)?.first().copied().unwrap_or(0),
    ))
}

/// Top `k` values of one field, largest first (ties by value), with selected counts.
pub async fn facet(
    src: &Source,
    field: Field,
    k: usize,
    sel: &Selection,
    total: u64,
    selected: u64,
) -> Result<Facet, ViewError> {
    let e = field.sql();
    let mut q = Sql::new(format!("SELECT {e} AS v, count(*) AS total, "));
    q.append(&selected_count(sel)?).push(&format!(
        " AS selected FROM events GROUP BY {e} ORDER BY total DESC, v ASC NULLS LAST LIMIT {k}"
    ));
    let b = src.collect(&q).await?;
    let vals = column(&b, 0, strings)?;
    let tot = counts(&b, 1)?;
    let sel_c = counts(&b, 2)?;
    let values: Vec<FacetValue> = vals
        .into_iter()
        .zip(tot)
        .zip(sel_c)
        .map(|((value, total), selected)| FacetValue {
            value,
            total,
            selected,
        })
        .collect();
    let shown_total: u64 = values.iter().map(|v| v.total).sum();
    let shown_sel: u64 = values.iter().map(|v| v.selected).sum();
    let other = if shown_total < total {
        let d = Sql::new(format!(
            "SELECT count(DISTINCT {e}) + max(CASE WHEN {e} IS NULL THEN 1 ELSE 0 END) FROM events"
        ));
        let distinct = counts(&src.collect(&d).await?, 0)?
            .first()
            .copied()
            .unwrap_or(0);
        Some(OtherCounts {
            total: total - shown_total,
            selected: selected.saturating_sub(shown_sel),
            values: distinct.saturating_sub(values.len() as u64),
        })
    } else {
        None
    };
    Ok(Facet {
        field,
        values,
        other,
    })
}

/// Facets of several fields under one selection.
pub async fn facets(
    src: &Source,
    fields: &[Field],
    k: usize,
    sel: &Selection,
) -> Result<Facets, ViewError> {
    if let Some((rows, counted)) = super::summarized::facets(src, fields, k, sel).await? {
        let facets = fields
            .iter()
            .zip(counted)
            .map(|(f, c)| Facet {
                field: *f,
                values: c
                    .values
                    .into_iter()
                    .map(|(value, n)| FacetValue {
                        value,
                        total: n,
                        selected: n,
                    })
                    .collect(),
                other: c.other.map(|(total, values)| OtherCounts {
                    total,
                    selected: total,
                    values,
                }),
            })
            .collect();
        return Ok(Facets {
            total: rows,
            selected: rows,
            facets,
            from_summaries: true,
        });
    }
    let (total, selected) = totals(src, sel).await?;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        out.push(facet(src, *f, k, sel, total, selected).await?);
    }
    Ok(Facets {
        total,
        selected,
        facets: out,
        from_summaries: false,
    })
}
