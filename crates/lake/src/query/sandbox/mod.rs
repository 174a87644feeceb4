//! The sandbox of members' queries inside DataFusion: what runs when a session is made for
//! work started by a member ([`SandboxLimits`] in [`crate::query::QueryLimits`]).
//!
//! The executor of `secviz-sandbox` gives the work its thread, its deadline and its
//! memory budget; this module makes DataFusion respect them at every step:
//! - [`shape`]: the SQL's syntax tree is bounded before planning (depth, size, tables);
//! - [`rewrite`] and [`functions`]: every function call reserves its output's size first;
//! - [`estimate`] and [`series`]: plans whose work is far beyond the limits are refused
//!   before running;
//! - [`operator`]: every operator checks the budget per batch;
//! - [`failure`]: how a stop or a refusal travels through DataFusion to the member.

pub mod estimate;
pub mod failure;
pub mod functions;
pub mod operator;
pub mod planner;
pub mod rewrite;
pub mod series;
pub mod shape;

pub use failure::SandboxFailure;
pub use shape::ShapeLimits;

/// How a member's session is bounded beyond time and memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SandboxLimits {
    /// The shape of SQL text (checked where SQL text comes in).
    pub shape: ShapeLimits,
    /// Most rows one operator may be estimated to handle: the time limit at the rate a
    /// query thread handles rows, times a margin (see [`SandboxLimits::member`]).
    pub max_work_rows: u64,
    /// Rows per batch: smaller batches mean the budget is checked more often.
    pub batch_size: usize,
    /// Partitions of a plan: 1, since a job runs on one thread.
    pub target_partitions: usize,
}

impl SandboxLimits {
    /// For a query of `time_limit`: a query thread handles about 20 M rows a second in a
    /// simple scan, so ten times what fits in the time limit is clearly out of reach.
    pub fn member(time_limit: std::time::Duration) -> SandboxLimits {
        SandboxLimits {
            shape: ShapeLimits::default(),
            max_work_rows: (time_limit.as_secs_f64().max(1.0) * 20e6 * 10.0) as u64,
            batch_size: 2048,
            target_partitions: 1,
        }
    }
}
