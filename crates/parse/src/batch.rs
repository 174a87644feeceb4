//! Appends finished [`Row`]s to Arrow builders and cuts record batches of
//! [`event_schema`](crate::schema::event_schema).
//!
//! One builder per column, pre-sized for a whole batch so appends never reallocate in
//! the steady state: text columns are sized by what they held per row in the batch
//! before. Columns without a value in a batch, and `format` and `source` (the same on
//! every row of a stream), are slices of columns the builder's batches share
//! ([`shared`]).

mod shared;

use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use crate::row::{NI, NS, Row};
use crate::schema::event_schema;
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
            time: PrimColumn::with_capacity(0),
            time_rows: 0,
            strs: Vec::new(),
            str_rows: [0; NS],
            i32s: Vec::new(),
            i64s: Vec::new(),
            int_rows: [0; NI],
            duration: PrimColumn::with_capacity(0),
            duration_rows: 0,
            extra: TextColumn::with_capacity(0, 0),
            extra_rows: 0,
            line: PrimColumn::with_capacity(0),
            raw: TextColumn::with_capacity(0, 0),
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
        b.strs = (0..NS).map(|_| TextColumn::with_capacity(0, 0)).collect();
        b.i32s = (0..4).map(|_| PrimColumn::with_capacity(0)).collect();
        b.i64s = (0..NI - 4).map(|_| PrimColumn::with_capacity(0)).collect();
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

/// Validity of a column under construction, kept as the runs of nulls: values (the
/// common case) cost nothing here, and nulls arrive in runs anyway (columns catch up
/// with one bulk append, see [`BatchBuilder`]). The bitmap is drawn once per batch;
/// a column that never got a null finishes without one (as arrow's builder does).
struct Validity {
    /// (first row, number of rows) of each run of nulls, in row order.
    runs: Vec<(usize, usize)>,
    nulls: usize,
}

impl Validity {
    fn with_capacity(_rows: usize) -> Self {
        Validity {
            runs: Vec::new(),
            nulls: 0,
        }
    }

    /// Marks rows `at..at + n` as null.
    #[inline]
    fn add_nulls(&mut self, at: usize, n: usize) {
        if n == 0 {
            return;
        }
        match self.runs.last_mut() {
            Some((s, len)) if *s + *len == at => *len += n,
            _ => self.runs.push((at, n)),
        }
        self.nulls += n;
    }

    /// The null buffer of a column of `rows` rows (None if no row is null): all bits
    /// set, then the null runs and the padding after the last row cleared.
    fn finish(&mut self, rows: usize) -> Option<NullBuffer> {
        let runs = std::mem::take(&mut self.runs);
        let nulls = std::mem::take(&mut self.nulls);
        if nulls == 0 {
            return None;
        }
        let bytes = rows.div_ceil(8);
        let mut bits = vec![0xffu8; bytes];
        for (start, n) in runs {
            clear_bits(&mut bits, start, n);
        }
        clear_bits(&mut bits, rows, bytes * 8 - rows);
        Some(NullBuffer::new(BooleanBuffer::new(
            Buffer::from_vec(bits),
            0,
            rows,
        )))
    }
}

/// Clears bits `start..start + n` (LSB first, as arrow numbers them): the partial
/// first and last bytes with a mask each, whole bytes between at once.
fn clear_bits(bits: &mut [u8], start: usize, n: usize) {
    if n == 0 {
        return;
    }
    let last = start + n - 1;
    let (first_byte, last_byte) = (start >> 3, last >> 3);
    let head = 0xffu8 << (start & 7); // bits from `start` on, in its byte
    let tail = 0xffu8 >> (7 - (last & 7)); // bits up to `last`, in its byte
    if first_byte == last_byte {
        bits[first_byte] &= !(head & tail);
        return;
    }
    bits[first_byte] &= !head;
    bits[first_byte + 1..last_byte].fill(0);
    bits[last_byte] &= !tail;
}

/// A primitive column under construction: values and (lazily) validity.
struct PrimColumn<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    valid: Validity,
}

impl<T: ArrowPrimitiveType> PrimColumn<T> {
    fn with_capacity(rows: usize) -> Self {
        PrimColumn {
            values: Vec::with_capacity(rows),
            valid: Validity::with_capacity(rows),
        }
    }

    /// Room for `rows` values, unless the column has room already (it held no value
    /// in the last batch, so [`Self::finish`] did not take its buffer).
    fn ready(&mut self, rows: usize) {
        if self.values.capacity() == 0 {
            self.values.reserve_exact(rows);
        }
    }

    #[inline]
    fn append_value(&mut self, v: T::Native) {
        self.values.push(v);
    }

    fn append_nulls(&mut self, n: usize) {
        let at = self.values.len();
        self.values.resize(at + n, T::Native::default());
        self.valid.add_nulls(at, n);
    }

    fn finish(&mut self) -> PrimitiveArray<T> {
        let values = std::mem::take(&mut self.values);
        let nulls = self.valid.finish(values.len());
        PrimitiveArray::new(ScalarBuffer::from(values), nulls)
    }
}

/// A string column under construction: values, offsets and (lazily) validity. Leaner
/// than arrow's generic builder on the hot path: one copy and one push per value.
struct TextColumn {
    data: Vec<u8>,
    offsets: Vec<i32>,
    valid: Validity,
}

