//! secviz-parse turns security logs into one event schema.
//!
//! Every format (pf/tcpdump text, pcap/pcapng, Zeek, syslog, web access logs, CSV and
//! JSON lines) is read as a stream and appended to Arrow record batches of
//! [`schema::event_schema`]. Lines that do not parse are never dropped: they are
//! counted and handed to a reject sink with their line number and reason.

pub mod schema;
