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

use std::alloc::{GlobalAlloc, Layout, System};

use crate::budget;

/// The counting allocator over the system allocator.
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the same arguments and only adds an
// atomic counter update on the side, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            budget::charge(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            budget::charge(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        budget::charge(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            budget::charge(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Blocks this large are mapped on their own and given back to the system when freed.
pub const LARGE_BLOCK: usize = 1 << 20;

/// Makes the system allocator map blocks of [`LARGE_BLOCK`] and more on their own, so that
/// what a job frees goes back to the system at once.
///
/// Why: glibc raises its threshold for that as large blocks are freed (up to 32 MiB), and
/// keeps freed heap memory in the arena of the thread that used it. Jobs allocate most of
/// their memory in blocks of a megabyte or more (Arrow buffers), on several threads; left
/// to the default, the process kept several times the memory limit after a few large jobs
/// (measured: 960 MiB for a 512 MiB limit). `malloc_trim` after each job gave it back but
/// holds every arena's lock while it works, which the web server's threads then wait for.
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
