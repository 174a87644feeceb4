//! [`LakeTable`]: a DataFusion table over the files a manifest names, and no others.
//!
//! A listing of the dataset directory would also see files of an ingest that has not
//! committed (or was killed); reading exactly the manifest's files is what makes the
//! manifest the commit point for readers. The manifest also knows each file's time
//! range, so a time predicate prunes whole files before any is opened (day partitions
//! are the coarse form of the same thing); Parquet row-group statistics then prune
//! inside the files that remain.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::stats::Precision;
use datafusion::common::{Column, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileGroupPartitioner, FileScanConfigBuilder,
};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result as DfResult;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use secviz_parse::schema::{SCHEMA_VERSION, col, event_schema};

use crate::manifest::Manifest;
use crate::store::Store;

/// Marks a file whose columns are exactly the table's file schema (written with the
/// current event schema), so the query side (`query::dictionary_scan`) may read it with a schema of our own making.
#[derive(Clone, Copy, Debug)]
pub struct CurrentSchemaFile;

/// Name of the column of `events` that says which dataset a row came from.
pub const DATASET_COLUMN: &str = "dataset";

#[derive(Clone, Debug)]
struct TableFile {
    path: String,
    bytes: u64,
    rows: u64,
    time_min: Option<i64>,
    time_max: Option<i64>,
    /// No row of the file has a time (the `__HIVE_DEFAULT_PARTITION__` day).
    no_time: bool,
    dataset: String,
    /// Written with the current event schema, so its columns are exactly the table's.
    current_schema: bool,
}

/// A read-only table over manifest files: one dataset, or `events` (several, with a
/// `dataset` column).
#[derive(Debug)]
pub struct LakeTable {
    file_schema: SchemaRef,
    schema: SchemaRef,
    with_dataset: bool,
    url: ObjectStoreUrl,
    files: Vec<TableFile>,
}

/// The event schema as tables present it: strings as `Utf8View`, which DataFusion
/// reads and groups faster than `Utf8`.
pub fn table_file_schema() -> SchemaRef {
    let fields: Vec<Field> = event_schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 => f.as_ref().clone().with_data_type(DataType::Utf8View),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

impl LakeTable {
    /// The table of one dataset.
    pub fn dataset(store: &Store, manifest: &Manifest) -> LakeTable {
        Self::build(store, std::slice::from_ref(manifest), false)
    }

    /// The union of several datasets, with a `dataset` column.
    pub fn union(store: &Store, manifests: &[Manifest]) -> LakeTable {
        Self::build(store, manifests, true)
    }

    fn build(store: &Store, manifests: &[Manifest], with_dataset: bool) -> LakeTable {
        let file_schema = table_file_schema();
        let mut fields: Vec<Field> = file_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        if with_dataset {
            fields.push(Field::new(DATASET_COLUMN, DataType::Utf8, false));
        }
        let files = manifests
            .iter()
            .flat_map(|m| {
                m.files.iter().map(move |f| TableFile {
                    path: store
                        .object_path(&format!("datasets/{}/{}", m.name, f.path))
                        .to_string(),
                    bytes: f.bytes,
                    rows: f.rows,
                    time_min: f.time_min_us,
                    time_max: f.time_max_us,
                    no_time: f.day.is_none(),
                    dataset: m.name.to_string(),
                    current_schema: m.schema_version == SCHEMA_VERSION,
                })
            })
            .collect();
        LakeTable {
            file_schema,
            schema: Arc::new(Schema::new(fields)),
            with_dataset,
            url: store.url().clone(),
            files,
        }
    }

    /// Number of files the table reads when nothing is pruned.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Which files may hold rows matching all `filters` (true = read it).
    fn prune(&self, state: &dyn Session, filters: &[Expr]) -> Vec<bool> {
        let all = vec![true; self.files.len()];
        let Some(expr) = conjunction(filters.iter().cloned()) else {
            return all;
        };
        let attempt = || -> DfResult<Vec<bool>> {
            let df_schema = DFSchema::try_from(self.schema.clone())?;
            let physical = state.create_physical_expr(expr, &df_schema)?;
            let predicate = PruningPredicateBuilder::new()
                .with_file_schema(self.schema.clone())
                .try_build(physical)?;
            predicate.prune(&FileStats(&self.files))
        };
        // Pruning is an optimisation: when it cannot be done, read everything.
        attempt().unwrap_or(all)
    }
}

#[async_trait]
impl TableProvider for LakeTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let keep = self.prune(state, filters);
        let files: Vec<PartitionedFile> = self
            .files
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(f, _)| {
                let stats = Statistics::new_unknown(&self.file_schema)
                    .with_num_rows(Precision::Exact(f.rows as usize));
                let mut pf =
                    PartitionedFile::new(f.path.clone(), f.bytes).with_statistics(Arc::new(stats));
                if f.current_schema {
                    pf = pf.with_extension(CurrentSchemaFile);
                }
                if self.with_dataset {
                    pf = pf.with_partition_values(vec![ScalarValue::Utf8(Some(f.dataset.clone()))]);
                }
                pf
            })
            .collect();
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        // The row count of what is read, for estimates (the sandbox refuses plans beyond
        // its limits by them). Inexact, so that `count(*)` is still counted from the files.
        let rows: usize = files
            .iter()
            .filter_map(|f| f.statistics.as_ref())
            .filter_map(|s| s.num_rows.get_value().copied())
            .sum();
        let table_stats =
            Statistics::new_unknown(&self.schema).with_num_rows(Precision::Inexact(rows));
        let groups = split_for_cores(files, state);
        let partition_cols = if self.with_dataset {
            vec![Arc::new(Field::new(DATASET_COLUMN, DataType::Utf8, false))]
        } else {
            vec![]
        };
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let source = format.file_source(
            TableSchema::builder(self.file_schema.clone())
                .with_table_partition_cols(partition_cols)
                .build(),
        );
        let config = FileScanConfigBuilder::new(self.url.clone(), source)
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .with_statistics(table_stats)
            .build();
        format.create_physical_plan(state, config).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Pruning by file and row group is inexact: DataFusion still filters the rows.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}

