//! Partial aggregation grouped by one string column, keyed by string views.
//!
//! "Top talkers" (`GROUP BY src_ip`) is the most common question asked of the lake, and
//! DataFusion spent most of it hashing and comparing the bytes of every row's address
//! (57% of the CPU time, perf, 10 M rows). The strings come from Parquet dictionary pages:
//! the reader turns each row into a 16-byte view pointing at the page's dictionary buffer,
//! so within a column chunk every row holding the same address carries the *same view*
//! over the *same buffers*. [`ViewGroupAggregateExec`] replaces the partial stage of such
//! an aggregate: it looks each view up in a small cache keyed by the 16 bytes (valid while
//! the batch's data buffers are the ones it was filled from), and hashes a string's bytes
//! only the first time a view is seen. The aggregate functions, their states and the
//! final stage are DataFusion's own, so the answers are the same by construction.
//!
//! The partial stage may emit its groups whenever it likes (the final stage merges
//! states), so when the memory pool refuses more, the groups so far are emitted and the
//! stage starts again: a member's memory limit holds without spilling.

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringViewArray, StringViewBuilder};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{HashMap, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
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

/// Most entries the view cache holds before it is cleared: a column whose views are all
/// different (plain-encoded pages) must not grow it without bound.
const MAX_CACHED_VIEWS: usize = 1 << 16;

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

/// A partial aggregate over one plain string-view column, with aggregates that have
/// grouped accumulators and nothing that depends on order, filters or distinct values.
fn eligible(agg: &AggregateExec) -> bool {
    let group = agg.group_expr();
    let [(expr, _)] = group.expr() else {
        return false;
    };
    let Some(column) = expr.downcast_ref::<Column>() else {
        return false;
    };
    let input = agg.input_schema();
    *agg.mode() == AggregateMode::Partial
        && group.is_single()
        && !group.has_grouping_set()
        && input
            .fields()
            .get(column.index())
            .is_some_and(|f| f.data_type() == &DataType::Utf8View)
        && agg.filter_expr().iter().all(Option::is_none)
        && agg.aggr_expr().iter().all(|a| {
            !a.is_distinct() && a.order_bys().is_empty() && a.groups_accumulator_supported()
        })
        && agg.limit_options().is_none()
        && agg.dynamic_expressions_produced().is_empty()
        && *agg.input_order_mode() == InputOrderMode::Linear
        && reads_column_from_files(agg.input(), column.index())
}

/// Whether the group column is read straight from Parquet (through a filter at most), so
/// its views repeat over a dictionary page. Views made by other operators (an aggregate's
/// output, a function's result, also one computed inside the scan) are new for nearly
/// every row: the cache would only add a lookup.
fn reads_column_from_files(plan: &Arc<dyn ExecutionPlan>, column: usize) -> bool {
    use datafusion::datasource::physical_plan::FileSource;
    use datafusion::datasource::physical_plan::ParquetSource;
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::physical_plan::filter::FilterExec;
    let scan = match plan.downcast_ref::<FilterExec>() {
        Some(f) if f.projection().is_none() => f.input(),
        Some(_) => return false,
        None => plan,
    };
    let Some((_, source)) = scan
        .downcast_ref::<DataSourceExec>()
        .and_then(|s| s.downcast_to_file_source::<ParquetSource>())
    else {
        return false;
    };
    match source.projection() {
        None => true,
        Some(p) => p
            .as_ref()
            .get(column)
            .is_some_and(|e| e.expr.downcast_ref::<Column>().is_some()),
    }
}

/// The partial stage of `inner`, computed with group ids found through the view cache.
#[derive(Debug)]
pub struct ViewGroupAggregateExec {
    inner: Arc<AggregateExec>,
    metrics: ExecutionPlanMetricsSet,
}

impl ViewGroupAggregateExec {
    /// The operator in place of `agg`, which [`eligible`] accepted.
    fn over(agg: &AggregateExec) -> Arc<dyn ExecutionPlan> {
        Arc::new(ViewGroupAggregateExec {
            inner: Arc::new(agg.clone()),
            metrics: ExecutionPlanMetricsSet::new(),
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
            "ViewGroupAggregateExec: mode=Partial, gby=[{}], aggr=[{}]",
            gby.join(", "),
            aggr.join(", ")
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
        vec![self.inner.input()]
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
        let input = agg.input().execute(partition, Arc::clone(&context))?;
        let group_column = agg.group_expr().expr()[0]
            .0
            .downcast_ref::<Column>()
            .map(Column::index)
            .expect("eligible() checked for a column");
        let schema = agg.schema();
        let state = PartialState {
            input,
            group_column,
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
            groups: Groups::default(),
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
    group_column: usize,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    new_accumulators: NewAccumulators,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    groups: Groups,
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
        let column = batch.column(self.group_column).as_string_view();
        self.groups.ids(column, &mut self.group_ids);
        let values = evaluate_many(&self.arguments, batch)?;
        let total = self.groups.len();
        for (acc, v) in self.accumulators.iter_mut().zip(&values) {
            acc.update_batch(v, &self.group_ids, None, total)?;
        }
        Ok(())
    }

    fn size(&self) -> usize {
        self.groups.size() + self.accumulators.iter().map(|a| a.size()).sum::<usize>()
    }

    /// Queues every group and its states as output batches and starts empty.
    fn emit(&mut self) -> Result<()> {
        if self.groups.len() == 0 {
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = vec![Arc::new(self.groups.take())];
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

/// Group ids of strings, found through the views when possible.
#[derive(Default)]
struct Groups {
    /// Each group's string, in id order (the null group's is empty).
    values: Vec<Box<[u8]>>,
    by_value: HashMap<Box<[u8]>, usize>,
    null: Option<usize>,
    /// View → group id, valid for views over `cached_buffers`.
    by_view: std::collections::HashMap<u128, usize, BuildHasherDefault<ViewHasher>>,
    cached_buffers: Vec<Buffer>,
    bytes: usize,
}

impl Groups {
    fn len(&self) -> usize {
        self.values.len()
    }

    /// Writes the group id of every row of `column` to `ids`, adding new groups.
    fn ids(&mut self, column: &StringViewArray, ids: &mut Vec<usize>) {
        // A view's buffer index and offset mean something only for the buffers it was made
        // with: a batch over other buffers starts a new cache.
        // The cache holds the buffers themselves, not just their addresses: a freed buffer's
        // memory is soon reused for the next page's dictionary, same address and often the
        // same length, with other strings at the same offsets.
        let buffers = column.data_buffers();
        let same = buffers.len() == self.cached_buffers.len()
            && buffers
                .iter()
                .zip(&self.cached_buffers)
                .all(|(b, c)| b.as_ptr() == c.as_ptr() && b.len() == c.len());
        if !same || self.by_view.len() > MAX_CACHED_VIEWS {
            self.by_view.clear();
            self.cached_buffers = buffers.to_vec();
        }
        ids.clear();
        ids.reserve(column.len());
        let views = column.views();
        let nulls = column.logical_nulls();
        for (i, &view) in views.iter().enumerate() {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                ids.push(self.null_group());
                continue;
            }
            let id = match self.by_view.get(&view).copied() {
                Some(id) => id,
                None => {
                    let id = self.intern(column.value(i).as_bytes());
                    self.by_view.insert(view, id);
                    id
                }
            };
            ids.push(id);
        }
    }

    fn null_group(&mut self) -> usize {
        *self.null.get_or_insert_with(|| {
            self.values.push(Box::default());
            self.values.len() - 1
        })
    }

    fn intern(&mut self, value: &[u8]) -> usize {
        if let Some(&id) = self.by_value.get(value) {
            return id;
        }
        let id = self.values.len();
        self.values.push(value.into());
        self.by_value.insert(value.into(), id);
        self.bytes += 2 * value.len();
        id
    }

    /// Approximate heap bytes, for the memory pool.
    fn size(&self) -> usize {
        self.bytes
            + self.values.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.by_value.capacity() * (std::mem::size_of::<(Box<[u8]>, usize)>() + 1)
            + self.by_view.capacity() * (std::mem::size_of::<(u128, usize)>() + 1)
    }

    /// The groups as a string column (ids are positions), leaving no groups.
    fn take(&mut self) -> StringViewArray {
        let mut out = StringViewBuilder::with_capacity(self.values.len());
        let null = self.null.take();
        for (id, v) in self.values.drain(..).enumerate() {
            if Some(id) == null {
                out.append_null();
            } else {
                // Interned from `&str` values, so valid UTF-8.
                out.append_value(std::str::from_utf8(&v).unwrap_or_default());
            }
        }
        self.by_value.clear();
        self.by_view.clear();
        self.cached_buffers.clear();
        self.bytes = 0;
        out.finish()
    }
}

/// Hash of a 16-byte view: it holds the length and either the whole string or its prefix,
/// buffer and offset, so mixing both halves spreads well enough for a cache.
#[derive(Default)]
struct ViewHasher(u64);

impl Hasher for ViewHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        // murmur3's 64-bit finaliser over both halves.
        let mut x = (v as u64) ^ ((v >> 64) as u64).rotate_left(29);
        x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        self.0 = x ^ (x >> 33);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::ByteView;
    use datafusion::arrow::buffer::ScalarBuffer;

    /// A view array of `strings` stored back to back in one fresh buffer.
    fn one_buffer(strings: &[&str]) -> StringViewArray {
        let mut data = Vec::new();
        let mut views = Vec::new();
        for s in strings {
            let b = s.as_bytes();
            let view = if b.len() <= 12 {
                let mut raw = [0u8; 16];
                raw[..4].copy_from_slice(&(b.len() as u32).to_le_bytes());
                raw[4..4 + b.len()].copy_from_slice(b);
                u128::from_le_bytes(raw)
            } else {
                ByteView::new(b.len() as u32, &b[..4])
                    .with_buffer_index(0)
                    .with_offset(data.len() as u32)
                    .as_u128()
            };
            data.extend_from_slice(b);
            views.push(view);
        }
        StringViewArray::try_new(ScalarBuffer::from(views), vec![Buffer::from(data)], None).unwrap()
    }

    fn strings(g: &Groups, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&i| String::from_utf8(g.values[i].to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn equal_views_over_other_buffers_are_other_groups() {
        // Same length, same 4-byte prefix, same buffer index and offset: the views are
        // identical, the strings are not.
        let a = one_buffer(&["10.1.1.100000", "short"]);
        let b = one_buffer(&["10.1.1.200000", "short"]);
        assert_eq!(a.views()[0], b.views()[0]);
        let mut g = Groups::default();
        let mut ids = Vec::new();
        g.ids(&a, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.100000", "short"]);
        g.ids(&b, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.200000", "short"]);
        assert_eq!(g.len(), 3);
        // The first array again (its buffers once more): its own strings.
        g.ids(&a, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.100000", "short"]);
        assert_eq!(g.len(), 3);
    }

    #[test]
    fn nulls_have_one_group_and_emit_as_null() {
        let a = StringViewArray::from(vec![
            Some("x.example.org"),
            None,
            Some("x.example.org"),
            None,
        ]);
        let mut g = Groups::default();
        let mut ids = Vec::new();
        g.ids(&a, &mut ids);
        assert_eq!(ids[0], ids[2]);
        assert_eq!(ids[1], ids[3]);
        assert_ne!(ids[0], ids[1]);
        let out = g.take();
        assert_eq!(out.len(), 2);
        assert_eq!(out.null_count(), 1);
        assert_eq!(g.len(), 0);
    }
}
