//! The network: 784 -> hidden... -> 10, ReLU and dropout after each hidden
//! layer, with a hand-written backward pass.

use candle_core::{D, DType, Device, Tensor};

use crate::error::TrainError;
use crate::rng::Rng;

/// A fully connected network; weights are `[out, in]` as in `nn.Linear`.
#[derive(Debug, Clone)]
pub struct Mlp {
    pub weights: Vec<Tensor>,
    pub biases: Vec<Tensor>,
}

/// What the forward pass keeps for the backward pass.
#[derive(Debug)]
pub struct Tape {
    /// The input of each layer (the batch, then each hidden activation).
    inputs: Vec<Tensor>,
    /// Per hidden layer: relu'(z) times the dropout scale, so that both the
    /// activation and its gradient are one multiplication.
    masks: Vec<Tensor>,
}

/// Gradients, in the layout of [`Mlp`].
#[derive(Debug)]
pub struct Grads {
    pub weights: Vec<Tensor>,
    pub biases: Vec<Tensor>,
}

impl Mlp {
    /// PyTorch's `nn.Linear` initialisation: weights and biases from
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)
    /// gives exactly this bound), drawn layer by layer, weights then bias.
    pub fn new(
        sizes: &[usize],
        rng: &mut Rng,
        dtype: DType,
        device: &Device,
    ) -> Result<Mlp, TrainError> {
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(TrainError::Config(format!(
                "layer sizes must be at least two positive numbers, got {sizes:?}"
            )));
        }
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for pair in sizes.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let bound = 1.0 / (fan_in as f64).sqrt();
            let mut draw = |n: usize| -> Vec<f64> {
                (0..n)
                    .map(|_| bound * (2.0 * rng.unit_f64() - 1.0))
                    .collect()
            };
            let w = Tensor::from_vec(draw(fan_out * fan_in), (fan_out, fan_in), device)?
                .to_dtype(dtype)?;
            let b = Tensor::from_vec(draw(fan_out), fan_out, device)?.to_dtype(dtype)?;
            weights.push(w);
            biases.push(b);
        }
        Ok(Mlp { weights, biases })
    }

    pub fn layers(&self) -> usize {
        self.weights.len()
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut s = vec![self.weights[0].dims()[1]];
        s.extend(self.weights.iter().map(|w| w.dims()[0]));
        s
    }

    fn linear(&self, l: usize, x: &Tensor) -> Result<Tensor, TrainError> {
        Ok(x.matmul(&self.weights[l].t()?)?
            .broadcast_add(&self.biases[l])?)
    }

    /// Evaluation mode: no dropout. Returns the logits.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor, TrainError> {
        let mut a = x.clone();
        for l in 0..self.layers() {
            a = self.linear(l, &a)?;
            if l + 1 < self.layers() {
                a = a.relu()?;
            }
        }
        Ok(a)
    }

    /// Training mode. `dropout[l]` is the scaled keep-mask of hidden layer `l`
    /// (0 or 1/(1-p)), or `None` for no dropout. Returns the logits and what
    /// the backward pass needs.
    pub fn forward_train(
        &self,
        x: &Tensor,
        dropout: &[Option<Tensor>],
    ) -> Result<(Tensor, Tape), TrainError> {
        let hidden = self.layers() - 1;
        let mut inputs = Vec::with_capacity(self.layers());
        let mut masks = Vec::with_capacity(hidden);
        let mut a = x.clone();
        for l in 0..hidden {
            let z = self.linear(l, &a)?;
            let relu_grad = z.gt(0.0)?.to_dtype(z.dtype())?;
            let mask = match dropout.get(l).and_then(Option::as_ref) {
                Some(d) => relu_grad.mul(d)?,
                None => relu_grad,
            };
            inputs.push(a);
            a = z.mul(&mask)?;
            masks.push(mask);
        }
        let logits = self.linear(hidden, &a)?;
        inputs.push(a);
        Ok((logits, Tape { inputs, masks }))
    }

    /// Backpropagates `d_logits` (the gradient of the loss with respect to
    /// the logits) through the tape.
    pub fn backward(&self, tape: &Tape, d_logits: &Tensor) -> Result<Grads, TrainError> {
        let n = self.layers();
        let mut weights = vec![None; n];
        let mut biases = vec![None; n];
        let mut delta = d_logits.clone();
        for l in (0..n).rev() {
            weights[l] = Some(delta.t()?.matmul(&tape.inputs[l])?);
            biases[l] = Some(delta.sum(0)?);
            if l > 0 {
                delta = delta.matmul(&self.weights[l])?.mul(&tape.masks[l - 1])?;
            }
        }
        Ok(Grads {
            weights: weights.into_iter().map(Option::unwrap).collect(),
            biases: biases.into_iter().map(Option::unwrap).collect(),
        })
    }
}

