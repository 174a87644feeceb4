//! Admission to password hashing. One argon2id computation holds 19 MiB and a core for a
//! fraction of a second; two hundred concurrent log-ins computed at once would hold gigabytes.
//! So hashing (log-in, sign-up, password change, reset) runs on a bounded pool: `workers`
//! threads of its own, at most `queue` more hashes waiting their turn, and anything beyond is
//! refused at once ([`Busy`]: the handler answers 429 with `Retry-After`).
//!
//! The threads are the pool's own, not tokio's blocking threads: an allocator keeps the
//! memory a thread freed for that thread's next use, so hashes spread over many short-lived
//! blocking threads would each leave 19 MiB behind; on `workers` long-lived threads the
//! resident memory stays at about `workers` × 19 MiB whatever the load.
//!
//! A [`HashTicket`] is the right to hash once; [`crate::auth`] takes it by value, so every
//! hash goes through the pool. A queued hash keeps its place until it has run, so a visitor
//! who hangs up does not free a slot while their hash still waits or runs.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a refused visitor is told to wait (`Retry-After`): a queue of hashes drains in
/// about a second.
pub const RETRY_AFTER_SECS: u32 = 2;

type Job = Box<dyn FnOnce() + Send>;

/// The pool: its threads and the places for hashes running or waiting.
#[derive(Clone)]
pub struct HashPool {
    /// Permits for hashes running or waiting (workers + queue).
    admitted: Arc<Semaphore>,
    /// The queue the threads take hashes from; they end when the last pool handle is dropped.
    jobs: mpsc::Sender<Job>,
}

/// Every worker is busy and the queue is full: try again in [`RETRY_AFTER_SECS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// A place in the pool (running or queued), good for one hash.
pub struct HashTicket {
    admitted: OwnedSemaphorePermit,
    jobs: mpsc::Sender<Job>,
}

impl HashPool {
    /// `workers` threads (at least one) and `queue` more hashes waiting.
    pub fn new(workers: usize, queue: usize) -> HashPool {
        let workers = workers.max(1);
        let (jobs, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("secviz-hash-{i}"))
                .spawn(move || {
                    // Anyone can ask for a hash (a log-in attempt): below the threads that
                    // serve pages, above members' queries.
                    secviz_sandbox::priority::lower_current(5);
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            // A panicking hash fails its request (its result never comes),
                            // not the thread.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                // Fewer threads only means a slower pool; with none, `run` reports the error.
                tracing::error!(error = %e, "starting a password-hashing thread failed");
            }
        }
        HashPool {
            admitted: Arc::new(Semaphore::new(workers + queue)),
            jobs,
        }
    }

    /// A ticket, or [`Busy`] without waiting when the pool and its queue are full.
    pub fn admit(&self) -> Result<HashTicket, Busy> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        Ok(HashTicket {
            admitted,
            jobs: self.jobs.clone(),
        })
    }
}

impl HashTicket {
    /// Runs `work` on one of the pool's threads when one is free, and waits for its result.
    /// The place is held until `work` has returned, even if the caller stops waiting.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let admitted = self.admitted;
        let job: Job = Box::new(move || {
            let out = work();
            drop(admitted);
            let _ = tx.send(out);
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password-hashing threads are gone"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("a password-hashing thread stopped mid-hash"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_workers_plus_queue_then_refuses() {
        let pool = HashPool::new(2, 3);
        let tickets: Vec<_> = (0..5).map(|_| pool.admit().expect("room")).collect();
        assert_eq!(pool.admit().err(), Some(Busy));
        drop(tickets);
        assert!(pool.admit().is_ok(), "unused tickets give their place back");
    }

    #[tokio::test]
    async fn a_panicking_hash_fails_alone() {
        let pool = HashPool::new(1, 1);
        let failed = pool.admit().unwrap().run(|| panic!("boom")).await;
        assert!(failed.is_err());
        let ok = pool.admit().unwrap().run(|| 7).await.unwrap();
        assert_eq!(ok, 7, "the thread lives on");
        let both = (pool.admit(), pool.admit());
        assert!(both.0.is_ok() && both.1.is_ok(), "places given back");
    }

    #[tokio::test]
    async fn at_most_workers_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = HashPool::new(2, 10);
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let t = pool.admit().unwrap();
            let (now, peak) = (now.clone(), peak.clone());
            tasks.push(tokio::spawn(t.run(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                now.fetch_sub(1, Ordering::SeqCst);
            })));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert!(pool.admit().is_ok());
    }
}
