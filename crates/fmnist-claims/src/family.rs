//! A claim's checks decided together: each check by the seed design's rule
//! (the first stage at its α; where it leaves the check undecided, the
//! confirmation at its own), then Holm's correction over the claim's checks
//! at the family-wise α, with the bounds at which each decision flips.
//!
//! Holm's procedure needs one p-value per check and per kind of decision.
//! A check of two stages at `α₁` and `α₂ = α − α₁` has, on `decide`'s α
//! scale (`alpha_to_hold`, `alpha_to_fail`), the p-value
//! `q = min(1, p₁·α/α₁, p₂·α/α₂)` (the second only where the confirmation
//! exists): by the union bound `P(q <= u) <= u·α₁/α + u·α₂/α = u` under the
//! null, for any number of new seeds fixed by the pilots alone; with one
//! stage at α it is `fmnist_stats::decide_family`'s p-value, unchanged.
//!
//! Holm's procedure (`fmnist_stats::holm`, run separately on "holds" and on
//! "fails" as `decide_family` does) gives each check the level `L` at which
//! it is rejected, the others fixed. The adjusted decision holds when the
//! design's rule holds both at α (the raw decision) and at the level `L`
//! (the first stage at `L·α₁/α`, where undecided there the confirmation at
//! `L·α₂/α`); likewise "fails". It implies `q <= L`, so every adjusted
//! decision is one Holm's procedure makes on `q`: the chance of any false
//! "holds" among a claim's checks (and of any false "fails") stays within
//! the family-wise α, and the correction never adds a decision.
//!
//! Flip points: the rule "stage 1 at its level, else stage 2 at its own" is
//! again an interval rule in the bound (`combine`), so a decision, raw or
//! adjusted, has a bound where "holds" starts or stops and one where
//! "fails" does (`fmnist_stats::Flip`, on the region's scale), exact with
//! the data and the other checks fixed.

use fmnist_stats::{
    Decision, Difference, Flip, HolmStep, Region, StatsError, alpha_to_fail, alpha_to_hold, holm,
};

/// A check's tests: the first stage's difference and α, and the
/// confirmation's where it exists.
#[derive(Debug, Clone, Copy)]
pub struct Staged<'a> {
    pub region: Region,
    pub first: (&'a Difference, f64),
    pub confirm: Option<(&'a Difference, f64)>,
}

/// A check decided within its family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decided {
    /// The design's p-value of "holds" on the α scale (see the module).
    pub p_hold: f64,
    /// The same for "fails".
    pub p_fail: f64,
    /// Its place in Holm's procedure over the family's `p_hold`.
    pub hold: HolmStep,
    /// Its place in Holm's procedure over the family's `p_fail`.
    pub fail: HolmStep,
    /// The design's decision at α, the check on its own.
    pub raw: Decision,
    /// After Holm's correction.
    pub adjusted: Decision,
    /// Where the raw decision flips, on the region's scale.
    pub flip: Flip,
    /// Where the adjusted decision flips, the other checks fixed.
    pub flip_adjusted: Flip,
}

/// `x · to / from`, exactly `x` when `to == from` and exactly `to` when
/// `x == from` (a stage at the whole α, or the raw level): no rounding moves
/// a decision made at α.
fn rescale(x: f64, from: f64, to: f64) -> f64 {
    if to == from {
        x
    } else if x == from {
        to
    } else {
        x * to / from
    }
}

/// The design's p-value of a check on the α scale: `p` of each stage
/// scaled by α over the stage's α, the smaller.
fn design_p(s: &Staged<'_>, alpha: f64, p: fn(&Difference, Region) -> f64) -> f64 {
    let scaled = |(d, a): (&Difference, f64)| rescale(p(d, s.region), a, alpha);
    let first = scaled(s.first);
    s.confirm.map_or(first, |c| first.min(scaled(c))).min(1.0)
}

/// The rule "first stage, where undecided the confirmation" as one flip:
/// the first stage's `p`, the confirmation's `c` (see the module).
fn combine(region: Region, p: Flip, c: Option<Flip>) -> Flip {
    let Some(c) = c else { return p };
    match region {
        // Holds for a bound below `holds`, fails at or above `fails`.
        Region::Greater(_) => Flip {
            holds: p.holds.max(p.fails.min(c.holds)),
            fails: p.fails.min(p.holds.max(c.fails)),
        },
        // Holds for a bound above `holds`, fails at or below `fails`.
        Region::Less(_) | Region::Within(_) => Flip {
            holds: p.holds.min(p.fails.max(c.holds)),
            fails: p.fails.max(p.holds.min(c.fails)),
        },
    }
}

/// Both rules at once: holds where both hold, fails where both fail.
fn intersect(region: Region, a: Flip, b: Flip) -> Flip {
    match region {
        Region::Greater(_) => Flip {
            holds: a.holds.min(b.holds),
            fails: a.fails.max(b.fails),
        },
        Region::Less(_) | Region::Within(_) => Flip {
            holds: a.holds.max(b.holds),
            fails: a.fails.min(b.fails),
        },
    }
}

