//! Scalar functions in members' queries, each behind a guard that knows how much the
//! function may allocate and checks the job's budget before and after the call.
//!
//! Why per function: a single call can allocate without bound from small inputs
//! (`repeat('x', 1e12)`, `lpad(s, 1e12)`, `range(1, 1e12)`), or many times its inputs
//! (`replace` with a long replacement, `regexp_replace` with group references), before any
//! operator gets a chance to check memory. Every function a member may call has a
//! [`Growth`]: a bound on its output computed from its evaluated arguments (their sizes,
//! and for some their values). The guard reserves that bound with
//! [`secviz_sandbox::budget::ensure_room`] before calling the function, so a call that
//! would cross the memory limit is refused instead of attempted.
//!
//! Functions not listed here are not available to members: the list is what was reviewed.
//! Some are left out on purpose: `input_file_name` and `file_row_index` (storage paths),
//! `version` (the server's build), `arrow_cast` and friends (type games the SQL casts
//! cover), `array_resize` and `array_replace*` (unbounded growth, little use).
//!
//! [`Room`] is the same guard as an identity function: the planner puts it around the
//! inputs of expressions that are not functions but grow their inputs (casts to text,
//! `||`, aggregate arguments), so those are reserved for too.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::failure::{SandboxFailure, check, ensure_room};
use crate::query::error::Limit;

/// How much a function's output may weigh, given its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Growth {
    /// At most `factor` times the arguments' bytes plus `per_row` bytes a row.
    Linear { factor: usize, per_row: usize },
    /// `concat_ws(sep, a, b, ...)`: the separator once between each pair.
    ConcatWs,
    /// `repeat(s, n)`.
    Repeat,
    /// `lpad(s, n [, fill])`, `rpad(...)`: `n` characters.
    Pad,
    /// `replace(s, from, to)`.
    Replace,
    /// `regexp_replace(s, pattern, replacement [, flags])`, constant pattern.
    RegexpReplace,
    /// `regexp_like`, `regexp_match`, `regexp_count`, `regexp_instr`: linear, but the
    /// pattern (argument 1) and flags must be constants (one compile per call).
    Regexp,
    /// `range(a, b [, step])`, `generate_series(...)` as list-valued functions.
    Range,
    /// `array_repeat(x, n)`.
    ArrayRepeat,
    /// `array_to_string(list, sep [, null])`: a separator per element.
    ArrayToString,
    /// `to_char(t, format)`: a few bytes per format byte and row.
    Format,
    /// `levenshtein(a, b)`: time grows with the product of the lengths.
    Levenshtein,
}

