//! The shape of a member's SQL, checked on its syntax tree before anything is planned:
//! how deep expressions nest, how many nodes there are, how many tables, SELECTs and
//! subqueries, and no recursive CTE.
//!
//! Why before planning: DataFusion's planner and optimizer recurse over expressions, so a
//! long chain such as `1+1+1+...` (which the parser builds without recursing, one level
//! per term) can overflow a thread's stack while it is planned, and a stack overflow
//! aborts the whole process. Refusing by shape keeps every plan within what the query
//! threads' known stack handles, and tells the member which limit and what to change.
//! The walk itself recurses, so it runs on a query thread too (as does the parse).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Query, Select, TableFactor, Visit, Visitor};

use crate::query::error::{Limit, QueryError, QueryErrorKind};

/// Limits on the shape of one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapeLimits {
    /// Nesting of expressions, subqueries and joins.
    pub depth: usize,
    /// Expressions, tables and subqueries in all.
    pub nodes: usize,
    /// Tables and table functions read (a self-join reads `events` twice).
    pub tables: usize,
    /// SELECT blocks (each side of a UNION is one).
    pub selects: usize,
}

impl Default for ShapeLimits {
    fn default() -> Self {
        ShapeLimits {
            depth: 128,
            nodes: 10_000,
            tables: 8,
            selects: 32,
        }
    }
}

struct Walk {
    limits: ShapeLimits,
    depth: usize,
    nodes: usize,
    tables: usize,
    selects: usize,
}

fn limit(kind: Limit, message: String) -> QueryError {
    QueryError::new(QueryErrorKind::Limit(kind), message)
}

impl Walk {
    fn enter(&mut self) -> ControlFlow<QueryError> {
        self.depth += 1;
        self.nodes += 1;
        if self.depth > self.limits.depth {
            return ControlFlow::Break(limit(
                Limit::ExpressionDepth,
                format!(
                    "the query nests more than {} levels deep (expressions, subqueries or joins within each other): simplify it",
                    self.limits.depth
                ),
            ));
        }
        if self.nodes > self.limits.nodes {
            return ControlFlow::Break(limit(
                Limit::ExpressionSize,
                format!(
                    "the query has more than {} expressions: simplify it, or filter with fewer values",
                    self.limits.nodes
                ),
            ));
        }
        ControlFlow::Continue(())
    }

    fn leave(&mut self) -> ControlFlow<QueryError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

impl Visitor for Walk {
    type Break = QueryError;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<QueryError> {
        if query.with.as_ref().is_some_and(|w| w.recursive) {
            return ControlFlow::Break(QueryError::new(
                QueryErrorKind::Forbidden,
                "recursive queries (WITH RECURSIVE) are not allowed here",
            ));
        }
        self.enter()
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<QueryError> {
        self.leave()
    }

    fn pre_visit_select(&mut self, _: &Select) -> ControlFlow<QueryError> {
        self.selects += 1;
        if self.selects > self.limits.selects {
            return ControlFlow::Break(limit(
                Limit::Tables,
                format!(
                    "the query has more than {} SELECT blocks: combine them",
                    self.limits.selects
                ),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<QueryError> {
        if !matches!(
            t,
            TableFactor::NestedJoin { .. } | TableFactor::Derived { .. }
        ) {
            self.tables += 1;
            if self.tables > self.limits.tables {
                return ControlFlow::Break(limit(
                    Limit::Tables,
                    format!(
                        "the query reads more than {} tables (each join and each table function counts): join fewer",
                        self.limits.tables
                    ),
                ));
            }
        }
        self.enter()
    }

    fn post_visit_table_factor(&mut self, _: &TableFactor) -> ControlFlow<QueryError> {
        self.leave()
    }

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<QueryError> {
        self.enter()
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<QueryError> {
        self.leave()
    }
}

/// Checks a parsed statement (or expression) against `limits`.
pub fn check<T: Visit>(tree: &T, limits: &ShapeLimits) -> Result<(), QueryError> {
    let mut walk = Walk {
        limits: *limits,
        depth: 0,
        nodes: 0,
        tables: 0,
        selects: 0,
    };
    match tree.visit(&mut walk) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn shape(sql: &str) -> Result<(), QueryError> {
        let statements = Parser::new(&GenericDialect {})
            .with_recursion_limit(1_000)
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_statements())
            .expect("parses");
        check(&statements[0], &ShapeLimits::default())
    }

    fn kind(sql: &str) -> QueryErrorKind {
        shape(sql).unwrap_err().kind
    }

    #[test]
    fn ordinary_queries_pass() {
        for sql in [
            "SELECT src_ip, count(*) FROM events WHERE action = 'block' GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
            "WITH t AS (SELECT * FROM events) SELECT a.src_ip FROM t a JOIN t b ON a.src_ip = b.dst_ip",
            "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3",
        ] {
            assert!(shape(sql).is_ok(), "{sql}");
        }
    }

    #[test]
    fn long_chains_deep_nesting_and_many_tables_are_refused() {
        // Built iteratively by the parser: one level per term.
        let chain = format!("SELECT {}1", "1+".repeat(5_000));
        assert_eq!(kind(&chain), QueryErrorKind::Limit(Limit::ExpressionDepth));
        let many = format!(
            "SELECT * FROM events WHERE dst_port IN ({})",
            (0..12_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(kind(&many), QueryErrorKind::Limit(Limit::ExpressionSize));
        let joins = format!(
            "SELECT count(*) FROM events e0 {}",
            (1..10)
                .map(|i| format!(" JOIN events e{i} ON e{i}.src_ip = e0.src_ip"))
                .collect::<String>()
        );
        assert_eq!(kind(&joins), QueryErrorKind::Limit(Limit::Tables));
        let unions = vec!["SELECT 1"; 40].join(" UNION ALL ");
        assert_eq!(kind(&unions), QueryErrorKind::Limit(Limit::Tables));
        let nested = format!(
            "SELECT {}1{}",
            "(SELECT abs(abs(abs(abs(".repeat(25),
            "))))) ".repeat(25)
        );
        assert_eq!(
            kind(&nested),
            QueryErrorKind::Limit(Limit::ExpressionDepth),
            "25 nested subqueries"
        );
        assert_eq!(
            kind("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r"),
            QueryErrorKind::Forbidden
        );
        let e = shape(&chain).unwrap_err();
        assert!(e.message.contains("128 levels"), "{e}");
    }
}
