//! One stage of a check's test: which seeds it uses, which test it runs on
//! them, and its decision at the stage's α. The test named is the test run:
//! a number on the right is a one-sample t of the left side's values; two
//! sides measured on the same seeds are paired by seed (the seed fixes the
//! initialisation and the batch order, so a pair shares its luck), using
//! exactly the seeds both ran; Welch's t only when they share fewer than
//! two seeds, and the stage says so.
//!
//! Under the two-stage design (`design`) a check has a pilot stage (the
//! pilot seeds, at `alpha_pilot`) and, when its experiments were given new
//! seeds, a confirmation stage on the new seeds alone (at `alpha −
//! alpha_pilot`), run only once every planned new seed is stored: deciding
//! on part of them would let the decision depend on when the report was
//! written.

use std::collections::BTreeSet;

use fmnist_stats::{Decision, Difference, IntervalDecision, Observed, Region, TwoStage};

use crate::design::{Design, Stages};
use crate::inference::{MAX_SEEDS_ESTIMATE, Statistics};

/// The right side of a check, per seed or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Right {
    Number(f64),
    Values(Vec<(u64, f64)>),
}

/// Which stage of the design a [`Stage`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// No design recorded: every seed, tested once at α.
    Single,
    /// The pilot seeds at `alpha_pilot`.
    Pilot,
    /// The new seeds alone at `alpha − alpha_pilot`.
    Confirm,
}

impl StageKind {
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Single => "all seeds",
            StageKind::Pilot => "pilot",
            StageKind::Confirm => "confirmation",
        }
    }
}

/// The values a stage tests, owned (`fmnist_stats::Observed` borrows them).
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    OneSample { values: Vec<f64>, against: f64 },
    Paired { a: Vec<f64>, b: Vec<f64> },
    Welch { a: Vec<f64>, b: Vec<f64> },
}

impl Sample {
    pub fn observed(&self) -> Observed<'_> {
        match self {
            Sample::OneSample { values, against } => Observed::OneSample {
                values,
                against: *against,
            },
            Sample::Paired { a, b } => Observed::Paired { a, b },
            Sample::Welch { a, b } => Observed::Welch { a, b },
        }
    }
}

/// One stage of a check's test.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub kind: StageKind,
    /// The seeds tested: the pairs, or the left side's seeds of a
    /// one-sample or Welch test.
    pub seeds: Vec<u64>,
    pub sample: Sample,
    pub diff: Difference,
    /// The stage's significance level on `decide`'s scale.
    pub alpha: f64,
    /// The stage decided on its own at `alpha`.
    pub check: IntervalDecision,
    /// Why a check of two sides is not paired (Welch's t), in words.
    pub unpaired: Option<String>,
}

impl Stage {
    /// The test and its sample sizes, and why it is not paired where it is
    /// not: "paired t, 7 pairs", "Welch's t, n = 3 and 2 (the sides share
    /// 1 seed: cannot be paired)".
    pub fn describe(&self) -> String {
        match &self.unpaired {
            Some(why) => format!("{} ({why})", self.diff.describe()),
            None => self.diff.describe(),
        }
    }
}

fn restrict(side: &[(u64, f64)], allowed: Option<&BTreeSet<u64>>) -> Vec<(u64, f64)> {
    side.iter()
        .filter(|(s, _)| allowed.is_none_or(|a| a.contains(s)))
        .copied()
        .collect()
}

fn too_few(e: fmnist_stats::StatsError) -> String {
    match e {
        fmnist_stats::StatsError::TooFew { got, .. } => {
            format!("only {got} seed on a side, and an interval needs at least 2")
        }
        e => e.to_string(),
    }
}

