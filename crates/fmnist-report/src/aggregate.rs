//! Aggregating the numbers of runs over seeds: the one module with
//! arithmetic over runs (curves, final and best values, mean ± sample std,
//! confusion matrices summed over seeds). A number is read out of a run
//! through `StoredRun`'s accessors (`value`, `row`, `last_epoch`,
//! `best_epoch`), directly.
//!
//! Every figure and table shows a mean over seeds with its spread; keeping
//! the arithmetic here means the figures, the results table and the claim
//! checks cannot disagree about what "final" or "best" means.

use fmnist_metrics::{At, ConfusionCell, Split, StoredRun};

/// The per-epoch quantities, one vocabulary with the trainer, the store and
/// the claims language.
pub use fmnist_experiments::Quantity;

/// Mean, spread and range of one number over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStats {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (divides by n - 1, as `numpy.std(ddof=1)`);
    /// 0 for a single seed, where no spread can be estimated.
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// The [`LEVEL`] Student's t confidence interval of the mean; `None` for
    /// one seed, where no spread can be estimated.
    pub ci: Option<(f64, f64)>,
}

/// The level of every confidence interval of a mean in the tables and
/// figures (the claims file declares the level of the claim checks).
pub const LEVEL: f64 = 0.95;

/// The interval method in words, stated once in the report.
pub const INTERVAL_METHOD: &str = "Student's t interval of the mean over seeds, \
mean ± t(0.975, n − 1) · s / √n with s the sample standard deviation";

/// `None` for no values.
pub fn summarize(values: &[f64]) -> Option<SeedStats> {
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
    let ci = fmnist_stats::mean_interval(values, LEVEL)
        .ok()
        .map(|m| (m.lo(), m.hi()));
    Some(SeedStats {
        n,
        mean,
        std,
        min,
        max,
        ci,
    })
}

/// One epoch of a curve aggregated over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
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
pub fn band(runs: &[&StoredRun], split: Split, quantity: Quantity) -> Vec<BandPoint> {
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
                .filter_map(|r| r.row(split, epoch))
                // NaN where not measured (a run stored before `quantity` existed).
                .map(|x| x.values[quantity])
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

/// The value of `split`/`q` at the last recorded epoch.
pub fn final_value(run: &StoredRun, split: Split, q: Quantity) -> Option<f64> {
    run.value(split, q, At::Last).ok()
}

/// The highest validation accuracy of the run (at [`StoredRun::best_epoch`]).
pub fn best_val_accuracy(run: &StoredRun) -> Option<f64> {
    run.value(Split::Val, Quantity::Accuracy, At::Best).ok()
}

/// One number per run, summarised over the runs (seeds); runs without the
/// number, or with a non-finite one, are left out.
pub fn over_runs(runs: &[&StoredRun], f: impl Fn(&StoredRun) -> Option<f64>) -> Option<SeedStats> {
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| f(r))
        .filter(|v| v.is_finite())
        .collect();
    summarize(&values)
}

/// The arithmetic mean; `None` for no values.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (n, sum) = values
        .into_iter()
        .fold((0usize, 0.0), |(n, sum), v| (n + 1, sum + v));
    (n > 0).then(|| sum / n as f64)
}

/// Mean wall time of an epoch (training and evaluation) over the run. The
/// store repeats an epoch's time on its train and val rows; each epoch counts once.
pub fn seconds_per_epoch(run: &StoredRun) -> Option<f64> {
    let mut epochs: Vec<(u32, f64)> = run.rows.iter().map(|r| (r.epoch, r.seconds)).collect();
    epochs.sort_by_key(|e| e.0);
    epochs.dedup_by_key(|e| e.0);
    let values: Vec<f64> = epochs.into_iter().map(|e| e.1).collect();
    summarize(&values).map(|s| s.mean)
}

/// The numbers of a group of runs (a sweep point: one experiment's seeds),
/// each over the seeds (non-finite values left out).
#[derive(Debug, Clone, PartialEq)]
pub struct PointStats {
    pub final_acc: Option<SeedStats>,
    pub best_acc: Option<SeedStats>,
    pub best_epoch: Option<SeedStats>,
    pub final_loss: Option<SeedStats>,
    pub seeds: Vec<u64>,
}

