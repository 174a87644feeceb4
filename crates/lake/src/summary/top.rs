//! The most queried DNS names, in bounded space: a mergeable Misra–Gries summary (Agarwal
//! et al., "Mergeable summaries", 2012) that also counts each kept name exactly from the
//! moment it was kept.
//!
//! Why: a dataset's distinct query names grow with its DNS tunnels and made-up names (1.4 M
//! in 100 M queries of the benchmark), and the DNS overview only shows the most queried.
//! Keeping every name made the summaries of such a dataset 4× larger and the overview read
//! 30 MB of names to show ten of them.
//!
//! What holds, for every name, with `N` queries summarised and `k` = [`TOP_NAMES`]:
//! - a kept name's true count lies in `[queries, queries + missed]` ([`NameCount`]), and
//!   `missed` is 0 for a name kept since the first query of every file it was queried in:
//!   the busy names are exact;
//! - a name not kept was queried at most [`TopNames::absent_at_most`] times, which is at
//!   most `N / (k + 1)`: every name queried more often than that is kept;
//! - at most `2 k` names are held, whatever `N`.

use serde::{Deserialize, Serialize};

use super::{HashMap, footprint};

/// How many names a table keeps after it is reduced; it holds at most twice as many.
pub const TOP_NAMES: usize = 4096;

/// One kept name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCount {
    /// Its queries counted since it was kept: a lower bound of its true count.
    pub queries: u64,
    /// How many queries it may have had before it was kept (0: `queries` is exact).
    pub missed: u64,
    /// The Misra–Gries counter that decides which names stay: `queries` less what the
    /// reductions took off while it was kept.
    counter: u64,
}

/// Queries per name (lower case, trailing dots trimmed), the most queried kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopNames {
    names: HashMap<String, NameCount>,
    /// The sum of what the reductions took off each counter: a name not kept was queried
    /// at most this often.
    reduced: u64,
}

impl TopNames {
    /// The names kept.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every count exact, every name queried kept: nothing was ever reduced.
    pub fn is_exact(&self) -> bool {
        self.reduced == 0
    }

    /// The most a name that is not kept may have been queried.
    pub fn absent_at_most(&self) -> u64 {
        self.reduced
    }

    pub fn get(&self, name: &str) -> Option<&NameCount> {
        self.names.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &NameCount)> {
        self.names.iter()
    }

    /// Counts a query of `name`. Returns whether a name was added (`Some(true)`), or the
    /// table was reduced (`None`: what it holds must be measured again).
    pub fn count(&mut self, name: &str) -> Option<bool> {
        self.count_within(name, TOP_NAMES)
    }

    fn count_within(&mut self, name: &str, keep: usize) -> Option<bool> {
        if let Some(n) = self.names.get_mut(name) {
            n.queries += 1;
            n.counter += 1;
            return Some(false);
        }
        self.names.insert(
            name.to_string(),
            NameCount {
                queries: 1,
                missed: self.reduced,
                counter: 1,
            },
        );
        if self.names.len() > 2 * keep {
            self.reduce(keep);
            return None;
        }
        Some(true)
    }

    /// The counts of both tables: a name kept in only one may have had, in the other, as
    /// many queries as that one's names not kept.
    pub fn merge(&mut self, other: &TopNames) {
        self.merge_within(other, TOP_NAMES);
    }

    fn merge_within(&mut self, other: &TopNames, keep: usize) {
        for (name, n) in self.names.iter_mut() {
            if !other.names.contains_key(name) {
                n.missed += other.reduced;
            }
        }
        for (name, o) in &other.names {
            match self.names.get_mut(name) {
                Some(n) => {
                    n.queries += o.queries;
                    n.missed += o.missed;
                    n.counter += o.counter;
                }
                None => {
                    let mut o = *o;
                    o.missed += self.reduced;
                    self.names.insert(name.clone(), o);
                }
            }
        }
        self.reduced += other.reduced;
        if self.names.len() > 2 * keep {
            self.reduce(keep);
        }
    }

