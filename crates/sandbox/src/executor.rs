//! [`Executor`]: the threads where member work runs, and the admission in front of them.
//!
//! Each slot is one OS thread (named `<name>-<n>`, with [`ExecutorConfig::stack_bytes`] of
//! stack and a raised nice value) driving its own Tokio runtime, one job at a time. Jobs
//! are closures that build a future on that thread, so DataFusion's plans, streams and
//! spawned tasks all live there and never on the web server's runtime; planning happens
//! there too, on a stack whose size we chose.
//!
//! Admission ([`Executor::admit`]) is decided before any work: at most
//! [`ExecutorConfig::per_client`] jobs of one client in flight (running or queued), and at
//! most `slots + queue` in all. Waiting jobs are taken round-robin across clients, so one
//! client's burst delays only that client. A job that waited [`ExecutorConfig::queue_wait`]
//! without starting is given up ([`BusyReason::QueueWait`]).
//!
//! A running job stops at its deadline: every [`crate::budget::check`] inside it fails from
//! then on, its future is dropped at the next await, and its waiter returns a time-limit
//! error at the latest [`ExecutorConfig::grace`] later. A job still running after that is
//! stuck in code that never checks: the watchdog drops its thread to the lowest priority,
//! stops counting it as capacity and starts a replacement thread (at most
//! [`ExecutorConfig::max_replacements`] times), and logs it.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::sync::oneshot;

use crate::budget::{self, Exceeded, JobLimits, SlotId};
use crate::priority;

/// How an executor is sized and how it treats jobs.
#[derive(Clone, Debug)]
pub struct ExecutorConfig {
    /// Thread names start with this.
    pub name: String,
    /// Jobs running at once (one thread each).
    pub slots: usize,
    /// Runtime threads per slot: 1 for a current-thread runtime (the portal: fairness
    /// between members), more to let one job use several cores (the command line).
    pub threads_per_slot: usize,
    /// Jobs that may wait for a slot, in all.
    pub queue: usize,
    /// Jobs of one client in flight (running or waiting).
    pub per_client: usize,
    /// Longest wait in the queue before the job is given up as busy.
    pub queue_wait: Duration,
    /// Stack of every thread that runs jobs.
    pub stack_bytes: usize,
    /// Nice value of those threads (the web server's are 0).
    pub nice: i32,
    /// Put those threads in the idle scheduling class (`SCHED_IDLE`): they run only on
    /// what the rest of the process and machine leave of the cores. The portal does: its
    /// pages must not wait for members' queries.
    pub idle: bool,
    /// CPUs those threads may use (`None`: any). The portal keeps them off the cores it
    /// leaves to the web server ([`priority::work_cpus`]).
    pub cpus: Option<Vec<usize>>,
    /// How long past its deadline a job may take to notice before it counts as stuck.
    pub grace: Duration,
    /// Stuck threads replaced at most this many times (then capacity shrinks, loudly).
    pub max_replacements: usize,
}

impl ExecutorConfig {
    /// Sized from the machine: a slot per core, a queue four times that, four jobs per
    /// client, 64 MiB stacks, nice 10.
    pub fn for_machine(name: &str) -> ExecutorConfig {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ExecutorConfig {
            name: name.to_string(),
            slots: cores,
            threads_per_slot: 1,
            queue: 4 * cores,
            per_client: 4,
            queue_wait: Duration::from_secs(10),
            stack_bytes: 64 << 20,
            nice: 10,
            idle: false,
            cpus: None,
            grace: Duration::from_millis(1500),
            max_replacements: 16,
        }
    }
}

/// Why a job was not admitted or did not get to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusyReason {
    /// The client already has this many jobs in flight.
    Client { limit: usize },
    /// The executor's queue is full.
    Full,
    /// The job waited too long for a slot.
    QueueWait,
}

/// A refusal for now: come back after `retry_after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct Busy {
    pub reason: BusyReason,
    pub retry_after: Duration,
}

