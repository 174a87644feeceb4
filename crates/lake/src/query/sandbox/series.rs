//! `generate_series` and `range` in FROM for members: DataFusion's, with their row count
//! checked against the sandbox's estimate limit when they are called. Their rows are made
//! lazily, batch by batch, so they would be stopped by the time limit anyway; refusing
//! `generate_series(1, 1e12)` up front says why at once instead of after 30 seconds.

use std::sync::Arc;

use datafusion::arrow::datatypes::IntervalMonthDayNano;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::Expr;

use super::failure::SandboxFailure;
use crate::query::error::Limit;

#[derive(Debug)]
pub struct CountedSeries {
    pub inner: Arc<dyn TableFunctionImpl>,
    pub name: String,
    pub max_rows: u64,
}

fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// Nanoseconds of a time value, and the step of an interval (months as 28 days, the
/// shortest: an over-estimate of the count, never an under-estimate).
fn nanos(v: &ScalarValue) -> Option<i128> {
    const DAY: i128 = 86_400_000_000_000;
    Some(match v {
        ScalarValue::Int64(Some(n)) => *n as i128,
        ScalarValue::Int32(Some(n)) => *n as i128,
        ScalarValue::Date32(Some(d)) => *d as i128 * DAY,
        ScalarValue::TimestampSecond(Some(t), _) => *t as i128 * 1_000_000_000,
        ScalarValue::TimestampMillisecond(Some(t), _) => *t as i128 * 1_000_000,
        ScalarValue::TimestampMicrosecond(Some(t), _) => *t as i128 * 1_000,
        ScalarValue::TimestampNanosecond(Some(t), _) => *t as i128,
        ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
            months,
            days,
            nanoseconds,
        })) => *months as i128 * 28 * DAY + *days as i128 * DAY + *nanoseconds as i128,
        ScalarValue::IntervalDayTime(Some(i)) => {
            i.days as i128 * DAY + i.milliseconds as i128 * 1_000_000
        }
        _ => return None,
    })
}

/// How many rows a call makes (`None` when its arguments are not plain constants, which
/// DataFusion refuses anyway).
fn count(exprs: &[Expr]) -> Option<u128> {
    let values: Vec<i128> = exprs
        .iter()
        .map(|e| literal(e).and_then(nanos))
        .collect::<Option<_>>()?;
    let (start, end, step) = match values.as_slice() {
        [end] => (0, *end, 1),
        [start, end] => (*start, *end, 1),
        [start, end, step] => (*start, *end, *step),
        _ => return None,
    };
    let is_time = exprs
        .first()
        .and_then(literal)
        .is_some_and(|v| !matches!(v, ScalarValue::Int64(_) | ScalarValue::Int32(_)));
    // A time series without a step steps by a day in DataFusion.
    let step = if is_time && exprs.len() < 3 {
        86_400_000_000_000
    } else {
        step
    };
    Some((end - start).unsigned_abs() / step.unsigned_abs().max(1) + 1)
}

impl TableFunctionImpl for CountedSeries {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if let Some(n) = count(args.exprs())
            && n > self.max_rows as u128
        {
            return Err(SandboxFailure::limit(
                Limit::EstimatedRows,
                format!(
                    "{} would make {n} rows, more than the {} a shared query may handle: ask for a shorter series",
                    self.name, self.max_rows
                ),
            )
            .into_datafusion());
        }
        self.inner.call_with_args(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::lit;

    #[test]
    fn counts_integer_and_time_series() {
        assert_eq!(count(&[lit(1i64), lit(10i64)]), Some(10));
        assert_eq!(
            count(&[lit(0i64), lit(1_000_000i64), lit(1000i64)]),
            Some(1001)
        );
        assert_eq!(count(&[lit(5i64)]), Some(6));
        let day = ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, 1, 0)));
        assert_eq!(
            count(&[
                lit(ScalarValue::Date32(Some(0))),
                lit(ScalarValue::Date32(Some(30))),
                lit(day)
            ]),
            Some(31)
        );
        assert_eq!(count(&[Expr::Column("x".into()), lit(1i64)]), None);
    }
}
