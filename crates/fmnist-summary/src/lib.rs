//! The machine-readable summary of a reproduction and the diff between two.
//!
//! The summary ([`Summary`]) is written beside `REPORT.md` at every report
//! generation, as three CSV files under `summary/`:
//!
//! - `meta.csv` (`key,value`): the summary's format, whether it is a smoke
//!   run, every `TRAINING_CODE_VERSION` among the runs, the BLAKE3 of each
//!   data file, and the verdict of each claim as the report states it;
//! - `runs.csv`: one row per experiment and seed: run id, status, epochs,
//!   final / best / last-5-epoch metrics of validation and training
//!   accuracy and loss, per-class validation accuracy
//!   (`class_accuracy.<class>`), and every resolved setting (dotted keys);
//! - `curves.csv`: per epoch of each experiment a figure of the paper or a
//!   claim needs (the caller says which, [`Summary::retain_curves`] with
//!   [`curves_needed`]), the
//!   mean and standard deviation over seeds of each split's accuracy and
//!   loss.
//!
//! Numbers are rounded to the digits the files keep ([`SIGNIFICANT`] per
//! run, fewer for curves), in memory as on disk, so the files stay small
//! and a summary of stored runs equals the one read back.
//!
//! [`diff`] compares two summaries: experiments added and removed, settings
//! changed key by key, the change of each headline metric with a 95% t
//! interval from both sides' seeds (paired when the seeds match, Welch
//! otherwise; `fmnist-stats`), verdicts changed, and code or data drift.
//! [`render`](mod@render) writes it as text or Markdown.

mod csv;
pub mod diff;
mod error;
mod files;
pub mod render;
mod summary;

pub use diff::{Diff, Drift, ExperimentDiff, MetricChange, SettingChange, Status, diff};
pub use error::SummaryError;
pub use summary::{
    Band, CURVE_COLUMNS, CURVE_QUANTITIES, CURVE_SIGNIFICANT, CurveRow, DIR, FILES, FORMAT,
    METRICS, RunRow, SD_SIGNIFICANT, SIGNIFICANT, Summary, SummaryTexts, WINDOW, band,
    classes_needed, curve_rows, curves_needed, rounded, run_row,
};

#[cfg(test)]
mod tests;
