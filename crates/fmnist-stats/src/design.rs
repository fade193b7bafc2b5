//! How many seeds a check runs: a seed design whose error rate holds by
//! construction, and the design it replaces, kept to show the difference.
//!
//! [`TwoStage`] (pilot, then confirm on new seeds; Colas et al. 2018 with
//! a stated alpha spending, the simplest group-sequential design):
//!
//! 1. Stage 1, the pilot: the first `pilot_seeds` seeds are tested at
//!    `alpha_pilot` by [`decide`]. Holds or fails: stop there.
//! 2. Otherwise the number of *new* seeds n is the smallest with the
//!    declared power at `alpha − alpha_pilot`, at the effect and spread the
//!    pilot observed ([`seeds_to_decide`]); if more than `max_seeds` would
//!    be needed, stop undecided.
//! 3. Stage 2, the confirmation: the n new seeds alone (the pilot's are not
//!    reused) are tested at `alpha − alpha_pilot`; that is the decision.
//!
//! Why the error rate holds: a false "holds" needs stage 1 to reject its
//! null at `alpha_pilot`, or stage 2 to reject it at `alpha − alpha_pilot`.
//! n depends only on the pilot's values, and stage 2's values are new and
//! independent of them, so given any n stage 2's test has its nominal level.
//! By the union bound the whole procedure's false-"holds" rate is at most
//! `alpha_pilot + (alpha − alpha_pilot) = alpha` on [`decide`]'s scale: a
//! one-sided α/2 for `>` and `<` (0.025 at α = 0.05), α for `approx`. The
//! same holds for a false "fails". `simulate` checks it by Monte Carlo.
//!
//! [`ReusePilot`] is the design `--decide` used before: n chosen from the
//! pilot's effect, then the final test on all n seeds, the pilot's included
//! (capped at `max_seeds` in all). The seeds tested decided how many seeds
//! there are, and that inflates the false-"holds" rate (issue 29 measured
//! 0.047 at a nominal 0.025).

use crate::decide::{Decision, IntervalDecision, Region, decide};
use crate::difference::Difference;
use crate::error::{StatsError, check_level};
use crate::power::{PowerMethod, seeds_to_decide_with};

/// One stage's observed values of a check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed<'a> {
    /// One side's values against a number.
    OneSample { values: &'a [f64], against: f64 },
    /// Both sides on the same seeds, `a[i]` and `b[i]` from seed i.
    Paired { a: &'a [f64], b: &'a [f64] },
    /// Independent samples.
    Welch { a: &'a [f64], b: &'a [f64] },
}

impl Observed<'_> {
    /// The difference `A − B` (or `A − number`) and its test.
    pub fn difference(&self) -> Result<Difference, StatsError> {
        match *self {
            Observed::OneSample { values, against } => Difference::one_sample(values, against),
            Observed::Paired { a, b } => Difference::paired(a, b),
            Observed::Welch { a, b } => Difference::welch(a, b),
        }
    }

    /// Seeds on the left side.
    pub fn seeds(&self) -> usize {
        match self {
            Observed::OneSample { values, .. } => values.len(),
            Observed::Paired { a, .. } | Observed::Welch { a, .. } => a.len(),
        }
    }
}

/// The two-stage design (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoStage {
    /// The total α on [`decide`]'s scale (0.05: one-sided 0.025 for `>`/`<`).
    pub alpha: f64,
    /// The part of α spent on the pilot; the rest goes to stage 2.
    pub alpha_pilot: f64,
    pub pilot_seeds: usize,
    /// The power stage 2's n aims at, at the pilot's effect and spread.
    pub power: f64,
    /// The most new seeds (per side) stage 2 may ask for.
    pub max_seeds: usize,
}

impl TwoStage {
    /// α = 0.05 (the 95% intervals of the report), 0.01 of it on a pilot of
    /// 3 seeds (its 99% interval), 0.04 on stage 2 (its 96% interval);
    /// power 0.8; at most 30 new seeds.
    pub const STANDARD: TwoStage = TwoStage {
        alpha: 0.05,
        alpha_pilot: 0.01,
        pilot_seeds: 3,
        power: 0.8,
        max_seeds: 30,
    };

    /// The α stage 2 is tested at: `alpha − alpha_pilot`.
    pub fn alpha_confirm(&self) -> f64 {
        self.alpha - self.alpha_pilot
    }

    /// The design in words, for the report.
    pub fn describe(&self) -> String {
        format!(
            "two stages with new seeds in the second: the first {p} seeds are tested at \
             α = {a1}; if undecided, the number of new seeds n is the smallest with power \
             {pw} at the effect and spread of those {p} (at most {max}), and the n new seeds \
             alone are tested at α = {a2}; α spent: {a1} + {a2} = {a} (union bound), so the \
             chance of a false \"holds\" is at most {half} for > and < and {a} for approx",
            p = self.pilot_seeds,
            a1 = self.alpha_pilot,
            a2 = self.alpha_confirm(),
            pw = self.power,
            max = self.max_seeds,
            a = self.alpha,
            half = self.alpha / 2.0,
        )
    }

