//! Appends finished [`Row`]s to Arrow builders and cuts record batches of
//! [`event_schema`](crate::schema::event_schema).
//!
//! One builder per column, pre-sized for a whole batch so appends never reallocate in
//! the steady state. `format` and `source` are the same on every row of a stream and
//! are written with `append_value_n` when the batch is cut.

use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};

use crate::row::{I, NI, NS, Row, S};
use crate::schema::event_schema;

/// Schema position of each [`S`] column, in `S` order.
const S_COLS: [usize; NS] = [
    1, 2, 4, 6, 7, 8, 9, 10, 18, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 31, 32,
];
/// Schema position of each [`I`] column, in `I` order.
const I_COLS: [usize; NI] = [3, 5, 11, 12, 13, 14, 15, 16, 19, 26];
const TIME: usize = 0;
const DURATION: usize = 17;
const EXTRA: usize = 33;
const FORMAT: usize = 34;
const SOURCE: usize = 35;
const LINE: usize = 36;
const RAW: usize = 37;

fn is_i32(c: usize) -> bool {
    // src_port, dst_port, dns_id, http_status
    matches!(c, 0 | 1 | 8 | 9)
}

/// Builds event batches row by row.
pub(crate) struct BatchBuilder {
    cap: usize,
    rows: usize,
    format: &'static str,
    source: String,
    time: TimestampMicrosecondBuilder,
    strs: Vec<StringBuilder>,
    i32s: Vec<Int32Builder>,
    i64s: Vec<Int64Builder>,
    duration: Float64Builder,
    extra: StringBuilder,
    line: Int64Builder,
    raw: StringBuilder,
}

impl BatchBuilder {
    pub fn new(cap: usize, format: &'static str, source: String) -> Self {
        let cap = cap.max(1);
        let mut b = BatchBuilder {
            cap,
            rows: 0,
            format,
            source,
            time: TimestampMicrosecondBuilder::new(),
            strs: Vec::new(),
            i32s: Vec::new(),
            i64s: Vec::new(),
            duration: Float64Builder::new(),
            extra: StringBuilder::new(),
            line: Int64Builder::new(),
            raw: StringBuilder::new(),
        };
        b.reset();
        b
    }

    fn reset(&mut self) {
        let cap = self.cap;
        self.rows = 0;
        self.time = TimestampMicrosecondBuilder::with_capacity(cap).with_timezone("UTC");
        // Short strings (addresses, names) average well under 16 bytes.
        self.strs = (0..NS)
            .map(|_| StringBuilder::with_capacity(cap, cap * 8))
            .collect();
        self.i32s = (0..4).map(|_| Int32Builder::with_capacity(cap)).collect();
        self.i64s = (0..NI - 4)
            .map(|_| Int64Builder::with_capacity(cap))
            .collect();
        self.duration = Float64Builder::with_capacity(cap);
        self.extra = StringBuilder::with_capacity(cap, cap * 16);
        self.line = Int64Builder::with_capacity(cap);
        self.raw = StringBuilder::with_capacity(cap, cap * 96);
    }

    pub fn is_full(&self) -> bool {
        self.rows >= self.cap
    }

    /// Appends one finished row.
    pub fn push(&mut self, row: &mut Row, line: u64, raw: Option<&str>) {
        self.time.append_option(row.time);
        for (i, b) in self.strs.iter_mut().enumerate() {
            match row.get(S_ORDER[i]) {
                Some(v) => b.append_value(v),
                None => b.append_null(),
            }
        }
        let (mut n32, mut n64) = (0, 0);
        for (i, c) in I_ORDER.iter().enumerate() {
            let v = row.get_int(*c);
            if is_i32(i) {
                self.i32s[n32].append_option(v.map(|v| v as i32));
                n32 += 1;
            } else {
                self.i64s[n64].append_option(v);
                n64 += 1;
            }
        }
        self.duration.append_option(row.duration);
        match row.extra_json() {
            Some(e) => self.extra.append_value(e),
            None => self.extra.append_null(),
        }
        self.line.append_value(line as i64);
        match raw {
            Some(r) => self.raw.append_value(r),
            None => self.raw.append_null(),
        }
        self.rows += 1;
    }

