//! The CPU fast path: the same training step and evaluation pass as the
//! candle-tensor code in `model`, `optim` and `evaluate`, on host buffers
//! allocated once per run instead of fresh tensors per operation.
//!
//! Every floating-point operation is the one candle performs, in the same
//! order: matrix products call `gemm` with exactly the arguments candle's CPU
//! backend passes it (shapes, strides, `alpha`/`beta`, parallelism), and each
//! elementwise chain is the same sequence of IEEE operations, fused into one
//! pass. The results are therefore bit-identical to the candle path, which
//! stays the path for CUDA (tests in `train` compare the two bit for bit).
//! What is gone is the overhead around the arithmetic: allocations, page
//! faults on fresh buffers, and one memory pass per elementwise operation.

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use fmnist_data::ImageSet;
use fmnist_experiments::OptimizerConfig;

use crate::batch::Normaliser;
use crate::error::TrainError;
use crate::model::{Mlp, nll_and_correct};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::simd;

/// The network's output width must stay below this for the fast path: up to
/// it, candle sums a softmax row's exponentials left to right (its AVX sum
/// only vectorises whole blocks of 32), which is what [`log_softmax_row`]
/// does.
const MAX_CLASSES: usize = 32;

/// `dst[m, n] = lhs[m, k] * rhs[k, n]`, with row and column strides for the
/// operands, exactly as candle's CPU matmul calls `gemm` (`read_dst` false,
/// `alpha` 0, `beta` 1, the thread count candle is configured with), so the
/// results are candle's bit for bit.
#[allow(unsafe_code)] // gemm's interface is raw pointers; the asserts below bound them.
fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(m > 0 && n > 0 && k > 0, "empty product {m}x{n}x{k}");
    assert!(dst.len() >= m * n, "destination too small");
    assert!(last(m, k, lhs_rs, lhs_cs) < lhs.len(), "lhs out of bounds");
    assert!(last(k, n, rhs_rs, rhs_cs) < rhs.len(), "rhs out of bounds");
    let threads = candle_core::utils::get_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above keep every element gemm reads or writes
    // inside the slices; `dst` does not alias the operands (it is borrowed
    // mutably while they are borrowed shared).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `z = x W^T` for `x` `[rows, fan_in]`, as `x.matmul(&w.t())`, with layer
/// `l`'s weights as [`HostNet`] keeps them.
fn layer_product(dst: &mut [f32], x: &[f32], net: &HostNet, l: usize, rows: usize) {
    let (fan_in, fan_out) = (net.sizes[l], net.sizes[l + 1]);
    let w = &net.weights[l];
    if HostNet::transposed(l) {
        // `W^T` as it is stored, `[fan_in, fan_out]` row-major.
        matmul(
            (rows, fan_out, fan_in),
            dst,
            x,
            (fan_in, 1),
            w,
            (fan_out, 1),
        );
    } else {
        // `W` `[fan_out, fan_in]` row-major, read transposed.
        matmul((rows, fan_out, fan_in), dst, x, (fan_in, 1), w, (1, fan_in));
    }
}

/// `[rows, cols]` row-major as `[cols, rows]` row-major.
fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    assert_eq!(v.len(), rows * cols, "matrix size");
    let mut t = vec![0.0; v.len()];
    for (r, row) in v.chunks_exact(cols).enumerate() {
        for (c, &x) in row.iter().enumerate() {
            t[c * rows + r] = x;
        }
    }
    t
}

/// candle's `log_softmax` over one row of fewer than [`MAX_CLASSES`]
/// logits: max (first maximum wins ties), differences, exponentials summed
/// left to right from zero, log, differences again.
#[inline(always)]
fn log_softmax_row(logits: &[f32], out: &mut [f32]) {
    let mut max = logits[0];
    for &s in logits {
        if max < s {
            max = s;
        }
    }
    let mut sum = 0f32;
    for (o, &z) in out.iter_mut().zip(logits) {
        *o = z - max;
        sum += o.exp();
    }
    let log_sum = sum.ln();
    for o in out.iter_mut() {
        *o -= log_sum;
    }
}

