//! What a summary's tables hold in memory, in bytes: the figures its budgets
//! ([`super::BUDGET_BYTES`], the merged summaries' and the cache's) are checked against.
//!
//! Why from capacities and sizes: the estimate before counted 96 bytes and the key per
//! entry. It left out the entries' own size (a source's slot in the summarizer's map was
//! 496 bytes), the hash maps' spare buckets, the vectors' spare room and the maps that
//! finishing a summary builds. For the big screen's feed (one flow from each of 62,500
//! sources) it counted 35 MB where the tables held 113 MB, and the 128 MiB budget did not
//! bound the file's summary (BENCHMARKS.md, "The big screen left running"). These
//! functions give the size of each allocation as the allocator is asked for it; a test
//! holds the summarizer's count to what the counting allocator the server runs on sees
//! (`build::tests`).

use std::mem::size_of;

/// The bytes of a hash map's one allocation: hashbrown's layout (std's maps), a slot per
/// bucket, a control byte per bucket and one group of 16 more. Buckets are a power of
/// two of which 7/8 are used (3 of 4 and 7 of 8 in the smallest).
pub(crate) fn map<K, V, S>(m: &std::collections::HashMap<K, V, S>) -> usize {
    map_of::<K, V>(m.capacity())
}

/// [`map`] for a map of `capacity` (as [`std::collections::HashMap::capacity`] gives it).
pub(crate) fn map_of<K, V>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        capacity / 7 * 8
    };
    buckets * (size_of::<(K, V)>() + 1) + 16
}

/// The bytes a map of `entries` will hold once built to size (`with_capacity`).
pub(crate) fn map_for<K, V>(entries: usize) -> usize {
    if entries == 0 {
        return 0;
    }
    let buckets = if entries < 8 {
        if entries < 4 { 4 } else { 8 }
    } else {
        (entries * 8).div_ceil(7).next_power_of_two()
    };
    let capacity = if buckets < 8 {
        buckets - 1
    } else {
        buckets / 8 * 7
    };
    map_of::<K, V>(capacity)
}

/// The bytes of a map keyed by text: its allocation, its keys' and what `each` gives for
/// each value's own allocations.
pub(crate) fn keyed<V, S>(
    m: &std::collections::HashMap<String, V, S>,
    each: impl Fn(&V) -> usize,
) -> usize {
    map(m) + m.iter().map(|(k, v)| k.capacity() + each(v)).sum::<usize>()
}

/// The bytes of a vector's allocation.
pub(crate) fn vec<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// The bytes of a string's allocation.
pub(crate) fn string(s: &String) -> usize {
    s.capacity()
}

/// The bytes of an optional string's allocation.
pub(crate) fn opt_string(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, string)
}

/// The bytes `f` made `x` grow by, as `measure` gives them (0 if it shrank).
pub(crate) fn grown<T>(x: &mut T, measure: impl Fn(&T) -> usize, f: impl FnOnce(&mut T)) -> usize {
    let before = measure(x);
    f(x);
    measure(x).saturating_sub(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maps_bytes_follow_its_capacity() {
        let mut m: std::collections::HashMap<u64, u64> = Default::default();
        assert_eq!(map(&m), 0);
        m.insert(1, 1);
        assert_eq!(m.capacity(), 3);
        assert_eq!(map(&m), 4 * 17 + 16);
        for i in 0..100 {
            m.insert(i, i);
        }
        // 128 buckets hold 112.
        assert_eq!(m.capacity(), 112);
        assert_eq!(map(&m), 128 * 17 + 16);
        let built: std::collections::HashMap<u64, u64> =
            std::collections::HashMap::with_capacity(100);
        assert_eq!(map_for::<u64, u64>(100), map(&built));
        for n in [1, 3, 4, 7, 8, 14, 15, 1000] {
            let built: std::collections::HashMap<u64, u64> =
                std::collections::HashMap::with_capacity(n);
            assert_eq!(map_for::<u64, u64>(n), map(&built), "{n} entries");
        }
    }
}
