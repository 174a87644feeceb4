//! Shared body of the fuzz targets: parse the input to the end with small limits and
//! check the invariants every stream keeps.

use secviz_parse::{EventStream, Format, Limits, ParseOptions, PcapMode};

/// Parses `data` as `format` (None: detect) and checks that no panic happens, that
/// parsed + rejected = read, and that the rows produced match the summary.
pub fn run(data: &[u8], format: Option<Format>, pcap: PcapMode) {
    let opts = ParseOptions {
        format,
        year: Some(2020),
        reference_time: Some(1_600_000_000_000_000),
        batch_rows: 5,
        pcap,
        limits: Limits { max_line_bytes: 4096, max_json_depth: 16, max_snaplen: 65_536, max_open_flows: 64 },
        ..ParseOptions::default()
    };
    let Ok(mut stream) = EventStream::open(std::io::Cursor::new(data.to_vec()), opts) else { return };
    let mut rows = 0u64;
    let mut rejects = 0u64;
    loop {
        match stream.next_batch(&mut |_| rejects += 1) {
            Ok(Some(batch)) => {
                assert_eq!(batch.schema(), secviz_parse::schema::event_schema());
                rows += batch.num_rows() as u64;
            }
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let s = stream.summary();
    assert_eq!(s.parsed + s.rejected_total(), s.read, "{s}");
    assert_eq!(s.rejected_total(), rejects);
    assert_eq!(s.events, rows);
}
