//! The difference of two experiments' means over seeds, `mean(A) − mean(B)`:
//! paired by seed when both ran the same seeds (the seed fixes the
//! initialisation and the batch order, so a pair shares its luck), Welch's
//! unequal-variance t otherwise.

use crate::error::{StatsError, check_finite, check_level};
use crate::t::{mean, sample_sd, t_cdf, t_quantile};

/// How a [`Difference`] was formed.
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
    pub pairing: Pairing,
    pub n_a: usize,
    pub n_b: usize,
    pub estimate: f64,
    pub se: f64,
    pub df: f64,
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
        Ok(Difference {
            pairing: Pairing::Paired,
            n_a: n,
            n_b: n,
            estimate: mean(&d),
            se: sample_sd(&d) / (n as f64).sqrt(),
            df: (n - 1) as f64,
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
        let va = sample_sd(a).powi(2) / na;
        let vb = sample_sd(b).powi(2) / nb;
        let df = if va + vb > 0.0 {
            (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0))
        } else {
            // No spread on either side: the interval is a point whatever df is.
            na + nb - 2.0
        };
        Ok(Difference {
            pairing: Pairing::Welch,
            n_a: a.len(),
            n_b: b.len(),
            estimate: mean(a) - mean(b),
            se: (va + vb).sqrt(),
            df,
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
        1.0 - t_cdf(self.t_statistic(margin), self.df)
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
    fn one_seed_is_too_few() {
        assert!(Difference::paired(&[1.0], &[2.0]).is_err());
        assert!(Difference::welch(&[1.0, 2.0], &[2.0]).is_err());
        assert!(Difference::paired(&[1.0, 2.0], &[2.0]).is_err());
    }
}