/// A network's parameters on the host, in [`Mlp`]'s layout except for the
/// first layer's weights, kept transposed (`[fan_in, fan_out]`, see
/// [`HostNet::transposed`]).
#[derive(Debug, Clone)]
pub(crate) struct HostNet {
    /// Layer sizes, input first.
    sizes: Vec<usize>,
    weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
}

impl HostNet {
    /// `None` where the fast path does not apply: not on the CPU, not f32,
    /// or too many outputs.
    pub fn from_mlp(model: &Mlp) -> Result<Option<HostNet>, TrainError> {
        let sizes = model.sizes();
        let on_cpu_f32 = model
            .weights
            .iter()
            .chain(&model.biases)
            .all(|t| t.device().is_cpu() && t.dtype() == DType::F32);
        if !on_cpu_f32 || *sizes.last().expect("layers") >= MAX_CLASSES {
            return Ok(None);
        }
        let host = |t: &Tensor| -> Result<Vec<f32>, TrainError> { Ok(t.flatten_all()?.to_vec1()?) };
        let mut weights: Vec<Vec<f32>> =
            model.weights.iter().map(host).collect::<Result<_, _>>()?;
        for (l, w) in weights.iter_mut().enumerate() {
            if HostNet::transposed(l) {
                *w = transpose(w, sizes[l + 1], sizes[l]);
            }
        }
        Ok(Some(HostNet {
            sizes,
            weights,
            biases: model.biases.iter().map(host).collect::<Result<_, _>>()?,
        }))
    }

    /// Whether layer `l`'s weights (and their gradient and optimizer state)
    /// are kept transposed, `[fan_in, fan_out]`: the first layer's are. Its
    /// forward product, the largest of a step, then reads a row-major
    /// right-hand side, which gemm multiplies about 15% faster than the
    /// transposed view candle passes; the first layer has no product with
    /// its weights in the backward pass, where the other layout would be
    /// the better one. The numbers are the same: gemm computes each output
    /// as the same sequence of multiply-adds whatever the operands' strides
    /// (the fast-path-against-candle test checks it).
    pub fn transposed(l: usize) -> bool {
        l == 0
    }

    /// Parameter `i` in the order of [`Optimizer`] (weights, then biases)
    /// between [`Mlp`]'s layout and this one: `to_host` false goes back.
    fn relayout(&self, i: usize, v: &[f32], to_host: bool) -> Vec<f32> {
        if i >= self.layers() || !HostNet::transposed(i) {
            return v.to_vec();
        }
        let (fan_in, fan_out) = (self.sizes[i], self.sizes[i + 1]);
        if to_host {
            transpose(v, fan_out, fan_in)
        } else {
            transpose(v, fan_in, fan_out)
        }
    }

    pub fn to_mlp(&self, device: &Device) -> Result<Mlp, TrainError> {
        let mut weights = Vec::with_capacity(self.layers());
        let mut biases = Vec::with_capacity(self.layers());
        for (l, pair) in self.sizes.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            weights.push(Tensor::from_vec(
                self.relayout(l, &self.weights[l], false),
                (fan_out, fan_in),
                device,
            )?);
            biases.push(Tensor::from_slice(&self.biases[l], fan_out, device)?);
        }
        Ok(Mlp { weights, biases })
    }

    fn layers(&self) -> usize {
        self.weights.len()
    }

    fn classes(&self) -> usize {
        *self.sizes.last().expect("layers")
    }
}

/// Where a host epoch's time went, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// The matrix products (gemm).
    pub matmul: f64,
    /// Everything elementwise between them: bias, ReLU and dropout (fused),
    /// log-softmax, loss and its gradient, bias gradients, masked deltas.
    pub elementwise: f64,
    /// u8 images to normalised f32 batches, and asking for the next
    /// batch's images ahead of time.
    pub gather: f64,
    /// Drawing dropout masks.
    pub dropout: f64,
    /// The optimizer's update of every parameter.
    pub optimizer: f64,
}

