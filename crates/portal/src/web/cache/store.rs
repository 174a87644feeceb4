//! What the caches hold (whole anonymous pages, and the query results every visitor shares),
//! bounded in bytes, evicted least recently used first.
//!
//! The store is a segmented LRU: a page enters *probation*; when it is asked for again it
//! moves to the *protected* segment (at most [`PROTECTED_SHARE`] of the bytes). Eviction takes
//! the least recently used page of probation first. A flood of pages nobody asks for twice
//! (every `?page=N`, every post id) therefore only churns probation; the front page and the
//! posts people actually read stay. Nothing a visitor sends can clear the store: only a
//! member's write does ([`PageCache::invalidate`]), because every page may show it.
//!
//! Entries also expire after `ttl_secs` (changes made by another process, such as
//! `secviz user`), and a page rendered while a write happened is not kept (generations).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::HeaderMap;

use crate::config::Config;

/// Seconds a kept page is served (changes made by another process show within this time).
pub const TTL_SECS: i64 = 60;

/// Share of the bytes that pages asked for more than once may hold, in percent.
pub const PROTECTED_SHARE: usize = 80;

/// What an entry costs beyond its key, headers and body (map slots, ordering, counters).
const ENTRY_OVERHEAD: usize = 256;

/// How much the store may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// All entries together, in bytes.
    pub max_bytes: usize,
    /// One entry, in bytes; bigger pages are not kept.
    pub max_entry_bytes: usize,
    /// An entry older than this many seconds is not served.
    pub ttl_secs: i64,
}

impl Limits {
    /// The store's limits from the configuration.
    pub fn from_config(config: &Config) -> Limits {
        Limits {
            max_bytes: config.page_cache_bytes,
            max_entry_bytes: config.page_cache_entry_bytes,
            ttl_secs: TTL_SECS,
        }
    }
}

/// What a kept value costs in memory, roughly: the heap bytes it holds.
pub trait Cost {
    fn bytes(&self) -> usize;
}

/// One page as the handler answered it: its headers and its body (the status is always 200).
#[derive(Debug)]
pub struct CachedPage {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Cost for CachedPage {
    fn bytes(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 16)
            .sum();
        self.body.len() + headers
    }
}

/// Bytes `value` costs in the store under `key`.
fn cost(key: &str, value: &impl Cost) -> usize {
    // The key is kept twice: in the map and in the recency order.
    value.bytes() + 2 * key.len() + ENTRY_OVERHEAD
}

/// Counters for operators and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    pub bytes: usize,
    pub max_bytes: usize,
    pub hits: u64,
    pub misses: u64,
}

/// The anonymous page cache (see the module docs).
pub type PageCache = Store<CachedPage>;

/// Values under string keys, bounded in bytes, all forgotten at once by a write.
pub struct Store<V> {
    limits: Limits,
    generation: AtomicU64,
    lru: Mutex<Lru<V>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Probation = 0,
    Protected = 1,
}

struct Entry<V> {
    value: Arc<V>,
    generation: u64,
    stored_at: i64,
    bytes: usize,
    segment: Segment,
    /// Position in its segment's recency order.
    tick: u64,
}

struct Lru<V> {
    map: HashMap<String, Entry<V>>,
    /// Per segment: tick → key, oldest first.
    order: [BTreeMap<u64, String>; 2],
    /// Per segment: bytes held.
    used: [usize; 2],
    tick: u64,
}

impl<V> Default for Lru<V> {
    fn default() -> Self {
        Lru {
            map: HashMap::new(),
            order: Default::default(),
            used: [0; 2],
            tick: 0,
        }
    }
}

impl<V> Lru<V> {
    fn total(&self) -> usize {
        self.used[0] + self.used[1]
    }

    fn remove(&mut self, key: &str) {
        if let Some(e) = self.map.remove(key) {
            self.order[e.segment as usize].remove(&e.tick);
            self.used[e.segment as usize] -= e.bytes;
        }
    }

    /// Inserts or moves `key` to the most recently used end of `segment`.
    fn place(&mut self, key: &str, segment: Segment) {
        self.tick += 1;
        let tick = self.tick;
        let Some(e) = self.map.get_mut(key) else {
            return;
        };
        if self.order[e.segment as usize].remove(&e.tick).is_some() {
            self.used[e.segment as usize] -= e.bytes;
        }
        e.segment = segment;
        e.tick = tick;
        self.used[segment as usize] += e.bytes;
        self.order[segment as usize].insert(tick, key.to_string());
    }

    fn oldest(&self, segment: Segment) -> Option<String> {
        self.order[segment as usize]
            .first_key_value()
            .map(|(_, k)| k.clone())
    }

    /// Demotes protected pages beyond their share, then evicts (probation first) until the
    /// whole fits.
    fn fit(&mut self, limits: &Limits) {
        let protected_max = limits.max_bytes / 100 * PROTECTED_SHARE;
        while self.used[Segment::Protected as usize] > protected_max {
            let Some(k) = self.oldest(Segment::Protected) else {
                break;
            };
            self.place(&k, Segment::Probation);
        }
        while self.total() > limits.max_bytes {
            let Some(k) = self
                .oldest(Segment::Probation)
                .or_else(|| self.oldest(Segment::Protected))
            else {
                break;
            };
            self.remove(&k);
        }
    }
}

