//! Optimizers with `torch.optim` semantics (single-tensor, non-fused
//! paths), on candle tensors: the reference the host fast path
//! (`host::update`) and the CUDA path follow. candle-nn's SGD has no
//! momentum and its AdamW is not torch's, so all are written here.
//!
//! An optimizer's state is a list of named per-parameter buffers, named as
//! `torch.optim` names them; [`Optimizer::buffer_names`] says which a kind
//! keeps, and checkpoints store them under those names.

use candle_core::Tensor;
use fmnist_experiments::OptimizerConfig;

use crate::error::TrainError;

/// One named per-parameter buffer (`exp_avg`, ...); a slot is `None` until
/// the first step creates it, and stays `None` where the settings never
/// need it (SGD without momentum).
#[derive(Debug, Clone)]
pub(crate) struct Buffer {
    pub name: &'static str,
    pub per_param: Vec<Option<Tensor>>,
}

#[derive(Debug, Clone)]
pub struct Optimizer {
    config: OptimizerConfig,
    buffers: Vec<Buffer>,
    step: u64,
}

impl Optimizer {
    pub fn new(config: &OptimizerConfig, params: usize) -> Self {
        Self::restore(config, 0, params, Vec::new())
    }

    pub(crate) fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The learning rate of the coming steps (a schedule changes it
    /// between epochs).
    #[allow(
        dead_code,
        reason = "learning-rate schedules (issue 22) set it between epochs"
    )]
    pub(crate) fn set_lr(&mut self, lr: f64) {
        self.config.set_lr(lr);
    }

    /// Steps taken so far (Adam's `step`; every kind counts).
    pub(crate) fn steps(&self) -> u64 {
        self.step
    }

    /// The names of the per-parameter state, as `torch.optim` calls it.
    pub(crate) fn buffer_names(config: &OptimizerConfig) -> &'static [&'static str] {
        match config {
            OptimizerConfig::Sgd { .. } => &["momentum_buffer"],
            OptimizerConfig::Adam { .. } | OptimizerConfig::AdamW { .. } => {
                &["exp_avg", "exp_avg_sq"]
            }
            OptimizerConfig::Rmsprop { .. } => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }

    /// The per-parameter state, in the order of [`Optimizer::buffer_names`].
    pub(crate) fn buffers(&self) -> &[Buffer] {
        &self.buffers
    }

    /// An optimizer continuing from saved state: the inverse of
    /// [`Optimizer::steps`] and [`Optimizer::buffers`]. Buffers not given
    /// start empty.
    pub(crate) fn restore(
        config: &OptimizerConfig,
        step: u64,
        params: usize,
        mut given: Vec<Vec<Option<Tensor>>>,
    ) -> Self {
        let names = Self::buffer_names(config);
        given.resize(names.len(), vec![None; params]);
        let buffers = names
            .iter()
            .zip(given)
            .map(|(&name, per_param)| Buffer { name, per_param })
            .collect();
        Optimizer {
            config: config.clone(),
            buffers,
            step,
        }
    }

    /// One update of every parameter, in place of `params`.
    pub fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]) -> Result<(), TrainError> {
        self.step += 1;
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let mut state: Vec<Option<Tensor>> = self
                .buffers
                .iter_mut()
                .map(|b| b.per_param[i].take())
                .collect();
            *p = update(&self.config, self.step, p, g, &mut state)?;
            for (b, s) in self.buffers.iter_mut().zip(state) {
                b.per_param[i] = s;
            }
        }
        Ok(())
    }
}

/// `v * a` as candle computes `affine(a, 0)`.
fn scaled(v: &Tensor, a: f64) -> Result<Tensor, TrainError> {
    Ok(v.affine(a, 0.0)?)
}

/// `g + wd * p`, torch's L2 weight decay; `g` itself when `wd` is 0.
fn l2(g: &Tensor, p: &Tensor, wd: f64) -> Result<Tensor, TrainError> {
    Ok(if wd != 0.0 {
        (g + scaled(p, wd)?)?
    } else {
        g.clone()
    })
}