/// A stopwatch that charges each lap to one entry of [`Timings`].
struct Lap(Instant);

impl Lap {
    fn start() -> Lap {
        Lap(Instant::now())
    }

    /// Seconds since the last lap, restarting the watch.
    fn lap(&mut self) -> f64 {
        let now = Instant::now();
        let s = now.duration_since(self.0).as_secs_f64();
        self.0 = now;
        s
    }
}

/// Per-layer buffers of one forward and backward pass, sized for the
/// largest batch and reused for every batch.
#[derive(Debug)]
struct Buffers {
    /// The batch, `[rows, pixels]`.
    x: Vec<f32>,
    labels: Vec<u8>,
    /// Pre-activations of each layer, then (hidden layers) their activations:
    /// `z * relu'(z) * dropout` overwrites `z` in the fused pass.
    acts: Vec<Vec<f32>>,
    /// Per hidden layer: the dropout draw, then relu'(z) times it.
    masks: Vec<Vec<f32>>,
    log_probs: Vec<f32>,
    flat: Vec<f64>,
    delta: Vec<f32>,
    delta_next: Vec<f32>,
}

impl Buffers {
    fn new(sizes: &[usize], rows: usize) -> Buffers {
        let classes = *sizes.last().expect("layers");
        let widest = sizes[1..].iter().copied().max().expect("layers");
        Buffers {
            masks: sizes[1..sizes.len() - 1]
                .iter()
                .map(|&w| vec![0.0; rows * w])
                .collect(),
            log_probs: vec![0.0; rows * classes],
            delta: vec![0.0; rows * widest],
            delta_next: vec![0.0; rows * widest],
            ..Buffers::for_evaluation(sizes, rows)
        }
    }

    /// What an evaluation pass uses: no masks, no deltas, and the
    /// log-probabilities of one row at a time.
    fn for_evaluation(sizes: &[usize], rows: usize) -> Buffers {
        let classes = *sizes.last().expect("layers");
        Buffers {
            x: vec![0.0; rows * sizes[0]],
            labels: Vec::with_capacity(rows),
            acts: sizes[1..].iter().map(|&w| vec![0.0; rows * w]).collect(),
            masks: Vec::new(),
            log_probs: vec![0.0; classes],
            flat: vec![0.0; rows * classes],
            delta: Vec::new(),
            delta_next: Vec::new(),
        }
    }
}

/// One run's training state on the host: the network, the optimizer's
/// state, and the buffers of a step.
#[derive(Debug)]
pub(crate) struct HostTrainer {
    net: HostNet,
    optimizer: OptimizerConfig,
    step: u64,
    /// Per buffer of [`Optimizer::buffer_names`], per parameter (weights,
    /// then biases, as [`Optimizer`] orders them).
    state: Vec<Vec<Option<Vec<f32>>>>,
    /// The squared L2 norm of each parameter's gradient in the last step.
    grad_squares: Vec<f64>,
    grad_w: Vec<Vec<f32>>,
    grad_b: Vec<Vec<f32>>,
    buffers: Buffers,
    /// The rows of the batch last passed forward.
    rows: usize,
    pub timings: Timings,
}

impl HostTrainer {
    /// The trainer continuing from `model` and `optimizer`; `None` where the
    /// fast path does not apply (see [`HostNet::from_mlp`]).
    pub fn new(
        model: &Mlp,
        optimizer: &Optimizer,
        max_rows: usize,
    ) -> Result<Option<HostTrainer>, TrainError> {
        let Some(net) = HostNet::from_mlp(model)? else {
            return Ok(None);
        };
        let host = |buffers: &[Option<Tensor>]| -> Result<Vec<Option<Vec<f32>>>, TrainError> {
            buffers
                .iter()
                .enumerate()
                .map(|(i, b)| match b {
                    None => Ok(None),
                    Some(t) if t.device().is_cpu() && t.dtype() == DType::F32 => {
                        Ok(Some(net.relayout(i, &t.flatten_all()?.to_vec1()?, true)))
                    }
                    Some(_) => Err(TrainError::Config(
                        "optimizer state is not f32 on the CPU".into(),
                    )),
                })
                .collect()
        };
        let state = (optimizer.buffers().iter())
            .map(|b| host(&b.per_param))
            .collect::<Result<_, _>>()?;
        Ok(Some(HostTrainer {
            grad_squares: vec![0.0; 2 * net.layers()],
            grad_w: net.weights.iter().map(|w| vec![0.0; w.len()]).collect(),
            grad_b: net.biases.iter().map(|b| vec![0.0; b.len()]).collect(),
            buffers: Buffers::new(&net.sizes, max_rows),
            optimizer: optimizer.config().clone(),
            step: optimizer.steps(),
            state,
            net,
            rows: 0,
            timings: Timings::default(),
        }))
    }

