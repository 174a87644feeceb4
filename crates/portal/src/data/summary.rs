//! The parse report a member sees for an upload: lines read, parsed, rejected by reason,
//! skipped, damage (a truncated gzip), and the first rejected lines with their numbers and
//! reasons. Built from the lake's manifest after a commit, or from what the worker saw when
//! the ingest failed. Every text in it was anonymized by the lake when the upload was.

use std::collections::BTreeMap;

use secviz_lake::manifest::SourceRecord;
use serde::{Deserialize, Serialize};

/// Rejected lines kept for the page.
pub const MAX_REJECTS: usize = 100;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RejectLine {
    pub line: u64,
    pub reason: String,
    pub detail: String,
    pub raw: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParseReport {
    pub format: String,
    pub gzip: bool,
    pub read: u64,
    pub parsed: u64,
    pub skipped: u64,
    pub events: u64,
    pub rejected: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    pub rejects: Vec<RejectLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_max: Option<String>,
    /// How a log without years was dated (the reference is the upload time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_note: Option<String>,
    /// The columns that hold values, with their kind and distinct count (the draft form lists
    /// them and chooses the preset views from them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<secviz_lake::ColumnProfile>,
}

impl ParseReport {
    pub fn from_source(s: &SourceRecord) -> ParseReport {
        ParseReport {
            format: s.format.clone(),
            gzip: s.gzip,
            read: s.summary.read,
            parsed: s.summary.parsed,
            skipped: s.summary.skipped,
            events: s.summary.events,
            rejected: s.summary.rejected.clone(),
            damage: s.summary.damage.clone(),
            rejects: s
                .rejects
                .iter()
                .take(MAX_REJECTS)
                .map(|r| RejectLine {
                    line: r.line,
                    reason: r.reason.clone(),
                    detail: r.detail.clone(),
                    raw: r.raw.clone(),
                })
                .collect(),
            sha256: Some(s.sha256.clone()),
            time_min: None,
            time_max: None,
            year_note: s.summary.year_note.clone(),
            columns: Vec::new(),
        }
    }

    pub fn from_json(s: &str) -> Option<ParseReport> {
        serde_json::from_str(s).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report serializes")
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// `bad_time 3, unrecognized 1`.
    pub fn reasons(&self) -> String {
        self.rejected
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
