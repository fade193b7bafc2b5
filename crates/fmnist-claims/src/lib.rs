//! The paper's claims as data, their verdicts computed from the stored runs,
//! and the seeds design that decides them. Nothing here draws or writes the
//! report: the report crate turns verdicts into prose and tables.
//!
//! `experiments/claims/paper.toml` lists each claim of the paper with the
//! checks that encode it. No verdict is ever written by hand: it follows from
//! the checks, evaluated on the stored runs.
//!
//! # The claims file
//!
//! ```toml
//! [[claim]]
//! id = "C4"                 # unique
//! section = "III.A"         # where the paper makes it
//! text = "lr = 0.01 converges faster ..."   # the paper's words
//! [[claim.check]]
//! what = "higher final validation accuracy"  # the check in words
//! left = "lr-0.01:val:accuracy@last5"        # a term
//! op = ">"                                   # >, <, >=, <=, approx
//! right = "baseline:val:accuracy@last5"      # a term or a number
//! margin = 0.0    # optional, > and < only: left > right + margin, left < right - margin
//! # tol = 0.03    # required for approx, and only there: |left - right| < tol
//! # threshold = "ours"   # whose the bound (tol, margin, number) is: "paper" or "ours"
//! # why = "..."          # required with "ours"
//! # single_run = true    # the number is the paper's single run: show a prediction interval
//! ```
//!
//! and, once per file, how the checks are tested (the defaults):
//!
//! ```toml
//! [statistics]
//! level = 0.95    # confidence level of every check
//! power = 0.8     # the power an undecided check's seed estimate aims at
//! ```
//!
//! # Terms
//!
//! A term is `EXPERIMENT:SPLIT:QUANTITY@EPOCH`, or the difference `A - B` of
//! two terms. The grammar is written out once, for the people who edit it, in
//! the header of `experiments/claims/paper.toml`; every error about a term
//! states it again from the vocabulary ([`term_shape`]), so a new quantity
//! appears there without an edit here.
//!
//! # Verdicts
//!
//! Each check is a statistical test over seeds, named for what it is
//! (one-sample t against a number, paired t on the seeds both sides ran,
//! Welch's t only where they share fewer than two), under the seed design
//! ([`Design`]: none, or the two-stage design `reproduce --decide` records,
//! whose simulated error rate the report quotes). It holds when its
//! interval lies inside the claimed region, fails when it lies outside, and
//! is undecided otherwise. A claim's checks are one family: Holm's
//! correction at the family-wise α, and the verdict follows from the
//! adjusted decisions: [`Verdict::Reproduced`] when every check holds,
//! [`Verdict::NotReproduced`] when any check fails, [`Verdict::Undecided`]
//! otherwise, or when an experiment has no runs, or a term cannot be
//! evaluated (e.g. epoch 10 of a 2-epoch smoke run), or there is only one
//! seed. Each decision comes with its flip point: the value of the check's
//! bound at which it would change ([`Tested::flip_point`],
//! [`Check::bound_at`]); [`ClaimResult::turns_on_ours`] names the checks
//! whose chosen thresholds a verdict turns on.
//!
//! # Modules
//!
//! - `grammar`: the terms and checks (`EXPERIMENT:SPLIT:QUANTITY@EPOCH`),
//!   their regions, bounds and thresholds;
//! - `load`: the claims file, read with file:line:column errors;
//! - `design`: the seed design the checks are tested under, and its
//!   simulated false-"holds" rate;
//! - `stage`: a check's stages: which seeds, which test, which α;
//! - `family`: a claim's checks decided together (Holm), with flip points;
//! - `evaluate`: each check's values per seed, and the verdicts;
//! - `inference`: what a tested check says (`Tested`), the methods in words,
//!   the sweeps' comparisons;
//! - `paper`: the claims file's `[paper]` table (baseline, learning rate, target);
//! - `seeds`: the seeds `reproduce --decide` chooses, kept in
//!   `experiments/claims/seeds.toml`.

mod design;
mod error;
mod evaluate;
mod family;
mod grammar;
mod inference;
mod load;
mod paper;
mod seeds;
mod stage;

pub use design::{Design, FalseHolds, STANDARD_FALSE_HOLDS, Stages, TWO_STAGE, false_holds};
pub use error::ClaimsError;
pub use evaluate::{
    CheckResult, ClaimResult, Comparison, RunIndex, evaluate, family_alpha, index, near_flip,
};
pub use family::Decided;
/// The seed design `reproduce --decide` runs (re-exported for the binary).
pub use fmnist_stats::TwoStage;
pub use grammar::{
    BoundKind, Check, Claim, EpochRef, Expr, Op, Operand, Term, Threshold, Verdict, term_shape,
};
pub use inference::{
    BOOTSTRAP, MAX_SEEDS_ESTIMATE, NEAR_FLIP, Statistics, Tested, prob_beats, told_apart,
};
pub use load::load;
pub use paper::{Paper, Target, load as load_paper, same_value};
pub use seeds::choose_seeds;
pub use stage::{Sample, Stage, StageKind};