/// One parameter's update; `state` holds its buffers in the order of
/// [`Optimizer::buffer_names`].
fn update(
    config: &OptimizerConfig,
    step: u64,
    p: &Tensor,
    g: &Tensor,
    state: &mut [Option<Tensor>],
) -> Result<Tensor, TrainError> {
    match *config {
        OptimizerConfig::Sgd {
            lr,
            momentum,
            dampening,
            nesterov,
            weight_decay,
        } => {
            // grad = grad + weight_decay * param
            // buf = grad (first step) | momentum * buf + (1 - dampening) * grad
            // grad = grad + momentum * buf (nesterov) | buf
            // param = param - lr * grad
            let mut g = l2(g, p, weight_decay)?;
            if momentum != 0.0 {
                let buf = match state[0].take() {
                    None => g.clone(),
                    Some(buf) => (scaled(&buf, momentum)? + scaled(&g, 1.0 - dampening)?)?,
                };
                g = if nesterov {
                    (g + scaled(&buf, momentum)?)?
                } else {
                    buf.clone()
                };
                state[0] = Some(buf);
            }
            Ok((p - scaled(&g, lr)?)?)
        }
        OptimizerConfig::Adam {
            lr,
            betas,
            eps,
            weight_decay,
        } => adam(p, &l2(g, p, weight_decay)?, state, lr, betas, eps, step),
        OptimizerConfig::AdamW {
            lr,
            betas,
            eps,
            weight_decay,
        } => {
            // Decoupled decay: param = param * (1 - lr * weight_decay), then Adam.
            let p = if weight_decay != 0.0 {
                scaled(p, 1.0 - lr * weight_decay)?
            } else {
                p.clone()
            };
            adam(&p, g, state, lr, betas, eps, step)
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
            &l2(g, p, weight_decay)?,
            state,
            lr,
            alpha,
            eps,
            momentum,
            centered,
        ),
    }
}

/// torch.optim.Adam's step on `p` with gradient `g` (weight decay already
/// applied by the caller, as Adam or AdamW does it):
/// m = m.lerp(grad, 1 - beta1) = m + (1 - beta1) * (grad - m)
/// v = beta2 * v + (1 - beta2) * grad * grad
/// step_size = lr / (1 - beta1^t)
/// denom = sqrt(v) / sqrt(1 - beta2^t) + eps
/// param = param - step_size * m / denom
fn adam(
    p: &Tensor,
    g: &Tensor,
    state: &mut [Option<Tensor>],
    lr: f64,
    [beta1, beta2]: [f64; 2],
    eps: f64,
    step: u64,
) -> Result<Tensor, TrainError> {
    let m = match state[0].take() {
        None => scaled(g, 1.0 - beta1)?,
        Some(m) => (&m + scaled(&(g - &m)?, 1.0 - beta1)?)?,
    };
    let g2 = scaled(&g.sqr()?, 1.0 - beta2)?;
    let v = match state[1].take() {
        None => g2,
        Some(v) => (scaled(&v, beta2)? + g2)?,
    };
    let t = step as i32;
    let step_size = lr / (1.0 - beta1.powi(t));
    let bc2_sqrt = (1.0 - beta2.powi(t)).sqrt();
    let denom = v.sqrt()?.affine(1.0 / bc2_sqrt, eps)?;
    let new = (p - scaled(&(&m / denom)?, step_size)?)?;
    state[0] = Some(m);
    state[1] = Some(v);
    Ok(new)
}

