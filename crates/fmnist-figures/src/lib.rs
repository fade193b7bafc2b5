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
//! - `figures/confusion-<experiment>.{png,svg}`: the confusion matrix of the
//!   baseline and of the best experiment; `figures/mistakes-baseline.{png,svg}`:
//!   the validation images the baseline gets most confidently wrong;
//! - `figures/sweep-<sweep>.{png,svg}`: each sweep's response to its swept
//!   setting;
//! - `tables/{table1,results,per-class,claims}.{md,tex}` and
//!   `tables/sweep-<sweep>.{md,tex}`;
//! - `REPORT.md`, which shows all of it with provenance and verdicts.
//!
//! Regenerating it from the same inputs changes no file, and figures or
//! tables it no longer produces are removed from `figures/` and `tables/`.
//!
//! The paper's claims are data (`experiments/claims/paper.toml`); their term
//! language and the verdict rules are documented in the [`claims`](mod@claims)
//! module (see also the comment at the top of that file).
//!
//! Modules: `report` (`write_report`: from inputs to files), `content` (what
//! the report says, as data), `markdown` (`REPORT.md` from that), `plot`
//! (figures), `classes` (per-class numbers, confusion and mistakes figures),
//! `sweeps` (response figures and tables of sweeps), `font` (the shipped fonts), `tables` (Markdown and LaTeX
//! tables), `claims`, `stats` (numbers out of runs, aggregation over seeds),
//! [`text`] (phrases shared with the binary), `output` (writing only what
//! changed, removing stale files), `error`.

pub mod claims;
mod classes;
mod content;
mod error;
#[cfg(test)]
mod fixture;
mod font;
mod input;
mod markdown;
mod output;
mod paper;
mod plot;
mod report;
mod stats;
mod sweeps;
mod tables;
pub mod text;

pub use claims::Verdict;
pub use error::FiguresError;
pub use input::ReportInput;
pub use plot::keep_only_shown_images;
pub use report::{ReportSummary, write_report};
