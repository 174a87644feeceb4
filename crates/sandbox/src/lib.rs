//! secviz-sandbox is where work that members start runs: SQL from the query API, view
//! computations, analyses, previews and pictures. It keeps that work away from the threads
//! that serve pages and inside budgets that hold.
//!
//! - [`Executor`]: a fixed number of job slots, each a thread of its own (with a known,
//!   large stack, so planning a deep expression cannot overflow it) running one job at a
//!   time at a lower scheduling priority than the web server. A bounded queue and a
//!   per-client cap decide admission ([`Executor::admit`]); what does not fit is told to
//!   come back later ([`Busy`]).
//! - [`budget`]: each running job has a deadline and a memory limit. Code that does work
//!   for a job calls [`budget::check`] (the lake's operators and functions do, per batch
//!   and per call); it fails once the deadline passed, the memory limit was crossed or
//!   the request that started the job went away.
//! - [`alloc`]: the process's global allocator counts the bytes every job slot's threads
//!   hold, so the memory limit covers everything a query allocates (projections, strings,
//!   the serialized answer), not only what DataFusion's memory pool sees.
//! - [`Executor::stream`]: a job that sends its answer piece by piece, with back-pressure.
//! - A watchdog notices a job that ignores its deadline (stuck in code that never checks),
//!   lowers its thread to the lowest priority and gives the executor a fresh thread, so
//!   one such job can never take the executor's capacity away.
//!
//! Not here: what the work is. This crate knows jobs, budgets and clients, not SQL, views or
//! HTTP; it depends on no other secviz crate.

pub mod alloc;
pub mod budget;
mod executor;
pub mod priority;
mod stream;

pub use budget::{Exceeded, JobLimits};
pub use executor::{
    Admission, Busy, BusyReason, Executor, ExecutorConfig, ExecutorStats, RunError,
};
pub use stream::{CHANNEL_PIECES, Closed, JobStream, Sink, StreamError};

/// The allocator of every binary that links secviz (see [`alloc`]).
#[global_allocator]
static GLOBAL: alloc::CountingAlloc = alloc::CountingAlloc;
