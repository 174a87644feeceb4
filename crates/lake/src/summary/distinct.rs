//! [`Distinct`]: a count of distinct values that merges across files: exact while small,
//! a HyperLogLog beyond.
//!
//! A file's summary cannot keep every source a port saw (that is the raw data again), and
//! distinct counts of two files do not add up (a source in both counts once). The sketch
//! keeps the hashes of up to [`EXACT_MAX`] values, exactly, and then 4,096 HyperLogLog
//! registers: a standard error of 1.04 / √4096 = 1.6 % whatever the count, and a merge that
//! is a register-wise maximum. The hash is fixed (not seeded per process) because sketches
//! written by one ingest are merged with those of another.

use serde::{Deserialize, Serialize};

/// Values counted exactly before the sketch turns into registers.
pub const EXACT_MAX: usize = 32;
/// Register index bits: 2^12 registers.
const P: u32 = 12;
const REGISTERS: usize = 1 << P;

/// The standard error of an estimated count (1.04 / √registers).
pub const STANDARD_ERROR: f64 = 0.01625;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Distinct {
    /// The hashes of every value seen, sorted and unique.
    Exact(Vec<u64>),
    /// HyperLogLog registers.
    Estimated(#[serde(with = "registers")] Vec<u8>),
}

/// The registers as one run of bytes: bincode writes a byte string exactly as it writes a
/// sequence of `u8` (a length, then the bytes), so files of either way read the same, but a
/// byte string is copied at once instead of one element at a time, which made reading the
/// sketches of 100 M events' DNS clients the slowest part of an analysis.
mod registers {
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
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(super::REGISTERS));
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Exact(Vec::new())
    }
}

impl Distinct {
    /// Adds a value by its [`hash_str`] or [`hash_int`]. Returns the bytes the sketch grew by.
    pub fn insert(&mut self, hash: u64) -> usize {
        match self {
            Distinct::Exact(v) => match v.binary_search(&hash) {
                Ok(_) => 0,
                Err(i) if v.len() < EXACT_MAX => {
                    v.insert(i, hash);
                    8
                }
                Err(_) => {
                    let mut r = vec![0u8; REGISTERS];
                    for h in v.iter().copied().chain(std::iter::once(hash)) {
                        add(&mut r, h);
                    }
                    *self = Distinct::Estimated(r);
                    REGISTERS
                }
            },
            Distinct::Estimated(r) => {
                add(r, hash);
                0
            }
        }
    }

    /// Adds every value `other` counted.
    pub fn merge(&mut self, other: &Distinct) {
        if let Distinct::Exact(hs) = other {
            for h in hs {
                self.insert(*h);
            }
            return;
        }
        match (&mut *self, other) {
            (_, Distinct::Exact(_)) => {}
            (Distinct::Estimated(mine), Distinct::Estimated(theirs)) => {
                for (a, b) in mine.iter_mut().zip(theirs) {
                    *a = (*a).max(*b);
                }
            }
            (Distinct::Exact(hs), Distinct::Estimated(theirs)) => {
                let mut r = theirs.clone();
                for h in hs.iter() {
                    add(&mut r, *h);
                }
                *self = Distinct::Estimated(r);
            }
        }
    }

    /// The number of distinct values: exact, or estimated (see [`Distinct::is_exact`]).
    pub fn count(&self) -> u64 {
        match self {
            Distinct::Exact(v) => v.len() as u64,
            Distinct::Estimated(r) => estimate(r).round() as u64,
        }
    }

    /// About what it holds in memory, in bytes.
    pub fn held_bytes(&self) -> usize {
        match self {
            Distinct::Exact(v) => v.len() * 8,
            Distinct::Estimated(r) => r.len(),
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Distinct::Exact(_))
    }

    /// Registers that do not hold what their length says (a damaged summary) are refused
    /// when read, so a count never indexes out of range.
    pub(crate) fn is_well_formed(&self) -> bool {
        match self {
            Distinct::Exact(v) => v.len() <= EXACT_MAX,
            Distinct::Estimated(r) => r.len() == REGISTERS,
        }
    }
}

