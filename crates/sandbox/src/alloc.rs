//! A global allocator that counts, per job slot, the bytes held by the threads working
//! for that slot.
//!
//! Why an allocator: DataFusion's memory pool only sees the operators that reserve from
//! it (sorts, joins, aggregations). A projection that builds strings, a function that
//! makes large arrays or the serializer of an answer allocate without asking, and a
//! member's query can grow the process by gigabytes that way. Counting every allocation
//! on a job's threads covers all of it.
//!
//! How: each thread carries the number of the slot it works for (0: none, the web
//! server's threads). Allocations and frees on a slot's threads add to and subtract from
//! that slot's counter. Memory allocated on one thread and freed on another moves the
//! counter of the thread that frees; the executor resets a slot's counter when a job
//! starts and subtracts what a job hands to other threads ([`crate::budget::hand_off`]),
//! so the counter is the job's own memory give or take what crosses threads, which is
//! small next to the limits it enforces.
//!
//! The allocator never fails an allocation itself (a failed allocation aborts a Rust
//! process): limits are enforced by [`crate::budget::check`] between steps of the work
//! and by [`crate::budget::ensure_room`] before a step known to allocate much.
//!
//! Under the counting sits jemalloc, set up to give what is freed back to the system
//! within half a second ([`MALLOC_CONF`]). Why not the system allocator: glibc keeps
//! freed small blocks in the heap of each thread that used them. After one large join
//! the server kept about 320 MiB it no longer used (four 64 MiB arenas of free chunks, seen
//! in /proc/PID/smaps), and the next member's job grew the process on top of that, so the
//! process went past the memory limit plus 256 MiB that members' work is allowed
//! (802 MiB for a 512 MiB limit in the hostile suite). With jemalloc purging after 500 ms,
//! the same run peaked at 567 MiB and went back to 146 MiB between jobs.
//! `malloc_trim` after each job would also give memory back, but holds each arena's lock
//! while it works, from a thread in the idle class that the web server's threads would
//! then wait on.

use std::alloc::{GlobalAlloc, Layout};

use tikv_jemallocator::Jemalloc as Inner;

use crate::budget;

/// jemalloc's options, read when it starts (before `main`): freed pages go back to the
/// system after 500 ms ("dirty"), at once once decayed ("muzzy"), and by a background
/// thread, so that a thread that stops allocating still returns what it freed. Blocks of
/// [`LARGE_BLOCK`] and more come from jemalloc's arena for large blocks, which returns
/// them as soon as they are freed: a job that grows its buffers (a string doubled batch
/// after batch) must not hold every buffer it outgrew for half a second (measured: 798 MiB
/// in the hostile suite's storm with jemalloc's default of 8 MiB, against its 768 MiB bound).
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: Option<&'static u8> = Some(
    &b"background_thread:true,dirty_decay_ms:500,muzzy_decay_ms:0,oversize_threshold:1048576\0"[0],
);

/// A job that held more than this gives what it freed back to the system when it ends
/// ([`give_back`]): below it, the decay above is soon enough.
pub const GIVE_BACK_AFTER: u64 = 32 << 20;

/// Returns every page that jemalloc holds freed to the system now, rather than within the
/// decay time. The executor calls it on a slot's thread when a large job ends, before the
/// answer goes out: the next job, often the same member's next query, must not find the
/// last one's memory still held (measured: a self-join's 300 MiB were still held when the
/// next query began 20 ms later, and that query's own memory came on top). jemalloc's
/// allocation paths never wait on the purge (they only try its lock), so the web server's
/// threads are not held up by it.
pub fn give_back() {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": all arenas.
    let name = c"arena.4096.purge";
    // SAFETY: a command without input or output; the name is a valid C string.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        tracing::warn!(rc, "could not give freed memory back to the system");
    }
}

/// The counting allocator over jemalloc.
pub struct CountingAlloc;

