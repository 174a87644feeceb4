//! Read-only SQL over the lake for members and for the command line.
//!
//! [`Lake::query_stream`] is the one entry point: the SQL must pass the read-only gate
//! ([`guard`]); only the datasets in [`Access`] are registered (each as a table, plus
//! `events`, their union with a `dataset` column), so nothing else can even be named;
//! the session has a memory pool of [`QueryLimits::memory_bytes`] and (for members) no
//! spilling to disk; the stream stops at [`QueryLimits::timeout`] and at
//! [`QueryLimits::max_rows`]. Every failure is a [`QueryError`] with a kind and, when
//! known, a position; a panic inside DataFusion becomes an internal error.

mod dictionary_scan;
mod distinct;
mod error;
pub mod functions;
mod group_keys;
pub mod guard;
mod output;
pub mod sandbox;
mod single_distinct;
pub(crate) mod view_groups;

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::{FutureExt, Stream, StreamExt};

pub use error::{Limit, Position, QueryError, QueryErrorKind};
pub use output::{OutputFormat, ResultWriter, escape_control, neutralize_formula, write_batches};
pub use sandbox::{SandboxFailure, SandboxLimits, ShapeLimits};

use crate::error::LakeError;
use crate::lake::Lake;
use crate::name::{DatasetName, EVENTS_TABLE};
use crate::table::LakeTable;

/// Which datasets a query may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Every dataset (the operator at the command line).
    All,
    /// Only these (a member: the datasets they may read). Names that do not exist are
    /// ignored, so a query cannot tell a missing dataset from a forbidden one.
    Only(Vec<DatasetName>),
}

/// Limits on one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Wall time from the start of planning to the last row.
    pub timeout: Option<Duration>,
    /// Memory for joins, sorts and aggregations. `None`: unbounded.
    pub memory_bytes: Option<usize>,
    /// Rows returned; the result is cut there and marked truncated.
    pub max_rows: Option<usize>,
    /// Whether operators may spill to temporary files when memory runs out.
    pub spill: bool,
    /// Work started by a member: planned and run in the sandbox ([`sandbox`]), which
    /// needs a thread of a `secviz_sandbox::Executor`. `None` for the operator.
    pub sandbox: Option<SandboxLimits>,
}

impl QueryLimits {
    /// What a member's query gets in the portal: 30 s, 512 MiB, 10,000 rows, no spill,
    /// in the sandbox.
    pub fn member() -> QueryLimits {
        let timeout = Duration::from_secs(30);
        QueryLimits {
            timeout: Some(timeout),
            memory_bytes: Some(512 << 20),
            max_rows: Some(10_000),
            spill: false,
            sandbox: Some(SandboxLimits::member(timeout)),
        }
    }

    /// Member limits with this time and memory (the sandbox's estimate follows the time).
    pub fn member_with(timeout: Duration, memory_bytes: usize) -> QueryLimits {
        QueryLimits {
            timeout: Some(timeout),
            memory_bytes: Some(memory_bytes),
            sandbox: Some(SandboxLimits::member(timeout)),
            ..QueryLimits::member()
        }
    }

    /// No limits (the operator at the command line).
    pub fn unlimited() -> QueryLimits {
        QueryLimits {
            timeout: None,
            memory_bytes: None,
            max_rows: None,
            spill: true,
            sandbox: None,
        }
    }
}

/// Options of one query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOptions {
    pub access: Access,
    pub limits: QueryLimits,
    /// Whether `EXPLAIN [ANALYZE]` may run. Plans name storage paths, so members do not
    /// get it.
    pub allow_explain: bool,
}

impl QueryOptions {
    /// A member who may read `readable`, with [`QueryLimits::member`].
    pub fn member(readable: Vec<DatasetName>) -> QueryOptions {
        QueryOptions {
            access: Access::Only(readable),
            limits: QueryLimits::member(),
            allow_explain: false,
        }
    }

    /// The operator: every dataset, no limits, EXPLAIN allowed.
    pub fn operator() -> QueryOptions {
        QueryOptions {
            access: Access::All,
            limits: QueryLimits::unlimited(),
            allow_explain: true,
        }
    }
}

