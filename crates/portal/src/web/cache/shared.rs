//! Query results that are the same for every visitor, kept between writes: a page of post
//! cards, the tag list, a post with its comments, tags and images.
//!
//! A member's page cannot come from the page cache (it names the member and carries their
//! CSRF token), but most of what it shows is what every other visitor sees. Reading that
//! from the database costs a hop to a connection's thread and back per query, and the hops,
//! not the SQL, were most of a member page's time (BENCHMARKS.md, issue 19.1). Kept here, a
//! member's page is rendered from memory; only the visitor's own parts are theirs.
//!
//! The rules are the page cache's, so nothing here is newer or older than an anonymous page:
//! - every value is forgotten by the same writes ([`crate::AppState::invalidate_pages`]), on
//!   this instance and, on PostgreSQL, on the others; a value read while a write happened is
//!   not kept (generations), and values expire after [`super::store::TTL_SECS`];
//! - what depends on who asks is never kept here: whether a hidden post or a data post may be
//!   shown is decided for each request from the kept rows and the visitor.
//!
//! Memory is bounded in bytes by the same segmented LRU as the pages, with its own budget of
//! the page cache's size.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use super::store::{Cost, Limits, Store};

/// Heap bytes a kept value holds, roughly (strings and vectors; small fixed parts ignored).
pub trait Weigh {
    fn weigh(&self) -> usize;
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    fn weigh(&self) -> usize {
        self.as_ref().map_or(0, Weigh::weigh)
    }
}

impl<T: Weigh> Weigh for Vec<T> {
    fn weigh(&self) -> usize {
        self.iter()
            .map(|v| v.weigh() + std::mem::size_of::<T>())
            .sum()
    }
}

impl<A: Weigh, B: Weigh> Weigh for (A, B) {
    fn weigh(&self) -> usize {
        self.0.weigh() + self.1.weigh()
    }
}

impl Weigh for bool {
    fn weigh(&self) -> usize {
        0
    }
}

/// One kept value of any type; its key says which.
struct Kept {
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

impl Cost for Kept {
    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The kept query results (see the module docs).
pub struct SharedReads {
    store: Store<Kept>,
    enabled: bool,
}

impl SharedReads {
    /// `enabled` false reads the database every time (the page cache switched off).
    pub(crate) fn new(limits: Limits, enabled: bool) -> SharedReads {
        SharedReads {
            store: Store::new(limits),
            enabled,
        }
    }

    /// The value under `key`, or what `load` reads, kept for the next visitor. Each key must
    /// always name values of one type (its prefix says which query it is).
    pub async fn get_or_load<T, E, Fut>(
        &self,
        key: &str,
        now: i64,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, E>
    where
        T: Weigh + Send + Sync + 'static,
        Fut: Future<Output = Result<T, E>>,
    {
        if !self.enabled {
            return load().await.map(Arc::new);
        }
        if let Some(kept) = self.store.get(key, now)
            && let Ok(value) = kept.value.clone().downcast::<T>()
        {
            return Ok(value);
        }
        // Read before the query: a write that lands while it runs makes the result unkept.
        let generation = self.store.generation();
        let value = Arc::new(load().await?);
        let kept = Kept {
            value: value.clone(),
            bytes: value.weigh(),
        };
        self.store.put(key, generation, now, Arc::new(kept));
        Ok(value)
    }

    /// Forgets everything (a write).
    pub(crate) fn invalidate(&self) {
        self.store.invalidate();
    }

    #[cfg(test)]
    fn stats(&self) -> super::store::CacheStats {
        self.store.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads() -> SharedReads {
        SharedReads::new(
            Limits {
                max_bytes: 64 * 1024,
                max_entry_bytes: 16 * 1024,
                ttl_secs: 60,
            },
            true,
        )
    }

    async fn load(n: &std::sync::atomic::AtomicUsize, v: &str) -> Result<String, ()> {
        n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(v.to_string())
    }

    #[tokio::test]
    async fn a_value_is_read_once_until_a_write() {
        let r = reads();
        let n = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..3 {
            let v: Arc<String> = r.get_or_load("k", 0, || load(&n, "a")).await.unwrap();
            assert_eq!(*v, "a");
        }
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
        r.invalidate();
        let v: Arc<String> = r.get_or_load("k", 0, || load(&n, "b")).await.unwrap();
        assert_eq!(*v, "b", "read again after the write");
        let v: Arc<String> = r.get_or_load("k", 61, || load(&n, "c")).await.unwrap();
        assert_eq!(*v, "c", "and after the time to live");
    }

    #[tokio::test]
    async fn a_value_read_while_a_write_happened_is_not_kept() {
        let r = reads();
        let n = std::sync::atomic::AtomicUsize::new(0);
        let v: Arc<String> = r
            .get_or_load("k", 0, || async {
                r.invalidate();
                load(&n, "old").await
            })
            .await
            .unwrap();
        assert_eq!(*v, "old", "the reader gets what it read");
        let v: Arc<String> = r.get_or_load("k", 0, || load(&n, "new")).await.unwrap();
        assert_eq!(*v, "new", "but the next one reads again");
    }

    #[tokio::test]
    async fn errors_and_big_values_are_not_kept() {
        let r = reads();
        let e: Result<Arc<String>, &str> = r.get_or_load("k", 0, || async { Err("down") }).await;
        assert!(e.is_err());
        let big = "x".repeat(20 * 1024);
        let n = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..2 {
            let _: Arc<String> = r.get_or_load("big", 0, || load(&n, &big)).await.unwrap();
        }
        assert_eq!(
            n.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "over the entry cap"
        );
        assert_eq!(r.stats().entries, 0);
    }

    #[tokio::test]
    async fn switched_off_it_reads_every_time() {
        let r = SharedReads::new(
            Limits {
                max_bytes: 1 << 20,
                max_entry_bytes: 1 << 20,
                ttl_secs: 60,
            },
            false,
        );
        let n = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..2 {
            let _: Arc<String> = r.get_or_load("k", 0, || load(&n, "a")).await.unwrap();
        }
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
