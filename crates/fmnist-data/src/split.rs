//! A validation split held out of the training images, so that the choices
//! made while training (the best epoch, early stopping, a sweep's best
//! point) are made on images that are neither trained on nor the official
//! test set.
//!
//! The split is a pure function of the data and its settings: the same
//! [`HoldOut`] on the same data holds out the same images on every machine.
//!
//! - **How many per class** ([`quotas`]): a class with `n_c` of the `N`
//!   images holds out `floor(H * n_c / N)` of the `H` held out; the
//!   `H - sum(floor)` left over go one each to the classes with the largest
//!   remainders `H * n_c mod N`, ties to the lower class index (Hamilton's
//!   largest-remainder rule, in exact integer arithmetic). The total is
//!   exactly `H`, each class's share is within one image of proportional,
//!   and no class gives more images than it has. Fashion-MNIST's 6,000
//!   images per class and `H = 10,000` give 1,000 per class.
//! - **Which images**: ChaCha8 (`rand_chacha`), keyed by BLAKE3 (in
//!   `derive_key` mode) of the hashes of the data's training files and the
//!   split's seed; class `c` draws from the key's stream `c`, a partial
//!   Fisher-Yates shuffle of the class's indices (ascending) whose first
//!   `q_c` entries are held out. Each draw in `0..k` is unbiased: a 64-bit
//!   word is rejected when it falls in the last `2^64 mod k` values.
//! - **Order**: both index lists ascending, so each set keeps the order of
//!   the training files.

use std::borrow::Cow;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::{DataError, Dataset, ImageSet, Role, idx};

/// The BLAKE3 `derive_key` context of the split's generator key: a change
/// to the drawing rule must change it, so that no two rules share a key.
const KEY_CONTEXT: &str = "fmnist-data validation split v1: stratified, Hamilton quotas, \
                           per-class ChaCha8 streams, partial Fisher-Yates";

/// How many training images to hold out for validation, and which draw of
/// them (`seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HoldOut {
    /// Images held out, in `1..N` for a training set of `N` images.
    pub images: usize,
    pub seed: u64,
}

/// A split of a training set by image index: both lists ascending, disjoint,
/// and together every index once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    /// The validation images.
    pub held_out: Vec<u32>,
    /// The images left to train on.
    pub remaining: Vec<u32>,
}

/// A training set split in two: the images to train on and the validation
/// images, each in the order of the training files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainSplit {
    pub train: ImageSet,
    pub validation: ImageSet,
    /// Which training images each holds.
    pub indices: SplitIndices,
}

/// The number of images each class holds out when `images` of the images
/// counted in `counts` (per class) are held out; see the module's rounding
/// rule. The sum is `images`.
///
/// # Panics
/// If `images` exceeds the total count.
pub fn quotas(counts: &[usize], images: usize) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    assert!(images <= total, "{images} of {total} images");
    if total == 0 {
        return vec![0; counts.len()];
    }
    let share = |n: usize| (images as u128 * n as u128, total as u128);
    let mut quotas: Vec<usize> = (counts.iter())
        .map(|&n| (share(n).0 / share(n).1) as usize)
        .collect();
    let left = images - quotas.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    // Largest remainder first; the sort is stable, so ties keep class order.
    by_remainder.sort_by_key(|&c| std::cmp::Reverse(share(counts[c]).0 % share(counts[c]).1));
    for &c in &by_remainder[..left] {
        quotas[c] += 1;
    }
    quotas
}

/// Splits the images labelled `labels` (class indices below `classes`):
/// `hold_out.images` held out, stratified by class, drawn from the generator
/// keyed by `data_hashes` (the hashes of the files the labels and images
/// come from, as a manifest pins them) and `hold_out.seed`.
pub fn stratified(
    labels: &[u8],
    classes: usize,
    hold_out: HoldOut,
    data_hashes: &[&str],
) -> Result<SplitIndices, DataError> {
    let n = labels.len();
    if hold_out.images == 0 || hold_out.images >= n {
        return Err(DataError::Split(format!(
            "cannot hold out {} of {n} training images: hold out at least one and leave at least one to train on",
            hold_out.images
        )));
    }
    if u32::try_from(n).is_err() {
        return Err(DataError::Split(format!(
            "{n} images are more than 32-bit indices can name"
        )));
    }
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        let Some(class) = members.get_mut(usize::from(label)) else {
            return Err(DataError::Split(format!(
                "image {i} has label {label}, but there are only {classes} classes"
            )));
        };
        class.push(i as u32);
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    let quotas = quotas(&counts, hold_out.images);
    let key = key(data_hashes, hold_out.seed);
    let mut held = vec![false; n];
    for (class, (indices, quota)) in members.iter_mut().zip(quotas).enumerate() {
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(class as u64);
        for i in 0..quota {
            let j = i + below(&mut rng, (indices.len() - i) as u64) as usize;
            indices.swap(i, j);
            held[indices[i] as usize] = true;
        }
    }
    let (held_out, remaining) = (0..n as u32).partition(|&i| held[i as usize]);
    Ok(SplitIndices {
        held_out,
        remaining,
    })
}

