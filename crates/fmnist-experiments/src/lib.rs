//! Experiment files: the TOML a researcher writes, resolved into explicit settings.
//!
//! An experiment file may `extends` another and override what differs; after
//! resolution every setting that influences training is explicit in a
//! [`RunConfig`], which is also what a run's identity is computed from
//! ([`run_id`]). A file with a `[sweep]` table stands for one experiment per
//! point of the sweep. This crate knows nothing of candle, Parquet or
//! plotting.
//!
//! # Declared once
//!
//! - Optimizers ([`OptimizerConfig`], module `optimizer`) and learning-rate
//!   schedule kinds ([`ScheduleKind`], module `schedule`) are each one
//!   invocation of the `kinds!` macro (module `declare`): every kind's name,
//!   title, PyTorch class, and each setting with its type, default, range and
//!   message. The loader's keys, defaults, type and range checks and messages,
//!   the kind names ([`OPTIMIZER_KINDS`], [`SCHEDULE_KINDS`], `NAMES`), the
//!   resolved enum and its JSON follow from it. A setting added to an
//!   existing kind is declared with `A(default)`: at that default it stays
//!   out of the run's JSON, so no stored run changes its id.
//! - Settings that take one of a few words ([`Mode`], [`ThresholdMode`],
//!   [`Monitor`], [`Keep`]) are declared by `words!`: `NAMES`, `parse`,
//!   `as_str`, serde and the loader's message.
//! - [`Quantity`] (module `quantity`): the per-epoch vocabulary.
//!
//! # Loading
//!
//! Module `load` (file IO, `extends`), `settings` (one file's tables as
//! written and merged: a file that names another optimizer or schedule kind
//! inherits the settings the two kinds share), `resolve` (merged settings to
//! a [`RunConfig`]), `sweep`, `sample` and `prune` (`[sweep]` and its
//! `[sweep.prune]`: one bracket of successive halving or Hyperband's, one
//! rung loop [`Prune::run`] for the runner and the report), `condition`
//! (`when`: settings swept for some kinds only), `tpe` (`mode = "tpe"`:
//! rounds proposed from the earlier rounds' scores, [`TpeSweep`]; the
//! loader expands round 0), `format` (how numbers read), and [`seeds`](read_seeds_file)
//! (`experiments/claims/seeds.toml`: the seeds `--decide` added, read,
//! written and applied here so that planning needs no other crate).
//! Module [`listing`] writes `fmnist list`'s text of the experiments and
//! their planned runs.
//!
//! Every file the project reads reports mistakes with the two rules of this
//! crate: [`source::position`] (line and column, columns in characters) and
//! [`suggest::nearest`] ("did you mean", capped at half the longer name).
//!
//! # Identity is pinned
//!
//! `testdata/shipped/` is a frozen copy of the repository's
//! `experiments/*.toml` with `run-ids.txt`, the run id of every shipped
//! experiment's first seed (every sweep point's). A test loads the copy with
//! the real loader and checks each id, so a change of identity is a
//! deliberate edit (`testdata/shipped/refresh.sh` regenerates it). Tests
//! never read the repository's `experiments/`.

mod condition;
mod config;
mod declare;
mod error;
mod experiment;
mod format;
pub mod listing;
mod load;
mod optimizer;
mod prune;
mod quantity;
mod resolve;
mod run;
mod sample;
mod schedule;
mod seeds;
mod settings;
mod slug;
pub mod source;
pub mod suggest;
mod sweep;
#[cfg(test)]
mod testdata;
mod tpe;
mod validation;

pub use config::{
    CLASSES, INPUT_FEATURES, InputConfig, ModelConfig, PaperRef, ReportMeta, RunConfig,
};
pub use declare::KindSpec;
pub use error::ExperimentError;
pub use experiment::{Experiment, SweepPoint, SweepValue, TRAIN_SET_SIZE};
pub use format::{and_list, or_list, show_number};
pub use load::{load_dir, load_file};
pub use optimizer::{OPTIMIZER_KINDS, OptimizerConfig, OptimizerKind, optimizer_kind};
pub use prune::{Bracket, Halving, Prune, Replay, Rule};
pub use quantity::{EpochReport, Measures, Quantity, Split};
pub use run::{Overrides, RunSpec, SHORT_RUN_ID_LEN, plan, run_id, short_run_id};
pub use schedule::{
    EarlyStopping, Keep, Mode, Monitor, SCHEDULE_KINDS, ScheduleConfig, ScheduleKind,
    ThresholdMode, Warmup, defaults, schedule_kind,
};
pub use seeds::{
    SeedDecision, SeedsDesign, apply_seeds, read_seeds_design, read_seeds_file, write_seeds_file,
    write_seeds_file_with_design,
};
pub use slug::{file_slug, is_slug};
pub use source::position;
pub use suggest::{edit_distance, nearest};
pub use sweep::{MODE_KEY, NOT_SWEPT, sweepable_settings};
pub use tpe::TpeSweep;
pub use validation::ValidationSplit;