    /// Misra–Gries's step: takes the `keep + 1`-th largest counter off every counter and
    /// drops the names left at zero, so at most `keep` stay. Every counter taken off was
    /// one of `keep + 1` or more equal parts of the queries counted, so `reduced` stays at
    /// most `N / (keep + 1)`.
    fn reduce(&mut self, keep: usize) {
        if self.names.len() <= keep {
            return;
        }
        let mut counters: Vec<u64> = self.names.values().map(|n| n.counter).collect();
        let (_, cut, _) = counters.select_nth_unstable_by(keep, |a, b| b.cmp(a));
        let cut = *cut;
        self.names.retain(|_, n| {
            n.counter = n.counter.saturating_sub(cut);
            n.counter > 0
        });
        self.reduced += cut;
    }

    /// The first `limit` names by queries counted, then by name.
    pub fn top(&self, limit: usize) -> Vec<(String, NameCount)> {
        first_by_count(&self.names, limit, |n| n.queries)
    }

    /// Exact counts, as format 4 kept every name: reduced if there are too many.
    pub(crate) fn from_exact(counts: HashMap<String, u64>) -> TopNames {
        let mut t = TopNames {
            names: counts
                .into_iter()
                .map(|(k, q)| {
                    let n = NameCount {
                        queries: q,
                        missed: 0,
                        counter: q,
                    };
                    (k, n)
                })
                .collect(),
            reduced: 0,
        };
        if t.names.len() > 2 * TOP_NAMES {
            t.reduce(TOP_NAMES);
        }
        t
    }

    /// Bytes held in memory: the map ([`footprint::map`]) and the names' characters.
    pub fn held_bytes(&self) -> usize {
        self.map_bytes() + self.names.keys().map(footprint::string).sum::<usize>()
    }

    /// The bytes of the map alone (without the names' characters).
    pub(crate) fn map_bytes(&self) -> usize {
        footprint::map(&self.names)
    }
}

