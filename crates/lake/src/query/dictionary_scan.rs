//! Reading one string column of a lake scan as dictionary keys.
//!
//! An address column is stored dictionary-encoded: each row of a Parquet page is a small
//! integer into the column chunk's dictionary of distinct addresses. DataFusion reads such
//! a column as string views, turning every key back into a 16-byte view, and the view
//! grouping operator ([`super::view_groups`]) then looks each view up in a hash table to
//! find the row's group. Read as `Dictionary(Int32, Utf8)` instead, the column arrives as
//! the keys themselves plus the dictionary shared by every batch of the chunk, so a
//! group is found by indexing an array with the key: no views are built and nothing is
//! hashed per row.
//!
//! The table keeps presenting the column as `Utf8View` (what every other operator and
//! every member sees); only a scan feeding that operator is rebuilt here, with the one
//! column's type changed both in the scan's table schema and in the Arrow schema each file
//! is read with ([`PartitionedFile::arrow_schema`]). The Parquet files are unchanged.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::{ChildrenPropertiesMode, ExecutionPlan, ReplaceChildrenOptions};

use crate::table::CurrentSchemaFile;
use crate::write::PLAIN_COLUMNS;

/// The type a grouped string column is read as.
pub fn dictionary_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// `input` (a lake scan, or a filter over one) with its output column `column` read as
/// [`dictionary_type`], or `None` when that cannot be done safely or would not pay: the
/// scan is not a Parquet scan of lake files, the column is computed, is a partition value
/// or is written without a dictionary (the raw line), or a predicate (the filter's, or
/// the one pushed into the scan for pruning) reads it.
pub fn with_dictionary_column(
    input: &Arc<dyn ExecutionPlan>,
    column: usize,
) -> Option<Arc<dyn ExecutionPlan>> {
    if let Some(filter) = input.downcast_ref::<FilterExec>() {
        let below = below_filter(filter, column)?;
        if references(filter.predicate(), below) {
            return None;
        }
        let scan = with_dictionary_column(filter.input(), below)?;
        return Arc::clone(input)
            .replace_children(
                vec![scan],
                ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
            )
            .ok();
    }
    let (config, source) = parquet_scan(input)?;
    let table_schema = source.table_schema();
    let file_schema = table_schema.file_schema();

    // The projection: plain columns only, so it can be rebuilt from indices.
    let indices: Vec<usize> = projected_columns(source)
        .into_iter()
        .collect::<Option<_>>()?;
    let table_column = *indices.get(column)?;
    if table_column >= file_schema.fields().len()
        || file_schema.field(table_column).data_type() != &DataType::Utf8View
        || PLAIN_COLUMNS.contains(&file_schema.field(table_column).name().as_str())
        || source
            .filter()
            .is_some_and(|p| references(&p, table_column))
    {
        return None;
    }
    let every_file_current = config
        .file_groups
        .iter()
        .flat_map(|g| g.files())
        .all(|f| f.extension::<CurrentSchemaFile>().is_some());
    if !every_file_current {
        return None;
    }

    let read_schema = retyped(file_schema, table_column);
    let mut new_source = ParquetSource::new(
        TableSchema::builder(Arc::clone(&read_schema))
            .with_table_partition_cols(table_schema.table_partition_cols().clone())
            .build(),
    )
    .with_table_parquet_options(source.table_parquet_options().clone());
    if let Some(factory) = source.parquet_file_reader_factory() {
        new_source = new_source.with_parquet_file_reader_factory(Arc::clone(factory));
    }
    if let Some(hint) = source.table_parquet_options().global.metadata_size_hint {
        new_source = new_source.with_metadata_size_hint(hint);
    }
    if let Some(predicate) = source.filter() {
        new_source = new_source.with_predicate(predicate);
    }
    let groups: Vec<FileGroup> = config
        .file_groups
        .iter()
        .map(|g| {
            FileGroup::new(
                g.files()
                    .iter()
                    .map(|f| with_read_schema(f, &read_schema))
                    .collect(),
            )
        })
        .collect();
    let new_config = FileScanConfigBuilder::from(config.clone())
        .with_source(Arc::new(new_source) as Arc<dyn FileSource>)
        .with_file_groups(groups)
        .with_projection_indices(Some(indices))
        .ok()?
        .build();
    Some(DataSourceExec::from_data_source(new_config))
}

/// The table column that output `column` of `plan` (a lake scan, or a filter over one)
/// reads as it is stored, or `None` when it is computed or `plan` is something else.
pub fn scan_column(plan: &Arc<dyn ExecutionPlan>, column: usize) -> Option<usize> {
    let (scan, column) = match plan.downcast_ref::<FilterExec>() {
        Some(filter) => (filter.input(), below_filter(filter, column)?),
        None => (plan, column),
    };
    let (_, source) = parquet_scan(scan)?;
    projected_columns(source).get(column).copied().flatten()
}

/// The column of a filter's input that its output `column` is.
fn below_filter(filter: &FilterExec, column: usize) -> Option<usize> {
    match filter.projection() {
        None => Some(column),
        Some(p) => p.get(column).copied(),
    }
}

fn parquet_scan(plan: &Arc<dyn ExecutionPlan>) -> Option<(&FileScanConfig, &ParquetSource)> {
    plan.downcast_ref::<DataSourceExec>()?
        .downcast_to_file_source::<ParquetSource>()
}

/// For each output column of the scan, the table column it is (`None`: computed).
fn projected_columns(source: &ParquetSource) -> Vec<Option<usize>> {
    match source.projection() {
        None => (0..source.table_schema().table_schema().fields().len())
            .map(Some)
            .collect(),
        Some(p) => p
            .as_ref()
            .iter()
            .map(|e| e.expr.downcast_ref::<Column>().map(Column::index))
            .collect(),
    }
}

fn with_read_schema(file: &PartitionedFile, schema: &SchemaRef) -> PartitionedFile {
    file.clone().with_arrow_schema(Arc::clone(schema))
}

/// `schema` with field `index` read as [`dictionary_type`].
fn retyped(schema: &SchemaRef, index: usize) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = f.as_ref().clone();
            if i == index {
                f.with_data_type(dictionary_type())
            } else {
                f
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn references(expr: &Arc<dyn PhysicalExpr>, column: usize) -> bool {
    collect_columns(expr).iter().any(|c| c.index() == column)
}
