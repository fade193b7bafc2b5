//! The project's random numbers: ChaCha8 (a named, version-stable algorithm),
//! one independent stream per purpose so that, for example, turning dropout
//! off does not change the shuffling order.
//!
//! The conversions to floats and bounded integers are written here rather than
//! taken from `rand`, whose sampling algorithms may change between releases.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// The purposes a run draws random numbers for.
#[derive(Debug, Clone, Copy)]
pub enum Streams {
    Init = 0,
    Shuffle = 1,
    Dropout = 2,
}

/// The generator for one purpose of one seed.
pub fn seeded(seed: u64, stream: Streams) -> Rng {
    let mut inner = ChaCha8Rng::seed_from_u64(seed);
    inner.set_stream(stream as u64);
    Rng { inner }
}

#[derive(Debug, Clone)]
pub struct Rng {
    inner: ChaCha8Rng,
}

impl Rng {
    /// Uniform in [0, 1) with 24 random bits: every f32 it returns is exact.
    pub fn unit_f32(&mut self) -> f32 {
        (self.inner.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit_f64(&mut self) -> f64 {
        (self.inner.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in `0..n` by a 64x64 multiply-shift; the bias, below 2^-48 for
    /// the sizes used here, is immaterial.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.inner.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// A uniformly random permutation of `0..n` (Fisher-Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<u32> {
        let mut p: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_repeatable_and_independent() {
        let a: Vec<u32> = seeded(7, Streams::Shuffle).permutation(100);
        let b: Vec<u32> = seeded(7, Streams::Shuffle).permutation(100);
        let c: Vec<u32> = seeded(8, Streams::Shuffle).permutation(100);
        let d: Vec<u32> = seeded(7, Streams::Dropout).permutation(100);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn chacha8_output_is_pinned() {
        // Guards against a silent change of algorithm or seeding in a
        // dependency update: the first draws of seed 0 are fixed forever.
        let mut r = seeded(0, Streams::Init);
        let first: Vec<u32> = (0..3).map(|_| r.inner.next_u32()).collect();
        let again: Vec<u32> = {
            let mut r = ChaCha8Rng::seed_from_u64(0);
            r.set_stream(0);
            (0..3).map(|_| r.next_u32()).collect()
        };
        assert_eq!(first, again);
        assert_eq!(first, PINNED_SEED0);
    }

    // Recorded from rand_chacha 0.9's ChaCha8Rng::seed_from_u64(0), stream 0.
    const PINNED_SEED0: [u32; 3] = [2_811_902_828, 3_045_455_719, 3_134_767_159];

    #[test]
    fn uniform_draws_stay_in_range_and_look_uniform() {
        let mut r = seeded(1, Streams::Dropout);
        let n = 100_000;
        let xs: Vec<f32> = (0..n).map(|_| r.unit_f32()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let mut counts = [0usize; 10];
        for _ in 0..n {
            counts[r.below(10)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
