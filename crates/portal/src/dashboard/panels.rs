//! A computed dashboard as people read it: each panel's title, question, window, one
//! sentence of answer and its rows, every row linking to the events behind it. The same
//! view models fill the dashboard's page, the big screen and the share link's screen; the
//! links start at `base` (`/dash/7` or `/s/<token>`). A share link's screen has no
//! drill-down: the link shows the dashboard, not the dataset's events.

use secviz_graph::numbers::thousands;
use secviz_views::Selection;
use secviz_views::dashboard::compute::{self, Rate, TalkerRow};
use secviz_views::dashboard::{Body, Computed, DashboardSpec, Frame, PanelData, PanelSpec};

/// One panel, ready for `_panel.html`.
pub struct PanelView {
    pub title: String,
    pub question: String,
    /// "last hour, to 14:32 UTC".
    pub span: String,
    /// The events of the whole window.
    pub drill: String,
    /// A CSS class: the panel's kind.
    pub kind: &'static str,
    pub body: BodyView,
}

pub enum BodyView {
    /// Ranked findings.
    Findings {
        rows: Vec<FindingView>,
        empty: String,
        not_run: Vec<String>,
    },
    Rate {
        total: String,
        usual: String,
        verdict: String,
        /// Well above the usual level.
        high: bool,
        bars: Vec<Bar>,
    },
    Table {
        summary: String,
        head: Vec<&'static str>,
        rows: Vec<RowView>,
        empty: String,
    },
    /// A saved view's picture: the light and the dark drawing (the page shows the one of
    /// its colour scheme, the big screen the dark one).
    Picture {
        light: String,
        dark: String,
    },
    Failed(String),
}

pub struct FindingView {
    pub score: String,
    pub notable: bool,
    pub new: bool,
    pub headline: String,
    pub link: String,
}

pub struct RowView {
    pub cells: Vec<String>,
    pub link: String,
    /// A word that marks the row (`new`, `gone`), shown as a badge.
    pub mark: Option<&'static str>,
}

/// A bar of the rate chart, in the chart's own units (viewBox 0 0 300 100).
pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub label: String,
}

/// The drill-down link of a selection under `base`.
pub fn drill_link(base: &str, sel: &Selection) -> String {
    let json = serde_json::to_string(sel).unwrap_or_default();
    let encoded: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
    format!("{base}/events?sel={encoded}")
}

/// `HH:MM UTC` of a time in microseconds (the date too when it is not today's).
pub fn clock(us: i64, now_us: i64) -> String {
    let full = secviz_lake::format_micros(us);
    let same_day = full.get(..10) == Some(&secviz_lake::format_micros(now_us)[..10]);
    match (full.get(..10), full.get(11..16)) {
        (Some(_), Some(hm)) if same_day => format!("{hm} UTC"),
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => full,
    }
}

/// The sentence under a dashboard's title: where its windows end.
pub fn frame_line(f: &Frame, now_us: i64) -> String {
    match (f.ended, f.latest_us) {
        (_, None) => "No events yet: the panels fill as data arrives.".into(),
        (true, Some(l)) => format!(
            "This data ends at {}: the windows end at its newest event.",
            clock(l, now_us)
        ),
        (false, Some(_)) => format!("Windows end now ({}).", clock(f.end_us, now_us)),
    }
}

/// Every panel of a computed dashboard, in the spec's order.
pub fn views(
    spec: &DashboardSpec,
    c: &Computed,
    base: &str,
    drill: bool,
    now_us: i64,
) -> Vec<PanelView> {
    spec.panels
        .iter()
        .zip(&c.panels)
        .enumerate()
        .map(|(i, (p, d))| view(i, p, d, &c.frame, (base, drill), now_us))
        .collect()
}

/// The address of panel `i`'s drawing: it names the drawing's content, so a screen fetches
/// it again only when it changed.
fn picture_src(base: &str, i: usize, theme: &str, svg: &str) -> String {
    use sha2::{Digest, Sha256};
    let v = hex::encode(&Sha256::digest(svg.as_bytes())[..8]);
    format!("{base}/panels/{i}.svg?theme={theme}&v={v}")
}

