//! Row-oriented access to event batches: pick columns by name and read cells as text.
//!
//! This is what `--fields`, the CSV/JSON writers and the graph command (which feeds
//! rows of strings into the link-graph builder) use. Cells are formatted into a
//! caller's buffer, so reading millions of rows allocates nothing per cell.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::{DataType, TimeUnit};

use crate::error::ParseError;
use crate::schema::event_schema;
use crate::time::write_rfc3339;

/// An ordered choice of event columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSelection {
    cols: Vec<usize>,
    names: Vec<String>,
}

impl FieldSelection {
    /// Every column of the event schema, in schema order.
    pub fn all() -> Self {
        let schema = event_schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        FieldSelection {
            cols: (0..names.len()).collect(),
            names,
        }
    }

    /// Columns by name, in the given order (`"src_ip,dst_port,dst_ip"`). Names are
    /// matched exactly; an unknown name is an error listing the valid ones.
    pub fn parse(spec: &str) -> Result<Self, ParseError> {
        let names: Vec<&str> = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        Self::from_names(&names)
    }

    /// Columns by name, in the given order.
    pub fn from_names(names: &[&str]) -> Result<Self, ParseError> {
        let schema = event_schema();
        if names.is_empty() {
            return Err(ParseError::BadOption("no fields selected".into()));
        }
        let mut cols = Vec::with_capacity(names.len());
        for n in names {
            match schema.index_of(n) {
                Ok(i) => cols.push(i),
                Err(_) => {
                    let valid: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    return Err(ParseError::BadOption(format!(
                        "unknown field {n:?}; fields are: {}",
                        valid.join(",")
                    )));
                }
            }
        }
        Ok(FieldSelection {
            cols,
            names: names.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Selected column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// A view of the selected columns of one batch (of the event schema).
    pub fn view<'a>(&self, batch: &'a RecordBatch) -> BatchView<'a> {
        let cols = self
            .cols
            .iter()
            .map(|&i| Column::of(batch.column(i).as_ref()))
            .collect();
        BatchView {
            cols,
            rows: batch.num_rows(),
        }
    }

    /// Every row of a batch as strings (`None` for null). Convenient, allocating: for
    /// bulk output use [`FieldSelection::view`] and [`BatchView::cell`].
    pub fn rows(&self, batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
        let view = self.view(batch);
        let mut buf = String::new();
        (0..view.rows)
            .map(|r| {
                (0..view.cols.len())
                    .map(|k| {
                        buf.clear();
                        view.cell(r, k, &mut buf).then(|| buf.clone())
                    })
                    .collect()
            })
            .collect()
    }
}

/// Typed handles of a batch's selected columns.
pub struct BatchView<'a> {
    cols: Vec<Column<'a>>,
    rows: usize,
}

/// The kind of value a cell holds, for writers that quote or neutralise strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Text,
    Number,
    Time,
}

pub(crate) enum Column<'a> {
    Str(&'a StringArray),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Time(&'a PrimitiveArray<TimestampMicrosecondType>),
}

impl<'a> Column<'a> {
    fn of(a: &'a dyn Array) -> Self {
        match a.data_type() {
            DataType::Utf8 => Column::Str(a.as_string::<i32>()),
            DataType::Int32 => Column::I32(a.as_primitive()),
            DataType::Int64 => Column::I64(a.as_primitive()),
            DataType::Float64 => Column::F64(a.as_primitive()),
            DataType::Timestamp(TimeUnit::Microsecond, _) => Column::Time(a.as_primitive()),
            other => unreachable!("event schema has no {other} column"),
        }
    }
}

impl BatchView<'_> {
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    pub fn num_cols(&self) -> usize {
        self.cols.len()
    }

    /// The k-th selected column, for writers that handle each type themselves.
    #[inline]
    pub(crate) fn column(&self, k: usize) -> &Column<'_> {
        &self.cols[k]
    }

    /// True if the k-th selected column is null in every row of the batch (most
    /// columns of most formats): writers skip it without looking at its rows.
    pub(crate) fn all_null(&self, k: usize) -> bool {
        let a: &dyn Array = match self.cols[k] {
            Column::Str(a) => a,
            Column::I32(a) => a,
            Column::I64(a) => a,
            Column::F64(a) => a,
            Column::Time(a) => a,
        };
        a.null_count() == a.len()
    }

    /// Kind of the k-th selected column.
    pub fn kind(&self, k: usize) -> CellKind {
        match self.cols[k] {
            Column::Str(_) => CellKind::Text,
            Column::Time(_) => CellKind::Time,
            _ => CellKind::Number,
        }
    }

    /// The string value of a text cell, borrowed (None for null or non-text).
    #[inline]
    pub fn str(&self, row: usize, k: usize) -> Option<&str> {
        match self.cols[k] {
            Column::Str(a) if a.is_valid(row) => Some(a.value(row)),
            _ => None,
        }
    }

    /// Appends the k-th selected cell of `row` to `out` as text; false if it is null.
    /// Times are RFC 3339 UTC with microseconds (`2005-10-21T06:06:58.096785Z`).
    #[inline]
    pub fn cell(&self, row: usize, k: usize, out: &mut String) -> bool {
        match self.cols[k] {
            Column::Str(a) => {
                if a.is_null(row) {
                    return false;
                }
                out.push_str(a.value(row));
            }
            Column::I32(a) => {
                if a.is_null(row) {
                    return false;
                }
                out.push_str(itoa::Buffer::new().format(a.value(row)));
            }
            Column::I64(a) => {
                if a.is_null(row) {
                    return false;
                }
                out.push_str(itoa::Buffer::new().format(a.value(row)));
            }
            Column::F64(a) => {
                if a.is_null(row) || !a.value(row).is_finite() {
                    return false;
                }
                out.push_str(ryu::Buffer::new().format_finite(a.value(row)));
            }
            Column::Time(a) => {
                if a.is_null(row) {
                    return false;
                }
                write_rfc3339(out, a.value(row));
            }
        }
        true
    }
}