impl Busy {
    fn message(&self) -> String {
        match self.reason {
            BusyReason::Client { limit } => format!(
                "you already have {limit} queries running or waiting: wait for one to finish, then try again"
            ),
            BusyReason::Full | BusyReason::QueueWait => {
                "the server is busy with other queries: try again in a few seconds".to_string()
            }
        }
    }
}

/// Why [`Executor::run`] has no result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("the query stopped: {0}")]
    Exceeded(#[from] Exceeded),
    /// A bug of ours inside the job (it was logged).
    #[error("the query failed because of an internal error")]
    Panicked,
    /// The executor is shutting down.
    #[error("the server is shutting down")]
    Stopped,
}

/// Counters for operators and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecutorStats {
    pub running: usize,
    pub queued: usize,
    /// Threads given up as stuck and not yet finished.
    pub stuck: usize,
    /// Threads started to replace stuck ones, since the start.
    pub replaced: usize,
}

type Reply = oneshot::Sender<Result<Box<dyn Any + Send>, RunError>>;
type MakeFuture = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Box<dyn Any + Send>>>> + Send>;

/// What the waiter and the worker share about one job.
#[derive(Default)]
struct JobState {
    started: Mutex<Option<(SlotId, u64, Instant)>>,
    cancelled: AtomicBool,
}

impl JobState {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Some((slot, generation, _)) = *lock(&self.started) {
            budget::cancel(slot, generation);
        }
    }
}

struct Job {
    make: MakeFuture,
    limits: JobLimits,
    state: Arc<JobState>,
    reply: Reply,
    client: Arc<str>,
    _admission: Admission,
}

#[derive(Default)]
struct Queue {
    by_client: HashMap<Arc<str>, VecDeque<Job>>,
    order: VecDeque<Arc<str>>,
    len: usize,
}

impl Queue {
    fn push(&mut self, job: Job) {
        let q = self.by_client.entry(job.client.clone()).or_default();
        if q.is_empty() {
            self.order.push_back(job.client.clone());
        }
        q.push_back(job);
        self.len += 1;
    }

    /// The next job, taking clients in turn.
    fn pop(&mut self) -> Option<Job> {
        while let Some(client) = self.order.pop_front() {
            let Some(q) = self.by_client.get_mut(&client) else {
                continue;
            };
            let job = q.pop_front();
            if q.is_empty() {
                self.by_client.remove(&client);
            } else {
                self.order.push_back(client);
            }
            if let Some(job) = job {
                self.len -= 1;
                return Some(job);
            }
        }
        None
    }
}

struct Worker {
    slot: SlotId,
    tid: i32,
    busy: bool,
    stuck: bool,
}

#[derive(Default)]
struct State {
    queue: Queue,
    clients: HashMap<Arc<str>, usize>,
    in_flight: usize,
    workers: Vec<Worker>,
    replaced: usize,
    shutdown: bool,
}

struct Inner {
    cfg: ExecutorConfig,
    state: Mutex<State>,
    wake: Condvar,
    threads_started: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shuts the executor down when the last [`Executor`] handle goes.
struct Owner(Arc<Inner>);

impl Drop for Owner {
    fn drop(&mut self) {
        // Queued jobs hold admissions that point back here: take them out and drop them
        // outside the lock (their waiters then learn the executor stopped).
        let queued = {
            let mut st = lock(&self.0.state);
            st.shutdown = true;
            std::mem::take(&mut st.queue)
        };
        self.0.wake.notify_all();
        drop(queued);
    }
}

/// A bounded executor for member work. Cheap to clone; the threads stop (after their
/// current job) when the last clone is dropped.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
    _owner: Arc<Owner>,
}