fn view(
    i: usize,
    p: &PanelSpec,
    d: &PanelData,
    frame: &Frame,
    (base, drill): (&str, bool),
    now_us: i64,
) -> PanelView {
    // Rows link to their events, except on a share link's screen.
    let drill_link = |_: &str, sel: &Selection| match drill {
        true => drill_link(base, sel),
        false => String::new(),
    };
    let whole = Selection {
        time: Some([d.from_us, d.to_us]),
        ..Selection::default()
    };
    let before = match p.window {
        secviz_views::dashboard::Window::Minutes15 => "the 15 min before",
        secviz_views::dashboard::Window::Hour => "the hour before",
        secviz_views::dashboard::Window::Day => "the day before",
    };
    let body = match &d.body {
        Body::Findings { rows, not_run } => BodyView::Findings {
            rows: rows
                .iter()
                .map(|f| FindingView {
                    score: format!("{:.2}", f.score),
                    notable: f.notable,
                    new: f.new && p.kind == secviz_views::dashboard::PanelKind::Findings,
                    headline: f.headline.clone(),
                    link: drill_link(base, &f.selection),
                })
                .collect(),
            empty: "Nothing unusual found in this window.".into(),
            not_run: not_run.clone(),
        },
        Body::Rate(r) => rate_view(r, frame),
        Body::Hosts {
            column,
            total,
            rows,
        } => {
            let what = if *column == "src_ip" {
                ("sources", "Source")
            } else {
                ("destinations", "Destination")
            };
            // When the data begins inside the lookback, "never seen" means "not since then".
            let since = d.from_us - i64::from(frame.lookback_days) * 86_400_000_000;
            let begins = match frame.first_us {
                Some(first) if first > since => {
                    format!(" (the data begins at {})", clock(first, now_us))
                }
                _ => String::new(),
            };
            BodyView::Table {
                summary: format!(
                    "{} {} not seen in the {} days before{begins}.",
                    thousands(*total),
                    what.0,
                    frame.lookback_days
                ),
                head: vec![what.1, "Events", "First seen"],
                rows: rows
                    .iter()
                    .map(|h| RowView {
                        cells: vec![
                            h.value.clone(),
                            thousands(h.events),
                            h.first_us.map(|t| clock(t, now_us)).unwrap_or_default(),
                        ],
                        link: drill_link(base, &h.selection),
                        mark: Some("new"),
                    })
                    .collect(),
                empty: "None: every one in this window was seen before it.".into(),
            }
        }
        Body::Logins {
            now,
            before: prev,
            outcomes,
            rows,
        } => BodyView::Table {
            summary: if *outcomes == 0 {
                String::new()
            } else {
                format!(
                    "{} failed logins, against {} in {before}{}.",
                    thousands(*now),
                    thousands(*prev),
                    ratio(*now as f64, *prev as f64)
                )
            },
            head: vec!["Source", "Failures", "Accounts", "e.g."],
            rows: rows
                .iter()
                .map(|l| RowView {
                    cells: vec![
                        l.src.clone(),
                        thousands(l.failures),
                        thousands(l.accounts),
                        l.example_user.clone().unwrap_or_default(),
                    ],
                    link: drill_link(base, &l.selection),
                    mark: None,
                })
                .collect(),
            empty: if *outcomes == 0 {
                "No login outcomes in these windows (sshd, Windows logon and VPN logs have them)."
                    .into()
            } else {
                "No failed logins in this window.".into()
            },
        },
        Body::Talkers { rows } => BodyView::Table {
            summary: format!("The busiest sources now and in {before}, biggest moves first."),
            head: vec!["Source", "Now", "Before", "Change"],
            rows: rows
                .iter()
                .map(|t| RowView {
                    cells: vec![
                        t.src.clone(),
                        thousands(t.now),
                        thousands(t.before),
                        talker_change(t),
                    ],
                    link: drill_link(base, &t.selection),
                    mark: match (t.before, t.now) {
                        (0, n) if n > 0 => Some("new"),
                        (b, 0) if b > 0 => Some("gone"),
                        _ => None,
                    },
                })
                .collect(),
            empty: "No sources in these windows.".into(),
        },
        Body::Picture { light, dark } => BodyView::Picture {
            light: picture_src(base, i, "light", light),
            dark: picture_src(base, i, "dark", dark),
        },
        Body::Failed(why) => BodyView::Failed(why.clone()),
    };
    PanelView {
        title: p.shown_title(),
        question: p.shown_question(),
        span: format!("{}, to {}", p.window.label(), clock(d.to_us, now_us)),
        drill: drill_link(base, &whole),
        kind: p.kind.name(),
        body,
    }
}

/// " (3.2×)" or "" when there is nothing to compare with.
fn ratio(now: f64, before: f64) -> String {
    if before <= 0.0 {
        return String::new();
    }
    format!(" ({:.1}×)", now / before)
}

fn talker_change(t: &TalkerRow) -> String {
    let (b, n) = (t.before as f64, t.now as f64);
    if t.before == 0 {
        "appeared".into()
    } else if t.now == 0 {
        "stopped".into()
    } else if compute::change(t) < 0.1 {
        "steady".into()
    } else if n >= b {
        format!("×{:.1}", n / b)
    } else {
        format!("−{:.0} %", 100.0 * (1.0 - n / b))
    }
}

fn rate_view(r: &Rate, frame: &Frame) -> BodyView {
    let max = r.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = r.counts.len().max(1) as f64;
    let w = 300.0 / n;
    let bars = r
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let h = 96.0 * (*c as f64) / max;
            Bar {
                x: format!("{:.1}", i as f64 * w + 1.0),
                y: format!("{:.1}", 100.0 - h),
                w: format!("{:.1}", (w - 2.0).max(1.0)),
                h: format!("{:.1}", h),
                label: format!("{} events", thousands(*c)),
            }
        })
        .collect();
    let (usual, verdict, high) = match r.usual {
        None => (
            format!(
                "No history for this hour yet (the lookback is {} days).",
                frame.lookback_days
            ),
            String::new(),
            false,
        ),
        Some(u) => {
            let x = (r.total as f64 + 1.0) / (u + 1.0);
            let verdict = if x >= 2.0 {
                format!("{x:.1}× the usual level")
            } else if x <= 0.5 {
                format!("{:.0} % of the usual level", 100.0 * x)
            } else {
                "within the usual level".to_string()
            };
            (
                format!(
                    "Usual for this hour: {} (median of the same window on {} days before).",
                    thousands(u.round() as u64),
                    r.days
                ),
                verdict,
                x >= 2.0,
            )
        }
    };
    BodyView::Rate {
        total: format!("{} events", thousands(r.total)),
        usual,
        verdict,
        high,
        bars,
    }
}
