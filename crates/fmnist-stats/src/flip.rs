//! How far a decision is from flipping: the margin (for `>` and `<`) or the
//! tolerance (for `approx`) at which a check's decision would change, the
//! data unchanged.
//!
//! The interval a region is decided from does not depend on its bound, so
//! with `[lo, hi]` the check's interval (two-sided 1 − α for `>` and `<`,
//! 1 − 2α for `approx`), [`decide`](crate::decide) gives, as the bound b
//! moves:
//!
//! | region | holds when | fails when | `holds` | `fails` |
//! | --- | --- | --- | --- | --- |
//! | `> b` | b < lo | b >= hi | lo | hi |
//! | `< b` | b > hi | b <= lo | hi | lo |
//! | `approx b` | b > max(−lo, hi) | b <= max(lo, −hi) | max(\|lo\|, \|hi\|) | max(lo, −hi) |
//!
//! and is undecided in between. So "holds" flips where the bound crosses the
//! near end of the interval and "fails" where it crosses the other end; an
//! `approx` check whose interval contains 0 never fails (`fails` <= 0). The
//! comparisons are exactly those of `decide`, so [`Flip::decision_at`]
//! agrees with `decide` at every bound, the flip points included.
//!
//! A Holm-adjusted decision has its own flip points: the same formulas on
//! the intervals at the levels Holm gives that check ([`HolmStep::level`]
//! of its "holds" and of its "fails" test), the family's other checks
//! unchanged; see [`crate::decide_family`].
//!
//! [`HolmStep::level`]: crate::HolmStep::level

use crate::decide::{Decision, Region};
use crate::difference::Difference;
use crate::error::StatsError;

/// The bounds at which a check's decision changes (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flip {
    /// The bound at which "holds" starts or stops: the check holds for a
    /// margin below it (`>`), above it (`<`), or a tolerance above it
    /// (`approx`).
    pub holds: f64,
    /// The bound at which "fails" starts or stops: the check fails for a
    /// margin at or above it (`>`), at or below it (`<`), or a tolerance at
    /// or below it (`approx`; never when it is <= 0).
    pub fails: f64,
}

impl Flip {
    /// The flip points of `region` for `diff` at significance `alpha`, as
    /// [`decide`](crate::decide) decides it.
    pub fn new(diff: &Difference, region: Region, alpha: f64) -> Result<Flip, StatsError> {
        Flip::at_levels(diff, region, alpha, alpha)
    }

    /// The flip points with "holds" decided at `alpha_hold` and "fails" at
    /// `alpha_fail` (the levels Holm gives a check).
    pub fn at_levels(
        diff: &Difference,
        region: Region,
        alpha_hold: f64,
        alpha_fail: f64,
    ) -> Result<Flip, StatsError> {
        let interval = |alpha: f64| {
            crate::error::check_level(alpha)?;
            diff.interval(region.interval_level(alpha))
        };
        let (lo_h, hi_h) = interval(alpha_hold)?;
        let (lo_f, hi_f) = interval(alpha_fail)?;
        Ok(match region {
            Region::Greater(_) => Flip {
                holds: lo_h,
                fails: hi_f,
            },
            Region::Less(_) => Flip {
                holds: hi_h,
                fails: lo_f,
            },
            Region::Within(_) => Flip {
                holds: (-lo_h).max(hi_h),
                fails: lo_f.max(-hi_f),
            },
        })
    }

    /// The decision the check would get with `region`'s bound (the data and
    /// the levels unchanged).
    pub fn decision_at(&self, region: Region) -> Decision {
        let (holds, fails) = match region {
            Region::Greater(b) => (b < self.holds, b >= self.fails),
            Region::Less(b) => (b > self.holds, b <= self.fails),
            Region::Within(b) => (b > self.holds, b <= self.fails),
        };
        if holds {
            Decision::Holds
        } else if fails {
            Decision::Fails
        } else {
            Decision::Undecided
        }
    }

