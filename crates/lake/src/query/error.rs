//! [`QueryError`]: what a member is told when SQL cannot run: a kind, a message and,
//! when known, the position in the SQL text.

use std::fmt;

use datafusion::error::DataFusionError;

/// A line and column in the SQL text, both from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Which limit stopped a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Time,
    Memory,
    SqlLength,
    /// Expressions, subqueries or joins nested too deep.
    ExpressionDepth,
    /// Too many expressions.
    ExpressionSize,
    /// Too many tables, joins or SELECT blocks.
    Tables,
    /// The plan's estimated work is beyond what the time limit allows.
    EstimatedRows,
    /// The answer grew past its byte cap.
    AnswerBytes,
}

/// What kind of error a query met. All but `Internal` are the member's to fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryErrorKind {
    /// The SQL does not parse.
    Syntax,
    /// A statement other than a read-only query (INSERT, CREATE, COPY, SET, ...).
    Forbidden,
    /// Unknown table or column, type mismatch, ...
    Plan,
    /// A limit on time, memory or size was hit.
    Limit(Limit),
    /// The query failed while running (division by zero, bad cast, ...).
    Execution,
    /// The request that started the query went away.
    Cancelled,
    /// Our fault, not the member's.
    Internal,
}

/// A query that could not run.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QueryError {
    pub kind: QueryErrorKind,
    pub message: String,
    pub position: Option<Position>,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            QueryErrorKind::Syntax => "syntax error",
            QueryErrorKind::Forbidden => "not allowed",
            QueryErrorKind::Plan => "invalid query",
            QueryErrorKind::Limit(_) => "limit reached",
            QueryErrorKind::Execution => "query failed",
            QueryErrorKind::Cancelled => "cancelled",
            QueryErrorKind::Internal => "internal error",
        };
        write!(f, "{what}: {}", self.message)?;
        if let Some(p) = self.position {
            write!(f, " (at {p})")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

impl QueryError {
    pub fn new(kind: QueryErrorKind, message: impl Into<String>) -> QueryError {
        QueryError {
            kind,
            message: message.into(),
            position: None,
        }
    }

    pub fn at(mut self, position: Option<Position>) -> QueryError {
        self.position = position;
        self
    }

    /// The message for someone who must not learn the server's internals: internal
    /// errors (which may name files) become a generic sentence.
    pub fn public_message(&self) -> String {
        match self.kind {
            QueryErrorKind::Internal => "internal error while running the query".to_string(),
            _ => self.to_string(),
        }
    }

    /// The SQL line the error points at with a caret under the column, for terminals.
    pub fn caret(&self, sql: &str) -> Option<String> {
        let p = self.position?;
        let line = sql
            .lines()
            .nth(usize::try_from(p.line).ok()?.checked_sub(1)?)?;
        let col = usize::try_from(p.column).ok()?.checked_sub(1)?;
        let pad: String = line
            .chars()
            .take(col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        Some(format!("{line}\n{pad}^"))
    }

    /// Classifies a DataFusion error, finding the position from its diagnostic or, for
    /// parser errors, from the message sqlparser writes (`at Line: 1, Column: 8`).
    pub fn from_datafusion(err: DataFusionError, sql: &str) -> QueryError {
        if let Some(f) = super::sandbox::SandboxFailure::find(&err) {
            return f.to_query_error();
        }
        let position = err
            .diagnostic()
            .and_then(|d| d.span)
            .filter(|s| s.start.line > 0)
            .map(|s| Position {
                line: s.start.line,
                column: s.start.column,
            })
            .or_else(|| position_in_message(&err.to_string()))
            .or_else(|| guess_position(&err, sql));
        let root = err.find_root();
        if let Some(message) = worker_message(&root.message()) {
            return QueryError {
                kind: QueryErrorKind::Execution,
                message,
                position: None,
            };
        }
        // DataFusion reports arguments that fit no signature of a function as an internal
        // error, sometimes inside a planning error (found by the SQL fuzzer: `substr(text, 1, cardinality(..))`, a UInt64
        // length); they are the member's to fix.
        let misfit = {
            let m = root.message();
            m.contains("failed to match any signature")
                .then(|| {
                    m.split("Function '")
                        .nth(1)?
                        .split('\'')
                        .next()
                        .map(str::to_string)
                })
                .flatten()
                .filter(|name| !name.is_empty() && name.len() <= 64)
        };
        if let Some((_, message)) = ENGINE_REFUSALS
            .iter()
            .find(|(needle, _)| root.message().contains(needle))
        {
            return QueryError {
                kind: QueryErrorKind::Plan,
                message: message.to_string(),
                position,
            };
        }
        let kind = match root {
            _ if misfit.is_some() => QueryErrorKind::Plan,
            DataFusionError::SQL(..) => QueryErrorKind::Syntax,
            DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_) => QueryErrorKind::Plan,
            DataFusionError::ResourcesExhausted(_) => QueryErrorKind::Limit(Limit::Memory),
            DataFusionError::Execution(_) | DataFusionError::ArrowError(..) => {
                QueryErrorKind::Execution
            }
            _ => QueryErrorKind::Internal,
        };
        let message = match (kind, misfit) {
            (_, Some(name)) => format!(
                "{name}() does not take these arguments (their number or their types); \
                 check them, and cast where needed (CAST(x AS BIGINT))"
            ),
            (QueryErrorKind::Limit(Limit::Memory), _) => {
                "the query needs more memory than it may use; aggregate more, or select fewer columns or rows"
                    .to_string()
            }
            // DataFusion shows the parser's error with `{:?}` (`ParserError("...")`).
            (_, None) => match root {
                DataFusionError::SQL(e, _) => clean_message(&e.to_string()),
                _ => clean_message(&root.message()),
            },
        };
        QueryError {
            kind,
            message,
            position,
        }
    }
}

/// DataFusion defects found by the SQL fuzzer, where the engine refuses its own plan of a
/// valid query with an internal error: (what its message says, what the member is told).
/// The member can write the query another way, so it is theirs to rephrase, not our
/// failure.
const ENGINE_REFUSALS: &[(&str, &str)] = &[
    // `SELECT DISTINCT CASE WHEN ... THEN bytes ELSE 1000000 END ... ORDER BY 1`: two of
    // its planners disagree on whether a column may be null.
    (
        "Physical input schema should be the same as the one converted from logical input schema",
        "the SQL engine could not plan this query (its planners disagree on whether a \
         column may be empty); write it another way, for example GROUP BY instead of \
         DISTINCT, or wrap the expression in COALESCE",
    ),
    // `(SELECT ip_prefix(src_ip, 24), count(DISTINCT raw) ... GROUP BY 1 LIMIT 1000000)`
    // joined to another subquery: the limit wants an order the DISTINCT does not have.
    (
        "Ordering direction required for DISTINCT with limit",
        "the SQL engine could not plan this query (a DISTINCT under a LIMIT, in a \
         subquery); write it another way, for example without the LIMIT in the subquery",
    ),
];

/// A query worker's failure, which the distributed engine reports as a gRPC status
/// (`code: 'Unavailable', message: "…", source: …`): said in words, without the status dump.
fn worker_message(m: &str) -> Option<String> {
    let code = m.split("code: '").nth(1)?.split('\'').next()?;
    let inner = m
        .split("message: \"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("");
    let gone = [
        "h2 protocol error",
        "transport error",
        "connect",
        "broken pipe",
        "reset",
    ]
    .iter()
    .any(|w| inner.to_ascii_lowercase().contains(w))
        || matches!(code, "Unavailable" | "Cancelled");
    Some(if code == "Unauthenticated" {
        format!(
            "a query worker refused the query: {inner}; check that the workers and this side share the same secret"
        )
    } else if gone {
        "a query worker went away or could not be reached during the query; ask again, and check that the workers (secviz worker) are running".to_string()
    } else if inner.is_empty() {
        format!("a query worker failed ({code})")
    } else {
        format!("a query worker failed: {}", clean_message(inner))
    })
}

/// Removes the position sqlparser appends (we report it separately), trailing noise, and
/// the Rust debug dumps of plan nodes that some DataFusion messages end with (found by the
/// SQL fuzzer: `... logical expression InSubquery(InSubquery { expr: Literal(...) })`).
fn clean_message(m: &str) -> String {
    let m = m.trim();
    if let Some(w) = worker_message(m) {
        return w;
    }
    if m.starts_with("Physical plan does not support logical expression") {
        return "a subquery is not supported in this place (IN or EXISTS in the select list or a join condition); write it as a JOIN"
            .to_string();
    }
    let m = match m.find(" at Line: ") {
        Some(i) => &m[..i],
        None => m,
    };
    let m = &m[..debug_dump_start(m).unwrap_or(m.len())];
    // `table 'datafusion.public.x' not found`: the engine's catalog and schema mean nothing
    // to a member, whose tables are datasets.
    if let Some(rest) = m.strip_prefix("table '")
        && let Some((table, "")) = rest.split_once("' not found")
    {
        let name = table.rsplit('.').next().unwrap_or(table);
        return format!("no dataset named {name}");
    }
    m.trim_start_matches("sql parser error: ")
        .trim_end_matches([' ', ':', '.', ','])
        .to_string()
}

/// Where a Rust debug dump starts in a message: a CamelCase name followed by `(` or ` {`
/// (`Literal(`, `Some(`, `Column { `). SQL's names (`COUNT(`, `repeat(`) are all one case.
fn debug_dump_start(m: &str) -> Option<usize> {
    let b = m.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if starts_word && b[i].is_ascii_uppercase() {
            let end = (i..b.len())
                .find(|&j| !(b[j].is_ascii_alphanumeric() || b[j] == b'_'))
                .unwrap_or(b.len());
            let camel = b[i..end].iter().any(u8::is_ascii_lowercase);
            let opens = b[end..].starts_with(b"(") || b[end..].starts_with(b" { ");
            if camel && opens && i > 0 {
                return Some(i);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    None
}

/// `... at Line: 1, Column: 8` (sqlparser's form).
fn position_in_message(m: &str) -> Option<Position> {
    let rest = &m[m.find("Line: ")? + 6..];
    let (line, rest) = rest.split_once(',')?;
    let rest = rest.trim_start().strip_prefix("Column: ")?;
    let column: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some(Position {
        line: line.trim().parse().ok()?,
        column: column.parse().ok()?,
    })
}

/// For errors that name a field or table without a span, the first place that name
/// appears in the SQL as a whole word.
fn guess_position(err: &DataFusionError, sql: &str) -> Option<Position> {
    let text = err.to_string();
    let name = ["No field named ", "table '", "Table not found: "]
        .iter()
        .find_map(|marker| {
            let rest = &text[text.find(marker)? + marker.len()..];
            let name: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })?;
    let name = name.rsplit('.').next()?.to_string();
    let lower = sql.to_lowercase();
    let target = name.to_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&target) {
        let at = from + i;
        let before = lower[..at].chars().next_back();
        let after = lower[at + target.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !word(before) && !word(after) {
            let line = sql[..at].matches('\n').count() as u64 + 1;
            let column = sql[..at]
                .rsplit('\n')
                .next()
                .map_or(0, |l| l.chars().count()) as u64
                + 1;
            return Some(Position { line, column });
        }
        from = at + target.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_from_messages_and_carets() {
        assert_eq!(
            position_in_message(
                "sql parser error: Expected: end of statement, found: x at Line: 2, Column: 14"
            ),
            Some(Position {
                line: 2,
                column: 14
            })
        );
        let e =
            QueryError::new(QueryErrorKind::Plan, "x").at(Some(Position { line: 2, column: 8 }));
        assert_eq!(
            e.caret("select 1\nfrom   nope").unwrap(),
            "from   nope\n       ^"
        );
        assert_eq!(
            clean_message("sql parser error: Expected: x, found: y at Line: 1, Column: 3"),
            "Expected: x, found: y"
        );
    }

    #[test]
    fn unknown_tables_are_named_as_datasets() {
        assert_eq!(
            clean_message("table 'datafusion.public.nope' not found"),
            "no dataset named nope"
        );
        assert_eq!(
            clean_message("table 'flows' not found"),
            "no dataset named flows"
        );
    }

    #[test]
    fn debug_dumps_are_cut_and_sql_names_kept() {
        assert_eq!(
            clean_message("Invalid argument: bad value Some(Literal(Int64(1), None)) here"),
            "Invalid argument: bad value"
        );
        assert_eq!(
            clean_message("No function matches the given name and argument types 'repeat(Int64)'"),
            "No function matches the given name and argument types 'repeat(Int64)'"
        );
        assert_eq!(
            clean_message("Error during planning: COUNT(x) is ambiguous"),
            "Error during planning: COUNT(x) is ambiguous"
        );
        assert!(
            clean_message("Physical plan does not support logical expression InSubquery(InSubquery { expr: x })")
                .contains("JOIN")
        );
    }
}
