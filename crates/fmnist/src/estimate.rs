//! What a plan will cost before it starts: runs to train and the time they
//! take at the speed this machine showed on the runs it already stored.

use fmnist_experiments::RunSpec;
use fmnist_metrics::Store;

/// Matrix-product work of one epoch, in flops (see `bench::flops_per_epoch`),
/// the measure by which stored runs' speed is carried over to new ones.
fn epoch_flops(spec: &RunSpec, train: usize, val: usize) -> f64 {
    let c = &spec.config;
    let train = c.train_limit.map_or(train, |n| n.min(train));
    let val = c.val_limit.map_or(val, |n| n.min(val));
    let mut sizes = vec![784];
    sizes.extend(&c.model.hidden);
    sizes.push(10);
    crate::bench::flops_per_epoch(&sizes, train, val)
}

/// Seconds per flop of the runs stored on this machine (their median) in
/// the first of `stores` that holds any CPU run, or `None`.
fn seconds_per_flop(stores: &[Store]) -> Option<(f64, usize, std::path::PathBuf)> {
    stores.iter().find_map(|store| {
        let (rate, n) = median_rate(store)?;
        Some((rate, n, store.root().to_path_buf()))
    })
}

fn median_rate(store: &Store) -> Option<(f64, usize)> {
    let runs = store.read_all().ok()?;
    let mut rates: Vec<f64> = runs
        .iter()
        .filter(|r| r.manifest.device == "cpu" || r.manifest.device.starts_with("cpu"))
        .filter_map(|r| {
            let spec = RunSpec {
                experiment: String::new(),
                config: r.manifest.config.clone(),
                seed: r.manifest.seed,
                run_id: String::new(),
            };
            let epochs = r.rows.iter().map(|row| row.epoch).max()? as f64;
            let seconds: f64 = r
                .rows
                .iter()
                .filter(|row| row.split == fmnist_metrics::Split::Train)
                .map(|row| row.seconds)
                .sum();
            Some(seconds / (epochs * epoch_flops(&spec, 60_000, 10_000)))
        })
        .filter(|rate| rate.is_finite() && *rate > 0.0)
        .collect();
    if rates.is_empty() {
        return None;
    }
    rates.sort_by(f64::total_cmp);
    Some((rates[rates.len() / 2], rates.len()))
}

/// "about 12 min with 2 jobs at the speed of the 33 runs stored in results".
pub fn describe(missing: &[&RunSpec], stores: &[Store], jobs: usize) -> String {
    if missing.is_empty() {
        return "nothing to do".into();
    }
    let epochs: usize = missing.iter().map(|r| r.config.epochs).sum();
    let flops: f64 = missing
        .iter()
        .map(|r| r.config.epochs as f64 * epoch_flops(r, 60_000, 10_000))
        .sum();
    match seconds_per_flop(stores) {
        Some((rate, n, root)) => {
            let seconds = flops * rate / jobs.max(1) as f64;
            format!(
                "{epochs} epochs, about {} with {jobs} jobs at the speed of the {n} runs stored in {}",
                human(seconds),
                root.display()
            )
        }
        None => format!(
            "{epochs} epochs ({:.0} TFLOP of matrix products); no run is stored yet to \
             measure this machine's speed (`cargo xtask bench` does)",
            flops / 1e12
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
    fn durations_read_naturally() {
        assert_eq!(human(42.0), "42 s");
        assert_eq!(human(600.0), "10 min");
        assert_eq!(human(7200.0), "2.0 h");
    }
}
