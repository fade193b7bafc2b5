//! The seed designs' error rates shown, not asserted: a Monte-Carlo
//! simulation of a whole design under the null at the boundary.
//!
//! Each simulation draws the pilot's values with the true difference
//! exactly on the region's bound (the worst case of the "holds" null:
//! `d = m` for `> m` and `< m`, `d = tol` for `approx tol`), normal noise
//! of standard deviation `sd`, runs the design to its end, drawing new
//! values when it asks for more seeds, and counts a false "holds". The
//! generator is ChaCha8 from a stated seed (normal deviates by Box–Muller),
//! so a rate is the same on every machine.
//!
//! - One-sample: values `m + sd·z` against the number 0.
//! - Paired: seed i draws a shared effect `u_i ~ N(0, sd)` (the same
//!   initialisation and batch order for both sides), then
//!   `a_i = 0.8 + m + u_i + sd·z`, `b_i = 0.8 + u_i + sd·z'`.
//! - Welch: independent `a_i = m + sd·z`, `b_i = 2 sd·z'` (unequal spreads).
//!
//! The rate's Monte-Carlo standard error is `√(r(1 − r)/sims)`.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::decide::{Decision, Region, decide};
use crate::design::{Observed, ReusePilot, TwoStage};
use crate::difference::TestKind;
use crate::error::StatsError;

/// Simulations the crate's test runs per case (debug build, a few seconds):
/// the Monte-Carlo standard error of a rate near 0.025 is then
/// √(0.025 · 0.975 / 20000) = 0.0011.
pub const SIMULATIONS: usize = 20_000;

/// The generator seed of the crate's simulations, so that a report quoting
/// a rate quotes the one the test checked.
pub const SIMULATION_SEED: u64 = 29;

/// The nominal one-sided level of a false "holds" for a `>` or `<` check
/// at α = 0.05 (the two-sided 95% interval).
pub const NOMINAL_FALSE_HOLDS: f64 = 0.025;

/// A design to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeedDesign {
    TwoStage(TwoStage),
    ReusePilot(ReusePilot),
}

/// Where the truth sits: exactly on `region`'s bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullCase {
    pub test: TestKind,
    pub region: Region,
    /// The noise's standard deviation (per value; see the module's doc).
    pub sd: f64,
}

/// A simulated false-"holds" rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedRate {
    pub sims: usize,
    pub false_holds: usize,
    /// false_holds / sims.
    pub rate: f64,
    /// Its Monte-Carlo standard error, √(rate (1 − rate) / sims).
    pub mc_se: f64,
}

/// Normal deviates from ChaCha8 by Box–Muller.
struct Normals {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Normals {
    fn new(seed: u64) -> Self {
        Normals {
            rng: ChaCha8Rng::seed_from_u64(seed),
            spare: None,
        }
    }

