//! Statistics over seeds, for the report's intervals, the claim checks, the
//! seed design and the diff of two reproductions. Pure functions, no I/O;
//! every random draw from ChaCha8 with a stated seed.
//!
//! Intervals
//! - [`mean_interval`]: Student's t confidence interval of a mean over seeds.
//! - [`prediction_interval`]: where one more run should fall,
//!   mean ± t(0.975, n−1)·s·√(1 + 1/n): the interval to hold a paper's
//!   single run against.
//! - [`wilson_interval`]: Wilson's score interval of a proportion (pooled
//!   counts), always inside [0, 1].
//! - [`Bootstrap`]: a seeded, deterministic percentile bootstrap.
//!
//! Tests and decisions
//! - [`Difference`]: the difference `A − B` (or `A − number`) with the test
//!   it is tested by, [`TestKind`] (one-sample t, paired t, Welch's t, with
//!   the Welch–Satterthwaite df), n per side ([`Difference::describe`]) and
//!   the observed spread. [`Difference::one_sample`] for a number,
//!   [`Difference::paired`] for the same seeds, [`Difference::welch`]
//!   otherwise; [`Difference::by_seed`] picks between the last two.
//! - [`decide`]: the interval rule for a claimed [`Region`]: a check holds
//!   when its interval lies inside the region, fails when it lies outside,
//!   and is undecided otherwise. `> m` and `< m` use the two-sided
//!   (1 − α) interval; `|d| < tol` is the equivalence test of two one-sided
//!   tests (TOST) at level α, which is exactly the (1 − 2α) interval lying
//!   inside (−tol, tol), so that interval is the one used (the standard
//!   correspondence; Schuirmann 1987).
//! - [`p_holds`] / [`p_fails`]: the one-sided p-value each decision rests
//!   on (TOST: the larger of its two); [`alpha_to_hold`] / [`alpha_to_fail`]:
//!   the same on the scale of α (the smallest α at which `decide` reaches
//!   that decision).
//! - [`holm`]: Holm's step-down procedure (adjusted p-values, rejections at
//!   a family-wise α, each test's rank, threshold and exact level).
//! - [`decide_family`]: a family of checks decided raw and after Holm's
//!   correction ([`FamilyCheck`]), with the flip points of both.
//! - [`Flip`]: the margin or tolerance at which a decision would change
//!   (definitions in the module `flip`; [`Flip::decision_at`] agrees with
//!   `decide` at every bound).
//!
//! Seeds
//! - [`nct_cdf`]: the noncentral t CDF (AS 243); [`normal_cdf`],
//!   [`normal_quantile`] to 1e-15 (`statrs`'s erf is good to 1e-10 only).
//! - [`power`], [`seeds_to_decide`]: power by the noncentral t and the
//!   smallest n that reaches a target ([`POWER_METHOD`]); [`PowerMethod`]
//!   keeps the older shifted central t ([`power_with`],
//!   [`seeds_to_decide_with`]).
//! - [`TwoStage`]: the seed design, a pilot tested at part of α and new
//!   seeds only at the rest (alpha spending by the union bound); the old
//!   design that reused the pilot, [`ReusePilot`], kept for comparison.
//! - [`simulate_false_holds`]: either design simulated under the null at the
//!   boundary, its false-"holds" rate with the Monte-Carlo standard error
//!   ([`SIMULATIONS`], [`SIMULATION_SEED`] as the tests ran them).
//!
//! Searches
//! - [`expected_max`], [`expected_max_curve`]: the expected best of n trials
//!   from N observed ("show your work": Dodge et al. 2019 with replacement,
//!   Tang et al. 2020's unbiased estimator), with the spread of that best;
//!   [`expected_max_band`] bootstraps the estimate.
//!
//! The t distribution is `statrs`'s. The crate's numbers are tested against
//! scipy, statsmodels and exact enumerations: `tests/data/make_reference.py`
//! and `make_reference_extra.py` with the JSON they wrote, and
//! `simulate_designs.py`, an independent simulation of the seed designs.

mod bootstrap;
mod decide;
mod design;
mod difference;
mod error;
mod expected_max;
mod family;
mod flip;
mod holm;
mod nct;
mod normal;
mod power;
mod proportion;
mod simulate;
mod t;

pub use bootstrap::{Bootstrap, percentile};
pub use decide::{
    Decision, IntervalDecision, Region, alpha_to_fail, alpha_to_hold, decide, p_fails, p_holds,
};
pub use design::{Observed, Pilot, ReusePilot, TwoStage, TwoStageOutcome};
pub use difference::{Difference, Pairing, TestKind};
pub use error::StatsError;
pub use expected_max::{ExpectedMax, expected_max, expected_max_band, expected_max_curve};
pub use family::{FamilyCheck, decide_family};
pub use flip::Flip;
pub use holm::{HolmStep, holm};
pub use nct::nct_cdf;
pub use normal::{normal_cdf, normal_quantile};
pub use power::{
    POWER_METHOD, PowerMethod, Spread, power, power_with, seeds_to_decide, seeds_to_decide_with,
};
pub use proportion::{Proportion, wilson_interval};
pub use simulate::{
    NOMINAL_FALSE_HOLDS, NullCase, SIMULATION_SEED, SIMULATIONS, SeedDesign, SimulatedRate,
    simulate_false_holds,
};
pub use t::{
    MeanInterval, PredictionInterval, mean_interval, prediction_interval, t_cdf, t_quantile,
};
