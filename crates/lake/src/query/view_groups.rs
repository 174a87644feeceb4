//! Partial aggregation grouped by string columns read from the lake's files.
//!
//! "Top talkers" (`GROUP BY src_ip`) is the most common question asked of the lake, and
//! pairs (`GROUP BY src_ip, dst_ip`) come next. DataFusion spent most of both hashing and
//! comparing the bytes of every row's addresses (57% and 60% of the CPU time, perf, 10 M
//! rows). The addresses are stored dictionary-encoded: a column chunk holds each distinct
//! address once and a small key per row. [`ViewGroupAggregateExec`] replaces the partial
//! stage of such an aggregate and has the scan hand it the keys
//! ([`super::dictionary_scan`]), so a row's string is found by an array read and hashed
//! only the first time its chunk shows it ([`super::group_keys`]); a second group column
//! makes the group key a pair of small numbers. When the column cannot be read as keys
//! (a filter reads it), the scan's string views serve as keys instead: equal strings of a
//! dictionary page carry equal views. The aggregate functions, their states and the
//! final stage are DataFusion's own, so the answers are the same by construction.
//!
//! The partial stage may emit its groups whenever it likes (the final stage merges
//! states), so when the memory pool refuses more, the groups so far are emitted and the
//! stage starts again: a member's memory limit holds without spilling.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{
    AggregateExec, AggregateMode, aggregate_expressions, evaluate_many,
};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, InputOrderMode, PlanProperties,
    ReplaceChildrenOptions,
};
use futures::StreamExt;

use super::dictionary_scan;
use super::group_keys::{self, GroupKeys};

/// The optimizer rule: every partial aggregate it can take becomes a
/// [`ViewGroupAggregateExec`].
#[derive(Debug, Default)]
pub struct GroupByViews;

