//! Fuzzes the pcap/pcapng reader in both modes (the first byte picks packets or flows).
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use secviz_parse::{Format, PcapMode};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let pcap = if mode & 1 == 0 {
        PcapMode::Packets
    } else {
        PcapMode::Flows { idle_timeout: std::time::Duration::from_secs(u64::from(mode >> 1)) }
    };
    common::run(rest, Some(Format::Pcap), pcap);
});
