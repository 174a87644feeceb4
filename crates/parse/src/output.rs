//! Writers of event batches as CSV or JSON lines, with the escaping attacker-controlled
//! values need.
//!
//! CSV follows RFC 4180 quoting, and neutralises spreadsheet formulas: a text cell
//! starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'` so a
//! spreadsheet shows it instead of evaluating it. JSON lines omit null fields; the
//! `extra` column, which secviz always writes as a JSON object, is embedded as an
//! object rather than a string.

use std::io::{self, Write};

use arrow_array::RecordBatch;

use crate::fields::{BatchView, CellKind, FieldSelection};
use crate::row::json_escape_into;
use crate::schema::col;

/// Output text formats of `secviz parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Jsonl,
}

/// Writes batches as CSV (with a header line) or JSON lines.
pub struct EventWriter<W: Write> {
    out: W,
    fields: FieldSelection,
    format: OutputFormat,
    header_done: bool,
    header: bool,
    line: String,
    cell: String,
    extra_k: Option<usize>,
}

impl<W: Write> EventWriter<W> {
    pub fn new(out: W, fields: FieldSelection, format: OutputFormat) -> Self {
        let extra_k = fields.names().iter().position(|n| n == col::EXTRA);
        EventWriter {
            out,
            fields,
            format,
            header_done: false,
            header: true,
            line: String::with_capacity(1024),
            cell: String::with_capacity(256),
            extra_k,
        }
    }

    /// Leave out the CSV header line (AfterGlow input has none).
    pub fn without_header(mut self) -> Self {
        self.header = false;
        self
    }

    pub fn write_batch(&mut self, batch: &RecordBatch) -> io::Result<()> {
        if self.format == OutputFormat::Csv && self.header && !self.header_done {
            self.line.clear();
            for (k, n) in self.fields.names().iter().enumerate() {
                if k > 0 {
                    self.line.push(',');
                }
                self.line.push_str(n);
            }
            self.line.push('\n');
            self.out.write_all(self.line.as_bytes())?;
        }
        self.header_done = true;
        let view = self.fields.view(batch);
        // Flush in chunks so memory stays bounded by the batch, not the output.
        self.line.clear();
        for r in 0..view.num_rows() {
            match self.format {
                OutputFormat::Csv => csv_row(&view, r, &mut self.line),
                OutputFormat::Jsonl => json_row(
                    &view,
                    r,
                    self.fields.names(),
                    self.extra_k,
                    &mut self.line,
                    &mut self.cell,
                ),
            }
            if self.line.len() >= 1 << 16 {
                self.out.write_all(self.line.as_bytes())?;
                self.line.clear();
            }
        }
        self.out.write_all(self.line.as_bytes())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == OutputFormat::Csv && self.header && !self.header_done {
            // No events: still write the header so the output is a valid empty table.
            let header = self.fields.names().join(",");
            writeln!(self.out, "{header}")?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn csv_row(view: &BatchView<'_>, r: usize, line: &mut String) {
    let n = view.num_cols();
    for k in 0..n {
        if k > 0 {
            line.push(',');
        }
        if view.kind(k) != CellKind::Text {
            view.cell(r, k, line);
            continue;
        }
        let Some(s) = view.str(r, k) else { continue };
        csv_text(s, line);
    }
    line.push('\n');
}

/// Appends one CSV text cell, quoted if needed and with formulas neutralised.
#[inline]
pub fn csv_text(s: &str, line: &mut String) {
    let b = s.as_bytes();
    let formula = matches!(b.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    // Most cells are short (addresses, names): a plain loop beats SIMD setup there.
    let quote = if b.len() < 64 {
        b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r'))
    } else {
        memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some()
    };
    if !quote {
        if formula {
            line.push('\'');
        }
        line.push_str(s);
        return;
    }
    line.push('"');
    if formula {
        line.push('\'');
    }
    let mut rest = s;
    while let Some(i) = rest.bytes().position(|c| c == b'"') {
        line.push_str(&rest[..=i]);
        line.push('"');
        rest = &rest[i + 1..];
    }
    line.push_str(rest);
    line.push('"');
}

fn json_row(
    view: &BatchView<'_>,
    r: usize,
    names: &[String],
    extra_k: Option<usize>,
    line: &mut String,
    cell: &mut String,
) {
    line.push('{');
    let mut first = true;
    for (k, name) in names.iter().enumerate() {
        cell.clear();
        if !view.cell(r, k, cell) {
            continue;
        }
        if !first {
            line.push(',');
        }
        first = false;
        line.push('"');
        line.push_str(name);
        line.push_str("\":");
        match view.kind(k) {
            CellKind::Number => line.push_str(cell),
            _ if Some(k) == extra_k => line.push_str(cell),
            _ => {
                line.push('"');
                json_escape_into(line, cell);
                line.push('"');
            }
        }
    }
    line.push_str("}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_neutralises() {
        let mut line = String::new();
        for (input, want) in [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(1,2)", "\"'@SUM(1,2)\""),
            ("+x\ny", "\"'+x\ny\""),
        ] {
            line.clear();
            csv_text(input, &mut line);
            assert_eq!(line, want, "{input}");
        }
    }
}
