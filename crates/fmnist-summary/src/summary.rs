//! The summary of a reproduction: three CSV files written beside REPORT.md
//! (`summary/meta.csv`, `summary/runs.csv`, `summary/curves.csv`), built from
//! the report's runs, and read back from a directory or from the text of a
//! committed revision.

use fmnist_experiments::Experiment;
use fmnist_metrics::{At, MetricRow, Quantity, Split, StoredRun};

/// The directory under a report that holds the summary.
pub const DIR: &str = "summary";
/// Its files, in the order of [`SummaryTexts`].
pub const FILES: [&str; 3] = ["meta.csv", "runs.csv", "curves.csv"];
/// Bumped when a column changes meaning.
pub const FORMAT: u32 = 1;
/// Epochs averaged by the `window5_*` metrics (fewer when a run has fewer).
pub const WINDOW: usize = 5;

/// The per-run metrics, in column order: `final_*` (last epoch), `best_*`
/// (highest accuracy, lowest loss, and the earliest epoch of the highest
/// validation accuracy), `window5_*` (mean of the last [`WINDOW`] epochs).
pub const METRICS: [&str; 12] = [
    "final_val_accuracy",
    "final_val_loss",
    "final_train_accuracy",
    "final_train_loss",
    "best_val_accuracy",
    "best_val_accuracy_epoch",
    "best_val_loss",
    "window5_val_accuracy",
    "window5_val_loss",
    "window5_train_accuracy",
    "window5_train_loss",
    // The official test set of a run with a validation split, never chosen
    // on; empty for a run that validates on the test set itself.
    "final_test_accuracy",
];

/// Metrics added to [`METRICS`] after summaries were first committed: a
/// summary written before one of them reads it as not measured.
pub const ADDED_METRICS: [&str; 1] = ["final_test_accuracy"];

/// Significant digits of every per-run number of `runs.csv` (metrics and
/// per-class accuracies): an accuracy over up to 100,000 images, and the
/// mean of five, is exact, and a loss keeps more digits than any output
/// prints (four decimals), so the file changes only where a printed number
/// could; held rounded in memory too, so a summary of stored runs equals
/// the one read back from its files.
pub const SIGNIFICANT: usize = 6;
/// Significant digits of a curve's mean per epoch: curves are drawn, and
/// four digits are finer than a figure's pixel.
pub const CURVE_SIGNIFICANT: usize = 4;
/// Significant digits of a curve's standard deviation, which only sets the
/// width of a band.
pub const SD_SIGNIFICANT: usize = 2;

/// `v` rounded to `digits` significant digits (NaN and infinities as they
/// are): the number its file holds, so `to_texts` then `parse` returns it
/// bit for bit.
pub fn rounded(v: f64, digits: usize) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    format!("{v:.*e}", digits.max(1) - 1).parse().unwrap_or(v)
}

/// The per-epoch columns of `curves.csv` after `experiment,epoch,n`: the
/// mean over seeds and the sample standard deviation (empty for one seed)
/// of each quantity of [`CURVE_QUANTITIES`], `<split>_<quantity>_{mean,sd}`.
pub const CURVE_COLUMNS: [&str; 8] = [
    "train_accuracy_mean",
    "train_accuracy_sd",
    "train_loss_mean",
    "train_loss_sd",
    "val_accuracy_mean",
    "val_accuracy_sd",
    "val_loss_mean",
    "val_loss_sd",
];

/// The (split, quantity) of each pair of [`CURVE_COLUMNS`]: the learning
/// curves the paper's figures draw (loss and accuracy on both splits).
/// `learning_rate` is left out: it follows from the settings, which
/// `runs.csv` holds; so is `grad_norm`, a diagnostic of divergence that the
/// report draws from the stored runs (summaries written before kept it, and
/// read as they were). A quantity added to the vocabulary is added here by
/// hand, with its two columns.
pub const CURVE_QUANTITIES: [(Split, Quantity); 4] = [
    (Split::Train, Quantity::Accuracy),
    (Split::Train, Quantity::Loss),
    (Split::Val, Quantity::Accuracy),
    (Split::Val, Quantity::Loss),
];

