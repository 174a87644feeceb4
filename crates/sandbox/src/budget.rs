//! The budget of the job a thread works for: its deadline, its memory limit, whether it
//! was cancelled, and the bytes it holds (counted by [`crate::alloc`]).
//!
//! A job runs in a *slot*: a numbered set of counters that the executor's thread for that
//! slot (and every thread its runtime starts) points at through a thread-local. Code that
//! does work for a job needs no handle: [`check`] finds the slot of the calling thread.
//! On a thread outside every slot (the web server's, a test's, the command line's when
//! it runs without an executor) every check passes, so library code can call it freely.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How many slots a process can ever use (threads of executors, replacements included).
pub const MAX_SLOTS: usize = 256;

/// The limits of one job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobLimits {
    /// Wall time from the job's start (not its wait in the queue) to its end.
    pub time: Duration,
    /// Bytes the job's threads may hold at once.
    pub memory: usize,
}

/// Why a job must stop. The messages speak to the person who started the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error(
        "it ran longer than its time limit of {}: narrow it with a filter, or aggregate earlier",
        seconds(*limit)
    )]
    Time { limit: Duration },
    #[error(
        "it needed more than its memory limit of {}: aggregate more, or select fewer columns or rows",
        bytes(*limit)
    )]
    Memory { limit: u64, needed: u64 },
    #[error("it was cancelled because the request that started it ended")]
    Cancelled,
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// Bytes for people: `512 MiB`, `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A slot's counters. Everything is atomic: the slot's threads read it, the executor and
/// the job's waiter write it.
struct Slot {
    /// Bytes held (may dip below zero when the job frees memory it did not allocate).
    used: AtomicI64,
    peak: AtomicI64,
    /// 0: no limit.
    limit: AtomicU64,
    /// Nanoseconds after [`epoch`]; 0: no deadline.
    deadline: AtomicU64,
    time_limit_ms: AtomicU64,
    /// Bumped when a job starts; a cancellation names the generation it cancels.
    generation: AtomicU64,
    cancelled: AtomicU64,
    active: AtomicBool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            used: AtomicI64::new(0),
            peak: AtomicI64::new(0),
            limit: AtomicU64::new(0),
            deadline: AtomicU64::new(0),
            time_limit_ms: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            cancelled: AtomicU64::new(u64::MAX),
            active: AtomicBool::new(false),
        }
    }
}

static SLOTS: [Slot; MAX_SLOTS] = [const { Slot::new() }; MAX_SLOTS];
static NEXT_SLOT: AtomicU32 = AtomicU32::new(1);

thread_local! {
    // Const-initialised and without a destructor: safe to read from the allocator.
    static CURRENT: Cell<u32> = const { Cell::new(0) };
    static EXECUTOR: Cell<bool> = const { Cell::new(false) };
}

/// A slot's number (never 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotId(u32);

