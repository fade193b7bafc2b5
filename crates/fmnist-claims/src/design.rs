//! The seed design the checks are tested under: none (every seed, once, at
//! α) or the two-stage design `reproduce --decide` records in
//! `experiments/claims/seeds.toml` (`fmnist_stats::TwoStage`: the pilot
//! seeds at `alpha_pilot`; for a check the pilot leaves undecided, the new
//! seeds alone at `alpha − alpha_pilot`; a pilot decision stands).
//!
//! Its error rate is shown, not asserted: [`false_holds`] is the rate of a
//! false "holds" that `fmnist_stats::simulate_false_holds` measures for the
//! design under the null at the boundary, quoted from a constant that a
//! test of this module recomputes when the design is the standard one
//! (20,000 simulations take seconds, too long for every report), simulated
//! when the report is written otherwise.

use std::collections::{BTreeMap, BTreeSet};

use fmnist_experiments::{Experiment, SeedsDesign};
use fmnist_stats::{
    NullCase, Region, SIMULATION_SEED, SIMULATIONS, SeedDesign, SimulatedRate, TestKind, TwoStage,
    simulate_false_holds,
};

/// The `kind` of the two-stage design in the seeds file.
pub const TWO_STAGE: &str = "two-stage";

/// How the checks are tested over seeds.
#[derive(Debug, Clone, PartialEq)]
pub enum Design {
    /// No design recorded: every check is tested once, on the seeds its
    /// sides ran, at the claims file's α.
    Single,
    /// The pilot, then the new seeds only.
    TwoStage(Stages),
}

/// The two-stage design with its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    pub design: TwoStage,
    /// The pilot's seeds: those the experiment files list.
    pub pilot: BTreeSet<u64>,
    /// The seeds each experiment runs: its file's and those decided.
    pub planned: BTreeMap<String, BTreeSet<u64>>,
}

impl Design {
    /// The design `record` describes, for `experiments` (the decided seeds
    /// applied), checked against the claims file's `alpha`.
    pub fn from_record(
        record: &SeedsDesign,
        experiments: &[Experiment],
        alpha: f64,
    ) -> Result<Design, String> {
        if record.kind != TWO_STAGE {
            return Err(format!(
                "[design] kind `{}` is unknown; the seeds file records `{TWO_STAGE}` (delete the \
                 file and run `reproduce --decide` again)",
                record.kind
            ));
        }
        if (record.alpha - alpha).abs() > 1e-12 {
            return Err(format!(
                "[design] alpha = {} but the claims file tests at alpha = {alpha}: the seeds \
                 were chosen for another level (delete the file and decide again)",
                record.alpha
            ));
        }
        let design = TwoStage {
            alpha: record.alpha,
            alpha_pilot: record.alpha_pilot,
            pilot_seeds: record.pilot_seeds.len(),
            power: record.power,
            max_seeds: record.max_new_seeds,
        };
        if !(design.alpha_pilot > 0.0 && design.alpha_pilot < design.alpha) {
            return Err(format!(
                "[design] alpha_pilot = {} must lie between 0 and alpha = {}",
                design.alpha_pilot, design.alpha
            ));
        }
        Ok(Design::TwoStage(Stages {
            design,
            pilot: record.pilot_seeds.iter().copied().collect(),
            planned: experiments
                .iter()
                .map(|e| (e.name.clone(), e.seeds.iter().copied().collect()))
                .collect(),
        }))
    }

    /// The record of `design` with `pilot` seeds, for the seeds file.
    pub fn record(design: &TwoStage, pilot: &[u64]) -> SeedsDesign {
        SeedsDesign {
            kind: TWO_STAGE.into(),
            alpha: design.alpha,
            alpha_pilot: design.alpha_pilot,
            pilot_seeds: pilot.to_vec(),
            power: design.power,
            max_new_seeds: design.max_seeds,
        }
    }

    /// The design in words, with its error rate (see [`false_holds`]).
    pub fn describe(&self) -> String {
        let Design::TwoStage(s) = self else {
            return "No seed design is recorded (no `[design]` in \
                    `experiments/claims/seeds.toml`): every check is tested once, on the seeds \
                    its sides ran, at the claims file's level."
                .into();
        };
        let d = &s.design;
        let rates = false_holds(d);
        let seeds: Vec<String> = s.pilot.iter().map(u64::to_string).collect();
        format!(
            "Seed design (recorded by `reproduce --decide` in `experiments/claims/seeds.toml`): \
             {}. The pilot seeds are {}. An experiment runs as many new seeds as the most any \
             of its checks asked for, so a check's confirmation uses the new seeds both its \
             sides were given, which may be more than its own pilot asked for, or, where \
             another check of its experiments asked for some, fewer (the check then says so); \
             every number was fixed by the pilots alone, so the union bound holds whatever it \
             is. A confirmation runs only when all its planned new seeds are stored. \
             Simulated under the null at the boundary of `> 0`, each check with the number of \
             new seeds its own pilot asks for ({} simulations, ChaCha8 seed {}, {}): a false \
             \"holds\" in {:.4} of one-sample checks and {:.4} of paired checks (Monte-Carlo \
             standard error {:.4}), against the nominal {}.",
            d.describe(),
            seeds.join(", "),
            rates.one_sample.sims,
            SIMULATION_SEED,
            if rates.quoted {
                "the rate of the standard design, pinned by a test of fmnist-claims"
            } else {
                "simulated as this report was written"
            },
            rates.one_sample.rate,
            rates.paired.rate,
            rates.one_sample.mc_se.max(rates.paired.mc_se),
            d.alpha / 2.0
        )
    }
}

