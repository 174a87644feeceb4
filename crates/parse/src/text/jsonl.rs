//! (being written)

use super::{Bad, LineParser, Outcome, bad};
use crate::reject::RejectReason;
use crate::row::Row;

pub(crate) struct JsonParser;

impl JsonParser {
    pub fn new(_o: &crate::options::ParseOptions) -> Self {
        JsonParser
    }
}

impl LineParser for JsonParser {
    fn parse(&mut self, _line: &str, _row: &mut Row) -> Result<Outcome, Bad> {
        bad(RejectReason::Unsupported, "not implemented yet")
    }
}

pub(crate) fn sniff(_lines: &[&str]) -> usize {
    0
}
