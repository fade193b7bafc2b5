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
//! left = "lr-0.01:val:accuracy@last"         # a term
//! op = ">"                                   # >, <, >=, <=, approx
//! right = "baseline:val:accuracy@last"       # a term or a number
//! margin = 0.0    # optional, > and < only: left > right + margin, left < right - margin
//! # tol = 0.03    # required for approx, and only there: |left - right| < tol
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
//! Each check is a statistical test over seeds (`inference`, at the level
//! the file's `[statistics]` table declares, 95% by default): it holds when
//! the interval of the difference of its two sides lies inside the claimed
//! region, fails when it lies outside, and is undecided otherwise. A claim is
//! [`Verdict::Reproduced`] when every check holds, [`Verdict::NotReproduced`]
//! when any check fails, and [`Verdict::Undecided`] otherwise, or when an
//! experiment has no runs, or a term cannot be evaluated (e.g. epoch 10 of a
//! 2-epoch smoke run), or there is only one seed. Each check is also
//! evaluated per seed (the runs paired by seed value, over the seeds present
//! in all the claim's experiments), as supporting detail.

//! # Modules
//!
//! - `grammar`: the terms and checks (`EXPERIMENT:SPLIT:QUANTITY@EPOCH`);
//! - `load`: the claims file, read with file:line:column errors;
//! - `evaluate`: each check as a statistical test over seeds, and the verdicts;
//! - `inference`: the tests themselves, through `fmnist-stats`;
//! - `paper`: the claims file's `[paper]` table (baseline, learning rate, target);
//! - `seeds`: the seeds `reproduce --decide` chooses, kept in
//!   `experiments/claims/seeds.toml`.

mod error;
mod evaluate;
mod grammar;
mod inference;
mod load;
mod paper;
mod seeds;

pub use error::ClaimsError;
pub use evaluate::{CheckResult, ClaimResult, Comparison, RunIndex, evaluate, index};
pub use grammar::{Check, Claim, EpochRef, Expr, Op, Operand, Term, Verdict, term_shape};
pub use inference::{
    BOOTSTRAP, MAX_SEEDS_ESTIMATE, Side, Statistics, Tested, prob_beats, told_apart,
};
pub use load::load;
pub use paper::{Paper, Target, load as load_paper, same_value};
pub use seeds::choose_seeds;
