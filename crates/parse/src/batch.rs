//! Appends finished [`Row`]s to Arrow builders and cuts record batches of
//! [`event_schema`](crate::schema::event_schema).
//!
//! One builder per column, pre-sized for a whole batch so appends never reallocate in
//! the steady state: text columns are sized by what they held per row in the batch
//! before. Columns without a value in a batch, and `format` and `source` (the same on
//! every row of a stream), are slices of columns the builder's batches share
//! ([`shared`]).

mod columns;
mod shared;

use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{ArrayRef, RecordBatch};

use crate::row::{NI, NS, Row};
use crate::schema::event_schema;
use columns::{PrimColumn, TextColumn, catch_up_prim, catch_up_str};
use shared::SharedColumns;

/// Schema position of each [`S`] column, in `S` order.
const S_COLS: [usize; NS] = [
    1, 2, 4, 6, 7, 8, 9, 10, 18, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 32,
];
/// Schema position of each [`I`] column, in `I` order.
const I_COLS: [usize; NI] = [3, 5, 11, 12, 13, 14, 15, 16, 19, 26];
const TIME: usize = 0;
const DURATION: usize = 17;
const EXTRA: usize = 33;
const FORMAT: usize = 34;
const SOURCE: usize = 35;
const LINE: usize = 36;
const RAW: usize = 37;

/// Index into `i32s` / `i64s` of each integer column (in `I` order).
const I32_SLOT: [usize; NI] = [0, 1, 0, 0, 0, 0, 0, 0, 2, 3];
const I64_SLOT: [usize; NI] = [0, 0, 0, 1, 2, 3, 4, 5, 0, 0];

fn is_i32(c: usize) -> bool {
    // src_port, dst_port, dns_id, http_status
    matches!(c, 0 | 1 | 8 | 9)
}

/// Builds event batches row by row.
///
/// Most columns are null for most formats (a pf line fills a dozen of them), so nulls
/// are appended lazily: each column remembers how many rows it holds and catches up
/// with one bulk `append_nulls` when it next gets a value, or when the batch is cut.
pub(crate) struct BatchBuilder {
    cap: usize,
    rows: usize,
    format: &'static str,
    source: String,
    time: PrimColumn<TimestampMicrosecondType>,
    time_rows: usize,
    strs: Vec<TextColumn>,
    str_rows: [usize; NS],
    i32s: Vec<PrimColumn<Int32Type>>,
    i64s: Vec<PrimColumn<Int64Type>>,
    int_rows: [usize; NI],
    duration: PrimColumn<Float64Type>,
    duration_rows: usize,
    extra: TextColumn,
    extra_rows: usize,
    line: PrimColumn<Int64Type>,
    raw: TextColumn,
    raw_rows: usize,
    /// Bytes a full batch is expected to need in each text column (the `strs`, then
    /// `extra` and `raw`), from the last batch that had values in it: a column sized
    /// too small is copied as it grows (an access log's lines outgrew a guess of 160
    /// bytes, and growing took 4% of its parse in the allocator alone, besides the
    /// copies), one sized too large spreads a batch over more memory.
    text_bytes: [usize; NS + 2],
    shared: SharedColumns,
}

/// Index of `extra` and `raw` in [`BatchBuilder::text_bytes`].
const EXTRA_HINT: usize = NS;
const RAW_HINT: usize = NS + 1;

impl BatchBuilder {
    pub fn new(cap: usize, format: &'static str, source: String) -> Self {
        let cap = cap.max(1);
        let mut b = BatchBuilder {
            cap,
            rows: 0,
            format,
            source,
            time: PrimColumn::empty(),
            time_rows: 0,
            strs: (0..NS).map(|_| TextColumn::empty()).collect(),
            str_rows: [0; NS],
            i32s: (0..4).map(|_| PrimColumn::empty()).collect(),
            i64s: (0..NI - 4).map(|_| PrimColumn::empty()).collect(),
            int_rows: [0; NI],
            duration: PrimColumn::empty(),
            duration_rows: 0,
            extra: TextColumn::empty(),
            extra_rows: 0,
            line: PrimColumn::empty(),
            raw: TextColumn::empty(),
            raw_rows: 0,
            // First guesses: short strings (addresses, names) average well under 16
            // bytes, `extra` 32 and a raw line 160.
            text_bytes: std::array::from_fn(|i| match i {
                EXTRA_HINT => cap * 32,
                RAW_HINT => cap * 160,
                _ => cap * 16,
            }),
            shared: SharedColumns::new(cap),
        };
        b.reset();
        b
    }