// SAFETY: every method forwards to `Inner` with the same arguments and only adds an
// atomic counter update on the side, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            budget::charge(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            budget::charge(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { Inner.dealloc(ptr, layout) };
        budget::charge(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            budget::charge(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Blocks this large are mapped on their own by glibc's allocator and given back to the
/// system when freed.
pub const LARGE_BLOCK: usize = 1 << 20;

/// Makes glibc's allocator, which the C libraries linked in still use (SQLite), map blocks
/// of [`LARGE_BLOCK`] and more on their own, so that what they free goes back to the
/// system at once (glibc raises its threshold for that as large blocks are freed, up to
/// 32 MiB). Rust's own allocations go through jemalloc (above).
pub fn return_large_blocks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: mallopt only sets allocator parameters.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK as i32);
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::budget::{self, JobLimits};
    use std::time::Duration;

    /// One of jemalloc's settings, by name (`mallctl`).
    fn jemalloc_option<T: Default>(name: &str) -> T {
        jemalloc_read(name).unwrap_or_else(|| panic!("mallctl {name:?}"))
    }

    /// A value jemalloc reports by name, or `None` when it answers with an error (a build
    /// without statistics has no "stats.*").
    fn jemalloc_read<T: Default>(name: &str) -> Option<T> {
        let mut value = T::default();
        let mut len = std::mem::size_of::<T>();
        let name = std::ffi::CString::new(name).unwrap();
        // SAFETY: `value` and `len` describe a buffer of the value's type and size; no new
        // value is written.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&mut value as *mut T).cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        (rc == 0).then_some(value)
    }

    /// jemalloc's own view, for a failure message: resident, active and retained MiB.
    fn jemalloc_stats() -> (Option<usize>, Option<usize>, Option<usize>) {
        // Statistics are refreshed by writing the epoch.
        let mut epoch = 1u64;
        // SAFETY: "epoch" takes a u64 in; nothing is read back.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                c"epoch".as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                (&mut epoch as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            );
        }
        let mib = |name: &str| jemalloc_read::<usize>(name).map(|v| v >> 20);
        (
            mib("stats.resident"),
            mib("stats.active"),
            mib("stats.retained"),
        )
    }

    fn rss_mib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb >> 10
    }

    #[test]
    fn give_back_returns_freed_memory_at_once() {
        // 256 MiB in blocks of 64 KiB, written so the pages are resident, then freed.
        let blocks: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8; 64 << 10]).collect();
        let held = rss_mib();
        let held_stats = jemalloc_stats();
        drop(blocks);
        // Without give_back, they would stay resident for the decay time (500 ms). On some
        // machines one purge now and then returns nothing (seen on 3 of 40 runs on one, on
        // none of the machines before it; the cause is not known): a purge every 20 ms for
        // at most 100 ms, a fifth of the decay time, in which decay alone returns little.
        let mut after = rss_mib();
        for _ in 0..5 {
            super::give_back();
            after = rss_mib();
            if after + 200 < held {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            after + 200 < held,
            "RSS {held} MiB with the blocks, {after} MiB after giving them back; jemalloc \
             (resident, active, retained, MiB) {held_stats:?} with them, {:?} after",
            jemalloc_stats()
        );
    }

    #[test]
    fn jemalloc_gives_freed_memory_back_as_configured() {
        assert_eq!(jemalloc_option::<isize>("opt.dirty_decay_ms"), 500);
        assert_eq!(jemalloc_option::<isize>("opt.muzzy_decay_ms"), 0);
        assert!(jemalloc_option::<bool>("opt.background_thread"));
        assert_eq!(
            jemalloc_option::<usize>("opt.oversize_threshold"),
            super::LARGE_BLOCK
        );
    }

    #[test]
    fn a_slots_threads_are_counted_and_others_are_not() {
        let slot = budget::claim_slot().expect("a slot");
        let t = std::thread::spawn(move || {
            budget::enter(slot);
            budget::begin(
                slot,
                &JobLimits {
                    time: Duration::from_secs(60),
                    memory: 1 << 30,
                },
            );
            let before = budget::used(slot);
            let v: Vec<u8> = Vec::with_capacity(10 << 20);
            let during = budget::used(slot);
            drop(v);
            let after = budget::used(slot);
            (before, during, after)
        });
        let (before, during, after) = t.join().unwrap();
        assert!(during - before >= 10 << 20, "{before} -> {during}");
        assert!(after - before < 1 << 20, "freed: {before} -> {after}");
        // This thread is not the slot's: its allocations do not move the counter.
        let now = budget::used(slot);
        let v: Vec<u8> = Vec::with_capacity(10 << 20);
        assert_eq!(budget::used(slot), now);
        drop(v);
    }
}
