//! "Show your work": the expected best validation score of n trials of a
//! search, estimated from the N trials it ran (issue 32).
//!
//! With the N observed values sorted ascending, v(1) <= ... <= v(N):
//!
//! - Dodge et al. 2019 ("Show Your Work", EMNLP): the mean of the maximum of
//!   n draws *with replacement* from the observed values,
//!   `Σ_i v(i) [(i/N)^n − ((i−1)/N)^n]`. Defined for every n, but biased
//!   low as an estimate of the best of n fresh trials (it reuses values).
//! - Tang et al. 2020 ("Showing Your Work Doesn't Always Work", ACL): the
//!   unbiased estimator, the mean of the maximum over every subset of n of
//!   the N values (draws *without replacement*),
//!   `Σ_{i=n}^{N} v(i) C(i−1, n−1) / C(N, n)`; defined for n <= N.
//!
//! The binomial weights are computed through log-gamma and normalised to
//! sum to 1 (the hockey-stick identity), so N = 1000 neither overflows nor
//! loses digits; the with-replacement weights as
//! `(i/N)^n · (1 − ((i−1)/i)^n)` through `expm1`/`ln_1p`.
//!
//! The band: each estimate comes with the standard deviation of the best of
//! n trials under the same sampling (with or without replacement from the
//! observed values): the spread of what one search of n trials would give,
//! which is what Dodge et al. shade. It is not the standard error of the
//! estimate; for that, [`expected_max_band`] bootstraps the unbiased
//! estimator with the crate's seeded [`Bootstrap`].

use statrs::function::gamma::ln_gamma;

use crate::bootstrap::Bootstrap;
use crate::error::{StatsError, check_finite};

/// The expected best of n trials and the spread of that best.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpectedMax {
    /// Trials per search.
    pub n: usize,
    /// Dodge et al.'s estimate (draws with replacement).
    pub with_replacement: f64,
    /// Standard deviation of the best of n draws with replacement.
    pub sd_with_replacement: f64,
    /// Tang et al.'s unbiased estimate (draws without replacement).
    pub unbiased: f64,
    /// Standard deviation of the best of n draws without replacement.
    pub sd_without_replacement: f64,
}

fn ln_choose(n: usize, k: usize) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// P(the best of n draws is the i-th smallest), i = 1..=N, with replacement.
fn weights_with_replacement(big_n: usize, n: usize) -> Vec<f64> {
    let nf = n as f64;
    (1..=big_n)
        .map(|i| {
            let i = i as f64;
            // (i/N)^n − ((i−1)/N)^n without subtracting two close powers.
            (nf * (i / big_n as f64).ln()).exp() * -(nf * (-1.0 / i).ln_1p()).exp_m1()
        })
        .collect()
}

/// P(the best of n draws is the i-th smallest), without replacement:
/// C(i−1, n−1) / C(N, n) for i >= n.
fn weights_without_replacement(big_n: usize, n: usize) -> Vec<f64> {
    let top = ln_choose(big_n, n);
    let raw: Vec<f64> = (1..=big_n)
        .map(|i| {
            if i < n {
                0.0
            } else {
                (ln_choose(i - 1, n - 1) - top).exp()
            }
        })
        .collect();
    let total: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w / total).collect()
}

/// The weighted mean and standard deviation of sorted values.
fn moments(sorted: &[f64], w: &[f64]) -> (f64, f64) {
    let mean: f64 = sorted.iter().zip(w).map(|(v, w)| v * w).sum();
    let var: f64 = sorted
        .iter()
        .zip(w)
        .map(|(v, w)| w * (v - mean).powi(2))
        .sum();
    (mean, var.sqrt())
}

