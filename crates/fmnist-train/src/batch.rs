//! Turning u8 images into normalised f32 batches. Images stay as u8 (55 MB for
//! the training set) and are converted one batch at a time, which keeps
//! several concurrent runs within a small memory budget.

use candle_core::{Device, Tensor};
use fmnist_data::ImageSet;
use fmnist_experiments::InputConfig;

use crate::error::TrainError;
use crate::simd::{self, Level};

/// How many images ahead of the one being converted [`Normaliser::gather_into`]
/// prefetches.
const PREFETCH_AHEAD: usize = 4;

/// Hints the CPU to bring `bytes` into the cache; no effect on the results.
#[allow(unsafe_code)] // a prefetch instruction, on memory the slice owns.
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86_64 target; a prefetch never
        // faults and changes no memory.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// `(pixel / 255 - mean) / std` for each of the 256 pixel values, computed in
/// f32 as torchvision's `ToTensor` then `Normalize` would.
#[derive(Debug, Clone)]
pub struct Normaliser {
    table: [f32; 256],
    mean: f32,
    std: f32,
    /// `1 / std`, where multiplying by it gives the table's value for every
    /// pixel (a power-of-two `std` such as the usual 0.5): a multiply is
    /// cheaper than a divide.
    inv_std: Option<f32>,
}

impl Normaliser {
    pub fn new(input: &InputConfig) -> Self {
        let (mean, std) = (input.mean as f32, input.std as f32);
        let mut table = [0f32; 256];
        for (v, t) in table.iter_mut().enumerate() {
            *t = (v as f32 / 255.0 - mean) / std;
        }
        let inv = 1.0 / std;
        let exact = (0..=255u8).all(|v| {
            ((f32::from(v) / 255.0 - mean) * inv).to_bits() == table[usize::from(v)].to_bits()
        });
        Normaliser {
            table,
            mean,
            std,
            inv_std: exact.then_some(inv),
        }
    }

    /// One image's pixels normalised into `out`. The arithmetic is the
    /// table's own, so the result is the same whichever way is taken:
    /// vectorised (16 pixels per instruction with AVX-512) where the CPU has
    /// wide registers, where a table lookup per pixel would be the
    /// bottleneck; the table otherwise.
    #[inline(always)]
    fn convert(&self, pixels: &[u8], out: &mut [f32]) {
        if simd::level() == Level::Baseline {
            for (o, &p) in out.iter_mut().zip(pixels) {
                *o = self.table[usize::from(p)];
            }
            return;
        }
        let mean = self.mean;
        match self.inv_std {
            Some(inv) => {
                for (o, &p) in out.iter_mut().zip(pixels) {
                    *o = (f32::from(p) / 255.0 - mean) * inv;
                }
            }
            None => {
                let std = self.std;
                for (o, &p) in out.iter_mut().zip(pixels) {
                    *o = (f32::from(p) / 255.0 - mean) / std;
                }
            }
        }
    }

    /// Asks the CPU to bring the images at `indices` into its caches while it
    /// computes something else: the training loop names the next batch before
    /// it backpropagates the current one, so that gathering it later reads
    /// from the cache instead of waiting for memory (the images of a shuffled
    /// batch are scattered over the whole training set).
    pub fn prefetch(&self, split: &ImageSet, indices: &[u32]) {
        for &i in indices {
            prefetch(split.image(i as usize));
        }
    }

    /// The images at `indices` as a `[indices.len(), pixels]` tensor, and
    /// their labels.
    pub fn gather(
        &self,
        split: &ImageSet,
        indices: &[u32],
        device: &Device,
    ) -> Result<(Tensor, Vec<u8>), TrainError> {
        let pixels = split.rows * split.cols;
        let mut x = vec![0f32; indices.len() * pixels];
        let mut y = Vec::with_capacity(indices.len());
        self.gather_into(split, indices, &mut x, &mut y);
        Ok((Tensor::from_vec(x, (indices.len(), pixels), device)?, y))
    }

    /// [`Normaliser::gather`] into buffers the caller reuses: `x` holds
    /// exactly `indices.len()` images; `labels` is cleared first.
    pub fn gather_into(
        &self,
        split: &ImageSet,
        indices: &[u32],
        x: &mut [f32],
        labels: &mut Vec<u8>,
    ) {
        let pixels = split.rows * split.cols;
        assert_eq!(x.len(), indices.len() * pixels, "batch buffer size");
        labels.clear();
        simd::vectorized(
            #[inline(always)]
            || {
                for (j, (&i, out)) in indices.iter().zip(x.chunks_exact_mut(pixels)).enumerate() {
                    // Images come in shuffled order, so each starts with cache
                    // misses the hardware prefetcher cannot foresee: ask for a
                    // later one now.
                    if let Some(&ahead) = indices.get(j + PREFETCH_AHEAD) {
                        prefetch(split.image(ahead as usize));
                    }
                    let i = i as usize;
                    self.convert(split.image(i), out);
                    labels.push(split.labels[i]);
                }
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_minus_one_one_by_default() {
        let n = Normaliser::new(&InputConfig {
            mean: 0.5,
            std: 0.5,
        });
        assert_eq!(n.table[0], -1.0);
        assert_eq!(n.table[255], 1.0);
        assert!((n.table[128] - (128.0 / 255.0 - 0.5) / 0.5).abs() < 1e-7);
        let split = ImageSet {
            images: (0..2 * 4).map(|v| v as u8 * 30).collect(),
            labels: vec![3, 7],
            len: 2,
            rows: 2,
            cols: 2,
        };
        let (x, y) = n.gather(&split, &[1, 0], &Device::Cpu).unwrap();
        assert_eq!(y, vec![7, 3]);
        let x: Vec<Vec<f32>> = x.to_vec2().unwrap();
        assert_eq!(x[1][0], -1.0);
        assert_eq!(x[0][0], n.table[120]);
    }

    #[test]
    fn every_vector_level_converts_pixels_exactly_as_the_table() {
        let pixels: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        // 0.5 takes the multiply-by-1/std way, the others the divide way.
        for (mean, std) in [(0.5, 0.5), (0.2860, 0.3530), (0.0, 1.0), (0.1307, 0.3081)] {
            let n = Normaliser::new(&InputConfig { mean, std });
            let expected: Vec<u32> = pixels
                .iter()
                .map(|&p| n.table[usize::from(p)].to_bits())
                .collect();
            for limit in [Level::Baseline, Level::Avx2, Level::Avx512] {
                let level = simd::cap(limit);
                let mut out = vec![f32::NAN; pixels.len()];
                simd::vectorized(|| n.convert(&pixels, &mut out));
                let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, expected, "mean {mean}, std {std}, {level:?}");
            }
        }
    }
}
