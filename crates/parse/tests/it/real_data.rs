//! Every file in the shared `data/real/` (see secviz-testkit) parses: exact read/parsed/rejected/skipped
//! counts per file (every reject explained), and field values on chosen lines.
//! Counts of outcomes are cross-checked against `grep -c` figures of the same files.

use crate::common;

use common::*;
use secviz_parse::{Format, ParseOptions, RejectReason};

fn opts() -> ParseOptions {
    // The loghub files print no year; pin it so the test does not depend on mtimes.
    ParseOptions {
        year: Some(2005),
        ..Default::default()
    }
}

/// (file, format, read, parsed, skipped)
const CLEAN: &[(&str, Format, u64, u64, u64)] = &[
    ("loghub/OpenSSH_2k.log", Format::Syslog, 2000, 2000, 0),
    ("loghub/Linux_2k.log", Format::Syslog, 2000, 2000, 0),
    ("loghub/Apache_2k.log", Format::Syslog, 2000, 2000, 0),
    ("zat/conn.log", Format::Zeek, 360, 360, 9),
    ("zat/dns.log", Format::Zeek, 54, 54, 9),
    ("zat/http.log", Format::Zeek, 150, 150, 9),
    ("zat/ssl.log", Format::Zeek, 37, 37, 9),
    ("zat/files.log", Format::Zeek, 113, 113, 9),
    ("zat/weird.log", Format::Zeek, 12, 12, 9),
    ("zat/x509.log", Format::Zeek, 13, 13, 8),
    ("zat/notice.log", Format::Zeek, 2, 2, 9),
    ("zat/smtp.log", Format::Zeek, 3, 3, 9),
    ("zat/ftp.log", Format::Zeek, 7, 7, 9),
    ("zat/json/conn.log", Format::Zeek, 50, 50, 0),
    ("zat/json/dns.log", Format::Zeek, 50, 50, 0),
    ("zat/json/http.log", Format::Zeek, 28, 28, 0),
    ("zat/json/ssl.log", Format::Zeek, 50, 50, 0),
    ("zat/json/files.log", Format::Zeek, 50, 50, 0),
    ("zat/json/x509.log", Format::Zeek, 50, 50, 0),
    ("zat/json/kerberos.log", Format::Zeek, 14, 14, 0),
    ("zeek-training/dns.pcap", Format::Pcap, 2, 2, 0),
    ("zeek-training/http.pcap", Format::Pcap, 11, 11, 0),
    (
        "zeek-training/port-scan-of-a-host.pcap",
        Format::Pcap,
        34,
        34,
        0,
    ),
    ("zeek-training/445-tcp-scan.pcap", Format::Pcap, 10, 10, 0),
    (
        "zeek-training/identify-services-per-host.pcap",
        Format::Pcap,
        7880,
        7880,
        0,
    ),
    ("zeek-training/ssh-over-443.pcap", Format::Pcap, 280, 280, 0),
    ("zeek-training/scanner.pcap", Format::Pcap, 32214, 32214, 0),
    ("zeek-training/ssl.pcap", Format::Pcap, 167, 167, 0),
    (
        "zeek-training/http-basic-auth.pcap",
        Format::Pcap,
        688,
        688,
        0,
    ),
];

#[test]
fn every_real_file_parses_with_exact_counts() {
    for &(file, format, read, parsed, skipped) in CLEAN {
        let p = parse_path(real(file), opts());
        let s = &p.summary;
        assert_eq!(s.format, Some(format), "{file}");
        assert_eq!(
            (s.read, s.parsed, s.rejected_total(), s.skipped),
            (read, parsed, 0, skipped),
            "{file}: {s}"
        );
        assert_eq!(s.damage, None, "{file}");
    }
}

