//! Scheduling priority of the executor's threads: "nice" values are per thread on Linux,
//! so raising a job thread's value lets the kernel favour the web server's threads
//! whenever both want a core, without a second process.

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
