//! Deciding a claimed region for a difference from its interval.
//!
//! A check holds when the interval lies inside the claimed region, fails
//! when it lies wholly outside, and is undecided when it straddles the
//! boundary. For `> m` and `< m` the interval is the two-sided (1 − α) t
//! interval. For `|d| < tol` it is the (1 − 2α) interval: it lies inside
//! (−tol, tol) exactly when both one-sided tests of TOST (H0: d <= −tol and
//! H0: d >= tol, each at level α) reject, which is the standard equivalence
//! test at level α; and it lies outside exactly when one one-sided test at
//! level α shows `d > tol` or `d < −tol`.
//!
//! Each decision is also a test with a p-value ([`p_holds`], [`p_fails`]),
//! and [`alpha_to_hold`] / [`alpha_to_fail`] put those p-values on the scale
//! of α (the smallest α at which the rule reaches that decision), which is
//! what a multiplicity correction over a family of checks needs.

use crate::difference::Difference;
use crate::error::{StatsError, check_level};

/// A claimed region for the difference `A − B`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Region {
    /// `A − B > margin`.
    Greater(f64),
    /// `A − B < margin`.
    Less(f64),
    /// `|A − B| < tol` (equivalence).
    Within(f64),
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Region::Greater(m) => write!(f, "> {m}"),
            Region::Less(m) => write!(f, "< {m}"),
            Region::Within(t) => write!(f, "within ±{t}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Holds,
    Fails,
    Undecided,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Holds => "holds",
            Decision::Fails => "fails",
            Decision::Undecided => "undecided",
        }
    }
}

/// A decided (or undecided) check, with the interval it was decided from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalDecision {
    pub region: Region,
    pub decision: Decision,
    /// The interval's two-sided level: 1 − α, or 1 − 2α for [`Region::Within`].
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    /// The p-value of the region's own test ([`p_holds`]): one-sided for
    /// `>` and `<`, the larger of the two one-sided p-values for TOST. Below
    /// α/2 (`>`, `<`) or α (TOST) exactly when the check holds.
    pub p_value: f64,
}

impl Region {
    /// The two-sided level of the interval this region is decided from at
    /// significance `alpha`: 1 − α for `>` and `<`, 1 − 2α for `approx`.
    pub fn interval_level(&self, alpha: f64) -> f64 {
        match self {
            Region::Within(_) => 1.0 - 2.0 * alpha,
            Region::Greater(_) | Region::Less(_) => 1.0 - alpha,
        }
    }

    /// The same kind of region with another margin or tolerance.
    pub fn with_bound(&self, bound: f64) -> Region {
        match self {
            Region::Greater(_) => Region::Greater(bound),
            Region::Less(_) => Region::Less(bound),
            Region::Within(_) => Region::Within(bound),
        }
    }

    /// The margin or tolerance.
    pub fn bound(&self) -> f64 {
        match *self {
            Region::Greater(b) | Region::Less(b) | Region::Within(b) => b,
        }
    }
}

/// The one-sided p-value of the hypothesis that "holds" rests on: for
/// `> m` the p-value of H0: d <= m (`ttest(alternative="greater")` against
/// m), for `< m` of H0: d >= m (`alternative="less"`), for `approx tol` the
/// larger of the two one-sided p-values of TOST (H0: d <= −tol and H0:
/// d >= tol).
pub fn p_holds(diff: &Difference, region: Region) -> f64 {
    match region {
        Region::Greater(m) => diff.p_greater(m),
        Region::Less(m) => diff.p_less(m),
        Region::Within(t) => diff.p_greater(-t).max(diff.p_less(t)),
    }
}

/// The one-sided p-value of the hypothesis that "fails" rests on: for
/// `> m` of H0: d >= m (showing d < m), for `< m` of H0: d <= m, for
/// `approx tol` the smaller of the p-values of H0: d <= tol and H0: d >= −tol
/// (showing the difference beyond one end).
pub fn p_fails(diff: &Difference, region: Region) -> f64 {
    match region {
        Region::Greater(m) => diff.p_less(m),
        Region::Less(m) => diff.p_greater(m),
        Region::Within(t) => diff.p_greater(t).min(diff.p_less(-t)),
    }
}

/// [`p_holds`] on the scale of α: the smallest α at which [`decide`] says
/// the check holds (it holds at every larger α, and at α exactly when this is
/// below α). For `>` and `<`, decided by a two-sided 1 − α interval, that is
/// twice the one-sided p-value (capped at 1); for TOST it is the p-value.
pub fn alpha_to_hold(diff: &Difference, region: Region) -> f64 {
    on_alpha_scale(region, p_holds(diff, region))
}

