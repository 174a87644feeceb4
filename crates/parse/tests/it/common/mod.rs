//! Helpers shared by the integration tests: run a stream to the end, generate data.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use secviz_parse::{EventStream, FieldSelection, ParseOptions, Reject, Summary};

/// Everything a stream produced.
pub struct Parsed {
    pub batches: Vec<RecordBatch>,
    pub rejects: Vec<Reject>,
    pub summary: Summary,
}

impl Parsed {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// Selected fields of every row as strings ("" for null).
    pub fn column(&self, name: &str) -> Vec<String> {
        let f = FieldSelection::parse(name).unwrap();
        self.batches
            .iter()
            .flat_map(|b| f.rows(b))
            .map(|r| r[0].clone().unwrap_or_default())
            .collect()
    }

    /// One row (0-based over the whole stream) as `name=value` for the given fields.
    pub fn row(&self, i: usize, fields: &str) -> Vec<String> {
        let f = FieldSelection::parse(fields).unwrap();
        let mut i = i;
        for b in &self.batches {
            if i < b.num_rows() {
                let rows = f.rows(b);
                return rows[i]
                    .iter()
                    .map(|v| v.clone().unwrap_or_default())
                    .collect();
            }
            i -= b.num_rows();
        }
        panic!("no row {i}");
    }

    /// The row whose `line` column is `line`, selected fields as strings.
    pub fn at_line(&self, line: u64, fields: &str) -> Vec<String> {
        let lines = self.column("line");
        let i = lines
            .iter()
            .position(|l| l == &line.to_string())
            .unwrap_or_else(|| panic!("no event at line {line}"));
        self.row(i, fields)
    }

    pub fn assert_identity(&self) {
        let s = &self.summary;
        assert_eq!(
            s.parsed + s.rejected_total(),
            s.read,
            "parsed + rejected = read: {s}"
        );
        assert_eq!(s.rejected_total() as usize, self.rejects.len());
        assert_eq!(s.events as usize, self.rows());
    }
}

pub fn run(mut stream: EventStream) -> Parsed {
    let mut rejects = Vec::new();
    let mut batches = Vec::new();
    while let Some(b) = stream.next_batch(&mut |r| rejects.push(r.clone())).unwrap() {
        batches.push(b);
    }
    let summary = stream.summary().clone();
    let p = Parsed {
        batches,
        rejects,
        summary,
    };
    p.assert_identity();
    p
}

pub fn parse_path(path: impl AsRef<Path>, opts: ParseOptions) -> Parsed {
    run(EventStream::open_path(path, opts).unwrap())
}

pub fn parse_bytes(data: &[u8], opts: ParseOptions) -> Parsed {
    run(EventStream::open(std::io::Cursor::new(data.to_vec()), opts).unwrap())
}

/// A file of the shared real samples (`data/real` of the shared folder).
pub fn real(rel: &str) -> PathBuf {
    secviz_testkit::real(rel)
}

/// Runs the shared generator and returns the file it wrote.
pub fn generate(dir: &Path, kind: &str, lines: usize, seed: u64) -> PathBuf {
    secviz_testkit::generate(kind, lines, seed, &dir.join(format!("{kind}-{seed}.txt")))
}