/// The stage of `kind` on the seeds of `allowed` (all when `None`).
fn build(
    kind: StageKind,
    left: &[(u64, f64)],
    right: &Right,
    allowed: Option<&BTreeSet<u64>>,
    region: Region,
    alpha: f64,
) -> Result<Stage, String> {
    let left = restrict(left, allowed);
    let values = |s: &[(u64, f64)]| s.iter().map(|p| p.1).collect::<Vec<f64>>();
    let seeds = |s: &[(u64, f64)]| s.iter().map(|p| p.0).collect::<Vec<u64>>();
    let (sample, tested, unpaired) = match right {
        Right::Number(c) => (
            Sample::OneSample {
                values: values(&left),
                against: *c,
            },
            seeds(&left),
            None,
        ),
        Right::Values(r) => {
            let r = restrict(r, allowed);
            let shared: Vec<(u64, f64, f64)> = left
                .iter()
                .filter_map(|&(s, a)| r.iter().find(|p| p.0 == s).map(|p| (s, a, p.1)))
                .collect();
            if shared.len() >= 2 {
                let sample = Sample::Paired {
                    a: shared.iter().map(|p| p.1).collect(),
                    b: shared.iter().map(|p| p.2).collect(),
                };
                (sample, shared.iter().map(|p| p.0).collect(), None)
            } else if left.len() >= 2 && r.len() >= 2 {
                let why = format!(
                    "the sides share {} seed{}: cannot be paired",
                    shared.len(),
                    if shared.len() == 1 { "" } else { "s" }
                );
                let sample = Sample::Welch {
                    a: values(&left),
                    b: values(&r),
                };
                (sample, seeds(&left), Some(why))
            } else {
                let got = left.len().min(r.len());
                return Err(format!(
                    "only {got} seed on a side, and an interval needs at least 2"
                ));
            }
        }
    };
    let diff = sample.observed().difference().map_err(too_few)?;
    let check = fmnist_stats::decide(&diff, region, alpha).map_err(|e| e.to_string())?;
    Ok(Stage {
        kind,
        seeds: tested,
        sample,
        diff,
        alpha,
        check,
        unpaired,
    })
}

/// A check's stages, before the claim's checks are decided together.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub region: Region,
    /// The pilot, or the only stage.
    pub first: Stage,
    /// The confirmation, when its new seeds are all stored.
    pub confirm: Option<Stage>,
    /// Why there is no confirmation where the pilot left the check
    /// undecided: no new seeds planned, or not all stored yet.
    pub confirm_note: Option<String>,
    /// What an undecided first stage asks for: new seeds per side (the
    /// design's power analysis) or seeds per experiment (no design);
    /// `Err(())` when no number up to the cap would do.
    pub seeds_needed: Option<Result<usize, ()>>,
}

/// The seeds every experiment of `experiments` is planned to run.
fn planned_of<'e>(stages: &Stages, experiments: impl Iterator<Item = &'e str>) -> BTreeSet<u64> {
    let mut out: Option<BTreeSet<u64>> = None;
    for e in experiments {
        let these = stages.planned.get(e).cloned().unwrap_or_default();
        out = Some(match out {
            None => these,
            Some(s) => s.intersection(&these).copied().collect(),
        });
    }
    out.unwrap_or_default()
}

/// The stages of a check with `left` and `right` per seed, as `design` says.
pub fn prepare(
    check: &crate::grammar::Check,
    left: &[(u64, f64)],
    right: &Right,
    design: &Design,
    stats: Statistics,
) -> Result<Prepared, String> {
    let region = check.region();
    match design {
        Design::Single => {
            let first = build(StageKind::Single, left, right, None, region, stats.alpha())?;
            let seeds_needed = (first.check.decision == Decision::Undecided).then(|| {
                fmnist_stats::seeds_to_decide(
                    region,
                    first.diff.estimate,
                    first.diff.spread,
                    stats.alpha(),
                    stats.power,
                    MAX_SEEDS_ESTIMATE,
                )
                .ok_or(())
            });
            Ok(Prepared {
                region,
                first,
                confirm: None,
                confirm_note: None,
                seeds_needed,
            })
        }
        Design::TwoStage(stages) => two_stage(check, left, right, stages),
    }
}

