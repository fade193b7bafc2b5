//! A family of checks (for example one claim's checks) decided together,
//! raw and with Holm's correction, with the flip points of both.
//!
//! Every decision is a rejection: "holds" rejects the hypothesis that the
//! check does not hold ([`alpha_to_hold`]) and "fails" rejects the
//! hypothesis that it holds ([`alpha_to_fail`]). Holm's procedure is applied
//! over the family to each kind separately, at the family-wise α: so the
//! chance that any check of the family is declared to hold when it does not
//! is at most α/2 for `>`/`<` checks and α for `approx` checks ("holds"
//! p-values on the α scale are conservative for `>`/`<`: twice the
//! one-sided p-value), and the same for "fails". A check's adjusted decision
//! is then the interval rule of [`decide`] at the level Holm gives it,
//! [`HolmStep::level`]: it holds after adjustment when its (1 − level) or
//! (1 − 2 level) interval lies inside the region, which is when its
//! `alpha_to_hold` is below that level. That level is the exact one with the
//! other checks fixed, so the adjusted flip points ([`Flip::at_levels`]) are
//! exact in the same sense.
//!
//! The two Holm families cannot both reject one check: a check holds and
//! fails only if its estimate lies both inside and outside the region.

use crate::decide::{Decision, IntervalDecision, Region, alpha_to_fail, alpha_to_hold, decide};
use crate::difference::Difference;
use crate::error::StatsError;
use crate::flip::Flip;
use crate::holm::{HolmStep, holm};

/// One check of a family, decided raw and after Holm's correction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FamilyCheck {
    /// The check decided on its own at α.
    pub raw: IntervalDecision,
    /// The decision after Holm's correction over the family.
    pub adjusted: Decision,
    /// Its place in Holm's procedure over the family's `alpha_to_hold`.
    pub hold: HolmStep,
    /// Its place in Holm's procedure over the family's `alpha_to_fail`.
    pub fail: HolmStep,
    /// The bounds at which the raw decision changes.
    pub flip: Flip,
    /// The bounds at which the adjusted decision changes (the other checks
    /// unchanged): "holds" at `hold.level`, "fails" at `fail.level`.
    pub flip_adjusted: Flip,
}

/// Decides each `(difference, region)` of a family at `alpha`, raw and with
/// Holm's correction (see the module's documentation), in input order.
pub fn decide_family(
    checks: &[(Difference, Region)],
    alpha: f64,
) -> Result<Vec<FamilyCheck>, StatsError> {
    let to_hold: Vec<f64> = checks.iter().map(|(d, r)| alpha_to_hold(d, *r)).collect();
    let to_fail: Vec<f64> = checks.iter().map(|(d, r)| alpha_to_fail(d, *r)).collect();
    let hold = holm(&to_hold, alpha)?;
    let fail = holm(&to_fail, alpha)?;
    checks
        .iter()
        .zip(hold.into_iter().zip(fail))
        .map(|(&(diff, region), (hold, fail))| {
            let adjusted = if decide(&diff, region, hold.level)?.decision == Decision::Holds {
                Decision::Holds
            } else if decide(&diff, region, fail.level)?.decision == Decision::Fails {
                Decision::Fails
            } else {
                Decision::Undecided
            };
            Ok(FamilyCheck {
                raw: decide(&diff, region, alpha)?,
                adjusted,
                hold,
                fail,
                flip: Flip::new(&diff, region, alpha)?,
                flip_adjusted: Flip::at_levels(&diff, region, hold.level, fail.level)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family() -> Vec<(Difference, Region)> {
        let d = |a: &[f64], b: &[f64]| Difference::paired(a, b).unwrap();
        let one = |a: &[f64], c: f64| Difference::one_sample(a, c).unwrap();
        vec![
            // Clearly holds.
            (
                d(&[0.9, 0.91, 0.92, 0.905], &[0.8, 0.81, 0.8, 0.79]),
                Region::Greater(0.05),
            ),
            // Holds raw, narrowly.
            (
                one(&[0.8, 0.83, 0.79, 0.84, 0.81], 0.785),
                Region::Greater(0.0),
            ),
            // Equivalence, holds raw.
            (
                one(&[0.001, -0.002, 0.0015, 0.0, 0.0005], 0.0),
                Region::Within(0.004),
            ),
            // Clearly fails.
            (one(&[0.5, 0.52, 0.51], 0.8), Region::Greater(0.0)),
        ]
    }

    #[test]
    fn holm_turns_a_narrow_holds_undecided_and_never_adds_a_decision() {
        let checks = family();
        let out = decide_family(&checks, 0.05).unwrap();
        let raw: Vec<Decision> = out.iter().map(|c| c.raw.decision).collect();
        let adj: Vec<Decision> = out.iter().map(|c| c.adjusted).collect();
        use Decision::*;
        assert_eq!(raw, [Holds, Holds, Holds, Fails]);
        assert_eq!(adj, [Holds, Undecided, Holds, Fails]);
        for c in &out {
            assert!(c.hold.level <= 0.05 && c.fail.level <= 0.05);
            assert_eq!(c.adjusted == Holds, c.hold.rejected, "{c:?}");
            assert_eq!(c.adjusted == Fails, c.fail.rejected, "{c:?}");
        }
    }

    #[test]
    fn the_adjusted_decision_flips_exactly_at_its_flip_point() {
        let checks = family();
        let out = decide_family(&checks, 0.05).unwrap();
        for (i, c) in out.iter().enumerate() {
            let region = checks[i].1;
            for b in [c.flip_adjusted.holds, c.flip_adjusted.fails] {
                for b in [b.next_down(), b, b.next_up()] {
                    if matches!(region, Region::Within(_)) && b <= 0.0 {
                        continue;
                    }
                    let mut moved = checks.clone();
                    moved[i].1 = region.with_bound(b);
                    let got = decide_family(&moved, 0.05).unwrap()[i];
                    assert_eq!(
                        got.adjusted,
                        c.flip_adjusted.decision_at(moved[i].1),
                        "{i} {b}"
                    );
                    assert_eq!(got.raw.decision, c.flip.decision_at(moved[i].1), "{i} {b}");
                }
            }
        }
        // The narrow one: undecided after adjustment, it would hold with a
        // margin just below its adjusted flip point and not at it.
        let f = out[1].flip_adjusted;
        let at = |b: f64| {
            let mut moved = checks.clone();
            moved[1].1 = Region::Greater(b);
            decide_family(&moved, 0.05).unwrap()[1].adjusted
        };
        assert_eq!(at(f.holds.next_down()), Decision::Holds);
        assert_eq!(at(f.holds), Decision::Undecided);
        assert!(f.holds < 0.0 && out[1].flip.holds > 0.0);
    }

    #[test]
    fn a_family_of_one_is_decided_as_on_its_own() {
        for (diff, region) in family() {
            let one = decide_family(&[(diff, region)], 0.05).unwrap()[0];
            assert_eq!(one.adjusted, one.raw.decision);
            assert_eq!(one.flip_adjusted, one.flip);
            assert_eq!((one.hold.level, one.fail.level), (0.05, 0.05));
        }
        assert!(decide_family(&[], 0.05).unwrap().is_empty());
    }
}