/// A finished query whose rows were collected.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    /// The result was cut at `max_rows`.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Lake {
    /// A DataFusion session with the readable datasets registered: each dataset as a
    /// table, and `events`. Used by queries and by the built-in analyses.
    pub async fn session(
        &self,
        access: &Access,
        limits: &QueryLimits,
    ) -> Result<SessionContext, LakeError> {
        if limits.sandbox.is_some() && !secviz_sandbox::budget::on_executor() {
            // A bug, not a member's doing: member work must never run on the threads
            // that serve pages.
            return Err(LakeError::Sandbox(
                "a member's query was started outside the query executor".into(),
            ));
        }
        // The read leases of the datasets registered, held by the session (and by a
        // query's stream): compaction deletes no file they read ([`crate::lease`]).
        let leases = Arc::new(SessionLeases::default());
        let mut config = SessionConfig::new()
            .with_information_schema(false)
            .with_extension(leases.clone());
        config.options_mut().sql_parser.collect_spans = true;
        if let Some(s) = &limits.sandbox {
            config = config
                .with_batch_size(s.batch_size)
                .with_target_partitions(s.target_partitions);
        }
        // DataFusion's top-k aggregation sizes a table from the LIMIT (`limit * 10`):
        // `GROUP BY .. ORDER BY .. LIMIT 9223372036854775807` overflows it and panics (found
        // by the SQL fuzzer). Every session gets the plain aggregation.
        config.options_mut().optimizer.enable_topk_aggregation = false;
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = limits.memory_bytes {
            // In the sandbox the whole job is held to `bytes` (every allocation counts), so
            // the operators that reserve get half: the rest is room for what they copy
            // while sorting and joining, for projections, and for the answer.
            let fraction = if limits.sandbox.is_some() { 0.5 } else { 1.0 };
            runtime = runtime.with_memory_limit(bytes, fraction);
        }
        if !limits.spill {
            runtime = runtime.with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            );
        }
        let mut builder = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features()
            .with_optimizer_rule(Arc::new(distinct::MultiDistinctToJoin))
            .with_optimizer_rule(Arc::new(single_distinct::SingleDistinctToGroups));
        // Members' work stays in this process, in the sandbox: its guards account every
        // allocation of a query thread, which a worker's tasks (on the worker's own
        // runtime) would escape. See docs/scale.md.
        let cluster = self.cluster().filter(|_| limits.sandbox.is_none());
        match cluster {
            // The fast string grouping has no codec: a plan cut into stages keeps
            // DataFusion's partial aggregates on the coordinator's side, and each worker
            // puts the fast one in its own task; a plan left whole gets it here.
            Some(cluster) => {
                let stage = crate::cluster::StageLimits {
                    time: limits.timeout,
                    memory: limits.memory_bytes,
                    sandbox: limits.sandbox.is_some(),
                    spill: limits.spill,
                };
                builder = cluster.coordinate(builder, stage)?;
                if let Some(inner) = builder.query_planner().take() {
                    builder = builder
                        .with_query_planner(Arc::new(view_groups::LocalViewGroups { inner }));
                }
            }
            None => {
                builder = builder.with_physical_optimizer_rule(Arc::new(view_groups::GroupByViews))
            }
        }
        if let Some(s) = &limits.sandbox {
            // The sandbox plans around whatever planner is there.
            let inner = builder.query_planner().take();
            builder = builder
                .with_query_planner(Arc::new(sandbox::planner::SandboxPlanner {
                    max_work_rows: s.max_work_rows,
                    inner,
                }))
                .with_analyzer_rule(Arc::new(sandbox::rewrite::GuardAnalyzer))
                .with_optimizer_rule(Arc::new(sandbox::rewrite::GuardOptimizer))
                .with_higher_order_functions(vec![])
                .with_table_function_list(
                    datafusion::execution::SessionStateDefaults::default_table_functions()
                        .into_iter()
                        .map(|f| {
                            Arc::new(datafusion::catalog::TableFunction::new(
                                f.name().to_string(),
                                Arc::new(sandbox::series::CountedSeries {
                                    inner: f.function().clone(),
                                    name: f.name().to_string(),
                                    max_rows: s.max_work_rows,
                                }),
                            ))
                        })
                        .collect(),
                );
        }
        let state = builder.build();
        let ctx = SessionContext::new_with_state(state);
        functions::register(&ctx);
        let store = self.store();
        ctx.register_object_store(store.url().as_ref(), store.object_store());

        let names = match access {
            Access::All => self.dataset_names().await?,
            Access::Only(names) => names.clone(),
        };
        let (manifests, held) = self.manifests_leased(&names).await?;
        *leases.0.lock().expect("lease lock") = held;
        for m in &manifests {
            ctx.register_table(m.name.as_str(), Arc::new(LakeTable::dataset(store, m)))?;
        }
        ctx.register_table(EVENTS_TABLE, Arc::new(LakeTable::union(store, &manifests)))?;
        Ok(ctx)
    }

    /// Runs read-only SQL and streams its rows under the limits of `opts`.
    pub async fn query_stream(
        &self,
        sql: &str,
        opts: &QueryOptions,
    ) -> Result<QueryStream, QueryError> {
        let started = Instant::now();
        let shape = opts.limits.sandbox.as_ref().map(|s| s.shape);
        let statement = guard::read_only_statement(sql, opts.allow_explain, shape.as_ref())?;
        let deadline = opts.limits.timeout.map(|t| Box::pin(tokio::time::sleep(t)));
        let plan = async {
            let ctx = self
                .session(&opts.access, &opts.limits)
                .await
                .map_err(|e| internal(&e))?;
            let state = ctx.state();
            let df = |e| QueryError::from_datafusion(e, sql);
            let logical = state.statement_to_plan(statement).await.map_err(df)?;
            datafusion::execution::context::SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false)
                .verify_plan(&logical)
                .map_err(|e| QueryError::new(QueryErrorKind::Forbidden, e.message().to_string()))?;
            let frame = ctx.execute_logical_plan(logical).await.map_err(df)?;
            let leases = ctx.state().config().get_extension::<SessionLeases>();
            Ok((frame.execute_stream().await.map_err(df)?, leases))
        };
        let guarded = AssertUnwindSafe(plan).catch_unwind();
        let planned = match opts.limits.timeout {
            Some(t) => tokio::time::timeout(t, guarded)
                .await
                .map_err(|_| timeout_error(t))?,
            None => guarded.await,
        };
        let (inner, leases) = planned.map_err(|_| {
            QueryError::new(QueryErrorKind::Internal, "the query engine panicked")
        })??;
        Ok(QueryStream {
            _leases: leases,
            schema: inner.schema(),
            inner: Some(inner),
            deadline,
            timeout: opts.limits.timeout,
            max_rows: opts.limits.max_rows,
            rows: 0,
            truncated: false,
            sql: sql.into(),
            started,
        })
    }

    /// Runs read-only SQL and collects its rows (at most `max_rows`).
    pub async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, QueryError> {
        let mut stream = self.query_stream(sql, opts).await?;
        let mut batches = Vec::new();
        while let Some(b) = stream.next().await {
            batches.push(b?);
        }
        Ok(QueryResult {
            schema: stream.schema(),
            rows: stream.rows(),
            truncated: stream.truncated(),
            batches,
            elapsed: stream.elapsed(),
        })
    }
}