/// One run of one experiment (a run shared by two experiments appears under each).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub experiment: String,
    pub seed: u64,
    pub run_id: String,
    pub status: String,
    pub epochs_run: u32,
    pub training_code_version: u32,
    /// Values of [`METRICS`], in that order; NaN where a run has none.
    pub metrics: Vec<f64>,
    /// (class name, accuracy of the final network on that class's validation images).
    pub classes: Vec<(String, f64)>,
    /// Every resolved setting, (dotted key, value).
    pub settings: Vec<(String, String)>,
}

impl RunRow {
    pub fn metric(&self, name: &str) -> Option<f64> {
        let i = METRICS.iter().position(|m| *m == name)?;
        self.metrics.get(i).copied().filter(|v| !v.is_nan())
    }
}

/// One epoch of one experiment, over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveRow {
    pub experiment: String,
    pub epoch: u32,
    /// Seeds that reached this epoch (the most of any quantity: runs
    /// stored before `grad_norm` existed have none of it).
    pub n: usize,
    /// Values of [`CURVE_COLUMNS`], in that order; NaN where undefined.
    pub values: [f64; CURVE_COLUMNS.len()],
}

impl CurveRow {
    pub fn value(&self, column: &str) -> f64 {
        CURVE_COLUMNS
            .iter()
            .position(|c| *c == column)
            .map_or(f64::NAN, |i| self.values[i])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// (key, value): `summary_format`, `quick`, `training_code_version`
    /// (every version among the runs), `data.<file>` (BLAKE3 of each data
    /// file), `verdict.<claim>`.
    pub meta: Vec<(String, String)>,
    pub runs: Vec<RunRow>,
    pub curves: Vec<CurveRow>,
}

/// The three files' text, in the order of [`FILES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryTexts {
    pub meta: String,
    pub runs: String,
    pub curves: String,
}

/// Values of `split` by epoch, finite only, in epoch order.
fn series(rows: &[MetricRow], split: Split, q: Quantity) -> Vec<(u32, f64)> {
    let mut s: Vec<(u32, f64)> = rows
        .iter()
        .filter(|r| r.split == split)
        .map(|r| (r.epoch, r.values[q]))
        .filter(|(_, v)| v.is_finite())
        .collect();
    s.sort_by_key(|p| p.0);
    s
}

/// The values of [`METRICS`] for one run, read through the store's one
/// accessor (`StoredRun::value`), so "final", "best" and the window mean
/// here what they mean in the report and the claims. A value the run does
/// not have (a diverged run's last epoch) is NaN, an empty cell.
fn run_metrics(run: &StoredRun) -> Vec<f64> {
    let value = |split, q, at| run.value(split, q, at).unwrap_or(f64::NAN);
    let window = |split, q| match run.last_epoch(split) {
        Some(last) => value(split, q, At::Window((WINDOW as u32).min(last))),
        None => f64::NAN,
    };
    let best_loss = series(&run.rows, Split::Val, Quantity::Loss)
        .iter()
        .map(|p| p.1)
        .fold(f64::NAN, f64::min);
    let metrics = [
        value(Split::Val, Quantity::Accuracy, At::Last),
        value(Split::Val, Quantity::Loss, At::Last),
        value(Split::Train, Quantity::Accuracy, At::Last),
        value(Split::Train, Quantity::Loss, At::Last),
        value(Split::Val, Quantity::Accuracy, At::Best),
        run.best_epoch().map_or(f64::NAN, f64::from),
        best_loss,
        window(Split::Val, Quantity::Accuracy),
        window(Split::Val, Quantity::Loss),
        window(Split::Train, Quantity::Accuracy),
        window(Split::Train, Quantity::Loss),
        value(Split::Test, Quantity::Accuracy, At::Last),
    ];
    metrics.map(|v| rounded(v, SIGNIFICANT)).to_vec()
}

fn class_accuracy(run: &StoredRun) -> Vec<(String, f64)> {
    let classes = run.manifest.classes.len();
    (0..classes)
        .map(|c| {
            let of = |pred: bool| -> u64 {
                run.confusion
                    .iter()
                    .filter(|x| usize::from(x.true_class) == c)
                    .filter(|x| !pred || usize::from(x.predicted_class) == c)
                    .map(|x| u64::from(x.count))
                    .sum()
            };
            let total = of(false);
            let acc = if total == 0 {
                f64::NAN
            } else {
                rounded(of(true) as f64 / total as f64, SIGNIFICANT)
            };
            (run.manifest.classes[c].clone(), acc)
        })
        .collect()
}