fn two_stage(
    check: &crate::grammar::Check,
    left: &[(u64, f64)],
    right: &Right,
    stages: &Stages,
) -> Result<Prepared, String> {
    let d: &TwoStage = &stages.design;
    let region = check.region();
    let first = build(
        StageKind::Pilot,
        left,
        right,
        Some(&stages.pilot),
        region,
        d.alpha_pilot,
    )?;
    let seeds_needed = (first.check.decision == Decision::Undecided)
        .then(|| {
            d.pilot(region, first.sample.observed())
                .map(|p| p.new_seeds.ok_or(()))
        })
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut planned = planned_of(stages, check.left.terms().map(|t| t.experiment.as_str()));
    if let crate::grammar::Operand::Expr(e) = &check.right {
        let r = planned_of(stages, e.terms().map(|t| t.experiment.as_str()));
        planned = planned.intersection(&r).copied().collect();
    }
    let new: BTreeSet<u64> = planned.difference(&stages.pilot).copied().collect();
    let stored = |s: &u64| {
        left.iter().any(|p| p.0 == *s)
            && match right {
                Right::Number(_) => true,
                Right::Values(r) => r.iter().any(|p| p.0 == *s),
            }
    };
    let have = new.iter().filter(|s| stored(s)).count();
    let (confirm, confirm_note) = if new.is_empty() {
        (
            None,
            Some("no new seeds are planned for its experiments".to_string()),
        )
    } else if have < new.len() {
        let note = format!(
            "{have} of the {} planned new seeds are stored: the confirmation waits for all of them",
            new.len()
        );
        (None, Some(note))
    } else {
        match build(
            StageKind::Confirm,
            left,
            right,
            Some(&new),
            region,
            d.alpha_confirm(),
        ) {
            Ok(s) => (Some(s), None),
            Err(e) => (
                None,
                Some(format!("the confirmation cannot be tested: {e}")),
            ),
        }
    };
    Ok(Prepared {
        region,
        first,
        confirm,
        confirm_note,
        seeds_needed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_stats::TestKind;

    const GT: Region = Region::Greater(0.0);

    #[test]
    fn a_number_is_one_sample_the_same_seeds_pair_and_too_few_shared_seeds_are_welch() {
        let a = [(0, 0.80), (1, 0.82), (2, 0.81), (5, 0.83)];
        let one = build(StageKind::Single, &a, &Right::Number(0.8), None, GT, 0.05).unwrap();
        assert_eq!(
            (one.diff.test, one.diff.n_a, one.diff.n_b),
            (TestKind::OneSample, 4, 0)
        );
        assert_eq!(one.describe(), "one-sample t, n = 4");
        // Only the seeds both ran are paired: seed 5 has no partner.
        let b = Right::Values(vec![(0, 0.70), (1, 0.73), (2, 0.71), (7, 0.7)]);
        let p = build(StageKind::Single, &a, &b, None, GT, 0.05).unwrap();
        assert_eq!(
            (p.diff.test, p.seeds.clone()),
            (TestKind::Paired, vec![0, 1, 2])
        );
        let want = Difference::paired(&[0.80, 0.82, 0.81], &[0.70, 0.73, 0.71]).unwrap();
        assert_eq!(p.diff, want);
        // One shared seed: Welch on every seed of each side, and it says why.
        let c = Right::Values(vec![(0, 0.70), (8, 0.73), (9, 0.71)]);
        let w = build(StageKind::Single, &a, &c, None, GT, 0.05).unwrap();
        assert_eq!(w.diff.test, TestKind::Welch);
        assert_eq!(
            w.describe(),
            "Welch's t, n = 4 and 3 (the sides share 1 seed: cannot be paired)"
        );
        // A stage restricted to some seeds tests only those.
        let pilot: BTreeSet<u64> = [0, 1, 2].into();
        let s = build(StageKind::Pilot, &a, &b, Some(&pilot), GT, 0.01).unwrap();
        assert_eq!((s.diff.n_a, s.check.level), (3, 0.99));
        let e = build(
            StageKind::Single,
            &a[..1],
            &Right::Number(0.8),
            None,
            GT,
            0.05,
        );
        assert!(e.unwrap_err().contains("only 1 seed"));
    }
}
