//! What a plan will cost before it starts: runs to train and the time they
//! take at the speed this machine showed on the runs it already stored
//! (their wall time per unit of work, by batch size).

use fmnist_experiments::RunSpec;
use fmnist_metrics::Store;

/// The training images of the data set and its official test images.
const TRAIN_IMAGES: usize = 60_000;
const TEST_IMAGES: usize = 10_000;

/// Matrix-product work of one epoch, in flops ([`flops_per_epoch`]),
/// the measure by which stored runs' speed is carried over to new ones.
/// The images follow `fmnist_train::RunSets`: with a validation split the
/// run trains on the images not held out, validates on those held out and
/// measures the official test set too (a third forward pass).
fn epoch_flops(spec: &RunSpec) -> f64 {
    let c = &spec.config;
    let (train, evaluated) = match c.validation {
        None => (TRAIN_IMAGES, vec![TEST_IMAGES]),
        Some(split) => (TRAIN_IMAGES - split.images, vec![split.images, TEST_IMAGES]),
    };
    let train = c.train_limit.map_or(train, |n| n.min(train));
    let evaluated: usize = evaluated
        .into_iter()
        .map(|n| c.val_limit.map_or(n, |l| l.min(n)))
        .sum();
    flops_per_epoch(&c.model.layer_sizes(), train, evaluated)
}

/// The matrix-product work of one epoch of a network with these layer
/// sizes: forward and backward over `train` images, forward over `val`.
pub fn flops_per_epoch(sizes: &[usize], train: usize, val: usize) -> f64 {
    let products: Vec<f64> = sizes.windows(2).map(|w| (w[0] * w[1]) as f64).collect();
    let forward: f64 = products.iter().sum::<f64>() * 2.0;
    let backward_inputs: f64 = products[1..].iter().sum::<f64>() * 2.0;
    train as f64 * (2.0 * forward + backward_inputs) + val as f64 * forward
}

/// Each stored CPU run's epoch seconds per flop, with its batch size, and
/// its seconds outside the epochs (start-up, evaluation per class, storing).
struct Rates {
    rates: Vec<(usize, f64)>,
    overheads: Vec<f64>,
    root: std::path::PathBuf,
}

impl Rates {
    /// The runs stored in the first of `stores` that holds any CPU run.
    fn measure(stores: &[Store]) -> Option<Rates> {
        stores.iter().find_map(|store| {
            let (rates, overheads): (Vec<_>, Vec<_>) = rates(store).into_iter().unzip();
            (!rates.is_empty()).then(|| Rates {
                rates,
                overheads,
                root: store.root().to_path_buf(),
            })
        })
    }