/// The row of one stored run, under `run.manifest.experiment`.
pub fn run_row(run: &StoredRun) -> RunRow {
    let m = &run.manifest;
    RunRow {
        experiment: m.experiment.clone(),
        seed: m.seed,
        run_id: m.run_id.clone(),
        status: m.status.to_string(),
        epochs_run: run
            .rows
            .iter()
            .filter(|r| r.split == Split::Val)
            .map(|r| r.epoch)
            .max()
            .unwrap_or(0),
        training_code_version: m.training_code_version,
        metrics: run_metrics(run),
        classes: class_accuracy(run),
        settings: m.config.settings(),
    }
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    (mean, sd)
}

/// The per-epoch rows of one experiment from its runs, rounded as
/// `curves.csv` holds them.
pub fn curve_rows(experiment: &str, runs: &[&StoredRun]) -> Vec<CurveRow> {
    let epochs = runs
        .iter()
        .flat_map(|r| r.rows.iter().map(|x| x.epoch))
        .max()
        .unwrap_or(0);
    (1..=epochs)
        .filter_map(|epoch| {
            let mut values = [f64::NAN; CURVE_COLUMNS.len()];
            let mut n = 0;
            for (i, (split, q)) in CURVE_QUANTITIES.into_iter().enumerate() {
                let v: Vec<f64> = runs
                    .iter()
                    .flat_map(|r| series(&r.rows, split, q))
                    .filter(|p| p.0 == epoch)
                    .map(|p| p.1)
                    .collect();
                n = n.max(v.len());
                let (mean, sd) = mean_sd(&v);
                values[2 * i] = rounded(mean, CURVE_SIGNIFICANT);
                values[2 * i + 1] = rounded(sd, SD_SIGNIFICANT);
            }
            (n > 0).then(|| CurveRow {
                experiment: experiment.to_string(),
                epoch,
                n,
                values,
            })
        })
        .collect()
}

impl Summary {
    /// The summary of `runs` (each under `manifest.experiment`, in report
    /// order), with the claims' verdicts as the report states them.
    pub fn from_runs(runs: &[StoredRun], verdicts: &[(String, String)], quick: bool) -> Summary {
        let mut names: Vec<&str> = Vec::new();
        for r in runs {
            if !names.contains(&r.manifest.experiment.as_str()) {
                names.push(&r.manifest.experiment);
            }
        }
        let curves = names
            .iter()
            .flat_map(|name| {
                let mine: Vec<&StoredRun> = runs
                    .iter()
                    .filter(|r| r.manifest.experiment == *name)
                    .collect();
                curve_rows(name, &mine)
            })
            .collect();
        let mut versions: Vec<u32> = runs
            .iter()
            .map(|r| r.manifest.training_code_version)
            .collect();
        versions.sort_unstable();
        versions.dedup();
        let mut data: Vec<(String, Vec<String>)> = Vec::new();
        for f in runs.iter().flat_map(|r| &r.manifest.data) {
            match data.iter_mut().find(|(n, _)| *n == f.name) {
                Some((_, hashes)) if !hashes.contains(&f.blake3) => hashes.push(f.blake3.clone()),
                Some(_) => {}
                None => data.push((f.name.clone(), vec![f.blake3.clone()])),
            }
        }
        let mut meta = vec![
            ("summary_format".to_string(), FORMAT.to_string()),
            ("quick".to_string(), quick.to_string()),
            (
                "training_code_version".to_string(),
                versions
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ];
        meta.extend(
            data.into_iter()
                .map(|(n, h)| (format!("data.{n}"), h.join(" "))),
        );
        meta.extend(
            verdicts
                .iter()
                .map(|(id, v)| (format!("verdict.{id}"), v.clone())),
        );
        Summary {
            meta,
            runs: runs.iter().map(run_row).collect(),
            curves,
        }
    }

    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The meta entries whose key starts with `prefix`, the prefix removed.
    pub fn meta_with(&self, prefix: &str) -> Vec<(&str, &str)> {
        self.meta
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v.as_str())))
            .collect()
    }

    /// Experiment names in order of first appearance.
    pub fn experiments(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for r in &self.runs {
            if !names.contains(&r.experiment.as_str()) {
                names.push(&r.experiment);
            }
        }
        names
    }

    pub fn runs_of(&self, experiment: &str) -> Vec<&RunRow> {
        self.runs
            .iter()
            .filter(|r| r.experiment == experiment)
            .collect()
    }

    pub fn curves_of(&self, experiment: &str) -> Vec<&CurveRow> {
        self.curves
            .iter()
            .filter(|r| r.experiment == experiment)
            .collect()
    }
}

