//! What a dataset holds, column by column: how many events have a value and about how many
//! distinct values there are. The portal lists it on the draft page (which columns to draw
//! by) and chooses the dataset's preset views from it: a column no event fills is never
//! offered, and a column with a million values is grouped, not drawn value by value.

use datafusion::arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};

use crate::analyze::{Sql, cells};
use crate::error::LakeError;
use crate::lake::Lake;
use crate::query::{Access, QueryError, QueryLimits};
use secviz_parse::schema::{col, event_schema};

/// Columns that are never drawn by: free text, provenance.
const SKIPPED: &[&str] = &[
    col::RAW,
    col::EXTRA,
    col::MESSAGE,
    col::FORMAT,
    col::SOURCE,
    col::LINE,
];

/// Why a profile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{0}")]
    Query(#[from] QueryError),
}

/// One column of a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    /// `time`, `text`, `whole number` or `number`.
    pub kind: String,
    /// Events with a value.
    pub values: u64,
    /// About how many distinct values (HyperLogLog, within a few percent); `None` for time.
    pub distinct: Option<u64>,
}

fn kind_of(t: &DataType) -> &'static str {
    match t {
        DataType::Timestamp(..) => "time",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        DataType::Float32 | DataType::Float64 => "number",
        _ => "whole number",
    }
}

impl Lake {
    /// The columns of the datasets in `access` that hold values, in schema order, with one
    /// pass over the data.
    pub async fn profile(
        &self,
        access: &Access,
        limits: &QueryLimits,
    ) -> Result<Vec<ColumnProfile>, ProfileError> {
        let ctx = self.session(access, limits).await?;
        let q = Sql::new(&ctx, limits);
        let schema = event_schema();
        let cols: Vec<(&str, &'static str)> = schema
            .fields()
            .iter()
            .filter(|f| !SKIPPED.contains(&f.name().as_str()))
            .map(|f| (f.name().as_str(), kind_of(f.data_type())))
            .collect();
        let mut select: Vec<String> = Vec::with_capacity(cols.len() * 2);
        for (name, kind) in &cols {
            select.push(format!("count(\"{name}\")"));
            select.push(match *kind {
                "time" => "0".to_string(),
                // DataFusion's approx_distinct takes no floats: count their spellings.
                "number" => format!("approx_distinct(CAST(\"{name}\" AS VARCHAR))"),
                _ => format!("approx_distinct(\"{name}\")"),
            });
        }
        let batches = q
            .rows(
                &format!("SELECT {} FROM events", select.join(", ")),
                vec![],
                None,
            )
            .await?;
        let row = cells::each_row(&batches, |r| {
            Some(
                (0..cols.len() * 2)
                    .map(|i| r.count(i))
                    .collect::<Vec<u64>>(),
            )
        })
        .into_iter()
        .next()
        .unwrap_or_default();
        Ok(cols
            .iter()
            .enumerate()
            .filter_map(|(i, (name, kind))| {
                let values = row.get(2 * i).copied().unwrap_or(0);
                (values > 0).then(|| ColumnProfile {
                    name: name.to_string(),
                    kind: kind.to_string(),
                    values,
                    distinct: (*kind != "time").then(|| row.get(2 * i + 1).copied().unwrap_or(0)),
                })
            })
            .collect())
    }
}
