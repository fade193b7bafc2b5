//! The shared test fixture: one test `RunConfig`, synthetic runs, a
//! realistic Fashion-MNIST confusion matrix and the data to draw mistakes,
//! for the unit tests of every module.

use fmnist_data::{CLASS_NAMES, ImageSet};
pub use fmnist_metrics::fixture::{Epoch, config, run, simple};
use fmnist_metrics::{ConfusionCell, Mistake, StoredRun};

/// Copies a figure (PNG and SVG) into `$FIGS_LOOK_DIR`, when set, for a
/// person to look at.
pub fn look(png: &std::path::Path, name: &str) {
    if let Ok(out) = std::env::var("FIGS_LOOK_DIR") {
        let out = std::path::Path::new(&out);
        std::fs::copy(png, out.join(format!("{name}.png"))).unwrap();
        std::fs::copy(png.with_extension("svg"), out.join(format!("{name}.svg"))).unwrap();
    }
}

/// The contents of an SVG's `<text>` elements, trimmed.
pub fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

pub fn names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

/// Rows = true class, 1000 images each, as an MLP of ~88 % gets them:
/// shirts go to T-shirt/top, pullover and coat; coats and pullovers swap.
pub const MATRIX: [[u32; 10]; 10] = [
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

pub fn cells(m: &[[u32; 10]; 10]) -> Vec<ConfusionCell> {
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
pub fn run_with(experiment: &str, seed: u64, m: &[[u32; 10]; 10]) -> StoredRun {
    let correct: u32 = (0..10).map(|c| m[c][c]).sum();
    let total: u32 = m.iter().flatten().sum();
    let acc = f64::from(correct) / f64::from(total);
    let mut r = simple(experiment, seed, &[acc - 0.05, acc]);
    r.confusion = cells(m);
    r
}

/// `MATRIX` with `k` shirts moved from the diagonal to T-shirt/top.
pub fn worse_shirts(k: u32) -> [[u32; 10]; 10] {
    let mut m = MATRIX;
    m[6][6] -= k;
    m[6][0] += k;
    m
}

/// 400 validation images, label `i % 10`, each a garment-like blob
/// whose shape depends on the class, so that a figure can be looked at.
pub fn validation() -> ImageSet {
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
pub fn mistakes(n: usize, seed: u32) -> Vec<Mistake> {
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

/// A learning-rate x optimizer sweep of synthetic runs, for the sweep
/// tables and the response figure.
pub mod sweep {
    use fmnist_metrics::StoredRun;

    use super::simple;
    use crate::sweeps::{SweepInput, SweepSeries, SweepX};

    const LRS: [f64; 7] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

    /// Final validation accuracy of a point: SGD peaks at 0.03, Adam at
    /// 0.001; `seed` shifts it by ±0.5 %.
    pub fn acc(kind: &str, lr: f64, seed: u64) -> f64 {
        let peak: f64 = if kind == "sgd" { 0.03 } else { 0.001 };
        let d = (lr.log10() - peak.log10()).abs();
        let top = if kind == "sgd" { 0.885 } else { 0.895 };
        top - 0.06 * d * d + 0.005 * (seed as f64 - 1.0)
    }

    pub fn runs() -> Vec<StoredRun> {
        let mut out = Vec::new();
        for kind in ["sgd", "adam"] {
            for lr in LRS {
                for seed in 0..3 {
                    let a = acc(kind, lr, seed);
                    // Best epoch 2, then a slight drop to the final epoch 3.
                    out.push(simple(
                        &format!("{kind}-{lr}"),
                        seed,
                        &[a - 0.1, a + 0.004, a],
                    ));
                }
            }
        }
        out
    }

    pub fn series(runs: &[StoredRun]) -> SweepSeries<'_> {
        let inputs: Vec<SweepInput<'_>> = ["sgd", "adam"]
            .iter()
            .flat_map(|kind| LRS.iter().map(move |lr| (*kind, *lr)))
            .map(|(kind, lr)| SweepInput {
                experiment: format!("{kind}-{lr}"),
                values: vec![
                    ("optimizer.kind".into(), SweepX::Text(kind.into())),
                    ("optimizer.lr".into(), SweepX::Number(lr)),
                    ("batch_size".into(), SweepX::Number(100.0)),
                ],
                runs: runs
                    .iter()
                    .filter(|r| r.manifest.experiment == format!("{kind}-{lr}"))
                    .collect(),
            })
            .collect();
        SweepSeries::from_inputs("lr-x-optimizer", inputs)
    }
}