    /// The network as it stands.
    pub fn net(&self) -> &HostNet {
        &self.net
    }

    /// The learning rate of the coming steps.
    pub fn set_lr(&mut self, lr: f64) {
        self.optimizer.set_lr(lr);
    }

    /// The network and the optimizer state as tensors on `device`.
    pub fn export(&self, device: &Device) -> Result<(Mlp, Optimizer), TrainError> {
        let model = self.net.to_mlp(device)?;
        let params: Vec<Vec<usize>> = model
            .weights
            .iter()
            .chain(&model.biases)
            .map(|t| t.dims().to_vec())
            .collect();
        let tensors = |state: &[Option<Vec<f32>>]| -> Result<Vec<Option<Tensor>>, TrainError> {
            state
                .iter()
                .zip(&params)
                .enumerate()
                .map(|(i, (s, dims))| {
                    s.as_ref()
                        .map(|v| {
                            Tensor::from_vec(
                                self.net.relayout(i, v, false),
                                dims.as_slice(),
                                device,
                            )
                        })
                        .transpose()
                        .map_err(TrainError::from)
                })
                .collect()
        };
        let buffers = (self.state.iter())
            .map(|b| tensors(b))
            .collect::<Result<_, _>>()?;
        let optimizer = Optimizer::restore(&self.optimizer, self.step, params.len(), buffers);
        Ok((model, optimizer))
    }

    /// Gathers the batch `indices` of `split`, draws its dropout masks
    /// (`nn.Dropout(p)`, as `train::dropout_mask`), and passes it forward in
    /// training mode: the mean cross-entropy and the correct predictions.
    pub fn forward(
        &mut self,
        split: &ImageSet,
        indices: &[u32],
        normaliser: &Normaliser,
        dropout_rng: &mut Rng,
        p: f64,
    ) -> (f64, usize) {
        simd::vectorized(
            #[inline(always)]
            || {
                let mut lap = Lap::start();
                let rows = indices.len();
                self.rows = rows;
                let b = &mut self.buffers;
                let sizes = &self.net.sizes;
                normaliser.gather_into(split, indices, &mut b.x[..rows * sizes[0]], &mut b.labels);
                self.timings.gather += lap.lap();
                if p != 0.0 {
                    let scale = (1.0 / (1.0 - p)) as f32;
                    for (mask, &width) in b.masks.iter_mut().zip(&sizes[1..]) {
                        dropout_rng.dropout_mask(p as f32, scale, &mut mask[..rows * width]);
                    }
                }
                self.timings.dropout += lap.lap();
                let hidden = self.net.layers() - 1;
                for l in 0..=hidden {
                    let fan_out = sizes[l + 1];
                    let (before, after) = b.acts.split_at_mut(l);
                    let input = if l == 0 { &b.x } else { &before[l - 1] };
                    let z = &mut after[0][..rows * fan_out];
                    layer_product(z, input, &self.net, l, rows);
                    self.timings.matmul += lap.lap();
                    let bias = &self.net.biases[l];
                    if l == hidden {
                        for row in z.chunks_exact_mut(fan_out) {
                            for (v, &c) in row.iter_mut().zip(bias) {
                                *v += c;
                            }
                        }
                    } else {
                        // candle: z = mm + b; relu' = (z > 0) as f32; mask = relu' * d;
                        // a = z * mask (with d absent when p = 0).
                        let mask = &mut b.masks[l][..rows * fan_out];
                        let dropout = p != 0.0;
                        for (zrow, mrow) in z
                            .chunks_exact_mut(fan_out)
                            .zip(mask.chunks_exact_mut(fan_out))
                        {
                            for ((v, m), &c) in zrow.iter_mut().zip(mrow).zip(bias) {
                                let zv = *v + c;
                                let relu_grad = f32::from(u8::from(zv > 0.0));
                                let mv = if dropout { relu_grad * *m } else { relu_grad };
                                *m = mv;
                                *v = zv * mv;
                            }
                        }
                    }
                    self.timings.elementwise += lap.lap();
                }
                let classes = self.net.classes();
                let logits = &b.acts[hidden][..rows * classes];
                let log_probs = &mut b.log_probs[..rows * classes];
                for (z, out) in logits
                    .chunks_exact(classes)
                    .zip(log_probs.chunks_exact_mut(classes))
                {
                    log_softmax_row(z, out);
                }
                let flat = &mut b.flat[..rows * classes];
                for (f, &v) in flat.iter_mut().zip(log_probs.iter()) {
                    *f = f64::from(v);
                }
                let result = nll_and_correct(flat, classes, &b.labels);
                self.timings.elementwise += lap.lap();
                result
            },
        )
    }

