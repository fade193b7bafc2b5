//! Figures, tables, claim verdicts and `REPORT.md` from the experiments and
//! their stored runs, drawn with plotters.
//!
//! This crate reads results only through `fmnist-metrics` and knows nothing
//! of training. [`write_report`] writes, under an output directory:
//!
//! - `figures/fig1-examples.{png,svg}`: FIG. 1, example training images;
//! - `figures/<experiment>.{png,svg}`: loss and accuracy per epoch of every
//!   experiment (mean over seeds, min-max band);
//! - `figures/compare-<study>.{png,svg}`: validation curves of each study's
//!   experiments beside the baseline;
//! - `tables/{table1,results,claims}.{md,tex}`;
//! - `REPORT.md`, which shows all of it with provenance and verdicts.
//!
//! The paper's claims are data (`experiments/claims/paper.toml`); their term
//! language and the verdict rules are documented in the [`claims`](mod@claims)
//! module (see also the comment at the top of that file).
//!
//! Modules: `font` (the shipped fonts), `plot` (figures), `tables`,
//! `claims`, `stats` (aggregation over seeds), `report` (putting it
//! together), `error`.

pub mod claims;
mod classes;
mod error;
mod font;
mod plot;
mod report;
mod stats;
mod sweeps;
mod tables;

pub use claims::Verdict;
pub use error::FiguresError;
pub use report::{Provenance, ReportInput, ReportSummary, write_report};