impl TextColumn {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            data: Vec::with_capacity(bytes),
            offsets,
            valid: Validity::with_capacity(rows),
        }
    }

    /// Room for `rows` values of `bytes` in all, unless the column has room already (as
    /// [`PrimColumn::ready`]).
    fn ready(&mut self, rows: usize, bytes: usize) {
        if self.offsets.capacity() == 0 {
            self.offsets.reserve_exact(rows + 1);
            self.offsets.push(0);
        }
        if self.data.capacity() == 0 {
            self.data.reserve_exact(bytes);
        }
    }

    fn bytes(&self) -> usize {
        self.data.len()
    }

    #[inline]
    fn append_value(&mut self, v: &str) {
        append_bytes(&mut self.data, v.as_bytes());
        // Batches are cut at MAX_BATCH_TEXT and lines are capped, so offsets fit in i32.
        self.offsets.push(self.data.len() as i32);
    }

    fn append_nulls(&mut self, n: usize) {
        let last = self.data.len() as i32;
        let at = self.offsets.len() - 1;
        self.offsets.extend(std::iter::repeat_n(last, n));
        self.valid.add_nulls(at, n);
    }

    fn finish(&mut self) -> StringArray {
        let offsets = std::mem::take(&mut self.offsets);
        let values = std::mem::take(&mut self.data);
        let nulls = self.valid.finish(offsets.len() - 1);
        debug_assert!(std::str::from_utf8(&values).is_ok());
        debug_assert!(
            offsets.windows(2).all(|w| w[0] <= w[1])
                && *offsets.last().unwrap_or(&0) as usize == values.len()
        );
        // SAFETY: `values` is the concatenation of whole `&str` values (append_value is
        // the only writer), so it is valid UTF-8 and every offset is a
        // char boundary; offsets start at 0, never decrease and end at values.len();
        // there is one validity bit per value. That is everything
        // `StringArray::try_new` would check, and checking it again costs a pass over
        // every byte of the batch.
        unsafe {
            StringArray::new_unchecked(
                OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
                Buffer::from_vec(values),
                nulls,
            )
        }
    }
}

/// `out.extend_from_slice(b)`, with the short values most columns hold (addresses,
/// names, flags: under 16 bytes) copied inline as two overlapping words, not by a call
/// to `memcpy` for every value of every row.
#[inline]
fn append_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if !(4..=16).contains(&n) {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `reserve` made room for `n` more bytes after `len`. Each copy reads `w`
    // bytes from `b` at 0 and at `n - w`, within `b` since `w <= n`, and writes them at
    // the same places after `len`, within the reserved room; the two writes overlap
    // when `n < 2w` and together cover all `n` bytes, so `set_len` exposes only bytes
    // that were written.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        let src = b.as_ptr();
        if n >= 8 {
            let head = src.cast::<u64>().read_unaligned();
            let tail = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(head);
            dst.add(n - 8).cast::<u64>().write_unaligned(tail);
        } else {
            let head = src.cast::<u32>().read_unaligned();
            let tail = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(head);
            dst.add(n - 4).cast::<u32>().write_unaligned(tail);
        }
        out.set_len(len + n);
    }
}

/// Appends the nulls a string column owes so that it holds `rows` rows.
#[inline]
fn catch_up_str(b: &mut TextColumn, filled: &mut usize, rows: usize) {
    if *filled < rows {
        b.append_nulls(rows - *filled);
        *filled = rows;
    }
}

/// Appends the nulls a primitive column owes so that it holds `rows` rows.
#[inline]
fn catch_up_prim<T: ArrowPrimitiveType>(b: &mut PrimColumn<T>, filled: &mut usize, rows: usize) {
    if *filled < rows {
        b.append_nulls(rows - *filled);
        *filled = rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::{I, S};
    use crate::schema::col;
    use arrow_array::{Array, Int32Array, StringArray};

    #[test]
    fn short_values_are_appended_as_extend_from_slice_would() {
        let src: Vec<u8> = (0u8..40).map(|i| b'a' + i % 26).collect();
        for start in [0, 3] {
            for n in 0..=(src.len() - start) {
                let b = &src[start..start + n];
                let mut out = b"prefix".to_vec();
                let mut want = out.clone();
                append_bytes(&mut out, b);
                want.extend_from_slice(b);
                assert_eq!(out, want, "{n} bytes from {start}");
                // Again at the end of a buffer with no room left.
                let mut full = Vec::with_capacity(3);
                full.extend_from_slice(b"xyz");
                append_bytes(&mut full, b);
                assert_eq!(&full[..3], b"xyz");
                assert_eq!(&full[3..], b);
            }
        }
    }

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

    proptest::proptest! {
        /// The null runs give the bitmap that setting one bit per value would.
        #[test]
        fn validity_runs_match_bit_by_bit(cells in proptest::collection::vec(proptest::bool::weighted(0.3), 0..300)) {
            let mut v = Validity::with_capacity(cells.len());
            let mut want = vec![0u8; cells.len().div_ceil(8)];
            for (r, &valid) in cells.iter().enumerate() {
                if valid {
                    want[r >> 3] |= 1 << (r & 7);
                } else {
                    v.add_nulls(r, 1);
                }
            }
            match v.finish(cells.len()) {
                None => proptest::prop_assert!(cells.iter().all(|&c| c)),
                Some(n) => {
                    proptest::prop_assert_eq!(n.buffer().as_slice(), &want[..]);
                    proptest::prop_assert_eq!(n.null_count(), cells.iter().filter(|&&c| !c).count());
                }
            }
        }
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
        assert!(b.raw.data.capacity() >= want, "{}", b.raw.data.capacity());
        assert!(
            b.raw.data.capacity() <= want * 2,
            "{}",
            b.raw.data.capacity()
        );
    }
}