    /// Makes room for a full batch in the columns the last batch took; the others
    /// (no value in the last batch) still have theirs.
    fn reset(&mut self) {
        let cap = self.cap;
        self.rows = 0;
        self.time.ready(cap);
        for (i, c) in self.strs.iter_mut().enumerate() {
            c.ready(cap, self.text_bytes[i]);
        }
        for c in &mut self.i32s {
            c.ready(cap);
        }
        for c in &mut self.i64s {
            c.ready(cap);
        }
        self.duration.ready(cap);
        self.extra.ready(cap, self.text_bytes[EXTRA_HINT]);
        self.line.ready(cap);
        self.raw.ready(cap, self.text_bytes[RAW_HINT]);
        self.time_rows = 0;
        self.str_rows = [0; NS];
        self.int_rows = [0; NI];
        self.duration_rows = 0;
        self.extra_rows = 0;
        self.raw_rows = 0;
    }

    /// True when the batch has its rows, or holds so much text (long lines) that it is
    /// cut early: memory stays bounded whatever the line lengths.
    pub fn is_full(&self) -> bool {
        self.rows >= self.cap || self.raw.bytes() + self.extra.bytes() > MAX_BATCH_TEXT
    }

    /// Appends one finished row.
    #[inline]
    pub fn push(&mut self, row: &mut Row, line: u64, raw: Option<&str>) {
        let n = self.rows;
        if let Some(t) = row.time {
            catch_up_prim(&mut self.time, &mut self.time_rows, n);
            self.time.append_value(t);
            self.time_rows += 1;
        }
        // Only the columns that hold a value are touched (the others catch up later).
        let mut m = row.str_mask();
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let b = &mut self.strs[i];
            catch_up_str(b, &mut self.str_rows[i], n);
            b.append_value(row.str_at(i));
            self.str_rows[i] += 1;
        }
        let mut m = row.int_mask();
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            let v = row.int_at(i);
            if is_i32(i) {
                let b = &mut self.i32s[I32_SLOT[i]];
                catch_up_prim(b, &mut self.int_rows[i], n);
                b.append_value(v as i32);
            } else {
                let b = &mut self.i64s[I64_SLOT[i]];
                catch_up_prim(b, &mut self.int_rows[i], n);
                b.append_value(v);
            }
            self.int_rows[i] += 1;
        }
        if let Some(d) = row.duration {
            catch_up_prim(&mut self.duration, &mut self.duration_rows, n);
            self.duration.append_value(d);
            self.duration_rows += 1;
        }
        if let Some(e) = row.extra_json() {
            catch_up_str(&mut self.extra, &mut self.extra_rows, n);
            self.extra.append_value(e);
            self.extra_rows += 1;
        }
        self.line.append_value(line as i64);
        if let Some(r) = raw {
            catch_up_str(&mut self.raw, &mut self.raw_rows, n);
            self.raw.append_value(r);
            self.raw_rows += 1;
        }
        self.rows += 1;
    }

    /// Cuts the rows appended so far into a batch (None if there are none).
    pub fn finish(&mut self) -> Option<RecordBatch> {
        if self.rows == 0 {
            return None;
        }
        let n = self.rows;
        let cap = self.cap;
        // A column's rows count is 0 exactly when no value was appended to it in this
        // batch (nulls are only caught up before a value): such a column is left as it
        // is, and the batch gets a slice of the shared null column instead.
        let mut cols: Vec<Option<ArrayRef>> = vec![None; RAW + 1];
        if self.time_rows > 0 {
            catch_up_prim(&mut self.time, &mut self.time_rows, n);
            cols[TIME] = Some(Arc::new(self.time.finish().with_timezone("UTC")));
        }
        for (i, b) in self.strs.iter_mut().enumerate() {
            if self.str_rows[i] > 0 {
                catch_up_str(b, &mut self.str_rows[i], n);
                self.text_bytes[i] = full_batch_bytes(b.bytes(), n, cap);
                cols[S_COLS[i]] = Some(Arc::new(b.finish()));
            }
        }
        for (i, &pos) in I_COLS.iter().enumerate() {
            if self.int_rows[i] == 0 {
                continue;
            }
            cols[pos] = Some(if is_i32(i) {
                let b = &mut self.i32s[I32_SLOT[i]];
                catch_up_prim(b, &mut self.int_rows[i], n);
                Arc::new(b.finish())
            } else {
                let b = &mut self.i64s[I64_SLOT[i]];
                catch_up_prim(b, &mut self.int_rows[i], n);
                Arc::new(b.finish())
            });
        }
        if self.duration_rows > 0 {
            catch_up_prim(&mut self.duration, &mut self.duration_rows, n);
            cols[DURATION] = Some(Arc::new(self.duration.finish()));
        }
        if self.extra_rows > 0 {
            catch_up_str(&mut self.extra, &mut self.extra_rows, n);
            self.text_bytes[EXTRA_HINT] = full_batch_bytes(self.extra.bytes(), n, cap);
            cols[EXTRA] = Some(Arc::new(self.extra.finish()));
        }
        if self.raw_rows > 0 {
            catch_up_str(&mut self.raw, &mut self.raw_rows, n);
            self.text_bytes[RAW_HINT] = full_batch_bytes(self.raw.bytes(), n, cap);
            cols[RAW] = Some(Arc::new(self.raw.finish()));
        }
        cols[FORMAT] = Some(self.shared.constant(self.format, n));
        cols[SOURCE] = Some(self.shared.constant(&self.source, n));
        cols[LINE] = Some(Arc::new(self.line.finish()));
        let schema = event_schema();
        let cols: Vec<ArrayRef> = cols
            .into_iter()
            .enumerate()
            .map(|(pos, c)| {
                c.unwrap_or_else(|| self.shared.nulls(schema.field(pos).data_type(), n))
            })
            .collect();
        let batch = RecordBatch::try_new(schema, cols)
            .expect("builders follow event_schema column for column");
        self.reset();
        Some(batch)
    }
}