/// Spreads the files over the session's partitions (cores) by bytes, not by whole files.
///
/// A day partition is one file of up to 8 Mi rows, and a dataset is often one or two days:
/// dealt out whole, one core would read 80% of the rows while the other waits. Cut into
/// byte ranges (Parquet readers take the row groups whose middle falls in their range),
/// each core gets an even share. A piece of a file no longer has the file's exact row
/// count, so its statistics become inexact: an exact count would let DataFusion answer
/// `count(*)` from statistics and count the file once per piece.
fn split_for_cores(files: Vec<PartitionedFile>, state: &dyn Session) -> Vec<FileGroup> {
    let cores = state.config().target_partitions().max(1);
    let min_size = state.config_options().optimizer.repartition_file_min_size;
    let whole: std::collections::HashMap<String, u64> = files
        .iter()
        .map(|f| (f.object_meta.location.to_string(), f.object_meta.size))
        .collect();
    let split = FileGroupPartitioner::new()
        .with_target_partitions(cores)
        .with_repartition_file_min_size(min_size)
        .repartition_file_groups(&[FileGroup::new(files.clone())]);
    let Some(groups) = split.filter(|_| cores > 1) else {
        return FileGroup::new(files).split_files(cores);
    };
    groups
        .into_iter()
        .map(|g| {
            FileGroup::new(
                g.into_inner()
                    .into_iter()
                    .map(|mut f| {
                        let size = whole.get(&f.object_meta.location.to_string()).copied();
                        let is_piece = f
                            .range
                            .as_ref()
                            .is_some_and(|r| !(r.start == 0 && Some(r.end as u64) == size));
                        if is_piece && let Some(st) = f.statistics.take() {
                            let mut st = st.as_ref().clone();
                            st.num_rows = st.num_rows.to_inexact();
                            f.statistics = Some(Arc::new(st));
                        }
                        f
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The manifest's per-file statistics, as DataFusion's pruning wants them.
struct FileStats<'a>(&'a [TableFile]);

impl PruningStatistics for FileStats<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        match column.name.as_str() {
            col::TIME => Some(Arc::new(
                TimestampMicrosecondArray::from(
                    self.0.iter().map(|f| f.time_min).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            )),
            DATASET_COLUMN => Some(Arc::new(StringArray::from_iter_values(
                self.0.iter().map(|f| &f.dataset),
            ))),
            _ => None,
        }
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        match column.name.as_str() {
            col::TIME => Some(Arc::new(
                TimestampMicrosecondArray::from(
                    self.0.iter().map(|f| f.time_max).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            )),
            DATASET_COLUMN => self.min_values(column),
            _ => None,
        }
    }

    fn num_containers(&self) -> usize {
        self.0.len()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        match column.name.as_str() {
            // Rows without a time all live in the no-day partition.
            col::TIME => Some(Arc::new(UInt64Array::from_iter_values(
                self.0.iter().map(|f| if f.no_time { f.rows } else { 0 }),
            ))),
            DATASET_COLUMN => Some(Arc::new(UInt64Array::from_iter_values(
                self.0.iter().map(|_| 0),
            ))),
            _ => None,
        }
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        Some(Arc::new(UInt64Array::from_iter_values(
            self.0.iter().map(|f| f.rows),
        )))
    }

    fn contained(
        &self,
        _column: &Column,
        _values: &std::collections::HashSet<ScalarValue>,
    ) -> Option<datafusion::arrow::array::BooleanArray> {
        None
    }
}
