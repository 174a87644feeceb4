//! An optimizer rule for one distinct argument beside other aggregates in a GROUP BY.
//!
//! `SELECT src_ip, count(*), count(DISTINCT "user") … GROUP BY src_ip` is how the failed
//! logins and the password-guessing questions are asked. DataFusion turns a single distinct
//! argument into a second GROUP BY level (`SingleDistinctToGroupBy`) only when every other
//! aggregate is a sum, min or max and none carries an alias. Otherwise it keeps a hash set
//! per group, and a set of strings starts at about 10 KiB: for 86,400 sources that failed
//! once each, the password-guessing analysis held 1.2 GB, and the big screen's failed-logins
//! panel took 160 MiB at every refresh over a 15-minute window (it failed outright with a
//! member's limit over longer ones). Both cases are common here:
//! - `count(*)` is the usual companion of a distinct count;
//! - DataFusion's type coercion aliases an aggregate whose expression it changed with its
//!   old text, and comparing a Utf8View column with a text literal (`auth_result =
//!   'failure'`) is such a change.
//!
//! So this rule does the same two-level rewrite for those too. For
//! `SELECT k, count(*), count(DISTINCT x), min(y) … GROUP BY k`:
//! - inner: `GROUP BY k, x` with `count(*) AS c, min(y) AS m`;
//! - outer: `GROUP BY k` with `count(x)`, `sum(c)`, `min(m)`;
//! - above: the original names, a count's sum coalesced to 0 (a count is never NULL).
//!
//! The memory is then one entry per (group, distinct value) pair, as for any GROUP BY, and
//! the pairs are grouped by the fast string grouping ([`super::view_groups`]) in the sandbox.
//!
//! What the rule leaves alone, because the split would not be exact:
//! - aggregates other than count, sum (of integers and floats: a decimal's sum of sums
//!   would change type), min and max beside the distinct one;
//! - distinct aggregates other than count, sum, min, max and avg;
//! - aggregates with a FILTER or ORDER BY;
//! - grouping sets, and no group keys.
//!
//! Several distinct arguments are [`super::distinct::MultiDistinctToJoin`]'s; its branches
//! then come here one by one.

use std::sync::Arc;

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion::logical_expr::{
    Aggregate, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, lit,
};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::distinct::{bare, grouped};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SingleDistinctToGroups;

/// What an aggregate becomes in the outer level.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    /// The distinct aggregate: the same function over the inner level's distinct values.
    Distinct,
    /// A count: the sum of the inner level's counts.
    Count,
    /// A sum, min or max: the same function over the inner level's.
    Again,
}

/// The inner level's column of the distinct argument.
const DISTINCT_ALIAS: &str = "__secviz_distinct";

impl OptimizerRule for SingleDistinctToGroups {
    fn name(&self) -> &str {
        "secviz_single_distinct_to_groups"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let Some(agg) = grouped(&plan) else {
            return Ok(Transformed::no(plan));
        };
        match parts(agg)? {
            Some(parts) => two_levels(agg, &parts).map(Transformed::yes),
            None => Ok(Transformed::no(plan)),
        }
    }
}

/// The aggregate function of `e`, through its aliases.
fn function(e: &Expr) -> Option<&AggregateFunction> {
    match bare(e) {
        Expr::AggregateFunction(f) => Some(f),
        _ => None,
    }
}