    /// The median rate of the stored runs of this batch size (the cost of
    /// a step beyond its matrix products depends on it), else of all.
    fn for_batch(&self, batch_size: usize) -> f64 {
        let same: Vec<f64> = self
            .rates
            .iter()
            .filter(|(b, _)| *b == batch_size)
            .map(|(_, r)| *r)
            .collect();
        if same.is_empty() {
            median(self.rates.iter().map(|(_, r)| *r).collect())
        } else {
            median(same)
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Each stored CPU run's epoch time per flop (with its batch size) and its
/// wall time beyond its epochs; runs resumed after an interruption are left
/// out, since their wall time covers only the end.
fn rates(store: &Store) -> Vec<((usize, f64), f64)> {
    let Ok(runs) = store.read_all() else {
        return Vec::new();
    };
    runs.iter()
        // A pruned run is stored from its checkpoint: no wall time of its own.
        .filter(|r| !matches!(r.manifest.status, fmnist_metrics::RunStatus::Pruned { .. }))
        .filter(|r| r.manifest.device.starts_with("cpu") && r.manifest.resumed_from_epoch.is_none())
        .filter_map(|r| {
            let spec = RunSpec {
                experiment: String::new(),
                config: r.manifest.config.clone(),
                seed: r.manifest.seed,
                run_id: String::new(),
            };
            let epochs = r.rows.iter().map(|row| row.epoch).max()? as f64;
            let epoch_seconds: f64 = r.manifest.epoch_seconds.iter().sum();
            let rate = epoch_seconds / (epochs * epoch_flops(&spec));
            let overhead = (r.manifest.wall_seconds - epoch_seconds).max(0.0);
            (rate.is_finite() && rate > 0.0)
                .then_some(((r.manifest.config.batch_size, rate), overhead))
        })
        .collect()
}

/// "about 12 min with 2 jobs, from the wall times of the 33 runs stored in
/// results (per unit of work, same batch size where stored)".
pub fn describe(missing: &[&RunSpec], stores: &[Store], jobs: usize) -> String {
    if missing.is_empty() {
        return "nothing to do".into();
    }
    let epochs: usize = missing.iter().map(|r| r.config.epochs).sum();
    let flops = |r: &RunSpec| r.config.epochs as f64 * epoch_flops(r);
    match Rates::measure(stores) {
        Some(rates) => {
            let overhead = median(rates.overheads.clone());
            let seconds: f64 = missing
                .iter()
                .map(|r| flops(r) * rates.for_batch(r.config.batch_size) + overhead)
                .sum::<f64>()
                / jobs.max(1) as f64;
            format!(
                "{epochs} epochs, about {} with {jobs} jobs: an estimate from the {} runs \
                 stored in {} (their epoch time per unit of matrix-product work, of runs of \
                 the same batch size where stored, plus their median time outside the epochs)",
                human(seconds),
                rates.rates.len(),
                rates.root.display()
            )
        }
        None => format!(
            "{epochs} epochs ({:.0} TFLOP of matrix products); no run is stored yet to \
             measure this machine's speed (`cargo xtask bench` does)",
            missing.iter().map(|r| flops(r)).sum::<f64>() / 1e12
        ),
    }
}

fn human(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_matrix_products_of_an_epoch() {
        // 784-128-64-10: forward 2*(100352 + 8192 + 640) = 218,368 flops per image.
        let f = flops_per_epoch(&[784, 128, 64, 10], 1, 0);
        assert_eq!(f, 2.0 * 218_368.0 + 2.0 * (8192.0 + 640.0));
        let e = flops_per_epoch(&[784, 128, 64, 10], 60_000, 10_000);
        assert!((e / 1e9 - 29.45).abs() < 0.05, "{e}");
    }

    #[test]
    fn a_validation_split_trains_on_fewer_images_and_measures_the_test_set_too() {
        let spec = |validation| RunSpec {
            experiment: String::new(),
            config: fmnist_experiments::RunConfig {
                validation,
                ..fmnist_experiments::RunConfig::table_one()
            },
            seed: 0,
            run_id: String::new(),
        };
        let sizes = fmnist_experiments::RunConfig::table_one()
            .model
            .layer_sizes();
        let paper = epoch_flops(&spec(None));
        assert_eq!(paper, flops_per_epoch(&sizes, 60_000, 10_000));
        let split = fmnist_experiments::ValidationSplit {
            images: 10_000,
            seed: 0,
        };
        let held_out = epoch_flops(&spec(Some(split)));
        assert_eq!(held_out, flops_per_epoch(&sizes, 50_000, 20_000));
        // Fewer images trained on outweighs the extra forward pass.
        assert!(held_out < paper);
    }

    #[test]
    fn the_rate_of_runs_of_the_same_batch_size_is_preferred() {
        let rates = Rates {
            rates: vec![(100, 1.0), (100, 2.0), (100, 3.0), (50, 5.0)],
            overheads: vec![0.0; 4],
            root: "results".into(),
        };
        assert_eq!(rates.for_batch(50), 5.0);
        assert_eq!(rates.for_batch(100), 2.0);
        // None of that size: the median of all.
        assert_eq!(rates.for_batch(200), 3.0);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(42.0), "42 s");
        assert_eq!(human(600.0), "10 min");
        assert_eq!(human(7200.0), "2.0 h");
    }
}