#[test]
fn elastic_access_log_has_one_cut_line() {
    let p = parse_path(real("elastic-examples/apache_logs"), opts());
    assert_eq!(p.summary.format, Some(Format::Access));
    assert_eq!((p.summary.read, p.summary.parsed), (10_000, 9_999));
    // Line 8899 of the published file ends inside the user agent (no closing quote).
    assert_eq!(p.rejects.len(), 1);
    let r = &p.rejects[0];
    assert_eq!((r.line, r.reason), (8899, RejectReason::Unrecognized));
    assert!(r.detail.contains("closing quote"), "{}", r.detail);
    assert!(
        r.raw
            .ends_with("(compatible; Googlebot/2.1; +http://www.google.com/bot.html")
    );
    assert_eq!(
        p.at_line(
            1,
            "time,src_ip,http_method,http_uri,http_status,bytes,event_class"
        ),
        [
            "2015-05-17T10:05:03.000000Z",
            "83.149.9.216",
            "GET",
            "/presentations/logstash-monitorama-2013/images/kibana-search.png",
            "200",
            "203023",
            "http_activity"
        ]
    );
    assert_eq!(
        p.at_line(10_000, "src_ip,http_uri,user_agent"),
        [
            "46.105.14.53",
            "/blog/tags/puppet?flav=rss20",
            "UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/"
        ]
    );
}

#[test]
fn openssh_authentication_events() {
    let p = parse_path(real("loghub/OpenSSH_2k.log"), opts());
    assert_eq!(
        p.at_line(2, "time,event_class,src_ip,user,auth_result,host,app"),
        [
            "2005-12-10T06:55:46.000000Z",
            "authentication",
            "173.234.31.186",
            "webmaster",
            "failure",
            "LabSZ",
            "sshd"
        ]
    );
    assert_eq!(
        p.at_line(6, "src_ip,src_port,user,auth_result,extra"),
        [
            "173.234.31.186",
            "38926",
            "webmaster",
            "failure",
            r#"{"pid":24200,"activity":"logon_failed","method":"password","invalid_user":true}"#
        ]
    );
    let results = p.column("auth_result");
    // grep -c: 522 "Failed ..." + 113 "Invalid user" + 496 "authentication failure;" lines,
    // and 2 "message repeated N times: [ Failed password ...]".
    assert_eq!(
        results.iter().filter(|r| *r == "failure").count(),
        522 + 113 + 496 + 2
    );
    assert_eq!(results.iter().filter(|r| *r == "success").count(), 1); // one "Accepted"
    assert!(
        p.column("event_class")
            .iter()
            .all(|c| c == "authentication" || c == "base_event")
    );
}