/// The growth of a function members may call, by any of its names; `None`: not available.
pub fn growth_of(name: &str) -> Option<Growth> {
    use Growth::*;
    let linear = |factor, per_row| Some(Linear { factor, per_row });
    match name {
        // Numbers, comparisons, conditionals: a fixed size a row.
        "abs"
        | "acos"
        | "acosh"
        | "asin"
        | "asinh"
        | "atan"
        | "atan2"
        | "atanh"
        | "cbrt"
        | "ceil"
        | "cos"
        | "cosh"
        | "cot"
        | "degrees"
        | "exp"
        | "factorial"
        | "floor"
        | "gcd"
        | "lcm"
        | "ln"
        | "log"
        | "log10"
        | "log2"
        | "nanvl"
        | "pi"
        | "pow"
        | "power"
        | "radians"
        | "round"
        | "signum"
        | "sin"
        | "sinh"
        | "sqrt"
        | "tan"
        | "tanh"
        | "trunc"
        | "isnan"
        | "iszero"
        | "random"
        | "rand"
        | "ascii"
        | "bit_length"
        | "char_length"
        | "character_length"
        | "length"
        | "octet_length"
        | "strpos"
        | "instr"
        | "position"
        | "find_in_set"
        | "contains"
        | "starts_with"
        | "ends_with"
        | "ip_in"
        | "date_part"
        | "datepart"
        | "date_trunc"
        | "datetrunc"
        | "date_bin"
        | "from_unixtime"
        | "make_date"
        | "make_time"
        | "now"
        | "current_date"
        | "current_time"
        | "current_timestamp"
        | "today"
        | "to_date"
        | "to_time"
        | "to_timestamp"
        | "to_timestamp_seconds"
        | "to_timestamp_millis"
        | "to_timestamp_micros"
        | "to_timestamp_nanos"
        | "to_unixtime"
        | "to_local_time"
        | "chr"
        | "to_hex"
        | "uuid"
        | "arrow_typeof"
        | "cardinality"
        | "array_length"
        | "list_length"
        | "array_ndims"
        | "list_ndims"
        | "array_dims"
        | "list_dims"
        | "array_empty"
        | "list_empty"
        | "empty"
        | "array_has"
        | "list_has"
        | "array_contains"
        | "list_contains"
        | "array_has_all"
        | "list_has_all"
        | "array_has_any"
        | "list_has_any"
        | "arrays_overlap"
        | "array_position"
        | "list_position"
        | "array_indexof"
        | "list_indexof"
        | "array_max"
        | "list_max"
        | "array_min"
        | "array_sum"
        | "list_sum"
        | "array_avg"
        | "list_avg"
        | "array_product"
        | "list_product"
        | "array_distance"
        | "list_distance"
        | "cosine_distance"
        | "dot_product"
        | "inner_product" => linear(1, 64),
        // At most their inputs (pieces, choices, trims, element access).
        "coalesce" | "nullif" | "nvl" | "ifnull" | "nvl2" | "greatest" | "least" | "left"
        | "right" | "ltrim" | "rtrim" | "btrim" | "trim" | "split_part" | "substr"
        | "substring" | "substr_index" | "substring_index" | "reverse" | "get_field"
        | "array_element" | "list_element" | "array_extract" | "list_extract" | "element_at"
        | "array_any_value" | "list_any_value" | "array_slice" | "list_slice"
        | "array_pop_back" | "list_pop_back" | "array_pop_front" | "list_pop_front"
        | "array_remove" | "list_remove" | "array_remove_n" | "list_remove_n"
        | "array_remove_all" | "list_remove_all" | "array_distinct" | "list_distinct"
        | "array_compact" | "list_compact" | "array_reverse" | "list_reverse" | "array_sort"
        | "list_sort" | "array_except" | "list_except" | "array_intersect" | "list_intersect"
        | "flatten" | "array_positions" | "list_positions" | "map_keys" | "map_values"
        | "map_entries" | "map_extract" | "union_extract" | "union_tag" | "decode"
        | "array_normalize" | "list_normalize" | "array_add" | "list_add" | "array_subtract"
        | "list_subtract" | "array_scale" | "list_scale" | "ip_prefix" => linear(1, 16),
        // Several inputs into one: their sum, plus offsets.
        "concat" | "overlay" | "make_array" | "make_list" | "array_append" | "list_append"
        | "array_push_back" | "list_push_back" | "array_prepend" | "list_prepend"
        | "array_push_front" | "list_push_front" | "array_concat" | "list_concat" | "array_cat"
        | "list_cat" | "array_union" | "list_union" | "arrays_zip" | "list_zip" | "struct"
        | "row" | "named_struct" | "map" | "encode" => linear(2, 16),
        // Case mapping can lengthen Unicode text; a translated character takes up to 4 bytes.
        "upper" | "lower" | "initcap" => linear(3, 16),
        "translate" => linear(4, 16),
        // One element per character at most.
        "string_to_array" | "string_to_list" => linear(9, 16),
        "concat_ws" => Some(ConcatWs),
        "repeat" => Some(Repeat),
        "lpad" | "rpad" => Some(Pad),
        "replace" => Some(Replace),
        "regexp_replace" => Some(RegexpReplace),
        "regexp_like" | "regexp_match" | "regexp_count" | "regexp_instr" => Some(Regexp),
        "range" | "generate_series" => Some(Range),
        "array_repeat" | "list_repeat" => Some(ArrayRepeat),
        "array_to_string" | "list_to_string" | "array_join" | "list_join" => Some(ArrayToString),
        "to_char" | "date_format" => Some(Format),
        "levenshtein" => Some(Levenshtein),
        _ => None,
    }
}