/// The design's flip points with "holds" decided at family level `hold`
/// and "fails" at `fail` (each stage at its share of that level).
fn design_flip(s: &Staged<'_>, alpha: f64, hold: f64, fail: f64) -> Result<Flip, StatsError> {
    let at = |level: f64| -> Result<Flip, StatsError> {
        let stage = |(d, a): (&Difference, f64)| {
            let l = rescale(level, alpha, a);
            Flip::at_levels(d, s.region, l, l)
        };
        let confirm = s.confirm.map(stage).transpose()?;
        Ok(combine(s.region, stage(s.first)?, confirm))
    };
    Ok(Flip {
        holds: at(hold)?.holds,
        fails: at(fail)?.fails,
    })
}

/// Decides a family: each check that could be tested (`Some`), raw and
/// after Holm's correction at family-wise `alpha`; a check that could not
/// be tested counts in the family with p-values of 1.
pub fn decide(
    checks: &[Option<Staged<'_>>],
    alpha: f64,
) -> Result<Vec<Option<Decided>>, StatsError> {
    let p = |f: fn(&Difference, Region) -> f64| -> Vec<f64> {
        checks
            .iter()
            .map(|c| c.as_ref().map_or(1.0, |s| design_p(s, alpha, f)))
            .collect()
    };
    let (p_hold, p_fail) = (p(alpha_to_hold), p(alpha_to_fail));
    let hold = holm(&p_hold, alpha)?;
    let fail = holm(&p_fail, alpha)?;
    checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let Some(s) = c else { return Ok(None) };
            let flip = design_flip(s, alpha, alpha, alpha)?;
            let level = design_flip(s, alpha, hold[i].level, fail[i].level)?;
            let flip_adjusted = intersect(s.region, flip, level);
            Ok(Some(Decided {
                p_hold: p_hold[i],
                p_fail: p_fail[i],
                hold: hold[i],
                fail: fail[i],
                raw: flip.decision_at(s.region),
                adjusted: flip_adjusted.decision_at(s.region),
                flip,
                flip_adjusted,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_stats::{Observed, TwoStage, decide_family};

    fn paired(a: &[f64], b: &[f64]) -> Difference {
        Difference::paired(a, b).unwrap()
    }

    fn one(a: &[f64], c: f64) -> Difference {
        Difference::one_sample(a, c).unwrap()
    }

    /// The family of `fmnist_stats::decide_family`'s own test: clear,
    /// narrow, equivalent and failing.
    fn family() -> Vec<(Difference, Region)> {
        vec![
            (
                paired(&[0.9, 0.91, 0.92, 0.905], &[0.8, 0.81, 0.8, 0.79]),
                Region::Greater(0.05),
            ),
            (
                one(&[0.8, 0.83, 0.79, 0.84, 0.81], 0.785),
                Region::Greater(0.0),
            ),
            (
                one(&[0.001, -0.002, 0.0015, 0.0, 0.0005], 0.0),
                Region::Within(0.004),
            ),
            (one(&[0.5, 0.52, 0.51], 0.8), Region::Greater(0.0)),
            (one(&[0.031, 0.027, 0.035, 0.03], 0.0), Region::Less(0.02)),
        ]
    }

    fn single(f: &[(Difference, Region)], alpha: f64) -> Vec<Option<Staged<'_>>> {
        f.iter()
            .map(|(d, r)| {
                Some(Staged {
                    region: *r,
                    first: (d, alpha),
                    confirm: None,
                })
            })
            .collect()
    }

    #[test]
    fn one_stage_at_alpha_is_decide_family() {
        let f = family();
        for alpha in [0.05, 0.1] {
            let want = decide_family(&f, alpha).unwrap();
            let got = decide(&single(&f, alpha), alpha).unwrap();
            for (w, g) in want.iter().zip(&got) {
                let g = g.unwrap();
                assert_eq!((g.raw, g.adjusted), (w.raw.decision, w.adjusted), "{w:?}");
                assert_eq!((g.hold, g.fail), (w.hold, w.fail));
                assert_eq!(g.flip, w.flip);
                // decide_family's adjusted flips are those at Holm's levels;
                // here they are also bounded by the raw ones, which Holm's
                // levels (at most α) never loosen.
                assert_eq!(g.flip_adjusted, w.flip_adjusted, "{w:?}");
            }
        }
    }

    #[test]
    fn a_family_all_at_one_stage_level_is_decide_family_at_that_level_scaled() {
        // Every check on its pilot at α₁ = 0.01: the p-values are scaled
        // by α/α₁ and Holm runs at α, which is Holm at α₁ on the raw ones.
        let f = family();
        let got = decide(&single(&f, 0.01), 0.05).unwrap();
        let want = decide_family(&f, 0.01).unwrap();
        for (w, g) in want.iter().zip(&got) {
            let g = g.unwrap();
            assert_eq!((g.raw, g.adjusted), (w.raw.decision, w.adjusted));
            assert_eq!(g.flip, w.flip);
            assert_eq!(g.hold.rejected, w.hold.rejected);
            assert!((g.hold.adjusted - (w.hold.adjusted * 5.0).min(1.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn two_stages_decide_as_the_design_and_flip_exactly() {
        let d = TwoStage::STANDARD;
        // An undecided pilot (99% interval) and a confirmation of 6 new seeds.
        let (pa, pb) = ([0.81, 0.84, 0.83], [0.80, 0.815, 0.82]);
        let (ca, cb) = (
            [0.82, 0.835, 0.83, 0.84, 0.825, 0.83],
            [0.81, 0.82, 0.815, 0.82, 0.815, 0.812],
        );
        let (p1, c1) = (paired(&pa, &pb), paired(&ca, &cb));
        for region in [
            Region::Greater(0.0),
            Region::Greater(0.012),
            Region::Less(0.02),
            Region::Within(0.02),
        ] {
            let staged = |r: Region| Staged {
                region: r,
                first: (&p1, d.alpha_pilot),
                confirm: Some((&c1, d.alpha_confirm())),
            };
            let got = decide(&[Some(staged(region))], d.alpha).unwrap()[0].unwrap();
            // A family of one: the design's own decision, which TwoStage
            // (the statistics crate's) gives.
            let pilot = d
                .pilot(region, Observed::Paired { a: &pa, b: &pb })
                .unwrap();
            let want = if pilot.check.decision == Decision::Undecided {
                fmnist_stats::decide(&c1, region, d.alpha_confirm())
                    .unwrap()
                    .decision
            } else {
                pilot.check.decision
            };
            assert_eq!((got.raw, got.adjusted), (want, want), "{region}");
            // At each flip point and one ulp either side, the decision is
            // that of the design run again with the bound moved.
            for b in [got.flip.holds, got.flip.fails] {
                for b in [b.next_down(), b, b.next_up()] {
                    if matches!(region, Region::Within(_)) && b <= 0.0 {
                        continue;
                    }
                    let r = region.with_bound(b);
                    let again = decide(&[Some(staged(r))], d.alpha).unwrap()[0].unwrap();
                    let direct = match fmnist_stats::decide(&p1, r, d.alpha_pilot)
                        .unwrap()
                        .decision
                    {
                        Decision::Undecided => {
                            fmnist_stats::decide(&c1, r, d.alpha_confirm())
                                .unwrap()
                                .decision
                        }
                        decided => decided,
                    };
                    assert_eq!(got.flip.decision_at(r), direct, "{region} at {b}");
                    assert_eq!(again.raw, direct, "{region} at {b}");
                }
            }
        }
    }

    #[test]
    fn holm_only_removes_decisions_and_the_adjusted_flip_is_exact() {
        let f = family();
        let d = TwoStage::STANDARD;
        let confirm = one(&[0.8, 0.82, 0.81, 0.83, 0.8, 0.815], 0.785);
        let mut checks = single(&f, d.alpha_pilot);
        checks[1] = Some(Staged {
            region: f[1].1,
            first: (&f[1].0, d.alpha_pilot),
            confirm: Some((&confirm, d.alpha_confirm())),
        });
        let out = decide(&checks, d.alpha).unwrap();
        for (i, o) in out.iter().enumerate() {
            let o = o.unwrap();
            assert!(
                o.adjusted == Decision::Undecided || o.adjusted == o.raw,
                "{i}"
            );
            assert!(
                o.adjusted != Decision::Holds || o.p_hold <= o.hold.level,
                "{i}"
            );
            for b in [o.flip_adjusted.holds, o.flip_adjusted.fails] {
                for b in [b.next_down(), b, b.next_up()] {
                    let region = checks[i].unwrap().region;
                    if matches!(region, Region::Within(_)) && b <= 0.0 {
                        continue;
                    }
                    let mut moved = checks.clone();
                    moved[i] = moved[i].map(|s| Staged {
                        region: region.with_bound(b),
                        ..s
                    });
                    let again = decide(&moved, d.alpha).unwrap()[i].unwrap();
                    assert_eq!(
                        again.adjusted,
                        o.flip_adjusted.decision_at(region.with_bound(b))
                    );
                }
            }
        }
        // An untested check counts in the family: the others' thresholds tighten.
        let mut with_none = single(&f, 0.05);
        with_none.push(None);
        let a = decide(&single(&f, 0.05), 0.05).unwrap();
        let b = decide(&with_none, 0.05).unwrap();
        assert!(b[5].is_none());
        assert!(b[1].unwrap().hold.level <= a[1].unwrap().hold.level);
    }
}
