//! Fuzzes format detection (gzip sniffing included) followed by whichever parser it picks.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use secviz_parse::PcapMode;

fuzz_target!(|data: &[u8]| common::run(data, None, PcapMode::Packets));
