//! Turning u8 images into normalised f32 batches. Images stay as u8 (55 MB for
//! the training set) and are converted one batch at a time, which keeps
//! several concurrent runs within a small memory budget.

use candle_core::{Device, Tensor};
use fmnist_data::ImageSet;
use fmnist_experiments::InputConfig;

use crate::error::TrainError;

/// How many images ahead of the one being converted [`Normaliser::gather_into`]
/// prefetches.
const PREFETCH_AHEAD: usize = 2;

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
}

impl Normaliser {
    pub fn new(input: &InputConfig) -> Self {
        let (mean, std) = (input.mean as f32, input.std as f32);
        let mut table = [0f32; 256];
        for (v, t) in table.iter_mut().enumerate() {
            *t = (v as f32 / 255.0 - mean) / std;
        }
        Normaliser { table }
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
        for (j, (&i, out)) in indices.iter().zip(x.chunks_exact_mut(pixels)).enumerate() {
            // Images come in shuffled order, so each starts with cache misses
            // the hardware prefetcher cannot foresee: ask for a later one now.
            if let Some(&ahead) = indices.get(j + PREFETCH_AHEAD) {
                prefetch(split.image(ahead as usize));
            }
            let i = i as usize;
            for (o, &p) in out.iter_mut().zip(split.image(i)) {
                *o = self.table[usize::from(p)];
            }
            labels.push(split.labels[i]);
        }
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
}