#[test]
fn linux_syslog_and_apache_error_log() {
    let p = parse_path(real("loghub/Linux_2k.log"), opts());
    assert_eq!(
        p.at_line(1, "time,src_ip,auth_result,host,app,message"),
        [
            "2005-06-14T15:16:01.000000Z",
            "218.188.2.4",
            "failure",
            "combo",
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 "
        ]
    );
    // grep -c: 490 "authentication failure;" + 24 "Authentication failed/FAILED LOGIN/Couldn't authenticate".
    assert_eq!(
        p.column("auth_result")
            .iter()
            .filter(|r| *r == "failure")
            .count(),
        490 + 24
    );

    // Apache error logs are message events of the syslog parser, with their level.
    let p = parse_path(real("loghub/Apache_2k.log"), opts());
    assert_eq!(
        p.at_line(2, "time,app,message,extra"),
        [
            "2005-12-04T04:47:44.000000Z",
            "apache",
            "mod_jk child workerEnv in error state 6",
            r#"{"level":"error"}"#
        ]
    );
    let extra = p.column("extra");
    assert_eq!(
        extra
            .iter()
            .filter(|e| e.contains(r#""level":"error""#))
            .count(),
        595
    );
    assert_eq!(
        extra
            .iter()
            .filter(|e| e.contains(r#""level":"notice""#))
            .count(),
        1405
    );
    assert_eq!(
        p.column("src_ip").iter().filter(|s| !s.is_empty()).count(),
        32
    ); // "[client IP]"
}

#[test]
fn apache_error_log_forced_as_access_is_rejected_with_a_pointer() {
    let p = parse_path(
        real("loghub/Apache_2k.log"),
        ParseOptions {
            format: Some(Format::Access),
            ..opts()
        },
    );
    assert_eq!((p.summary.read, p.summary.parsed), (2000, 0));
    assert_eq!(
        p.summary.rejected.get(&RejectReason::Unrecognized),
        Some(&2000)
    );
    assert!(p.rejects[0].detail.contains("read it as syslog"));
}

#[test]
fn zeek_tsv_and_json_fields() {
    let p = parse_path(real("zat/conn.log"), opts());
    assert_eq!(
        p.at_line(9, "time,src_ip,src_port,dst_ip,dst_port,protocol,duration,src_bytes,dst_bytes,bytes,packets,app"),
        ["2013-09-15T23:44:27.706265Z", "192.168.33.10", "1032", "54.245.228.191", "80", "tcp", "0.44746", "1489", "39641", "41130", "53", "zeek.conn"]
    );
    assert!(p.at_line(9, "extra")[0].contains(r#""conn_state":"RSTO""#));
    let p = parse_path(real("zat/dns.log"), opts());
    assert_eq!(
        p.at_line(9, "event_class,dns_id,dns_qtype,dns_qname,dns_rcode"),
        ["dns_activity", "44949", "A", "guyspy.com", "NOERROR"]
    );
    let p = parse_path(real("zat/http.log"), opts());
    assert_eq!(
        p.at_line(9, "http_method,http_host,http_uri,http_status,user_agent"),
        [
            "GET",
            "guyspy.com",
            "/",
            "301",
            "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)"
        ]
    );
    // Other logs keep every field in extra.
    let p = parse_path(real("zat/files.log"), opts());
    let e = &p.at_line(9, "extra")[0];
    for k in [
        r#""fuid":"Fnjq3r4R0VGmHVWiN5""#,
        r#""tx_hosts":["54.245.228.191"]"#,
        r#""md5":"92bf83360b8ed10d82e38bcdcfcfa4a7""#,
    ] {
        assert!(e.contains(k), "{k} in {e}");
    }
    let p = parse_path(real("zat/json/kerberos.log"), opts());
    assert_eq!(
        p.at_line(1, "event_class,user,auth_result,app"),
        [
            "authentication",
            "JUANITA-WORK-PC$/ICEMAIDEN.COM",
            "failure",
            "zeek.kerberos"
        ]
    );
    let p = parse_path(real("zat/json/x509.log"), opts());
    assert!(p.at_line(1, "extra")[0].contains(r#""certificate.subject":"CN=*.ycpi.mail.aol.com,O=Oath Inc,L=Sunnyvale,ST=California,C=US""#));
}

#[test]
fn pcap_packet_fields() {
    let p = parse_path(real("zeek-training/dns.pcap"), opts());
    assert_eq!(
        p.at_line(
            2,
            "time,src_ip,src_port,dst_ip,protocol,bytes,dns_id,dns_qtype,dns_qname,dns_rcode"
        ),
        [
            "2020-08-05T17:03:24.861079Z",
            "138.183.230.21",
            "53",
            "25.229.246.205",
            "udp",
            "301",
            "60186",
            "PTR",
            "170.105.186.128.in-addr.arpa",
            "NOERROR"
        ]
    );
    // Nanosecond pcap: times keep microseconds.
    let p = parse_path(real("zeek-training/scanner.pcap"), opts());
    assert!(
        p.column("time")
            .iter()
            .all(|t| t.len() == 27 && t.ends_with('Z'))
    );
    let p = parse_path(real("zeek-training/http.pcap"), opts());
    assert_eq!(
        p.at_line(1, "protocol,dst_port,tcp_flags,bytes"),
        ["tcp", "8080", "S", "74"]
    );
}
