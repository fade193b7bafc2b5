//! Reading numbers out of runs and aggregating them over seeds.
//!
//! Every figure and table shows a mean over seeds with its spread; keeping
//! the arithmetic here means the figures, the results table and the claim
//! checks cannot disagree about what "final" or "best" means.

use fmnist_metrics::{MetricRow, Split, StoredRun};

pub(crate) use fmnist_experiments::Quantity;

/// Reading a quantity out of a metric row (NaN where it was not measured).
pub(crate) trait Of {
    fn of(self, row: &MetricRow) -> f64;
}

impl Of for Quantity {
    fn of(self, row: &MetricRow) -> f64 {
        row.values[self]
    }
}

/// Mean, spread and range of one number over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (divides by n - 1, as `numpy.std(ddof=1)`);
    /// 0 for a single seed, where no spread can be estimated.
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// `None` for no values.
pub(crate) fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mean = mean(values.iter().copied()).expect("not empty");
    let std = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Summary {
        n,
        mean,
        std,
        min,
        max,
    })
}

/// One epoch of a curve aggregated over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BandPoint {
    pub epoch: u32,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// How many seeds reached this epoch (fewer when a run diverged).
    pub n: usize,
}

/// The per-epoch mean and min-max of `split`/`quantity` over `runs`, over the
/// seeds that reached each epoch. Non-finite values are left out so that a
/// diverging run cannot blow up the axes.
pub(crate) fn band(runs: &[&StoredRun], split: Split, quantity: Quantity) -> Vec<BandPoint> {
    let mut epochs: Vec<u32> = runs
        .iter()
        .flat_map(|r| r.rows.iter().filter(|x| x.split == split).map(|x| x.epoch))
        .collect();
    epochs.sort_unstable();
    epochs.dedup();
    epochs
        .into_iter()
        .filter_map(|epoch| {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| row(r, split, epoch))
                .map(|x| quantity.of(x))
                .filter(|v| v.is_finite())
                .collect();
            summarize(&values).map(|s| BandPoint {
                epoch,
                mean: s.mean,
                min: s.min,
                max: s.max,
                n: s.n,
            })
        })
        .collect()
}

pub(crate) fn row(run: &StoredRun, split: Split, epoch: u32) -> Option<&MetricRow> {
    run.rows
        .iter()
        .find(|r| r.split == split && r.epoch == epoch)
}

/// The last epoch recorded for `split`.
pub(crate) fn last_epoch(run: &StoredRun, split: Split) -> Option<u32> {
    run.rows
        .iter()
        .filter(|r| r.split == split)
        .map(|r| r.epoch)
        .max()
}

pub(crate) fn final_row(run: &StoredRun, split: Split) -> Option<&MetricRow> {
    row(run, split, last_epoch(run, split)?)
}

/// The epoch of highest validation accuracy (the earliest on ties).
pub(crate) fn best_val_epoch(run: &StoredRun) -> Option<u32> {
    run.rows
        .iter()
        .filter(|r| r.split == Split::Val && r.values[Quantity::Accuracy].is_finite())
        .fold(None::<&MetricRow>, |best, r| match best {
            Some(b)
                if b.values[Quantity::Accuracy] > r.values[Quantity::Accuracy]
                    || (b.values[Quantity::Accuracy] == r.values[Quantity::Accuracy]
                        && b.epoch < r.epoch) =>
            {
                Some(b)
            }
            _ => Some(r),
        })
        .map(|r| r.epoch)
}

/// The value of `split`/`q` at the last recorded epoch.
pub(crate) fn final_value(run: &StoredRun, split: Split, q: Quantity) -> Option<f64> {
    final_row(run, split).map(|r| q.of(r))
}

/// The highest validation accuracy of the run (at [`best_val_epoch`]).
pub(crate) fn best_val_accuracy(run: &StoredRun) -> Option<f64> {
    let e = best_val_epoch(run)?;
    row(run, Split::Val, e).map(|r| r.values[Quantity::Accuracy])
}

/// One number per run, summarised over the runs (seeds); runs without the
/// number, or with a non-finite one, are left out.
pub(crate) fn over_runs(
    runs: &[&StoredRun],
    f: impl Fn(&StoredRun) -> Option<f64>,
) -> Option<Summary> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| f(r))
        .filter(|v| v.is_finite())
        .collect();
    summarize(&values)
}

/// The arithmetic mean; `None` for no values.
pub(crate) fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (n, sum) = values
        .into_iter()
        .fold((0usize, 0.0), |(n, sum), v| (n + 1, sum + v));
    (n > 0).then(|| sum / n as f64)
}