/// Most work one `levenshtein` call may do (character pairs compared).
const LEVENSHTEIN_PAIRS: u128 = 200_000_000;

fn too_big(what: &str, bytes: u128) -> SandboxFailure {
    SandboxFailure::limit(
        Limit::Memory,
        format!(
            "{what} would build about {} of text or lists in one step, more than a query may use: make the counts or lengths smaller",
            secviz_sandbox::budget::bytes(bytes.min(u64::MAX as u128) as u64)
        ),
    )
}

/// Bytes of an argument as the function sees it (a constant counts once a row).
fn weight(arg: &ColumnarValue, rows: usize) -> u128 {
    match arg {
        ColumnarValue::Array(a) => a.get_array_memory_size() as u128,
        ColumnarValue::Scalar(s) => s.size() as u128 * rows.max(1) as u128,
    }
}

/// A text argument's length in bytes, row by row.
fn text_lengths(arg: &ColumnarValue, rows: usize) -> Result<Vec<u128>> {
    let array = to_array(arg, 1)?;
    let array = cast(&array, &DataType::LargeUtf8)?;
    let strings = array.as_string::<i64>();
    let lens: Vec<u128> = (0..strings.len())
        .map(|i| {
            if strings.is_null(i) {
                0
            } else {
                strings.value(i).len() as u128
            }
        })
        .collect();
    Ok(spread(lens, rows))
}

/// An integer argument row by row (negative and NULL as 0).
fn counts(arg: &ColumnarValue, rows: usize) -> Result<Vec<u128>> {
    let array = to_array(arg, 1)?;
    let array = cast(&array, &DataType::Int64)?;
    let ints = array.as_primitive::<Int64Type>();
    let v: Vec<u128> = (0..ints.len())
        .map(|i| {
            if ints.is_null(i) {
                0
            } else {
                ints.value(i).max(0) as u128
            }
        })
        .collect();
    Ok(spread(v, rows))
}

fn to_array(arg: &ColumnarValue, rows: usize) -> Result<ArrayRef> {
    match arg {
        ColumnarValue::Array(a) => Ok(a.clone()),
        ColumnarValue::Scalar(s) => s.to_array_of_size(rows),
    }
}

/// A constant's single value stands for every row.
fn spread(v: Vec<u128>, rows: usize) -> Vec<u128> {
    if v.len() == 1 && rows > 1 {
        vec![v[0]; rows]
    } else {
        v
    }
}

fn arg(args: &[ColumnarValue], i: usize) -> Option<&ColumnarValue> {
    args.get(i)
}

fn require_constant(name: &str, args: &[ColumnarValue], i: usize, what: &str) -> Result<()> {
    match arg(args, i) {
        Some(ColumnarValue::Array(_)) => Err(SandboxFailure::Forbidden(format!(
            "the {what} of {name} must be a constant text in shared queries, not a column"
        ))
        .into_datafusion()),
        _ => Ok(()),
    }
}

