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
    /// CSV: the rows being assembled, and the cell text of the columns formatted
    /// column by column (reused from batch to batch).
    bytes: Vec<u8>,
    texts: Vec<CellTexts>,
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
            bytes: Vec::with_capacity(1 << 17),
            texts: Vec::new(),
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
        if self.format == OutputFormat::Csv {
            return self.write_csv(&view);
        }
        // Flush in chunks so memory stays bounded by the batch, not the output.
        self.line.clear();
        for r in 0..view.num_rows() {
            json_row(
                &view,
                r,
                self.fields.names(),
                self.extra_k,
                &mut self.line,
                &mut self.cell,
            );
            if self.line.len() >= 1 << 16 {
                self.out.write_all(self.line.as_bytes())?;
                self.line.clear();
            }
        }
        self.out.write_all(self.line.as_bytes())
    }

    /// CSV in two steps: each column that holds any value is turned into its cells'
    /// text in one tight loop over the column (quoted, neutralised, numbers and times
    /// formatted), then rows are assembled by copying cell text. A text column that
    /// needs no quotes or formula prefix anywhere in the batch is copied straight from
    /// the Arrow buffer. Same bytes as [`csv_text`] and [`BatchView::cell`] per cell
    /// (see the equivalence tests).
    fn write_csv(&mut self, view: &BatchView<'_>) -> io::Result<()> {
        let rows = view.num_rows();
        let ncols = view.num_cols();
        // (column, commas before it)
        let mut live: Vec<(usize, usize)> = Vec::new();
        let mut next = 0; // the column whose leading comma is not written yet
        for k in 0..ncols {
            if !view.all_null(k) {
                live.push((k, k - next));
                next = k;
            }
        }
        let trailing = ncols.saturating_sub(1) - next;
        if self.texts.len() < live.len() {
            self.texts.resize_with(live.len(), CellTexts::default);
        }
        for (t, &(k, _)) in self.texts.iter_mut().zip(&live) {
            t.fill(view, k, rows, &mut self.times, &mut self.line);
        }
        let cols: Vec<(usize, &[u8], &[usize])> = live
            .iter()
            .zip(&self.texts)
            .map(|(&(k, commas), t)| {
                let data = match (&t.direct, view.column(k)) {
                    (true, Column::Str(a)) => a.value_data(),
                    _ => &t.data[..],
                };
                (commas, data, &t.offsets[..])
            })
            .collect();
        let commas = [b','; 64];
        let out = &mut self.bytes;
        out.clear();
        for r in 0..rows {
            for &(c, data, offsets) in &cols {
                match c {
                    0 => {}
                    1 => out.push(b','),
                    c => push_commas(out, &commas, c),
                }
                copy_cell(out, data, offsets[r], offsets[r + 1]);
            }
            push_commas(out, &commas, trailing);
            out.push(b'\n');
            // Flush in chunks so memory stays bounded by the batch, not the output.
            if out.len() >= 1 << 16 {
                self.out.write_all(out)?;
                out.clear();
            }
        }
        self.out.write_all(out)
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

/// Appends `data[start..end]`. Most cells are short: when 16 bytes from `start` are
/// readable, they are copied as one fixed-size block (a couple of moves, no call into
/// `memcpy`) and the surplus is cut off again.
#[inline(always)]
fn copy_cell(out: &mut Vec<u8>, data: &[u8], start: usize, end: usize) {
    const BLOCK: usize = 16;
    if end - start <= BLOCK
        && let Some(block) = data.get(start..start + BLOCK)
    {
        let len = out.len() + (end - start);
        out.extend_from_slice(block);
        out.truncate(len);
    } else {
        out.extend_from_slice(&data[start..end]);
    }
}

#[inline]
fn push_commas(out: &mut Vec<u8>, commas: &[u8; 64], mut n: usize) {
    while n > 0 {
        let k = n.min(commas.len());
        out.extend_from_slice(&commas[..k]);
        n -= k;
    }
}

/// The CSV text of one column's cells in a batch: cell `r` is
/// `data[offsets[r]..offsets[r + 1]]` (empty for null), or, when `direct`, the same
/// range of the Arrow string column's own bytes.
#[derive(Default)]
struct CellTexts {
    data: Vec<u8>,
    offsets: Vec<usize>,
    direct: bool,
}

impl CellTexts {
    /// Formats column `k` of the view (all its `rows` cells). `tmp` is scratch text.
    fn fill(
        &mut self,
        view: &BatchView<'_>,
        k: usize,
        rows: usize,
        times: &mut Rfc3339Writer,
        tmp: &mut String,
    ) {
        self.data.clear();
        self.offsets.clear();
        self.direct = false;
        self.offsets.reserve(rows + 1);
        match view.column(k) {
            Column::Str(a) => {
                if plain_column(a) {
                    // Cells are the column's own bytes.
                    self.direct = true;
                    let o = a.value_offsets();
                    self.offsets.extend(o[..=rows].iter().map(|&x| x as usize));
                    return;
                }
                self.offsets.push(0);
                for r in 0..rows {
                    if a.is_valid(r) {
                        csv_text_bytes(a.value(r), &mut self.data);
                    }
                    self.offsets.push(self.data.len());
                }
            }
            Column::Time(a) => {
                self.offsets.push(0);
                for r in 0..rows {
                    if a.is_valid(r) {
                        times.write_bytes(&mut self.data, a.value(r));
                    }
                    self.offsets.push(self.data.len());
                }
            }
            Column::I32(a) => self.integers(a, rows),
            Column::I64(a) => self.integers(a, rows),
            Column::F64(_) => {
                self.offsets.push(0);
                for r in 0..rows {
                    tmp.clear();
                    view.cell(r, k, tmp);
                    self.data.extend_from_slice(tmp.as_bytes());
                    self.offsets.push(self.data.len());
                }
            }
        }
    }
}

impl CellTexts {
    /// Decimal text of an integer column's cells (empty for nulls).
    fn integers<T>(&mut self, a: &arrow_array::PrimitiveArray<T>, rows: usize)
    where
        T: arrow_array::ArrowPrimitiveType,
        T::Native: itoa::Integer,
    {
        self.offsets.push(0);
        let mut f = itoa::Buffer::new();
        for r in 0..rows {
            if a.is_valid(r) {
                self.data.extend_from_slice(f.format(a.value(r)).as_bytes());
            }
            self.offsets.push(self.data.len());
        }
    }
}

/// True if every cell of a text column is written as its bytes: no value needs quotes
/// or starts like a formula, and every null slot is empty (so it reads as an empty cell).
fn plain_column(a: &arrow_array::StringArray) -> bool {
    let o = a.value_offsets();
    let data = a.value_data();
    if needs_quotes(&data[o[0] as usize..o[o.len() - 1] as usize]) {
        return false;
    }
    let nulls = a.nulls();
    (0..a.len()).all(|r| {
        let (s, e) = (o[r] as usize, o[r + 1] as usize);
        e == s || (!is_formula(&data[s..e]) && nulls.is_none_or(|n| n.is_valid(r)))
    })
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
    while let Some(i) = memchr::memchr(b'"', rest.as_bytes()) {
        line.push_str(&rest[..=i]);
        line.push('"');
        rest = &rest[i + 1..];
    }
    line.push_str(rest);
    line.push('"');
}

/// [`csv_text`] into bytes (same output).
#[inline]
fn csv_text_bytes(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let formula = is_formula(b);
    if !needs_quotes(b) {
        if formula {
            out.push(b'\'');
        }
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    if formula {
        out.push(b'\'');
    }
    if b.len() <= 64 {
        // Short values with quotes (JSON in `extra`): one pass, no search per quote.
        out.reserve(b.len() * 2 + 1);
        for &c in b {
            out.push(c);
            if c == b'"' {
                out.push(b'"');
            }
        }
        out.push(b'"');
        return;
    }
    let mut rest = b;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        out.push(b'"');
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
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
            let (got, want) = both_ways(&text_batches(text, opts), &fields);
            assert_eq!(got, want);
        }
        for spec in ["src_ip,dst_port,dst_ip", "http_host", "time,http_host,time"] {
            let fields = FieldSelection::parse(spec).unwrap();
            let opts = ParseOptions {
                year: Some(2005),
                ..Default::default()
            };
            let (got, want) = both_ways(&text_batches(text, opts), &fields);
            assert_eq!(got, want, "{spec}");
        }
    }

    /// Writes `batches` with the writer and with the per-cell reference.
    fn both_ways(batches: &[RecordBatch], fields: &FieldSelection) -> (String, String) {
        let mut w = EventWriter::new(Vec::new(), fields.clone(), OutputFormat::Csv);
        let mut want = fields.names().join(",") + "\n";
        for b in batches {
            w.write_batch(b).unwrap();
            let view = fields.view(b);
            for r in 0..view.num_rows() {
                reference_row(&view, r, &mut want);
            }
        }
        (String::from_utf8(w.finish().unwrap()).unwrap(), want)
    }

    /// Every batch of `text` parsed with `opts`.
    fn text_batches(text: &str, opts: ParseOptions) -> Vec<RecordBatch> {
        let mut s =
            EventStream::open(std::io::Cursor::new(text.as_bytes().to_vec()), opts).unwrap();
        let mut out = Vec::new();
        while let Some(b) = s.next_batch(&mut |_| {}).unwrap() {
            out.push(b);
        }
        out
    }

    fn jsonl_batches(text: &str, rows: usize) -> Vec<RecordBatch> {
        let opts = ParseOptions {
            format: Some(crate::Format::Jsonl),
            batch_rows: rows,
            ..Default::default()
        };
        text_batches(text, opts)
    }

    #[test]
    fn csv_columns_with_quotes_formulas_and_nulls_match_the_reference() {
        // Text columns where some batches need quotes or formula prefixes and others
        // are plain (copied straight from the Arrow buffer), with nulls and empty values.
        let text = r#"{"ts":1,"user":"alice","message":"plain","url":"/a","duration":1.5}
{"ts":2,"user":"","message":"has, comma","url":"=1+2"}
{"ts":3,"message":"say \"hi\"","url":"/b"}
{"ts":4,"user":"-bob","message":"line\nbreak","url":"/c\r"}
{"ts":5,"user":"@x","message":"\"","url":"+","duration":0.1}
{"ts":6,"user":"carol","message":"tab\tand ,\"both\"","url":"/d"}
{"ts":7}
"#;
        for rows in [1, 2, 3, 1000] {
            let batches = jsonl_batches(text, rows);
            for fields in [
                FieldSelection::all(),
                FieldSelection::parse("user,message,http_uri,time,duration,user").unwrap(),
                FieldSelection::parse("user").unwrap(),
            ] {
                let (got, want) = both_ways(&batches, &fields);
                assert_eq!(got, want, "batch rows {rows}");
            }
        }
    }

    #[test]
    fn csv_null_slots_holding_bytes_stay_empty() {
        use arrow_array::StringArray;
        use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
        use std::sync::Arc;
        let batches = jsonl_batches("{\"ts\":1,\"user\":\"a\"}\n{\"ts\":2,\"user\":\"b\"}\n", 10);
        let b = &batches[0];
        let k = b.schema().index_of(col::USER).unwrap();
        // Row 1 is null but its slot holds bytes, as arrow allows.
        let user = StringArray::new(
            OffsetBuffer::new(ScalarBuffer::from(vec![0, 5, 9])),
            arrow_buffer::Buffer::from_vec(b"alice=bad".to_vec()),
            Some(NullBuffer::from(vec![true, false])),
        );
        let mut cols = b.columns().to_vec();
        cols[k] = Arc::new(user);
        let b = RecordBatch::try_new(b.schema(), cols).unwrap();
        let fields = FieldSelection::parse("user,time").unwrap();
        let (got, want) = both_ways(std::slice::from_ref(&b), &fields);
        assert_eq!(got, want);
        assert!(got.ends_with("\n,1970-01-01T00:00:02.000000Z\n"), "{got}");
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