    /// Cuts the rows appended so far into a batch (None if there are none).
    pub fn finish(&mut self) -> Option<RecordBatch> {
        if self.rows == 0 {
            return None;
        }
        let n = self.rows;
        let mut cols: Vec<Option<ArrayRef>> = vec![None; RAW + 1];
        cols[TIME] = Some(Arc::new(self.time.finish()));
        for (i, b) in self.strs.iter_mut().enumerate() {
            cols[S_COLS[i]] = Some(Arc::new(b.finish()));
        }
        let (mut n32, mut n64) = (0, 0);
        for (i, &pos) in I_COLS.iter().enumerate() {
            if is_i32(i) {
                cols[pos] = Some(Arc::new(self.i32s[n32].finish()));
                n32 += 1;
            } else {
                cols[pos] = Some(Arc::new(self.i64s[n64].finish()));
                n64 += 1;
            }
        }
        cols[DURATION] = Some(Arc::new(self.duration.finish()));
        cols[EXTRA] = Some(Arc::new(self.extra.finish()));
        let mut fmt = StringBuilder::with_capacity(n, self.format.len() * n);
        fmt.append_value_n(self.format, n);
        cols[FORMAT] = Some(Arc::new(fmt.finish()));
        let mut src = StringBuilder::with_capacity(n, self.source.len() * n);
        src.append_value_n(&self.source, n);
        cols[SOURCE] = Some(Arc::new(src.finish()));
        cols[LINE] = Some(Arc::new(self.line.finish()));
        cols[RAW] = Some(Arc::new(self.raw.finish()));
        let cols: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| c.expect("every column built"))
            .collect();
        let batch = RecordBatch::try_new(event_schema(), cols)
            .expect("builders follow event_schema column for column");
        self.reset();
        Some(batch)
    }
}

const S_ORDER: [S; NS] = [
    S::EventClass,
    S::SrcIp,
    S::DstIp,
    S::Protocol,
    S::Action,
    S::Direction,
    S::Interface,
    S::Rule,
    S::TcpFlags,
    S::DnsQtype,
    S::DnsQname,
    S::DnsRcode,
    S::HttpMethod,
    S::HttpHost,
    S::HttpUri,
    S::UserAgent,
    S::User,
    S::AuthResult,
    S::Host,
    S::App,
    S::Message,
];

const I_ORDER: [I; NI] = [
    I::SrcPort,
    I::DstPort,
    I::Bytes,
    I::Packets,
    I::SrcBytes,
    I::DstBytes,
    I::SrcPackets,
    I::DstPackets,
    I::DnsId,
    I::HttpStatus,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::col;
    use arrow_array::{Array, Int32Array, StringArray};

    #[test]
    fn column_positions_match_the_schema() {
        let schema = event_schema();
        let names = [
            col::EVENT_CLASS,
            col::SRC_IP,
            col::DST_IP,
            col::PROTOCOL,
            col::ACTION,
            col::DIRECTION,
            col::INTERFACE,
            col::RULE,
            col::TCP_FLAGS,
            col::DNS_QTYPE,
            col::DNS_QNAME,
            col::DNS_RCODE,
            col::HTTP_METHOD,
            col::HTTP_HOST,
            col::HTTP_URI,
            col::USER_AGENT,
            col::USER,
            col::AUTH_RESULT,
            col::HOST,
            col::APP,
            col::MESSAGE,
        ];
        for (i, n) in names.iter().enumerate() {
            assert_eq!(schema.field(S_COLS[i]).name(), n);
        }
        let ints = [
            col::SRC_PORT,
            col::DST_PORT,
            col::BYTES,
            col::PACKETS,
            col::SRC_BYTES,
            col::DST_BYTES,
            col::SRC_PACKETS,
            col::DST_PACKETS,
            col::DNS_ID,
            col::HTTP_STATUS,
        ];
        for (i, n) in ints.iter().enumerate() {
            assert_eq!(schema.field(I_COLS[i]).name(), n);
        }
        for (pos, n) in [
            (TIME, col::TIME),
            (DURATION, col::DURATION),
            (EXTRA, col::EXTRA),
            (FORMAT, col::FORMAT),
            (SOURCE, col::SOURCE),
            (LINE, col::LINE),
            (RAW, col::RAW),
        ] {
            assert_eq!(schema.field(pos).name(), n);
        }
        assert_eq!(schema.fields().len(), RAW + 1);
    }

    #[test]
    fn rows_become_a_batch() {
        let mut b = BatchBuilder::new(4, "pf", "x.log".into());
        let mut r = Row::default();
        r.set(S::SrcIp, "10.0.0.1");
        r.set_int(I::DstPort, 53);
        b.push(&mut r, 7, Some("raw"));
        r.clear();
        b.push(&mut r, 8, None);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let src = batch
            .column(S_COLS[1])
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(src.value(0), "10.0.0.1");
        assert!(src.is_null(1));
        let dport = batch
            .column(I_COLS[1])
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(dport.value(0), 53);
        assert!(b.finish().is_none());
    }
}