/// A place in the executor for one job of one client, held from admission until the job
/// ends (or is given up). Dropping it frees the place.
pub struct Admission {
    inner: Arc<Inner>,
    client: Arc<str>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut st = lock(&self.inner.state);
        st.in_flight -= 1;
        if let Some(n) = st.clients.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                st.clients.remove(&self.client);
            }
        }
    }
}

impl Executor {
    /// Starts the slots' threads and the watchdog.
    pub fn new(cfg: ExecutorConfig) -> Executor {
        assert!(cfg.slots > 0 && cfg.threads_per_slot > 0);
        crate::alloc::return_large_blocks();
        let inner = Arc::new(Inner {
            cfg,
            state: Mutex::default(),
            wake: Condvar::new(),
            threads_started: AtomicUsize::new(0),
        });
        for _ in 0..inner.cfg.slots {
            if let Err(e) = start_worker(&inner) {
                tracing::error!(error = %e, "could not start a query thread");
            }
        }
        let watched = Arc::downgrade(&inner);
        let period =
            (inner.cfg.grace / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
        let _ = std::thread::Builder::new()
            .name(format!("{}-watchdog", inner.cfg.name))
            .spawn(move || watchdog(watched, period));
        Executor {
            _owner: Arc::new(Owner(inner.clone())),
            inner,
        }
    }

    pub fn config(&self) -> &ExecutorConfig {
        &self.inner.cfg
    }

    /// A place for one job of `client` (an address, an account: whatever the caller
    /// limits by), or why there is none now.
    pub fn admit(&self, client: &str) -> Result<Admission, Busy> {
        self.admit_at_most(client, self.inner.cfg.per_client)
    }

    /// Like [`Executor::admit`], with a stricter cap for this kind of work (a client may
    /// have `limit` such jobs in flight, counting all its jobs, and never more than
    /// [`ExecutorConfig::per_client`]).
    pub fn admit_at_most(&self, client: &str, limit: usize) -> Result<Admission, Busy> {
        let cfg = &self.inner.cfg;
        let limit = limit.clamp(1, cfg.per_client.max(1));
        let mut st = lock(&self.inner.state);
        let client: Arc<str> = Arc::from(client);
        let mine = st.clients.get(&client).copied().unwrap_or(0);
        if mine >= limit {
            return Err(Busy {
                reason: BusyReason::Client { limit },
                retry_after: Duration::from_secs(1),
            });
        }
        if st.in_flight >= cfg.slots + cfg.queue {
            return Err(Busy {
                reason: BusyReason::Full,
                retry_after: Duration::from_secs(2),
            });
        }
        st.in_flight += 1;
        *st.clients.entry(client.clone()).or_default() += 1;
        Ok(Admission {
            inner: self.inner.clone(),
            client,
        })
    }

    /// Runs `job` in a slot under `limits` and returns its output. `job` is called on the
    /// slot's thread, so the future it returns need not be `Send`. Dropping the returned
    /// future cancels the job (its next budget check fails). The returned future owns
    /// what it needs, so it can be spawned.
    pub fn run<T, F, Fut>(
        &self,
        admission: Admission,
        limits: JobLimits,
        job: F,
    ) -> impl Future<Output = Result<T, RunError>> + Send + 'static
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        async move {
            let (reply, rx) = oneshot::channel();
            let state = Arc::new(JobState::default());
            let client = admission.client.clone();
            let make: MakeFuture = Box::new(move || {
                Box::pin(async move { Box::new(job().await) as Box<dyn Any + Send> })
            });
            {
                let mut st = lock(&inner.state);
                if st.shutdown {
                    return Err(RunError::Stopped);
                }
                st.queue.push(Job {
                    make,
                    limits,
                    state: state.clone(),
                    reply,
                    client,
                    _admission: admission,
                });
            }
            inner.wake.notify_one();
            let mut cancel = CancelOnDrop(Some(state.clone()));
            let outcome = wait(&inner.cfg, &state, limits, rx).await;
            if outcome.is_ok() {
                cancel.0 = None;
            }
            drop(cancel);
            outcome.map(|b| {
                *b.downcast::<T>()
                    .expect("a job's output has the type its caller asked for")
            })
        }
    }

