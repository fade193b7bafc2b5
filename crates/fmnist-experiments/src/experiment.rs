//! One experiment as the rest of the workspace sees it: resolved settings,
//! seeds, and what the report needs to place it.

use std::path::PathBuf;

use crate::config::{PaperRef, ReportMeta, RunConfig};
use crate::sweep::SweepPoint;

/// The size of the Fashion-MNIST training set: no batch may be larger.
pub const TRAIN_SET_SIZE: usize = 60_000;
pub(crate) const VAL_SET_SIZE: usize = 10_000;

/// One experiment: a file without a `[sweep]`, or one point of a sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Unique name: the file stem unless the file sets `name`; for a sweep
    /// point, that name followed by the point, `lr-sweep[optimizer.lr=0.003]`.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub paper: PaperRef,
    pub report: ReportMeta,
    pub config: RunConfig,
    pub seeds: Vec<u64>,
    /// Set when the experiment is one point of a `[sweep]`.
    pub sweep: Option<SweepPoint>,
    /// The resolved settings of what this experiment is a variation of: the
    /// file it `extends`, or for a sweep point the sweep file's own settings
    /// before the point's values. `None` when it extends nothing (or what it
    /// extends is not a complete experiment).
    pub parent: Option<RunConfig>,
}

impl Experiment {
    pub fn label(&self) -> &str {
        self.report.label.as_deref().unwrap_or(&self.name)
    }
}

/// What a file says about itself rather than about training; a sweep's
/// points share it.
#[derive(Debug)]
pub(crate) struct FileMeta {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) description: String,
    pub(crate) paper: PaperRef,
    pub(crate) report: ReportMeta,
}
