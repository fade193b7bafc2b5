//! Experiment files: the TOML a researcher writes, resolved into explicit settings.
//!
//! An experiment file may `extends` another and override what differs; after
//! resolution every setting that influences training is explicit in a
//! [`RunConfig`], which is also what a run's identity is computed from.
//! This crate knows nothing of candle, Parquet or plotting.

mod config;
mod error;
mod load;
mod run;

pub use config::{InputConfig, ModelConfig, OptimizerConfig, PaperRef, ReportMeta, RunConfig};
pub use error::ExperimentError;
pub use load::{Experiment, load_dir, load_file};
pub use run::{Overrides, RunSpec, plan, run_id};
