//! How many seeds would decide a check: the smallest number of seeds per
//! experiment at which the check's test, at the observed effect and spread,
//! has the target power.

use crate::decide::Region;
use crate::t::{t_cdf, t_quantile};

/// The method, in words, for the report.
pub const POWER_METHOD: &str = "smallest n with power >= the target for the check's own test \
at the observed effect and standard deviation; the noncentral t is approximated by the central \
t shifted by the noncentrality (power = 1 - T_df(t_crit - |effect - bound| / se))";

/// The spread the power calculation assumes, as observed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// Standard deviation of the per-seed differences (paired design).
    Paired { sd: f64 },
    /// Standard deviations of each experiment (Welch design, n seeds each).
    Independent { sd_a: f64, sd_b: f64 },
}

/// The standard error and df of the difference with `n` seeds per experiment.
fn se_df(spread: Spread, n: usize) -> (f64, f64) {
    let nf = n as f64;
    match spread {
        Spread::Paired { sd } => (sd / nf.sqrt(), nf - 1.0),
        Spread::Independent { sd_a, sd_b } => {
            let (va, vb) = (sd_a * sd_a / nf, sd_b * sd_b / nf);
            let df = if va + vb > 0.0 {
                (va + vb).powi(2) / ((va * va + vb * vb) / (nf - 1.0))
            } else {
                2.0 * nf - 2.0
            };
            ((va + vb).sqrt(), df)
        }
    }
}

/// `1 − T_df(crit − distance/se)`: the chance that the test statistic
/// passes `crit` when the truth lies `distance` beyond the boundary.
fn pass(crit: f64, distance: f64, se: f64, df: f64) -> f64 {
    1.0 - t_cdf(crit - distance / se, df)
}

/// Power of deciding `region` (either way: toward holding when the effect is
/// inside the region, toward failing when outside) with `n` seeds each.
pub fn power(region: Region, effect: f64, spread: Spread, alpha: f64, n: usize) -> f64 {
    let (se, df) = se_df(spread, n);
    if se == 0.0 {
        return 1.0;
    }
    match region {
        Region::Greater(m) | Region::Less(m) => pass(
            t_quantile(1.0 - alpha / 2.0, df),
            (effect - m).abs(),
            se,
            df,
        ),
        Region::Within(tol) => {
            let crit = t_quantile(1.0 - alpha, df);
            if effect.abs() < tol {
                // Both one-sided tests must reject; their misses add up (a
                // union bound, tight when the power is high).
                let miss = (1.0 - pass(crit, tol - effect, se, df))
                    + (1.0 - pass(crit, tol + effect, se, df));
                1.0 - miss.min(1.0)
            } else {
                pass(crit, effect.abs() - tol, se, df)
            }
        }
    }
}

/// The smallest n in 2..=max_n seeds per experiment with power >= `target`
/// (see [`POWER_METHOD`]); `None` if even `max_n` falls short, in particular
/// when the effect lies exactly on the boundary.
pub fn seeds_to_decide(
    region: Region,
    effect: f64,
    spread: Spread,
    alpha: f64,
    target: f64,
    max_n: usize,
) -> Option<usize> {
    (2..=max_n).find(|&n| power(region, effect, spread, alpha, n) >= target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bigger_effect_or_smaller_spread_needs_fewer_seeds() {
        let s = Spread::Paired { sd: 0.01 };
        let few = seeds_to_decide(Region::Greater(0.0), 0.02, s, 0.05, 0.8, 1000).unwrap();
        let more = seeds_to_decide(Region::Greater(0.0), 0.005, s, 0.05, 0.8, 1000).unwrap();
        assert!(few < more, "{few} {more}");
        let tight = Spread::Paired { sd: 0.002 };
        let fewer = seeds_to_decide(Region::Greater(0.0), 0.005, tight, 0.05, 0.8, 1000).unwrap();
        assert!(fewer < more);
    }

    #[test]
    fn an_effect_on_the_boundary_is_never_decided() {
        let s = Spread::Independent {
            sd_a: 0.01,
            sd_b: 0.02,
        };
        assert_eq!(
            seeds_to_decide(Region::Less(0.01), 0.01, s, 0.05, 0.8, 500),
            None
        );
    }

    #[test]
    fn power_grows_with_n() {
        let s = Spread::Paired { sd: 0.01 };
        let p: Vec<f64> = (2..20)
            .map(|n| power(Region::Within(0.02), 0.005, s, 0.05, n))
            .collect();
        assert!(p.windows(2).all(|w| w[1] >= w[0]), "{p:?}");
    }
}