impl SlotId {
    pub fn index(self) -> u32 {
        self.0
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// A new slot, or `None` when the process used all [`MAX_SLOTS`].
pub fn claim_slot() -> Option<SlotId> {
    let n = NEXT_SLOT.fetch_add(1, Relaxed);
    ((n as usize) < MAX_SLOTS).then_some(SlotId(n))
}

/// Makes the calling thread work for `slot`: its allocations count there and
/// [`check`] reads that slot's budget.
pub fn enter(slot: SlotId) {
    let _ = CURRENT.try_with(|c| c.set(slot.0));
    let _ = EXECUTOR.try_with(|c| c.set(true));
}

/// The slot of the calling thread.
pub fn current() -> Option<SlotId> {
    let n = CURRENT.try_with(Cell::get).unwrap_or(0);
    (n != 0).then_some(SlotId(n))
}

/// True on a thread of an executor (the place where member work must run).
pub fn on_executor() -> bool {
    EXECUTOR.try_with(Cell::get).unwrap_or(false)
}

/// Adds `delta` bytes to the calling thread's slot (called by the allocator).
#[inline]
pub(crate) fn charge(delta: isize) {
    let n = CURRENT.try_with(Cell::get).unwrap_or(0);
    if n != 0 {
        SLOTS[n as usize].used.fetch_add(delta as i64, Relaxed);
    }
}

/// Starts a job in `slot`: counters reset, limits set. Returns the job's generation.
pub fn begin(slot: SlotId, limits: &JobLimits) -> u64 {
    let s = &SLOTS[slot.0 as usize];
    s.used.store(0, Relaxed);
    s.peak.store(0, Relaxed);
    s.limit.store(limits.memory as u64, Relaxed);
    s.time_limit_ms
        .store(limits.time.as_millis() as u64, Relaxed);
    s.deadline.store(
        now_ns().saturating_add(limits.time.as_nanos() as u64),
        Relaxed,
    );
    let generation = s.generation.fetch_add(1, Relaxed) + 1;
    s.active.store(true, Relaxed);
    generation
}

/// Ends the job in `slot`; returns its peak memory as far as checks saw it.
pub fn end(slot: SlotId) -> u64 {
    let s = &SLOTS[slot.0 as usize];
    s.active.store(false, Relaxed);
    s.deadline.store(0, Relaxed);
    s.peak.load(Relaxed).max(0) as u64
}

/// Cancels the job of `generation` in `slot` (a later job there is not affected).
pub fn cancel(slot: SlotId, generation: u64) {
    SLOTS[slot.0 as usize].cancelled.store(generation, Relaxed);
}

/// Bytes the slot's threads hold now.
pub fn used(slot: SlotId) -> i64 {
    SLOTS[slot.0 as usize].used.load(Relaxed)
}

/// The job's deadline has passed (for the watchdog).
pub(crate) fn overdue(slot: SlotId, by: Duration) -> bool {
    let s = &SLOTS[slot.0 as usize];
    let d = s.deadline.load(Relaxed);
    s.active.load(Relaxed) && d != 0 && now_ns() > d.saturating_add(by.as_nanos() as u64)
}

/// Fails when the calling thread's job must stop. Passes outside every job.
pub fn check() -> Result<(), Exceeded> {
    ensure_room(0)
}

/// Like [`check`], and also fails when allocating `bytes` more would cross the job's
/// memory limit: called before a step that knows how much it is about to allocate.
pub fn ensure_room(bytes: usize) -> Result<(), Exceeded> {
    let Some(slot) = current() else {
        return Ok(());
    };
    let s = &SLOTS[slot.0 as usize];
    if !s.active.load(Relaxed) {
        return Ok(());
    }
    if s.cancelled.load(Relaxed) == s.generation.load(Relaxed) {
        return Err(Exceeded::Cancelled);
    }
    let deadline = s.deadline.load(Relaxed);
    if deadline != 0 && now_ns() > deadline {
        return Err(Exceeded::Time {
            limit: Duration::from_millis(s.time_limit_ms.load(Relaxed)),
        });
    }
    let used = s.used.load(Relaxed);
    s.peak.fetch_max(used, Relaxed);
    let limit = s.limit.load(Relaxed);
    let needed = used.max(0) as u64 + bytes as u64;
    if limit != 0 && needed > limit {
        return Err(Exceeded::Memory { limit, needed });
    }
    Ok(())
}

/// Time left before the calling thread's job must end (`None` outside jobs).
pub fn remaining() -> Option<Duration> {
    let s = &SLOTS[current()?.0 as usize];
    let d = s.deadline.load(Relaxed);
    (s.active.load(Relaxed) && d != 0).then(|| Duration::from_nanos(d.saturating_sub(now_ns())))
}

/// `bytes` produced by the job leave it (sent to the client, freed by another thread):
/// they no longer count against its limit.
pub fn hand_off(bytes: usize) {
    if let Some(slot) = current() {
        SLOTS[slot.0 as usize].used.fetch_sub(bytes as i64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_outside_jobs_and_fail_past_limits() {
        assert!(check().is_ok(), "no slot on this thread");
        let slot = claim_slot().unwrap();
        std::thread::spawn(move || {
            enter(slot);
            assert!(on_executor());
            let generation = begin(
                slot,
                &JobLimits {
                    time: Duration::from_millis(200),
                    memory: 4 << 20,
                },
            );
            assert!(check().is_ok());
            assert!(matches!(
                ensure_room(8 << 20),
                Err(Exceeded::Memory { limit, .. }) if limit == 4 << 20
            ));
            let big: Vec<u8> = vec![1; 5 << 20];
            assert!(matches!(check(), Err(Exceeded::Memory { .. })));
            hand_off(big.len());
            assert!(check().is_ok(), "handed off: no longer the job's");
            // Leaked on purpose: freeing it would credit the job with bytes it no longer owns.
            let _handed: &'static mut [u8] = big.leak();
            cancel(slot, generation);
            assert_eq!(check(), Err(Exceeded::Cancelled));
            let generation = begin(
                slot,
                &JobLimits {
                    time: Duration::from_millis(50),
                    memory: 4 << 20,
                },
            );
            assert!(
                check().is_ok(),
                "a new job is not the cancelled one ({generation})"
            );
            std::thread::sleep(Duration::from_millis(80));
            let e = check().unwrap_err();
            assert!(matches!(e, Exceeded::Time { .. }));
            assert!(e.to_string().contains("time limit of 0.1 s"), "{e}");
            end(slot);
            assert!(check().is_ok(), "no job: nothing to enforce");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(bytes(512 << 20), "512 MiB");
        assert_eq!(bytes(1536 << 20), "1.5 GiB");
        assert_eq!(bytes(100), "100 bytes");
    }
}