/// The generator's key: BLAKE3 in `derive_key` mode over each hash
/// (length-prefixed, so no two lists of hashes read alike) and the seed.
fn key(data_hashes: &[&str], seed: u64) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
    hasher.update(&(data_hashes.len() as u64).to_le_bytes());
    for hash in data_hashes {
        hasher.update(&(hash.len() as u64).to_le_bytes());
        hasher.update(hash.as_bytes());
    }
    hasher.update(&seed.to_le_bytes());
    *hasher.finalize().as_bytes()
}

/// Uniform in `0..k` (`k >= 1`), without bias: a word among the last
/// `2^64 mod k` values is drawn again.
fn below(rng: &mut ChaCha8Rng, k: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX - k + 1) % k;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return x % k;
        }
    }
}

impl ImageSet {
    /// The images at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is not below `self.len`.
    pub fn select(&self, indices: &[u32]) -> ImageSet {
        let size = self.pixels_per_image();
        let mut images = Vec::with_capacity(indices.len() * size);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            images.extend_from_slice(self.image(i as usize));
            labels.push(self.labels[i as usize]);
        }
        ImageSet {
            images,
            labels,
            len: indices.len(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// The BLAKE3 (hex) of the decompressed IDX files this set decodes
    /// from, images then labels: the manifest's `raw_blake3` of those files
    /// for a set [`crate::load`] read, since the IDX header of a set is
    /// determined by its dimensions.
    pub fn payload_hashes(&self) -> [String; 2] {
        let mut images = blake3::Hasher::new();
        images.update(&idx::header(3, &[self.len, self.rows, self.cols]));
        images.update(&self.images);
        let mut labels = blake3::Hasher::new();
        labels.update(&idx::header(1, &[self.len]));
        labels.update(&self.labels);
        [images, labels].map(|h| h.finalize().to_hex().to_string())
    }
}

impl Dataset {
    /// The training set's split by [`stratified`], keyed by the hashes of
    /// the training files ([`ImageSet::payload_hashes`]: for the pinned
    /// data, the manifest's hashes of its [`Role::TrainImages`] and
    /// [`Role::TrainLabels`] files, in that order).
    pub fn split_indices(&self, hold_out: HoldOut) -> Result<SplitIndices, DataError> {
        let hashes = self.train.payload_hashes();
        debug_assert_eq!(Role::ALL[..2], [Role::TrainImages, Role::TrainLabels]);
        let hashes = [hashes[0].as_str(), hashes[1].as_str()];
        stratified(&self.train.labels, self.classes.len(), hold_out, &hashes)
    }

    /// The images a run validates on, the one definition that training,
    /// `evaluate` and the report's mistakes share (a stored mistake is a
    /// position in this set): with a split (`hold_out`), the held-out
    /// training images in the training files' order; without one, the
    /// official test set; either cut to its first `limit` images.
    pub fn validation_images(
        &self,
        hold_out: Option<HoldOut>,
        limit: Option<usize>,
    ) -> Result<Cow<'_, ImageSet>, DataError> {
        let Some(hold_out) = hold_out else {
            return Ok(self.test.first(limit));
        };
        let held_out = self.split_indices(hold_out)?.held_out;
        let n = limit.map_or(held_out.len(), |n| n.min(held_out.len()));
        Ok(Cow::Owned(self.train.select(&held_out[..n])))
    }

    /// The training set split in two by [`Dataset::split_indices`].
    pub fn hold_out(&self, hold_out: HoldOut) -> Result<TrainSplit, DataError> {
        let indices = self.split_indices(hold_out)?;
        Ok(TrainSplit {
            train: self.train.select(&indices.remaining),
            validation: self.train.select(&indices.held_out),
            indices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: [&str; 2] = ["aa", "bb"];

    /// `per_class[c]` images of class `c`, the classes interleaved.
    fn labels(per_class: &[usize]) -> Vec<u8> {
        let mut left = per_class.to_vec();
        let mut out = Vec::new();
        while left.iter().any(|&n| n > 0) {
            for (c, n) in left.iter_mut().enumerate() {
                if *n > 0 {
                    *n -= 1;
                    out.push(c as u8);
                }
            }
        }
        out
    }

    fn counts(labels: &[u8], indices: &[u32], classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &i in indices {
            counts[usize::from(labels[i as usize])] += 1;
        }
        counts
    }

    #[test]
    fn quotas_are_proportional_and_sum_exactly() {
        assert_eq!(quotas(&[6000; 10], 10_000), [1000; 10]);
        // 7 of 10 equal classes: the remainders tie, the lower classes get one more.
        assert_eq!(quotas(&[5; 10], 7), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
        // 10 of 100 as 50/30/20: exact.
        assert_eq!(quotas(&[50, 30, 20], 10), [5, 3, 2]);
        // 10 of 90 as 45/30/15: 5, 3.33, 1.67 -> the largest remainder (class 2) rounds up.
        assert_eq!(quotas(&[45, 30, 15], 10), [5, 3, 2]);
        // A class without images holds out none; all may be held out.
        assert_eq!(quotas(&[3, 0, 1], 4), [3, 0, 1]);
        for (counts, h) in [(vec![7, 1, 13, 2], 11), (vec![1; 9], 4), (vec![100, 1], 50)] {
            let q = quotas(&counts, h);
            assert_eq!(q.iter().sum::<usize>(), h, "{counts:?}");
            let total: usize = counts.iter().sum();
            for (&n, &k) in counts.iter().zip(&q) {
                assert!(k <= n, "{counts:?} {q:?}");
                let exact = h as f64 * n as f64 / total as f64;
                assert!((k as f64 - exact).abs() < 1.0, "{counts:?} {q:?}");
            }
        }
    }

    #[test]
    fn a_split_is_stratified_disjoint_and_complete() {
        let per_class = [60, 45, 30, 75, 0, 90];
        let labels = labels(&per_class);
        let hold_out = HoldOut {
            images: 50,
            seed: 3,
        };
        let s = stratified(&labels, 6, hold_out, &HASHES).unwrap();
        assert_eq!((s.held_out.len(), s.remaining.len()), (50, 250));
        assert_eq!(counts(&labels, &s.held_out, 6), quotas(&per_class, 50));
        assert_eq!(counts(&labels, &s.held_out, 6), [10, 8, 5, 12, 0, 15]);
        for list in [&s.held_out, &s.remaining] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "ascending");
        }
        let mut all: Vec<u32> = s.held_out.iter().chain(&s.remaining).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..300).collect::<Vec<u32>>(), "each image once");
    }

    #[test]
    fn the_split_is_a_function_of_the_seed_and_the_data_hashes() {
        let labels = labels(&[40; 10]);
        let split = |seed, hashes: &[&str]| {
            let hold_out = HoldOut { images: 80, seed };
            stratified(&labels, 10, hold_out, hashes).unwrap()
        };
        let a = split(0, &HASHES);
        assert_eq!(a, split(0, &HASHES));
        assert_ne!(a.held_out, split(1, &HASHES).held_out);
        assert_ne!(a.held_out, split(0, &["aa", "bc"]).held_out);
        // The hashes are read as a list, not as their concatenation.
        assert_ne!(a.held_out, split(0, &["aab", "b"]).held_out);
    }

    /// The splits `testdata/make_split.py` draws by its own transcription
    /// of the rule (ChaCha8 checked against the `cryptography` package's
    /// ChaCha20, BLAKE3 from the `blake3` package): the same images on
    /// every machine, and the rule as the module documents it.
    #[test]
    fn splits_match_an_independent_python_transcription() {
        let table: serde_json::Value =
            serde_json::from_str(include_str!("../testdata/split.json")).unwrap();
        let cases = table["synthetic"].as_array().unwrap();
        assert_eq!(cases.len(), 4);
        let numbers = |v: &serde_json::Value| -> Vec<u64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        };
        for case in cases {
            let per_class: Vec<usize> = numbers(&case["per_class"])
                .iter()
                .map(|&n| n as usize)
                .collect();
            let hashes: Vec<&str> = (case["hashes"].as_array().unwrap().iter())
                .map(|h| h.as_str().unwrap())
                .collect();
            let hold_out = HoldOut {
                images: case["images"].as_u64().unwrap() as usize,
                seed: case["seed"].as_u64().unwrap(),
            };
            let got = stratified(&labels(&per_class), per_class.len(), hold_out, &hashes).unwrap();
            let want: Vec<u32> = numbers(&case["held_out"])
                .iter()
                .map(|&i| i as u32)
                .collect();
            assert_eq!(got.held_out, want, "{case}");
        }
    }

