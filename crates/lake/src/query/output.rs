//! Writing query results: an aligned text table, CSV, JSON lines or Parquet.
//!
//! Everything in a result may come from a log, so each format escapes for where it
//! goes: the table escapes control characters (no terminal escape sequences from a
//! hostile log line), CSV neutralises spreadsheet formulas (a text cell starting with
//! `=`, `+`, `-`, `@`, tab or CR gets a leading `'`), JSON is encoded by Arrow's writer.

use std::io::Write;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::ArrowWriter;

/// A result format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(OutputFormat::Table),
            "csv" => Ok(OutputFormat::Csv),
            "json" | "jsonl" => Ok(OutputFormat::Json),
            "parquet" => Ok(OutputFormat::Parquet),
            other => Err(format!(
                "unknown output format {other:?}: use table, csv, json or parquet"
            )),
        }
    }
}

/// Writes batches in one format. CSV, JSON and Parquet stream; the table needs every
/// row to size its columns, so it is written at `finish`.
pub struct ResultWriter<W: Write + Send> {
    format: OutputFormat,
    schema: SchemaRef,
    out: Option<W>,
    csv: Option<csv::Writer<W>>,
    json: Option<datafusion::arrow::json::LineDelimitedWriter<W>>,
    parquet: Option<ArrowWriter<W>>,
    table: Vec<Vec<String>>,
}

impl<W: Write + Send> ResultWriter<W> {
    pub fn new(
        format: OutputFormat,
        schema: SchemaRef,
        out: W,
    ) -> Result<ResultWriter<W>, ArrowError> {
        let mut w = ResultWriter {
            format,
            schema: schema.clone(),
            out: None,
            csv: None,
            json: None,
            parquet: None,
            table: vec![],
        };
        match format {
            OutputFormat::Csv => {
                let mut c = csv::Writer::from_writer(out);
                let header: Vec<String> = schema
                    .fields()
                    .iter()
                    .map(|f| neutralize_formula(f.name()))
                    .collect();
                c.write_record(&header)
                    .map_err(|e| ArrowError::CsvError(e.to_string()))?;
                w.csv = Some(c);
            }
            OutputFormat::Json => {
                w.json = Some(
                    datafusion::arrow::json::WriterBuilder::new()
                        .with_explicit_nulls(true)
                        .build::<_, datafusion::arrow::json::writer::LineDelimited>(out),
                )
            }
            OutputFormat::Parquet => {
                w.parquet = Some(
                    ArrowWriter::try_new(out, schema, None)
                        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?,
                )
            }
            OutputFormat::Table => {
                w.table.push(
                    schema
                        .fields()
                        .iter()
                        .map(|f| escape_control(f.name()))
                        .collect(),
                );
                w.out = Some(out);
            }
        }
        Ok(w)
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        match self.format {
            OutputFormat::Csv => {
                let c = self.csv.as_mut().expect("csv writer");
                let cells = Cells::new(batch)?;
                for row in 0..batch.num_rows() {
                    let record: Vec<String> = (0..batch.num_columns())
                        .map(|i| {
                            let v = cells.get(i, row);
                            if cells.textual[i] {
                                neutralize_formula(&v)
                            } else {
                                v
                            }
                        })
                        .collect();
                    c.write_record(&record)
                        .map_err(|e| ArrowError::CsvError(e.to_string()))?;
                }
                Ok(())
            }
            OutputFormat::Json => self.json.as_mut().expect("json writer").write(batch),
            OutputFormat::Parquet => self
                .parquet
                .as_mut()
                .expect("parquet writer")
                .write(batch)
                .map_err(|e| ArrowError::ExternalError(Box::new(e))),
            OutputFormat::Table => {
                let cells = Cells::new(batch)?;
                for row in 0..batch.num_rows() {
                    self.table.push(
                        (0..batch.num_columns())
                            .map(|i| escape_control(&cells.get(i, row)))
                            .collect(),
                    );
                }
                Ok(())
            }
        }
    }

