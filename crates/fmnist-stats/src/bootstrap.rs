//! A seeded percentile bootstrap over seeds, for quantities that are not a
//! mean (a median, the probability that a sweep's best point beats the
//! runner-up). The generator is ChaCha8 seeded from a stated seed, so the
//! answer is the same on every machine and every run.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::error::{StatsError, check_finite, check_level};

/// The `q` quantile (0..=1) of `values` with linear interpolation between
/// order statistics: `numpy.percentile(values, 100 q)` (its default,
/// Hyndman–Fan type 7). Panics on an empty slice.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    assert!(!values.is_empty(), "percentile of nothing");
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Resampling with a stated seed and number of resamples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bootstrap {
    pub seed: u64,
    pub resamples: usize,
}

/// A uniform index below `n` (Lemire's multiply-and-reject: no modulo bias).
fn index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= zone {
            return (m >> 64) as usize;
        }
    }
}

impl Bootstrap {
    pub fn new(seed: u64, resamples: usize) -> Self {
        Bootstrap { seed, resamples }
    }

    /// `statistic` of `resamples` resamples (with replacement, the original
    /// size) of each sample in `samples`, each resampled independently, in
    /// the order drawn.
    pub fn replicates(
        &self,
        samples: &[&[f64]],
        statistic: impl Fn(&[Vec<f64>]) -> f64,
    ) -> Result<Vec<f64>, StatsError> {
        for s in samples {
            check_finite("bootstrap", s)?;
            if s.is_empty() {
                return Err(StatsError::TooFew {
                    what: "bootstrap sample",
                    need: 1,
                    got: 0,
                });
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut drawn: Vec<Vec<f64>> = samples.iter().map(|s| vec![0.0; s.len()]).collect();
        let mut out = Vec::with_capacity(self.resamples);
        for _ in 0..self.resamples {
            for (d, s) in drawn.iter_mut().zip(samples) {
                for slot in d.iter_mut() {
                    *slot = s[index(&mut rng, s.len())];
                }
            }
            out.push(statistic(&drawn));
        }
        Ok(out)
    }

    /// The percentile interval of `statistic` over one sample at `level`:
    /// the (1 − level)/2 and (1 + level)/2 quantiles of the replicates.
    pub fn interval(
        &self,
        values: &[f64],
        level: f64,
        statistic: impl Fn(&[f64]) -> f64,
    ) -> Result<(f64, f64), StatsError> {
        check_level(level)?;
        let reps = self.replicates(&[values], |d| statistic(&d[0]))?;
        Ok((
            percentile(&reps, (1.0 - level) / 2.0),
            percentile(&reps, (1.0 + level) / 2.0),
        ))
    }

    /// The fraction of resamples in which the mean of `a` exceeds the mean
    /// of `b` (ties count half), resampling each independently: e.g. the
    /// probability that a sweep's best point beats the runner-up.
    pub fn prob_greater(&self, a: &[f64], b: &[f64]) -> Result<f64, StatsError> {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let reps = self.replicates(&[a, b], |d| {
            let (x, y) = (mean(&d[0]), mean(&d[1]));
            if x > y {
                1.0
            } else if x == y {
                0.5
            } else {
                0.0
            }
        })?;
        Ok(reps.iter().sum::<f64>() / reps.len().max(1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn median(v: &[f64]) -> f64 {
        percentile(v, 0.5)
    }

    #[test]
    fn the_same_seed_gives_the_same_interval_and_another_seed_another() {
        let v = [0.81, 0.84, 0.8, 0.86, 0.83, 0.79, 0.85];
        let a = Bootstrap::new(7, 2000).interval(&v, 0.95, median).unwrap();
        let b = Bootstrap::new(7, 2000).interval(&v, 0.95, median).unwrap();
        let c = Bootstrap::new(8, 2000).interval(&v, 0.95, median).unwrap();
        assert_eq!(a, b);
        assert_ne!(
            Bootstrap::new(7, 50).replicates(&[&v], |d| d[0].iter().sum()),
            Bootstrap::new(8, 50).replicates(&[&v], |d| d[0].iter().sum())
        );
        assert!(a.0 <= median(&v) && median(&v) <= a.1, "{a:?}");
        assert!(c.0 <= c.1);
    }

    #[test]
    fn a_constant_sample_has_a_point_interval() {
        let v = [0.5; 4];
        assert_eq!(
            Bootstrap::new(1, 100).interval(&v, 0.9, median).unwrap(),
            (0.5, 0.5)
        );
    }

    #[test]
    fn clearly_better_beats_nearly_always_and_equal_ties() {
        let a = [0.90, 0.91, 0.905];
        let b = [0.80, 0.81, 0.805];
        let boot = Bootstrap::new(3, 1000);
        assert_eq!(boot.prob_greater(&a, &b).unwrap(), 1.0);
        assert_eq!(boot.prob_greater(&b, &a).unwrap(), 0.0);
        assert_eq!(boot.prob_greater(&[1.0], &[1.0]).unwrap(), 0.5);
        let p = boot
            .prob_greater(&[0.8, 0.9, 0.85], &[0.84, 0.86, 0.85])
            .unwrap();
        assert!(p > 0.2 && p < 0.8, "{p}");
    }

    #[test]
    fn indices_are_uniform() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[index(&mut rng, 3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }
}
