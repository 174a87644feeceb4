//! Throughput probe for `bench/parse/run.sh`: parses a file and reports records per
//! second. Modes: `arrow` (into record batches only), `csv` (batches written as CSV to
//! /dev/null), `jsonl`. Peak memory is measured by the script around this process.
//!
//! ```text
//! parse_bench FILE [arrow|csv|jsonl] [--repeat N] [--year YYYY] [--threads N] [--out PATH]
//! ```
//!
//! `--out` writes the CSV or JSON lines to PATH instead of /dev/null, to compare the
//! output of two builds byte for byte.

use std::io::{BufWriter, Write};
use std::time::Instant;

use secviz_parse::{EventStream, EventWriter, FieldSelection, OutputFormat, ParseOptions};
// The allocator of the secviz binary (jemalloc under the sandbox's counting), set by the
// sandbox crate for every binary that links it: what is measured is what `secviz parse`
// and `secviz ingest` run.
use secviz_sandbox as _;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .expect("usage: parse_bench FILE [arrow|csv|jsonl] [--repeat N] [--year YYYY]");
    let mode = args.get(2).map(String::as_str).unwrap_or("arrow");
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<i64>().expect("a number"))
    };
    let repeat = flag("--repeat").unwrap_or(1).max(1);
    let year = flag("--year").map(|y| y as i32);
    let threads = flag("--threads").unwrap_or(1).max(1) as usize;
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or("/dev/null", String::as_str);
    let start = Instant::now();
    let mut records = 0u64;
    for _ in 0..repeat {
        let opts = ParseOptions {
            year,
            threads,
            ..Default::default()
        };
        let mut s = EventStream::open_path(path, opts).expect("open");
        let sink =
            BufWriter::with_capacity(1 << 16, std::fs::File::create(out).expect("output file"));
        let mut w = match mode {
            "csv" => Some(EventWriter::new(
                sink,
                FieldSelection::all(),
                OutputFormat::Csv,
            )),
            "jsonl" => Some(EventWriter::new(
                sink,
                FieldSelection::all(),
                OutputFormat::Jsonl,
            )),
            _ => None,
        };
        while let Some(b) = s.next_batch(&mut |_| {}).expect("parse") {
            if let Some(w) = &mut w {
                w.write_batch(&b).expect("write");
            }
        }
        if let Some(w) = w {
            w.finish().expect("flush").flush().expect("flush");
        }
        records += s.summary().read;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{records} records in {secs:.3} s = {:.3} M records/s",
        records as f64 / secs / 1e6
    );
}