    /// Ends the output (writes the table, the JSON end, the Parquet footer) and flushes.
    pub fn finish(mut self) -> Result<(), ArrowError> {
        let io = |e: std::io::Error| ArrowError::IoError(e.to_string(), e);
        match self.format {
            OutputFormat::Csv => {
                let c = self.csv.take().expect("csv writer");
                c.into_inner()
                    .map_err(|e| ArrowError::CsvError(e.to_string()))?
                    .flush()
                    .map_err(io)
            }
            OutputFormat::Json => {
                let mut j = self.json.take().expect("json writer");
                j.finish()?;
                j.into_inner().flush().map_err(io)
            }
            OutputFormat::Parquet => {
                let p = self.parquet.take().expect("parquet writer");
                p.into_inner()
                    .map_err(|e| ArrowError::ExternalError(Box::new(e)))?
                    .flush()
                    .map_err(io)
            }
            OutputFormat::Table => {
                let mut out = self.out.take().expect("table output");
                write_table(&mut out, &self.table).map_err(io)?;
                out.flush().map_err(io)
            }
        }
    }

    /// The schema of the rows written.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// Writes all `batches` in one go.
pub fn write_batches<W: Write + Send>(
    format: OutputFormat,
    schema: SchemaRef,
    batches: &[RecordBatch],
    out: W,
) -> Result<(), ArrowError> {
    let mut w = ResultWriter::new(format, schema, out)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()
}

/// Cell text of a batch (nulls as empty strings, times in RFC 3339).
struct Cells<'a> {
    formatters: Vec<ArrayFormatter<'a>>,
    nulls: Vec<&'a ArrayRef>,
    textual: Vec<bool>,
}

impl<'a> Cells<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Cells<'a>, ArrowError> {
        static OPTIONS: std::sync::LazyLock<FormatOptions<'static>> =
            std::sync::LazyLock::new(|| FormatOptions::default().with_null(""));
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &OPTIONS))
            .collect::<Result<_, _>>()?;
        let textual = batch
            .columns()
            .iter()
            .map(|c| is_text(c.data_type()))
            .collect();
        Ok(Cells {
            formatters,
            nulls: batch.columns().iter().collect(),
            textual,
        })
    }

    fn get(&self, col: usize, row: usize) -> String {
        if self.nulls[col].is_null(row) {
            return String::new();
        }
        self.formatters[col].value(row).to_string()
    }
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

/// `=1+1` → `'=1+1`: spreadsheet programs then show the text instead of running it.
pub fn neutralize_formula(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Control characters shown as escapes (the parse crate's, where log text is first read).
pub use secviz_parse::escape_control;

fn write_table(out: &mut dyn Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let Some(header) = rows.first() else {
        return Ok(());
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+";
    writeln!(out, "{rule}")?;
    for (i, r) in rows.iter().enumerate() {
        let line: String = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("| {c}{} ", " ".repeat(w - c.chars().count())))
            .collect::<String>()
            + "|";
        writeln!(out, "{line}")?;
        if i == 0 {
            writeln!(out, "{rule}")?;
        }
    }
    writeln!(out, "{rule}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![
                    Some("=HYPERLINK(\"x\")"),
                    Some("\u{1b}[31mred"),
                    None,
                    Some("-2"),
                ])),
                Arc::new(Int64Array::from(vec![Some(1), Some(-5), None, Some(3)])),
            ],
        )
        .unwrap()
    }

    fn render(format: OutputFormat) -> Vec<u8> {
        let b = batch();
        let mut out = Vec::new();
        write_batches(format, b.schema(), &[b], &mut out).unwrap();
        out
    }

    #[test]
    fn csv_neutralises_formulas_in_text_but_not_numbers() {
        let text = String::from_utf8(render(OutputFormat::Csv)).unwrap();
        assert_eq!(
            text,
            "name,n\n\"'=HYPERLINK(\"\"x\"\")\",1\n\u{1b}[31mred,-5\n,\n'-2,3\n"
        );
    }

    #[test]
    fn table_escapes_terminal_control_characters() {
        let text = String::from_utf8(render(OutputFormat::Table)).unwrap();
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("\\u{1b}[31mred"), "{text}");
        assert!(text.lines().next().unwrap().starts_with("+--"));
    }

    #[test]
    fn json_lines_and_parquet_round_trip() {
        let text = String::from_utf8(render(OutputFormat::Json)).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["name"], "=HYPERLINK(\"x\")");
        assert_eq!(text.lines().count(), 4);
        let bytes = bytes::Bytes::from(render(OutputFormat::Parquet));
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
            bytes, 1024,
        )
        .unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 4);
    }
}
