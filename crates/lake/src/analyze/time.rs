//! Time: events over time with an automatic bucket size and its spikes; beacons.

use datafusion::common::ScalarValue;

use super::baseline::{Baseline, rank, score_of_z};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Sql};
use crate::query::QueryError;
use crate::time::format_micros;

/// Bucket sizes to choose from, in seconds: the smallest that gives at most the wanted
/// number of buckets over the data's time range.
const BUCKETS: &[u64] = &[
    1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800,
];

/// The bucket size for a time span (µs) and a wanted number of buckets.
pub(crate) fn bucket_seconds(span_us: i64, wanted: u64) -> u64 {
    let span_s = (span_us.max(0) as u64).div_ceil(1_000_000).max(1);
    let wanted = wanted.max(1);
    BUCKETS
        .iter()
        .copied()
        .find(|b| span_s.div_ceil(*b) <= wanted)
        .unwrap_or(*BUCKETS.last().expect("not empty"))
}

/// Events per bucket (one histogram finding: context, score 0) and the buckets that spike:
/// at least 10 events and 3× the median bucket, scored against the buckets' own median and
/// spread (floor: the square root of the median, the noise of a steady random rate).
pub(crate) async fn events_over_time(q: &Sql<'_>, wanted: u64) -> Result<Vec<Finding>, QueryError> {
    let range = q
        .rows(
            "SELECT min(CAST(time AS BIGINT)), max(CAST(time AS BIGINT)) FROM events WHERE time IS NOT NULL",
            vec![],
            None,
        )
        .await?;
    let Some((lo, hi)) = each_row(&range, |r| Some((r.int(0)?, r.int(1)?)))
        .into_iter()
        .next()
    else {
        return Ok(vec![]);
    };
    let bucket = bucket_seconds(hi - lo, wanted);
    let bucket_us = bucket as i64 * 1_000_000;
    let counts = q
        .rows(
            "SELECT CAST(time AS BIGINT) / $1 AS b, count(*) AS n FROM events WHERE time IS NOT NULL GROUP BY b ORDER BY b",
            vec![ScalarValue::Int64(Some(bucket_us))],
            None,
        )
        .await?;
    let sparse: Vec<(i64, u64)> = each_row(&counts, |r| Some((r.int(0)?, r.count(1))));
    // Dense: empty buckets count as zero, or gaps would hide.
    let (first, last) = (lo / bucket_us, hi / bucket_us);
    let mut buckets: Vec<(i64, u64)> = (first..=last).map(|b| (b * bucket_us, 0)).collect();
    for (b, n) in sparse {
        if let Some(slot) = usize::try_from(b - first)
            .ok()
            .and_then(|i| buckets.get_mut(i))
        {
            slot.1 = n;
        }
    }
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    let mut out = vec![Finding {
        analysis: "events-over-time",
        score: 0.0,
        z: None,
        headline: format!(
            "{total} events in {} buckets of {}.",
            buckets.len(),
            human_seconds(bucket)
        ),
        focus: Focus::default(),
        detail: Detail::Histogram {
            bucket_seconds: bucket,
            buckets: buckets.clone(),
        },
    }];
    let mut base = Baseline::of(buckets.iter().map(|b| b.1 as f64), 0.0, 1.0);
    if base.n < super::baseline::MIN_POPULATION {
        // Too few buckets to say what is typical: no spikes.
        return Ok(out);
    }
    base.floor = base.median.sqrt().max(1.0);
    let median = base.median;
    let mut spikes: Vec<(i64, u64)> = buckets
        .iter()
        .copied()
        .filter(|&(_, n)| n >= 10 && n as f64 >= 3.0 * median.max(1.0))
        .collect();
    spikes.sort_by_key(|s| std::cmp::Reverse(s.1));
    for (start, n) in spikes.into_iter().take(5) {
        let ratio = n as f64 / median.max(1.0);
        let z = base.z(n as f64);
        out.push(Finding {
            analysis: "events-over-time",
            score: score_of_z(z),
            z: Some(z),
            headline: format!(
                "{n} events in the {} from {}, {ratio:.0}× the typical {median:.0}.",
                human_seconds(bucket),
                format_micros(start)
            ),
            focus: Focus {
                time: Some([start, start + bucket_us]),
                ..Focus::default()
            },
            detail: Detail::Spike {
                start_us: start,
                bucket_seconds: bucket,
                events: n,
                typical: median,
            },
        });
    }
    Ok(out)
}

