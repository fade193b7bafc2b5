//! Synthetic stored runs for the tests of the crates that read runs (claims,
//! report, figures, summary): one place, so that every test builds runs the
//! same way. Not used by the pipeline itself.

use fmnist_experiments::RunConfig;

use crate::{
    Architecture, Measures, MetricRow, Provenance, Quantity, RunManifest, RunStatus, Split,
    StoredRun,
};

/// Table I with `epochs` epochs.
pub fn config(epochs: usize) -> RunConfig {
    RunConfig {
        epochs,
        ..RunConfig::table_one()
    }
}

/// One epoch: ((train, val) accuracy, (train, val) loss).
pub type Epoch = ((f64, f64), (f64, f64));

/// A run with the given epochs, the first being epoch 1.
pub fn run(experiment: &str, seed: u64, epochs: &[Epoch]) -> StoredRun {
    let mut rows = Vec::new();
    for (i, ((ta, va), (tl, vl))) in epochs.iter().enumerate() {
        let epoch = i as u32 + 1;
        for (split, accuracy, loss) in [(Split::Train, ta, tl), (Split::Val, va, vl)] {
            rows.push(MetricRow {
                epoch,
                split,
                values: Measures::default()
                    .with(Quantity::Loss, *loss)
                    .with(Quantity::Accuracy, *accuracy),
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
            architecture: Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: String::new(),
            },
            resumed_from_epoch: None,
            stopped_early: None,

            provenance: Provenance {
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
pub fn simple(experiment: &str, seed: u64, val_acc: &[f64]) -> StoredRun {
    let epochs: Vec<_> = val_acc
        .iter()
        .map(|&a| ((a + 0.01, a), (1.0 - a, 1.05 - a)))
        .collect();
    run(experiment, seed, &epochs)
}