/// [`PointStats`] of `runs`.
pub fn point_stats(runs: &[&StoredRun]) -> PointStats {
    let best_row = |r: &StoredRun| r.best_epoch().and_then(|e| r.row(Split::Val, e).cloned());
    PointStats {
        final_acc: over_runs(runs, |r| final_value(r, Split::Val, Quantity::Accuracy)),
        best_acc: over_runs(runs, |r| best_row(r).map(|x| x.values[Quantity::Accuracy])),
        best_epoch: over_runs(runs, |r| best_row(r).map(|x| f64::from(x.epoch))),
        final_loss: over_runs(runs, |r| final_value(r, Split::Val, Quantity::Loss)),
        seeds: runs.iter().map(|r| r.manifest.seed).collect(),
    }
}

// ------------------------------------------------------ confusion

/// A confusion matrix: `count(t, p)` images of true class `t` predicted as `p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    /// Row-major, rows = true class.
    counts: Vec<u64>,
}

/// One class's numbers from a confusion matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMetrics {
    /// Images of this class.
    pub support: u64,
    /// Of those, classified as this class.
    pub correct: u64,
    /// Images of any class predicted as this class.
    pub predicted: u64,
    /// Recall, `correct / support`: the per-class accuracy. `None` without images.
    pub accuracy: Option<f64>,
    /// `correct / predicted`; `None` when nothing was predicted as this class.
    pub precision: Option<f64>,
}

impl Confusion {
    /// The matrix of `cells`, at least `classes` x `classes`; a cell naming
    /// a larger class index grows it rather than being dropped, so that the
    /// totals stay those of the run.
    pub fn from_cells(cells: &[ConfusionCell], classes: usize) -> Confusion {
        let n = cells
            .iter()
            .map(|c| usize::from(c.true_class.max(c.predicted_class)) + 1)
            .max()
            .unwrap_or(0)
            .max(classes);
        let mut counts = vec![0u64; n * n];
        for c in cells {
            counts[usize::from(c.true_class) * n + usize::from(c.predicted_class)] +=
                u64::from(c.count);
        }
        Confusion { classes: n, counts }
    }

    /// The sum of the matrices of `runs` (images counted once per seed);
    /// `None` when no run stored one.
    pub fn summed(runs: &[&StoredRun], classes: usize) -> Option<Confusion> {
        let mats: Vec<Confusion> = runs
            .iter()
            .filter(|r| !r.confusion.is_empty())
            .map(|r| Confusion::from_cells(&r.confusion, classes))
            .collect();
        let n = mats.iter().map(|m| m.classes).max()?;
        let mut sum = Confusion {
            classes: n,
            counts: vec![0; n * n],
        };
        for m in &mats {
            for t in 0..m.classes {
                for p in 0..m.classes {
                    sum.counts[t * n + p] += m.count(t, p);
                }
            }
        }
        Some(sum)
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn count(&self, true_class: usize, predicted: usize) -> u64 {
        self.counts[true_class * self.classes + predicted]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| self.count(c, c)).sum()
    }

    /// The diagonal over the total: the run's validation accuracy.
    pub fn accuracy(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.correct() as f64 / total as f64)
    }

    /// `count(t, p)` as a percentage of the images of class `t`.
    pub fn row_percent(&self, true_class: usize, predicted: usize) -> Option<f64> {
        let support: u64 = (0..self.classes).map(|p| self.count(true_class, p)).sum();
        (support > 0).then(|| 100.0 * self.count(true_class, predicted) as f64 / support as f64)
    }

    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.classes)
            .map(|c| {
                let support: u64 = (0..self.classes).map(|p| self.count(c, p)).sum();
                let predicted: u64 = (0..self.classes).map(|t| self.count(t, c)).sum();
                let correct = self.count(c, c);
                ClassMetrics {
                    support,
                    correct,
                    predicted,
                    accuracy: (support > 0).then(|| correct as f64 / support as f64),
                    precision: (predicted > 0).then(|| correct as f64 / predicted as f64),
                }
            })
            .collect()
    }
    /// The `n` largest cells off the diagonal as a share of their true
    /// class, largest first (ties: earlier true class, then earlier
    /// prediction): `(true class, predicted class, percent)`. Empty cells
    /// are left out.
    pub fn top_confusions(&self, n: usize) -> Vec<(usize, usize, f64)> {
        let mut cells: Vec<(usize, usize, f64)> = (0..self.classes)
            .flat_map(|t| (0..self.classes).map(move |p| (t, p)))
            .filter(|&(t, p)| t != p && self.count(t, p) > 0)
            .filter_map(|(t, p)| self.row_percent(t, p).map(|v| (t, p, v)))
            .collect();
        // Stable: ties keep row-major order.
        cells.sort_by(|a, b| b.2.total_cmp(&a.2));
        cells.truncate(n);
        cells
    }
}