/// Mean wall time of an epoch (training and evaluation) over the run. The
/// store repeats an epoch's time on its train and val rows; each epoch counts once.
pub(crate) fn seconds_per_epoch(run: &StoredRun) -> Option<f64> {
    let mut epochs: Vec<(u32, f64)> = run.rows.iter().map(|r| (r.epoch, r.seconds)).collect();
    epochs.sort_by_key(|e| e.0);
    epochs.dedup_by_key(|e| e.0);
    let values: Vec<f64> = epochs.into_iter().map(|e| e.1).collect();
    summarize(&values).map(|s| s.mean)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Synthetic runs for the tests of every module.

    use fmnist_experiments::{InputConfig, ModelConfig, OptimizerConfig, RunConfig};
    use fmnist_metrics::{MetricRow, RunManifest, RunStatus, Split, StoredRun};

    pub(crate) fn config(epochs: usize) -> RunConfig {
        RunConfig {
            model: ModelConfig {
                hidden: vec![128, 64],
                dropout: 0.2,
                init: "pytorch-linear".into(),
            },
            input: InputConfig {
                mean: 0.5,
                std: 0.5,
            },
            optimizer: OptimizerConfig::Sgd {
                lr: 0.001,
                momentum: 0.0,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
            batch_size: 100,
            epochs,
            train_limit: None,
            val_limit: None,
        }
    }

    /// One epoch: ((train, val) accuracy, (train, val) loss).
    pub(crate) type Epoch = ((f64, f64), (f64, f64));

    /// A run with the given epochs, the first being epoch 1.
    pub(crate) fn run(experiment: &str, seed: u64, epochs: &[Epoch]) -> StoredRun {
        let mut rows = Vec::new();
        for (i, ((ta, va), (tl, vl))) in epochs.iter().enumerate() {
            let epoch = i as u32 + 1;
            for (split, accuracy, loss) in [(Split::Train, ta, tl), (Split::Val, va, vl)] {
                rows.push(MetricRow {
                    epoch,
                    split,
                    values: fmnist_experiments::Measures::default()
                        .with(super::Quantity::Loss, *loss)
                        .with(super::Quantity::Accuracy, *accuracy),
                    seconds: 2.0 + seed as f64,
                });
            }
        }
        StoredRun {
            manifest: RunManifest {
                run_id: format!("{experiment}-{seed}"),
                experiment: experiment.into(),
                experiment_file: format!("experiments/{experiment}.toml"),
                seed,
                config: config(epochs.len()),
                status: RunStatus::Complete,
                data: vec![],
                started_at: "2024-01-01T00:00:00Z".into(),
                finished_at: "2024-01-01T00:01:00Z".into(),
                wall_seconds: 60.0,
                epoch_seconds: vec![],
                device: "cpu".into(),
                threads: 2,
                training_code_version: 1,
                classes: vec![],
                architecture: fmnist_metrics::Architecture {
                    layer_sizes: vec![784, 128, 64, 10],
                    torch: String::new(),
                },
                resumed_from_epoch: None,

                provenance: fmnist_metrics::Provenance {
                    git_commit: None,
                    git_dirty: None,
                    project_version: "0.0.0".into(),
                    rustc_version: "1.95".into(),
                    host: "test".into(),
                    machine: String::new(),
                },
            },
            rows,
            confusion: vec![],
            mistakes: vec![],
            dir: std::path::PathBuf::from(format!("/nonexistent/{experiment}/{seed}")),
        }
    }

    /// A run with val accuracy `acc[e]` per epoch and everything else derived.
    pub(crate) fn simple(experiment: &str, seed: u64, val_acc: &[f64]) -> StoredRun {
        let epochs: Vec<_> = val_acc
            .iter()
            .map(|&a| ((a + 0.01, a), (1.0 - a, 1.05 - a)))
            .collect();
        run(experiment, seed, &epochs)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn summary_uses_the_sample_standard_deviation() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.n, 4);
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (1.0, 4.0));
        let one = summarize(&[0.7]).unwrap();
        assert_eq!((one.mean, one.std, one.min, one.max), (0.7, 0.0, 0.7, 0.7));
        assert!(summarize(&[]).is_none());
    }

    #[test]
    fn band_aggregates_per_epoch_over_the_seeds_that_reached_it() {
        let a = simple("x", 0, &[0.5, 0.6, 0.7]);
        let b = simple("x", 1, &[0.7, 0.8]);
        let points = band(&[&a, &b], Split::Val, Quantity::Accuracy);
        assert_eq!(points.len(), 3);
        assert!((points[0].mean - 0.6).abs() < 1e-12);
        assert_eq!((points[0].min, points[0].max, points[0].n), (0.5, 0.7, 2));
        assert_eq!((points[2].mean, points[2].n), (0.7, 1));
    }

    #[test]
    fn final_best_and_timing() {
        let r = simple("x", 1, &[0.5, 0.9, 0.9, 0.8]);
        assert_eq!(last_epoch(&r, Split::Val), Some(4));
        assert_eq!(
            final_row(&r, Split::Val).unwrap().values[Quantity::Accuracy],
            0.8
        );
        assert_eq!(best_val_epoch(&r), Some(2), "earliest of the tied best");
        assert_eq!(seconds_per_epoch(&r), Some(3.0));
        assert_eq!(final_value(&r, Split::Val, Quantity::Accuracy), Some(0.8));
        assert_eq!(best_val_accuracy(&r), Some(0.9));
    }

    #[test]
    fn over_runs_leaves_out_missing_and_non_finite_values() {
        let a = simple("x", 0, &[0.5, 0.6]);
        let b = simple("x", 1, &[0.7, 0.8]);
        let mut c = simple("x", 2, &[0.7, 0.1]);
        c.rows.retain(|r| r.epoch == 1);
        c.rows
            .iter_mut()
            .for_each(|r| r.values.set(Quantity::Accuracy, f64::NAN));
        let s = over_runs(&[&a, &b, &c], |r| {
            final_value(r, Split::Val, Quantity::Accuracy)
        })
        .unwrap();
        assert_eq!(s.n, 2);
        assert!((s.mean - 0.7).abs() < 1e-12);
        assert_eq!(mean([]), None);
        assert_eq!(mean([1.0, 2.0]), Some(1.5));
    }
}