    #[test]
    fn every_image_of_a_class_is_as_likely_to_be_held_out() {
        // 2 of each class's 5 images, over 2000 seeds: each image 800 times
        // in expectation, with a standard deviation of about 22.
        let labels = labels(&[5; 3]);
        let mut times = [0usize; 15];
        for seed in 0..2000 {
            let hold_out = HoldOut { images: 6, seed };
            for i in stratified(&labels, 3, hold_out, &HASHES).unwrap().held_out {
                times[i as usize] += 1;
            }
        }
        for (i, &t) in times.iter().enumerate() {
            assert!((700..=900).contains(&t), "image {i}: {t} of 2000");
        }
    }

    #[test]
    fn impossible_splits_are_errors() {
        let labels = labels(&[3; 2]);
        let err = |images| {
            stratified(&labels, 2, HoldOut { images, seed: 0 }, &HASHES)
                .unwrap_err()
                .to_string()
        };
        for images in [0, 6, 7] {
            assert!(
                err(images).contains(&format!("cannot hold out {images} of 6")),
                "{}",
                err(images)
            );
        }
        let e = stratified(&[0, 1, 2], 2, HoldOut { images: 1, seed: 0 }, &HASHES).unwrap_err();
        assert_eq!(
            e.to_string(),
            "validation split: image 2 has label 2, but there are only 2 classes"
        );
    }