    pub fn stats(&self) -> ExecutorStats {
        let st = lock(&self.inner.state);
        ExecutorStats {
            running: st.workers.iter().filter(|w| w.busy && !w.stuck).count(),
            queued: st.queue.len,
            stuck: st.workers.iter().filter(|w| w.stuck).count(),
            replaced: st.replaced,
        }
    }

    /// The kernel ids of the threads that currently serve jobs (for tests of priority).
    pub fn thread_ids(&self) -> Vec<i32> {
        lock(&self.inner.state)
            .workers
            .iter()
            .filter(|w| !w.stuck)
            .map(|w| w.tid)
            .collect()
    }
}

/// Waits for a job's reply, giving up when it waited too long for a slot or ran past its
/// deadline and grace without answering.
async fn wait(
    cfg: &ExecutorConfig,
    state: &JobState,
    limits: JobLimits,
    mut rx: oneshot::Receiver<Result<Box<dyn Any + Send>, RunError>>,
) -> Result<Box<dyn Any + Send>, RunError> {
    let queued = Instant::now();
    loop {
        let started = lock(&state.started).map(|(_, _, at)| at);
        let give_up_at = match started {
            None => queued + cfg.queue_wait,
            Some(at) => at + limits.time + cfg.grace,
        };
        tokio::select! {
            r = &mut rx => return r.unwrap_or(Err(RunError::Stopped)),
            _ = tokio::time::sleep_until(give_up_at.into()) => {
                let now_started = lock(&state.started).is_some();
                if now_started != started.is_some() {
                    continue;
                }
                return Err(match started {
                    None => RunError::Busy(Busy {
                        reason: BusyReason::QueueWait,
                        retry_after: Duration::from_secs(2),
                    }),
                    Some(_) => RunError::Exceeded(Exceeded::Time { limit: limits.time }),
                });
            }
        }
    }
}

/// Cancels the job if the waiter goes away before its result.
struct CancelOnDrop(Option<Arc<JobState>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.cancel();
        }
    }
}

fn start_worker(inner: &Arc<Inner>) -> std::io::Result<()> {
    let Some(slot) = budget::claim_slot() else {
        return Err(std::io::Error::other("no job slot left in this process"));
    };
    let n = inner.threads_started.fetch_add(1, Ordering::Relaxed) + 1;
    let name = format!("{}-{n}", inner.cfg.name);
    let worker_inner = inner.clone();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name)
        .stack_size(inner.cfg.stack_bytes)
        .spawn(move || {
            let _ = tid_tx.send(priority::thread_id());
            worker_main(worker_inner, slot)
        })?;
    let tid = tid_rx
        .recv()
        .map_err(|_| std::io::Error::other("a query thread died at its start"))?;
    lock(&inner.state).workers.push(Worker {
        slot,
        tid,
        busy: false,
        stuck: false,
    });
    Ok(())
}

/// Every thread of a slot: counted there, marked as an executor thread, lowered (to the
/// idle class when asked: then it only ever uses what the web server leaves of a core).
fn enter_slot(slot: SlotId, nice: i32, idle: bool, cpus: Option<&[usize]>) {
    budget::enter(slot);
    let tid = priority::thread_id();
    priority::set_nice(tid, nice);
    if idle {
        priority::set_idle(tid);
    }
    if let Some(cpus) = cpus {
        priority::pin(tid, cpus);
    }
}

fn runtime(cfg: &ExecutorConfig, slot: SlotId) -> std::io::Result<tokio::runtime::Runtime> {
    let (nice, idle, cpus) = (cfg.nice, cfg.idle, cfg.cpus.clone());
    let mut b = if cfg.threads_per_slot == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(cfg.threads_per_slot);
        b
    };
    b.enable_all()
        .thread_name(format!("{}-io", cfg.name))
        .thread_stack_size(cfg.stack_bytes)
        .on_thread_start(move || enter_slot(slot, nice, idle, cpus.as_deref()))
        .build()
}