    fn validate(&self) -> Result<(), StatsError> {
        check_level(self.alpha)?;
        check_level(self.alpha_pilot)?;
        check_level(self.alpha_confirm())?;
        check_level(self.power)?;
        if self.pilot_seeds < 2 || self.max_seeds < 2 {
            return Err(StatsError::Invalid {
                what: "two-stage design",
                message: format!(
                    "{} pilot seeds and at most {} new seeds; each needs at least 2",
                    self.pilot_seeds, self.max_seeds
                ),
            });
        }
        Ok(())
    }

    /// Stage 1: the pilot decided at `alpha_pilot`, and how many new seeds
    /// stage 2 needs if it is undecided.
    pub fn pilot(&self, region: Region, pilot: Observed<'_>) -> Result<Pilot, StatsError> {
        self.validate()?;
        let diff = pilot.difference()?;
        let check = decide(&diff, region, self.alpha_pilot)?;
        let new_seeds = match check.decision {
            Decision::Holds | Decision::Fails => None,
            Decision::Undecided => seeds_to_decide_with(
                PowerMethod::NoncentralT,
                region,
                diff.estimate,
                diff.spread,
                self.alpha_confirm(),
                self.power,
                self.max_seeds,
            ),
        };
        Ok(Pilot {
            diff,
            check,
            new_seeds,
        })
    }

    /// The whole design: the pilot, and stage 2's new seeds when the pilot
    /// asked for them (`confirm` must then hold exactly that many seeds per
    /// side, none of the pilot's; it is ignored otherwise).
    pub fn run(
        &self,
        region: Region,
        pilot: Observed<'_>,
        confirm: Option<Observed<'_>>,
    ) -> Result<TwoStageOutcome, StatsError> {
        let stage1 = self.pilot(region, pilot)?;
        self.finish(region, stage1, confirm)
    }

    /// Stage 2 after [`TwoStage::pilot`]: as [`TwoStage::run`], for a
    /// caller that runs the new seeds between the two calls.
    pub fn finish(
        &self,
        region: Region,
        stage1: Pilot,
        confirm: Option<Observed<'_>>,
    ) -> Result<TwoStageOutcome, StatsError> {
        let Some(n) = stage1.new_seeds else {
            return Ok(TwoStageOutcome {
                decision: stage1.check.decision,
                pilot: stage1,
                confirm: None,
            });
        };
        let observed = confirm.ok_or_else(|| missing(n, 0))?;
        if observed.seeds() != n {
            return Err(missing(n, observed.seeds()));
        }
        let diff = observed.difference()?;
        let check = decide(&diff, region, self.alpha_confirm())?;
        Ok(TwoStageOutcome {
            decision: check.decision,
            pilot: stage1,
            confirm: Some((diff, check)),
        })
    }
}

fn missing(planned: usize, got: usize) -> StatsError {
    StatsError::Invalid {
        what: "two-stage design",
        message: format!(
            "stage 2 was planned with {planned} new seeds per side and got {got}; run exactly \
             the planned new seeds (none of the pilot's)"
        ),
    }
}

/// Stage 1 of a [`TwoStage`] design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pilot {
    pub diff: Difference,
    /// Decided at `alpha_pilot`.
    pub check: IntervalDecision,
    /// New seeds per side for stage 2: `None` when the pilot decided, or
    /// when more than `max_seeds` would be needed (the check then stays
    /// undecided).
    pub new_seeds: Option<usize>,
}

/// A [`TwoStage`] design run to its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoStageOutcome {
    pub pilot: Pilot,
    /// Stage 2's difference and check, at `alpha − alpha_pilot`.
    pub confirm: Option<(Difference, IntervalDecision)>,
    /// The design's decision: stage 2's, or the pilot's when it stopped there.
    pub decision: Decision,
}

/// The design `--decide` used before [`TwoStage`], kept to show that it
/// inflates the error rate (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReusePilot {
    pub alpha: f64,
    pub pilot_seeds: usize,
    pub power: f64,
    /// The most seeds in all, the pilot's included (10 in `seeds.toml`).
    pub max_seeds: usize,
    /// The power method it used: [`PowerMethod::ShiftedCentralT`].
    pub method: PowerMethod,
}

