//! How a [`Distinct`](super::Distinct) sketch's registers are written in a summary file:
//! dense registers as one byte string, sparse ones as the gaps between their indexes and
//! their ranks. Both are decoded straight from the file's bytes, and a damaged string is
//! refused before anything it claims is held.

/// Sparse registers on disk, as one byte string: per entry, the gap to the previous
/// entry's index (LEB128; the first entry's index itself) and the rank (one byte). Indexes
/// are sorted, so gaps are small: about two bytes an entry, which compress further, and
/// are decoded straight from the file's bytes.
pub(super) mod sparse {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    use super::super::{REGISTERS, SPARSE_MAX};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(2 * v.len());
        let mut next = 0u32;
        for e in v {
            let index = e >> 8;
            let mut gap = index.saturating_sub(next);
            while gap >= 0x80 {
                bytes.push((gap as u8 & 0x7f) | 0x80);
                gap >>= 7;
            }
            bytes.push(gap as u8);
            bytes.push((e & 0xff) as u8);
            next = index + 1;
        }
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        d.deserialize_bytes(Entries)
    }

    /// The entries of `bytes`, or why they are not entries.
    fn decode(bytes: &[u8]) -> Result<Vec<u32>, &'static str> {
        // Every entry takes two bytes at least; more than SPARSE_MAX is damage, refused
        // before it is held.
        let mut out = Vec::with_capacity((bytes.len() / 2).min(SPARSE_MAX));
        let mut rest = bytes.iter();
        let mut next = 0u64;
        while let Some(&first) = rest.next() {
            let (mut gap, mut shift, mut b) = (0u64, 0u32, first);
            loop {
                gap |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    break;
                }
                shift += 7;
                if shift > 14 {
                    return Err("a sparse register's index is out of range");
                }
                b = *rest.next().ok_or("sparse registers cut short")?;
            }
            let index = next + gap;
            if index >= REGISTERS as u64 {
                return Err("a sparse register's index is out of range");
            }
            let rank = *rest.next().ok_or("sparse registers cut short")?;
            if out.len() == SPARSE_MAX {
                return Err("more sparse registers than a sparse sketch holds");
            }
            out.push((index as u32) << 8 | u32::from(rank));
            next = index + 1;
        }
        Ok(out)
    }

    struct Entries;

    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<u32>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("sparse sketch registers")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u32>, E> {
            decode(v).map_err(E::custom)
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u32>, E> {
            decode(&v).map_err(E::custom)
        }
    }
}

/// The registers as one run of bytes: bincode writes a byte string exactly as it writes a
/// sequence of `u8` (a length, then the bytes), so files of either way read the same, but a
/// byte string is copied at once instead of one element at a time, which made reading the
/// sketches of 100 M events' DNS clients the slowest part of an analysis.
pub(super) mod registers {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        d.deserialize_byte_buf(Bytes)
    }

    struct Bytes;

    impl<'de> Visitor<'de> for Bytes {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("sketch registers")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out =
                Vec::with_capacity(seq.size_hint().unwrap_or(0).min(super::super::REGISTERS));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}
