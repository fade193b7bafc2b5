//! The difference of two experiments' means over seeds, `mean(A) − mean(B)`:
//! paired by seed when both ran the same seeds (the seed fixes the
//! initialisation and the batch order, so a pair shares its luck), Welch's
//! unequal-variance t otherwise; or of one experiment's mean and a number
//! (one-sample t). The [`TestKind`] it carries names the test that was run.

use crate::error::{StatsError, check_finite, check_level};
use crate::power::Spread;
use crate::t::{mean, sample_sd, t_cdf, t_quantile};

/// The t-test a [`Difference`] is tested with, to be printed beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// The mean of one side's values against a number: `scipy.stats.ttest_1samp`.
    OneSample,
    /// The mean of per-seed differences: `scipy.stats.ttest_rel`.
    Paired,
    /// Independent samples, unequal variances:
    /// `scipy.stats.ttest_ind(equal_var=False)`.
    Welch,
}

impl TestKind {
    /// "one-sample t", "paired t" or "Welch's t".
    pub fn name(self) -> &'static str {
        match self {
            TestKind::OneSample => "one-sample t",
            TestKind::Paired => "paired t",
            TestKind::Welch => "Welch's t",
        }
    }
}

impl std::fmt::Display for TestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a [`Difference`]'s standard error was formed: the per-seed
/// differences (`Paired`, also the form of a one-sample test) or two
/// independent samples (`Welch`). Kept for callers that predate
/// [`TestKind`]; name the test with [`Difference::test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// The mean of per-seed differences; df = n − 1.
    Paired,
    /// Welch's t: independent samples, unequal variances, Welch–Satterthwaite df.
    Welch,
}

impl Pairing {
    pub fn name(self) -> &'static str {
        match self {
            Pairing::Paired => "paired t",
            Pairing::Welch => "Welch t",
        }
    }
}

/// An estimated difference `A − B` with its standard error and degrees of
/// freedom: everything a t interval or test needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Difference {
    /// The test run; print it beside the numbers.
    pub test: TestKind,
    /// [`Pairing::Paired`] for [`TestKind::OneSample`] and
    /// [`TestKind::Paired`], [`Pairing::Welch`] for [`TestKind::Welch`].
    pub pairing: Pairing,
    /// Values on the left side (pairs, for a paired test).
    pub n_a: usize,
    /// Values on the right side: 0 for a one-sample test (a number).
    pub n_b: usize,
    pub estimate: f64,
    pub se: f64,
    pub df: f64,
    /// The observed standard deviation(s) behind `se`, for a power analysis.
    pub spread: Spread,
}

impl Difference {
    /// `a[i] − b[i]` are the per-seed differences (same seed at the same index).
    pub fn paired(a: &[f64], b: &[f64]) -> Result<Difference, StatsError> {
        if a.len() != b.len() {
            return Err(StatsError::Unpaired {
                a: a.len(),
                b: b.len(),
            });
        }
        check_finite("paired difference", a)?;
        check_finite("paired difference", b)?;
        if a.len() < 2 {
            return Err(StatsError::TooFew {
                what: "paired difference",
                need: 2,
                got: a.len(),
            });
        }
        let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let n = d.len();
        let sd = sample_sd(&d);
        Ok(Difference {
            test: TestKind::Paired,
            pairing: Pairing::Paired,
            n_a: n,
            n_b: n,
            estimate: mean(&d),
            se: sd / (n as f64).sqrt(),
            df: (n - 1) as f64,
            spread: Spread::Paired { sd },
        })
    }