/// The log-softmax of `logits` (computed by candle), and its values read
/// back to the host as f64, row-major, with the number of classes.
pub(crate) fn log_probs(logits: &Tensor) -> Result<(Tensor, Vec<f64>, usize), TrainError> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let classes = log_probs.dim(D::Minus1)?;
    // Read back in the tensor's own precision and widen on the host (exact),
    // rather than converting on the device first: one pass fewer.
    let flat: Vec<f64> = match log_probs.dtype() {
        DType::F64 => log_probs.flatten_all()?.to_vec1::<f64>()?,
        _ => log_probs
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_vec1::<f32>()?
            .into_iter()
            .map(f64::from)
            .collect(),
    };
    Ok((log_probs, flat, classes))
}

/// The predicted class of one row: the first maximum, as `torch.argmax`.
pub(crate) fn argmax(row: &[f64]) -> usize {
    row.iter()
        .enumerate()
        .fold(0, |best, (i, &v)| if v > row[best] { i } else { best })
}

/// Mean negative log-likelihood of `labels` (summed on the host in f64, as
/// `loss.item()` would read it) and the number of correct predictions.
pub(crate) fn nll_and_correct(flat: &[f64], classes: usize, labels: &[u8]) -> (f64, usize) {
    let mut loss = 0.0;
    let mut correct = 0;
    for (row, &y) in flat.chunks_exact(classes).zip(labels) {
        loss -= row[y as usize];
        correct += usize::from(argmax(row) == y as usize);
    }
    (loss / labels.len() as f64, correct)
}