    /// Backpropagates the batch last passed forward and updates the
    /// parameters with the optimizer.
    ///
    /// First it asks for the `next` batch's images, so that they arrive
    /// while the CPU computes and the next gathering reads them from the
    /// cache (a shuffled batch's images are scattered over the whole
    /// training set, where the hardware prefetcher cannot foresee them).
    /// Returns the L2 norm of the step's whole gradient.
    pub fn backward_and_update(&mut self, next: &NextBatch<'_>) -> f64 {
        simd::vectorized(
            #[inline(always)]
            || {
                let mut lap = Lap::start();
                next.normaliser.prefetch(next.split, next.indices);
                self.timings.gather += lap.lap();
                let rows = self.rows;
                let b = &mut self.buffers;
                let classes = self.net.classes();
                let n = self.net.layers();
                // (softmax - onehot) / batch, as candle: exp(log_probs) - onehot,
                // then affine(1/n, 0) = v * (1/n) + 0.
                let inv = (1.0 / rows as f64) as f32;
                let delta = &mut b.delta[..rows * classes];
                for ((d, lp), &y) in delta
                    .chunks_exact_mut(classes)
                    .zip(b.log_probs.chunks_exact(classes))
                    .zip(&b.labels)
                {
                    for (j, (dv, &l)) in d.iter_mut().zip(lp).enumerate() {
                        let onehot = f32::from(u8::from(j == usize::from(y)));
                        *dv = (l.exp() - onehot) * inv + 0.0;
                    }
                }
                self.timings.elementwise += lap.lap();
                for l in (0..n).rev() {
                    self.backward_layer(l, &mut lap);
                }
                self.step += 1;
                gradient_norm(&self.grad_squares)
            },
        )
    }