/// torch.optim.RMSprop's step (weight decay already added to `g`), buffers
/// `square_avg`, `momentum_buffer`, `grad_avg`:
/// v = alpha * v + (1 - alpha) * grad * grad
/// centered: ga = ga.lerp(grad, 1 - alpha); avg = sqrt(v - ga * ga) + eps
/// else:     avg = sqrt(v) + eps
/// momentum: buf = momentum * buf + grad / avg; param = param - lr * buf
/// else:     param = param - lr * grad / avg
#[allow(
    clippy::too_many_arguments,
    reason = "the settings of torch.optim.RMSprop, named as it names them"
)]
fn rmsprop(
    p: &Tensor,
    g: &Tensor,
    state: &mut [Option<Tensor>],
    lr: f64,
    alpha: f64,
    eps: f64,
    momentum: f64,
    centered: bool,
) -> Result<Tensor, TrainError> {
    let g2 = scaled(&g.sqr()?, 1.0 - alpha)?;
    let v = match state[0].take() {
        None => g2,
        Some(v) => (scaled(&v, alpha)? + g2)?,
    };
    let root = if centered {
        let ga = match state[2].take() {
            None => scaled(g, 1.0 - alpha)?,
            Some(ga) => (&ga + scaled(&(g - &ga)?, 1.0 - alpha)?)?,
        };
        let root = (&v - ga.sqr()?)?.sqrt()?;
        state[2] = Some(ga);
        root
    } else {
        v.sqrt()?
    };
    let avg = root.affine(1.0, eps)?;
    state[0] = Some(v);
    let direction = (g / avg)?;
    let direction = if momentum != 0.0 {
        let buf = match state[1].take() {
            None => direction,
            Some(buf) => (scaled(&buf, momentum)? + direction)?,
        };
        state[1] = Some(buf.clone());
        buf
    } else {
        direction
    };
    Ok((p - scaled(&direction, lr)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// One case of `testdata/optimizers.json`: an optimizer, a parameter,
    /// five gradients and the parameter after each step, computed in
    /// float64 by numpy from torch.optim's documented algorithms (and
    /// checked there against torch itself): `testdata/optimizers.py`.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        kind: String,
        settings: serde_json::Map<String, serde_json::Value>,
        params0: Vec<f64>,
        grads: Vec<Vec<f64>>,
        params: Vec<Vec<f64>>,
    }

    #[test]
    fn every_kind_follows_an_independent_numpy_reference_for_five_steps() {
        let text = include_str!("../testdata/optimizers.json");
        #[derive(serde::Deserialize)]
        struct File {
            cases: Vec<Case>,
        }
        let file: File = serde_json::from_str(text).unwrap();
        let mut kinds = std::collections::BTreeSet::new();
        for case in &file.cases {
            let mut settings = case.settings.clone();
            settings.insert("kind".into(), case.kind.clone().into());
            let config: OptimizerConfig = serde_json::from_value(settings.into())
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            kinds.insert(config.name());
            let mut opt = Optimizer::new(&config, 1);
            let mut p = vec![t(&case.params0)];
            for (step, (g, expected)) in case.grads.iter().zip(&case.params).enumerate() {
                opt.step(&mut p, &[t(g)]).unwrap();
                for (got, want) in v(&p[0]).iter().zip(expected) {
                    let tol = 1e-12 * want.abs().max(1e-3);
                    assert!(
                        (got - want).abs() <= tol,
                        "{}, step {}: {got} vs {want}",
                        case.name,
                        step + 1
                    );
                }
            }
        }
        assert_eq!(
            kinds.len(),
            fmnist_experiments::OPTIMIZER_KINDS.len(),
            "{kinds:?}"
        );
    }

    fn t(v: &[f64]) -> Tensor {
        Tensor::new(v, &Device::Cpu).unwrap()
    }

    fn v(t: &Tensor) -> Vec<f64> {
        t.to_vec1().unwrap()
    }

    fn close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    /// Two steps of SGD with momentum 0.9, dampening 0.1, weight decay 0.01,
    /// lr 0.1, from p = [1, -2] with gradients [0.5, 0.25] then [-1, 2].
    /// Worked by hand from the torch.optim.SGD update above:
    /// step 1: g = [0.5 + 0.01, 0.25 - 0.02] = [0.51, 0.23]; buf = g;
    ///         p = [1 - 0.051, -2 - 0.023] = [0.949, -2.023]
    /// step 2: g = [-1 + 0.00949, 2 - 0.02023] = [-0.99051, 1.97977];
    ///         buf = 0.9 * [0.51, 0.23] + 0.9 * g = [-0.432459, 1.988793];
    ///         p = [0.949 + 0.0432459, -2.023 - 0.1988793] = [0.9922459, -2.2218793]
    #[test]
    fn sgd_momentum_matches_torch_formulas() {
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.1,
            nesterov: false,
            weight_decay: 0.01,
        };
        let mut opt = Optimizer::new(&cfg, 1);
        let mut p = vec![t(&[1.0, -2.0])];
        opt.step(&mut p, &[t(&[0.5, 0.25])]).unwrap();
        close(&v(&p[0]), &[0.949, -2.023]);
        opt.step(&mut p, &[t(&[-1.0, 2.0])]).unwrap();
        close(&v(&p[0]), &[0.9922459, -2.2218793]);
    }

    /// Nesterov, momentum 0.9, lr 0.1, no decay, p = [1], gradients 1 then 1:
    /// step 1: buf = 1; g = 1 + 0.9 * 1 = 1.9; p = 1 - 0.19 = 0.81
    /// step 2: buf = 0.9 + 1 = 1.9; g = 1 + 0.9 * 1.9 = 2.71; p = 0.81 - 0.271 = 0.539
    #[test]
    fn sgd_nesterov_matches_torch_formulas() {
        let cfg = OptimizerConfig::Sgd {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 0.0,
        };
        let mut opt = Optimizer::new(&cfg, 1);
        let mut p = vec![t(&[1.0])];
        opt.step(&mut p, &[t(&[1.0])]).unwrap();
        close(&v(&p[0]), &[0.81]);
        opt.step(&mut p, &[t(&[1.0])]).unwrap();
        close(&v(&p[0]), &[0.539]);
    }

    /// Plain SGD is p - lr * g.
    #[test]
    fn plain_sgd_is_a_gradient_step() {
        let cfg = OptimizerConfig::Sgd {
            lr: 0.001,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        };
        let mut opt = Optimizer::new(&cfg, 1);
        let mut p = vec![t(&[1.0, 2.0])];
        opt.step(&mut p, &[t(&[10.0, -20.0])]).unwrap();
        close(&v(&p[0]), &[0.99, 2.02]);
    }

    /// Adam with weight decay 0.1 (L2 added to the gradient), lr 0.01,
    /// betas (0.9, 0.999), eps 1e-8, p = [1], gradients 0.5 then -0.3:
    /// step 1: g = 0.5 + 0.1 = 0.6; m = 0.06; v = 0.00036;
    ///         step_size = 0.01 / 0.1 = 0.1; denom = sqrt(0.00036)/sqrt(0.001) + 1e-8 = 0.6 + 1e-8;
    ///         p = 1 - 0.1 * 0.06 / (0.6 + 1e-8)
    /// step 2 follows the same formulas with t = 2 (computed below in f64,
    /// written as the reference code of torch.optim.Adam's single-tensor path).
    #[test]
    fn adam_with_weight_decay_matches_torch_formulas() {
        let cfg = OptimizerConfig::Adam {
            lr: 0.01,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.1,
        };
        let mut opt = Optimizer::new(&cfg, 1);
        let mut p = vec![t(&[1.0])];
        opt.step(&mut p, &[t(&[0.5])]).unwrap();
        let p1 = 1.0 - 0.1 * 0.06 / (0.6 + 1e-8);
        close(&v(&p[0]), &[p1]);
        opt.step(&mut p, &[t(&[-0.3])]).unwrap();
        // Reference, step 2:
        let g: f64 = -0.3 + 0.1 * p1;
        let m: f64 = 0.06 + (1.0 - 0.9) * (g - 0.06);
        let vv: f64 = 0.999 * 0.00036 + 0.001 * g * g;
        let step_size = 0.01 / (1.0 - 0.9f64.powi(2));
        let denom = vv.sqrt() / (1.0 - 0.999f64.powi(2)).sqrt() + 1e-8;
        close(&v(&p[0]), &[p1 - step_size * m / denom]);
        // And a value written out, so the reference above cannot drift with
        // the implementation: p2 = 0.986011586162278, computed once with Python from the same formulas.
        assert!(
            (v(&p[0])[0] - 0.986_011_586_162_278).abs() < 1e-12,
            "{:?}",
            v(&p[0])
        );
    }
}
