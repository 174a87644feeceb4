//! The staging row every parser fills before it is appended to a batch.
//!
//! A parser may fail half-way through a line, and Arrow builders cannot take a value
//! back. So parsers write into a [`Row`] first: string values are copied into one
//! reusable text buffer (no allocation per line once it has grown), numbers into
//! fixed arrays. Only a row that parsed completely is appended by
//! [`crate::batch::BatchBuilder::push`].

use std::fmt::Write as _;
use std::mem::MaybeUninit;

/// String columns of the event schema (all but `extra` and provenance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum S {
    EventClass,
    SrcIp,
    DstIp,
    Protocol,
    Action,
    Direction,
    Interface,
    Rule,
    TcpFlags,
    DnsQtype,
    DnsQname,
    DnsRcode,
    HttpMethod,
    HttpHost,
    HttpUri,
    UserAgent,
    User,
    AuthResult,
    Host,
    App,
    Message,
}

/// Number of string columns in [`S`] (`extra` is built separately, see [`Row::extra`]).
pub(crate) const NS: usize = S::Message as usize + 1;

/// Integer columns. `SrcPort`, `DstPort`, `DnsId` and `HttpStatus` are Int32 in the
/// schema; parsers range-check them before setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum I {
    SrcPort,
    DstPort,
    Bytes,
    Packets,
    SrcBytes,
    DstBytes,
    SrcPackets,
    DstPackets,
    DnsId,
    HttpStatus,
}

/// Number of integer columns in [`I`].
pub(crate) const NI: usize = I::HttpStatus as usize + 1;

/// One event being built. Reused from line to line; [`Row::clear`] is O(1).
/// Where a string value lives: borrowed from the input line (no copy) or in the
/// row's own text buffer (computed values).
#[derive(Clone, Copy, Debug)]
enum Val<'a> {
    Line(&'a str),
    Own(u32, u32),
}

/// One event being built, borrowing from the line it is parsed from. A new row is made
/// for every line from the previous row's buffers ([`Row::with_buffers`],
/// [`Row::into_buffers`]), so nothing is allocated per line.
///
/// The value slots are left uninitialised when a row is made (it is made once per
/// line, and most slots stay unused): slot `i` of `vals` is initialised whenever bit
/// `i` of `str_set` is set, and only such slots are read.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    vals: [MaybeUninit<Val<'a>>; NS],
    text: String,
    str_set: u32,
    ints: [i64; NI],
    int_set: u16,
    pub time: Option<i64>,
    pub duration: Option<f64>,
    /// The `extra` JSON object being written (see [`Row::extra`]).
    extra: String,
    extra_closed: bool,
}

impl Default for Row<'_> {
    fn default() -> Self {
        Row::with_buffers(String::new(), String::new())
    }
}

impl<'a> Row<'a> {
    /// An empty row using (and clearing) the given text buffers.
    #[inline]
    pub fn with_buffers(mut text: String, mut extra: String) -> Self {
        text.clear();
        extra.clear();
        Row {
            vals: [const { MaybeUninit::uninit() }; NS],
            text,
            str_set: 0,
            ints: [0; NI],
            int_set: 0,
            time: None,
            duration: None,
            extra,
            extra_closed: false,
        }
    }

    /// Gives the text buffers back for the next row.
    #[inline]
    pub fn into_buffers(self) -> (String, String) {
        (self.text, self.extra)
    }

    /// Bit set of the string columns that hold a value (bit `S as u32`).
    #[inline]
    pub fn str_mask(&self) -> u32 {
        self.str_set
    }

    /// Bit set of the integer columns that hold a value (bit `I as u32`).
    #[inline]
    pub fn int_mask(&self) -> u16 {
        self.int_set
    }

    /// The value of string column number `i` (`S as usize`); "" if its bit is not set.
    #[inline]
    pub fn str_at(&self, i: usize) -> &str {
        if self.str_set & (1 << i) == 0 {
            return "";
        }
        // SAFETY: the bit is set, so the slot was written (see the type's invariant).
        match unsafe { self.vals[i].assume_init() } {
            Val::Line(v) => v,
            Val::Own(a, b) => &self.text[a as usize..b as usize],
        }
    }

    /// The value of integer column number `i` (`I as usize`); the bit must be set.
    #[inline]
    pub fn int_at(&self, i: usize) -> i64 {
        self.ints[i]
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.str_set = 0;
        self.int_set = 0;
        self.time = None;
        self.duration = None;
        self.extra.clear();
        self.extra_closed = false;
    }

