//! Scheduling priority and placement of the threads that do members' work: "nice" values,
//! the idle class and CPU affinity are per thread on Linux, so the web server's threads
//! are favoured without a second process.
//!
//! Priority alone is not enough: measured on a 2-core VM, a page's p99 went from 2 ms to
//! 5 ms as soon as both cores ran anything, even at the lowest priority, because a waking
//! thread still waits for a busy core to let it in. So member work is also kept off some
//! cores ([`work_cpus`]): the web server always finds one free.

/// The kernel's id of the calling thread.
pub fn thread_id() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// Sets the nice value of thread `tid` (raising it needs no privilege). Failures are
/// logged, not fatal: the work still runs, only less politely.
pub fn set_nice(tid: i32, nice: i32) {
    // SAFETY: setpriority with PRIO_PROCESS and a thread id changes only that thread.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) };
    if rc != 0 {
        tracing::warn!(tid, nice, error = %std::io::Error::last_os_error(), "could not lower a query thread's priority");
    }
}

/// Puts thread `tid` in the idle scheduling class (`SCHED_IDLE`): it runs only on what
/// the other threads leave of a core, and any of them that wakes up takes the core at
/// once. No privilege is needed to lower a thread's class.
pub fn set_idle(tid: i32) {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler with a thread id changes only that thread; `param` is
    // valid for the call.
    let rc = unsafe { libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) };
    if rc != 0 {
        tracing::warn!(tid, error = %std::io::Error::last_os_error(), "could not put a query thread in the idle class");
    }
}

/// Whether thread `tid` is in the idle scheduling class.
pub fn is_idle(tid: i32) -> bool {
    // SAFETY: sched_getscheduler has no memory arguments.
    unsafe { libc::sched_getscheduler(tid) == libc::SCHED_IDLE }
}

/// The nice value of thread `tid`.
pub fn nice_of(tid: i32) -> Option<i32> {
    // getpriority may legitimately return -1: errno tells.
    // SAFETY: as above; errno is reset first.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
        (*libc::__errno_location() == 0).then_some(v)
    }
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is valid; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// The CPUs members' work may use: all the process may use but the first eighth (at least
/// one), which stay for the threads that serve pages. `None` on a single CPU.
pub fn work_cpus() -> Option<Vec<usize>> {
    let all = allowed_cpus();
    if all.len() < 2 {
        return None;
    }
    let keep = (all.len() / 8).max(1);
    Some(all[keep..].to_vec())
}

/// Lets thread `tid` run only on `cpus`. Failures are logged, not fatal.
pub fn pin(tid: i32, cpus: &[usize]) {
    if cpus.is_empty() {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET writes within it for c < CPU_SETSIZE.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc != 0 {
        tracing::warn!(tid, error = %std::io::Error::last_os_error(), "could not keep a work thread off the web server's cores");
    }
}

/// Lowers the calling thread for background work started by anyone (hashing a log-in's
/// password, parsing an upload, laying out a graph): `nice`, and off the web server's
/// cores.
pub fn lower_current(nice: i32) {
    let tid = thread_id();
    set_nice(tid, nice);
    if let Some(cpus) = work_cpus() {
        pin(tid, &cpus);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_cpus_leave_the_first_for_pages() {
        let all = allowed_cpus();
        assert!(!all.is_empty());
        match work_cpus() {
            None => assert_eq!(all.len(), 1),
            Some(w) => {
                assert!(!w.contains(&all[0]));
                assert_eq!(w.len(), all.len() - (all.len() / 8).max(1));
                let t = std::thread::spawn(move || {
                    pin(thread_id(), &w);
                    (allowed_cpus(), w)
                });
                let (now, w) = t.join().unwrap();
                assert_eq!(now, w);
            }
        }
    }
}
