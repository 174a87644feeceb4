//! pcap and pcapng captures (being written).

use std::io::BufRead;

use arrow_array::RecordBatch;

use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::input::Damage;
use crate::options::ParseOptions;
use crate::reject::{Reject, Summary};

pub(crate) struct PcapSource;

impl PcapSource {
    pub fn new(
        _r: Box<dyn BufRead + Send>,
        _o: &ParseOptions,
        _b: BatchBuilder,
        _d: Damage,
    ) -> Result<Self, ParseError> {
        Err(ParseError::Pcap("not implemented yet".into()))
    }

    pub fn next_batch(
        &mut self,
        _s: &mut Summary,
        _on_reject: &mut dyn FnMut(&Reject),
    ) -> Result<Option<RecordBatch>, ParseError> {
        Ok(None)
    }
}
