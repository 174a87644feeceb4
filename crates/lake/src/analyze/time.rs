//! Time: events over time with an automatic bucket size and its spikes; beacons.

use datafusion::common::ScalarValue;

use super::baseline::{Baseline, NOTABLE_Z, rank_capped, score_of_z};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::query::QueryError;
use crate::summary::{Gaps, MINUTE_US, Summary};
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
pub(crate) async fn events_over_time(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    wanted: u64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // From the summaries' minutes when the buckets are whole minutes (a short time range
    // wants seconds: then its rows are few anyway). Times before 1970 are left to the rows,
    // whose bucket arithmetic rounds toward zero.
    if let Some(s) = summary {
        let Some((lo, hi)) = s.time_min_us.zip(s.time_max_us) else {
            return Ok((vec![], Read::Summaries));
        };
        let bucket = bucket_seconds(hi - lo, wanted);
        let bucket_us = bucket as i64 * 1_000_000;
        if let Some(minutes) = s
            .minutes
            .as_ref()
            .filter(|_| bucket_us % MINUTE_US == 0 && lo >= 0)
        {
            let mut sparse: Vec<(i64, u64)> = Vec::new();
            for (m, n) in minutes {
                let b = m * MINUTE_US / bucket_us;
                match sparse.last_mut() {
                    Some(last) if last.0 == b => last.1 += n,
                    _ => sparse.push((b, *n)),
                }
            }
            return Ok((histogram(lo, hi, bucket, sparse), Read::Summaries));
        }
    }
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
        return Ok((vec![], Read::Rows));
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
    Ok((histogram(lo, hi, bucket, sparse), Read::Rows))
}