fn worker_main(inner: Arc<Inner>, slot: SlotId) {
    enter_slot(
        slot,
        inner.cfg.nice,
        inner.cfg.idle,
        inner.cfg.cpus.as_deref(),
    );
    let rt = match runtime(&inner.cfg, slot) {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "could not start a query runtime");
            return;
        }
    };
    loop {
        let job = {
            let mut st = lock(&inner.state);
            loop {
                if st.shutdown {
                    break None;
                }
                if let Some(job) = st.queue.pop() {
                    if let Some(w) = st.workers.iter_mut().find(|w| w.slot == slot) {
                        w.busy = true;
                    }
                    break Some(job);
                }
                st = inner.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Some(job) = job else { break };
        run_job(&rt, slot, job);
        let mut st = lock(&inner.state);
        let Some(i) = st.workers.iter().position(|w| w.slot == slot) else {
            break;
        };
        if st.workers[i].stuck {
            // A replacement took this thread's place while it was stuck.
            st.workers.swap_remove(i);
            tracing::warn!(
                slot = slot.index(),
                "a stuck query thread finished and leaves"
            );
            break;
        }
        st.workers[i].busy = false;
    }
    rt.shutdown_timeout(Duration::from_secs(1));
}

fn run_job(rt: &tokio::runtime::Runtime, slot: SlotId, job: Job) {
    let Job {
        make,
        limits,
        state,
        reply,
        _admission,
        ..
    } = job;
    if state.cancelled.load(Ordering::Relaxed) || reply.is_closed() {
        return;
    }
    let generation = budget::begin(slot, &limits);
    *lock(&state.started) = Some((slot, generation, Instant::now()));
    if state.cancelled.load(Ordering::Relaxed) {
        budget::cancel(slot, generation);
    }
    let outcome = rt.block_on(async move {
        let deadline = tokio::time::Instant::now() + limits.time;
        let work = AssertUnwindSafe(async move { make().await }).catch_unwind();
        tokio::time::timeout_at(deadline, work).await
    });
    let peak = budget::end(slot);
    let result = match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "a query job panicked");
            Err(RunError::Panicked)
        }
        Err(_) => Err(RunError::Exceeded(Exceeded::Time { limit: limits.time })),
    };
    tracing::debug!(slot = slot.index(), peak, "query job ended");
    if peak > crate::alloc::GIVE_BACK_AFTER {
        crate::alloc::give_back();
    }
    let _ = reply.send(result);
}

fn watchdog(inner: std::sync::Weak<Inner>, period: Duration) {
    loop {
        std::thread::sleep(period);
        let Some(inner) = inner.upgrade() else { return };
        let mut st = lock(&inner.state);
        if st.shutdown {
            return;
        }
        let mut to_replace = 0;
        for w in st.workers.iter_mut() {
            if w.busy && !w.stuck && budget::overdue(w.slot, inner.cfg.grace) {
                w.stuck = true;
                priority::set_nice(w.tid, 19);
                tracing::error!(
                    slot = w.slot.index(),
                    tid = w.tid,
                    "a query job ignored its deadline: its thread is set aside at the lowest priority"
                );
                to_replace += 1;
            }
        }
        for _ in 0..to_replace {
            if st.replaced >= inner.cfg.max_replacements {
                tracing::error!("no more query threads may be replaced: capacity is reduced");
                break;
            }
            st.replaced += 1;
            drop(st);
            if let Err(e) = start_worker(&inner) {
                tracing::error!(error = %e, "could not replace a stuck query thread");
            }
            st = lock(&inner.state);
        }
    }
}

#[cfg(test)]
mod tests;
