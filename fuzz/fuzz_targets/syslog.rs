//! Fuzzes the syslog parser: no input panics, and the count identity holds.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use secviz_parse::{Format, PcapMode};

fuzz_target!(|data: &[u8]| common::run(data, Some(Format::Syslog), PcapMode::Packets));