    #[test]
    fn a_dataset_splits_into_image_sets_keyed_by_its_payload_hashes() {
        let labels = labels(&[4; 10]);
        let n = labels.len();
        let images: Vec<u8> = (0..n * 4).map(|i| (i / 4) as u8).collect();
        let train = ImageSet {
            images: images.clone(),
            labels: labels.clone(),
            len: n,
            rows: 2,
            cols: 2,
        };
        // The hashes are those of the IDX payloads the set decodes from.
        let hashes = train.payload_hashes();
        assert_eq!(
            hashes[0],
            blake3::hash(&idx::encode_images(n, 2, 2, &images))
                .to_hex()
                .as_str()
        );
        assert_eq!(
            hashes[1],
            blake3::hash(&idx::encode_labels(&labels)).to_hex().as_str()
        );
        let ds = Dataset {
            train,
            test: ImageSet {
                images: vec![],
                labels: vec![],
                len: 0,
                rows: 2,
                cols: 2,
            },
            classes: (0..10).map(|c| c.to_string()).collect(),
        };
        let hold_out = HoldOut {
            images: 10,
            seed: 9,
        };
        let split = ds.hold_out(hold_out).unwrap();
        let keys = [hashes[0].as_str(), hashes[1].as_str()];
        assert_eq!(
            split.indices,
            stratified(&labels, 10, hold_out, &keys).unwrap()
        );
        assert_eq!((split.train.len, split.validation.len), (30, 10));
        for (set, indices) in [
            (&split.train, &split.indices.remaining),
            (&split.validation, &split.indices.held_out),
        ] {
            for (k, &i) in indices.iter().enumerate() {
                assert_eq!(set.image(k), ds.train.image(i as usize));
                assert_eq!(set.labels[k], labels[i as usize]);
            }
        }
        // A run validates on the held-out images (first `limit` of them),
        // or on the official test set without a split.
        let val = ds.validation_images(Some(hold_out), Some(4)).unwrap();
        assert_eq!(val.len, 4);
        for k in 0..4 {
            assert_eq!(val.image(k), split.validation.image(k));
        }
        let official = ds.validation_images(None, None).unwrap();
        assert!(matches!(official, Cow::Borrowed(t) if std::ptr::eq(t, &ds.test)));
        // Other pixels are other data: another split of the same labels.
        let mut other = ds.clone();
        other.train.images[0] ^= 1;
        assert_ne!(other.hold_out(hold_out).unwrap().indices, split.indices);
    }
}
