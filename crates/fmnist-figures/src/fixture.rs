//! The shared test fixture: one test `RunConfig`, synthetic runs, a
//! realistic Fashion-MNIST confusion matrix and the data to draw mistakes,
//! for the unit tests of every module.

use fmnist_data::{CLASS_NAMES, ImageSet};
use fmnist_experiments::RunConfig;
use fmnist_metrics::{
    ConfusionCell, Measures, MetricRow, Mistake, Quantity, RunManifest, RunStatus, Split, StoredRun,
};

/// Table I with `epochs` epochs.
pub(crate) fn config(epochs: usize) -> RunConfig {
    RunConfig {
        epochs,
        ..RunConfig::table_one()
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
            architecture: fmnist_metrics::Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: String::new(),
            },
            resumed_from_epoch: None,
            stopped_early: None,

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

/// Copies a figure (PNG and SVG) into `$FIGS_LOOK_DIR`, when set, for a
/// person to look at.
pub(crate) fn look(png: &std::path::Path, name: &str) {
    if let Ok(out) = std::env::var("FIGS_LOOK_DIR") {
        let out = std::path::Path::new(&out);
        std::fs::copy(png, out.join(format!("{name}.png"))).unwrap();
        std::fs::copy(png.with_extension("svg"), out.join(format!("{name}.svg"))).unwrap();
    }
}

/// The contents of an SVG's `<text>` elements, trimmed.
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

pub(crate) fn names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

/// Rows = true class, 1000 images each, as an MLP of ~88 % gets them:
/// shirts go to T-shirt/top, pullover and coat; coats and pullovers swap.
pub(crate) const MATRIX: [[u32; 10]; 10] = [
    [850, 2, 15, 30, 3, 1, 90, 0, 9, 0],
    [3, 970, 2, 18, 4, 0, 2, 0, 1, 0],
    [15, 0, 800, 10, 95, 0, 75, 0, 5, 0],
    [25, 10, 10, 890, 35, 0, 25, 0, 5, 0],
    [1, 0, 90, 30, 830, 0, 45, 0, 4, 0],
    [0, 0, 0, 0, 0, 960, 0, 25, 3, 12],
    [140, 0, 95, 30, 80, 0, 640, 0, 15, 0],
    [0, 0, 0, 0, 0, 20, 0, 960, 0, 20],
    [5, 0, 5, 5, 5, 3, 5, 2, 970, 0],
    [0, 0, 0, 0, 0, 8, 0, 35, 2, 955],
];

pub(crate) fn cells(m: &[[u32; 10]; 10]) -> Vec<ConfusionCell> {
    let mut out = Vec::new();
    for (t, row) in m.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            out.push(ConfusionCell {
                true_class: t as u8,
                predicted_class: p as u8,
                count,
            });
        }
    }
    out
}

/// A run whose final validation accuracy is that of `m`.
pub(crate) fn run_with(experiment: &str, seed: u64, m: &[[u32; 10]; 10]) -> StoredRun {
    let correct: u32 = (0..10).map(|c| m[c][c]).sum();
    let total: u32 = m.iter().flatten().sum();
    let acc = f64::from(correct) / f64::from(total);
    let mut r = simple(experiment, seed, &[acc - 0.05, acc]);
    r.confusion = cells(m);
    r
}

/// `MATRIX` with `k` shirts moved from the diagonal to T-shirt/top.
pub(crate) fn worse_shirts(k: u32) -> [[u32; 10]; 10] {
    let mut m = MATRIX;
    m[6][6] -= k;
    m[6][0] += k;
    m
}

/// 400 validation images, label `i % 10`, each a garment-like blob
/// whose shape depends on the class, so that a figure can be looked at.
pub(crate) fn validation() -> ImageSet {
    let (len, rows, cols) = (400usize, 28usize, 28usize);
    let mut images = Vec::with_capacity(len * rows * cols);
    let labels: Vec<u8> = (0..len).map(|i| (i % 10) as u8).collect();
    for (i, &l) in labels.iter().enumerate() {
        let half_w = 4 + usize::from(l);
        let top = 3 + (i / 10) % 5;
        for y in 0..rows {
            for x in 0..cols {
                let inside = y >= top && y < 25 && x + half_w >= 14 && x < 14 + half_w;
                let v = if inside {
                    (120 + (x * 5 + y * 3 + i) % 130) as u8
                } else {
                    0
                };
                images.push(v);
            }
        }
    }
    ImageSet {
        images,
        labels,
        len,
        rows,
        cols,
    }
}

/// `n` mistakes of the kinds `MATRIX` shows, on images of `validation()`.
pub(crate) fn mistakes(n: usize, seed: u32) -> Vec<Mistake> {
    const PAIRS: [(u8, u8); 8] = [
        (6, 0),
        (0, 6),
        (4, 2),
        (2, 4),
        (6, 2),
        (9, 7),
        (3, 4),
        (5, 7),
    ];
    (0..n)
        .map(|k| {
            let (t, p) = PAIRS[k % PAIRS.len()];
            Mistake {
                index: u32::from(t) + 10 * (k as u32 + seed),
                true_class: t,
                predicted_class: p,
                confidence: 0.999 - 0.01 * k as f32,
            }
        })
        .collect()
}
