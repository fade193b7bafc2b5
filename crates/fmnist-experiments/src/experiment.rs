//! One experiment as the rest of the workspace sees it: resolved settings,
//! seeds, and what the report needs to place it.

use std::fmt;
use std::path::PathBuf;

use crate::config::{PaperRef, ReportMeta, RunConfig};
use crate::format::show_number;

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

/// Where an experiment stands in the sweep it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// The sweep's name (the file's `name`, or its stem), shared by all its points.
    pub sweep: String,
    /// The point's position in the sweep's product order (the order drawn,
    /// or for TPE the trial's index over all rounds), from 0.
    pub index: usize,
    /// This point's swept settings (dotted names), in the order of the `[sweep]` table.
    pub values: Vec<(String, SweepValue)>,
    /// The sweep's `[sweep.prune]`, shared by all its points.
    pub prune: Option<crate::Prune>,
    /// The round of a `mode = "tpe"` sweep that proposed the point (`index`
    /// counts the trials of every round); `None` in the other modes.
    pub round: Option<usize>,
    /// The sweep draws its points (`random`, `sobol` or `tpe`): its points
    /// are the trials of a search, whose expected best of n trials the
    /// report shows. `false` for a grid or a zip.
    pub sampled: bool,
}

impl SweepPoint {
    /// `optimizer.kind=sgd,optimizer.lr=0.001`: what the experiment's name
    /// holds in brackets after the sweep's name.
    pub fn assignments(&self) -> String {
        self.joined(",")
    }

    pub(crate) fn joined(&self, separator: &str) -> String {
        self.values
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// One swept value, as the point's name shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepValue {
    /// Integers and floats.
    Number(f64),
    /// Optimizer kinds, initialisations and booleans as written; lists as
    /// their elements joined by `x` (`model.hidden=128x64`).
    Text(String),
}

impl fmt::Display for SweepValue {
    /// Numbers shortest first: `0.003`, `1e-8`, `100`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepValue::Number(x) => f.write_str(&show_number(*x)),
            SweepValue::Text(s) => f.write_str(s),
        }
    }
}

impl SweepValue {
    pub(crate) fn of(value: &toml::Value) -> SweepValue {
        match value {
            toml::Value::Integer(i) => SweepValue::Number(*i as f64),
            toml::Value::Float(x) => SweepValue::Number(*x),
            toml::Value::String(s) => SweepValue::Text(s.clone()),
            toml::Value::Array(items) => SweepValue::Text(
                items
                    .iter()
                    .map(|v| SweepValue::of(v).to_string())
                    .collect::<Vec<_>>()
                    .join("x"),
            ),
            other => SweepValue::Text(other.to_string()),
        }
    }
}
