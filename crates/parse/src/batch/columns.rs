//! The column builders behind [`super::BatchBuilder`]: a primitive column, a text column
//! and their validity, each appended to row by row and cut into an Arrow array once per
//! batch.

use arrow_array::{ArrowPrimitiveType, PrimitiveArray, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

/// Validity of a column under construction, kept as the runs of nulls: values (the
/// common case) cost nothing here, and nulls arrive in runs anyway (columns catch up
/// with one bulk append, see [`super::BatchBuilder`]). The bitmap is drawn once per batch;
/// a column that never got a null finishes without one (as arrow's builder does).
#[derive(Default)]
pub(super) struct Validity {
    /// (first row, number of rows) of each run of nulls, in row order.
    runs: Vec<(usize, usize)>,
    nulls: usize,
}

impl Validity {
    /// Marks rows `at..at + n` as null.
    #[inline]
    pub(super) fn add_nulls(&mut self, at: usize, n: usize) {
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
    pub(super) fn finish(&mut self, rows: usize) -> Option<NullBuffer> {
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
pub(super) struct PrimColumn<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    valid: Validity,
}

impl<T: ArrowPrimitiveType> PrimColumn<T> {
    /// A column without room yet: [`Self::ready`] makes it.
    pub(super) fn empty() -> Self {
        PrimColumn {
            values: Vec::new(),
            valid: Validity::default(),
        }
    }

    /// Room for `rows` values, unless the column has room already (it held no value
    /// in the last batch, so [`Self::finish`] did not take its buffer).
    pub(super) fn ready(&mut self, rows: usize) {
        if self.values.capacity() == 0 {
            self.values.reserve_exact(rows);
        }
    }

    #[inline]
    pub(super) fn append_value(&mut self, v: T::Native) {
        self.values.push(v);
    }

    pub(super) fn append_nulls(&mut self, n: usize) {
        let at = self.values.len();
        self.values.resize(at + n, T::Native::default());
        self.valid.add_nulls(at, n);
    }

    pub(super) fn finish(&mut self) -> PrimitiveArray<T> {
        let values = std::mem::take(&mut self.values);
        let nulls = self.valid.finish(values.len());
        PrimitiveArray::new(ScalarBuffer::from(values), nulls)
    }
}

/// A string column under construction: values, offsets and (lazily) validity. Leaner
/// than arrow's generic builder on the hot path: one copy and one push per value.
pub(super) struct TextColumn {
    data: Vec<u8>,
    offsets: Vec<i32>,
    valid: Validity,
}

impl TextColumn {
    /// A column without room yet (nor its first offset): [`Self::ready`] makes both.
    pub(super) fn empty() -> Self {
        TextColumn {
            data: Vec::new(),
            offsets: Vec::new(),
            valid: Validity::default(),
        }
    }

    /// Room for `rows` values of `bytes` in all, unless the column has room already (as
    /// [`PrimColumn::ready`]).
    pub(super) fn ready(&mut self, rows: usize, bytes: usize) {
        if self.offsets.capacity() == 0 {
            self.offsets.reserve_exact(rows + 1);
            self.offsets.push(0);
        }
        if self.data.capacity() == 0 {
            self.data.reserve_exact(bytes);
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Bytes the column has room for before it must grow.
    #[cfg(test)]
    pub(super) fn room(&self) -> usize {
        self.data.capacity()
    }

    #[inline]
    pub(super) fn append_value(&mut self, v: &str) {
        append_bytes(&mut self.data, v.as_bytes());
        // Batches are cut at MAX_BATCH_TEXT and lines are capped, so offsets fit in i32.
        self.offsets.push(self.data.len() as i32);
    }

    pub(super) fn append_nulls(&mut self, n: usize) {
        let last = self.data.len() as i32;
        let at = self.offsets.len() - 1;
        self.offsets.extend(std::iter::repeat_n(last, n));
        self.valid.add_nulls(at, n);
    }

    pub(super) fn finish(&mut self) -> StringArray {
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
pub(super) fn append_bytes(out: &mut Vec<u8>, b: &[u8]) {
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
pub(super) fn catch_up_str(b: &mut TextColumn, filled: &mut usize, rows: usize) {
    if *filled < rows {
        b.append_nulls(rows - *filled);
        *filled = rows;
    }
}

/// Appends the nulls a primitive column owes so that it holds `rows` rows.
#[inline]
pub(super) fn catch_up_prim<T: ArrowPrimitiveType>(
    b: &mut PrimColumn<T>,
    filled: &mut usize,
    rows: usize,
) {
    if *filled < rows {
        b.append_nulls(rows - *filled);
        *filled = rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    proptest::proptest! {
        /// The null runs give the bitmap that setting one bit per value would.
        #[test]
        fn validity_runs_match_bit_by_bit(cells in proptest::collection::vec(proptest::bool::weighted(0.3), 0..300)) {
            let mut v = Validity::default();
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
}