    /// Layer `l`'s part of the backward pass: its gradients, the delta of
    /// the layer below, and its parameters' update (the layers above are
    /// done). Inlined into `backward_and_update`'s vectorised body.
    #[inline(always)]
    fn backward_layer(&mut self, l: usize, lap: &mut Lap) {
        let rows = self.rows;
        let b = &mut self.buffers;
        let sizes = &self.net.sizes;
        let n = self.net.layers();
        let (fan_in, fan_out) = (sizes[l], sizes[l + 1]);
        let delta = &b.delta[..rows * fan_out];
        let input = if l == 0 {
            &b.x[..rows * fan_in]
        } else {
            &b.acts[l - 1][..rows * fan_in]
        };
        if HostNet::transposed(l) {
            // (delta^T input)^T = input^T delta: input [rows, in] seen
            // transposed.
            matmul(
                (fan_in, fan_out, rows),
                &mut self.grad_w[l],
                input,
                (1, fan_in),
                delta,
                (fan_out, 1),
            );
        } else {
            // delta^T input: delta [rows, out] seen transposed.
            matmul(
                (fan_out, fan_in, rows),
                &mut self.grad_w[l],
                delta,
                (1, fan_out),
                input,
                (fan_in, 1),
            );
        }
        self.timings.matmul += lap.lap();
        // delta.sum(0): rows added in order, from zero.
        let gb = &mut self.grad_b[l];
        gb.fill(0.0);
        for row in delta.chunks_exact(fan_out) {
            for (g, &d) in gb.iter_mut().zip(row) {
                *g += d;
            }
        }
        self.timings.elementwise += lap.lap();
        if l > 0 {
            let next = &mut b.delta_next[..rows * fan_in];
            matmul(
                (rows, fan_in, fan_out),
                next,
                delta,
                (fan_out, 1),
                &self.net.weights[l],
                (fan_in, 1),
            );
            self.timings.matmul += lap.lap();
            for (d, &m) in next.iter_mut().zip(&b.masks[l - 1][..rows * fan_in]) {
                *d *= m;
            }
            std::mem::swap(&mut b.delta, &mut b.delta_next);
            self.timings.elementwise += lap.lap();
        }
        // Layer l's parameters are not read again in this step, so they
        // are updated now, while their gradients are still in the cache.
        // Every element's update is independent of the others', so the
        // order of layers does not change the numbers.
        let step = self.step + 1;
        for (i, p, g) in [
            (l, &mut self.net.weights[l], &self.grad_w[l]),
            (n + l, &mut self.net.biases[l], &self.grad_b[l]),
        ] {
            self.grad_squares[i] = sum_squares(g);
            let mut slots: Vec<&mut Option<Vec<f32>>> =
                self.state.iter_mut().map(|b| &mut b[i]).collect();
            update(&self.optimizer, step, p, g, &mut slots);
        }
        self.timings.optimizer += lap.lap();
    }
}

/// The batch that will follow the one being trained on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextBatch<'a> {
    pub normaliser: &'a Normaliser,
    pub split: &'a ImageSet,
    pub indices: &'a [u32],
}

/// The sum of the squares of `v` in f64: 32 running sums (element `i`
/// goes to sum `i % 32`) added in order at the end, then the tail in order.
/// The order is fixed, so every vector instruction level, and both training
/// paths, give the same bits; 32 independent sums keep the adds in flight.
#[inline(always)]
pub(crate) fn sum_squares(v: &[f32]) -> f64 {
    const LANES: usize = 32;
    let mut acc = [0.0f64; LANES];
    let chunks = v.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            let x = f64::from(x);
            *a += x * x;
        }
    }
    let mut total = 0.0;
    for a in acc {
        total += a;
    }
    for &x in tail {
        let x = f64::from(x);
        total += x * x;
    }
    total
}

/// The L2 norm of a gradient from its parameters' [`sum_squares`], summed
/// in parameter order (weights, then biases).
pub(crate) fn gradient_norm(squares: &[f64]) -> f64 {
    squares.iter().sum::<f64>().sqrt()
}

/// One parameter's update, the operations of `Optimizer::update` fused into
/// one pass: each `affine(a, b)` is `v * a as f32 + b as f32`, as candle's.
/// `state` holds the parameter's buffers in the order of
/// `Optimizer::buffer_names`; a buffer is created at the first step.
#[inline(always)]
fn update(
    config: &OptimizerConfig,
    step: u64,
    p: &mut [f32],
    g: &[f32],
    state: &mut [&mut Option<Vec<f32>>],
) {
    match *config {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            dampening,
            nesterov,
            weight_decay,
        } => sgd(
            p,
            g,
            state[0],
            [lr, momentum, dampening, weight_decay],
            nesterov,
        ),
        OptimizerConfig::Adam {
            lr,
            betas,
            eps,
            weight_decay,
        } => {
            let (m, rest) = state.split_at_mut(1);
            adam(
                p,
                g,
                [&mut *m[0], &mut *rest[0]],
                step,
                [lr, eps, weight_decay, 0.0],
                betas,
            );
        }
        OptimizerConfig::AdamW {
            lr,
            betas,
            eps,
            weight_decay,
        } => {
            let (m, rest) = state.split_at_mut(1);
            adam(
                p,
                g,
                [&mut *m[0], &mut *rest[0]],
                step,
                [lr, eps, 0.0, weight_decay],
                betas,
            );
        }
        OptimizerConfig::Rmsprop {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
        } => rmsprop(
            p,
            g,
            state,
            [lr, alpha, eps, weight_decay, momentum],
            centered,
        ),
    }
}

