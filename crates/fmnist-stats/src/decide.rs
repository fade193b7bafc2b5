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
pub struct Check {
    pub region: Region,
    pub decision: Decision,
    /// The interval's two-sided level: 1 − α, or 1 − 2α for [`Region::Within`].
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    /// The p-value of the region's own test: one-sided for `>` and `<`, the
    /// larger of the two one-sided p-values for TOST. Below α/2 (`>`, `<`)
    /// or α (TOST) exactly when the check holds.
    pub p_value: f64,
}

/// Decides `region` for `diff` at significance `alpha` (e.g. 0.05).
pub fn decide(diff: &Difference, region: Region, alpha: f64) -> Result<Check, StatsError> {
    check_level(alpha)?;
    let level = match region {
        Region::Within(_) => 1.0 - 2.0 * alpha,
        Region::Greater(_) | Region::Less(_) => 1.0 - alpha,
    };
    let (lo, hi) = diff.interval(level)?;
    let (decision, p_value) = match region {
        Region::Greater(m) => (pick(lo > m, hi <= m), diff.p_greater(m)),
        Region::Less(m) => (pick(hi < m, lo >= m), diff.p_less(m)),
        Region::Within(t) => (
            pick(-t < lo && hi < t, lo >= t || hi <= -t),
            diff.p_greater(-t).max(diff.p_less(t)),
        ),
    };
    Ok(Check {
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
            spread: crate::Spread::Paired { sd: se * 3f64.sqrt() },
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
}