/// Each class's accuracy (recall) over the matrices of several seeds, for
/// classes `0..classes`; `None` for a class no matrix has images of.
pub fn class_accuracy_over_seeds(mats: &[Confusion], classes: usize) -> Vec<Option<SeedStats>> {
    let per: Vec<Vec<ClassMetrics>> = mats.iter().map(Confusion::per_class).collect();
    (0..classes)
        .map(|c| {
            let values: Vec<f64> = per
                .iter()
                .filter_map(|m| m.get(c).and_then(|x| x.accuracy))
                .collect();
            summarize(&values)
        })
        .collect()
}

/// The overall accuracy (diagonal over total) over the matrices of several seeds.
pub fn accuracy_over_seeds(mats: &[Confusion]) -> Option<SeedStats> {
    let values: Vec<f64> = mats.iter().filter_map(Confusion::accuracy).collect();
    summarize(&values)
}

/// The images per class of one seed's matrix, as (fewest, most) over the
/// classes that have any and over the seeds; `None` without images.
pub fn images_per_class(mats: &[Confusion]) -> Option<(u64, u64)> {
    mats.iter()
        .flat_map(|m| m.per_class().into_iter().map(|c| c.support))
        .filter(|&n| n > 0)
        .fold(None, |range, n| match range {
            None => Some((n, n)),
            Some((lo, hi)) => Some((lo.min(n), hi.max(n))),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::*;

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
        assert_eq!(one.ci, None);
        // scipy.stats.t.interval(0.95, 3, loc=2.5, scale=sqrt(5/3)/2)
        let (lo, hi) = s.ci.unwrap();
        assert!((lo - 0.445739743).abs() < 1e-6 && (hi - 4.554260257).abs() < 1e-6);
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
        assert_eq!(r.last_epoch(Split::Val), Some(4));
        assert_eq!(
            r.row(Split::Val, 4).unwrap().values[Quantity::Accuracy],
            0.8
        );
        assert_eq!(r.best_epoch(), Some(2), "earliest of the tied best");
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
    #[test]
    fn per_class_numbers_come_from_the_confusion_matrix() {
        let m = Confusion::from_cells(&cells(&MATRIX), 10);
        assert_eq!(m.total(), 10_000);
        assert_eq!(m.correct(), 8825);
        let pc = m.per_class();
        assert_eq!(pc[6].support, 1000);
        assert_eq!(pc[6].accuracy, Some(0.64));
        // Predicted as shirt: the shirt column.
        assert_eq!(pc[6].predicted, 90 + 2 + 75 + 25 + 45 + 640 + 5);
        assert!((pc[6].precision.unwrap() - 640.0 / 882.0).abs() < 1e-12);
        assert_eq!(m.row_percent(6, 0), Some(14.0));
        // The diagonal over the total is the stored final validation accuracy.
        let run = run_with("baseline", 0, &MATRIX);
        let stored = final_value(&run, Split::Val, Quantity::Accuracy).unwrap();
        assert_eq!(stored, 0.8825);
        let summed: u64 = pc.iter().map(|c| c.correct).sum();
        let support: u64 = pc.iter().map(|c| c.support).sum();
        assert!((summed as f64 / support as f64 - stored).abs() < 1e-12);
        assert_eq!(m.accuracy(), Some(stored));
    }

    #[test]
    fn cells_beyond_the_named_classes_grow_the_matrix_and_empty_classes_have_no_rate() {
        let cells = [
            ConfusionCell {
                true_class: 0,
                predicted_class: 3,
                count: 4,
            },
            ConfusionCell {
                true_class: 0,
                predicted_class: 0,
                count: 6,
            },
        ];
        let m = Confusion::from_cells(&cells, 2);
        assert_eq!(m.classes(), 4);
        assert_eq!(m.accuracy(), Some(0.6));
        let pc = m.per_class();
        assert_eq!(pc[1].accuracy, None);
        assert_eq!(pc[1].precision, None, "never predicted: undefined, not 0");
        assert_eq!(pc[3].precision, Some(0.0));
        assert_eq!(pc[0].precision, Some(1.0));
        assert!(Confusion::summed(&[], 10).is_none());
    }
}
