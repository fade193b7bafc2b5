//! The seam between the training loop and the hardware: a training step's
//! forward pass, its backward pass and update, and the validation pass,
//! computed either by the CPU fast path (`host`, buffers allocated once) or
//! on candle tensors (any device; the reference the fast path equals bit for
//! bit). The loop in `train` is written once against [`Engine`].

use candle_core::{Device, Tensor};
use fmnist_data::ImageSet;

use crate::batch::Normaliser;
use crate::error::TrainError;
use crate::evaluate::{Path, evaluate, evaluate_host};
use crate::host::{HostNet, HostTrainer, NextBatch, Timings, gradient_norm, sum_squares};
use crate::model::{Mlp, Tape, cross_entropy};
use crate::optim::Optimizer;
use crate::rng::Rng;

/// One way of computing a run's steps.
pub(crate) trait Engine {
    /// Gathers the batch `indices` of the training set, draws its dropout
    /// masks from `dropout`, and passes it forward in training mode: the
    /// mean cross-entropy and the number of correct predictions.
    fn forward(&mut self, indices: &[u32], dropout: &mut Rng) -> Result<(f64, usize), TrainError>;

    /// Backpropagates the batch last passed forward and updates every
    /// parameter; `next` is the batch that follows (the fast path fetches
    /// its images meanwhile). Returns the L2 norm of the whole gradient.
    fn backward_and_update(&mut self, next: &[u32]) -> Result<f64, TrainError>;

    /// The validation set's mean loss and accuracy, in evaluation mode.
    fn evaluate(&mut self, set: &ImageSet) -> Result<(f64, f64), TrainError>;

    /// The learning rate of the coming steps.
    #[allow(
        dead_code,
        reason = "learning-rate schedules (issue 22) set it between epochs"
    )]
    fn set_lr(&mut self, lr: f64);

    /// The network and the optimizer's state as tensors on `device`.
    fn export(&self) -> Result<(Mlp, Optimizer), TrainError>;

    /// Where the current epoch's time went (zero where not measured), and
    /// a fresh start for the next epoch.
    fn take_timings(&mut self) -> Timings;
}

/// The engine for `model` and `optimizer` on `device`: the fast path on the
/// CPU where it applies, candle's tensors otherwise (or when `path` asks).
pub(crate) fn engine<'a>(
    model: Mlp,
    optimizer: Optimizer,
    device: &Device,
    path: Path,
    batch: Batch<'a>,
) -> Result<Box<dyn Engine + 'a>, TrainError> {
    let host = match path {
        Path::Auto if device.is_cpu() => HostTrainer::new(&model, &optimizer, batch.size)?,
        Path::Auto | Path::Candle => None,
    };
    if let Some(trainer) = host {
        return Ok(Box::new(HostEngine {
            trainer,
            batch,
            device: device.clone(),
        }));
    }
    Ok(Box::new(CandleEngine {
        model,
        optimizer,
        device: device.clone(),
        batch,
        pending: None,
    }))
}

/// What every step reads: the training images, how to normalise them, the
/// batch size and the dropout probability.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch<'a> {
    pub train: &'a ImageSet,
    pub normaliser: &'a Normaliser,
    pub size: usize,
    pub dropout: f64,
    pub hidden: &'a [usize],
}

struct HostEngine<'a> {
    trainer: HostTrainer,
    batch: Batch<'a>,
    device: Device,
}

impl Engine for HostEngine<'_> {
    fn forward(&mut self, indices: &[u32], dropout: &mut Rng) -> Result<(f64, usize), TrainError> {
        let b = self.batch;
        Ok(self
            .trainer
            .forward(b.train, indices, b.normaliser, dropout, b.dropout))
    }

    fn backward_and_update(&mut self, next: &[u32]) -> Result<f64, TrainError> {
        Ok(self.trainer.backward_and_update(&NextBatch {
            normaliser: self.batch.normaliser,
            split: self.batch.train,
            indices: next,
        }))
    }

    fn evaluate(&mut self, set: &ImageSet) -> Result<(f64, f64), TrainError> {
        evaluate_host(self.trainer.net(), self.batch.normaliser, set)
    }

    fn set_lr(&mut self, lr: f64) {
        self.trainer.set_lr(lr);
    }

    fn export(&self) -> Result<(Mlp, Optimizer), TrainError> {
        self.trainer.export(&self.device)
    }

    fn take_timings(&mut self) -> Timings {
        std::mem::take(&mut self.trainer.timings)
    }
}