/// The false-"holds" rates of a two-stage design under the null at the
/// boundary of `> 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FalseHolds {
    pub one_sample: SimulatedRate,
    pub paired: SimulatedRate,
    /// Quoted from [`STANDARD_FALSE_HOLDS`] rather than simulated now.
    pub quoted: bool,
}

/// The false "holds" of `TwoStage::STANDARD` out of [`SIMULATIONS`] at
/// [`SIMULATION_SEED`], one-sample and paired, as
/// `simulate_false_holds` counts them (the test below reruns it).
pub const STANDARD_FALSE_HOLDS: (usize, usize) = (262, 294);

/// The noise of the simulation: any value gives the same rates (a t-test
/// and a power analysis from the observed spread are scale-free); the
/// statistics crate's tests use this one.
const NOISE_SD: f64 = 0.004;

fn null(test: TestKind) -> NullCase {
    NullCase {
        test,
        region: Region::Greater(0.0),
        sd: NOISE_SD,
    }
}

fn rate(sims: usize, false_holds: usize) -> SimulatedRate {
    let r = false_holds as f64 / sims as f64;
    SimulatedRate {
        sims,
        false_holds,
        rate: r,
        mc_se: (r * (1.0 - r) / sims as f64).sqrt(),
    }
}

/// The simulated false-"holds" rates of `design`: quoted for the standard
/// design, simulated otherwise.
pub fn false_holds(design: &TwoStage) -> FalseHolds {
    if *design == TwoStage::STANDARD {
        return FalseHolds {
            one_sample: rate(SIMULATIONS, STANDARD_FALSE_HOLDS.0),
            paired: rate(SIMULATIONS, STANDARD_FALSE_HOLDS.1),
            quoted: true,
        };
    }
    let sim = |test| {
        simulate_false_holds(
            SeedDesign::TwoStage(*design),
            null(test),
            SIMULATIONS,
            SIMULATION_SEED,
        )
        .unwrap_or(rate(SIMULATIONS, 0))
    };
    FalseHolds {
        one_sample: sim(TestKind::OneSample),
        paired: sim(TestKind::Paired),
        quoted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quoted_rates_are_those_the_simulation_gives() {
        for (test, want) in [
            (TestKind::OneSample, STANDARD_FALSE_HOLDS.0),
            (TestKind::Paired, STANDARD_FALSE_HOLDS.1),
        ] {
            let got = simulate_false_holds(
                SeedDesign::TwoStage(TwoStage::STANDARD),
                null(test),
                SIMULATIONS,
                SIMULATION_SEED,
            )
            .unwrap();
            assert_eq!(got.false_holds, want, "{test}: {got:?}");
            // Within the nominal one-sided 0.025 by three standard errors.
            assert!(got.rate < 0.025 + 3.0 * (0.025 * 0.975 / SIMULATIONS as f64).sqrt());
        }
        let q = false_holds(&TwoStage::STANDARD);
        assert!(q.quoted && q.one_sample.false_holds == STANDARD_FALSE_HOLDS.0);
    }

    #[test]
    fn a_record_reads_back_as_the_design_with_its_seeds() {
        let rec = Design::record(&TwoStage::STANDARD, &[0, 1, 2]);
        let mut exps = crate::seeds::tests::experiments();
        exps[0].seeds = vec![0, 1, 2, 3, 4];
        let Design::TwoStage(s) = Design::from_record(&rec, &exps, 0.05).unwrap() else {
            panic!("two stages")
        };
        assert_eq!(s.design, TwoStage::STANDARD);
        assert_eq!(s.pilot, [0, 1, 2].into());
        assert_eq!(s.planned["a"], [0, 1, 2, 3, 4].into());
        assert!(
            Design::from_record(&rec, &exps, 0.1)
                .unwrap_err()
                .contains("alpha")
        );
        let odd = SeedsDesign {
            kind: "sequential".into(),
            ..rec
        };
        assert!(Design::from_record(&odd, &exps, 0.05).is_err());
        let text = Design::TwoStage(s).describe();
        assert!(
            text.contains("0.01 + 0.04 = 0.05")
                && text.contains("0.0131 of one-sample checks")
                && text.contains("pinned by a test"),
            "{text}"
        );
    }
}