fn human_seconds(s: u64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Parameters of [`beacons`].
pub(crate) struct BeaconParams {
    pub limit: usize,
    pub min_events: i64,
    pub max_cv: f64,
    pub min_interval_s: f64,
}

/// Source/destination pairs whose gaps between events vary little: the coefficient of
/// variation (standard deviation / mean of the gaps) at most `max_cv`, with at least
/// `min_events` events and a mean gap of at least `min_interval_s`. Scored by steadiness,
/// −ln(cv), against every pair with enough events (model: random arrivals, cv 1; floor
/// 0.15): a pair is notable when it is far steadier than this dataset's other pairs.
pub(crate) async fn beacons(q: &Sql<'_>, p: &BeaconParams) -> Result<Vec<Finding>, QueryError> {
    let sql = "WITH g AS ( \
                 SELECT src_ip, dst_ip, \
                        CAST(time AS BIGINT) - lag(CAST(time AS BIGINT)) OVER (PARTITION BY src_ip, dst_ip ORDER BY time) AS gap \
                 FROM events WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND time IS NOT NULL) \
               SELECT src_ip, dst_ip, count(gap) + 1 AS events, avg(gap) AS mean, stddev_pop(gap) AS sd \
               FROM g WHERE gap IS NOT NULL \
               GROUP BY src_ip, dst_ip \
               HAVING count(gap) + 1 >= $1";
    let batches = q
        .rows(sql, vec![ScalarValue::Int64(Some(p.min_events))], None)
        .await?;
    // (src, dst, events, mean s, sd s, cv)
    type Pair = (String, String, u64, f64, f64, f64);
    let mut pairs: Vec<Pair> = each_row(&batches, |r| {
        let (mean, sd) = (r.float(3)? / 1e6, r.float(4).unwrap_or(0.0) / 1e6);
        let cv = if mean > 0.0 { sd / mean } else { 0.0 };
        Some((r.string(0)?, r.string(1)?, r.count(2), mean, sd, cv))
    });
    pairs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    // Perfectly steady series (cv 0) count as 1 % so the scale stays finite.
    let steadiness = |cv: f64| -cv.max(0.01).ln();
    Ok(rank(
        pairs,
        |r| steadiness(r.5),
        0.0,
        0.15,
        |r| r.5 <= p.max_cv && r.3 >= p.min_interval_s,
        p.limit,
        |(src, dst, events, mean, sd, cv), b, z| {
            let typical_cv = (-b.median).exp();
            Finding {
                analysis: "beacons",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} called {dst} {events} times, every {mean:.1} s give or take {sd:.1} s; a typical pair's gaps vary by {:.0} %: a beacon candidate.",
                    typical_cv * 100.0
                ),
                focus: Focus::on([("src_ip", src.clone()), ("dst_ip", dst.clone())]),
                detail: Detail::Beacon {
                    src,
                    dst,
                    events,
                    mean_interval_s: mean,
                    stddev_s: sd,
                    cv,
                },
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_size_follows_the_time_span() {
        assert_eq!(bucket_seconds(30 * 1_000_000, 60), 1);
        assert_eq!(bucket_seconds(3600 * 1_000_000, 60), 60);
        assert_eq!(bucket_seconds(86_400 * 1_000_000, 60), 1800);
        assert_eq!(bucket_seconds(30 * 86_400 * 1_000_000, 60), 43_200);
        assert_eq!(bucket_seconds(0, 60), 1);
        assert_eq!(human_seconds(1800), "30 min");
    }
}