/// `g + (p * wd + 0)`, torch's L2 weight decay as candle computes it.
#[inline(always)]
fn l2(p: f32, g: f32, wd: f32) -> f32 {
    if wd != 0.0 { g + (p * wd + 0.0) } else { g }
}

/// torch.optim.SGD, as `optim::update`.
#[inline(always)]
fn sgd(
    p: &mut [f32],
    g: &[f32],
    buffer: &mut Option<Vec<f32>>,
    [lr, momentum, dampening, weight_decay]: [f64; 4],
    nesterov: bool,
) {
    let (lr, momentum, keep, wd) = (
        lr as f32,
        momentum as f32,
        (1.0 - dampening) as f32,
        weight_decay as f32,
    );
    if momentum == 0.0 {
        for (p, &g) in p.iter_mut().zip(g) {
            *p -= l2(*p, g, wd) * lr + 0.0;
        }
        return;
    }
    let fresh = buffer.is_none();
    let buf = buffer.get_or_insert_with(|| vec![0.0; p.len()]);
    for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
        let g = l2(*p, g, wd);
        let nb = if fresh {
            g
        } else {
            (*b * momentum + 0.0) + (g * keep + 0.0)
        };
        *b = nb;
        let g = if nesterov {
            g + (nb * momentum + 0.0)
        } else {
            nb
        };
        *p -= g * lr + 0.0;
    }
}

/// torch.optim.Adam (`l2` weight decay) and AdamW (`decoupled`), as
/// `optim::adam`.
#[inline(always)]
fn adam(
    p: &mut [f32],
    g: &[f32],
    [first, second]: [&mut Option<Vec<f32>>; 2],
    step: u64,
    [lr, eps, l2_decay, decoupled]: [f64; 4],
    [beta1, beta2]: [f64; 2],
) {
    let t = step as i32;
    let step_size = (lr / (1.0 - beta1.powi(t))) as f32;
    let inv_bc2 = (1.0 / (1.0 - beta2.powi(t)).sqrt()) as f32;
    let (eps, wd) = (eps as f32, l2_decay as f32);
    let shrink = (decoupled != 0.0).then_some((1.0 - lr * decoupled) as f32);
    let (one_b1, one_b2, b2) = ((1.0 - beta1) as f32, (1.0 - beta2) as f32, beta2 as f32);
    let fresh = first.is_none() || second.is_none();
    let m_buf = first.get_or_insert_with(|| vec![0.0; p.len()]);
    let v_buf = second.get_or_insert_with(|| vec![0.0; p.len()]);
    for (((p, &g), m), v) in p
        .iter_mut()
        .zip(g)
        .zip(m_buf.iter_mut())
        .zip(v_buf.iter_mut())
    {
        if let Some(s) = shrink {
            *p = *p * s + 0.0;
        }
        let g = l2(*p, g, wd);
        let nm = if fresh {
            g * one_b1 + 0.0
        } else {
            *m + ((g - *m) * one_b1 + 0.0)
        };
        let g2 = (g * g) * one_b2 + 0.0;
        let nv = if fresh { g2 } else { (*v * b2 + 0.0) + g2 };
        *m = nm;
        *v = nv;
        let denom = nv.sqrt() * inv_bc2 + eps;
        *p -= (nm / denom) * step_size + 0.0;
    }
}

