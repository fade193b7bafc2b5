//! Student's t distribution, the t interval of a mean over seeds, and the
//! prediction interval of one more seed's value.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{StatsError, check_finite, check_level};

fn dist(df: f64) -> StudentsT {
    StudentsT::new(0.0, 1.0, df).expect("degrees of freedom are positive and finite")
}

/// The `p` quantile of Student's t with `df` (> 0, possibly fractional)
/// degrees of freedom; `scipy.stats.t.ppf(p, df)`.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(df > 0.0 && df.is_finite(), "df must be positive, got {df}");
    if p == 0.5 {
        // The inverse regularised beta gives 1e-17 here rather than 0.
        return 0.0;
    }
    dist(df).inverse_cdf(p)
}

/// `P(T <= x)` for Student's t with `df` degrees of freedom; `scipy.stats.t.cdf`.
/// Infinite `x` gives 0 or 1.
pub fn t_cdf(x: f64, df: f64) -> f64 {
    assert!(df > 0.0 && df.is_finite(), "df must be positive, got {df}");
    if x == f64::INFINITY {
        1.0
    } else if x == f64::NEG_INFINITY {
        0.0
    } else {
        dist(df).cdf(x)
    }
}

/// The mean of values over seeds with its Student's t confidence interval
/// `mean ± t_{(1+level)/2, n-1} · sd / √n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanInterval {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub sd: f64,
    pub half_width: f64,
    pub level: f64,
    /// n − 1.
    pub df: f64,
}

impl MeanInterval {
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

pub(crate) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation; needs two values.
pub(crate) fn sample_sd(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// The t interval of the mean of `values` at `level` (e.g. 0.95). Needs at
/// least two values: one seed says nothing about the spread.
pub fn mean_interval(values: &[f64], level: f64) -> Result<MeanInterval, StatsError> {
    check_level(level)?;
    check_finite("mean interval", values)?;
    let n = values.len();
    if n < 2 {
        return Err(StatsError::TooFew {
            what: "mean interval",
            need: 2,
            got: n,
        });
    }
    let sd = sample_sd(values);
    let df = (n - 1) as f64;
    Ok(MeanInterval {
        n,
        mean: mean(values),
        sd,
        half_width: t_quantile(0.5 + level / 2.0, df) * sd / (n as f64).sqrt(),
        level,
        df,
    })
}

/// Where one more run's value should fall, from n runs: a prediction
/// interval `mean ± t_{(1+level)/2, n-1} · sd · √(1 + 1/n)`, the question to
/// ask of a single run reported by a paper (where a mean's interval asks
/// about the mean of infinitely many).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictionInterval {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator).
    pub sd: f64,
    pub half_width: f64,
    pub level: f64,
    /// n − 1.
    pub df: f64,
}

impl PredictionInterval {
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The `level` prediction interval for one new value from `values` (at
/// least two): what statsmodels' OLS on a constant gives as
/// `obs_ci_lower`/`obs_ci_upper`.
pub fn prediction_interval(values: &[f64], level: f64) -> Result<PredictionInterval, StatsError> {
    let m = mean_interval(values, level)?;
    let n = m.n as f64;
    Ok(PredictionInterval {
        n: m.n,
        mean: m.mean,
        sd: m.sd,
        half_width: t_quantile(0.5 + level / 2.0, m.df) * m.sd * (1.0 + 1.0 / n).sqrt(),
        level,
        df: m.df,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_of_three_seeds_uses_t_with_two_df() {
        let m = mean_interval(&[1.0, 2.0, 3.0], 0.95).unwrap();
        assert_eq!(m.mean, 2.0);
        assert!((m.sd - 1.0).abs() < 1e-15);
        // t_{0.975, 2} = 4.302652729749462
        assert!((m.half_width - 4.302652729749462 / 3f64.sqrt()).abs() < 1e-12);
        assert!(m.lo() < 2.0 && m.hi() > 2.0);
    }

    #[test]
    fn too_few_and_bad_levels_are_errors() {
        assert!(matches!(
            mean_interval(&[1.0], 0.95),
            Err(StatsError::TooFew { got: 1, .. })
        ));
        assert_eq!(mean_interval(&[1.0, 2.0], 1.0), Err(StatsError::Level(1.0)));
        assert!(mean_interval(&[1.0, f64::NAN], 0.9).is_err());
    }

    #[test]
    fn the_cdf_inverts_the_quantile() {
        for df in [1.0, 2.5, 30.0] {
            for p in [0.01, 0.3, 0.5, 0.975] {
                assert!((t_cdf(t_quantile(p, df), df) - p).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_prediction_interval_is_wider_than_the_mean_interval_by_sqrt_n_plus_1() {
        let v = [79.1, 79.4, 78.8];
        let m = mean_interval(&v, 0.95).unwrap();
        let p = prediction_interval(&v, 0.95).unwrap();
        assert_eq!(p.mean, m.mean);
        assert!((p.half_width / m.half_width - 4f64.sqrt()).abs() < 1e-12);
        assert!(prediction_interval(&[1.0], 0.95).is_err());
    }
}