fn add(registers: &mut [u8], hash: u64) {
    let index = (hash >> (64 - P)) as usize;
    // The bits after the index, with a stop bit so the rank is at most 64 - P + 1.
    let rest = (hash << P) | (1 << (P - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if registers[index] < rank {
        registers[index] = rank;
    }
}

/// The HyperLogLog estimate, with linear counting for small counts (Flajolet et al. 2007;
/// a 64-bit hash needs no large-range correction).
fn estimate(registers: &[u8]) -> f64 {
    let m = registers.len() as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = registers.iter().map(|&r| (-f64::from(r)).exp2()).sum();
    let raw = alpha * m * m / sum;
    let zeros = registers.iter().filter(|&&r| r == 0).count();
    if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    }
}

/// The sketch hash of a text value: FNV-1a, then MurmurHash3's finalizer so every bit of
/// the input moves the high bits the registers are chosen by.
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The sketch hash of a number.
pub fn hash_int(v: i64) -> u64 {
    mix((v as u64) ^ 0x9e37_79b9_7f4a_7c15)
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_are_written_as_before_and_read_both_ways() {
        // Format 1's sketch: the registers as a plain sequence of bytes.
        #[derive(Serialize, Deserialize)]
        enum Before {
            Exact(Vec<u64>),
            Estimated(Vec<u8>),
        }
        let d = of((0..1000).map(|i| format!("10.0.{}.{}", i / 256, i % 256)));
        let Distinct::Estimated(r) = &d else {
            panic!("1,000 values are estimated")
        };
        let before = bincode::serialize(&Before::Estimated(r.clone())).unwrap();
        assert_eq!(bincode::serialize(&d).unwrap(), before);
        let read: Distinct = crate::summary::codec::read(&before).unwrap();
        assert_eq!(read, d);
        let small = of(["a".to_string()]);
        let Distinct::Exact(h) = &small else {
            panic!("one value is exact")
        };
        let read: Distinct =
            crate::summary::codec::read(&bincode::serialize(&Before::Exact(h.clone())).unwrap())
                .unwrap();
        assert_eq!(read, small);
    }

    fn of(values: impl IntoIterator<Item = String>) -> Distinct {
        let mut d = Distinct::default();
        for v in values {
            d.insert(hash_str(&v));
        }
        d
    }

    #[test]
    fn small_counts_are_exact_and_large_ones_within_the_error() {
        let d = of((0..EXACT_MAX).map(|i| format!("10.0.0.{i}")));
        assert!(d.is_exact());
        assert_eq!(d.count(), EXACT_MAX as u64);
        // Repeats count once.
        let mut again = d.clone();
        again.insert(hash_str("10.0.0.0"));
        assert_eq!(again, d);
        for n in [33u64, 100, 1_000, 10_000, 200_000] {
            let d = of((0..n).map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)));
            assert!(!d.is_exact());
            let err = (d.count() as f64 - n as f64).abs() / n as f64;
            // Three standard errors.
            assert!(err <= 3.0 * STANDARD_ERROR, "{n}: counted {}", d.count());
        }
    }

    #[test]
    fn merging_counts_the_union() {
        // Two halves that overlap by a quarter, in every combination of exact and estimated.
        for (n, overlap) in [(20u64, 8u64), (40, 10), (5_000, 1_000)] {
            let a = of((0..n).map(|i| format!("h{i}")));
            let b = of((n - overlap..2 * n - overlap).map(|i| format!("h{i}")));
            let union = 2 * n - overlap;
            for (x, y) in [(&a, &b), (&b, &a)] {
                let mut m = x.clone();
                m.merge(y);
                let err = (m.count() as f64 - union as f64).abs() / union as f64;
                assert!(err <= 3.0 * STANDARD_ERROR, "{n}/{overlap}: {}", m.count());
                if union as usize <= EXACT_MAX {
                    assert_eq!(m.count(), union);
                }
            }
        }
    }
}
