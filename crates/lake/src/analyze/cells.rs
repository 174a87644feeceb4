//! Reading typed values out of result batches, whatever the exact Arrow type.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;

/// The rows of `batches` as typed tuples, via `f(row)`.
pub fn each_row<T>(batches: &[RecordBatch], mut f: impl FnMut(&Row<'_>) -> Option<T>) -> Vec<T> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            if let Some(t) = f(&Row { batch: b, row: i }) {
                out.push(t);
            }
        }
    }
    out
}

/// One row of a batch.
pub struct Row<'a> {
    batch: &'a RecordBatch,
    row: usize,
}

impl Row<'_> {
    pub fn string(&self, col: usize) -> Option<String> {
        let c = cast(self.batch.column(col), &DataType::Utf8).ok()?;
        let s = c.as_string::<i32>();
        s.is_valid(self.row).then(|| s.value(self.row).to_string())
    }

    pub fn int(&self, col: usize) -> Option<i64> {
        let c = cast(self.batch.column(col), &DataType::Int64).ok()?;
        let a = c.as_primitive::<Int64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }

    pub fn count(&self, col: usize) -> u64 {
        self.int(col).map_or(0, |v| v.max(0) as u64)
    }

    pub fn float(&self, col: usize) -> Option<f64> {
        let c = cast(self.batch.column(col), &DataType::Float64).ok()?;
        let a = c.as_primitive::<Float64Type>();
        a.is_valid(self.row).then(|| a.value(self.row))
    }
}