    /// The flip point of the decision at `region`'s bound: `holds` for a
    /// check that holds, `fails` for one that fails, and for an undecided
    /// one whichever is nearer to the bound (`holds` when it never fails).
    pub fn nearest(&self, region: Region) -> f64 {
        let b = region.bound();
        match self.decision_at(region) {
            Decision::Holds => self.holds,
            Decision::Fails => self.fails,
            Decision::Undecided => {
                let never_fails = matches!(region, Region::Within(_)) && self.fails <= 0.0;
                if never_fails || (self.holds - b).abs() <= (self.fails - b).abs() {
                    self.holds
                } else {
                    self.fails
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide;

    fn moved(region: Region, b: f64) -> [Region; 3] {
        [
            region.with_bound(b.next_down()),
            region.with_bound(b),
            region.with_bound(b.next_up()),
        ]
    }

    /// At the flip points and one ulp either side, `decision_at` is `decide`.
    fn agrees_at_the_flips(diff: &Difference, region: Region, alpha: f64) -> Flip {
        let flip = Flip::new(diff, region, alpha).unwrap();
        for b in [flip.holds, flip.fails, region.bound()] {
            for r in moved(region, b) {
                if matches!(r, Region::Within(t) if t <= 0.0) {
                    continue;
                }
                assert_eq!(
                    flip.decision_at(r),
                    decide(diff, r, alpha).unwrap().decision,
                    "{r} {flip:?}"
                );
            }
        }
        flip
    }

    #[test]
    fn a_bound_just_past_the_flip_point_changes_the_decision_and_just_before_not() {
        let d = Difference::paired(&[0.83, 0.85, 0.84, 0.86], &[0.8, 0.81, 0.805, 0.8]).unwrap();
        let g = agrees_at_the_flips(&d, Region::Greater(0.0), 0.05);
        let (lo, hi) = d.interval(0.95).unwrap();
        assert_eq!((g.holds, g.fails), (lo, hi));
        let at = |b: f64| decide(&d, Region::Greater(b), 0.05).unwrap().decision;
        assert_eq!(at(g.holds.next_down()), Decision::Holds);
        assert_eq!(at(g.holds), Decision::Undecided);
        assert_eq!(at(g.fails.next_down()), Decision::Undecided);
        assert_eq!(at(g.fails), Decision::Fails);
        assert_eq!(g.nearest(Region::Greater(0.0)), lo);
        let l = agrees_at_the_flips(&d, Region::Less(0.02), 0.05);
        assert_eq!((l.holds, l.fails), (hi, lo));
        assert_eq!(l.nearest(Region::Less(0.02)), lo, "fails: the other end");
    }

    #[test]
    fn approx_flips_at_the_far_end_of_the_tost_interval_and_fails_at_the_near_end() {
        let d = Difference::one_sample(&[0.031, 0.027, 0.035, 0.03], 0.0).unwrap();
        let w = agrees_at_the_flips(&d, Region::Within(0.02), 0.05);
        let (lo, hi) = d.interval(0.9).unwrap();
        assert!(lo > 0.0);
        assert_eq!((w.holds, w.fails), (hi, lo));
        let at = |b: f64| decide(&d, Region::Within(b), 0.05).unwrap().decision;
        assert_eq!(at(0.02), Decision::Fails);
        assert_eq!(at(w.fails), Decision::Fails);
        assert_eq!(at(w.fails.next_up()), Decision::Undecided);
        assert_eq!(at(w.holds), Decision::Undecided);
        assert_eq!(at(w.holds.next_up()), Decision::Holds);
        // An interval around 0 never fails, whatever the tolerance.
        let z = Difference::one_sample(&[0.01, -0.01, 0.005], 0.0).unwrap();
        let f = agrees_at_the_flips(&z, Region::Within(0.001), 0.05);
        assert!(f.fails <= 0.0);
        assert_eq!(f.nearest(Region::Within(0.001)), f.holds);
    }
}
