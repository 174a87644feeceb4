//! How unusual a finding is for *this* dataset: one scale for every analysis.
//!
//! Each analysis measures one statistic per entity (distinct ports per source, failed
//! logins per client, regularity of a pair's gaps, ...) over every entity of the dataset:
//! that population is the baseline. A candidate's score says how far its statistic lies
//! above the population's median, in robust standard deviations (the median absolute
//! deviation × 1.4826, which equals the standard deviation for normal data but is not
//! moved by the outliers we look for):
//!
//! ```text
//! z     = (x - median) / (1.4826 × max(MAD, floor))
//! score = 1 - 2^(-z / NOTABLE_Z)          (0 when z ≤ 0)
//! ```
//!
//! so a score of 0.5 means exactly [`NOTABLE_Z`] robust deviations above typical: the
//! threshold for "notable" ([`NOTABLE`]). Statistics that are counts are taken on a log
//! scale (ln), so "ten times the typical" means the same for small and large datasets.
//!
//! The floor keeps a population whose values are all alike (MAD 0) from turning any
//! difference into an infinite score; it is the smallest spread an analysis credits. A
//! population of fewer than [`MIN_POPULATION`] entities says little about what is typical,
//! so the analysis's model of healthy traffic stands in for its median (for example "a
//! resolver client uses a new source port for each query").

/// Robust deviations above the median that make a finding notable (score 0.5).
pub const NOTABLE_Z: f64 = 6.0;
/// Scores at or above this are notable: worth an analyst's look.
pub const NOTABLE: f64 = 0.5;
/// Fewer entities than this and the median is the model's, not the population's.
pub const MIN_POPULATION: usize = 10;

/// The median and median absolute deviation of one statistic over a dataset's entities.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    pub median: f64,
    pub mad: f64,
    /// Entities measured.
    pub n: usize,
    /// Smallest spread credited (see the module's doc).
    pub floor: f64,
}

impl Baseline {
    /// The baseline of `values`; `model` stands in for the median of a population smaller
    /// than [`MIN_POPULATION`], and `floor` is the smallest spread credited.
    pub fn of(values: impl IntoIterator<Item = f64>, model: f64, floor: f64) -> Baseline {
        let mut xs: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        let n = xs.len();
        if n < MIN_POPULATION {
            return Baseline {
                median: model,
                mad: 0.0,
                n,
                floor,
            };
        }
        let median = median_of(&mut xs);
        let mut dev: Vec<f64> = xs.iter().map(|x| (x - median).abs()).collect();
        let mad = median_of(&mut dev);
        Baseline {
            median,
            mad,
            n,
            floor,
        }
    }

    /// Robust deviations of `x` above the median (negative below it).
    pub fn z(&self, x: f64) -> f64 {
        (x - self.median) / (1.4826 * self.mad.max(self.floor))
    }

    /// The score of `x` on the common scale.
    pub fn score(&self, x: f64) -> f64 {
        score_of_z(self.z(x))
    }
}

/// Maps robust deviations to the common 0..1 scale; [`NOTABLE_Z`] gives [`NOTABLE`].
pub fn score_of_z(z: f64) -> f64 {
    if z.is_nan() || z <= 0.0 {
        return 0.0;
    }
    1.0 - (-z / NOTABLE_Z).exp2()
}

fn median_of(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// `ln(1 + n)`: counts on the log scale, defined at zero.
pub fn ln1p(n: u64) -> f64 {
    (n as f64).ln_1p()
}

/// "12×" or "1.5×": how many times the typical value `x` is, for sentences.
pub fn times(x: f64, typical: f64) -> String {
    let r = x / typical.max(f64::MIN_POSITIVE);
    if !r.is_finite() || r >= 1e6 {
        "far more than".to_string()
    } else if r >= 10.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.1}×")
    }
}

/// The common shape of an analysis: measure every entity (`x`), take the baseline over
/// all of them, keep the candidates that pass the analysis's own test, most unusual first,
/// at most `limit`, each made into a finding by `make(entity, baseline, z)`.
pub(crate) fn rank<T, F>(
    entities: Vec<T>,
    x: impl Fn(&T) -> f64,
    model: f64,
    floor: f64,
    is_candidate: impl Fn(&T) -> bool,
    limit: usize,
    make: impl Fn(T, &Baseline, f64) -> F,
) -> Vec<F> {
    rank_capped(
        entities,
        x,
        model,
        floor,
        is_candidate,
        |_| f64::INFINITY,
        limit,
        make,
    )
}

/// [`rank`] for an analysis that can also say how likely chance alone made an entity look
/// unusual: each candidate's z is at most `cap(entity)`, so a statistic measured on too
/// few events, or found in too many tries, is not notable however far it lies from the
/// median of the other entities.
#[allow(clippy::too_many_arguments)]
pub(crate) fn rank_capped<T, F>(
    entities: Vec<T>,
    x: impl Fn(&T) -> f64,
    model: f64,
    floor: f64,
    is_candidate: impl Fn(&T) -> bool,
    cap: impl Fn(&T) -> f64,
    limit: usize,
    make: impl Fn(T, &Baseline, f64) -> F,
) -> Vec<F> {
    let baseline = Baseline::of(entities.iter().map(&x), model, floor);
    let mut candidates: Vec<(f64, T)> = entities
        .into_iter()
        .filter(|e| is_candidate(e))
        .map(|e| (baseline.z(x(&e)).min(cap(&e)), e))
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    candidates
        .into_iter()
        .take(limit)
        .map(|(z, e)| make(e, &baseline, z))
        .collect()
}

/// The typical count behind a baseline taken over `ln(1 + count)`.
pub fn typical_count(b: &Baseline) -> f64 {
    b.median.exp_m1().max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notable_z_scores_one_half_and_the_scale_is_monotonic() {
        assert_eq!(score_of_z(NOTABLE_Z), NOTABLE);
        assert_eq!(score_of_z(0.0), 0.0);
        assert_eq!(score_of_z(-3.0), 0.0);
        assert_eq!(score_of_z(f64::NAN), 0.0);
        let mut last = 0.0;
        for z in 1..100 {
            let s = score_of_z(z as f64);
            assert!(s > last && s < 1.0);
            last = s;
        }
    }

    #[test]
    fn an_outlier_does_not_move_the_baseline() {
        let mut xs: Vec<f64> = (0..100).map(|i| (i % 5) as f64).collect();
        let calm = Baseline::of(xs.clone(), 0.0, 0.1);
        xs.push(1e9);
        let with_outlier = Baseline::of(xs, 0.0, 0.1);
        assert_eq!(calm.median, 2.0);
        assert_eq!(with_outlier.median, 2.0);
        assert_eq!(calm.mad, 1.0);
        assert_eq!(with_outlier.mad, 1.0);
        assert!(with_outlier.score(1e9) > 0.99);
        assert!(with_outlier.score(4.0) < 0.2);
    }

    #[test]
    fn a_small_population_uses_the_model_and_a_flat_one_the_floor() {
        let small = Baseline::of([50.0, 50.0, 50.0], 0.0, 1.0);
        assert_eq!(small.median, 0.0);
        assert!(small.score(50.0) > 0.95);
        let flat = Baseline::of(vec![3.0; 50], 0.0, 0.5);
        assert_eq!(flat.mad, 0.0);
        assert_eq!(flat.z(3.0 + 1.4826 * 0.5 * NOTABLE_Z), NOTABLE_Z);
    }
}
