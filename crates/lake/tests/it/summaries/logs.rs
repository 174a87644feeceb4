//! The analyses of logins, web requests, DNS names and connections answer from the
//! summaries as they do from the rows (issue 19.3).

use std::fmt::Write;

use secviz_lake::analyze::Detail;

use super::*;

/// JSON lines of logins, web requests, DNS queries and connections, one `part` of two
/// (each part holds every client, so the summaries of the two files are merged): a
/// password sprayer with 80 accounts, a guesser that gets in, a web scanner asking for 300
/// missing paths, a DNS tunnel of 200 long names under one domain, a client whose queries
/// all get NXDOMAIN, names in mixed case with trailing dots, connections with and without
/// durations, bytes or a port, an exfiltration and a long connection.
fn mixed_logs(part: u32) -> String {
    let mut out = String::new();
    let t = |i: u32| 1_318_291_200.0 + f64::from(part * 100_000 + i);
    let mut line = |s: String| writeln!(out, "{s}").unwrap();
    for k in 0..40 {
        let ts = t(k);
        line(format!(
            r#"{{"ts":{ts},"src_ip":"10.7.7.7","user":"user{:02}","auth_result":"failure"}}"#,
            part * 40 + k
        ));
        line(format!(
            r#"{{"ts":{ts},"src_ip":"10.8.8.8","user":"root","auth_result":"failure"}}"#
        ));
    }
    line(format!(
        r#"{{"ts":{},"src_ip":"10.8.8.8","user":"root","auth_result":"success"}}"#,
        t(50)
    ));
    for c in 0..30 {
        let (ts, user) = (t(60 + c), format!("staff{c}"));
        line(format!(
            r#"{{"ts":{ts},"src_ip":"10.2.0.{c}","user":"{user}","auth_result":"success"}}"#
        ));
        if c % 3 == part {
            line(format!(
                r#"{{"ts":{ts},"src_ip":"10.2.0.{c}","user":"{user}","auth_result":"failure"}}"#
            ));
        }
    }
    for k in 0..150 {
        line(format!(
            r#"{{"ts":{},"src_ip":"10.9.9.9","uri":"/probe/{}.php","http_status":404}}"#,
            t(100 + k),
            part * 150 + k
        ));
    }
    for c in 0..40 {
        for (k, status) in [(0, 200), (1, 200), (2, 304), (3, 404)] {
            if status == 404 && c % 4 != 0 {
                continue;
            }
            line(format!(
                r#"{{"ts":{},"src_ip":"10.3.0.{c}","uri":"/page/{k}","http_status":{status}}}"#,
                t(300 + c * 4 + k)
            ));
        }
    }
    for k in 0..100u32 {
        let label: String = (0..30u32)
            .map(|j| {
                let h = (k + 1)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add((j + 1).wrapping_mul(40_503))
                    .wrapping_mul(2_246_822_519)
                    ^ (part + 1).wrapping_mul(3_266_489_917);
                let h = h ^ (h >> 15);
                char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(h % 36) as usize])
            })
            .collect();
        line(format!(
            r#"{{"ts":{},"src_ip":"10.5.5.5","src_port":5353,"dst_ip":"192.0.2.53","dst_port":53,"query":"{label}.t.Tunnel.example.","qtype_name":"TXT","rcode_name":"NOERROR"}}"#,
            t(500 + k)
        ));
    }
    for c in 0..30 {
        for (k, name) in [
            "www.example.com",
            "MAIL.example.com.",
            "cdn.example.org",
            "localhost",
        ]
        .iter()
        .enumerate()
        {
            let rcode = if c == 7 { "NXDOMAIN" } else { "NOERROR" };
            let qtype = ["A", "aaaa", "A", "A"][k];
            line(format!(
                r#"{{"ts":{},"src_ip":"10.4.0.{c}","src_port":{},"dst_ip":"192.0.2.53","dst_port":53,"query":"{name}","qtype_name":"{qtype}","rcode_name":"{rcode}"}}"#,
                t(700 + c * 4 + k as u32),
                30000 + c * 4 + k as u32
            ));
        }
    }
    for k in 0..12 {
        line(format!(
            r#"{{"ts":{},"src_ip":"10.4.0.99","dst_port":53,"query":"x{k}q{part}.dga.example","rcode":"3"}}"#,
            t(900 + k)
        ));
    }
    for c in 0..20u32 {
        for k in 0..3u32 {
            let (sent, got) = (1000 + c * 10 + k, 5000 + c * 7);
            line(format!(
                r#"{{"ts":{},"id.orig_h":"10.1.0.{c}","id.orig_p":{},"id.resp_h":"203.0.113.{}","id.resp_p":443,"proto":"tcp","duration":{}.25,"src_bytes":{sent},"dst_bytes":{got}}}"#,
                t(1000 + c * 3 + k),
                40000 + k,
                c % 5,
                1 + (c + k) % 9
            ));
        }
    }
    line(format!(
        r#"{{"ts":{},"id.orig_h":"10.1.0.3","id.orig_p":40100,"id.resp_h":"198.51.100.9","id.resp_p":8443,"proto":"tcp","duration":7200.5,"src_bytes":900000000,"dst_bytes":4000}}"#,
        t(1100)
    ));
    line(format!(
        r#"{{"ts":{},"id.orig_h":"10.1.0.4","id.resp_h":"198.51.100.10","proto":"icmp","duration":3.5}}"#,
        t(1101)
    ));
    line(format!(
        r#"{{"ts":{},"id.orig_h":"10.1.0.5","id.resp_h":"198.51.100.11","id.resp_p":22,"proto":"tcp","src_bytes":10,"dst_bytes":20}}"#,
        t(1102)
    ));
    out
}