    /// Uniform on (0, 1]: 53 random bits, never 0 (the logarithm below).
    fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform().ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * self.uniform();
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

/// Draws `n` seeds of `null` into `a` and `b` (appending).
fn draw(g: &mut Normals, null: &NullCase, n: usize, a: &mut Vec<f64>, b: &mut Vec<f64>) {
    let (m, sd) = (null.region.bound(), null.sd);
    for _ in 0..n {
        match null.test {
            TestKind::OneSample => a.push(m + sd * g.next()),
            TestKind::Paired => {
                let u = sd * g.next();
                a.push(0.8 + m + u + sd * g.next());
                b.push(0.8 + u + sd * g.next());
            }
            TestKind::Welch => {
                a.push(m + sd * g.next());
                b.push(2.0 * sd * g.next());
            }
        }
    }
}

fn observed<'a>(test: TestKind, a: &'a [f64], b: &'a [f64]) -> Observed<'a> {
    match test {
        TestKind::OneSample => Observed::OneSample {
            values: a,
            against: 0.0,
        },
        TestKind::Paired => Observed::Paired { a, b },
        TestKind::Welch => Observed::Welch { a, b },
    }
}

/// One run of `design` on fresh draws: its decision.
fn one_run(design: &SeedDesign, null: &NullCase, g: &mut Normals) -> Result<Decision, StatsError> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    match design {
        SeedDesign::TwoStage(d) => {
            draw(g, null, d.pilot_seeds, &mut a, &mut b);
            let pilot = d.pilot(null.region, observed(null.test, &a, &b))?;
            let (mut a2, mut b2) = (Vec::new(), Vec::new());
            if let Some(n) = pilot.new_seeds {
                draw(g, null, n, &mut a2, &mut b2);
            }
            let confirm = pilot.new_seeds.map(|_| observed(null.test, &a2, &b2));
            Ok(d.finish(null.region, pilot, confirm)?.decision)
        }
        SeedDesign::ReusePilot(d) => {
            draw(g, null, d.pilot_seeds, &mut a, &mut b);
            let pilot = observed(null.test, &a, &b).difference()?;
            let total = d.total_seeds(null.region, &pilot)?;
            draw(g, null, total - d.pilot_seeds, &mut a, &mut b);
            let all = observed(null.test, &a, &b).difference()?;
            Ok(decide(&all, null.region, d.alpha)?.decision)
        }
    }
}

/// The false-"holds" rate of `design` over `sims` simulations under
/// `null`, from generator seed `seed` (see the module's documentation).
pub fn simulate_false_holds(
    design: SeedDesign,
    null: NullCase,
    sims: usize,
    seed: u64,
) -> Result<SimulatedRate, StatsError> {
    let mut g = Normals::new(seed);
    let mut false_holds = 0;
    for _ in 0..sims {
        if one_run(&design, &null, &mut g)? == Decision::Holds {
            false_holds += 1;
        }
    }
    let rate = false_holds as f64 / sims.max(1) as f64;
    Ok(SimulatedRate {
        sims,
        false_holds,
        rate,
        mc_se: (rate * (1.0 - rate) / sims.max(1) as f64).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Monte-Carlo standard error of a rate at the nominal level.
    fn nominal_se(sims: usize) -> f64 {
        (NOMINAL_FALSE_HOLDS * (1.0 - NOMINAL_FALSE_HOLDS) / sims as f64).sqrt()
    }

    /// The rate of the same design in `tests/data/simulate_designs.py`
    /// (numpy's generator, the design written again from its rules).
    fn python_rate(design: &str, test: TestKind) -> SimulatedRate {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/design_rates.json")).unwrap();
        let kind = match test {
            TestKind::OneSample => "one-sample",
            TestKind::Paired => "paired",
            TestKind::Welch => panic!("not simulated in Python"),
        };
        let sims = json["sims"].as_u64().unwrap() as usize;
        let k = json[design][kind]["false_holds"].as_u64().unwrap() as usize;
        let rate = k as f64 / sims as f64;
        SimulatedRate {
            sims,
            false_holds: k,
            rate,
            mc_se: (rate * (1.0 - rate) / sims as f64).sqrt(),
        }
    }

    /// Two independent simulations of one design agree within 4 standard
    /// errors of their difference.
    fn agree(ours: &SimulatedRate, theirs: &SimulatedRate) {
        let se = (ours.mc_se.powi(2) + theirs.mc_se.powi(2)).sqrt();
        assert!(
            (ours.rate - theirs.rate).abs() < 4.0 * se,
            "ours {ours:?}, Python's {theirs:?}"
        );
    }

    fn at_the_boundary(test: TestKind) -> NullCase {
        NullCase {
            test,
            region: Region::Greater(0.0),
            sd: 0.004,
        }
    }

    /// 20,000 simulations: standard error 0.0011 at 0.025, so the bound is
    /// 0.025 + 3 × 0.0011 = 0.0283. Measured (seed 29): one-sample 0.0131,
    /// paired 0.0147; Python's simulation of the same design: 0.0132, 0.0123.
    fn two_stage_stays_within_the_nominal_level(test: TestKind) -> SimulatedRate {
        let design = SeedDesign::TwoStage(TwoStage::STANDARD);
        let r = simulate_false_holds(design, at_the_boundary(test), SIMULATIONS, SIMULATION_SEED)
            .unwrap();
        let bound = NOMINAL_FALSE_HOLDS + 3.0 * nominal_se(SIMULATIONS);
        assert!(r.rate <= bound, "{test}: {r:?} above {bound}");
        agree(&r, &python_rate("two_stage", test));
        r
    }

    #[test]
    fn the_two_stage_design_keeps_the_false_holds_rate_one_sample() {
        two_stage_stays_within_the_nominal_level(TestKind::OneSample);
    }

    #[test]
    fn the_two_stage_design_keeps_the_false_holds_rate_paired() {
        two_stage_stays_within_the_nominal_level(TestKind::Paired);
    }

    /// The old design, choosing n from the pilot and reusing the pilot's
    /// seeds, on the same draws' distribution: its rate is far above the
    /// nominal 0.025 (issue 29 measured 0.047), and above the two-stage
    /// design's by many standard errors. 10,000 simulations each (standard
    /// error 0.0016 at 0.025). Measured (seed 29): one-sample 0.0486,
    /// paired 0.0563; Python's (20,000): 0.0517, 0.0529.
    #[test]
    fn reusing_the_pilot_seeds_inflates_the_false_holds_rate() {
        let sims = SIMULATIONS / 2;
        let floor = NOMINAL_FALSE_HOLDS + 5.0 * nominal_se(sims);
        for test in [TestKind::OneSample, TestKind::Paired] {
            let null = at_the_boundary(test);
            let old = SeedDesign::ReusePilot(ReusePilot::AS_RUN);
            let new = SeedDesign::TwoStage(TwoStage::STANDARD);
            let r_old = simulate_false_holds(old, null, sims, SIMULATION_SEED).unwrap();
            let r_new = simulate_false_holds(new, null, sims, SIMULATION_SEED).unwrap();
            assert!(
                r_old.rate > floor,
                "{test}: old {r_old:?} not above {floor}"
            );
            let gap = r_old.rate - r_new.rate;
            let se = (r_old.mc_se.powi(2) + r_new.mc_se.powi(2)).sqrt();
            assert!(gap > 5.0 * se, "{test}: old {r_old:?} new {r_new:?}");
            agree(&r_old, &python_rate("reuse_pilot", test));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_rate() {
        let null = at_the_boundary(TestKind::Welch);
        let d = SeedDesign::TwoStage(TwoStage::STANDARD);
        let a = simulate_false_holds(d, null, 300, 5).unwrap();
        assert_eq!(a, simulate_false_holds(d, null, 300, 5).unwrap());
        let mut g = Normals::new(1);
        let z: Vec<f64> = (0..20_000).map(|_| g.next()).collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.04,
            "{mean} {var}"
        );
    }
}