impl<V: Cost> Store<V> {
    pub(crate) fn new(limits: Limits) -> Store<V> {
        Store {
            limits,
            generation: AtomicU64::new(0),
            lru: Mutex::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru<V>> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current generation; pass it to [`Store::put`] for a value made from now on.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forgets everything: a member wrote something that any page may show.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // Freed after the lock is released: dropping megabytes of pages takes a moment.
        let forgotten = std::mem::take(&mut *self.lock());
        drop(forgotten);
    }

    /// The value under `key`, if fresh; counts a hit or a miss.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<Arc<V>> {
        let generation = self.generation();
        let mut lru = self.lock();
        let found = lru.map.get(key).map(|e| {
            let fresh = e.generation == generation && now - e.stored_at < self.limits.ttl_secs;
            (fresh, e.value.clone())
        });
        match found {
            Some((true, page)) => {
                lru.place(key, Segment::Protected);
                lru.fit(&self.limits);
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(page)
            }
            Some((false, _)) => {
                lru.remove(key);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `value` under `key` unless it is too big or a write happened since `generation`
    /// was read (the value may predate it). True when kept.
    pub(crate) fn put(&self, key: &str, generation: u64, now: i64, value: Arc<V>) -> bool {
        let bytes = cost(key, &*value);
        if bytes > self.limits.max_entry_bytes || bytes > self.limits.max_bytes {
            return false;
        }
        let mut lru = self.lock();
        // Read under the lock: `invalidate` bumps, then clears under the same lock.
        if self.generation() != generation {
            return false;
        }
        lru.remove(key);
        lru.map.insert(
            key.to_string(),
            Entry {
                value,
                generation,
                stored_at: now,
                bytes,
                segment: Segment::Probation,
                tick: 0,
            },
        );
        lru.place(key, Segment::Probation);
        lru.fit(&self.limits);
        lru.map.contains_key(key)
    }

    pub fn stats(&self) -> CacheStats {
        let lru = self.lock();
        CacheStats {
            entries: lru.map.len(),
            bytes: lru.total(),
            max_bytes: self.limits.max_bytes,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: i64 = 60;

    fn cache(max_bytes: usize) -> PageCache {
        PageCache::new(Limits {
            max_bytes,
            max_entry_bytes: max_bytes,
            ttl_secs: TTL,
        })
    }

    fn page(n: usize) -> Arc<CachedPage> {
        Arc::new(CachedPage {
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; n]),
        })
    }

    #[test]
    fn writes_invalidate_and_time_expires() {
        let c = cache(1 << 20);
        assert!(c.put("/", 0, 100, page(1)));
        assert!(c.get("/", 110).is_some());
        assert!(c.get("/", 100 + TTL).is_none(), "expired");
        assert!(c.put("/", 0, 100, page(1)));
        c.invalidate();
        assert!(c.get("/", 101).is_none(), "a write happened since");
        assert_eq!(c.stats().bytes, 0, "and the memory is free");
        assert!(
            !c.put("/", 0, 101, page(1)),
            "a page rendered before the write is not kept"
        );
    }

    #[test]
    fn bytes_stay_under_the_bound() {
        let c = cache(64 * 1024);
        for i in 0..1000 {
            c.put(&format!("/?page={i}"), 0, 0, page(1000 + i));
            let s = c.stats();
            assert!(s.bytes <= s.max_bytes, "{s:?}");
        }
        assert!(c.stats().entries > 10);
        let big = PageCache::new(Limits {
            max_bytes: 1 << 20,
            max_entry_bytes: 4096,
            ttl_secs: TTL,
        });
        assert!(!big.put("/big", 0, 0, page(5000)), "over the entry cap");
        assert!(big.put("/small", 0, 0, page(3000)));
    }

    #[test]
    fn a_flood_of_new_pages_keeps_the_pages_people_read() {
        let c = cache(64 * 1024);
        for hot in ["/", "/gallery", "/p/1"] {
            c.put(hot, 0, 0, page(4000));
            assert!(c.get(hot, 1).is_some());
        }
        for i in 0..10_000 {
            c.put(&format!("/?page={i}"), 0, 0, page(2000));
        }
        for hot in ["/", "/gallery", "/p/1"] {
            assert!(c.get(hot, 2).is_some(), "{hot} survived the flood");
        }
        assert!(c.stats().bytes <= 64 * 1024);
    }

    #[test]
    fn protected_pages_beyond_their_share_go_back_to_probation() {
        let c = cache(100 * 1024);
        for i in 0..40 {
            let k = format!("/p/{i}");
            c.put(&k, 0, 0, page(3000));
            c.get(&k, 0);
        }
        let s = c.stats();
        assert!(s.bytes <= s.max_bytes, "{s:?}");
        assert!(c.get("/p/39", 0).is_some(), "the most recent stays");
        assert!(c.get("/p/0", 0).is_none(), "the oldest made room");
    }
}
