//! Integration tests of secviz-parse: every format, real and generated logs, damage, limits and pcap.
//!
//! One test binary for the crate: its dependencies (DataFusion above all) are linked once,
//! and the runner (`cargo nextest run`, see .config/nextest.toml) schedules every test.

mod common;
mod damage_and_limits;
mod decompression;
mod generated;
mod parallel;
mod pcap_links;
mod pcap_tshark;
mod props;
mod real_data;
