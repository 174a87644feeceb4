//! (being written)

use super::{Bad, LineParser, Outcome, bad};
use crate::reject::RejectReason;
use crate::row::Row;

pub(crate) struct AccessParser;

impl AccessParser {
    pub fn new() -> Self {
        AccessParser
    }
}

impl LineParser for AccessParser {
    fn parse(&mut self, _line: &str, _row: &mut Row) -> Result<Outcome, Bad> {
        bad(RejectReason::Unsupported, "not implemented yet")
    }
}

pub(crate) fn sniff(_lines: &[&str]) -> usize {
    0
}
