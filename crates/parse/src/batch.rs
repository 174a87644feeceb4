//! Appends finished [`Row`]s to Arrow builders and cuts record batches of
//! [`event_schema`](crate::schema::event_schema).
//!
//! One builder per column, pre-sized for a whole batch so appends never reallocate in
//! the steady state. `format` and `source` are the same on every row of a stream and
//! are written with `append_value_n` when the batch is cut.

use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use crate::row::{NI, NS, Row};
use crate::schema::event_schema;

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
}

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
        };
        b.reset();
        b
    }

    fn reset(&mut self) {
        let cap = self.cap;
        self.rows = 0;
        self.time = PrimColumn::with_capacity(cap);
        // Short strings (addresses, names) average well under 16 bytes.
        self.strs = (0..NS)
            .map(|_| TextColumn::with_capacity(cap, cap * 16))
            .collect();
        self.i32s = (0..4).map(|_| PrimColumn::with_capacity(cap)).collect();
        self.i64s = (0..NI - 4)
            .map(|_| PrimColumn::with_capacity(cap))
            .collect();
        self.duration = PrimColumn::with_capacity(cap);
        self.extra = TextColumn::with_capacity(cap, cap * 32);
        self.line = PrimColumn::with_capacity(cap);
        self.raw = TextColumn::with_capacity(cap, cap * 160);
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
        catch_up_prim(&mut self.time, &mut self.time_rows, n);
        for (i, b) in self.strs.iter_mut().enumerate() {
            catch_up_str(b, &mut self.str_rows[i], n);
        }
        let (mut n32, mut n64) = (0, 0);
        for i in 0..NI {
            if is_i32(i) {
                catch_up_prim(&mut self.i32s[n32], &mut self.int_rows[i], n);
                n32 += 1;
            } else {
                catch_up_prim(&mut self.i64s[n64], &mut self.int_rows[i], n);
                n64 += 1;
            }
        }
        catch_up_prim(&mut self.duration, &mut self.duration_rows, n);
        catch_up_str(&mut self.extra, &mut self.extra_rows, n);
        catch_up_str(&mut self.raw, &mut self.raw_rows, n);

        let mut cols: Vec<Option<ArrayRef>> = vec![None; RAW + 1];
        cols[TIME] = Some(Arc::new(self.time.finish().with_timezone("UTC")));
        for (i, b) in self.strs.iter_mut().enumerate() {
            cols[S_COLS[i]] = Some(Arc::new(b.finish()));
        }
        let (mut n32, mut n64) = (0, 0);
        for (i, &pos) in I_COLS.iter().enumerate() {
            if is_i32(i) {
                cols[pos] = Some(Arc::new(self.i32s[n32].finish()));
                n32 += 1;
            } else {
                cols[pos] = Some(Arc::new(self.i64s[n64].finish()));
                n64 += 1;
            }
        }
        cols[DURATION] = Some(Arc::new(self.duration.finish()));
        cols[EXTRA] = Some(Arc::new(self.extra.finish()));
        cols[FORMAT] = Some(Arc::new(TextColumn::constant(self.format, n)));
        cols[SOURCE] = Some(Arc::new(TextColumn::constant(&self.source, n)));
        cols[LINE] = Some(Arc::new(self.line.finish()));
        cols[RAW] = Some(Arc::new(self.raw.finish()));
        let cols: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| c.expect("every column built"))
            .collect();
        let batch = RecordBatch::try_new(event_schema(), cols)
            .expect("builders follow event_schema column for column");
        self.reset();
        Some(batch)
    }
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
        // SAFETY: `values` is the concatenation of whole `&str` values (append_value and
        // `constant` are the only writers), so it is valid UTF-8 and every offset is a
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

    /// A column holding `value` in all `n` rows (`format`, `source`): the bytes are
    /// repeated in one go and the offsets computed, not appended value by value.
    fn constant(value: &str, n: usize) -> StringArray {
        let len = value.len();
        let mut c = TextColumn {
            data: value.as_bytes().repeat(n),
            offsets: (0..=n).map(|i| (i * len) as i32).collect(),
            valid: Validity::with_capacity(0),
        };
        c.finish()
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
}
