//! The panels' computations: the median, and the default SOC dashboard over a planted story.

use super::*;

#[test]
fn medians() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
}

/// An sshd line of the bastion host at `at` (RFC 3339, seconds).
fn sshd(at: &str, what: &str) -> String {
    format!("<38>1 {at}Z bastion sshd 4242 - - {what}\n")
}

fn failed(at: &str, user: &str, ip: &str) -> String {
    sshd(
        at,
        &format!("Failed password for {user} from {ip} port 50022 ssh2"),
    )
}

fn accepted(at: &str, user: &str, ip: &str) -> String {
    sshd(
        at,
        &format!("Accepted password for {user} from {ip} port 50022 ssh2"),
    )
}

/// A bastion's sshd log with a planted story. The last event is at 2026-11-01 12:00:00,
/// so the hour windows are 11:00-12:00 (now) and 10:00-11:00 (before):
/// - now: 203.0.113.5 guesses passwords for three accounts (30 failures, never seen
///   before); 203.0.113.9 fails 6 times at root, as it did the hour before;
/// - twenty usual clients fail once an hour; 192.0.2.10 logs in 5 times an hour;
/// - before: 192.0.2.77 logged in 20 times, and is gone now;
/// - history: the same hour held 0, 4 and 6 events on the three days before (the log
///   starts at midnight of the first), and every usual client was seen then.
fn story() -> String {
    let mut log = accepted("2026-10-29T00:00:00", "alice", "192.0.2.10");
    for k in 0..4 {
        log += &accepted(&format!("2026-10-30T11:30:0{k}"), "alice", "192.0.2.10");
    }
    for k in 0..6 {
        log += &failed(&format!("2026-10-31T11:40:0{k}"), "root", "203.0.113.9");
    }
    for c in 1..=20 {
        let ip = format!("198.51.100.{c}");
        log += &failed("2026-10-31T09:00:00", "alice", &ip);
        log += &failed(&format!("2026-11-01T10:20:{c:02}"), "alice", &ip);
        log += &failed(&format!("2026-11-01T11:20:{c:02}"), "alice", &ip);
    }
    for k in 0..20 {
        log += &accepted(&format!("2026-11-01T10:05:{k:02}"), "backup", "192.0.2.77");
    }
    for k in 0..5 {
        log += &accepted(&format!("2026-11-01T10:30:0{k}"), "alice", "192.0.2.10");
        log += &accepted(&format!("2026-11-01T11:30:0{k}"), "alice", "192.0.2.10");
    }
    for k in 0..6 {
        log += &failed(&format!("2026-11-01T10:40:0{k}"), "root", "203.0.113.9");
        log += &failed(&format!("2026-11-01T11:40:0{k}"), "root", "203.0.113.9");
    }
    let users = ["root", "admin", "oracle"];
    for k in 0..29 {
        log += &failed(
            &format!("2026-11-01T11:10:{k:02}"),
            users[k % 3],
            "203.0.113.5",
        );
    }
    log += &failed("2026-11-01T12:00:00", "oracle", "203.0.113.5");
    log
}

fn text_is(s: &Selection, column: &str, value: &str) -> bool {
    s.values.get(column) == Some(&vec![Some(Scalar::Text(value.into()))])
}