/// One epoch of a drawn curve: the mean over seeds and its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub epoch: u32,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
}

/// The `split` (`train`, `val`) curve of `quantity` (`accuracy`, `loss`)
/// with the `level` Student's t interval of the mean at each epoch (a point
/// where fewer than two seeds reached it).
pub fn band(curves: &[&CurveRow], split: &str, quantity: &str, level: f64) -> Vec<Band> {
    let mean = format!("{split}_{quantity}_mean");
    let sd = format!("{split}_{quantity}_sd");
    curves
        .iter()
        .filter(|c| c.value(&mean).is_finite())
        .map(|c| {
            let m = c.value(&mean);
            let s = c.value(&sd);
            let h = if c.n >= 2 && s.is_finite() {
                fmnist_stats::t_quantile(0.5 + level / 2.0, (c.n - 1) as f64) * s
                    / (c.n as f64).sqrt()
            } else {
                0.0
            };
            Band {
                epoch: c.epoch,
                mean: m,
                lo: m - h,
                hi: m + h,
                n: c.n,
            }
        })
        .collect()
}

/// Whether the summary's `curves.csv` keeps the curves of experiment
/// `name`: those of an experiment the paper draws in a figure or states a
/// claim about (a sweep's points are summarised by `runs.csv` alone).
pub fn curves_needed(experiments: &[Experiment], name: &str) -> bool {
    experiments.iter().any(|e| {
        e.name == name
            && e.sweep.is_none()
            && (e.paper.figure.is_some() || !e.paper.claims.is_empty())
    })
}

/// Whether `runs.csv` keeps the per-class accuracies of experiment `name`:
/// those of an experiment that is not a sweep's point, the ones the
/// report's per-class table shows (a sweep's point is summarised by its
/// metrics and settings, which keeps the committed summary small).
pub fn classes_needed(experiments: &[Experiment], name: &str) -> bool {
    experiments
        .iter()
        .any(|e| e.name == name && e.sweep.is_none())
}

impl Summary {
    /// Keeps what the committed summary holds of the plan `experiments`:
    /// the curves [`curves_needed`] names and the per-class accuracies
    /// [`classes_needed`] names. Every writer of a summary and the diff
    /// call it, so both sides of a diff hold the same.
    pub fn retain_for(&mut self, experiments: &[Experiment]) {
        self.retain_curves(|name| curves_needed(experiments, name));
        for r in &mut self.runs {
            if !classes_needed(experiments, &r.experiment) {
                r.classes.clear();
            }
        }
    }

    /// Keeps the curves of the experiments `keep` names and drops the
    /// others': `curves.csv` holds only the curves a figure of the paper or
    /// a claim needs, which the caller knows from the experiment files
    /// ([`curves_needed`]).
    pub fn retain_curves(&mut self, keep: impl Fn(&str) -> bool) {
        self.curves.retain(|c| keep(&c.experiment));
    }

    /// Replaces one experiment's curves, e.g. with [`curve_rows`] of its
    /// stored runs.
    pub fn replace_curves(&mut self, experiment: &str, rows: Vec<CurveRow>) {
        let at = self
            .curves
            .iter()
            .position(|c| c.experiment == experiment)
            .unwrap_or(self.curves.len());
        self.curves.retain(|c| c.experiment != experiment);
        let at = at.min(self.curves.len());
        self.curves.splice(at..at, rows);
    }
}
