//! [`ReportInput`]: everything a report is made from. The bottom of the
//! crate's layers: every other module may read it, it reads none of them.

use std::path::Path;

use fmnist_data::Dataset;
use fmnist_experiments::Experiment;
use fmnist_metrics::{Provenance, StoredRun};

/// Everything the report is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// Every experiment, in report order (the files in `experiments/`):
    /// `experiments[i].name` matches `StoredRun::manifest.experiment`, and the
    /// claims file may name only these.
    pub experiments: &'a [Experiment],
    /// The runs of the current plan only; several seeds per experiment. The
    /// report's date and data hashes are taken from their manifests.
    pub runs: &'a [StoredRun],
    /// For FIG. 1; `None` skips it with a note.
    pub dataset: Option<&'a Dataset>,
    /// The data set's name (`fmnist_data::Manifest::name`), e.g.
    /// "Fashion-MNIST": the report's title and FIG. 1 name it.
    pub dataset_name: &'a str,
    /// The data set's class names, in label order (`fmnist_data::CLASS_NAMES`).
    pub class_names: &'a [String],
    /// `experiments/claims/paper.toml`.
    pub claims_file: &'a Path,
    /// The code and machine writing the report (the runs carry their own).
    pub provenance: &'a Provenance,
    /// The command that regenerates the report, with the options it was run
    /// with, shown in it, e.g. `cargo xtask figures -- --quick`. It is part
    /// of REPORT.md's bytes: a caller that passes the same command for the
    /// same report (`reproduce`, then `figures`) rewrites nothing.
    pub command: &'a str,
    /// A smoke run (few epochs, data subset): the report says so loudly.
    pub quick: bool,
}
