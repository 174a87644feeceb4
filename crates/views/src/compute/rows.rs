//! The records of a selection: a few for the viewer's table (JSON), or all of them as CSV,
//! streamed batch by batch (memory bounded by a batch, whatever the selection's size).
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
//! a tab or a carriage return) are prefixed with `'`; numbers are left as numbers.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use secviz_lake::datafusion::arrow::datatypes::DataType;
use secviz_lake::datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{col, event_schema};
use serde::Serialize;

use super::strings;
use crate::error::ViewError;
use crate::field::Field;
use crate::selection::Selection;
use crate::source::Source;
use crate::sql::Sql;

/// Most rows the viewer's table may ask for.
pub const MAX_ROWS: usize = 1000;

/// Columns of the viewer's table, before the view's own fields.
const TABLE_COLUMNS: &[&str] = &[
    col::TIME,
    col::SRC_IP,
    col::SRC_PORT,
    col::DST_IP,
    col::DST_PORT,
    col::PROTOCOL,
    col::ACTION,
    col::BYTES,
    col::PACKETS,
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows match than were returned.
    pub more: bool,
}

/// The order rows are listed and exported in (stable across runs).
const ORDER: &str = "ORDER BY \"time\" ASC NULLS LAST, \"source\", \"line\"";

fn select_where(columns: &str, sel: &Selection) -> Result<Sql, ViewError> {
    let mut q = Sql::new(format!("SELECT {columns} FROM events WHERE "));
    q.append(&sel.predicate()?).push(" ").push(ORDER);
    Ok(q)
}

/// Up to `limit` selected records, for the table under the views.
pub async fn rows(
    src: &Source,
    fields: &[Field],
    sel: &Selection,
    limit: usize,
) -> Result<Rows, ViewError> {
    let limit = limit.clamp(1, MAX_ROWS);
    let mut columns: Vec<&str> = TABLE_COLUMNS.to_vec();
    for f in fields {
        if !columns.contains(&f.column()) {
            columns.push(f.column());
        }
    }
    let list = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q = select_where(&list, sel)?;
    q.push(&format!(" LIMIT {}", limit + 1));
    let batches = src.collect(&q).await?;
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    for b in &batches {
        let cols: Vec<Vec<Option<String>>> =
            b.columns().iter().map(strings).collect::<Result<_, _>>()?;
        for r in 0..b.num_rows() {
            rows.push(cols.iter().map(|c| c[r].clone()).collect());
        }
    }
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok(Rows {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
        more,
    })
}

/// Neutralises a text cell a spreadsheet would evaluate.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Every column of the schema, in order: the CSV header.
pub fn csv_header() -> Vec<String> {
    event_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn csv_chunk(batch: &RecordBatch) -> Result<Bytes, ViewError> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(batch.num_rows() * 128));
    let err = |e: csv::Error| ViewError::Internal(format!("writing CSV: {e}"));
    let text: Vec<bool> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| {
            matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        })
        .collect();
    let cols: Vec<Vec<Option<String>>> = batch
        .columns()
        .iter()
        .map(strings)
        .collect::<Result<_, _>>()?;
    for r in 0..batch.num_rows() {
        let record = cols.iter().zip(&text).map(|(c, is_text)| match &c[r] {
            None => String::new(),
            Some(v) if *is_text => neutralise(v).into_owned(),
            Some(v) => v.clone(),
        });
        w.write_record(record).map_err(err)?;
    }
    Ok(Bytes::from(w.into_inner().map_err(|e| {
        ViewError::Internal(format!("writing CSV: {e}"))
    })?))
}

/// The selected records as CSV, a chunk per batch, header first.
pub async fn csv_stream(
    src: &Source,
    sel: &Selection,
) -> Result<impl Stream<Item = Result<Bytes, ViewError>> + Send + use<>, ViewError> {
    let header = csv_header();
    let list = header
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let stream = src.stream(&select_where(&list, sel)?).await?;
    let head_bytes = {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(&header)
            .map_err(|e| ViewError::Internal(e.to_string()))?;
        Bytes::from(
            w.into_inner()
                .map_err(|e| ViewError::Internal(e.to_string()))?,
        )
    };
    let body = stream.map(move |b| match b {
        Ok(batch) => csv_chunk(&batch),
        Err(e) => Err(ViewError::from(e)),
    });
    let head = futures::stream::once(async move { Ok(head_bytes) });
    Ok(head.chain(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("10.0.0.1"), "10.0.0.1");
        assert_eq!(neutralise(""), "");
    }
}
