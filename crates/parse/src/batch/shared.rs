//! Columns that every batch of a builder can share instead of writing again.
//!
//! A format fills a dozen of the schema's 38 columns; the rest are null in every row,
//! and `format` and `source` hold one value in every row. Written out per batch, those
//! columns were more bytes than the values themselves: a 32 KiB run of equal offsets
//! per null text column, 64 KiB of zeros per null integer column, and the source's name
//! repeated 8,192 times, all fresh memory, faulted in page by page. Arrow buffers are
//! reference-counted and arrays can be sliced without a copy, so one all-null column per
//! type and one column per constant, each as long as a full batch, serve every batch.

use arrow_array::{Array, ArrayRef, StringArray, new_null_array};
use arrow_schema::DataType;

/// The shared columns of one builder, made on first use.
pub(super) struct SharedColumns {
    rows: usize,
    nulls: Vec<ArrayRef>,
    constants: Vec<(String, ArrayRef)>,
}

impl SharedColumns {
    /// Shared columns of up to `rows` rows.
    pub fn new(rows: usize) -> Self {
        SharedColumns {
            rows,
            nulls: Vec::new(),
            constants: Vec::new(),
        }
    }

    /// An all-null column of `data_type`, `n` rows long (at most the builder's rows).
    pub fn nulls(&mut self, data_type: &DataType, n: usize) -> ArrayRef {
        let full = match self.nulls.iter().find(|a| a.data_type() == data_type) {
            Some(a) => a,
            None => {
                self.nulls.push(new_null_array(data_type, self.rows));
                self.nulls.last().expect("just pushed")
            }
        };
        full.slice(0, n)
    }

    /// A text column holding `value` in each of its `n` rows.
    pub fn constant(&mut self, value: &str, n: usize) -> ArrayRef {
        let full = match self.constants.iter().find(|(v, _)| v == value) {
            Some((_, a)) => a,
            None => {
                let a: ArrayRef = std::sync::Arc::new(StringArray::from_iter_values(
                    std::iter::repeat_n(value, self.rows),
                ));
                self.constants.push((value.to_string(), a));
                &self.constants.last().expect("just pushed").1
            }
        };
        full.slice(0, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;

    #[test]
    fn slices_share_one_buffer_and_read_as_written() {
        let mut s = SharedColumns::new(100);
        let a = s.nulls(&DataType::Int64, 10);
        let b = s.nulls(&DataType::Int64, 100);
        assert_eq!((a.len(), a.null_count()), (10, 10));
        assert_eq!((b.len(), b.null_count()), (100, 100));
        let c = s.nulls(&DataType::Utf8, 3);
        assert_eq!(c.data_type(), &DataType::Utf8);
        assert_eq!(s.nulls.len(), 2, "one column per type");

        let x = s.constant("pf", 7);
        let x = x.as_string::<i32>();
        assert_eq!(x.len(), 7);
        assert!(x.iter().all(|v| v == Some("pf")));
        let y = s.constant("pf", 100);
        assert_eq!(
            y.as_string::<i32>().values().as_ptr(),
            x.values().as_ptr(),
            "the bytes are shared"
        );
        assert_eq!(s.constant("", 2).as_string::<i32>().value(1), "");
    }
}
