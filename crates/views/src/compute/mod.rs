//! Data the views show, computed in the lake with aggregating SQL: facet counts with the
//! selection's share (`facets`), the time line (`timeline`), parallel-coordinates tuples
//! (`parallel`), chart data for the server-side SVG charts (`charts`, two-field ones in
//! `pairs`), the laid-out graph
//! and the nodes a selection touches (`graph`), and the rows of a selection (`rows`). What
//! the viewer shows of a whole dataset before anything is filtered or selected is read
//! from the dataset's summaries when they count it (`summarized`).
//!
//! Every query counts the whole view (`total`) and the selection (`selected`) in one pass
//! with `sum(CASE WHEN <selection> THEN 1 ELSE 0 END)`, so each view can highlight the
//! selected records against the whole, Mondrian style.

pub mod charts;
pub mod facets;
pub mod graph;
pub mod pairs;
pub mod parallel;
pub mod rows;
mod summarized;
pub mod timeline;

use secviz_lake::datafusion::arrow::array::{Array, ArrayRef, AsArray};
use secviz_lake::datafusion::arrow::compute::cast;
use secviz_lake::datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use secviz_lake::datafusion::arrow::record_batch::RecordBatch;

use crate::error::ViewError;
use crate::field::Field;
use crate::selection::Selection;
use crate::source::Source;
use crate::spec::ViewSpec;
use crate::sql::Sql;

/// `sum(CASE WHEN <selection> THEN 1 ELSE 0 END)`: the selected part of a group.
pub(crate) fn selected_count(sel: &Selection) -> Result<Sql, ViewError> {
    let pred = sel.predicate()?;
    let mut s = Sql::new("sum(CASE WHEN ");
    s.append(&pred).push(" THEN 1 ELSE 0 END)");
    Ok(s)
}

fn cast_to(col: &ArrayRef, t: &DataType) -> Result<ArrayRef, ViewError> {
    cast(col, t).map_err(|e| ViewError::Internal(format!("reading a result column: {e}")))
}

/// How many events the source holds, and how many of them have a value for each field.
pub async fn value_counts(src: &Source, fields: &[Field]) -> Result<(u64, Vec<u64>), ViewError> {
    if let Some(counts) = summarized::value_counts(src, fields).await? {
        return Ok(counts);
    }
    let mut select = vec!["count(*)".to_string()];
    select.extend(fields.iter().map(|f| format!("count({})", f.sql())));
    let batches = src
        .collect(&Sql::new(format!(
            "SELECT {} FROM events",
            select.join(", ")
        )))
        .await?;
    let counts: Vec<u64> = (0..select.len())
        .map(|i| {
            batches
                .first()
                .and_then(|b| strings(b.column(i)).ok())
                .and_then(|v| v.first().cloned().flatten())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    Ok((counts[0], counts[1..].to_vec()))
}

/// A result column as text (numbers in their usual spelling), `None` for nulls.
pub(crate) fn strings(col: &ArrayRef) -> Result<Vec<Option<String>>, ViewError> {
    let c = cast_to(col, &DataType::Utf8)?;
    let a = c.as_string::<i32>();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect())
}

/// A result column as floats.
pub(crate) fn floats(col: &ArrayRef) -> Result<Vec<Option<f64>>, ViewError> {
    let c = cast_to(col, &DataType::Float64)?;
    let a = c.as_primitive::<Float64Type>();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect())
}

/// A result column as integers (timestamps as microseconds).
pub(crate) fn ints(col: &ArrayRef) -> Result<Vec<Option<i64>>, ViewError> {
    let c = cast_to(col, &DataType::Int64)?;
    let a = c.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect())
}

/// Column `i` of every batch, concatenated through `read`.
pub(crate) fn column<T>(
    batches: &[RecordBatch],
    i: usize,
    read: fn(&ArrayRef) -> Result<Vec<T>, ViewError>,
) -> Result<Vec<T>, ViewError> {
    let mut out = Vec::new();
    for b in batches {
        out.extend(read(b.column(i))?);
    }
    Ok(out)
}

/// Counts as `u64` (SQL sums of nothing are null: zero).
pub(crate) fn counts(batches: &[RecordBatch], i: usize) -> Result<Vec<u64>, ViewError> {
    Ok(column(batches, i, ints)?
        .into_iter()
        .map(|v| v.unwrap_or(0).max(0) as u64)
        .collect())
}

// Shared by `charts` and `pairs` (here, so that neither imports the other).

/// Series drawn separately in a stacked time line before the rest is "other".
pub(crate) const MAX_SERIES: usize = 6;

/// The aggregate a chart measures (the sum of the size field, else the event count) and its
/// name on the axis.
pub(crate) fn measure(spec: &ViewSpec) -> (String, String) {
    match spec.size {
        Some(f) => (format!("sum(CAST({} AS DOUBLE))", f.sql()), f.to_string()),
        None => ("count(*)".into(), "events".into()),
    }
}

/// A group's label; a null group shows as `(none)`.
pub(crate) fn label(v: Option<String>) -> String {
    v.unwrap_or_else(|| "(none)".into())
}

/// `WHERE <selection>` as a fragment.
pub(crate) fn where_sel(sel: &Selection) -> Result<Sql, ViewError> {
    let mut s = Sql::new(" WHERE ");
    s.append(&sel.predicate()?);
    Ok(s)
}