impl Growth {
    /// The most bytes a call with `args` may allocate.
    pub fn bound(self, name: &str, args: &ScalarFunctionArgs) -> Result<u128> {
        let rows = args.number_rows.max(1);
        let a = &args.args;
        let all: u128 = a.iter().map(|v| weight(v, rows)).sum();
        let per_row = rows as u128;
        Ok(match self {
            Growth::Linear { factor, per_row: r } => factor as u128 * all + r as u128 * per_row,
            Growth::ConcatWs => {
                let sep = a.first().map_or(0, |s| weight(s, rows));
                2 * all + sep * a.len().saturating_sub(2) as u128 + 16 * per_row
            }
            Growth::Repeat => {
                let (Some(s), Some(n)) = (arg(a, 0), arg(a, 1)) else {
                    return Ok(all);
                };
                let lens = text_lengths(s, rows)?;
                let ns = counts(n, rows)?;
                lens.iter()
                    .zip(&ns)
                    .map(|(l, n)| l.saturating_mul(*n))
                    .sum::<u128>()
                    + 16 * per_row
            }
            Growth::Pad => {
                let Some(n) = arg(a, 1) else { return Ok(all) };
                4 * counts(n, rows)?.iter().sum::<u128>() + all + 16 * per_row
            }
            Growth::Replace => {
                let (Some(s), Some(from), Some(to)) = (arg(a, 0), arg(a, 1), arg(a, 2)) else {
                    return Ok(all);
                };
                let (s, from, to) = (
                    text_lengths(s, rows)?,
                    text_lengths(from, rows)?,
                    text_lengths(to, rows)?,
                );
                s.iter()
                    .zip(&from)
                    .zip(&to)
                    .map(|((s, f), t)| s + (s + 1) / (*f).max(1) * t)
                    .sum::<u128>()
                    + 16 * per_row
            }
            Growth::RegexpReplace => {
                require_constant(name, a, 1, "pattern")?;
                require_constant(name, a, 3, "flags")?;
                let (Some(s), Some(repl)) = (arg(a, 0), arg(a, 2)) else {
                    return Ok(all);
                };
                let global = match arg(a, 3) {
                    Some(ColumnarValue::Scalar(f)) => f.to_string().contains('g'),
                    _ => false,
                };
                let refs = match repl {
                    ColumnarValue::Scalar(r) => {
                        let t = r.to_string();
                        (t.matches('$').count() + t.matches('\\').count()) as u128
                    }
                    // Replacements from a column: assume the worst of each.
                    ColumnarValue::Array(_) => 8,
                };
                let (s, repl) = (text_lengths(s, rows)?, text_lengths(repl, rows)?);
                s.iter()
                    .zip(&repl)
                    .map(|(s, r)| {
                        let matches = if global { s + 1 } else { 1 };
                        s + matches * (r + refs * s)
                    })
                    .sum::<u128>()
                    + 16 * per_row
            }
            Growth::Regexp => {
                require_constant(name, a, 1, "pattern")?;
                let flags_at = if name == "regexp_count" || name == "regexp_instr" {
                    a.len().saturating_sub(1).max(2)
                } else {
                    2
                };
                if a.len() > flags_at {
                    require_constant(name, a, flags_at, "flags")?;
                }
                all + 16 * per_row
            }
            Growth::Range => {
                let elements = range_elements(name, a, rows)?;
                elements.saturating_mul(16) + 16 * per_row
            }
            Growth::ArrayRepeat => {
                let (Some(x), Some(n)) = (arg(a, 0), arg(a, 1)) else {
                    return Ok(all);
                };
                let each = weight(x, rows) / per_row + 8;
                counts(n, rows)?.iter().sum::<u128>().saturating_mul(each) + 16 * per_row
            }
            Growth::ArrayToString => {
                let Some(list) = arg(a, 0) else {
                    return Ok(all);
                };
                let elements = list_elements(list, rows);
                let seps: u128 = a
                    .iter()
                    .skip(1)
                    .map(|s| weight(s, rows) / per_row + 1)
                    .sum();
                4 * all + elements.saturating_mul(seps + 24) + 16 * per_row
            }
            Growth::Format => 16 * all + 64 * per_row,
            Growth::Levenshtein => {
                let (Some(x), Some(y)) = (arg(a, 0), arg(a, 1)) else {
                    return Ok(all);
                };
                let pairs: u128 = text_lengths(x, rows)?
                    .iter()
                    .zip(&text_lengths(y, rows)?)
                    .map(|(x, y)| x * y)
                    .sum();
                if pairs > LEVENSHTEIN_PAIRS {
                    return Err(SandboxFailure::limit(
                        Limit::Time,
                        "levenshtein on texts this long would take too long: compare shorter texts (substr) or fewer rows",
                    )
                    .into_datafusion());
                }
                all + 16 * per_row
            }
        })
    }
}