/// The histogram finding and the spikes, from the events per bucket (`sparse`: bucket
/// number, events; buckets without events may be missing) between times `lo` and `hi`.
fn histogram(lo: i64, hi: i64, bucket: u64, sparse: Vec<(i64, u64)>) -> Vec<Finding> {
    let bucket_us = bucket as i64 * 1_000_000;
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
        return out;
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
    out
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
/// 0.15): a pair is notable when it is far steadier than this dataset's other pairs, and
/// when random arrivals would not look as steady among that many pairs ([`chance_z`]):
/// with few events, gaps vary little by chance more often than the other pairs suggest
/// (seen: a pair with 8 events at uniformly random times, cv 0.097, among 125 pairs).
pub(crate) async fn beacons(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    p: &BeaconParams,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // (src, dst, events, mean s, sd s, cv)
    type Pair = (String, String, u64, f64, f64, f64);
    let pair = |src: &str, dst: &str, events: u64, mean_us: f64, sd_us: f64| -> Pair {
        let (mean, sd) = (mean_us / 1e6, sd_us / 1e6);
        let cv = if mean > 0.0 { sd / mean } else { 0.0 };
        (src.to_string(), dst.to_string(), events, mean, sd, cv)
    };
    // From the summaries when every pair's events came in time order.
    type Peers = crate::summary::HashMap<String, crate::summary::HashMap<String, Gaps>>;
    let in_order = |t: &&Peers| t.values().all(|p| p.values().all(|g| g.in_order));
    let (mut pairs, read): (Vec<Pair>, Read) =
        match summary.and_then(|s| s.peers.as_ref()).filter(in_order) {
            Some(peers) => {
                let min_events = p.min_events.max(2) as u64;
                let pairs = peers
                    .iter()
                    .flat_map(|(src, peers)| {
                        peers.iter().filter_map(move |(dst, g)| {
                            let (mean, sd) = g.mean_sd_us()?;
                            (g.events >= min_events).then(|| pair(src, dst, g.events, mean, sd))
                        })
                    })
                    .collect();
                (pairs, Read::Summaries)
            }
            None => (beacon_pairs(q, p, pair).await?, Read::Rows),
        };
    pairs.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let tries = pairs.len();
    // Perfectly steady series (cv 0) count as 1 % so the scale stays finite.
    let steadiness = |cv: f64| -cv.max(0.01).ln();
    let found = rank_capped(
        pairs,
        |r| steadiness(r.5),
        0.0,
        0.15,
        |r| r.5 <= p.max_cv && r.3 >= p.min_interval_s,
        |r| chance_z(ln_expected_by_chance(r.5, r.2, tries)),
        p.limit,
        |(src, dst, events, mean, sd, cv), b, z| {
            let typical_cv = (-b.median).exp();
            let odds = ln_expected_by_chance(cv, events, tries).exp();
            Finding {
                analysis: "beacons",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} called {dst} {events} times, every {mean:.1} s give or take {sd:.1} s; a typical pair's gaps vary by {:.0} %: a beacon candidate. {}",
                    typical_cv * 100.0,
                    chance_in_words(odds, tries)
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
    );
    Ok((found, read))
}

/// Every pair with at least `min_events` events and its gaps, from the rows.
async fn beacon_pairs<T>(
    q: &Sql<'_>,
    p: &BeaconParams,
    pair: impl Fn(&str, &str, u64, f64, f64) -> T,
) -> Result<Vec<T>, QueryError> {
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
    Ok(each_row(&batches, |r| {
        Some(pair(
            &r.string(0)?,
            &r.string(1)?,
            r.count(2),
            r.float(3)?,
            r.float(4).unwrap_or(0.0),
        ))
    }))
}

/// A finding that chance alone would produce in at most this share of datasets (with the
/// same number of pairs) is notable as far as chance goes. One in 100,000: an analyst sees
/// many datasets, and a suite that plants random traffic runs many times (at 1 in 1,000,
/// a benign dataset's pair of 8 events, cv 0.097 among 125 pairs, was still notable:
/// 1 in 2,340). A real beacon clears it easily: 10 events with 5 % jitter among 1,000
/// pairs come by chance once in 3 million datasets.
const CHANCE_NOTABLE: f64 = 1e-5;

/// ln of how many of `tries` pairs of random arrivals would be expected to look at least as
/// steady as a pair of `events` events with gaps of variation `cv`.
fn ln_expected_by_chance(cv: f64, events: u64, tries: usize) -> f64 {
    ln_chance_of_steadiness(cv, events) + (tries.max(1) as f64).ln()
}

/// The most robust deviations a pair may score, given (ln) how many pairs chance alone
/// would make as steady ([`ln_expected_by_chance`]): [`NOTABLE_Z`] when that is
/// [`CHANCE_NOTABLE`], less when chance is likelier, more when it is rarer (proportionally to
/// the log of the odds).
fn chance_z(ln_expected: f64) -> f64 {
    if ln_expected >= 0.0 {
        return 0.0;
    }
    NOTABLE_Z * ln_expected / CHANCE_NOTABLE.ln()
}

/// How often chance makes a pair this steady, for the headline.
fn chance_in_words(expected: f64, tries: usize) -> String {
    if expected >= 0.5 {
        format!("Among {tries} pairs, random arrivals would often look this steady: maybe chance.")
    } else {
        let one_in = 1.0 / expected.max(1e-300);
        let n = if one_in >= 1e6 {
            "a million".to_string()
        } else {
            format!("{one_in:.0}")
        };
        let fewer = if one_in >= 1e6 { "fewer than " } else { "" };
        format!(
            "Random arrivals would look this steady in {fewer}1 of {n} datasets of {tries} pairs."
        )
    }
}

/// ln of the probability that `events` arrivals at random (a Poisson process, so that
/// the gaps, divided by their sum, are uniform on the simplex) have gaps whose coefficient
/// of variation is at most `cv`.
///
/// With g gaps normalised to sum 1, cv ≤ c exactly when the gaps lie within c/√g of the
/// simplex's centre: a ball of dimension g − 1. The probability is the ball's volume over
/// the simplex's (√g / (g−1)!), exact while the ball fits in the simplex (c below about
/// 1/√(g−1)) and an upper bound beyond, which only makes the test more careful. Checked
/// against simulation in the tests.
pub(crate) fn ln_chance_of_steadiness(cv: f64, events: u64) -> f64 {
    let gaps = events.saturating_sub(1) as f64;
    if gaps < 2.0 {
        return 0.0;
    }
    let d = gaps - 1.0;
    let r = cv.max(1e-9) / gaps.sqrt();
    let ln_ball = d / 2.0 * std::f64::consts::PI.ln() + d * r.ln() - ln_gamma(d / 2.0 + 1.0);
    let ln_simplex = 0.5 * gaps.ln() - ln_gamma(gaps);
    (ln_ball - ln_simplex).min(0.0)
}

/// ln Γ(x) for x > 0: Stirling's series after shifting x to at least 10 (error below 1e-10).
fn ln_gamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let series =
        (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x)
            - 1.0 / (360.0 * x.powi(3))
            + 1.0 / (1260.0 * x.powi(5));
    shift + series
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

    #[test]
    fn ln_gamma_matches_factorials() {
        for (x, fact) in [(1.0, 1.0), (2.0, 1.0), (5.0, 24.0), (11.0, 3_628_800.0)] {
            assert!((ln_gamma(x) - f64::ln(fact)).abs() < 1e-9, "{x}");
        }
        // Γ(1/2) = √π
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-9);
    }

    /// The closed form against random arrivals: the share of series of uniformly random
    /// times whose gaps are at most this steady.
    #[test]
    fn the_chance_of_steadiness_matches_random_arrivals() {
        let mut state = 0x5EED_u64;
        let mut unit = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        for (events, cv) in [(4u64, 0.2), (5, 0.3), (8, 0.25)] {
            let runs = 200_000;
            let mut hits = 0;
            for _ in 0..runs {
                let mut t: Vec<f64> = (0..events).map(|_| unit()).collect();
                t.sort_by(f64::total_cmp);
                let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
                let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
                let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
                hits += usize::from(var.sqrt() / mean <= cv);
            }
            let simulated = hits as f64 / runs as f64;
            let formula = ln_chance_of_steadiness(cv, events).exp();
            assert!(
                hits >= 100 && (formula / simulated - 1.0).abs() < 0.15,
                "{events} events, cv {cv}: formula {formula:.3e}, simulated {simulated:.3e}"
            );
        }
        // More events make the same steadiness far less likely; cv 1 is typical.
        assert!(ln_chance_of_steadiness(0.1, 40) < ln_chance_of_steadiness(0.1, 8) - 30.0);
        assert_eq!(ln_chance_of_steadiness(1.0, 8), 0.0);
    }

    #[test]
    fn steadiness_that_chance_explains_is_not_notable() {
        // The pair that once made benign traffic notable: 8 events, cv 0.097, 125 pairs.
        let z = chance_z(ln_expected_by_chance(0.097, 8, 125));
        assert!(z < NOTABLE_Z, "{z}");
        // A short but steady beacon: 10 events with 5 % jitter among 1,000 pairs.
        assert!(chance_z(ln_expected_by_chance(0.05, 10, 1000)) > NOTABLE_Z);
        // A planted beacon: 40 events with 3 % jitter among as many pairs.
        assert!(chance_z(ln_expected_by_chance(0.02, 40, 800)) > 5.0 * NOTABLE_Z);
        // Exactly the notable threshold at the stated odds.
        let z = chance_z(CHANCE_NOTABLE.ln());
        assert!((z - NOTABLE_Z).abs() < 1e-9);
    }
}
