//! A proportion's confidence interval: Wilson's score interval, which,
//! unlike mean ± t·sd over seeds, always lies inside [0, 1] (for per-class
//! accuracies from pooled counts).
//!
//! With p̂ = successes / trials and z = Φ⁻¹((1 + level)/2): centre
//! (p̂ + z²/(2n)) / (1 + z²/n), half-width z / (1 + z²/n) · √(p̂(1 − p̂)/n +
//! z²/(4n²)) (Wilson 1927); `statsmodels.stats.proportion.proportion_confint(
//! method="wilson")`, which clips rounding outside [0, 1] as this does.

use crate::error::{StatsError, check_level};
use crate::normal::normal_quantile;

/// A proportion with its Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Proportion {
    pub successes: u64,
    pub trials: u64,
    /// successes / trials.
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub level: f64,
}

/// The Wilson score interval of `successes` out of `trials` (at least one)
/// at `level` (e.g. 0.95).
pub fn wilson_interval(successes: u64, trials: u64, level: f64) -> Result<Proportion, StatsError> {
    check_level(level)?;
    if trials == 0 || successes > trials {
        return Err(StatsError::Invalid {
            what: "Wilson interval",
            message: format!(
                "{successes} successes out of {trials} trials; needs at least one trial and no \
                 more successes than trials"
            ),
        });
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = normal_quantile(0.5 + level / 2.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Ok(Proportion {
        successes,
        trials,
        estimate: p,
        // Exactly 0 with no success and 1 with no failure, as in exact
        // arithmetic (rounding would leave 1e-17 there).
        lo: if successes == 0 {
            0.0
        } else {
            (centre - half).clamp(0.0, 1.0)
        },
        hi: if successes == trials {
            1.0
        } else {
            (centre + half).clamp(0.0, 1.0)
        },
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_inside_zero_one_and_around_the_estimate() {
        for (k, n) in [(0, 5), (5, 5), (1, 3), (79, 100), (1, 1)] {
            let w = wilson_interval(k, n, 0.95).unwrap();
            assert!(0.0 <= w.lo && w.lo <= w.estimate && w.estimate <= w.hi && w.hi <= 1.0);
        }
        assert_eq!(wilson_interval(0, 5, 0.95).unwrap().lo, 0.0);
        assert_eq!(wilson_interval(5, 5, 0.95).unwrap().hi, 1.0);
        assert!(wilson_interval(0, 0, 0.95).is_err());
        assert!(wilson_interval(6, 5, 0.95).is_err());
        assert!(wilson_interval(1, 5, 1.0).is_err());
    }
}