/// Elements a list-valued `range`/`generate_series` call makes, over integers only.
fn range_elements(name: &str, a: &[ColumnarValue], rows: usize) -> Result<u128> {
    let integer = |v: &ColumnarValue| match v {
        ColumnarValue::Array(x) => x.data_type().is_integer(),
        ColumnarValue::Scalar(s) => s.data_type().is_integer() || s.is_null(),
    };
    if !a.iter().all(integer) {
        return Err(SandboxFailure::Forbidden(format!(
            "{name} over dates or times as a list is not available in shared queries: use integers, or {name} in FROM"
        ))
        .into_datafusion());
    }
    let ints = |i: usize| -> Result<Vec<i128>> {
        let array = cast(&to_array(&a[i], 1)?, &DataType::Int64)?;
        let p = array.as_primitive::<Int64Type>();
        let v: Vec<i128> = (0..p.len())
            .map(|j| if p.is_null(j) { 0 } else { p.value(j) as i128 })
            .collect();
        Ok(if v.len() == 1 && rows > 1 {
            vec![v[0]; rows]
        } else {
            v
        })
    };
    let (start, stop) = match a.len() {
        1 => (vec![0; rows], ints(0)?),
        _ => (ints(0)?, ints(1)?),
    };
    let step = if a.len() >= 3 {
        ints(2)?
    } else {
        vec![1; rows]
    };
    Ok(start
        .iter()
        .zip(&stop)
        .zip(&step)
        .map(|((a, b), s)| ((b - a).unsigned_abs() / s.unsigned_abs().max(1)) + 1)
        .sum())
}

/// Elements of a list argument in all rows.
fn list_elements(v: &ColumnarValue, rows: usize) -> u128 {
    let len = |a: &dyn Array| -> u128 {
        match a.data_type() {
            DataType::List(_) => a.as_list::<i32>().values().len() as u128,
            DataType::LargeList(_) => a.as_list::<i64>().values().len() as u128,
            DataType::FixedSizeList(_, n) => a.len() as u128 * (*n).max(0) as u128,
            _ => a.len() as u128,
        }
    };
    match v {
        ColumnarValue::Array(a) => len(a.as_ref()),
        ColumnarValue::Scalar(s) => s
            .to_array_of_size(1)
            .map_or(0, |a| len(a.as_ref()) * rows as u128),
    }
}

/// A function behind its guard.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Guarded {
    inner: Arc<ScalarUDF>,
    growth: Growth,
}

impl Guarded {
    /// The guarded form of `f` for members, or why members may not call it.
    pub fn wrap(f: &Arc<ScalarUDF>) -> std::result::Result<Arc<ScalarUDF>, SandboxFailure> {
        if f.inner().downcast_ref::<Guarded>().is_some() {
            return Ok(f.clone());
        }
        let growth = std::iter::once(f.name())
            .chain(f.aliases().iter().map(String::as_str))
            .find_map(growth_of)
            .ok_or_else(|| {
                SandboxFailure::Forbidden(format!(
                    "the function {} is not available in shared queries",
                    f.name()
                ))
            })?;
        Ok(Arc::new(ScalarUDF::new_from_impl(Guarded {
            inner: f.clone(),
            growth,
        })))
    }
}

impl Guarded {
    /// The function behind the guard (what a worker wraps again: [`Guarded::wrap`]).
    pub fn inner(&self) -> &Arc<ScalarUDF> {
        &self.inner
    }
}

