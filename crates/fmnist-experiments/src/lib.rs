//! Experiment files: the TOML a researcher writes, resolved into explicit settings.
//!
//! An experiment file may `extends` another and override what differs; after
//! resolution every setting that influences training is explicit in a
//! [`RunConfig`], which is also what a run's identity is computed from. A file
//! with a `[sweep]` table stands for one experiment per point of the sweep.
//! This crate knows nothing of candle, Parquet or plotting.

mod config;
mod error;
mod load;
mod run;
mod schedule;
mod sweep;

pub use config::{InputConfig, ModelConfig, OptimizerConfig, PaperRef, ReportMeta, RunConfig};
pub use error::ExperimentError;
pub use load::{Experiment, edit_distance, load_dir, load_file, nearest};
pub use run::{Overrides, RunSpec, plan, run_id};
pub use schedule::{
    EarlyStopping, Keep, Mode, Monitor, ScheduleConfig, ScheduleKind, ThresholdMode, Warmup,
    defaults,
};
pub use sweep::{MODE_KEY, NOT_SWEPT, SweepPoint, SweepValue, sweepable_settings};
