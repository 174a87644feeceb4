//! [`Distinct`]: a count of distinct values that merges across files: exact while small,
//! a HyperLogLog beyond.
//!
//! A file's summary cannot keep every source a port saw (that is the raw data again), and
//! distinct counts of two files do not add up (a source in both counts once). The sketch
//! keeps the hashes of up to [`EXACT_MAX`] values, exactly, and then 4,096 HyperLogLog
//! registers: a standard error of 1.04 / √4096 = 1.6 % whatever the count, and a merge that
//! is a register-wise maximum. The hash is fixed (not seeded per process) because sketches
//! written by one ingest are merged with those of another.
//!
//! Between the two, the registers are kept sparse: only those set, as (index, rank), up to
//! [`SPARSE_MAX`] of them. A DNS client that used a few hundred source ports in a file is
//! then a few hundred entries instead of 4,096 registers, which is what reading and merging
//! every client's sketch of every file cost (issue 19.3). Sparse and dense registers are
//! the same registers: the estimate is computed from both in the same order, so a count
//! does not depend on which form a sketch happens to be in.

mod wire;

use serde::{Deserialize, Serialize};

use wire::{registers, sparse};

/// Values counted exactly before the sketch turns into registers.
pub const EXACT_MAX: usize = 32;
/// Register index bits: 2^12 registers.
const P: u32 = 12;
const REGISTERS: usize = 1 << P;
/// Set registers kept sparse before they turn dense: at 1,024 the entries (four bytes each
/// in memory, about two on disk) hold as much as the dense registers.
pub const SPARSE_MAX: usize = REGISTERS / 4;
/// The largest rank a 64-bit hash gives (see [`add`]).
const RANK_MAX: u8 = (64 - P + 1) as u8;