impl ScalarUDFImpl for Guarded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        #[allow(deprecated)]
        self.inner.inner().display_name(args)
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.inner().return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn is_nullable(&self, args: &[Expr], schema: &dyn datafusion::common::ExprSchema) -> bool {
        #[allow(deprecated)]
        self.inner.inner().is_nullable(args, schema)
    }

    // Some functions only work once simplified (`coalesce` becomes CASE). What a
    // simplification makes is guarded by the rewrite's next pass.
    fn simplify(
        &self,
        args: Vec<Expr>,
        info: &datafusion::logical_expr::simplify::SimplifyContext,
    ) -> Result<datafusion::logical_expr::simplify::ExprSimplifyResult> {
        self.inner.inner().simplify(args, info)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.inner().coerce_types(arg_types)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.inner().output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.inner().preserves_lex_ordering(inputs)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.growth == Growth::Pad && args.args.len() > 1 {
            // DataFusion's `rpad(s, -1, fill)` panics (capacity overflow; found by the SQL
            // fuzzer): a negative length pads to nothing, as in PostgreSQL.
            let n = std::mem::replace(&mut args.args[1], ColumnarValue::Scalar(ScalarValue::Null));
            args.args[1] = not_negative(n)?;
        }
        let bound = self.growth.bound(self.inner.name(), &args)?;
        if bound > usize::MAX as u128 {
            return Err(too_big(self.inner.name(), bound).into_datafusion());
        }
        ensure_room(bound as usize).map_err(|e| match SandboxFailure::find(&e) {
            Some(SandboxFailure::Exceeded(secviz_sandbox::Exceeded::Memory { .. })) => {
                too_big(self.inner.name(), bound).into_datafusion()
            }
            _ => e,
        })?;
        let out = self.inner.invoke_with_args(args)?;
        check()?;
        Ok(out)
    }
}

/// A length argument with negative values replaced by 0.
fn not_negative(v: ColumnarValue) -> Result<ColumnarValue> {
    use datafusion::arrow::array::Int64Array;
    Ok(match v {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) if n < 0 => {
            ColumnarValue::Scalar(ScalarValue::Int64(Some(0)))
        }
        ColumnarValue::Array(a) => match a.as_any().downcast_ref::<Int64Array>() {
            Some(ints) if ints.iter().any(|n| n.is_some_and(|n| n < 0)) => {
                let fixed: Int64Array = ints.iter().map(|n| n.map(|n| n.max(0))).collect();
                ColumnarValue::Array(std::sync::Arc::new(fixed))
            }
            _ => ColumnarValue::Array(a),
        },
        other => other,
    })
}

/// The identity with a reservation: `Room(factor)` of `x` reserves `factor` times the
/// bytes of `x` before passing it on, for the expression that consumes `x`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Room {
    factor: usize,
    signature: Signature,
}

impl Room {
    /// `expr` with `factor` times its bytes reserved whenever it is evaluated.
    pub fn around(expr: Expr, factor: usize) -> Expr {
        let udf = ScalarUDF::new_from_impl(Room {
            factor,
            // Volatile: never folded away as a constant, so a literal stays reserved for
            // each batch it is used in.
            signature: Signature::any(1, Volatility::Volatile),
        });
        udf.call(vec![expr])
    }

    /// The reservation function itself, for `factor` (what a worker decodes).
    pub fn udf(factor: usize) -> ScalarUDF {
        ScalarUDF::new_from_impl(Room {
            factor,
            signature: Signature::any(1, Volatility::Volatile),
        })
    }

    pub fn factor(&self) -> usize {
        self.factor
    }

    /// Whether `expr` is already a reservation.
    pub fn is_room(expr: &Expr) -> bool {
        matches!(expr, Expr::ScalarFunction(f) if f.func.inner().downcast_ref::<Room>().is_some())
    }
}

impl ScalarUDFImpl for Room {
    fn name(&self) -> &str {
        "sandbox_room"
    }