/// The default SOC dashboard over the planted story: every panel's numbers are the
/// story's, and every row's drill-down selects what the row is about.
#[tokio::test]
async fn the_soc_dashboard_tells_the_planted_story() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let name: DatasetName = "bastion".parse().unwrap();
    let text = story();
    let size = text.len() as u64;
    let report = lake
        .ingest(
            &name,
            vec![secviz_lake::IngestSource::reader(
                "auth.log",
                std::io::Cursor::new(text.into_bytes()),
                Some(size),
            )],
            secviz_lake::IngestOptions {
                parse: secviz_parse::ParseOptions {
                    format: Some(secviz_parse::Format::Syslog),
                    ..Default::default()
                },
                ..Default::default()
            },
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await
        .unwrap();
    assert_eq!(report.rows, 1 + 4 + 6 + 60 + 20 + 10 + 12 + 30);
    let limits = Limits::operator();
    let source = Source::open(&lake, &name, None, limits).await.unwrap();
    let spec = DashboardSpec::soc("Bastion");
    // 2026-11-01T12:00:00Z, the story's last event.
    let latest: i64 = 1_793_534_400_000_000;
    let frame = frame(&source, &spec, latest + 30 * DAY_US).await.unwrap();
    // The log ended long ago: the windows end at its last event.
    assert!(frame.ended);
    assert_eq!(frame.end_us, latest + 1);
    let (from, to) = (latest + 1 - 3_600_000_000, latest + 1);
    let mut seen = BTreeSet::new();
    for p in &spec.panels {
        let data = panel(&lake, &name, &source, &frame, p, &limits).await;
        assert_eq!((data.from_us, data.to_us), (from, to), "{:?}", p.kind);
        seen.insert(format!("{:?}", p.kind));
        match (p.kind, data.body) {
            (PanelKind::Findings, Body::Findings { rows, .. }) => {
                assert!(
                    rows.windows(2).all(|w| w[0].score >= w[1].score),
                    "ranked by score: {rows:?}"
                );
                let guessing: Vec<&FindingRow> = rows
                    .iter()
                    .filter(|r| r.analysis == "password-guessing")
                    .collect();
                assert_eq!(guessing.len(), 2, "{rows:?}");
                assert!(
                    guessing[0]
                        .headline
                        .starts_with("203.0.113.5 failed to log in 30 times")
                );
                assert!(guessing[0].new, "not a finding the hour before");
                assert!(text_is(&guessing[0].selection, col::SRC_IP, "203.0.113.5"));
                assert!(
                    guessing[1]
                        .headline
                        .starts_with("203.0.113.9 failed to log in 6 times")
                );
                assert!(!guessing[1].new, "the same finding the hour before");
            }
            (PanelKind::EventRate, Body::Rate(r)) => {
                assert_eq!(r.total, 30 + 6 + 20 + 5);
                assert_eq!(r.counts.iter().sum::<u64>(), r.total);
                assert_eq!(r.counts.len(), 12);
                // 10-29, 10-30, 10-31 at this hour: 0, 4, 6; the days before the log
                // began are no evidence.
                assert_eq!((r.usual, r.days), (Some(4.0), 3));
                assert_eq!(r.selection.time, Some([from, to]));
            }
            (PanelKind::NewSources, Body::Hosts { total, rows, .. }) => {
                assert_eq!(total, 1, "{rows:?}");
                assert_eq!(rows[0].value, "203.0.113.5");
                assert_eq!(rows[0].events, 30);
                // 2026-11-01T11:10:00Z, its first try.
                assert_eq!(rows[0].first_us, Some(1_793_531_400_000_000));
                assert!(text_is(&rows[0].selection, col::SRC_IP, "203.0.113.5"));
            }
            (PanelKind::NewDestinations, Body::Hosts { .. }) => {}
            (
                PanelKind::FailedLogins,
                Body::Logins {
                    now,
                    before,
                    outcomes,
                    rows,
                },
            ) => {
                assert_eq!((now, before), (30 + 6 + 20, 6 + 20));
                assert_eq!(outcomes, (30 + 6 + 20 + 5) + (6 + 20 + 5 + 20));
                let top: Vec<(&str, u64, u64, Option<&str>)> = rows
                    .iter()
                    .take(2)
                    .map(|r| {
                        (
                            r.src.as_str(),
                            r.failures,
                            r.accounts,
                            r.example_user.as_deref(),
                        )
                    })
                    .collect();
                assert_eq!(
                    top,
                    [
                        ("203.0.113.5", 30, 3, Some("admin")),
                        ("203.0.113.9", 6, 1, Some("root"))
                    ]
                );
                assert!(rows[2..].iter().all(|r| r.failures == 1));
                assert!(text_is(&rows[0].selection, col::SRC_IP, "203.0.113.5"));
                assert!(text_is(&rows[0].selection, col::AUTH_RESULT, "failure"));
            }
            (PanelKind::TalkerChanges, Body::Talkers { rows }) => {
                let moved: Vec<_> = rows
                    .iter()
                    .take(2)
                    .map(|r| (r.src.as_str(), r.now, r.before, r.rank_now, r.rank_before))
                    .collect();
                assert_eq!(
                    moved,
                    [
                        ("203.0.113.5", 30, 0, Some(1), None),
                        ("192.0.2.77", 0, 20, None, Some(1)),
                    ],
                    "the one that appeared, then the one that vanished"
                );
                assert!(rows[2..].iter().all(|r| change(r) < 0.1), "{rows:?}");
                // Its drill-down spans both hours: the change is between them.
                assert_eq!(rows[0].selection.time, Some([from - 3_600_000_000, to]));
            }
            (kind, body) => panic!("{kind:?} answered {body:?}"),
        }
    }
    assert_eq!(seen.len(), 6, "every panel of the SOC dashboard: {seen:?}");
}
