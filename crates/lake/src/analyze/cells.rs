//! Reading typed values out of result batches, whatever the exact Arrow type.
//!
//! A column comes back as whatever DataFusion chose (a dictionary of strings, `Utf8View`,
//! `UInt64` counts ...), so a cell is read through a cast to the type asked for. The cast
//! is of the whole column, and it is made once per batch and column, not once per cell:
//! made per cell, reading a result of n rows in batches of b cost n × b copies (a window of
//! 40 k sources took a second per analysis on a dashboard, in batches of 2,048).

use std::cell::OnceCell;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;

/// The rows of `batches` as typed tuples, via `f(row)`.
pub fn each_row<T>(batches: &[RecordBatch], mut f: impl FnMut(&Row<'_>) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    for b in batches {
        let casts = Casts::new(b);
        for i in 0..b.num_rows() {
            if let Some(t) = f(&Row {
                casts: &casts,
                row: i,
            }) {
                out.push(t);
            }
        }
    }
    out
}

/// One batch's columns, each cast (when first read) to the types its cells are read as.
struct Casts<'a> {
    batch: &'a RecordBatch,
    utf8: Vec<OnceCell<Option<ArrayRef>>>,
    int64: Vec<OnceCell<Option<ArrayRef>>>,
    float64: Vec<OnceCell<Option<ArrayRef>>>,
}

impl<'a> Casts<'a> {
    fn new(batch: &'a RecordBatch) -> Casts<'a> {
        let n = batch.num_columns();
        let cells = || (0..n).map(|_| OnceCell::new()).collect();
        Casts {
            batch,
            utf8: cells(),
            int64: cells(),
            float64: cells(),
        }
    }

    /// Column `col` as `to` (`None`: no such column, or it does not cast).
    fn column<'s>(
        &'s self,
        cache: &'s [OnceCell<Option<ArrayRef>>],
        col: usize,
        to: &DataType,
    ) -> Option<&'s ArrayRef> {
        cache
            .get(col)?
            .get_or_init(|| cast(self.batch.column(col), to).ok())
            .as_ref()
    }
}

/// One row of a batch.
pub struct Row<'a> {
    casts: &'a Casts<'a>,
    row: usize,
}

impl Row<'_> {
    pub fn string(&self, col: usize) -> Option<String> {
        let c = self.casts.column(&self.casts.utf8, col, &DataType::Utf8)?;
        let s = c.as_string::<i32>();
        s.is_valid(self.row).then(|| s.value(self.row).to_string())
    }

    pub fn int(&self, col: usize) -> Option<i64> {
        let c = self
            .casts
            .column(&self.casts.int64, col, &DataType::Int64)?;
        let a = c.as_primitive::<Int64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }

    pub fn count(&self, col: usize) -> u64 {
        self.int(col).map_or(0, |v| v.max(0) as u64)
    }

    pub fn float(&self, col: usize) -> Option<f64> {
        let c = self
            .casts
            .column(&self.casts.float64, col, &DataType::Float64)?;
        let a = c.as_primitive::<Float64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{DictionaryArray, Float32Array, UInt64Array};
    use datafusion::arrow::datatypes::{Field, Int32Type, Schema};

    use super::*;

    fn batch(keys: &[Option<&str>], counts: &[Option<u64>], scores: &[f32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "ip",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("n", DataType::UInt64, true),
            Field::new("score", DataType::Float32, false),
        ]));
        let ip: DictionaryArray<Int32Type> = keys.iter().copied().collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(ip),
                Arc::new(UInt64Array::from(counts.to_vec())),
                Arc::new(Float32Array::from(scores.to_vec())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn every_cell_of_every_batch_is_read_as_asked_nulls_kept() {
        let batches = [
            batch(
                &[Some("10.0.0.1"), None, Some("10.0.0.1")],
                &[Some(3), Some(1), None],
                &[0.5, 1.5, 2.5],
            ),
            batch(&[Some("10.0.0.9")], &[Some(7)], &[4.0]),
        ];
        let rows = each_row(&batches, |r| {
            Some((r.string(0), r.int(1), r.count(1), r.float(2)))
        });
        assert_eq!(
            rows,
            vec![
                (Some("10.0.0.1".into()), Some(3), 3, Some(0.5)),
                (None, Some(1), 1, Some(1.5)),
                (Some("10.0.0.1".into()), None, 0, Some(2.5)),
                (Some("10.0.0.9".into()), Some(7), 7, Some(4.0)),
            ]
        );
        // A column read as two types, and a row the closure leaves out.
        let odd = each_row(&batches, |r| {
            (r.count(1) % 2 == 1).then(|| (r.string(1), r.float(1)))
        });
        assert_eq!(
            odd,
            vec![
                (Some("3".into()), Some(3.0)),
                (Some("1".into()), Some(1.0)),
                (Some("7".into()), Some(7.0)),
            ]
        );
    }

    #[test]
    fn a_column_that_is_not_there_reads_as_nothing() {
        let batches = [batch(&[Some("a")], &[Some(1)], &[1.0])];
        let rows = each_row(&batches, |r| Some((r.string(9), r.int(9), r.float(9))));
        assert_eq!(rows, vec![(None, None, None)]);
    }
}