    /// Sets a string column to a slice of the input (no copy).
    #[inline]
    pub fn set(&mut self, c: S, v: &'a str) {
        self.vals[c as usize] = MaybeUninit::new(Val::Line(v));
        self.str_set |= 1 << c as u32;
    }

    /// Sets a string column to a copy of a value that does not outlive the call.
    #[inline]
    pub fn set_copy(&mut self, c: S, v: &str) {
        self.set_with(c, |o| o.push_str(v));
    }

    /// Sets a string column unless the value is empty.
    #[inline]
    pub fn set_nonempty(&mut self, c: S, v: &'a str) {
        if !v.is_empty() {
            self.set(c, v);
        }
    }

    /// Sets a string column from whatever `f` writes (formatted values, escapes).
    #[inline]
    pub fn set_with(&mut self, c: S, f: impl FnOnce(&mut String)) {
        let start = self.text.len() as u32;
        f(&mut self.text);
        self.vals[c as usize] = MaybeUninit::new(Val::Own(start, self.text.len() as u32));
        self.str_set |= 1 << c as u32;
    }

    #[inline]
    pub fn set_int(&mut self, c: I, v: i64) {
        self.ints[c as usize] = v;
        self.int_set |= 1 << c as u32;
    }

    #[inline]
    pub fn get(&self, c: S) -> Option<&str> {
        self.has(c).then(|| self.str_at(c as usize))
    }

    #[inline]
    pub fn get_int(&self, c: I) -> Option<i64> {
        (self.int_set & (1 << c as u32) != 0).then(|| self.ints[c as usize])
    }

    #[inline]
    pub fn has(&self, c: S) -> bool {
        self.str_set & (1 << c as u32) != 0
    }

    /// Adds one member to the `extra` JSON object (kept in its own buffer, so parsers
    /// add members in any order as they meet them). Keys are written as given: callers
    /// pass ASCII literals or names already checked by the caller; values are escaped.
    #[inline]
    pub fn extra(&mut self) -> ExtraWriter<'_> {
        self.extra
            .push(if self.extra.is_empty() { '{' } else { ',' });
        ExtraWriter {
            text: &mut self.extra,
        }
    }

    /// The `extra` column value: the closed JSON object, or `None` if no member was added.
    /// Closes the object in place (idempotent).
    pub fn extra_json(&mut self) -> Option<&str> {
        if self.extra.is_empty() {
            return None;
        }
        if !self.extra_closed {
            self.extra.push('}');
            self.extra_closed = true;
        }
        Some(&self.extra)
    }
}

/// Writes one member of the `extra` JSON object.
pub(crate) struct ExtraWriter<'a> {
    text: &'a mut String,
}

impl ExtraWriter<'_> {
    #[inline]
    fn key(&mut self, k: &str) {
        self.text.push('"');
        json_escape_into(self.text, k);
        self.text.push_str("\":");
    }
    #[inline]
    pub fn str(mut self, k: &str, v: &str) {
        self.key(k);
        self.string(v);
    }
    /// `v` as a JSON string.
    #[inline]
    fn string(&mut self, v: &str) {
        self.text.push('"');
        json_escape_into(self.text, v);
        self.text.push('"');
    }
    #[inline]
    pub fn int(mut self, k: &str, v: i64) {
        self.key(k);
        self.text.push_str(itoa::Buffer::new().format(v));
    }
    #[inline]
    pub fn bool(mut self, k: &str, v: bool) {
        self.key(k);
        self.text.push_str(if v { "true" } else { "false" });
    }
    /// [`Self::int`] for a key known to need no JSON escape (a literal of letters,
    /// digits and `_`): the escape check is skipped on this hot path.
    #[inline]
    pub fn int_lit(self, k: &'static str, v: i64) {
        debug_assert!(k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
        self.text.push('"');
        self.text.push_str(k);
        self.text.push_str("\":");
        self.text.push_str(itoa::Buffer::new().format(v));
    }
    /// [`Self::bool`] for a key known to need no JSON escape (see [`Self::int_lit`]).
    #[inline]
    pub fn bool_lit(self, k: &'static str, v: bool) {
        debug_assert!(k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
        self.text.push('"');
        self.text.push_str(k);
        self.text.push_str(if v { "\":true" } else { "\":false" });
    }
    /// A value that is already valid JSON (copied from a JSON input).
    pub fn raw_json(mut self, k: &str, v: &str) {
        self.key(k);
        self.text.push_str(v);
    }
    /// [`Self::str`] under a key rendered once by [`json_key`] (a header's field names,
    /// the same on every row): the key is copied, not checked for escapes again.
    #[inline]
    pub fn str_rendered(mut self, key: &str, v: &str) {
        self.text.push_str(key);
        self.string(v);
    }
    /// [`Self::bool`] under a key rendered by [`json_key`].
    #[inline]
    pub fn bool_rendered(self, key: &str, v: bool) {
        self.text.push_str(key);
        self.text.push_str(if v { "true" } else { "false" });
    }
    /// A JSON array of strings under a key rendered by [`json_key`], written in place.
    #[inline]
    pub fn str_list_rendered<'s>(mut self, key: &str, items: impl Iterator<Item = &'s str>) {
        self.text.push_str(key);
        self.text.push('[');
        for (i, v) in items.enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.string(v);
        }
        self.text.push(']');
    }
    /// [`Self::raw_json`] under a key rendered by [`json_key`].
    #[inline]
    pub fn raw_json_rendered(self, key: &str, v: &str) {
        self.text.push_str(key);
        self.text.push_str(v);
    }
}

