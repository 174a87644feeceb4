//! The limits the server under attack is started with, and what the suite allows for them.

use std::time::Duration;

/// Memory of all member work, as configured (MiB).
pub(super) const QUERY_MEMORY_MIB: u64 = 512;
/// The query time limit (s).
pub(super) const QUERY_SECONDS: u64 = 4;
/// The download time limit (s).
pub(super) const EXPORT_SECONDS: u64 = 6;
/// The SQL API's answer cap (KiB).
pub(super) const ANSWER_KIB: usize = 256;
/// How long a client may take to send its request's headers (s).
pub(super) const HEADER_SECONDS: u64 = 5;
/// How long a write to a client that does not read may stall (s).
pub(super) const WRITE_SECONDS: u64 = 3;
/// How long a hostile request may take at most: its limit, the executor's grace (1.5 s),
/// and room for a debug build and a queue that is full on purpose.
pub(super) const MAX_HOSTILE: Duration = Duration::from_secs(QUERY_SECONDS + 12);