/// Each aggregate's part, when `agg` has exactly one distinct argument and every aggregate
/// splits exactly (see the module's doc); `None` otherwise.
fn parts(agg: &Aggregate) -> Result<Option<Vec<Part>>> {
    let mut argument: Option<String> = None;
    let mut parts = Vec::with_capacity(agg.aggr_expr.len());
    for e in &agg.aggr_expr {
        let Some(AggregateFunction {
            func,
            params:
                AggregateFunctionParams {
                    distinct,
                    args,
                    filter,
                    order_by,
                    null_treatment,
                },
        }) = function(e)
        else {
            return Ok(None);
        };
        if filter.is_some() || !order_by.is_empty() || null_treatment.is_some() {
            return Ok(None);
        }
        let name = func.name().to_ascii_lowercase();
        let part = if *distinct {
            if args.len() != 1 || !matches!(name.as_str(), "count" | "sum" | "min" | "max" | "avg")
            {
                return Ok(None);
            }
            let key = args[0].schema_name().to_string();
            if *argument.get_or_insert_with(|| key.clone()) != key {
                return Ok(None);
            }
            Part::Distinct
        } else {
            match name.as_str() {
                "count" => Part::Count,
                "min" | "max" if args.len() == 1 => Part::Again,
                "sum" if args.len() == 1 => {
                    let t = args[0].get_type(agg.input.schema())?;
                    if !(t.is_integer() || t.is_floating()) {
                        return Ok(None);
                    }
                    Part::Again
                }
                _ => return Ok(None),
            }
        };
        parts.push(part);
    }
    Ok(argument.is_some().then_some(parts))
}

/// `agg` as two GROUP BY levels with its original output (see the module's doc).
fn two_levels(agg: &Aggregate, parts: &[Part]) -> Result<LogicalPlan> {
    let groups = agg.group_expr.len();
    // Inner: the keys (expressions named, so the outer level can refer to them), the
    // distinct argument, and the other aggregates as they were, named by position.
    let mut inner_groups: Vec<Expr> = agg
        .group_expr
        .iter()
        .enumerate()
        .map(|(i, g)| match g {
            Expr::Column(_) => g.clone(),
            other => other.clone().alias(format!("__secviz_g{i}")),
        })
        .collect();
    let mut inner_aggs = Vec::new();
    for (j, (e, part)) in agg.aggr_expr.iter().zip(parts).enumerate() {
        let f = function(e).expect("checked by parts");
        match part {
            Part::Distinct => {
                if inner_groups.len() == groups {
                    inner_groups.push(f.params.args[0].clone().alias(DISTINCT_ALIAS));
                }
            }
            Part::Count | Part::Again => inner_aggs.push(
                Expr::AggregateFunction(AggregateFunction::new_udf(
                    Arc::clone(&f.func),
                    f.params.args.clone(),
                    false,
                    None,
                    vec![],
                    None,
                ))
                .alias(format!("__secviz_p{j}")),
            ),
        }
    }
    let inner = LogicalPlan::Aggregate(Aggregate::try_new(
        Arc::clone(&agg.input),
        inner_groups,
        inner_aggs,
    )?);
    let at =
        |plan: &LogicalPlan, k: usize| Expr::Column(Column::from(plan.schema().qualified_field(k)));
    // Outer: the keys again, the distinct aggregate over the distinct values, the others
    // over the inner level's partial answers.
    let outer_groups: Vec<Expr> = (0..groups).map(|k| at(&inner, k)).collect();
    let mut next = groups + 1;
    let mut outer_aggs = Vec::with_capacity(parts.len());
    for (e, part) in agg.aggr_expr.iter().zip(parts) {
        let f = function(e).expect("checked by parts");
        let (func, arg) = match part {
            Part::Distinct => (Arc::clone(&f.func), at(&inner, groups)),
            Part::Count => (sum_udaf(), at(&inner, next)),
            Part::Again => (Arc::clone(&f.func), at(&inner, next)),
        };
        if *part != Part::Distinct {
            next += 1;
        }
        outer_aggs.push(Expr::AggregateFunction(AggregateFunction::new_udf(
            func,
            vec![arg],
            false,
            None,
            vec![],
            None,
        )));
    }
    let outer = LogicalPlan::Aggregate(Aggregate::try_new(
        Arc::new(inner),
        outer_groups,
        outer_aggs,
    )?);
    // The original output, name for name (and qualifier), so nothing above notices.
    let out: Vec<Expr> = (0..groups + parts.len())
        .map(|i| {
            let c = at(&outer, i);
            let c = match i.checked_sub(groups).map(|j| parts[j]) {
                Some(Part::Count) => coalesce(vec![c, lit(0i64)]),
                _ => c,
            };
            let (q, f) = agg.schema.qualified_field(i);
            c.alias_qualified(q.cloned(), f.name())
        })
        .collect();
    LogicalPlanBuilder::from(outer).project(out)?.build()
}