/// Mean cross-entropy of a batch (`nn.CrossEntropyLoss`), the number of
/// correct predictions, and the gradient of the mean loss w.r.t. the logits:
/// (softmax - onehot) / batch.
pub fn cross_entropy(
    logits: &Tensor,
    labels: &[u8],
    with_grad: bool,
) -> Result<(f64, usize, Option<Tensor>), TrainError> {
    let (log_probs, flat, classes) = log_probs(logits)?;
    let (loss, correct) = nll_and_correct(&flat, classes, labels);
    let n = labels.len();
    let grad = if with_grad {
        let mut onehot = vec![0f32; n * classes];
        for (i, &y) in labels.iter().enumerate() {
            onehot[i * classes + y as usize] = 1.0;
        }
        let onehot =
            Tensor::from_vec(onehot, (n, classes), logits.device())?.to_dtype(logits.dtype())?;
        Some(log_probs.exp()?.sub(&onehot)?.affine(1.0 / n as f64, 0.0)?)
    } else {
        None
    };
    Ok((loss, correct, grad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Streams, seeded};

    fn tiny(dtype: DType) -> (Mlp, Tensor, Vec<u8>, Vec<Option<Tensor>>) {
        let dev = Device::Cpu;
        let mut rng = seeded(3, Streams::Init);
        let mlp = Mlp::new(&[6, 5, 4, 3], &mut rng, dtype, &dev).unwrap();
        let x: Vec<f64> = (0..4 * 6).map(|_| rng.unit_f64() * 2.0 - 1.0).collect();
        let x = Tensor::from_vec(x, (4, 6), &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let labels = vec![0u8, 2, 1, 2];
        // A fixed dropout pattern on the first hidden layer (p = 0.5).
        let mask: Vec<f64> = (0..4 * 5)
            .map(|i| if i % 3 == 0 { 0.0 } else { 2.0 })
            .collect();
        let mask = Tensor::from_vec(mask, (4, 5), &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        (mlp, x, labels, vec![Some(mask), None])
    }

    fn loss_of(mlp: &Mlp, x: &Tensor, labels: &[u8], drop: &[Option<Tensor>]) -> f64 {
        let (logits, _) = mlp.forward_train(x, drop).unwrap();
        cross_entropy(&logits, labels, false).unwrap().0
    }

    /// Central finite differences in f64 against the hand-written gradients,
    /// through ReLU, a dropout mask and the softmax cross-entropy.
    #[test]
    fn gradients_match_finite_differences() {
        let (mlp, x, labels, drop) = tiny(DType::F64);
        let (logits, tape) = mlp.forward_train(&x, &drop).unwrap();
        let (_, _, d_logits) = cross_entropy(&logits, &labels, true).unwrap();
        let grads = mlp.backward(&tape, &d_logits.unwrap()).unwrap();
        let eps = 1e-6;
        let mut checked = 0;
        for l in 0..mlp.layers() {
            for (is_bias, analytic) in [(false, &grads.weights[l]), (true, &grads.biases[l])] {
                let analytic: Vec<f64> = analytic.flatten_all().unwrap().to_vec1().unwrap();
                let param = if is_bias {
                    &mlp.biases[l]
                } else {
                    &mlp.weights[l]
                };
                let shape = param.shape().clone();
                let values: Vec<f64> = param.flatten_all().unwrap().to_vec1().unwrap();
                for i in 0..values.len() {
                    let perturbed = |delta: f64| {
                        let mut v = values.clone();
                        v[i] += delta;
                        let t = Tensor::from_vec(v, shape.clone(), &Device::Cpu).unwrap();
                        let mut m = mlp.clone();
                        if is_bias {
                            m.biases[l] = t;
                        } else {
                            m.weights[l] = t;
                        }
                        loss_of(&m, &x, &labels, &drop)
                    };
                    let numeric = (perturbed(eps) - perturbed(-eps)) / (2.0 * eps);
                    assert!(
                        (numeric - analytic[i]).abs() < 1e-6,
                        "layer {l} bias {is_bias} index {i}: numeric {numeric} analytic {}",
                        analytic[i]
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
    }

    #[test]
    fn initialisation_follows_nn_linear_bounds() {
        let mut rng = seeded(0, Streams::Init);
        let mlp = Mlp::new(&[784, 128, 64, 10], &mut rng, DType::F32, &Device::Cpu).unwrap();
        assert_eq!(mlp.sizes(), vec![784, 128, 64, 10]);
        for (l, fan_in) in [784f32, 128., 64.].iter().enumerate() {
            let bound = 1.0 / fan_in.sqrt();
            let w: Vec<f32> = mlp.weights[l].flatten_all().unwrap().to_vec1().unwrap();
            let max = w.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                max <= bound && max > 0.95 * bound,
                "layer {l}: {max} vs {bound}"
            );
            let mean = w.iter().sum::<f32>() / w.len() as f32;
            assert!(mean.abs() < 0.05 * bound, "layer {l} mean {mean}");
            let b: Vec<f32> = mlp.biases[l].to_vec1().unwrap();
            assert!(b.iter().all(|v| v.abs() <= bound));
        }
    }

    #[test]
    fn cross_entropy_matches_a_hand_computation() {
        let logits = Tensor::new(&[[1.0f32, 2.0, 3.0], [0.0, 0.0, 0.0]], &Device::Cpu).unwrap();
        let (loss, correct, grad) = cross_entropy(&logits, &[2, 1], true).unwrap();
        let lse = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        let expected = ((lse - 3.0) + 3f64.ln()) / 2.0;
        assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
        assert_eq!(
            correct, 1,
            "argmax of an all-equal row is class 0, as torch.argmax"
        );
        let g: Vec<Vec<f32>> = grad.unwrap().to_vec2().unwrap();
        let s2 = (3f64 - lse).exp();
        assert!((g[0][2] as f64 - (s2 - 1.0) / 2.0).abs() < 1e-6);
        assert!((g[1][0] as f64 - (1.0 / 3.0) / 2.0).abs() < 1e-6);
        assert!((g[1][1] as f64 - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-6);
    }
}