/// [`p_fails`] on the scale of α, as [`alpha_to_hold`]: the check fails at
/// α exactly when this is at most α.
pub fn alpha_to_fail(diff: &Difference, region: Region) -> f64 {
    on_alpha_scale(region, p_fails(diff, region))
}

fn on_alpha_scale(region: Region, p: f64) -> f64 {
    match region {
        Region::Greater(_) | Region::Less(_) => (2.0 * p).min(1.0),
        Region::Within(_) => p,
    }
}

/// Decides `region` for `diff` at significance `alpha` (e.g. 0.05).
pub fn decide(
    diff: &Difference,
    region: Region,
    alpha: f64,
) -> Result<IntervalDecision, StatsError> {
    check_level(alpha)?;
    let level = region.interval_level(alpha);
    let (lo, hi) = diff.interval(level)?;
    let (decision, p_value) = match region {
        Region::Greater(m) => (pick(lo > m, hi <= m), p_holds(diff, region)),
        Region::Less(m) => (pick(hi < m, lo >= m), p_holds(diff, region)),
        Region::Within(t) => (
            pick(-t < lo && hi < t, lo >= t || hi <= -t),
            p_holds(diff, region),
        ),
    };
    Ok(IntervalDecision {
        region,
        decision,
        level,
        lo,
        hi,
        p_value,
    })
}

fn pick(holds: bool, fails: bool) -> Decision {
    if holds {
        Decision::Holds
    } else if fails {
        Decision::Fails
    } else {
        Decision::Undecided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(estimate: f64, se: f64) -> Difference {
        Difference {
            test: crate::TestKind::Paired,
            pairing: crate::Pairing::Paired,
            n_a: 3,
            n_b: 3,
            estimate,
            se,
            df: 2.0,
            spread: crate::Spread::Paired {
                sd: se * 3f64.sqrt(),
            },
        }
    }

    #[test]
    fn the_interval_inside_outside_or_across_the_boundary_decides() {
        // t_{0.975,2} = 4.30: half-width 0.043 at se 0.01.
        let d = diff(0.05, 0.01);
        assert_eq!(
            decide(&d, Region::Greater(0.0), 0.05).unwrap().decision,
            Decision::Holds
        );
        assert_eq!(
            decide(&d, Region::Greater(0.2), 0.05).unwrap().decision,
            Decision::Fails
        );
        assert_eq!(
            decide(&d, Region::Greater(0.03), 0.05).unwrap().decision,
            Decision::Undecided
        );
        assert_eq!(
            decide(&d, Region::Less(0.1), 0.05).unwrap().decision,
            Decision::Holds
        );
        assert_eq!(
            decide(&d, Region::Less(0.0), 0.05).unwrap().decision,
            Decision::Fails
        );
    }

    #[test]
    fn equivalence_uses_the_one_minus_two_alpha_interval() {
        // t_{0.95,2} = 2.92: half-width 0.0292 at se 0.01, inside ±0.03 but
        // the 95% half-width (0.043) would not be.
        let c = decide(&diff(0.0, 0.01), Region::Within(0.03), 0.05).unwrap();
        assert!((c.level - 0.9).abs() < 1e-15);
        assert_eq!(c.decision, Decision::Holds);
        assert!(c.p_value < 0.05);
        let far = decide(&diff(0.1, 0.01), Region::Within(0.03), 0.05).unwrap();
        assert_eq!(far.decision, Decision::Fails);
        let edge = decide(&diff(0.02, 0.01), Region::Within(0.03), 0.05).unwrap();
        assert_eq!(edge.decision, Decision::Undecided);
    }

    #[test]
    fn the_alpha_scale_p_values_decide_as_the_intervals_do() {
        let d = diff(0.03, 0.01);
        for region in [
            Region::Greater(0.0),
            Region::Greater(0.05),
            Region::Less(0.06),
            Region::Less(0.01),
            Region::Within(0.06),
            Region::Within(0.005),
        ] {
            let (h, f) = (alpha_to_hold(&d, region), alpha_to_fail(&d, region));
            for alpha in [0.01, 0.05, 0.1, 0.2, 0.3] {
                let got = decide(&d, region, alpha).unwrap().decision;
                let want = pick(h < alpha, f <= alpha);
                assert_eq!(got, want, "{region} at {alpha}: {h} {f}");
            }
        }
        // One-sided p-values of > and <, doubled on the α scale.
        let g = Region::Greater(0.0);
        assert!((alpha_to_hold(&d, g) - 2.0 * p_holds(&d, g)).abs() < 1e-15);
        assert!((p_holds(&d, g) + p_fails(&d, g) - 1.0).abs() < 1e-12);
    }
}
