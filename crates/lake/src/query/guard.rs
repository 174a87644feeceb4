//! The read-only gate: SQL is parsed with DataFusion's own parser and only a single
//! query (`SELECT`, `WITH ... SELECT`, `VALUES`, set operations), or when allowed an
//! `EXPLAIN` of one, gets through. Everything else is refused by name before planning;
//! the planner then runs with DDL, DML and statements disabled as a second wall.

use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{SetExpr, Statement as SqlStatement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use super::error::{Limit, QueryError, QueryErrorKind};
use super::sandbox::ShapeLimits;

/// Longest SQL text accepted, in bytes.
pub const MAX_SQL_BYTES: usize = 64 * 1024;

/// Nesting depth the parser accepts (deeper input is refused, not overflowed).
const RECURSION_LIMIT: usize = 64;

/// Parses `sql` and returns its one statement if it is read-only (and, when `shape` is
/// given, within those limits).
pub fn read_only_statement(
    sql: &str,
    allow_explain: bool,
    shape: Option<&ShapeLimits>,
) -> Result<DfStatement, QueryError> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(QueryError::new(
            QueryErrorKind::Limit(Limit::SqlLength),
            format!(
                "the SQL text is {} bytes; at most {MAX_SQL_BYTES} are accepted",
                sql.len()
            ),
        ));
    }
    let dialect = GenericDialect {};
    let mut parser = DFParserBuilder::new(sql)
        .with_dialect(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .build()
        .map_err(|e| QueryError::from_datafusion(e, sql))?;
    let mut statements = parser
        .parse_statements()
        .map_err(|e| QueryError::from_datafusion(e, sql))?;
    if statements.len() > 1 {
        return Err(QueryError::new(
            QueryErrorKind::Forbidden,
            "only one statement may be run at a time",
        ));
    }
    let Some(statement) = statements.pop_front() else {
        return Err(QueryError::new(
            QueryErrorKind::Syntax,
            "the query is empty",
        ));
    };
    check(&statement, allow_explain)?;
    if let (Some(limits), DfStatement::Statement(s)) = (shape, &statement) {
        super::sandbox::shape::check(s.as_ref(), limits)?;
    }
    Ok(statement)
}

fn check(statement: &DfStatement, allow_explain: bool) -> Result<(), QueryError> {
    let forbidden = |what: &str| {
        Err(QueryError::new(
            QueryErrorKind::Forbidden,
            format!("{what} is not allowed: only SELECT queries run here"),
        ))
    };
    match statement {
        DfStatement::Statement(s) => match s.as_ref() {
            SqlStatement::Query(q) => check_body(&q.body),
            SqlStatement::Explain { statement, .. } if allow_explain => match statement.as_ref() {
                SqlStatement::Query(q) => check_body(&q.body),
                _ => forbidden("EXPLAIN of anything but a query"),
            },
            SqlStatement::Explain { .. } => forbidden("EXPLAIN"),
            other => forbidden(&statement_keyword(other)),
        },
        DfStatement::Explain(e) if allow_explain => match e.statement.as_ref() {
            DfStatement::Statement(inner) if matches!(inner.as_ref(), SqlStatement::Query(_)) => {
                check(&e.statement, false)
            }
            _ => forbidden("EXPLAIN of anything but a query"),
        },
        DfStatement::Explain(_) => forbidden("EXPLAIN"),
        DfStatement::CreateExternalTable(_) => forbidden("CREATE EXTERNAL TABLE"),
        DfStatement::CopyTo(_) => forbidden("COPY"),
        DfStatement::Reset(_) => forbidden("RESET"),
    }
}

/// `SELECT ... INTO t` creates a table: refused like CREATE.
fn check_body(body: &SetExpr) -> Result<(), QueryError> {
    match body {
        SetExpr::Select(s) if s.into.is_some() => Err(QueryError::new(
            QueryErrorKind::Forbidden,
            "SELECT INTO is not allowed: only SELECT queries run here",
        )),
        SetExpr::SetOperation { left, right, .. } => {
            check_body(left)?;
            check_body(right)
        }
        SetExpr::Query(q) => check_body(&q.body),
        SetExpr::Select(_) | SetExpr::Values(_) => Ok(()),
        _ => Err(QueryError::new(
            QueryErrorKind::Forbidden,
            "only SELECT queries run here",
        )),
    }
}

/// The leading keywords of a statement, for the message (`INSERT`, `CREATE TABLE`).
fn statement_keyword(s: &SqlStatement) -> String {
    let text = s.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    let two = words.join(" ").to_uppercase();
    match words.first().map(|w| w.to_uppercase()) {
        Some(w) if ["CREATE", "DROP", "ALTER"].contains(&w.as_str()) => two,
        Some(w) => w,
        None => "this statement".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_single_read_only_queries_pass() {
        for ok in [
            "SELECT 1",
            "select count(*) from events where time > now() - interval '1 day'",
            "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
            "SELECT 1 UNION ALL SELECT 2",
            "VALUES (1), (2)",
            "SELECT 1;",
        ] {
            assert!(read_only_statement(ok, false, None).is_ok(), "{ok}");
        }
        for (bad, word) in [
            ("INSERT INTO pf VALUES (1)", "INSERT"),
            ("CREATE TABLE x AS SELECT 1", "CREATE TABLE"),
            (
                "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE EXTERNAL TABLE",
            ),
            ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
            ("DROP TABLE pf", "DROP TABLE"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
            ("SELECT 1; DROP TABLE pf", "only one statement"),
            ("SELECT * INTO copy FROM pf", "SELECT INTO"),
            ("EXPLAIN SELECT 1", "EXPLAIN"),
            ("DELETE FROM pf", "DELETE"),
        ] {
            let e = read_only_statement(bad, false, None).unwrap_err();
            assert!(
                matches!(e.kind, QueryErrorKind::Forbidden) && e.message.contains(word),
                "{bad}: {e:?}"
            );
        }
        assert!(read_only_statement("EXPLAIN SELECT 1", true, None).is_ok());
        assert!(read_only_statement("EXPLAIN ANALYZE SELECT 1", true, None).is_ok());
        assert!(read_only_statement("EXPLAIN COPY (SELECT 1) TO '/tmp/x'", true, None).is_err());
    }

    #[test]
    fn syntax_errors_have_positions_and_limits_hold() {
        let e = read_only_statement("SELECT * FROM\nWHERE x = 1", false, None).unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Syntax, "{e:?}");
        let p = e.position.expect("a position");
        assert_eq!(p.line, 2, "{e:?}");
        assert_eq!(
            read_only_statement("   ", false, None).unwrap_err().kind,
            QueryErrorKind::Syntax
        );
        let long = format!("SELECT {}", "1+".repeat(MAX_SQL_BYTES));
        assert_eq!(
            read_only_statement(&long, false, None).unwrap_err().kind,
            QueryErrorKind::Limit(Limit::SqlLength)
        );
        let deep = format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500));
        assert!(read_only_statement(&deep, false, None).is_err());
    }
}