/// The standard error of an estimated count (1.04 / √registers).
pub const STANDARD_ERROR: f64 = 0.01625;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Distinct {
    /// The hashes of every value seen, sorted and unique.
    Exact(Vec<u64>),
    /// HyperLogLog registers.
    Estimated(#[serde(with = "registers")] Vec<u8>),
    /// The registers that are set, as `index << 8 | rank`, sorted by index: the same
    /// registers as [`Distinct::Estimated`], while few are set. Written by summary format 3
    /// (the ranks, and the gaps between the indexes, see [`mod@wire::sparse`]).
    Sparse(#[serde(with = "sparse")] Vec<u32>),
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Exact(Vec::new())
    }
}

impl Distinct {
    /// Adds a value by its [`hash_str`] or [`hash_int`]. Returns the bytes the sketch's
    /// allocation grew by.
    pub fn insert(&mut self, hash: u64) -> usize {
        match self {
            Distinct::Exact(v) => match v.binary_search(&hash) {
                Ok(_) => 0,
                Err(i) if v.len() < EXACT_MAX => {
                    // What is held is the vector's capacity, which grows by doubling.
                    let before = v.capacity();
                    v.insert(i, hash);
                    8 * (v.capacity() - before)
                }
                Err(_) => {
                    let mut entries = Vec::with_capacity(2 * EXACT_MAX);
                    for h in v.iter().copied().chain(std::iter::once(hash)) {
                        set_sparse(&mut entries, entry(h));
                    }
                    // Fewer bytes than the hashes held: nothing grew.
                    *self = Distinct::Sparse(entries);
                    0
                }
            },
            Distinct::Sparse(entries) => {
                // What is held is the vector's capacity, which grows by doubling.
                let before = 4 * entries.capacity();
                set_sparse(entries, entry(hash));
                if entries.len() > SPARSE_MAX {
                    *self = Distinct::Estimated(dense(entries));
                }
                self.held_bytes().saturating_sub(before)
            }
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
            (Distinct::Estimated(mine), Distinct::Sparse(theirs)) => {
                for e in theirs {
                    set_dense(mine, *e);
                }
            }
            (Distinct::Sparse(mine), Distinct::Sparse(theirs)) => {
                let merged = merge_sparse(mine, theirs);
                *self = if merged.len() > SPARSE_MAX {
                    Distinct::Estimated(dense(&merged))
                } else {
                    Distinct::Sparse(merged)
                };
            }
            (Distinct::Sparse(mine), Distinct::Estimated(theirs)) => {
                let mut r = theirs.clone();
                for e in mine.iter() {
                    set_dense(&mut r, *e);
                }
                *self = Distinct::Estimated(r);
            }
            (Distinct::Exact(hs), Distinct::Sparse(_) | Distinct::Estimated(_)) => {
                let hs = std::mem::take(hs);
                *self = other.clone();
                for h in hs {
                    self.insert(h);
                }
            }
        }
    }

    /// The number of distinct values: exact, or estimated (see [`Distinct::is_exact`]).
    pub fn count(&self) -> u64 {
        match self {
            Distinct::Exact(v) => v.len() as u64,
            Distinct::Estimated(r) => estimate(r.iter().copied()).round() as u64,
            Distinct::Sparse(entries) => estimate(expand(entries)).round() as u64,
        }
    }

    /// What it holds in memory beside its own size, in bytes: its allocation.
    pub fn held_bytes(&self) -> usize {
        match self {
            Distinct::Exact(v) => v.capacity() * 8,
            Distinct::Estimated(r) => r.capacity(),
            Distinct::Sparse(entries) => entries.capacity() * 4,
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
            Distinct::Sparse(entries) => {
                entries.len() <= SPARSE_MAX
                    && entries.windows(2).all(|w| w[0] >> 8 < w[1] >> 8)
                    && entries.iter().all(|e| {
                        let rank = (e & 0xff) as u8;
                        ((e >> 8) as usize) < REGISTERS && (1..=RANK_MAX).contains(&rank)
                    })
            }
        }
    }
}

/// A hash's register and rank as a sparse entry: `index << 8 | rank`.
fn entry(hash: u64) -> u32 {
    let index = (hash >> (64 - P)) as u32;
    // The bits after the index, with a stop bit so the rank is at most 64 - P + 1.
    let rest = (hash << P) | (1 << (P - 1));
    let rank = rest.leading_zeros() + 1;
    index << 8 | rank
}

/// Raises a sparse register to the entry's rank, adding it when it is not set.
fn set_sparse(entries: &mut Vec<u32>, e: u32) {
    match entries.binary_search_by_key(&(e >> 8), |x| x >> 8) {
        Ok(i) => entries[i] = entries[i].max(e),
        Err(i) => entries.insert(i, e),
    }
}

fn set_dense(registers: &mut [u8], e: u32) {
    let (index, rank) = ((e >> 8) as usize, (e & 0xff) as u8);
    if registers[index] < rank {
        registers[index] = rank;
    }
}

fn dense(entries: &[u32]) -> Vec<u8> {
    let mut r = vec![0u8; REGISTERS];
    for e in entries {
        set_dense(&mut r, *e);
    }
    r
}

/// The union of two sorted sparse register sets, the larger rank where both are set.
fn merge_sparse(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        match (x >> 8).cmp(&(y >> 8)) {
            std::cmp::Ordering::Less => {
                out.push(x);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(y);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(x.max(y));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    // Two sketches of one client share most registers: the union is held at its length,
    // not at the sum of both.
    out.shrink_to_fit();
    out
}

/// Every register of a sparse set in index order, zeros included, as the dense registers
/// would give them.
fn expand(entries: &[u32]) -> impl Iterator<Item = u8> + '_ {
    let mut next = entries.iter().peekable();
    (0..REGISTERS as u32).map(move |index| match next.peek() {
        Some(e) if **e >> 8 == index => (next.next().expect("peeked") & 0xff) as u8,
        _ => 0,
    })
}

fn add(registers: &mut [u8], hash: u64) {
    set_dense(registers, entry(hash));
}

/// The HyperLogLog estimate, with linear counting for small counts (Flajolet et al. 2007;
/// a 64-bit hash needs no large-range correction).
fn estimate(registers: impl Iterator<Item = u8>) -> f64 {
    let m = REGISTERS as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let (mut sum, mut zeros) = (0.0f64, 0usize);
    for r in registers {
        sum += (-f64::from(r)).exp2();
        zeros += usize::from(r == 0);
    }
    let raw = alpha * m * m / sum;
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
        let d = of((0..5000).map(|i| format!("10.0.{}.{}", i / 256, i % 256)));
        let Distinct::Estimated(r) = &d else {
            panic!("5,000 values fill the registers")
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

    /// The same values as dense registers, each value added straight to them (format 2's
    /// way), not through the sparse entries.
    fn dense_of(values: impl IntoIterator<Item = String>) -> Distinct {
        let mut r = vec![0u8; REGISTERS];
        for v in values {
            add(&mut r, hash_str(&v));
        }
        Distinct::Estimated(r)
    }

    /// The estimate of a sketch past its exact values, to the last bit.
    fn estimate_bits(d: &Distinct) -> u64 {
        match d {
            Distinct::Estimated(r) => estimate(r.iter().copied()).to_bits(),
            Distinct::Sparse(e) => estimate(expand(e)).to_bits(),
            Distinct::Exact(_) => panic!("exact"),
        }
    }

    fn hosts(range: std::ops::Range<u64>) -> impl Iterator<Item = String> {
        range.map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
    }

    #[test]
    fn sparse_registers_count_as_the_dense_ones_and_turn_dense_when_full() {
        let mut went_dense = false;
        for n in [33u64, 100, 500, 1_000, 1_200, 3_000] {
            let d = of(hosts(0..n));
            let flat = dense_of(hosts(0..n));
            assert!(d.is_well_formed() && flat.is_well_formed(), "{n}");
            // The same registers, in either form, give the same estimate, to the last bit.
            assert_eq!(estimate_bits(&d), estimate_bits(&flat), "{n}");
            if let (Distinct::Sparse(e), Distinct::Estimated(r)) = (&d, &flat) {
                assert_eq!(&dense(e), r, "{n}");
            }
            match &d {
                Distinct::Sparse(e) => {
                    assert!(e.len() <= SPARSE_MAX);
                    assert!(d.held_bytes() >= e.len() * 4);
                    assert!(d.held_bytes() <= REGISTERS);
                }
                Distinct::Estimated(_) => went_dense = true,
                Distinct::Exact(_) => panic!("{n} values are more than the exact ones"),
            }
            // Written and read back (format 3), it is the same sketch.
            let bytes = bincode::serialize(&d).unwrap();
            assert_eq!(crate::summary::codec::read::<Distinct>(&bytes).unwrap(), d);
            if let Distinct::Sparse(e) = &d {
                // At most three bytes per set register (a gap under 4,096 takes two), not
                // 4,096 in all; about two once gaps are short.
                let most = if e.len() >= 256 {
                    2 * e.len() + e.len() / 4
                } else {
                    3 * e.len()
                };
                assert!(bytes.len() <= most + 12, "{n}: {} bytes", bytes.len());
            }
        }
        assert!(
            went_dense,
            "3,000 values set more than {SPARSE_MAX} registers"
        );
        assert!(matches!(of(hosts(0..100)), Distinct::Sparse(_)));
    }

    #[test]
    fn every_merge_of_exact_sparse_and_dense_counts_as_the_dense_merge() {
        // Sizes that are exact (20), sparse (300, 700; two of 700 set more than SPARSE_MAX
        // registers together) and dense (4,000), overlapping by a quarter.
        let sizes = [20u64, 300, 700, 4_000];
        for &n in &sizes {
            for &k in &sizes {
                let (a, b) = (hosts(0..n), hosts(n - n / 4..n - n / 4 + k));
                let (x, y) = (of(a), of(b));
                let mut want = dense_of(hosts(0..n));
                want.merge(&dense_of(hosts(n - n / 4..n - n / 4 + k)));
                let mut m = x.clone();
                m.merge(&y);
                assert!(m.is_well_formed(), "{n}+{k}");
                if !m.is_exact() {
                    assert_eq!(estimate_bits(&m), estimate_bits(&want), "{n}+{k}");
                }
                assert_eq!(m.count(), want.count(), "{n}+{k}");
                let mut back = y.clone();
                back.merge(&x);
                assert_eq!(back.count(), want.count(), "{k}+{n}");
                // Merging is the same as inserting every value.
                let all = of(hosts(0..n).chain(hosts(n - n / 4..n - n / 4 + k)));
                assert_eq!(m, all, "{n}+{k}");
            }
        }
    }

    #[test]
    fn damaged_sparse_registers_are_refused() {
        let Distinct::Sparse(e) = of(hosts(0..200)) else {
            panic!("200 values are sparse")
        };
        let mut unsorted = e.clone();
        unsorted.swap(0, 1);
        let mut bad_rank = e.clone();
        bad_rank[0] = (bad_rank[0] & !0xff) | 0x7f;
        let mut bad_index = e.clone();
        *bad_index.last_mut().unwrap() = (REGISTERS as u32) << 8 | 1;
        let too_many: Vec<u32> = (0..SPARSE_MAX as u32 + 1).map(|i| i << 8 | 1).collect();
        for bad in [unsorted, bad_rank, bad_index, too_many.clone()] {
            assert!(!Distinct::Sparse(bad).is_well_formed());
        }
        // More entries than a sparse sketch holds are refused while they are read.
        let long = bincode::serialize(&Distinct::Sparse(too_many)).unwrap();
        assert!(crate::summary::codec::read::<Distinct>(&long).is_err());
        // Bytes that are not whole entries, or point past the registers, do not read.
        let good = bincode::serialize(&Distinct::Sparse(e.clone())).unwrap();
        let with_body = |body: &[u8]| {
            let mut b = good[..4].to_vec();
            b.extend_from_slice(&(body.len() as u64).to_le_bytes());
            b.extend_from_slice(body);
            b
        };
        let body = &good[12..];
        let read = |b: &[u8]| crate::summary::codec::read::<Distinct>(b);
        assert_eq!(read(&with_body(body)).unwrap(), Distinct::Sparse(e));
        assert!(
            read(&with_body(&body[..body.len() - 1])).is_err(),
            "a rank missing"
        );
        assert!(read(&with_body(&[0xff, 0x7f, 1])).is_err(), "index 16,383");
        assert!(
            read(&with_body(&[0xff, 0xff, 0xff, 0x7f, 1])).is_err(),
            "a long gap"
        );
        assert!(read(&with_body(&[0x80])).is_err(), "a gap cut short");
        // The largest index reads: the last register.
        assert_eq!(
            read(&with_body(&[0xff, 0x1f, 1])).unwrap(),
            Distinct::Sparse(vec![((REGISTERS as u32) - 1) << 8 | 1])
        );
    }
}
