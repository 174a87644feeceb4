//! Built-in functions of the rule language that need more than a line: CIDR membership,
//! network of an address, port classes and AfterGlow's severity ramp.

use std::net::IpAddr;

use ipnet::IpNet;

/// Whether `ip` lies in `net` (`10.0.0.0/8`, `2001:db8::/32`, or a bare address).
/// Anything that is not an address is simply not in the network.
pub fn in_subnet(ip: &str, net: &str) -> bool {
    let Ok(addr) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let net = net.trim();
    match net.parse::<IpNet>() {
        Ok(n) => n.contains(&addr),
        Err(_) => net.parse::<IpAddr>().is_ok_and(|a| a == addr),
    }
}

/// The network of `ip` with prefix length `len`, as `a.b.c.d/len`; `None` if not an address.
pub fn network_of(ip: &str, len: f64) -> Option<String> {
    let addr = ip.trim().parse::<IpAddr>().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = (len.max(0.0) as u8).min(max);
    IpNet::new(addr, len).ok().map(|n| n.trunc().to_string())
}

/// A port number's class, so graphs can collapse hundreds of ports into a handful of
/// services. Named classes first; then the IANA ranges.
pub fn port_class(port: &str) -> &'static str {
    match port.trim().parse::<u32>() {
        Ok(p) => port_number_class(p),
        Err(_) => "other",
    }
}

/// [`port_class`] of a number.
pub fn port_number_class(p: u32) -> &'static str {
    match p {
        80 | 443 | 8000 | 8008 | 8080 | 8443 | 8888 => "web",
        25 | 110 | 143 | 465 | 587 | 993 | 995 => "mail",
        53 | 853 | 5353 => "dns",
        22 | 23 | 3389 | 5900..=5903 | 5985 | 5986 => "remote-access",
        137..=139 | 445 | 2049 | 111 => "file-sharing",
        1433 | 1521 | 3306 | 5432 | 6379 | 9200 | 27017 => "database",
        20 | 21 | 69 | 873 => "file-transfer",
        123 | 161 | 162 | 514 | 67 | 68 => "infrastructure",
        6660..=6669 | 6697 => "irc",
        0..=1023 => "well-known",
        1024..=49151 => "registered",
        49152..=65535 => "ephemeral",
        _ => "other",
    }
}

/// AfterGlow's `get_severity(value, steps)`: from #60BB22 (0) to #CC0000 (steps), as
/// `#RRGGBB`. Same arithmetic as AfterGlow so colours match.
pub fn afterglow_severity(value: f64, steps: Option<f64>) -> String {
    let steps = match steps {
        Some(s) if s != 0.0 => s,
        _ => 10.0,
    };
    let mut x = (value + 0.5 * value.signum()).trunc();
    if x >= steps {
        x = steps;
    }
    let interp = |b: f64, e: f64| {
        if b < e {
            (e - b) * (x / steps) + b
        } else {
            (b - e) * (1.0 - x / steps) + e
        }
    };
    let (r0, g0, b0) = (0x60 as f64, 0xBB as f64, 0x22 as f64);
    let (r1, g1, b1) = (0xCC as f64, 0x00 as f64, 0x00 as f64);
    // Perl's `<<` on a float truncates to an integer.
    let r = interp(r0, r1) as i64;
    let g = interp(g0, g1) as i64;
    let b = interp(b0, b1) as i64;
    let v = ((((r << 8) | g) << 8) | b) & 0xFF_FFFF;
    format!("#{v:06X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_v4_v6_and_junk() {
        assert!(in_subnet("10.1.2.3", "10.0.0.0/8"));
        assert!(!in_subnet("11.1.2.3", "10.0.0.0/8"));
        assert!(in_subnet("2001:db8::1", "2001:db8::/32"));
        assert!(!in_subnet("not-an-ip", "10.0.0.0/8"));
        assert!(in_subnet("10.1.2.3", "10.1.2.3"));
    }

    #[test]
    fn network_and_ports() {
        assert_eq!(network_of("10.1.2.3", 24.0).as_deref(), Some("10.1.2.0/24"));
        assert_eq!(network_of("x", 24.0), None);
        assert_eq!(port_class("443"), "web");
        assert_eq!(port_class("3389"), "remote-access");
        assert_eq!(port_class("1000"), "well-known");
        assert_eq!(port_class("50000"), "ephemeral");
        assert_eq!(port_class("http"), "other");
    }

    #[test]
    fn afterglow_severity_ends() {
        assert_eq!(afterglow_severity(0.0, None), "#60BB22");
        assert_eq!(afterglow_severity(10.0, None), "#CC0000");
        assert_eq!(afterglow_severity(50.0, Some(10.0)), "#CC0000");
    }
}