impl ReusePilot {
    /// As it ran: α = 0.05, 3 pilot seeds, power 0.8, at most 10 seeds, the
    /// shifted central t.
    pub const AS_RUN: ReusePilot = ReusePilot {
        alpha: 0.05,
        pilot_seeds: 3,
        power: 0.8,
        max_seeds: 10,
        method: PowerMethod::ShiftedCentralT,
    };

    /// Seeds in all after the pilot: the pilot's count when it decided,
    /// else the power estimate at α, capped at `max_seeds` (and at least
    /// the pilot's).
    pub fn total_seeds(&self, region: Region, pilot: &Difference) -> Result<usize, StatsError> {
        let check = decide(pilot, region, self.alpha)?;
        if check.decision != Decision::Undecided {
            return Ok(pilot.n_a);
        }
        let n = seeds_to_decide_with(
            self.method,
            region,
            pilot.estimate,
            pilot.spread,
            self.alpha,
            self.power,
            self.max_seeds,
        );
        Ok(n.unwrap_or(self.max_seeds).max(pilot.n_a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREATER: Region = Region::Greater(0.0);

    #[test]
    fn a_pilot_that_decides_stops_the_design() {
        let d = TwoStage::STANDARD;
        let pilot = Observed::OneSample {
            values: &[0.05, 0.051, 0.049],
            against: 0.0,
        };
        let out = d.run(GREATER, pilot, None).unwrap();
        assert_eq!(out.decision, Decision::Holds);
        assert_eq!(out.pilot.new_seeds, None);
        assert!(
            (out.pilot.check.level - 0.99).abs() < 1e-15,
            "tested at α_pilot"
        );
        assert!(out.confirm.is_none());
    }

    #[test]
    fn an_undecided_pilot_plans_new_seeds_and_only_they_decide() {
        let d = TwoStage::STANDARD;
        let (a, b) = ([0.81, 0.84, 0.83], [0.80, 0.815, 0.82]);
        let pilot = Observed::Paired { a: &a, b: &b };
        let stage1 = d.pilot(GREATER, pilot).unwrap();
        assert_eq!(stage1.check.decision, Decision::Undecided);
        let n = stage1
            .new_seeds
            .expect("a moderate effect asks for a few seeds");
        assert!((2..=30).contains(&n), "{n}");
        // Missing or wrong stage-2 data is an error, not a silent decision.
        assert!(d.run(GREATER, pilot, None).is_err());
        let short = vec![0.9; n - 1];
        let wrong = Observed::Paired {
            a: &short,
            b: &short,
        };
        assert!(d.run(GREATER, pilot, Some(wrong)).is_err());
        // Stage 2's new seeds show no effect: undecided, whatever the pilot.
        let a2: Vec<f64> = (0..n).map(|i| 0.8 + 0.01 * (i % 3) as f64).collect();
        let b2: Vec<f64> = (0..n).map(|i| 0.8 + 0.01 * ((i + 1) % 3) as f64).collect();
        let out = d
            .run(GREATER, pilot, Some(Observed::Paired { a: &a2, b: &b2 }))
            .unwrap();
        let (diff, check) = out.confirm.unwrap();
        assert_eq!((diff.n_a, diff.test), (n, crate::TestKind::Paired));
        assert!((check.level - 0.96).abs() < 1e-15, "tested at α − α_pilot");
        assert_eq!(out.decision, check.decision);
    }

    #[test]
    fn a_pilot_on_the_boundary_stops_undecided_rather_than_run_too_many() {
        let d = TwoStage::STANDARD;
        let pilot = Observed::OneSample {
            values: &[0.01, -0.01, 0.0],
            against: 0.0,
        };
        let out = d.run(GREATER, pilot, None).unwrap();
        assert_eq!(
            (out.decision, out.pilot.new_seeds),
            (Decision::Undecided, None)
        );
    }

    #[test]
    fn the_old_design_reuses_the_pilot_and_caps_the_total() {
        let old = ReusePilot::AS_RUN;
        let decided = Difference::one_sample(&[0.05, 0.051, 0.049], 0.0).unwrap();
        assert_eq!(old.total_seeds(GREATER, &decided).unwrap(), 3);
        let boundary = Difference::one_sample(&[0.01, -0.01, 0.0], 0.0).unwrap();
        assert_eq!(old.total_seeds(GREATER, &boundary).unwrap(), 10);
    }

    #[test]
    fn bad_designs_are_errors_and_the_description_states_the_spending() {
        let mut d = TwoStage::STANDARD;
        let text = d.describe();
        assert!(text.contains("0.01 + 0.04 = 0.05"), "{text}");
        d.alpha_pilot = 0.05;
        let pilot = Observed::OneSample {
            values: &[0.1, 0.2, 0.3],
            against: 0.0,
        };
        assert!(d.pilot(GREATER, pilot).is_err(), "nothing left for stage 2");
    }
}