impl PhysicalOptimizerRule for GroupByViews {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match node.downcast_ref::<AggregateExec>() {
                Some(agg) if eligible(agg) => Transformed::yes(ViewGroupAggregateExec::over(agg)),
                _ => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "GroupByViews"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The planner of a session whose queries may run across workers: plans as `inner` (the
/// distributed planner) does, then, when the plan stayed in this process (one worker, or a
/// dataset too small to cut), applies [`GroupByViews`] as a one-process session would. A
/// plan cut into stages keeps DataFusion's partial aggregates, which the distributed
/// planner knows how to shuffle; each worker applies the rule to its own task
/// ([`crate::cluster::worker`]), so the fast grouping runs where the rows are.
#[derive(Debug)]
pub(crate) struct LocalViewGroups {
    pub inner: Arc<dyn datafusion::execution::context::QueryPlanner + Send + Sync>,
}

#[async_trait::async_trait]
impl datafusion::execution::context::QueryPlanner for LocalViewGroups {
    async fn create_physical_plan(
        &self,
        logical_plan: &datafusion::logical_expr::LogicalPlan,
        session: &dyn datafusion::catalog::Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self
            .inner
            .create_physical_plan(logical_plan, session)
            .await?;
        let distributed = plan.exists(|p| Ok(p.name().starts_with("Distributed")))?;
        if distributed {
            return Ok(plan);
        }
        GroupByViews.optimize(plan, session.config_options())
    }
}

/// A partial aggregate over one plain string column, or two columns of which at least
/// one is a string and the other a string or small integer ([`group_keys::supported`]),
/// with aggregates that have grouped accumulators and nothing that depends on order,
/// filters or distinct values. Every string column must come straight from the files.
fn eligible(agg: &AggregateExec) -> bool {
    let group = agg.group_expr();
    let Some(columns) = group_columns(agg) else {
        return false;
    };
    // The schema the group columns index: the input's. (`input_schema()` is the original
    // aggregate's input, which differs above a rewritten distinct aggregate.)
    let input = agg.input().schema();
    if columns.iter().any(|&c| c >= input.fields().len()) {
        return false;
    }
    let types: Vec<&DataType> = columns
        .iter()
        .map(|&c| input.field(c).data_type())
        .collect();
    let shape_ok = match types.as_slice() {
        [DataType::Utf8View] => true,
        [a, b] => {
            group_keys::supported(a)
                && group_keys::supported(b)
                && (*a == &DataType::Utf8View || *b == &DataType::Utf8View)
        }
        _ => false,
    };
    *agg.mode() == AggregateMode::Partial
        && shape_ok
        && group.is_single()
        && !group.has_grouping_set()
        && agg.filter_expr().iter().all(Option::is_none)
        && agg.aggr_expr().iter().all(|a| {
            !a.is_distinct() && a.order_bys().is_empty() && a.groups_accumulator_supported()
        })
        && agg.limit_options().is_none()
        && agg.dynamic_expressions_produced().is_empty()
        && *agg.input_order_mode() == InputOrderMode::Linear
        && columns
            .iter()
            .zip(&types)
            .all(|(&c, t)| *t != &DataType::Utf8View || reads_column_from_files(agg.input(), c))
}

/// Input indices of the group columns, when every group expression is a plain column.
fn group_columns(agg: &AggregateExec) -> Option<Vec<usize>> {
    agg.group_expr()
        .expr()
        .iter()
        .map(|(e, _)| e.downcast_ref::<Column>().map(Column::index))
        .collect()
}

/// Whether the group column is read straight from Parquet (through a filter at most, which
/// may drop columns), so it can be read as dictionary keys, or its views repeat over a
/// dictionary page. Views made by other operators (an aggregate's output, a function's
/// result, also one computed inside the scan) are new for nearly every row: the cache
/// would only add a lookup.
fn reads_column_from_files(plan: &Arc<dyn ExecutionPlan>, column: usize) -> bool {
    dictionary_scan::scan_column(plan, column).is_some()
}

/// The partial stage of `inner`, computed with group ids found through dictionary keys
/// or, when the scan cannot hand those, through the view cache ([`GroupKeys`]).
#[derive(Debug)]
pub struct ViewGroupAggregateExec {
    /// The aggregate replaced: its expressions, output schema and properties.
    inner: Arc<AggregateExec>,
    /// `inner`'s input, or the same scan reading string group columns as dictionary keys
    /// ([`dictionary_scan`]); every other column is the same.
    input: Arc<dyn ExecutionPlan>,
    metrics: ExecutionPlanMetricsSet,
}

impl ViewGroupAggregateExec {
    /// The operator in place of `agg`, which [`eligible`] accepted.
    fn over(agg: &AggregateExec) -> Arc<dyn ExecutionPlan> {
        let columns = group_columns(agg).expect("eligible() checked for columns");
        let mut input = Arc::clone(agg.input());
        for &column in &columns {
            // The aggregates' own arguments must keep the types they were planned with.
            let read_by_arguments = agg.aggr_expr().iter().any(|a| {
                a.expressions()
                    .iter()
                    .any(|e| collect_columns(e).iter().any(|c| c.index() == column))
            });
            if input.schema().field(column).data_type() == &DataType::Utf8View
                && !read_by_arguments
                && let Some(keyed) = dictionary_scan::with_dictionary_column(&input, column)
            {
                input = keyed;
            }
        }
        Arc::new(ViewGroupAggregateExec {
            inner: Arc::new(agg.clone()),
            input,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// How each group column arrives: `dictionary` keys, `views`, or an integer.
    fn key_kinds(&self) -> Vec<&'static str> {
        let schema = self.input.schema();
        group_columns(&self.inner)
            .unwrap_or_default()
            .into_iter()
            .map(|c| match schema.field(c).data_type() {
                DataType::Utf8View => "views",
                DataType::Dictionary(..) => "dictionary",
                _ => "integer",
            })
            .collect()
    }

    /// Whether `child` may replace the input: the inner aggregate's input, with string
    /// group columns possibly read as dictionary keys.
    fn accepts_input(&self, child: &Arc<dyn ExecutionPlan>) -> bool {
        let planned = self.inner.input_schema();
        let given = child.schema();
        let columns = group_columns(&self.inner).unwrap_or_default();
        planned.fields().len() == given.fields().len()
            && planned
                .fields()
                .iter()
                .zip(given.fields())
                .enumerate()
                .all(|(i, (p, g))| {
                    p.data_type() == g.data_type()
                        || (columns.contains(&i)
                            && p.data_type() == &DataType::Utf8View
                            && g.data_type() == &dictionary_scan::dictionary_type())
                })
    }
}

impl DisplayAs for ViewGroupAggregateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let gby: Vec<String> = self
            .inner
            .group_expr()
            .expr()
            .iter()
            .map(|(e, name)| format!("{e} as {name}"))
            .collect();
        let aggr: Vec<&str> = self.inner.aggr_expr().iter().map(|a| a.name()).collect();
        write!(
            f,
            "ViewGroupAggregateExec: mode=Partial, gby=[{}], aggr=[{}], keys={}",
            gby.join(", "),
            aggr.join(", "),
            self.key_kinds().join(",")
        )
    }
}

impl ExecutionPlan for ViewGroupAggregateExec {
    fn name(&self) -> &'static str {
        "ViewGroupAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A new scan reading the keys again: the aggregate above is unchanged.
        if let [child] = children.as_slice()
            && child.schema() != self.inner.input_schema()
            && self.accepts_input(child)
        {
            return Ok(Arc::new(ViewGroupAggregateExec {
                inner: Arc::clone(&self.inner),
                input: Arc::clone(child),
                metrics: ExecutionPlanMetricsSet::new(),
            }));
        }
        let inner = Arc::clone(&self.inner).replace_children(children, options)?;
        match inner.downcast_ref::<AggregateExec>() {
            Some(agg) if eligible(agg) => Ok(ViewGroupAggregateExec::over(agg)),
            _ => Ok(inner),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(
                datafusion::physical_plan::ChildrenPropertiesMode::Recompute,
            ),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let agg = &self.inner;
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let planned = agg.input_schema();
        let columns: Vec<(usize, DataType)> = group_columns(agg)
            .expect("eligible() checked for columns")
            .into_iter()
            .map(|c| (c, planned.field(c).data_type().clone()))
            .collect();
        let schema = agg.schema();
        let state = PartialState {
            input,
            keys: GroupKeys::new(&columns),
            arguments: aggregate_expressions(agg.aggr_expr(), &AggregateMode::Partial, 0)?,
            new_accumulators: {
                let exprs = agg.aggr_expr().to_vec();
                Box::new(move || {
                    exprs
                        .iter()
                        .map(|a| a.create_groups_accumulator())
                        .collect()
                })
            },
            accumulators: agg
                .aggr_expr()
                .iter()
                .map(|a| a.create_groups_accumulator())
                .collect::<Result<_>>()?,
            group_ids: Vec::new(),
            schema: Arc::clone(&schema),
            reservation: MemoryConsumer::new(format!("ViewGroupAggregateExec[{partition}]"))
                .register(context.memory_pool()),
            batch_size: context.session_config().batch_size(),
            pending: VecDeque::new(),
            done: false,
            metrics: BaselineMetrics::new(&self.metrics, partition),
        };
        let stream = futures::stream::unfold(state, |mut s| async move {
            s.next().await.transpose().map(|r| (r, s))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

type NewAccumulators = Box<dyn Fn() -> Result<Vec<Box<dyn GroupsAccumulator>>> + Send>;

/// One partition's partial aggregation.
struct PartialState {
    input: SendableRecordBatchStream,
    keys: GroupKeys,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    new_accumulators: NewAccumulators,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    group_ids: Vec<usize>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    batch_size: usize,
    pending: VecDeque<RecordBatch>,
    done: bool,
    metrics: BaselineMetrics,
}

impl PartialState {
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                self.metrics.record_output(b.num_rows());
                return Ok(Some(b));
            }
            if self.done {
                self.metrics.done();
                return Ok(None);
            }
            match self.input.next().await {
                Some(batch) => {
                    let batch = batch?;
                    let elapsed = self.metrics.elapsed_compute().clone();
                    let timer = elapsed.timer();
                    self.update(&batch)?;
                    if self.reservation.try_resize(self.size()).is_err() {
                        // Out of memory: hand the groups so far to the final stage.
                        self.emit()?;
                        self.reservation.resize(self.size());
                    }
                    timer.done();
                }
                None => {
                    self.done = true;
                    self.emit()?;
                }
            }
        }
    }

    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        self.keys.ids(batch, &mut self.group_ids)?;
        let values = evaluate_many(&self.arguments, batch)?;
        let total = self.keys.len();
        for (acc, v) in self.accumulators.iter_mut().zip(&values) {
            acc.update_batch(v, &self.group_ids, None, total)?;
        }
        Ok(())
    }

    fn size(&self) -> usize {
        self.keys.size() + self.accumulators.iter().map(|a| a.size()).sum::<usize>()
    }

    /// Queues every group and its states as output batches and starts empty.
    fn emit(&mut self) -> Result<()> {
        if self.keys.len() == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = self.keys.take()?;
        for acc in &mut self.accumulators {
            columns.extend(acc.state(EmitTo::All)?);
        }
        self.accumulators = (self.new_accumulators)()?;
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
        let step = self.batch_size.max(1);
        let mut offset = 0;
        while offset < batch.num_rows() {
            let n = step.min(batch.num_rows() - offset);
            self.pending.push_back(batch.slice(offset, n));
            offset += n;
        }
        Ok(())
    }
}