    // Invisible in names: the column keeps the name of what it wraps.
    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].to_string())
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].schema_name().to_string())
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(args.arg_fields[0].clone())
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        Ok(inputs[0].sort_properties)
    }

    fn preserves_lex_ordering(&self, _inputs: &[ExprProperties]) -> Result<bool> {
        Ok(true)
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let value = args.args.swap_remove(0);
        let bytes = weight(&value, rows).saturating_mul(self.factor as u128);
        ensure_room(bytes.min(usize::MAX as u128) as usize)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::ScalarValue;
    use datafusion::config::ConfigOptions;

    fn call(args: Vec<ColumnarValue>, rows: usize) -> ScalarFunctionArgs {
        ScalarFunctionArgs {
            arg_fields: args
                .iter()
                .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
                .collect(),
            args,
            number_rows: rows,
            return_field: Arc::new(Field::new("r", DataType::Utf8, true)),
            config_options: Arc::new(ConfigOptions::default()),
        }
    }

    fn text(s: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.into())))
    }

    fn int(n: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n)))
    }

    #[test]
    fn bounds_follow_the_arguments_values() {
        let b = Growth::Repeat
            .bound("repeat", &call(vec![text("ab"), int(1_000_000_000_000)], 1))
            .unwrap();
        assert!(b >= 2_000_000_000_000, "{b}");
        let b = Growth::Pad
            .bound("lpad", &call(vec![text("x"), int(1 << 40)], 1))
            .unwrap();
        assert!(b >= 4 << 40);
        let col = ColumnarValue::Array(Arc::new(StringArray::from(vec!["aaaa"; 100])));
        let b = Growth::Replace
            .bound(
                "replace",
                &call(vec![col.clone(), text("a"), text(&"x".repeat(1000))], 100),
            )
            .unwrap();
        assert!(b >= 100 * 4 * 1000, "{b}");
        let b = Growth::RegexpReplace
            .bound(
                "regexp_replace",
                &call(vec![col.clone(), text("."), text("$0$0"), text("g")], 100),
            )
            .unwrap();
        assert!(b >= 100 * 5 * 8, "{b}");
        let b = Growth::Range
            .bound("range", &call(vec![int(1), int(1_000_000_000)], 1))
            .unwrap();
        assert!(b >= 8_000_000_000, "{b}");
        let ns = ColumnarValue::Array(Arc::new(Int64Array::from(vec![1_000_000; 10])));
        let b = Growth::ArrayRepeat
            .bound("array_repeat", &call(vec![int(1), ns], 10))
            .unwrap();
        assert!(b >= 10_000_000 * 8);
    }

    #[test]
    fn patterns_from_columns_and_huge_comparisons_are_refused() {
        let col = ColumnarValue::Array(Arc::new(StringArray::from(vec!["a.b"; 3])));
        let e = Growth::Regexp
            .bound("regexp_like", &call(vec![text("x"), col.clone()], 3))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("pattern of regexp_like must be a constant"),
            "{e}"
        );
        assert!(
            Growth::Regexp
                .bound("regexp_like", &call(vec![col.clone(), text("a")], 3))
                .is_ok()
        );
        let long = text(&"a".repeat(20_000));
        let e = Growth::Levenshtein
            .bound("levenshtein", &call(vec![long.clone(), long], 1))
            .unwrap_err();
        assert!(e.to_string().contains("too long"), "{e}");
        let e = Growth::Range
            .bound(
                "range",
                &call(
                    vec![
                        ColumnarValue::Scalar(ScalarValue::Date32(Some(0))),
                        ColumnarValue::Scalar(ScalarValue::Date32(Some(10))),
                    ],
                    1,
                ),
            )
            .unwrap_err();
        assert!(e.to_string().contains("use integers"), "{e}");
    }

    #[test]
    fn the_review_list_names_no_path_or_type_games() {
        for name in [
            "input_file_name",
            "file_row_index",
            "version",
            "arrow_cast",
            "array_resize",
            "array_replace_all",
            "with_metadata",
        ] {
            assert_eq!(growth_of(name), None, "{name}");
        }
        assert!(growth_of("repeat").is_some());
        assert!(growth_of("ip_prefix").is_some());
    }
}
