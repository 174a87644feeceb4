//! Fixed chart data shared by the chart tests: one chart of each type, with labels of the
//! kind logs produce (addresses, ports, host names) and a few hostile ones.

#![allow(dead_code)]

use secviz_render::Theme;
use secviz_render::chart::time::{DAY, HOUR};
use secviz_render::chart::*;

pub const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "a&b]]><![CDATA[x",
    "</text><svg onload=alert(3)>",
];

pub fn options(name: &str, theme: Theme) -> ChartOptions {
    ChartOptions {
        title: format!("{name} of a fixed dataset"),
        subtitle: Some("dataset golden · 10,000 events".into()),
        width: 720.0,
        height: None,
        theme,
    }
}

fn cat(label: &str, value: f64) -> Category {
    Category {
        label: label.into(),
        value,
    }
}

pub fn bar(labels: &[&str]) -> BarChart {
    BarChart {
        field: "dst_port".into(),
        measure: "events".into(),
        bars: labels
            .iter()
            .enumerate()
            .map(|(i, l)| cat(l, (1000 / (i + 1)) as f64))
            .collect(),
        other: Some(Other {
            value: 420.0,
            values: 57,
        }),
    }
}

pub fn timeline() -> Histogram {
    let t0 = 1_700_000_000_000_000f64 - (1_700_000_000_000_000f64 % HOUR as f64);
    Histogram {
        x_label: "time".into(),
        measure: "events".into(),
        x_kind: AxisKind::Time,
        series: vec!["pass".into(), "block".into()],
        bins: (0..48)
            .map(|i| {
                let lo = t0 + f64::from(i) * HOUR as f64;
                Bin {
                    lo,
                    hi: lo + HOUR as f64,
                    values: vec![f64::from((i * 37) % 50 + 5), f64::from((i * 13) % 20)],
                }
            })
            .collect(),
        bucket: Some("1 hour".into()),
    }
}

pub fn histogram() -> Histogram {
    Histogram {
        x_label: "bytes".into(),
        measure: "events".into(),
        x_kind: AxisKind::Number,
        series: vec!["events".into()],
        bins: (0..20)
            .map(|i| Bin {
                lo: f64::from(i) * 100.0,
                hi: f64::from(i + 1) * 100.0,
                values: vec![f64::from(200 - (i - 8) * (i - 8))],
            })
            .collect(),
        bucket: Some("100".into()),
    }
}

pub fn parallel(labels: &[&str]) -> Parallel {
    let src: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
    let dst = vec![
        "192.168.0.1".to_string(),
        "8.8.8.8".into(),
        "10.0.0.53".into(),
    ];
    let lines = (0..24)
        .map(|i| ParallelLine {
            values: vec![
                f64::from(i % src.len() as i32),
                f64::from(i % 3),
                f64::from([53, 80, 443, 1030, 8080][i as usize % 5]),
            ],
            count: f64::from(1 + (i * 7) % 40),
        })
        .collect();
    Parallel {
        axes: vec![
            ParallelAxis {
                field: "src_ip".into(),
                categories: Some(src),
                min: 0.0,
                max: 0.0,
                log: false,
            },
            ParallelAxis {
                field: "dst_ip".into(),
                categories: Some(dst),
                min: 0.0,
                max: 0.0,
                log: false,
            },
            ParallelAxis {
                field: "dst_port".into(),
                categories: None,
                min: 1.0,
                max: 10_000.0,
                log: true,
            },
        ],
        lines,
        omitted: 12.0,
    }
}

pub fn treemap(labels: &[&str]) -> Treemap {
    Treemap {
        group_field: "subnet".into(),
        leaf_field: "dst_ip".into(),
        measure: "bytes".into(),
        groups: (0..5)
            .map(|g| TreeGroup {
                label: format!("10.0.{g}.0/24"),
                children: (0..(3 + g * 2))
                    .map(|h| {
                        cat(
                            labels
                                .get(h as usize)
                                .copied()
                                .unwrap_or(&format!("10.0.{g}.{h}")),
                            f64::from(5000 / (h + 1) + g * 300),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn heatmap(labels: &[&str]) -> Heatmap {
    let x: Vec<String> = ["22", "53", "80", "443", "3389", "8080"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut y: Vec<String> = (0..6).map(|i| format!("10.0.{i}.0/24")).collect();
    y.extend(labels.iter().map(|s| s.to_string()));
    let cells = (0..y.len() as u32)
        .flat_map(|r| {
            (0..6u32)
                .filter(move |c| (r + c) % 4 != 0)
                .map(move |c| HeatCell {
                    x: c,
                    y: r,
                    value: f64::from((r * 31 + c * 17) % 90 + 1).powi(2),
                })
        })
        .collect();
    Heatmap {
        x_label: "dst_port".into(),
        y_label: "src subnet".into(),
        measure: "events".into(),
        x,
        y,
        cells,
    }
}

pub fn scatter(groups: &[&str]) -> Scatter {
    Scatter {
        x_label: "time".into(),
        y_label: "bytes".into(),
        x_kind: AxisKind::Time,
        y_kind: AxisKind::Log,
        groups: groups.iter().map(|s| s.to_string()).collect(),
        points: (0..60)
            .map(|i| Point {
                x: 1_700_000_000_000_000f64 + f64::from(i) * (DAY as f64 / 30.0),
                y: f64::from((i * 97) % 5000 + 10),
                value: f64::from(1 + i % 9),
                group: (i % groups.len() as i32) as u32,
            })
            .collect(),
    }
}

/// One chart of each type with ordinary labels.
pub fn all_charts() -> Vec<(&'static str, Chart)> {
    let hosts = [
        "10.0.0.5",
        "172.16.4.20",
        "mail.example.org",
        "192.168.100.254",
        "8.8.8.8",
        "a-very-long-hostname.internal.corp.example.com",
    ];
    vec![
        (
            "bar",
            Chart::Bar(bar(&["53", "443", "80", "1030", "22", "3389", "8080"])),
        ),
        ("timeline", Chart::Histogram(timeline())),
        ("histogram", Chart::Histogram(histogram())),
        ("parallel", Chart::Parallel(parallel(&hosts[..4]))),
        ("treemap", Chart::Treemap(treemap(&hosts))),
        ("heatmap", Chart::Heatmap(heatmap(&[]))),
        ("scatter", Chart::Scatter(scatter(&["tcp", "udp", "icmp"]))),
    ]
}

/// One chart of each type whose labels are all hostile.
pub fn hostile_charts() -> Vec<(&'static str, Chart)> {
    vec![
        ("bar", Chart::Bar(bar(HOSTILE))),
        ("parallel", Chart::Parallel(parallel(HOSTILE))),
        ("treemap", Chart::Treemap(treemap(HOSTILE))),
        ("heatmap", Chart::Heatmap(heatmap(HOSTILE))),
        ("scatter", Chart::Scatter(scatter(HOSTILE))),
        (
            "timeline",
            Chart::Histogram(Histogram {
                series: HOSTILE.iter().map(|s| s.to_string()).collect(),
                bins: timeline()
                    .bins
                    .into_iter()
                    .map(|b| Bin {
                        values: vec![1.0, 2.0, 3.0, 4.0],
                        ..b
                    })
                    .collect(),
                ..timeline()
            }),
        ),
    ]
}
