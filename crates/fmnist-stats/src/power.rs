//! How many seeds would decide a check: the smallest number of seeds per
//! experiment at which the check's test, at the observed effect and spread,
//! has the target power.
//!
//! The power of a one-sided t-test is exact with the noncentral t
//! ([`nct_cdf`]): with the truth `distance` beyond the boundary, the
//! statistic is noncentral t with df degrees of freedom and noncentrality
//! `distance / se`, so the power is `1 − F_nct(t_crit; df, distance / se)`
//! (exact for one-sample and paired tests; for Welch's the usual
//! approximation, at the Welch–Satterthwaite df of the planned n). The older
//! approximation, the central t shifted by the noncentrality, stays
//! available as [`PowerMethod::ShiftedCentralT`].

use crate::decide::Region;
use crate::nct::nct_cdf;
use crate::t::{t_cdf, t_quantile};

/// The method, in words, for the report.
pub const POWER_METHOD: &str = "smallest n with power >= the target for the check's own test \
at the observed effect and standard deviation, the power from the noncentral t distribution \
(power = 1 - F_nct(t_crit; df, |effect - bound| / se); for an equivalence test the chance \
that both one-sided tests reject, bounded below by 1 minus the sum of their misses)";

/// How the power of a t-test is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerMethod {
    /// The noncentral t: `1 − F_nct(t_crit; df, distance/se)`
    /// (`scipy.stats.nct`). What [`power`] and [`seeds_to_decide`] use.
    NoncentralT,
    /// The central t shifted by the noncentrality,
    /// `1 − T_df(t_crit − distance/se)`: the crate's method before the
    /// noncentral t, kept so that designs chosen with it can be replayed.
    ShiftedCentralT,
}

impl PowerMethod {
    /// The method in words, for the report.
    pub fn description(self) -> &'static str {
        match self {
            PowerMethod::NoncentralT => POWER_METHOD,
            PowerMethod::ShiftedCentralT => SHIFTED_METHOD,
        }
    }
}

const SHIFTED_METHOD: &str = "smallest n with power >= the target for the check's own test \
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

/// The chance that the test statistic passes `crit` when the truth lies
/// `distance` beyond the boundary.
fn pass(method: PowerMethod, crit: f64, distance: f64, se: f64, df: f64) -> f64 {
    match method {
        PowerMethod::NoncentralT => 1.0 - nct_cdf(crit, df, distance / se),
        PowerMethod::ShiftedCentralT => 1.0 - t_cdf(crit - distance / se, df),
    }
}

/// Power of deciding `region` (either way: toward holding when the effect is
/// inside the region, toward failing when outside) with `n` seeds each, by
/// the noncentral t ([`POWER_METHOD`]).
pub fn power(region: Region, effect: f64, spread: Spread, alpha: f64, n: usize) -> f64 {
    power_with(PowerMethod::NoncentralT, region, effect, spread, alpha, n)
}

/// [`power`] by a chosen method.
pub fn power_with(
    method: PowerMethod,
    region: Region,
    effect: f64,
    spread: Spread,
    alpha: f64,
    n: usize,
) -> f64 {
    let pass = |crit, distance, se, df| pass(method, crit, distance, se, df);
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
    seeds_to_decide_with(
        PowerMethod::NoncentralT,
        region,
        effect,
        spread,
        alpha,
        target,
        max_n,
    )
}

/// [`seeds_to_decide`] by a chosen method. The power grows with n (a test
/// checks it), so the smallest n is found by bisection: about log2(max_n)
/// power evaluations.
pub fn seeds_to_decide_with(
    method: PowerMethod,
    region: Region,
    effect: f64,
    spread: Spread,
    alpha: f64,
    target: f64,
    max_n: usize,
) -> Option<usize> {
    let enough = |n| power_with(method, region, effect, spread, alpha, n) >= target;
    if max_n < 2 || !enough(max_n) {
        return None;
    }
    // Invariant: enough(hi); lo is 1 or an n that is not enough.
    let (mut lo, mut hi) = (1, max_n);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if enough(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
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
    fn bisection_finds_the_smallest_n_a_scan_finds() {
        let spreads = [
            Spread::Paired { sd: 0.01 },
            Spread::Independent {
                sd_a: 0.004,
                sd_b: 0.012,
            },
        ];
        for method in [PowerMethod::NoncentralT, PowerMethod::ShiftedCentralT] {
            for spread in spreads {
                for (region, effect) in [
                    (Region::Greater(0.0), 0.004),
                    (Region::Less(0.01), 0.0),
                    (Region::Within(0.02), 0.012),
                    (Region::Within(0.005), 0.011),
                    (Region::Greater(0.0), 0.05),
                ] {
                    let scan = (2..=300)
                        .find(|&n| power_with(method, region, effect, spread, 0.05, n) >= 0.8);
                    let got = seeds_to_decide_with(method, region, effect, spread, 0.05, 0.8, 300);
                    assert_eq!(got, scan, "{method:?} {spread:?} {region} {effect}");
                }
            }
        }
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
