//! The rewrite of a member's optimized logical plan before it becomes a physical plan:
//! every scalar function behind its guard ([`super::functions::Guarded`]), reservations
//! ([`super::functions::Room`]) in front of expressions that grow their inputs, and a
//! refusal for what members may not use.
//!
//! It runs twice. As the last analyzer rule ([`GuardAnalyzer`]), before the optimizer,
//! because the optimizer folds constant expressions by evaluating them (`repeat('x', 1e9)`
//! would be built while planning). And again on the optimized plan ([`guard_plan`] from
//! the query planner), because expression planners and optimizer rules create function
//! calls of their own, so only the final plan shows every call that will run. The second
//! pass leaves what the first guarded as it is.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::{BinaryExpr, Expr, LogicalPlan, Operator};
use datafusion::optimizer::{AnalyzerRule, OptimizerConfig, OptimizerRule};

use super::failure::SandboxFailure;
use super::functions::{Guarded, Room};

/// [`guard_plan`] as an analyzer rule (after type coercion, before the optimizer).
#[derive(Debug, Default)]
pub struct GuardAnalyzer;

impl AnalyzerRule for GuardAnalyzer {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        guard_plan(plan).data()
    }

    fn name(&self) -> &str {
        "sandbox_guard"
    }
}

/// [`guard_plan`] as the optimizer's last rule, so that what a pass's rules made is
/// guarded before the next pass folds constants again.
#[derive(Debug, Default)]
pub struct GuardOptimizer;

impl OptimizerRule for GuardOptimizer {
    fn name(&self) -> &str {
        "sandbox_guard"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        guard_plan(plan)
    }
}

/// Guards every expression of `plan`, subqueries included.
pub fn guard_plan(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    plan.transform_up_with_subqueries(|node| node.map_expressions(|e| e.transform_up(guard_expr)))
}

/// Longest separator of `string_agg` (it is repeated between every two rows).
const MAX_SEPARATOR: usize = 1024;

fn forbidden(message: String) -> datafusion::error::DataFusionError {
    SandboxFailure::Forbidden(message).into_datafusion()
}

fn constant(e: &Expr) -> bool {
    match e {
        Expr::Literal(..) => true,
        Expr::Cast(c) => constant(&c.expr),
        Expr::TryCast(c) => constant(&c.expr),
        _ => false,
    }
}

/// `e` behind a reservation of `factor` times its size, unless it is one already; the
/// flag says whether anything changed. Constants too: a 10 MB literal joined to every
/// row is 10 MB a row.
fn room(e: Box<Expr>, factor: usize) -> (Box<Expr>, bool) {
    if Room::is_room(&e) {
        (e, false)
    } else {
        (Box::new(Room::around(*e, factor)), true)
    }
}

fn changed(e: Expr, yes: bool) -> Transformed<Expr> {
    if yes {
        Transformed::yes(e)
    } else {
        Transformed::no(e)
    }
}

/// Text and binary are what a cast can make much larger than its input.
fn grows_into(to: &DataType) -> bool {
    matches!(
        to,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

fn guard_expr(e: Expr) -> Result<Transformed<Expr>> {
    Ok(match e {
        Expr::ScalarFunction(mut f) => {
            if Room::is_room(&Expr::ScalarFunction(f.clone())) {
                return Ok(Transformed::no(Expr::ScalarFunction(f)));
            }
            let guarded = Guarded::wrap(&f.func).map_err(SandboxFailure::into_datafusion)?;
            if std::sync::Arc::ptr_eq(&guarded, &f.func) {
                Transformed::no(Expr::ScalarFunction(f))
            } else {
                f.func = guarded;
                Transformed::yes(Expr::ScalarFunction(f))
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::StringConcat => {
                let ((left, l), (right, r)) = (room(left, 2), room(right, 2));
                changed(Expr::BinaryExpr(BinaryExpr { left, op, right }), l || r)
            }
            Operator::RegexMatch
            | Operator::RegexIMatch
            | Operator::RegexNotMatch
            | Operator::RegexNotIMatch
            | Operator::LikeMatch
            | Operator::ILikeMatch
            | Operator::NotLikeMatch
            | Operator::NotILikeMatch
                if !constant(&right) =>
            {
                return Err(forbidden(format!(
                    "the pattern after {op} must be a constant text in shared queries, not a column"
                )));
            }
            _ => Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right })),
        },
        Expr::Like(l) | Expr::SimilarTo(l) if !constant(&l.pattern) => {
            return Err(forbidden(
                "the pattern of LIKE or SIMILAR TO must be a constant text in shared queries, not a column"
                    .to_string(),
            ));
        }
        // A cast of a constant stays one value, whatever the rows.
        Expr::Cast(Cast { expr, field }) if grows_into(field.data_type()) && !constant(&expr) => {
            let (expr, yes) = room(expr, 4);
            changed(Expr::Cast(Cast { expr, field }), yes)
        }
        Expr::TryCast(TryCast { expr, field })
            if grows_into(field.data_type()) && !constant(&expr) =>
        {
            let (expr, yes) = room(expr, 4);
            changed(Expr::TryCast(TryCast { expr, field }), yes)
        }
        // What these keep grows with every row: the value is reserved for, and the
        // separator (a literal, as DataFusion requires) is kept short.
        Expr::AggregateFunction(mut a) if matches!(a.func.name(), "string_agg" | "array_agg") => {
            if let Some(Expr::Literal(sep, _)) = a.params.args.get(1)
                && sep.size() > MAX_SEPARATOR
            {
                return Err(forbidden(format!(
                    "the separator of {} may be at most {MAX_SEPARATOR} bytes in shared queries",
                    a.func.name()
                )));
            }
            let mut any = false;
            if let Some(value) = a.params.args.first_mut() {
                let (x, yes) = room(
                    Box::new(std::mem::replace(
                        value,
                        Expr::Literal(datafusion::common::ScalarValue::Null, None),
                    )),
                    2,
                );
                *value = *x;
                any = yes;
            }
            changed(Expr::AggregateFunction(a), any)
        }
        Expr::HigherOrderFunction(f) => {
            return Err(forbidden(format!(
                "the function {} is not available in shared queries",
                f.func.name()
            )));
        }
        Expr::Lambda(_) => {
            return Err(forbidden(
                "lambda functions are not available in shared queries".to_string(),
            ));
        }
        other => Transformed::no(other),
    })
}
