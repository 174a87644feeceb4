//! [`Source`]: one dataset of the lake as the table `events`, narrowed by the view's filter,
//! answering parameterised SQL with DataFusion under limits (read-only statements, the
//! lake's memory pool, a time limit).
//!
//! The session comes from the lake ([`Lake::session`]) with only this dataset registered,
//! so a filter cannot name any other; the view's queries then run on it with parameters
//! (the lake's member query entry point takes SQL text only). For members
//! ([`Limits::sandbox`]) the session is the lake's sandbox: it must be opened on a thread of
//! a `secviz_sandbox::Executor`, and the member's filter is held to the same shape limits
//! as their SQL before it is planned.

use std::time::Duration;

use secviz_lake::datafusion::arrow::record_batch::RecordBatch;
use secviz_lake::datafusion::execution::SendableRecordBatchStream;
use secviz_lake::datafusion::execution::context::SQLOptions;
use secviz_lake::datafusion::prelude::{DataFrame, SessionContext};
use secviz_lake::datafusion::sql::sqlparser::dialect::GenericDialect;
use secviz_lake::datafusion::sql::sqlparser::parser::Parser;
use secviz_lake::query::sandbox::shape;
use secviz_lake::query::{Access, Limit, QueryLimits, SandboxLimits, ShapeLimits};
use secviz_lake::{DatasetName, EVENTS_TABLE, Lake, Manifest};

use crate::error::ViewError;
use crate::sql::Sql;

/// Limits of one view query.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub time: Duration,
    pub memory: usize,
    /// Work started by a member (the portal): planned and run in the lake's sandbox.
    /// `false` for the operator's own lake (`secviz chart`, `secviz view`).
    pub sandbox: bool,
}

impl Limits {
    /// A member's view: 30 s, 512 MiB, in the sandbox.
    pub fn member() -> Limits {
        Limits {
            time: Duration::from_secs(30),
            memory: 512 << 20,
            sandbox: true,
        }
    }

    /// The operator's own data: generous time and memory, no sandbox.
    pub fn operator() -> Limits {
        Limits {
            time: Duration::from_secs(3600),
            memory: 8 << 30,
            sandbox: false,
        }
    }
}

impl Limits {
    /// The lake's limits of a query under these.
    pub fn query(&self) -> QueryLimits {
        QueryLimits {
            timeout: Some(self.time),
            memory_bytes: Some(self.memory),
            max_rows: None,
            spill: false,
            sandbox: self.sandbox.then(|| SandboxLimits::member(self.time)),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::member()
    }
}

/// A dataset, filtered, ready to query.
pub struct Source {
    ctx: SessionContext,
    pub manifest: Manifest,
    limits: Limits,
    /// The lake it reads, for the dataset's summaries (`compute::summarized`).
    lake: Lake,
    /// Whether a filter narrows the dataset (its summaries then count too much).
    filtered: bool,
}

fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Longest filter accepted, in bytes (the SQL API's limit on a whole query).
pub const MAX_FILTER_BYTES: usize = 16 * 1024;

/// Checks that a member's filter is a single SQL expression (no statement separators,
/// no second query smuggled in after a parenthesis) of a shape the sandbox accepts.
pub(crate) fn check_filter(filter: &str) -> Result<(), ViewError> {
    if filter.len() > MAX_FILTER_BYTES {
        return Err(ViewError::Limit {
            limit: Limit::SqlLength,
            message: format!("the filter is longer than {MAX_FILTER_BYTES} bytes: shorten it"),
        });
    }
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(64)
        .try_with_sql(filter)
        .map_err(|e| ViewError::Query(format!("filter: {e}")))?;
    let expr = parser
        .parse_expr()
        .map_err(|e| ViewError::Query(format!("filter: {e}")))?;
    if parser.peek_token().token != secviz_lake::datafusion::sql::sqlparser::tokenizer::Token::EOF {
        return Err(ViewError::Query(
            "filter: one boolean expression expected, with nothing after it".into(),
        ));
    }
    shape::check(&expr, &ShapeLimits::default()).map_err(|e| ViewError::from_query(e, "filter"))
}

impl Source {
    /// Opens `dataset` as `events`, filtered by `filter` (a SQL boolean expression).
    pub async fn open(
        lake: &Lake,
        dataset: &DatasetName,
        filter: Option<&str>,
        limits: Limits,
    ) -> Result<Source, ViewError> {
        let manifest = lake.require(dataset).await?;
        let ctx = lake
            .session(&Access::Only(vec![dataset.clone()]), &limits.query())
            .await?;
        // The dataset's own table has exactly the event schema (the lake's `events` adds a
        // `dataset` column); `events` becomes the filtered view every query reads. Dataset
        // names are [a-z0-9_-], so quoting them is enough.
        let base = format!("SELECT * FROM \"{}\"", dataset.as_str());
        let filter = filter.map(str::trim).filter(|f| !f.is_empty());
        let sql = match filter {
            Some(f) => {
                check_filter(f)?;
                format!("{base} WHERE ({f})")
            }
            None => base,
        };
        // The filter is planned on its own, with no parameters in scope.
        let view = ctx.sql_with_options(&sql, read_only()).await?.into_view();
        ctx.deregister_table(EVENTS_TABLE)?;
        ctx.register_table(EVENTS_TABLE, view)?;
        Ok(Source {
            ctx,
            manifest,
            limits,
            lake: lake.clone(),
            filtered: filter.is_some(),
        })
    }

    /// Whether a filter narrows the dataset.
    pub fn is_filtered(&self) -> bool {
        self.filtered
    }

    pub(crate) fn lake(&self) -> &Lake {
        &self.lake
    }

    /// How long one of the view's queries may take.
    pub(crate) fn time_limit(&self) -> Duration {
        self.limits.time
    }

    async fn frame(&self, sql: &Sql) -> Result<DataFrame, ViewError> {
        let df = self.ctx.sql_with_options(&sql.text, read_only()).await?;
        Ok(if sql.params.is_empty() {
            df
        } else {
            df.with_param_values(sql.params.clone())?
        })
    }

    /// Runs a query and collects its (small, aggregated) result.
    pub async fn collect(&self, sql: &Sql) -> Result<Vec<RecordBatch>, ViewError> {
        let run = async { Ok::<_, ViewError>(self.frame(sql).await?.collect().await?) };
        tokio::time::timeout(self.limits.time, run)
            .await
            .map_err(|_| ViewError::TooCostly)?
    }

    /// Runs a query as a stream of batches (rows for CSV, the graph builder).
    pub async fn stream(&self, sql: &Sql) -> Result<SendableRecordBatchStream, ViewError> {
        let run = async { Ok::<_, ViewError>(self.frame(sql).await?.execute_stream().await?) };
        tokio::time::timeout(self.limits.time, run)
            .await
            .map_err(|_| ViewError::TooCostly)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_one_expression() {
        assert!(check_filter("action = 'block' AND dst_port < 1024").is_ok());
        assert!(check_filter("1=1) UNION SELECT * FROM x WHERE (1=1").is_err());
        assert!(check_filter("1=1; DROP TABLE events").is_err());
        let long = format!("dst_port = {}1", "1+".repeat(3000));
        assert!(matches!(
            check_filter(&long),
            Err(ViewError::Limit {
                limit: Limit::ExpressionDepth,
                ..
            })
        ));
    }
}
