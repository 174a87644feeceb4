//! How many rows a member's plan would make its operators handle, estimated from the
//! datasets' row counts before anything runs. A plan far beyond what the time limit
//! allows (a join of `events` with itself three times without a condition: 10^18 row
//! pairs for a million events) is refused with the numbers, instead of being started,
//! holding a query thread until its deadline, and failing anyway.
//!
//! The estimate is DataFusion's statistics where it has them (scans know their files'
//! row counts; filters, limits and aggregations narrow them), with joins reckoned by
//! their work: a cross or nested-loop join compares every pair of rows, so its work is
//! the product; an equality join without statistics is taken as the larger side, since
//! its output cannot be known in advance (the time limit still bounds it).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::stats::Precision;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::statistics::{StatisticsArgs, StatisticsContext};

use super::failure::SandboxFailure;
use crate::query::error::Limit;

/// The largest number of rows one operator of the plan would handle, and which one.
pub fn largest_work(plan: &Arc<dyn ExecutionPlan>) -> (f64, String) {
    let ctx = StatisticsContext::new();
    let mut worst = (0.0, String::new());
    rows_out(plan, &ctx, &mut worst);
    worst
}

fn known(p: &Precision<usize>) -> Option<f64> {
    match p {
        Precision::Exact(n) | Precision::Inexact(n) => Some(*n as f64),
        Precision::Absent => None,
    }
}

fn rows_out(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &StatisticsContext,
    worst: &mut (f64, String),
) -> f64 {
    let inputs: Vec<f64> = plan
        .children()
        .iter()
        .map(|c| rows_out(c, ctx, worst))
        .collect();
    let stated = ctx
        .compute(plan.as_ref(), &StatisticsArgs::new())
        .ok()
        .and_then(|s| known(&s.num_rows));
    let largest_input = inputs.iter().copied().fold(0.0, f64::max);
    let (work, out) = match plan.name() {
        "CrossJoinExec" | "NestedLoopJoinExec" => {
            let pairs = inputs.iter().product::<f64>();
            (pairs, stated.unwrap_or(pairs))
        }
        "HashJoinExec" | "SortMergeJoinExec" | "SymmetricHashJoinExec" => {
            let out = stated.unwrap_or(largest_input);
            (out.max(inputs.iter().sum()), out)
        }
        "UnionExec" | "InterleaveExec" => {
            let sum = inputs.iter().sum();
            (sum, stated.unwrap_or(sum))
        }
        _ => {
            let out = stated.unwrap_or(largest_input);
            (out.max(largest_input), out)
        }
    };
    if work > worst.0 {
        *worst = (work, plan.name().to_string());
    }
    out
}

/// Refuses `plan` when an operator would handle more than `max_rows`.
pub fn check(plan: &Arc<dyn ExecutionPlan>, max_rows: u64) -> Result<()> {
    let (work, operator) = largest_work(plan);
    if work > max_rows as f64 {
        let what = match operator.as_str() {
            "CrossJoinExec" | "NestedLoopJoinExec" => {
                "a join without an equality condition compares every pair of rows: add one (a.x = b.x), or filter both sides first"
            }
            "HashJoinExec" | "SortMergeJoinExec" | "SymmetricHashJoinExec" => {
                "filter the joined tables first"
            }
            _ => "filter or aggregate earlier, or query a smaller time range",
        };
        return Err(SandboxFailure::limit(
            Limit::EstimatedRows,
            format!(
                "the query would handle about {} rows in one step, more than the {} a shared query may: {what}",
                scientific(work),
                scientific(max_rows as f64)
            ),
        )
        .into_datafusion());
    }
    Ok(())
}

/// `1.0e18`, or the plain number when small.
fn scientific(n: f64) -> String {
    if n < 1e7 {
        format!("{n:.0}")
    } else {
        format!("{n:.1e}")
    }
}
