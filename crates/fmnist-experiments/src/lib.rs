//! Experiment files: the TOML a researcher writes, resolved into explicit settings.
//!
//! An experiment file may `extends` another and override what differs; after
//! resolution every setting that influences training is explicit in a
//! [`RunConfig`], which is also what a run's identity is computed from. A file
//! with a `[sweep]` table stands for one experiment per point of the sweep.
//! This crate knows nothing of candle, Parquet or plotting.

mod config;
mod error;
mod experiment;
mod format;
mod load;
mod optimizer;
mod prune;
mod quantity;
mod resolve;
mod run;
mod sample;
mod schedule;
mod settings;
mod source;
mod suggest;
mod sweep;

pub use config::{InputConfig, ModelConfig, PaperRef, ReportMeta, RunConfig};
pub use error::ExperimentError;
pub use experiment::{Experiment, SweepPoint, SweepValue, TRAIN_SET_SIZE};
pub use format::{and_list, or_list, show_number};
pub use load::{load_dir, load_file};
pub use optimizer::{OPTIMIZER_KINDS, OptimizerConfig, OptimizerKind, optimizer_kind};
pub use prune::{Prune, Replay};
pub use quantity::{EpochReport, Measures, Quantity, Split};
pub use run::{Overrides, RunSpec, plan, run_id};
pub use schedule::{
    EarlyStopping, Keep, Mode, Monitor, ScheduleConfig, ScheduleKind, ThresholdMode, Warmup,
    defaults,
};
pub use suggest::{edit_distance, nearest};
pub use sweep::{MODE_KEY, NOT_SWEPT, sweepable_settings};