/// The first `limit` entries by `count`, largest first, then by key. Selected, then
/// sorted: a DNS tunnel leaves a million names queried once, which a whole sort would order
/// for nothing.
pub(crate) fn first_by_count<'a, V: Copy + 'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a V)>,
    limit: usize,
    count: impl Fn(&V) -> u64,
) -> Vec<(String, V)> {
    let order = |a: &(&String, &V), b: &(&String, &V)| {
        count(b.1).cmp(&count(a.1)).then_with(|| a.0.cmp(b.0))
    };
    if limit == 0 {
        return Vec::new();
    }
    let mut all: Vec<(&String, &V)> = entries.into_iter().collect();
    if all.len() > limit {
        all.select_nth_unstable_by(limit - 1, order);
        all.truncate(limit);
    }
    all.sort_by(order);
    all.into_iter().map(|(k, v)| (k.clone(), *v)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A seeded stream of names: a few busy ones, a long tail of rare ones, and names seen
    /// once (a tunnel), interleaved.
    fn stream(seed: u64, n: usize) -> Vec<String> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        (0..n)
            .map(|i| {
                let r = next();
                match r % 10 {
                    0..=3 => format!("busy{}.example", r / 10 % 8),
                    4..=6 => format!(
                        "tail{}.example",
                        (r / 10 % 3000) * (r / 30_000 % 3000) / 3000
                    ),
                    _ => format!("t{seed}x{i}.tunnel.example"),
                }
            })
            .collect()
    }

    fn exact(names: &[String]) -> BTreeMap<&str, u64> {
        let mut m = BTreeMap::new();
        for n in names {
            *m.entry(n.as_str()).or_default() += 1;
        }
        m
    }

    /// Every name within its bounds, every name not kept at most the stated bound, and
    /// that bound within Misra–Gries's.
    fn assert_bounds(t: &TopNames, truth: &BTreeMap<&str, u64>, keep: usize) {
        let total: u64 = truth.values().sum();
        assert!(t.len() <= 2 * keep, "{} names held", t.len());
        assert!(
            t.absent_at_most() <= total / (keep as u64 + 1),
            "{} > {total} / {}",
            t.absent_at_most(),
            keep + 1
        );
        for (name, &true_count) in truth {
            match t.get(name) {
                Some(n) => {
                    assert!(n.queries <= true_count, "{name}: {n:?} for {true_count}");
                    assert!(
                        true_count <= n.queries + n.missed,
                        "{name}: {n:?} for {true_count}"
                    );
                    assert!(n.missed <= t.absent_at_most(), "{name}: {n:?}");
                }
                None => assert!(
                    true_count <= t.absent_at_most(),
                    "{name}: {true_count} not kept"
                ),
            }
        }
        for (name, _) in t.iter() {
            assert!(
                truth.contains_key(name.as_str()),
                "{name} was never queried"
            );
        }
    }

    #[test]
    fn few_names_are_counted_exactly() {
        let names = stream(1, 2_000);
        let mut t = TopNames::default();
        for n in &names {
            t.count_within(n, 4096);
        }
        assert!(t.is_exact());
        let truth = exact(&names);
        assert_eq!(t.len(), truth.len());
        for (name, n) in t.iter() {
            assert_eq!((n.queries, n.missed), (truth[name.as_str()], 0));
        }
    }

    #[test]
    fn many_names_stay_within_their_bounds_and_the_busy_ones_exact() {
        let keep = 64;
        let names = stream(2, 50_000);
        let mut t = TopNames::default();
        let mut reductions = 0;
        for n in &names {
            if t.count_within(n, keep).is_none() {
                reductions += 1;
            }
        }
        assert!(reductions > 10, "{reductions} reductions");
        let truth = exact(&names);
        assert_bounds(&t, &truth, keep);
        // The busy names were kept from their first query on: exact, and first.
        let top = t.top(8);
        for (name, n) in &top {
            assert!(name.starts_with("busy"), "{top:?}");
            assert_eq!((n.queries, n.missed), (truth[name.as_str()], 0), "{name}");
        }
    }

    #[test]
    fn merged_tables_stay_within_their_bounds_in_any_order() {
        let keep = 64;
        let parts: Vec<Vec<String>> = (10..16).map(|s| stream(s, 20_000)).collect();
        let tables: Vec<TopNames> = parts
            .iter()
            .map(|p| {
                let mut t = TopNames::default();
                for n in p {
                    t.count_within(n, keep);
                }
                t
            })
            .collect();
        let all: Vec<String> = parts.concat();
        let truth = exact(&all);
        // In order, in reverse, and as a tree of pairs.
        let mut forward = TopNames::default();
        for t in &tables {
            forward.merge_within(t, keep);
        }
        let mut backward = TopNames::default();
        for t in tables.iter().rev() {
            backward.merge_within(t, keep);
        }
        let mut pairs: Vec<TopNames> = tables
            .chunks(2)
            .map(|c| {
                let mut m = c[0].clone();
                m.merge_within(&c[1], keep);
                m
            })
            .collect();
        let mut tree = pairs.remove(0);
        for p in &pairs {
            tree.merge_within(p, keep);
        }
        for m in [&forward, &backward, &tree] {
            assert_bounds(m, &truth, keep);
            for (name, n) in m.top(8) {
                assert!(name.starts_with("busy"), "{name}");
                assert_eq!((n.queries, n.missed), (truth[name.as_str()], 0), "{name}");
            }
        }
        // Merging the empty table changes nothing.
        let mut same = forward.clone();
        same.merge_within(&TopNames::default(), keep);
        assert_eq!(same, forward);
    }

    #[test]
    fn exact_counts_of_an_older_summary_are_reduced_within_the_bound() {
        let names = stream(3, 60_000);
        let truth = exact(&names);
        assert!(truth.len() > 2 * TOP_NAMES, "{} names", truth.len());
        let counts: HashMap<String, u64> = truth.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let t = TopNames::from_exact(counts);
        assert!(!t.is_exact());
        assert_bounds(&t, &truth, TOP_NAMES);
        for (name, n) in t.top(8) {
            assert!(name.starts_with("busy"), "{name}");
            assert_eq!((n.queries, n.missed), (truth[name.as_str()], 0), "{name}");
        }
    }

    #[test]
    fn the_top_names_are_those_a_whole_sort_gives() {
        let names = stream(4, 5_000);
        let mut t = TopNames::default();
        for n in &names {
            t.count_within(n, 4096);
        }
        let mut all: Vec<(String, u64)> = t.iter().map(|(k, v)| (k.clone(), v.queries)).collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for limit in [0, 1, 3, 10, all.len(), all.len() + 5] {
            let got: Vec<(String, u64)> = t
                .top(limit)
                .into_iter()
                .map(|(k, v)| (k, v.queries))
                .collect();
            assert_eq!(got, all[..limit.min(all.len())], "limit {limit}");
        }
    }
}