fn sorted_checked(values: &[f64], n: usize) -> Result<Vec<f64>, StatsError> {
    check_finite("expected maximum", values)?;
    if n == 0 || n > values.len() {
        return Err(StatsError::Invalid {
            what: "expected maximum",
            message: format!(
                "{n} trials per search from {} observed; needs 1 <= n <= N",
                values.len()
            ),
        });
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Ok(v)
}

/// The expected best of `n` trials (1 <= n <= N) from the observed `values`.
pub fn expected_max(values: &[f64], n: usize) -> Result<ExpectedMax, StatsError> {
    let v = sorted_checked(values, n)?;
    let (with_replacement, sd_with_replacement) =
        moments(&v, &weights_with_replacement(v.len(), n));
    let (unbiased, sd_without_replacement) = moments(&v, &weights_without_replacement(v.len(), n));
    Ok(ExpectedMax {
        n,
        with_replacement,
        sd_with_replacement,
        unbiased,
        sd_without_replacement,
    })
}

/// The curve of [`expected_max`] for n = 1, ..., N.
pub fn expected_max_curve(values: &[f64]) -> Result<Vec<ExpectedMax>, StatsError> {
    (1..=values.len().max(1))
        .map(|n| expected_max(values, n))
        .collect()
}

/// A percentile bootstrap band for Tang et al.'s unbiased estimate of the
/// best of `n` trials: the observed values resampled with `boot`'s seed,
/// the estimator recomputed on each resample (duplicates kept as values).
pub fn expected_max_band(
    values: &[f64],
    n: usize,
    boot: Bootstrap,
    level: f64,
) -> Result<(f64, f64), StatsError> {
    sorted_checked(values, n)?;
    let w = weights_without_replacement(values.len(), n);
    boot.interval(values, level, |resample| {
        let mut v = resample.to_vec();
        v.sort_by(f64::total_cmp);
        moments(&v, &w).0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trial_is_the_mean_and_all_trials_the_maximum() {
        let v = [0.81, 0.79, 0.84, 0.84, 0.8];
        let one = expected_max(&v, 1).unwrap();
        let mean = v.iter().sum::<f64>() / 5.0;
        assert!((one.with_replacement - mean).abs() < 1e-15);
        assert!((one.unbiased - mean).abs() < 1e-15);
        let all = expected_max(&v, 5).unwrap();
        assert!((all.unbiased - 0.84).abs() < 1e-15 && all.sd_without_replacement < 1e-15);
        // With replacement the best of 5 can miss the top values.
        assert!(all.with_replacement < 0.84);
    }

    #[test]
    fn the_unbiased_estimate_is_never_below_dodges_and_both_grow_with_n() {
        let v = [0.812, 0.774, 0.843, 0.801, 0.829, 0.795, 0.78, 0.833];
        let curve = expected_max_curve(&v).unwrap();
        for w in curve.windows(2) {
            assert!(
                w[1].unbiased >= w[0].unbiased && w[1].with_replacement >= w[0].with_replacement
            );
        }
        assert!(
            curve
                .iter()
                .all(|e| e.unbiased >= e.with_replacement - 1e-15)
        );
        assert!(expected_max(&v, 0).is_err() && expected_max(&v, 9).is_err());
    }

    #[test]
    fn a_thousand_trials_do_not_overflow_and_the_band_holds_the_estimate() {
        let v: Vec<f64> = (0..1000)
            .map(|i| 0.7 + 0.1 * ((i * 7919) % 1000) as f64 / 1000.0)
            .collect();
        for n in [1, 2, 500, 999, 1000] {
            let e = expected_max(&v, n).unwrap();
            assert!(
                e.unbiased.is_finite() && e.with_replacement.is_finite(),
                "{n}"
            );
        }
        let small = [0.812, 0.774, 0.843, 0.801, 0.829, 0.795, 0.78, 0.833];
        let (lo, hi) = expected_max_band(&small, 3, Bootstrap::new(5, 2000), 0.9).unwrap();
        let e = expected_max(&small, 3).unwrap().unbiased;
        assert!(lo < e && e < hi, "{lo} {e} {hi}");
    }

    #[test]
    fn the_unbiased_estimate_is_the_mean_best_over_every_subset() {
        // Brute force over the C(8, n) subsets, ties included.
        let v = [0.812, 0.774, 0.843, 0.801, 0.843, 0.795, 0.78, 0.833];
        for n in 1..=8 {
            let (mut sum, mut sum2, mut count) = (0.0, 0.0, 0.0);
            for mask in 0u32..256 {
                if mask.count_ones() as usize != n {
                    continue;
                }
                let best = (0..8)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| v[i])
                    .fold(f64::NEG_INFINITY, f64::max);
                sum += best;
                sum2 += best * best;
                count += 1.0;
            }
            let mean = sum / count;
            let sd = (sum2 / count - mean * mean).max(0.0).sqrt();
            let e = expected_max(&v, n).unwrap();
            assert!((e.unbiased - mean).abs() < 1e-12, "n = {n}");
            assert!((e.sd_without_replacement - sd).abs() < 1e-7, "n = {n}");
        }
    }
}
