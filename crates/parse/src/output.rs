//! Writers of event batches as CSV or JSON lines, with the escaping attacker-controlled
//! values need.
//!
//! CSV follows RFC 4180 quoting, and neutralises spreadsheet formulas: a text cell
//! starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'` so a
//! spreadsheet shows it instead of evaluating it. JSON lines omit null fields; the
//! `extra` column, which secviz always writes as a JSON object, is embedded as an
//! object rather than a string.

use std::io::{self, Write};

use arrow_array::{Array, RecordBatch};

use crate::fields::{BatchView, CellKind, Column, FieldSelection};
use crate::row::json_escape_into;
use crate::schema::col;
use crate::time::Rfc3339Writer;

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
    times: Rfc3339Writer,
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
            times: Rfc3339Writer::default(),
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
        let plan = match self.format {
            OutputFormat::Csv => CsvPlan::new(&view),
            OutputFormat::Jsonl => CsvPlan::default(),
        };
        // Flush in chunks so memory stays bounded by the batch, not the output.
        self.line.clear();
        for r in 0..view.num_rows() {
            match self.format {
                OutputFormat::Csv => csv_row(&view, &plan, r, &mut self.line, &mut self.times),
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

/// Which columns of a batch hold any value, and how many commas lead to each: a
/// column that is null in every row of the batch costs nothing per row.
#[derive(Default)]
struct CsvPlan {
    /// (column, commas to write before it, no value of the column needs quotes).
    live: Vec<(usize, usize, bool)>,
    /// Commas after the last live column.
    trailing: usize,
    commas: String,
}

impl CsvPlan {
    fn new(view: &BatchView<'_>) -> Self {
        let n = view.num_cols();
        let mut live = Vec::new();
        let mut next = 0; // the column whose leading comma is not written yet
        for k in 0..n {
            if !view.all_null(k) {
                let plain = match view.column(k) {
                    Column::Str(a) => {
                        let o = a.value_offsets();
                        let bytes = &a.value_data()[o[0] as usize..o[o.len() - 1] as usize];
                        !needs_quotes(bytes)
                    }
                    _ => false,
                };
                live.push((k, k - next, plain));
                next = k;
            }
        }
        CsvPlan {
            live,
            trailing: n.saturating_sub(1) - next,
            commas: ",".repeat(n),
        }
    }
}

fn csv_row(
    view: &BatchView<'_>,
    plan: &CsvPlan,
    r: usize,
    line: &mut String,
    times: &mut Rfc3339Writer,
) {
    for &(k, commas, plain) in &plan.live {
        match commas {
            0 => {}
            1 => line.push(','),
            c => line.push_str(&plan.commas[..c]),
        }
        match view.column(k) {
            Column::Str(a) => {
                if a.is_valid(r) {
                    if plain {
                        // The whole column was checked: only formulas to neutralise.
                        csv_unquoted(a.value(r), line);
                    } else {
                        csv_text(a.value(r), line);
                    }
                }
            }
            Column::Time(a) => {
                if a.is_valid(r) {
                    times.write(line, a.value(r));
                }
            }
            Column::I32(a) => {
                if a.is_valid(r) {
                    line.push_str(itoa::Buffer::new().format(a.value(r)));
                }
            }
            Column::I64(a) => {
                if a.is_valid(r) {
                    line.push_str(itoa::Buffer::new().format(a.value(r)));
                }
            }
            Column::F64(_) => {
                view.cell(r, k, line);
            }
        }
    }
    line.push_str(&plan.commas[..plan.trailing]);
    line.push('\n');
}

/// True if text holds a byte that makes a CSV cell need quotes.
#[inline]
fn needs_quotes(b: &[u8]) -> bool {
    // Most cells are short (addresses, names): a loop without early exit, which the
    // compiler vectorises, beats a SIMD search's setup there.
    if b.len() < 64 {
        b.iter()
            .fold(false, |q, &c| q | matches!(c, b',' | b'"' | b'\n' | b'\r'))
    } else {
        memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some()
    }
}

#[inline]
fn is_formula(b: &[u8]) -> bool {
    matches!(b.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// [`csv_text`] for a value known to need no quotes.
#[inline]
fn csv_unquoted(s: &str, line: &mut String) {
    if is_formula(s.as_bytes()) {
        line.push('\'');
    }
    line.push_str(s);
}

/// Appends one CSV text cell, quoted if needed and with formulas neutralised.
#[inline]
pub fn csv_text(s: &str, line: &mut String) {
    let b = s.as_bytes();
    let formula = is_formula(b);
    if !needs_quotes(b) {
        csv_unquoted(s, line);
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
    use crate::{EventStream, ParseOptions};

    /// The CSV row as the plain per-cell reading gives it (the writer's reference).
    fn reference_row(view: &BatchView<'_>, r: usize, line: &mut String) {
        for k in 0..view.num_cols() {
            if k > 0 {
                line.push(',');
            }
            if view.kind(k) != CellKind::Text {
                view.cell(r, k, line);
                continue;
            }
            if let Some(s) = view.str(r, k) {
                csv_text(s, line);
            }
        }
        line.push('\n');
    }

    #[test]
    fn csv_output_matches_cell_by_cell_reading() {
        let text = "Oct 21 06:00:18.025482 rule 57/0(match): pass in on xl1: 219.172.142.170.22646 > 212.173.87.67.1900: udp 1199
Oct 21 06:00:18.041236 rule 201/0(match): pass out on xl1: 62.18.82.115 > 83.202.206.128: icmp: time exceeded in-transit (DF)
Oct 21 06:00:18.075529 rule 9/0(match): block in on xl0: 141.34.95.2.22982 > 212.230.241.167.53: 18336+ A? c2.bad-domain.example. (39) (DF)
Oct 22 23:59:59.999999 rule 3/0(match): block in on xl1: 211.180.233.129.36860 > 62.95.23.15.110: S 3947155861:3947155861(0) win 32768 <mss 1400,nop,nop,sackOK> (DF)
Oct 23 00:00:00 rule 3/(match) [uid 0, pid 9] block out on em0: 2001:db8::5.4433 > 2001:db8::9.443: Flags [S], seq 7, win 16384, length 0
Oct 23 00:00:01 rule 1/0(match): pass in on a: 1.2.3.400 > 1.2.3.5: icmp: x
";
        for (fields, rows) in [(FieldSelection::all(), 2), (FieldSelection::all(), 1000)] {
            let opts = ParseOptions {
                year: Some(2005),
                batch_rows: rows,
                source: "=x,\"y\"".into(),
                ..Default::default()
            };
            let mut s =
                EventStream::open(std::io::Cursor::new(text.as_bytes().to_vec()), opts).unwrap();
            let mut w = EventWriter::new(Vec::new(), fields.clone(), OutputFormat::Csv);
            let mut want = fields.names().join(",") + "\n";
            while let Some(b) = s.next_batch(&mut |_| {}).unwrap() {
                w.write_batch(&b).unwrap();
                let view = fields.view(&b);
                for r in 0..view.num_rows() {
                    reference_row(&view, r, &mut want);
                }
            }
            let got = String::from_utf8(w.finish().unwrap()).unwrap();
            assert_eq!(got, want);
        }
        for spec in ["src_ip,dst_port,dst_ip", "http_host", "time,http_host,time"] {
            let fields = FieldSelection::parse(spec).unwrap();
            let opts = ParseOptions {
                year: Some(2005),
                ..Default::default()
            };
            let mut s =
                EventStream::open(std::io::Cursor::new(text.as_bytes().to_vec()), opts).unwrap();
            let mut w = EventWriter::new(Vec::new(), fields.clone(), OutputFormat::Csv);
            let mut want = fields.names().join(",") + "\n";
            while let Some(b) = s.next_batch(&mut |_| {}).unwrap() {
                w.write_batch(&b).unwrap();
                let view = fields.view(&b);
                for r in 0..view.num_rows() {
                    reference_row(&view, r, &mut want);
                }
            }
            let got = String::from_utf8(w.finish().unwrap()).unwrap();
            assert_eq!(got, want, "{spec}");
        }
    }

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