    /// `mean(values) − against`, the one-sample t of `values` against a
    /// number (at least two values): `scipy.stats.ttest_1samp(values, against)`.
    pub fn one_sample(values: &[f64], against: f64) -> Result<Difference, StatsError> {
        check_finite("one-sample difference", values)?;
        check_finite("one-sample difference (the number)", &[against])?;
        let n = values.len();
        if n < 2 {
            return Err(StatsError::TooFew {
                what: "one-sample difference",
                need: 2,
                got: n,
            });
        }
        let sd = sample_sd(values);
        Ok(Difference {
            test: TestKind::OneSample,
            pairing: Pairing::Paired,
            n_a: n,
            n_b: 0,
            estimate: mean(values) - against,
            se: sd / (n as f64).sqrt(),
            df: (n - 1) as f64,
            spread: Spread::Paired { sd },
        })
    }

    /// Welch's difference of independent samples, each of at least two values.
    pub fn welch(a: &[f64], b: &[f64]) -> Result<Difference, StatsError> {
        check_finite("Welch difference", a)?;
        check_finite("Welch difference", b)?;
        let got = a.len().min(b.len());
        if got < 2 {
            return Err(StatsError::TooFew {
                what: "Welch difference (each side)",
                need: 2,
                got,
            });
        }
        let (na, nb) = (a.len() as f64, b.len() as f64);
        let (sd_a, sd_b) = (sample_sd(a), sample_sd(b));
        let va = sd_a.powi(2) / na;
        let vb = sd_b.powi(2) / nb;
        let df = if va + vb > 0.0 {
            (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0))
        } else {
            // No spread on either side: the interval is a point whatever df is.
            na + nb - 2.0
        };
        Ok(Difference {
            test: TestKind::Welch,
            pairing: Pairing::Welch,
            n_a: a.len(),
            n_b: b.len(),
            estimate: mean(a) - mean(b),
            se: (va + vb).sqrt(),
            df,
            spread: Spread::Independent { sd_a, sd_b },
        })
    }

    /// Paired when `a` and `b` hold the same seeds (in any order), Welch
    /// otherwise. Each side is (seed, value), one value per seed.
    pub fn by_seed(a: &[(u64, f64)], b: &[(u64, f64)]) -> Result<Difference, StatsError> {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort_by_key(|p| p.0);
        b.sort_by_key(|p| p.0);
        let values = |s: &[(u64, f64)]| s.iter().map(|p| p.1).collect::<Vec<_>>();
        let same = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x.0 == y.0);
        if same {
            Difference::paired(&values(&a), &values(&b))
        } else {
            Difference::welch(&values(&a), &values(&b))
        }
    }

    /// The test and its sample sizes in words: "one-sample t, n = 5",
    /// "paired t, 7 pairs", "Welch's t, n = 10 and 3".
    pub fn describe(&self) -> String {
        match self.test {
            TestKind::OneSample => format!("{}, n = {}", self.test, self.n_a),
            TestKind::Paired => format!("{}, {} pairs", self.test, self.n_a),
            TestKind::Welch => format!("{}, n = {} and {}", self.test, self.n_a, self.n_b),
        }
    }

    /// The two-sided `level` t interval of the difference.
    pub fn interval(&self, level: f64) -> Result<(f64, f64), StatsError> {
        check_level(level)?;
        let h = t_quantile(0.5 + level / 2.0, self.df) * self.se;
        Ok((self.estimate - h, self.estimate + h))
    }

    /// `(estimate − null) / se`; with no spread, ±∞ or 0.
    pub fn t_statistic(&self, null: f64) -> f64 {
        let d = self.estimate - null;
        if self.se > 0.0 {
            d / self.se
        } else if d > 0.0 {
            f64::INFINITY
        } else if d < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        }
    }

    /// One-sided p-value of the hypothesis `difference > margin`
    /// (H0: difference <= margin).
    pub fn p_greater(&self, margin: f64) -> f64 {
        // The lower tail at −t rather than 1 − F(t): small p-values keep
        // their digits (the t distribution is symmetric).
        t_cdf(-self.t_statistic(margin), self.df)
    }

    /// One-sided p-value of the hypothesis `difference < margin`.
    pub fn p_less(&self, margin: f64) -> f64 {
        t_cdf(self.t_statistic(margin), self.df)
    }

    /// Two-sided p-value of H0: difference = 0.
    pub fn p_two_sided(&self) -> f64 {
        (2.0 * t_cdf(-self.t_statistic(0.0).abs(), self.df)).min(1.0)
    }

    /// Whether the two-sided `level` interval excludes 0.
    pub fn significant(&self, level: f64) -> Result<bool, StatsError> {
        let (lo, hi) = self.interval(level)?;
        Ok(lo > 0.0 || hi < 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seeds_pair_and_other_seeds_do_not() {
        let a = [(2, 0.9), (0, 0.8), (1, 0.85)];
        let b = [(0, 0.7), (1, 0.76), (2, 0.79)];
        let d = Difference::by_seed(&a, &b).unwrap();
        assert_eq!(d.pairing, Pairing::Paired);
        // Pairs by seed, not by position: differences 0.10, 0.09, 0.11.
        assert!((d.estimate - 0.1).abs() < 1e-12);
        assert!((d.se - 0.01 / 3f64.sqrt()).abs() < 1e-12);
        let c = [(0, 0.7), (1, 0.76), (3, 0.79)];
        assert_eq!(Difference::by_seed(&a, &c).unwrap().pairing, Pairing::Welch);
    }

    #[test]
    fn identical_sides_have_a_point_interval_at_zero_and_no_significance() {
        let a = [0.8, 0.81, 0.83];
        let d = Difference::paired(&a, &a).unwrap();
        assert_eq!(d.interval(0.95).unwrap(), (0.0, 0.0));
        assert!(!d.significant(0.95).unwrap());
        assert_eq!(d.p_two_sided(), 1.0);
        let w = Difference::welch(&a, &a).unwrap();
        assert!(!w.significant(0.95).unwrap());
    }

    #[test]
    fn a_constant_shift_is_significant_when_paired() {
        let a = [0.8, 0.81, 0.83];
        let b = a.map(|x| x - 0.01);
        let d = Difference::paired(&a, &b).unwrap();
        assert!(d.significant(0.95).unwrap());
        assert_eq!(d.p_greater(0.0), 0.0);
    }

    #[test]
    fn each_constructor_names_its_test_and_sides() {
        let a = [0.8, 0.81, 0.83];
        let one = Difference::one_sample(&a, 0.79).unwrap();
        assert_eq!(one.test, TestKind::OneSample);
        assert_eq!(one.test.to_string(), "one-sample t");
        assert_eq!((one.n_a, one.n_b), (3, 0));
        assert_eq!(one.describe(), "one-sample t, n = 3");
        // Same numbers as the paired form against a constant, but named for
        // what it is.
        let as_pairs = Difference::paired(&a, &[0.79; 3]).unwrap();
        assert_eq!(as_pairs.test, TestKind::Paired);
        assert!((one.estimate - as_pairs.estimate).abs() < 1e-15);
        assert!((one.se - as_pairs.se).abs() < 1e-15);
        assert_eq!(as_pairs.describe(), "paired t, 3 pairs");
        let w = Difference::welch(&a, &[0.7, 0.72]).unwrap();
        assert_eq!((w.test, w.test.name()), (TestKind::Welch, "Welch's t"));
        assert_eq!(w.describe(), "Welch's t, n = 3 and 2");
        assert!(matches!(w.spread, Spread::Independent { .. }));
    }

    #[test]
    fn one_seed_is_too_few() {
        assert!(Difference::one_sample(&[1.0], 0.0).is_err());
        assert!(Difference::one_sample(&[1.0, 2.0], f64::NAN).is_err());
        assert!(Difference::paired(&[1.0], &[2.0]).is_err());
        assert!(Difference::welch(&[1.0, 2.0], &[2.0]).is_err());
        assert!(Difference::paired(&[1.0, 2.0], &[2.0]).is_err());
    }
}
