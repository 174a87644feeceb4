//! (being written)

use super::{Bad, LineParser, Outcome, bad};
use crate::reject::RejectReason;
use crate::row::Row;

pub(crate) struct SyslogParser;

impl SyslogParser {
    pub fn new(_y: Option<i32>, _r: i64) -> Self {
        SyslogParser
    }
}

impl LineParser for SyslogParser {
    fn parse(&mut self, _line: &str, _row: &mut Row) -> Result<Outcome, Bad> {
        bad(RejectReason::Unsupported, "not implemented yet")
    }
}

pub(crate) fn sniff(_lines: &[&str]) -> usize {
    0
}
