//! The training loop: shuffled mini-batches, per-epoch metrics on the
//! training and validation sets, divergence detection and cooperative stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use fmnist_data::Dataset;
use fmnist_experiments::RunConfig;

use crate::batch::Normaliser;
use crate::error::TrainError;
use crate::model::{Mlp, cross_entropy};
use crate::optim::Optimizer;
use crate::rng::{Rng, Streams, seeded};

/// Metrics of one epoch, as the paper's PyTorch loop reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Mean over the epoch's batches in training mode (dropout on, weights
    /// changing), weighted by batch size.
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// On the validation (official test) set in evaluation mode.
    pub val_loss: f64,
    pub val_accuracy: f64,
    /// Wall time of the epoch, training and evaluation.
    pub seconds: f64,
}

/// Progress, reported as training goes.
#[derive(Debug)]
pub enum Event<'a> {
    Batch {
        epoch: usize,
        batch: usize,
        batches: usize,
    },
    Epoch(&'a EpochReport),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Complete,
    /// The training loss became non-finite at this (1-based) epoch and batch.
    Diverged {
        epoch: usize,
        batch: usize,
    },
    /// Stopped on request before finishing; the epochs reported are valid
    /// but the run is not a result.
    Interrupted,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub outcome: Outcome,
    pub epochs: Vec<EpochReport>,
}

/// Evaluation batch: large enough to amortise per-call overhead, small enough
/// to keep activations of several concurrent runs in a few MB.
const EVAL_CHUNK: usize = 1000;

/// Trains `config` with `seed` on `data`; `stop` is polled between batches.
pub fn train(
    config: &RunConfig,
    seed: u64,
    data: &Dataset,
    device: &Device,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<RunResult, TrainError> {
    let train_set = limit(&data.train, config.train_limit);
    let val_set = limit(&data.test, config.val_limit);
    let n = train_set.len;
    if config.batch_size == 0 || config.batch_size > n {
        return Err(TrainError::Config(format!(
            "batch size {} must be in 1..={n}",
            config.batch_size
        )));
    }
    let pixels = train_set.rows * train_set.cols;
    let mut sizes = vec![pixels];
    sizes.extend(&config.model.hidden);
    sizes.push(10);

    let mut init_rng = seeded(seed, Streams::Init);
    let mut shuffle_rng = seeded(seed, Streams::Shuffle);
    let mut dropout_rng = seeded(seed, Streams::Dropout);
    let mut model = Mlp::new(&sizes, &mut init_rng, DType::F32, device)?;
    let mut optimizer = Optimizer::new(&config.optimizer, 2 * model.layers());
    let normaliser = Normaliser::new(&config.input);
    let p = config.model.dropout;
    let batches = n.div_ceil(config.batch_size);

    let mut epochs = Vec::with_capacity(config.epochs);
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        let order = shuffle_rng.permutation(n);
        let (mut loss_sum, mut correct) = (0.0, 0usize);
        // The last batch may be smaller: it is trained on, not dropped.
        for (b, indices) in order.chunks(config.batch_size).enumerate() {
            if stop.load(Ordering::Relaxed) {
                return Ok(RunResult {
                    outcome: Outcome::Interrupted,
                    epochs,
                });
            }
            let (x, y) = normaliser.gather(&train_set, indices, device)?;
            let masks: Vec<Option<Tensor>> = config
                .model
                .hidden
                .iter()
                .map(|&width| dropout_mask(&mut dropout_rng, p, indices.len(), width, device))
                .collect::<Result<_, _>>()?;
            let (logits, tape) = model.forward_train(&x, &masks)?;
            let (loss, right, d_logits) = cross_entropy(&logits, &y, true)?;
            if !loss.is_finite() {
                return Ok(RunResult {
                    outcome: Outcome::Diverged {
                        epoch,
                        batch: b + 1,
                    },
                    epochs,
                });
            }
            loss_sum += loss * indices.len() as f64;
            correct += right;
            let grads = model.backward(&tape, &d_logits.expect("asked for"))?;
            let mut params: Vec<Tensor> = model
                .weights
                .drain(..)
                .chain(model.biases.drain(..))
                .collect();
            let grads: Vec<Tensor> = grads.weights.into_iter().chain(grads.biases).collect();
            optimizer.step(&mut params, &grads)?;
            let layers = params.len() / 2;
            model.biases = params.split_off(layers);
            model.weights = params;
            on_event(Event::Batch {
                epoch,
                batch: b + 1,
                batches,
            });
        }
        let (val_loss, val_accuracy) = evaluate(&model, &normaliser, &val_set, device)?;
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / n as f64,
            train_accuracy: correct as f64 / n as f64,
            val_loss,
            val_accuracy,
            seconds: started.elapsed().as_secs_f64(),
        };
        on_event(Event::Epoch(&report));
        let diverged = !val_loss.is_finite();
        epochs.push(report);
        if diverged {
            return Ok(RunResult {
                outcome: Outcome::Diverged {
                    epoch,
                    batch: batches,
                },
                epochs,
            });
        }
    }
    Ok(RunResult {
        outcome: Outcome::Complete,
        epochs,
    })
}

