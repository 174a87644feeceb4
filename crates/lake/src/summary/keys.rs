//! Keys of the summaries' tables, cut exactly as the analyses' SQL cuts them: a summary
//! answers for the rows only if it groups the rows as the SQL does (the integration tests
//! compare whole answers from both).

use std::borrow::Cow;

/// The network of an address as the fan-out analysis's SQL names it:
/// `split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.' || split_part(ip, '.', 3)`
/// (the first three parts of an IPv4 address; anything else padded as SQL pads it).
pub fn network_of(ip: &str) -> Cow<'_, str> {
    if let Some((third, _)) = ip.match_indices('.').nth(2) {
        return Cow::Borrowed(&ip[..third]);
    }
    let mut parts = ip.split('.');
    let mut out = String::with_capacity(ip.len() + 2);
    for i in 0..3 {
        if i > 0 {
            out.push('.');
        }
        out.push_str(parts.next().unwrap_or(""));
    }
    Cow::Owned(out)
}

/// A DNS query name as the DNS analyses' SQL reads it:
/// `lower(trim(trailing '.' from dns_qname))`.
pub(crate) fn dns_name(q: &str) -> Cow<'_, str> {
    let t = q.trim_end_matches('.');
    if t.is_ascii() && !t.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(t.to_lowercase())
    }
}

/// A name's domain as the tunnel analysis's SQL cuts it: its last two labels.
pub(crate) fn domain_of(name: &str) -> &str {
    match name.rmatch_indices('.').nth(1) {
        Some((i, _)) => &name[i + 1..],
        None => name,
    }
}

/// `upper(s)` of SQL.
pub(crate) fn upper(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_cut_as_the_sql_cuts_them() {
        assert_eq!(network_of("10.1.2.3"), "10.1.2");
        assert_eq!(network_of("2001:db8::1"), "2001:db8::1..");
        assert_eq!(network_of("a.b"), "a.b.");
    }

    /// As `lower(trim(trailing '.' from q))` and the tunnel analysis's `reverse` and
    /// `split_part` cut them (the integration tests compare whole answers with the SQL's).
    #[test]
    fn names_and_domains_are_cut_as_the_sql_cuts_them() {
        assert_eq!(dns_name("WWW.Example.COM.."), "www.example.com");
        assert_eq!(dns_name("ÄBC.example"), "äbc.example");
        assert!(matches!(dns_name("a.b"), Cow::Borrowed(_)));
        assert_eq!(domain_of("a.b.example.com"), "example.com");
        assert_eq!(domain_of("example.com"), "example.com");
        assert_eq!(domain_of(".com"), ".com");
        assert_eq!(domain_of("a..b"), ".b");
        assert_eq!(upper("nxDomain"), "NXDOMAIN");
    }
}
