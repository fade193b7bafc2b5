//! The machine's matrix-multiply speed, measured with the same library the
//! model uses, so that training throughput can be stated as a fraction of it.

use std::time::Instant;

use candle_core::{Device, Tensor};

use crate::error::TrainError;
use crate::rng::{Streams, seeded};

/// Median GFLOP/s of an `n x n x n` f32 product over `repeats` runs (after
/// one warm-up), on the thread count candle is configured with.
pub fn matmul_gflops(n: usize, repeats: usize, device: &Device) -> Result<f64, TrainError> {
    let mut rng = seeded(0, Streams::Init);
    let mut random = || -> Result<Tensor, TrainError> {
        let v: Vec<f32> = (0..n * n).map(|_| rng.unit_f32()).collect();
        Ok(Tensor::from_vec(v, (n, n), device)?)
    };
    let (a, b) = (random()?, random()?);
    a.matmul(&b)?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let c = a.matmul(&b)?;
        device.synchronize()?;
        times.push(t.elapsed().as_secs_f64());
        drop(c);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    Ok(2.0 * (n as f64).powi(3) / median / 1e9)
}
