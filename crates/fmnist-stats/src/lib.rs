//! Statistics over seeds, for the report's intervals, the claim checks and
//! the diff of two reproductions. Pure functions, no I/O.
//!
//! - [`mean_interval`]: Student's t confidence interval of a mean over seeds.
//! - [`Difference`]: the difference of two experiments' means, paired by seed
//!   when both ran the same seeds ([`Difference::paired`]) and Welch's
//!   unequal-variance form otherwise ([`Difference::welch`], with the
//!   Welch–Satterthwaite degrees of freedom); [`Difference::by_seed`] picks.
//!   One- and two-sided p-values and intervals at any level.
//! - [`decide`]: the interval rule for a claimed [`Region`]: a check holds
//!   when its interval lies inside the region, fails when it lies outside,
//!   and is undecided otherwise. `> m` and `< m` use the two-sided
//!   (1 − α) interval; `|d| < tol` is the equivalence test of two one-sided
//!   tests (TOST) at level α, which is exactly the (1 − 2α) interval lying
//!   inside (−tol, tol), so that interval is the one used (the standard
//!   correspondence; Schuirmann 1987).
//! - [`seeds_to_decide`]: about how many seeds per experiment would decide a
//!   check at the observed effect and spread (power analysis; method on the
//!   function).
//! - [`Bootstrap`]: a seeded, deterministic percentile bootstrap (ChaCha8
//!   from a stated seed: the same answer on every machine).
//!
//! The t distribution is `statrs`'s; the crate's numbers are tested against
//! scipy (`tests/data/make_reference.py` and the JSON it wrote).

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
pub use decide::{Check, Decision, Region, alpha_to_fail, alpha_to_hold, decide, p_fails, p_holds};
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
