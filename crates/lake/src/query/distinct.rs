//! An optimizer rule for the scanner question: several `count(DISTINCT …)` in one GROUP BY.
//!
//! `SELECT src_ip, count(DISTINCT dst_ip), count(DISTINCT dst_port) … GROUP BY src_ip` is
//! how analysts ask for fan-out. DataFusion plans it as one aggregate that keeps a hash set
//! per group and per distinct argument, which on 10 M flows took 9× DuckDB's time. With a
//! single distinct argument DataFusion's own `SingleDistinctToGroupBy` turns the set into a
//! second GROUP BY level, which is fast. So this rule splits an aggregate whose distinct
//! aggregates have two or more different arguments into one aggregate per argument (plus one
//! for the plain aggregates, if any), each with the same group keys, and joins them back on
//! those keys. Each branch has exactly one row per group, so the inner join (with NULL equal
//! to NULL, as GROUP BY treats NULL keys as one group) pairs them one to one, and the result
//! is the original aggregate's, row for row. The branches are then single-distinct, and the
//! next optimizer pass rewrites each of them.
//!
//! The rule leaves alone what it cannot prove equal: volatile inputs (`random()`: each branch
//! reads the input again), grouping sets, no group keys (a global
//! aggregate has nothing to join on and no per-group sets to speak of), aggregates with a
//! FILTER or ORDER BY, and distinct aggregates of several arguments.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, NullEquality, Result};
use datafusion::logical_expr::expr::{AggregateFunction, AggregateFunctionParams};
use datafusion::logical_expr::{Aggregate, Expr, JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct MultiDistinctToJoin;

/// The aggregate of `plan` when it has group keys and no grouping sets: the only ones the
/// lake's distinct rewrites touch (without keys there is one set, not one per group).
pub(super) fn grouped(plan: &LogicalPlan) -> Option<&Aggregate> {
    match plan {
        LogicalPlan::Aggregate(agg)
            if !agg.group_expr.is_empty()
                && !matches!(agg.group_expr.first(), Some(Expr::GroupingSet(_))) =>
        {
            Some(agg)
        }
        _ => None,
    }
}

/// `e` without the aliases around it. DataFusion's type coercion names an aggregate whose
/// expression it changed with an alias of the old text (`auth_result = 'failure'` compares
/// a Utf8View column with a Utf8 literal), so an aggregate may come wrapped in one.
pub(super) fn bare(mut e: &Expr) -> &Expr {
    while let Expr::Alias(a) = e {
        e = &a.expr;
    }
    e
}

/// Which branch an aggregate belongs to: the text of its distinct argument, or the plain
/// (non-distinct) branch.
fn branch_key(e: &Expr) -> Option<Option<String>> {
    let Expr::AggregateFunction(AggregateFunction {
        params:
            AggregateFunctionParams {
                distinct,
                args,
                filter,
                order_by,
                ..
            },
        ..
    }) = bare(e)
    else {
        return None;
    };
    if filter.is_some() || !order_by.is_empty() {
        return None;
    }
    if *distinct {
        if args.len() != 1 {
            return None;
        }
        Some(Some(args[0].schema_name().to_string()))
    } else {
        Some(None)
    }
}

impl OptimizerRule for MultiDistinctToJoin {
    fn name(&self) -> &str {
        "secviz_multi_distinct_to_join"
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
        // Branches in the order their first aggregate appears, so the plan reads naturally.
        let mut branches: Vec<(Option<String>, Vec<usize>)> = Vec::new();
        for (i, e) in agg.aggr_expr.iter().enumerate() {
            let Some(key) = branch_key(e) else {
                return Ok(Transformed::no(plan));
            };
            match branches.iter_mut().find(|(k, _)| *k == key) {
                Some((_, members)) => members.push(i),
                None => branches.push((key, vec![i])),
            }
        }
        let distinct_args = branches.iter().filter(|(k, _)| k.is_some()).count();
        if distinct_args < 2 {
            return Ok(Transformed::no(plan));
        }
        // Each branch reads the input again: with `random()` or another volatile
        // expression below, the branches could see different rows and groups.
        let volatile = agg
            .input
            .exists(|p| Ok(p.expressions().iter().any(|e| e.is_volatile())))?;
        if volatile || agg.group_expr.iter().any(|e| e.is_volatile()) {
            return Ok(Transformed::no(plan));
        }
        rewrite_aggregate(agg, &branches).map(Transformed::yes)
    }
}

fn branch_alias(b: usize) -> String {
    format!("__secviz_b{b}")
}

fn rewrite_aggregate(
    agg: &Aggregate,
    branches: &[(Option<String>, Vec<usize>)],
) -> Result<LogicalPlan> {
    let groups = agg.group_expr.len();
    // Expressions stay as they were (no aliases inside the aggregates): DataFusion's
    // single-distinct rewrite only recognises bare aggregate functions. Columns are then
    // found by position in each branch's schema, qualified by the branch's alias.
    let mut placed: Vec<Option<Column>> = vec![None; agg.aggr_expr.len()];
    let mut keys: Vec<Vec<Column>> = Vec::with_capacity(branches.len());
    let mut joined: Option<LogicalPlanBuilder> = None;
    for (b, (_, members)) in branches.iter().enumerate() {
        let aggs: Vec<Expr> = members.iter().map(|&i| agg.aggr_expr[i].clone()).collect();
        let branch = LogicalPlanBuilder::from(agg.input.as_ref().clone())
            .aggregate(agg.group_expr.clone(), aggs)?
            .alias(branch_alias(b))?
            .build()?;
        let column = |k: usize| Column::from(branch.schema().qualified_field(k));
        keys.push((0..groups).map(column).collect());
        for (j, &i) in members.iter().enumerate() {
            placed[i] = Some(column(groups + j));
        }
        joined = Some(match joined {
            None => LogicalPlanBuilder::from(branch),
            Some(left) => left.join_detailed(
                branch,
                JoinType::Inner,
                (keys[0].clone(), keys[b].clone()),
                None,
                NullEquality::NullEqualsNull,
            )?,
        });
    }
    let joined = joined.expect("at least two branches");
    // The original output, name for name (and qualifier), so nothing above notices.
    let schema = agg.schema.clone();
    let sources = keys[0].iter().cloned().chain(
        placed
            .into_iter()
            .map(|c| c.expect("every aggregate placed")),
    );
    let out: Vec<Expr> = sources
        .enumerate()
        .map(|(i, c)| {
            let (q, f) = schema.qualified_field(i);
            Expr::Column(c).alias_qualified(q.cloned(), f.name())
        })
        .collect();
    joined.project(out)?.build()
}