/// `"k":`, with `k` escaped: a member's key as [`ExtraWriter`] writes it, rendered once.
pub(crate) fn json_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 3);
    out.push('"');
    json_escape_into(&mut out, k);
    out.push_str("\":");
    out
}

/// Appends `s` to `out` with JSON string escaping (without the quotes).
#[inline]
pub fn json_escape_into(out: &mut String, s: &str) {
    // Most values need no escape: check first, copy once.
    if !needs_json_escape(s.as_bytes()) {
        out.push_str(s);
        return;
    }
    json_escape_slow(out, s);
}

/// Whether any byte of `b` must be escaped in a JSON string. A long value is checked 16
/// bytes at a time without a branch per byte, which the compiler turns into vector
/// compares (a loop that stopped at the first such byte went byte by byte: a tenth of an
/// access log's parse, whose referrers and user agents are long).
#[inline]
fn needs_json_escape(b: &[u8]) -> bool {
    if b.len() < 16 {
        // Keys and most values: short enough that stopping at the first is fastest.
        return b
            .iter()
            .any(|&x| x < 0x20 || x == b'"' || x == b'\\' || x == 0x7f);
    }
    long_needs_json_escape(b)
}

/// [`needs_json_escape`] for 16 bytes or more, out of line so that the short case stays
/// small where it is inlined.
#[inline(never)]
fn long_needs_json_escape(b: &[u8]) -> bool {
    // `|`, not `||`: no branch per byte.
    let bad = |c: &[u8]| {
        c.iter().fold(false, |a, &x| {
            a | (x < 0x20) | (x == b'"') | (x == b'\\') | (x == 0x7f)
        })
    };
    let mut chunks = b.chunks_exact(16);
    for c in &mut chunks {
        if bad(c) {
            return true;
        }
    }
    bad(chunks.remainder())
}

#[cold]
fn json_escape_slow(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_that_needs_an_escape_is_seen_wherever_it_is() {
        for len in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
            let plain = vec![b'a'; len];
            assert!(!needs_json_escape(&plain));
            for at in 0..len {
                for bad in [0u8, 0x1f, b'"', b'\\', 0x7f] {
                    let mut b = plain.clone();
                    b[at] = bad;
                    assert!(needs_json_escape(&b), "len {len}, {bad:#x} at {at}");
                }
            }
        }
    }

    #[test]
    fn set_get_and_clear() {
        let mut r = Row::default();
        r.set(S::SrcIp, "10.0.0.1");
        r.set_int(I::DstPort, 53);
        r.extra().str("a", "x\"y");
        r.extra().int("n", 3);
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.1"));
        assert_eq!(r.get(S::DstIp), None);
        assert_eq!(r.get_int(I::DstPort), Some(53));
        assert_eq!(r.extra_json(), Some(r#"{"a":"x\"y","n":3}"#));
        r.clear();
        assert_eq!(r.get(S::SrcIp), None);
        assert_eq!(r.get_int(I::DstPort), None);
    }

    #[test]
    fn escapes_control_characters() {
        let mut s = String::new();
        json_escape_into(&mut s, "a\u{1}b\n\u{7f}");
        assert_eq!(s, "a\\u0001b\\n\\u007f");
    }
}