/// torch.optim.RMSprop, as `optim::rmsprop`; buffers `square_avg`,
/// `momentum_buffer` (with momentum), `grad_avg` (centered).
#[inline(always)]
fn rmsprop(
    p: &mut [f32],
    g: &[f32],
    state: &mut [&mut Option<Vec<f32>>],
    [lr, alpha, eps, weight_decay, momentum]: [f64; 5],
    centered: bool,
) {
    let (lr, a, one_a, eps, wd, mom) = (
        lr as f32,
        alpha as f32,
        (1.0 - alpha) as f32,
        eps as f32,
        weight_decay as f32,
        momentum as f32,
    );
    let fresh = state[0].is_none();
    let n = p.len();
    let [sq, buf, ga] = state else {
        unreachable!("RMSprop has three buffers")
    };
    let sq = sq.get_or_insert_with(|| vec![0.0; n]);
    let mut buf = (mom != 0.0).then(|| buf.get_or_insert_with(|| vec![0.0; n]));
    let mut ga = centered.then(|| ga.get_or_insert_with(|| vec![0.0; n]));
    for i in 0..n {
        let g = l2(p[i], g[i], wd);
        let g2 = (g * g) * one_a + 0.0;
        let v = if fresh { g2 } else { (sq[i] * a + 0.0) + g2 };
        sq[i] = v;
        let root = match ga.as_deref_mut() {
            Some(ga) => {
                let m = if fresh {
                    g * one_a + 0.0
                } else {
                    ga[i] + ((g - ga[i]) * one_a + 0.0)
                };
                ga[i] = m;
                (v - m * m).sqrt()
            }
            None => v.sqrt(),
        };
        let avg = root * 1.0 + eps;
        let mut d = g / avg;
        if let Some(buf) = buf.as_deref_mut() {
            d = if fresh { d } else { (buf[i] * mom + 0.0) + d };
            buf[i] = d;
        }
        p[i] -= d * lr + 0.0;
    }
}

/// Evaluation mode over `split` in chunks of `chunk` images, on the host:
/// `each` sees every chunk's indices, labels and log-probabilities (f64,
/// row-major). Buffers are allocated once for the whole pass.
pub(crate) fn eval_pass(
    net: &HostNet,
    normaliser: &Normaliser,
    split: &ImageSet,
    chunk: usize,
    mut each: impl FnMut(&[u32], &[u8], &[f64]) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let rows = chunk.min(split.len).max(1);
    let mut b = Buffers::for_evaluation(&net.sizes, rows);
    let sizes = &net.sizes;
    let hidden = net.layers() - 1;
    let classes = net.classes();
    let all: Vec<u32> = (0..split.len as u32).collect();
    for indices in all.chunks(chunk) {
        let rows = indices.len();
        simd::vectorized(
            #[inline(always)]
            || {
                normaliser.gather_into(split, indices, &mut b.x[..rows * sizes[0]], &mut b.labels);
                for l in 0..=hidden {
                    let fan_out = sizes[l + 1];
                    let (before, after) = b.acts.split_at_mut(l);
                    let input = if l == 0 { &b.x } else { &before[l - 1] };
                    let z = &mut after[0][..rows * fan_out];
                    layer_product(z, input, net, l, rows);
                    let relu = l < hidden;
                    for row in z.chunks_exact_mut(fan_out) {
                        for (v, &c) in row.iter_mut().zip(&net.biases[l]) {
                            let zv = *v + c;
                            *v = if relu { zv.max(0.0) } else { zv };
                        }
                    }
                }
                let logits = &b.acts[hidden][..rows * classes];
                let flat = &mut b.flat[..rows * classes];
                for (z, out) in logits
                    .chunks_exact(classes)
                    .zip(flat.chunks_exact_mut(classes))
                {
                    let lp = &mut b.log_probs[..classes];
                    log_softmax_row(z, lp);
                    for (o, &v) in out.iter_mut().zip(lp.iter()) {
                        *o = f64::from(v);
                    }
                }
            },
        );
        let flat = &b.flat[..rows * classes];
        each(indices, &b.labels, flat)?;
    }
    Ok(())
}
