//! Optimizers with `torch.optim` semantics. candle-nn's SGD has no momentum
//! and its AdamW decouples weight decay, so both are written here, following
//! `torch.optim.SGD` and `torch.optim.Adam` (single-tensor, non-fused paths).

use candle_core::Tensor;
use fmnist_experiments::OptimizerConfig;

use crate::error::TrainError;

#[derive(Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    /// Per parameter: SGD's momentum buffer, or Adam's first moment.
    first: Vec<Option<Tensor>>,
    /// Per parameter: Adam's second moment.
    second: Vec<Option<Tensor>>,
    step: u64,
}

impl Optimizer {
    pub fn new(config: &OptimizerConfig, params: usize) -> Self {
        Optimizer {
            config: config.clone(),
            first: vec![None; params],
            second: vec![None; params],
            step: 0,
        }
    }

    pub(crate) fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// SGD's momentum buffers or Adam's first moments, and Adam's second
    /// moments, per parameter.
    pub(crate) fn state(&self) -> (&[Option<Tensor>], &[Option<Tensor>]) {
        (&self.first, &self.second)
    }

    /// Steps taken so far (Adam's `step`; SGD counts too).
    pub(crate) fn steps(&self) -> u64 {
        self.step
    }

    /// The names of the per-parameter state, as `torch.optim` calls it:
    /// SGD's `momentum_buffer`; Adam's `exp_avg` and `exp_avg_sq`.
    pub(crate) fn buffer_names(config: &OptimizerConfig) -> &'static [&'static str] {
        match config {
            OptimizerConfig::Sgd { .. } => &["momentum_buffer"],
            OptimizerConfig::Adam { .. } => &["exp_avg", "exp_avg_sq"],
        }
    }

    pub(crate) fn names(&self) -> &'static [&'static str] {
        Self::buffer_names(&self.config)
    }

    /// The per-parameter state, in the order of [`Optimizer::buffer_names`].
    /// A buffer is `None` until the first step creates it (SGD without
    /// momentum never does).
    pub(crate) fn buffers(&self) -> Vec<&[Option<Tensor>]> {
        let all = [self.first.as_slice(), self.second.as_slice()];
        all[..self.names().len()].to_vec()
    }

    /// An optimizer continuing from saved state: the inverse of
    /// [`Optimizer::steps`] and [`Optimizer::buffers`].
    pub(crate) fn restore(
        config: &OptimizerConfig,
        step: u64,
        params: usize,
        mut buffers: Vec<Vec<Option<Tensor>>>,
    ) -> Self {
        buffers.resize(2, vec![None; params]);
        let second = buffers.pop().expect("two buffers");
        let first = buffers.pop().expect("two buffers");
        Optimizer {
            config: config.clone(),
            first,
            second,
            step,
        }
    }

    /// One update of every parameter, in place of `params`.
    pub fn step(&mut self, params: &mut [Tensor], grads: &[Tensor]) -> Result<(), TrainError> {
        self.step += 1;
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            *p = self.update(i, p, g)?;
        }
        Ok(())
    }

    fn update(&mut self, i: usize, p: &Tensor, g: &Tensor) -> Result<Tensor, TrainError> {
        match self.config {
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
                let mut g = if weight_decay != 0.0 {
                    (g + p.affine(weight_decay, 0.0)?)?
                } else {
                    g.clone()
                };
                if momentum != 0.0 {
                    let buf = match self.first[i].take() {
                        None => g.clone(),
                        Some(buf) => {
                            (buf.affine(momentum, 0.0)? + g.affine(1.0 - dampening, 0.0)?)?
                        }
                    };
                    g = if nesterov {
                        (g + buf.affine(momentum, 0.0)?)?
                    } else {
                        buf.clone()
                    };
                    self.first[i] = Some(buf);
                }
                Ok((p - g.affine(lr, 0.0)?)?)
            }
            OptimizerConfig::Adam {
                lr,
                betas: [beta1, beta2],
                eps,
                weight_decay,
            } => {
                // grad = grad + weight_decay * param   (L2, not AdamW)
                // m = m.lerp(grad, 1 - beta1) = m + (1 - beta1) * (grad - m)
                // v = beta2 * v + (1 - beta2) * grad * grad
                // step_size = lr / (1 - beta1^t)
                // denom = sqrt(v) / sqrt(1 - beta2^t) + eps
                // param = param - step_size * m / denom
                let g = if weight_decay != 0.0 {
                    (g + p.affine(weight_decay, 0.0)?)?
                } else {
                    g.clone()
                };
                let m = match self.first[i].take() {
                    None => g.affine(1.0 - beta1, 0.0)?,
                    Some(m) => (&m + (&g - &m)?.affine(1.0 - beta1, 0.0)?)?,
                };
                let g2 = g.sqr()?.affine(1.0 - beta2, 0.0)?;
                let v = match self.second[i].take() {
                    None => g2,
                    Some(v) => (v.affine(beta2, 0.0)? + g2)?,
                };
                let t = self.step as i32;
                let step_size = lr / (1.0 - beta1.powi(t));
                let bc2_sqrt = (1.0 - beta2.powi(t)).sqrt();
                let denom = v.sqrt()?.affine(1.0 / bc2_sqrt, eps)?;
                let new = (p - (&m / denom)?.affine(step_size, 0.0)?)?;
                self.first[i] = Some(m);
                self.second[i] = Some(v);
                Ok(new)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

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