struct CandleEngine<'a> {
    model: Mlp,
    optimizer: Optimizer,
    device: Device,
    batch: Batch<'a>,
    /// The forward pass's tape and gradient of the logits, for the backward.
    pending: Option<(Tape, Tensor)>,
}

impl Engine for CandleEngine<'_> {
    fn forward(&mut self, indices: &[u32], dropout: &mut Rng) -> Result<(f64, usize), TrainError> {
        let b = self.batch;
        let (x, y) = b.normaliser.gather(b.train, indices, &self.device)?;
        let masks: Vec<Option<Tensor>> = (b.hidden.iter())
            .map(|&width| dropout_mask(dropout, b.dropout, indices.len(), width, &self.device))
            .collect::<Result<_, _>>()?;
        let (logits, tape) = self.model.forward_train(&x, &masks)?;
        let (loss, right, d_logits) = cross_entropy(&logits, &y, true)?;
        self.pending = Some((tape, d_logits.expect("asked for")));
        Ok((loss, right))
    }

    fn backward_and_update(&mut self, _next: &[u32]) -> Result<f64, TrainError> {
        let (tape, d_logits) = self.pending.take().expect("a forward pass first");
        let grads = self.model.backward(&tape, &d_logits)?;
        let model = &mut self.model;
        let mut params: Vec<Tensor> = (model.weights.drain(..))
            .chain(model.biases.drain(..))
            .collect();
        let grads: Vec<Tensor> = grads.weights.into_iter().chain(grads.biases).collect();
        let norm = candle_gradient_norm(&grads)?;
        self.optimizer.step(&mut params, &grads)?;
        let layers = params.len() / 2;
        model.biases = params.split_off(layers);
        model.weights = params;
        Ok(norm)
    }

    fn evaluate(&mut self, set: &ImageSet) -> Result<(f64, f64), TrainError> {
        evaluate(
            &self.model,
            self.batch.normaliser,
            set,
            &self.device,
            Path::Candle,
        )
    }

    fn set_lr(&mut self, lr: f64) {
        self.optimizer.set_lr(lr);
    }

    fn export(&self) -> Result<(Mlp, Optimizer), TrainError> {
        Ok((self.model.clone(), self.optimizer.clone()))
    }

    fn take_timings(&mut self) -> Timings {
        Timings::default()
    }
}

/// The L2 norm of a gradient held as tensors (weights, then biases),
/// computed on the host as the fast path computes it: each parameter's
/// squares summed by `host::sum_squares` in the fast path's memory order
/// (a weight it keeps transposed is read transposed), so both give the same
/// bits.
fn candle_gradient_norm(grads: &[Tensor]) -> Result<f64, TrainError> {
    let layers = grads.len() / 2;
    let squares = grads
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let g = if i < layers && HostNet::transposed(i) {
                g.t()?.contiguous()?
            } else {
                g.clone()
            };
            let values: Vec<f32> = g.flatten_all()?.to_vec1()?;
            Ok(sum_squares(&values))
        })
        .collect::<Result<Vec<f64>, TrainError>>()?;
    Ok(gradient_norm(&squares))
}

/// `nn.Dropout(p)` in training mode: each unit kept with probability 1 - p
/// and scaled by 1 / (1 - p). `None` when p = 0, where dropout is the identity.
pub(crate) fn dropout_mask(
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
    let mut mask = vec![0.0; rows * width];
    rng.dropout_mask(p as f32, scale, &mut mask);
    Ok(Some(Tensor::from_vec(mask, (rows, width), device)?))
}
