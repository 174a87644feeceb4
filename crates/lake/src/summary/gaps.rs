//! [`Gaps`]: the beacon analysis's figures of one pair, summed so files merge exactly.

use serde::{Deserialize, Serialize};

/// The gaps between one pair's consecutive events: count, first and last time, and the
/// sum of the squared gaps, exact in integers, so the mean and the standard deviation of
/// the gaps come out as a pass over the sorted times would give them.
///
/// Only events that arrive in time order can be summed this way; a pair whose events
/// come out of order (in one file, or in files whose times overlap) is marked, and the
/// beacon analysis then reads the rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gaps {
    pub events: u64,
    pub first_us: i64,
    pub last_us: i64,
    /// Σ gap², µs².
    pub sum_sq: u128,
    pub in_order: bool,
}

impl Gaps {
    pub(super) fn start(t: i64) -> Gaps {
        Gaps {
            events: 1,
            first_us: t,
            last_us: t,
            sum_sq: 0,
            in_order: true,
        }
    }

    pub(super) fn push(&mut self, t: i64) {
        self.events += 1;
        if t < self.last_us {
            self.in_order = false;
            return;
        }
        let g = (t - self.last_us) as u128;
        self.sum_sq = self.sum_sq.saturating_add(g * g);
        self.last_us = t;
    }

    pub(super) fn merge(&mut self, o: &Gaps) {
        self.events += o.events;
        if !(self.in_order && o.in_order) {
            self.in_order = false;
            return;
        }
        let join = |sum: u128, earlier_last: i64, later_first: i64| {
            let g = (later_first - earlier_last) as u128;
            sum.saturating_add(o.sum_sq).saturating_add(g * g)
        };
        if self.last_us <= o.first_us {
            self.sum_sq = join(self.sum_sq, self.last_us, o.first_us);
            self.last_us = o.last_us;
        } else if o.last_us <= self.first_us {
            self.sum_sq = join(self.sum_sq, o.last_us, self.first_us);
            self.first_us = o.first_us;
        } else {
            self.in_order = false;
        }
    }

    /// The mean and the (population) standard deviation of the gaps, µs; `None` for one
    /// event or events out of order.
    pub fn mean_sd_us(&self) -> Option<(f64, f64)> {
        if !self.in_order || self.events < 2 {
            return None;
        }
        let n = i128::from(self.events - 1);
        let span = i128::from(self.last_us - self.first_us);
        // n² · variance = n · Σ gap² − (Σ gap)², with Σ gap = span.
        let sum_sq = i128::try_from(self.sum_sq).unwrap_or(i128::MAX);
        let scaled = sum_sq.saturating_mul(n).saturating_sub(span * span);
        let sd = (scaled.max(0) as f64).sqrt() / n as f64;
        Some((span as f64 / n as f64, sd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(times: &[i64]) -> Gaps {
        let mut g = Gaps::start(times[0]);
        for t in &times[1..] {
            g.push(*t);
        }
        g
    }

    /// Mean and population standard deviation of the gaps, directly.
    fn direct(times: &[i64]) -> (f64, f64) {
        let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn gaps_of_files_in_time_order_merge_exactly_and_overlaps_are_marked() {
        let all = [0, 10, 30, 100, 130, 131, 400];
        let (a, b) = (gaps(&all[..3]), gaps(&all[3..]));
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut m = x.clone();
            m.merge(y);
            assert_eq!(m.events, 7);
            let (mean, sd) = m.mean_sd_us().unwrap();
            let (dm, dsd) = direct(&all);
            assert!(
                (mean - dm).abs() < 1e-9 && (sd - dsd).abs() < 1e-9,
                "{mean} {sd}"
            );
        }
        // Overlapping times, or a file out of order: unknown, never a wrong figure.
        let mut m = gaps(&[0, 50]);
        m.merge(&gaps(&[20, 70]));
        assert!(!m.in_order && m.mean_sd_us().is_none());
        assert!(gaps(&[5, 3, 9]).mean_sd_us().is_none());
        assert_eq!(gaps(&[5]).mean_sd_us(), None);
        // A steady series has no spread.
        assert_eq!(gaps(&[0, 60, 120, 180]).mean_sd_us(), Some((60.0, 0.0)));
    }
}
