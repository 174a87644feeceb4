//! DNS messages in packet payloads (port 53 and mDNS 5353): id, query or response,
//! response code, and the first question's name and type.

use std::fmt::Write as _;

/// What the header and first question of a DNS message say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DnsInfo {
    pub id: u16,
    pub response: bool,
    pub rcode: u8,
    /// Type of the first question, if the message has one that could be read.
    pub qtype: Option<u16>,
}

/// Reads a DNS message; writes the first question's name (without the trailing dot;
/// the root is `.`) into `name`. None if the payload is not a DNS message.
pub(crate) fn parse(msg: &[u8], name: &mut String) -> Option<DnsInfo> {
    if msg.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([msg[0], msg[1]]);
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let opcode = (flags >> 11) & 0xf;
    if opcode > 6 || qdcount > 64 {
        return None;
    }
    let mut info = DnsInfo {
        id,
        response: flags & 0x8000 != 0,
        rcode: (flags & 0xf) as u8,
        qtype: None,
    };
    name.clear();
    if qdcount > 0 {
        if let Some(end) = read_name(msg, 12, name) {
            if let Some(t) = msg.get(end..end + 2) {
                info.qtype = Some(u16::from_be_bytes([t[0], t[1]]));
            }
        } else {
            name.clear();
        }
    }
    Some(info)
}

/// Reads a (possibly compressed) name at `pos`; returns the offset after it in the
/// message (after the first pointer, if any).
fn read_name(msg: &[u8], mut pos: usize, out: &mut String) -> Option<usize> {
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(pos)? as usize;
        match len & 0xc0 {
            0x00 if len == 0 => {
                if out.is_empty() {
                    out.push('.');
                }
                return Some(end.unwrap_or(pos + 1));
            }
            0x00 => {
                let label = msg.get(pos + 1..pos + 1 + len)?;
                if !out.is_empty() {
                    out.push('.');
                }
                for &c in label {
                    if c.is_ascii_graphic() && c != b'.' && c != b'\\' {
                        out.push(char::from(c));
                    } else {
                        let _ = write!(out, "\\x{c:02x}");
                    }
                }
                if out.len() > 1024 {
                    return None;
                }
                pos += 1 + len;
            }
            0xc0 => {
                let ptr = ((len & 0x3f) << 8) | *msg.get(pos + 1)? as usize;
                end.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > 32 || ptr >= msg.len() {
                    return None;
                }
                pos = ptr;
            }
            _ => return None,
        }
    }
}

/// Mnemonic of a query type (`A`, `MX`, ...; `TYPE65534` for others).
pub(crate) fn qtype_name(t: u16, out: &mut String) {
    let n = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        257 => "CAA",
        _ => {
            let _ = write!(out, "TYPE{t}");
            return;
        }
    };
    out.push_str(n);
}

/// Mnemonic of a response code, as Zeek prints them.
pub(crate) fn rcode_name(r: u8, out: &mut String) {
    let n = match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => {
            let _ = write!(out, "RCODE{r}");
            return;
        }
    };
    out.push_str(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[&str], qtype: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m
    }

    #[test]
    fn reads_a_query() {
        let mut n = String::new();
        let info = parse(&query(&["www", "example", "com"], 15), &mut n).unwrap();
        assert_eq!(
            info,
            DnsInfo {
                id: 0x1234,
                response: false,
                rcode: 0,
                qtype: Some(15)
            }
        );
        assert_eq!(n, "www.example.com");
    }

    #[test]
    fn pointer_loops_and_garbage_are_safe() {
        let mut n = String::new();
        // A name that points at itself.
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12];
        m.extend_from_slice(&[0, 1, 0, 1]);
        let info = parse(&m, &mut n).unwrap();
        assert_eq!(info.qtype, None);
        assert!(n.is_empty());
        assert!(parse(&[1, 2, 3], &mut n).is_none());
        let mut q = query(&["a\u{1}b"], 1);
        parse(&q, &mut n).unwrap();
        assert_eq!(n, "a\\x01b");
        q.truncate(14);
        assert_eq!(parse(&q, &mut n).unwrap().qtype, None);
    }
}