fn limit(
    split: &fmnist_data::ImageSet,
    n: Option<usize>,
) -> std::borrow::Cow<'_, fmnist_data::ImageSet> {
    match n {
        Some(n) if n < split.len => std::borrow::Cow::Owned(split.truncated(n)),
        _ => std::borrow::Cow::Borrowed(split),
    }
}

/// `nn.Dropout(p)` in training mode: each unit kept with probability 1 - p
/// and scaled by 1 / (1 - p). `None` when p = 0, where dropout is the identity.
fn dropout_mask(
    rng: &mut Rng,
    p: f64,
    rows: usize,
    width: usize,
    device: &Device,
) -> Result<Option<Tensor>, TrainError> {
    if p == 0.0 {
        return Ok(None);
    }
    let scale = (1.0 / (1.0 - p)) as f32;
    let mut mask = vec![scale; rows * width];
    rng.drop_units(p as f32, &mut mask);
    Ok(Some(Tensor::from_vec(mask, (rows, width), device)?))
}

/// Mean loss and accuracy over a whole split, in evaluation mode.
pub fn evaluate(
    model: &Mlp,
    normaliser: &Normaliser,
    split: &fmnist_data::ImageSet,
    device: &Device,
) -> Result<(f64, f64), TrainError> {
    let (mut loss_sum, mut correct) = (0.0, 0usize);
    let all: Vec<u32> = (0..split.len as u32).collect();
    for indices in all.chunks(EVAL_CHUNK) {
        let (x, y) = normaliser.gather(split, indices, device)?;
        let logits = model.forward(&x)?;
        let (loss, right, _) = cross_entropy(&logits, &y, false)?;
        loss_sum += loss * indices.len() as f64;
        correct += right;
    }
    Ok((
        loss_sum / split.len as f64,
        correct as f64 / split.len as f64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_data::ImageSet;
    use fmnist_experiments::{InputConfig, ModelConfig, OptimizerConfig};

    /// Ten classes, each a bright 4x4 block at its own place on a noisy
    /// background: learnable, but not in one step.
    fn synthetic(n: usize, seed: u64) -> ImageSet {
        let mut rng = seeded(seed, Streams::Init);
        let mut images = Vec::with_capacity(n * 784);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let class = (i * 7 + seed as usize) % 10;
            let (r0, c0) = (2 + (class / 5) * 12, 2 + (class % 5) * 5);
            for r in 0..28 {
                for c in 0..28 {
                    let inside = (r0..r0 + 4).contains(&r) && (c0..c0 + 4).contains(&c);
                    let noise = (rng.unit_f32() * 120.0) as u8;
                    images.push(if inside {
                        noise.saturating_add(120)
                    } else {
                        noise
                    });
                }
            }
            labels.push(class as u8);
        }
        ImageSet {
            images,
            labels,
            len: n,
            rows: 28,
            cols: 28,
        }
    }

    fn dataset() -> Dataset {
        Dataset {
            train: synthetic(600, 1),
            test: synthetic(200, 2),
        }
    }

    fn config(lr: f64, epochs: usize) -> RunConfig {
        RunConfig {
            model: ModelConfig {
                hidden: vec![32, 16],
                dropout: 0.2,
                init: "pytorch-linear".into(),
            },
            input: InputConfig {
                mean: 0.5,
                std: 0.5,
            },
            optimizer: OptimizerConfig::Sgd {
                lr,
                momentum: 0.9,
                dampening: 0.0,
                nesterov: false,
                weight_decay: 0.0,
            },
            // 600 is not a multiple of 64: the last batch is partial.
            batch_size: 64,
            epochs,
            train_limit: None,
            val_limit: None,
        }
    }

    fn run(config: &RunConfig, seed: u64, data: &Dataset) -> RunResult {
        let stop = AtomicBool::new(false);
        train(config, seed, data, &Device::Cpu, &stop, &mut |_| {}).unwrap()
    }

    #[test]
    fn learns_well_above_chance() {
        let data = dataset();
        let result = run(&config(0.05, 5), 0, &data);
        assert_eq!(result.outcome, Outcome::Complete);
        assert_eq!(result.epochs.len(), 5);
        let last = result.epochs.last().unwrap();
        assert!(last.val_accuracy > 0.8, "{last:?}");
        assert!(last.train_loss < result.epochs[0].train_loss);
        assert!(last.seconds > 0.0);
    }

    #[test]
    fn the_same_seed_repeats_bit_for_bit_and_another_seed_differs() {
        let data = dataset();
        let c = config(0.05, 2);
        let a = run(&c, 5, &data);
        let b = run(&c, 5, &data);
        let other = run(&c, 6, &data);
        let numbers = |r: &RunResult| -> Vec<u64> {
            r.epochs
                .iter()
                .flat_map(|e| [e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy])
                .map(f64::to_bits)
                .collect()
        };
        assert_eq!(numbers(&a), numbers(&b));
        assert_ne!(numbers(&a), numbers(&other));
    }

    #[test]
    fn a_huge_learning_rate_ends_as_diverged() {
        let data = dataset();
        let result = run(&config(1e6, 3), 0, &data);
        assert!(
            matches!(result.outcome, Outcome::Diverged { epoch: 1, batch } if batch >= 1),
            "{:?}",
            result.outcome
        );
    }

    #[test]
    fn a_stop_request_interrupts_the_run() {
        let data = dataset();
        let stop = AtomicBool::new(false);
        let mut batches = 0;
        let result = train(&config(0.05, 3), 0, &data, &Device::Cpu, &stop, &mut |e| {
            if let Event::Batch { .. } = e {
                batches += 1;
                if batches == 3 {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        })
        .unwrap();
        assert_eq!(result.outcome, Outcome::Interrupted);
        assert!(result.epochs.is_empty());
    }

    #[test]
    fn subsets_limit_the_data() {
        let data = dataset();
        let mut c = config(0.05, 1);
        c.train_limit = Some(100);
        c.val_limit = Some(50);
        let mut seen = 0;
        let stop = AtomicBool::new(false);
        train(&c, 0, &data, &Device::Cpu, &stop, &mut |e| {
            if let Event::Batch { batches, .. } = e {
                seen = batches;
            }
        })
        .unwrap();
        assert_eq!(seen, 2, "100 images in batches of 64");
    }

    #[test]
    fn dropout_masks_keep_one_minus_p_and_scale() {
        let mut rng = seeded(0, Streams::Dropout);
        let m = dropout_mask(&mut rng, 0.2, 100, 100, &Device::Cpu)
            .unwrap()
            .unwrap();
        let v: Vec<f32> = m.flatten_all().unwrap().to_vec1().unwrap();
        let kept = v.iter().filter(|&&x| x != 0.0).count() as f64 / v.len() as f64;
        assert!((kept - 0.8).abs() < 0.02, "{kept}");
        assert!(v.iter().all(|&x| x == 0.0 || x == 1.25));
        assert!(
            dropout_mask(&mut rng, 0.0, 2, 2, &Device::Cpu)
                .unwrap()
                .is_none()
        );
    }
}