/// The bytes a text column that held `bytes` in `rows` rows would need in a batch of
/// `cap` rows, with an eighth to spare (at most the text a batch may hold).
fn full_batch_bytes(bytes: usize, rows: usize, cap: usize) -> usize {
    let full = bytes.saturating_mul(cap) / rows.max(1);
    (full + full / 8).min(MAX_BATCH_TEXT)
}

/// Text of a batch beyond which it is cut before its row count (64 MiB).
const MAX_BATCH_TEXT: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::{I, S};
    use crate::schema::col;
    use arrow_array::{Array, Int32Array, StringArray};

    #[test]
    fn column_positions_match_the_schema() {
        let schema = event_schema();
        let names = [
            col::EVENT_CLASS,
            col::SRC_IP,
            col::DST_IP,
            col::PROTOCOL,
            col::ACTION,
            col::DIRECTION,
            col::INTERFACE,
            col::RULE,
            col::TCP_FLAGS,
            col::DNS_QTYPE,
            col::DNS_QNAME,
            col::DNS_RCODE,
            col::HTTP_METHOD,
            col::HTTP_HOST,
            col::HTTP_URI,
            col::USER_AGENT,
            col::USER,
            col::AUTH_RESULT,
            col::HOST,
            col::APP,
            col::MESSAGE,
        ];
        for (i, n) in names.iter().enumerate() {
            assert_eq!(schema.field(S_COLS[i]).name(), n);
        }
        let ints = [
            col::SRC_PORT,
            col::DST_PORT,
            col::BYTES,
            col::PACKETS,
            col::SRC_BYTES,
            col::DST_BYTES,
            col::SRC_PACKETS,
            col::DST_PACKETS,
            col::DNS_ID,
            col::HTTP_STATUS,
        ];
        for (i, n) in ints.iter().enumerate() {
            assert_eq!(schema.field(I_COLS[i]).name(), n);
        }
        for (pos, n) in [
            (TIME, col::TIME),
            (DURATION, col::DURATION),
            (EXTRA, col::EXTRA),
            (FORMAT, col::FORMAT),
            (SOURCE, col::SOURCE),
            (LINE, col::LINE),
            (RAW, col::RAW),
        ] {
            assert_eq!(schema.field(pos).name(), n);
        }
        assert_eq!(schema.fields().len(), RAW + 1);
    }

    #[test]
    fn integer_slots_are_dense() {
        let (mut n32, mut n64) = (0, 0);
        for i in 0..NI {
            if is_i32(i) {
                assert_eq!(I32_SLOT[i], n32);
                n32 += 1;
            } else {
                assert_eq!(I64_SLOT[i], n64);
                n64 += 1;
            }
        }
        assert_eq!((n32, n64), (4, NI - 4));
    }

    #[test]
    fn rows_become_a_batch() {
        let mut b = BatchBuilder::new(4, "pf", "x.log".into());
        let mut r = Row::default();
        r.set(S::SrcIp, "10.0.0.1");
        r.set_int(I::DstPort, 53);
        b.push(&mut r, 7, Some("raw"));
        r.clear();
        b.push(&mut r, 8, None);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let src = batch
            .column(S_COLS[1])
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(src.value(0), "10.0.0.1");
        assert!(src.is_null(1));
        let dport = batch
            .column(I_COLS[1])
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(dport.value(0), 53);
        assert!(b.finish().is_none());
    }

    /// Columns come and go between batches: a column with values in one batch and
    /// none in the next is all null there, and the other way round, and columns
    /// without values are slices of one shared column.
    #[test]
    fn columns_empty_in_a_batch_are_shared_nulls_and_fill_again_later() {
        let mut b = BatchBuilder::new(3, "pf", "x.log".into());
        let mut r = Row::default();
        let text = |batch: &RecordBatch, pos: usize| -> Vec<Option<String>> {
            let a = batch
                .column(pos)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            a.iter().map(|v| v.map(str::to_string)).collect()
        };
        r.set(S::SrcIp, "10.0.0.1");
        b.push(&mut r, 1, Some("first"));
        let one = b.finish().unwrap();
        r.clear();
        r.set(S::DstIp, "10.0.0.2");
        b.push(&mut r, 2, None);
        r.clear();
        b.push(&mut r, 3, Some("third"));
        let two = b.finish().unwrap();

        assert_eq!(text(&one, S_COLS[1]), [Some("10.0.0.1".into())]);
        assert_eq!(text(&one, S_COLS[2]), [None]);
        assert_eq!(text(&two, S_COLS[1]), [None, None]);
        assert_eq!(text(&two, S_COLS[2]), [Some("10.0.0.2".into()), None]);
        assert_eq!(text(&two, RAW), [None, Some("third".into())]);
        assert_eq!(text(&two, FORMAT), [Some("pf".into()), Some("pf".into())]);
        assert_eq!(
            text(&two, SOURCE),
            [Some("x.log".into()), Some("x.log".into())]
        );
        for batch in [&one, &two] {
            assert_eq!(batch.schema(), event_schema());
            for (pos, c) in batch.columns().iter().enumerate() {
                assert_eq!(c.len(), batch.num_rows(), "column {pos}");
            }
        }
        // A column null in both batches: the same bytes, not a copy.
        let host = |batch: &RecordBatch| batch.column(S_COLS[18]).to_data().buffers()[0].as_ptr();
        assert_eq!(host(&one), host(&two));
        assert_eq!(two.column(I_COLS[3]).null_count(), 2);
    }

    /// A text column is sized by what it held per row in the batch before, so a log of
    /// long lines does not grow (and copy) its raw column in every batch.
    #[test]
    fn text_columns_are_sized_from_the_last_batch() {
        let mut b = BatchBuilder::new(100, "access", String::new());
        let long = "x".repeat(400);
        let mut r = Row::default();
        for line in 0..10 {
            b.push(&mut r, line, Some(&long));
        }
        b.finish().unwrap();
        let want = 400 * 100;
        assert!(b.raw.room() >= want, "{}", b.raw.room());
        assert!(b.raw.room() <= want * 2, "{}", b.raw.room());
    }
}