/// The read leases a session holds ([`crate::lease`]), as a session-config extension.
#[derive(Debug, Default)]
pub(crate) struct SessionLeases(std::sync::Mutex<Vec<crate::lease::ReadLease>>);

fn internal(e: &LakeError) -> QueryError {
    QueryError::new(QueryErrorKind::Internal, e.to_string())
}

fn timeout_error(t: Duration) -> QueryError {
    QueryError::new(
        QueryErrorKind::Limit(Limit::Time),
        format!("the query ran longer than {:.1} s", t.as_secs_f64()),
    )
}

/// The rows of a running query, enforcing its time and row limits. Dropping it
/// cancels the query.
pub struct QueryStream {
    /// Held until the rows are read: the files stay while the query reads them.
    _leases: Option<Arc<SessionLeases>>,
    schema: SchemaRef,
    inner: Option<SendableRecordBatchStream>,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout: Option<Duration>,
    max_rows: Option<usize>,
    rows: usize,
    truncated: bool,
    sql: Arc<str>,
    started: Instant,
}

impl QueryStream {
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows returned so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the result was cut at the row limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Stream for QueryStream {
    type Item = Result<RecordBatch, QueryError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            if let Some(d) = this.deadline.as_mut()
                && d.as_mut().poll(cx).is_ready()
            {
                this.inner = None;
                return Poll::Ready(Some(Err(timeout_error(this.timeout.unwrap_or_default()))));
            }
            let polled = std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll_next_unpin(cx)));
            let batch = match polled {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Some(Ok(batch)))) => batch,
                other => {
                    this.inner = None;
                    return Poll::Ready(match other {
                        Err(_) => Some(Err(QueryError::new(
                            QueryErrorKind::Internal,
                            "the query engine panicked",
                        ))),
                        Ok(Poll::Ready(Some(Err(e)))) => {
                            Some(Err(QueryError::from_datafusion(e, &this.sql)))
                        }
                        _ => None,
                    });
                }
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let Some(max) = this.max_rows else {
                this.rows += batch.num_rows();
                return Poll::Ready(Some(Ok(batch)));
            };
            let room = max - this.rows;
            if batch.num_rows() <= room {
                // Exactly full is not yet truncated: the next batch (or the end) decides.
                this.rows += batch.num_rows();
                return Poll::Ready(Some(Ok(batch)));
            }
            // More rows than room: cut, and drop the inner stream to cancel the rest.
            this.truncated = true;
            this.inner = None;
            this.rows = max;
            if room == 0 {
                return Poll::Ready(None);
            }
            return Poll::Ready(Some(Ok(batch.slice(0, room))));
        }
    }
}