#[tokio::test]
async fn logins_web_requests_dns_names_and_connections_answer_from_the_summaries() {
    let (_d, lake) = temp_lake();
    for part in 0..2 {
        ingest_text(&lake, "mixed", "m.json", mixed_logs(part), {
            let mut o = json_options();
            o.force = true;
            o
        })
        .await
        .unwrap();
    }
    let m = lake.require(&"mixed".parse().unwrap()).await.unwrap();
    assert!(m.files.len() >= 2, "{}", m.files.len());
    compare(&lake, "mixed", None).await;
    for (name, params) in SUMMARIZED
        .iter()
        .skip_while(|(n, _)| *n != "password-guessing")
    {
        let r = run(&lake, "mixed", name, params).await;
        assert_eq!(r.read, Read::Summaries, "{name}");
        assert!(r.not_run.is_none() && !r.findings.is_empty(), "{name}");
    }
    // What each one finds, from the summaries: the planted findings, and the estimates
    // said to be estimates.
    let guess = run(&lake, "mixed", "password-guessing", &[]).await;
    let sprayer = guess
        .findings
        .iter()
        .find_map(|f| match &f.detail {
            Detail::PasswordGuessing {
                src,
                failures: 80,
                accounts,
                spraying: true,
                accounts_estimated: true,
                ..
            } if src == "10.7.7.7" => Some(*accounts),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{:?}", guess.findings));
    within_bound(sprayer, 80, "sprayer");
    assert!(guess.findings.iter().any(|f| matches!(&f.detail,
        Detail::PasswordGuessing { src, failures: 80, accounts: 1, successes: 2, got_in_as: Some(u), .. }
            if src == "10.8.8.8" && u == "root")));
    let web = run(&lake, "mixed", "web-probing", &[]).await;
    assert!(
        matches!(&web.findings[0].detail,
        Detail::WebProbing { src, requests: 300, missing_estimated: true, example_path: Some(p), .. }
            if src == "10.9.9.9" && p == "/probe/0.php"),
        "{:?}",
        web.findings
    );
    let tunnel = run(&lake, "mixed", "dns-tunnel", &[]).await;
    assert!(
        matches!(&tunnel.findings[0].detail,
        Detail::DnsTunnel { domain, queries: 200, clients: 1, estimated: true, entropy_bits, .. }
            if domain == "tunnel.example" && *entropy_bits > 4.0),
        "{:?}",
        tunnel.findings
    );
    let dns = run(&lake, "mixed", "dns", &["limit=3"]).await;
    let names: Vec<_> = dns
        .findings
        .iter()
        .filter_map(|f| match &f.detail {
            Detail::DnsName {
                name,
                queries,
                queries_at_most: None,
            } => Some((name.as_str(), *queries)),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            ("cdn.example.org", 60),
            ("localhost", 60),
            ("mail.example.com", 60)
        ]
    );
    assert!(dns.findings.iter().any(|f| matches!(&f.detail,
        Detail::Nxdomain { client: Some(c), queries: 24, nxdomain: 24, .. } if c == "10.4.0.99")));
    let long = run(&lake, "mixed", "long-connections", &[]).await;
    assert!(matches!(&long.findings[0].detail,
        Detail::LongConnection { src, port: Some(8443), connections: 2, .. } if src == "10.1.0.3"));
    let exfil = run(&lake, "mixed", "exfiltration", &[]).await;
    assert!(
        matches!(&exfil.findings[0].detail,
        Detail::Exfiltration { src, dst, sent: 1_800_000_000, received: 8000 }
            if src == "10.1.0.3" && dst == "198.51.100.9"),
        "{:?}",
        exfil.findings
    );
}
