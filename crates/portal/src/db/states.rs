//! The states of an ingest job and of a dataset, as enums, and the one place that maps them
//! to and from the text the database stores (`ingest_jobs.state`, `datasets.status`; the
//! migrations' `CHECK` constraints list the same words). The stored words never change, so
//! databases written by older versions read the same on SQLite and PostgreSQL.
//!
//! Rows decode a state with `#[sqlx(try_from = "String")]`; queries bind [`JobState::as_str`]
//! or [`DatasetStatus::as_str`]. Static SQL that `concat!` builds (which takes only literals)
//! uses [`ready_sql!`], tested against [`DatasetStatus::Ready`].

use std::fmt;
use std::str::FromStr;

/// A state word the database holds that this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {text:?} in the database")]
pub struct UnknownState {
    what: &'static str,
    text: String,
}

/// Where an ingest job is (`ingest_jobs.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for a worker (new, or put back after its process died).
    Queued,
    /// Claimed by a worker whose heartbeat says how far it got.
    Running,
    /// The dataset was committed.
    Done,
    /// Ended without a dataset (the error is on the dataset).
    Failed,
}

impl JobState {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Queued or running: not ended yet.
    pub fn is_pending(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

/// Where a dataset's ingest is (`datasets.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetStatus {
    /// Its ingest job waits for a worker.
    Queued,
    /// Being parsed.
    Running,
    /// Committed to the lake: it can be read, shown and published.
    Ready,
    /// The ingest failed; the row says why.
    Failed,
}

impl DatasetStatus {
    /// The text stored in the database (and shown as the draft's status).
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetStatus::Queued => "queued",
            DatasetStatus::Running => "running",
            DatasetStatus::Ready => "ready",
            DatasetStatus::Failed => "failed",
        }
    }

    /// Queued or running: its ingest has not ended.
    pub fn is_ingesting(self) -> bool {
        matches!(self, DatasetStatus::Queued | DatasetStatus::Running)
    }
}

/// `'ready'`, [`DatasetStatus::Ready`] as an SQL literal, for static queries.
macro_rules! ready_sql {
    () => {
        "'ready'"
    };
}
pub(crate) use ready_sql;

/// `FromStr`, `TryFrom<String>` (what rows decode through) and `Display` from `as_str`.
macro_rules! stored_as_text {
    ($ty:ident, $what:literal, [$($v:ident),*]) => {
        impl FromStr for $ty {
            type Err = UnknownState;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                [$($ty::$v),*]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownState {
                        what: $what,
                        text: s.to_string(),
                    })
            }
        }

        impl TryFrom<String> for $ty {
            type Error = UnknownState;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_as_text!(JobState, "job state", [Queued, Running, Done, Failed]);
stored_as_text!(
    DatasetStatus,
    "dataset status",
    [Queued, Running, Ready, Failed]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_round_trip_and_do_not_change() {
        let jobs = [
            (JobState::Queued, "queued"),
            (JobState::Running, "running"),
            (JobState::Done, "done"),
            (JobState::Failed, "failed"),
        ];
        for (s, text) in jobs {
            assert_eq!(s.as_str(), text);
            assert_eq!(text.parse::<JobState>(), Ok(s));
        }
        let datasets = [
            (DatasetStatus::Queued, "queued"),
            (DatasetStatus::Running, "running"),
            (DatasetStatus::Ready, "ready"),
            (DatasetStatus::Failed, "failed"),
        ];
        for (s, text) in datasets {
            assert_eq!(s.as_str(), text);
            assert_eq!(DatasetStatus::try_from(text.to_string()), Ok(s));
        }
        assert!("done".parse::<DatasetStatus>().is_err());
        assert!("Ready".parse::<DatasetStatus>().is_err());
        assert_eq!(ready_sql!(), format!("'{}'", DatasetStatus::Ready));
    }
}
