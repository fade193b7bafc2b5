//! A fast ChaCha8 keystream that equals, word for word, the output of
//! `rand_chacha` 0.9's `ChaCha8Rng`.
//!
//! `rand_chacha` (through `ppv-lite86`) lays its state out as
//!
//! ```text
//! words  0..4   "expand 32-byte k"
//! words  4..12  the 32-byte seed, little-endian (`get_seed` returns it)
//! words 12..14  the 64-bit block counter, low word first
//! words 14..16  the 64-bit stream (`set_stream`), low word first
//! ```
//!
//! and emits block `n` (counter `n`) as words `16 n .. 16 n + 16` of the
//! stream: `set_word_pos(p)` sets the counter to `(p / 16) as u64` (the
//! counter wraps, so only the low 68 bits of `p` matter) and skips `p % 16`
//! words of that block. ChaCha8 is four double rounds.
//!
//! [`fill_words`] computes 16 blocks at a time with AVX-512F, 8 with AVX2, or
//! one at a time in portable code, choosing at run time.

/// "expand 32-byte k", the ChaCha constants.
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
/// ChaCha8: 8 rounds, that is 4 double rounds.
const DOUBLE_ROUNDS: usize = 4;
const BLOCK_WORDS: usize = 16;
/// When only this many blocks (or fewer) of a batch are needed, at the
/// unaligned start or the short end of a request, they are computed one at
/// a time rather than as a whole SIMD batch.
const SCALAR_BLOCKS_MAX: usize = 2;

/// The ways of computing the keystream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// Portable code, one block at a time.
    Scalar,
    /// AVX2, 8 blocks at a time (x86_64 only).
    Avx2,
    /// AVX-512F, 16 blocks at a time (x86_64 only).
    Avx512,
}

impl Backend {
    /// Whether this CPU can run the backend.
    pub(crate) fn is_available(self) -> bool {
        match self {
            Backend::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            Backend::Avx2 | Backend::Avx512 => false,
        }
    }

    /// The fastest backend this CPU can run.
    pub(crate) fn best() -> Backend {
        [Backend::Avx512, Backend::Avx2]
            .into_iter()
            .find(|b| b.is_available())
            .unwrap_or(Backend::Scalar)
    }
}

/// Writes the ChaCha8 words at positions `word_pos .. word_pos + out.len()`
/// of the stream that `rand_chacha::ChaCha8Rng::from_seed(*key)` with
/// `set_stream(stream)` produces (equal to `set_word_pos(word_pos)` followed by
/// `out.len()` calls of `next_u32()`).
pub(crate) fn fill_words(key: &[u8; 32], stream: u64, word_pos: u128, out: &mut [u32]) {
    fill_words_with(Backend::best(), key, stream, word_pos, out);
}

/// [`fill_words`] with a chosen backend.
///
/// # Panics
///
/// If the CPU cannot run `backend` (see [`Backend::is_available`]).
#[allow(unsafe_code)]
pub(crate) fn fill_words_with(
    backend: Backend,
    key: &[u8; 32],
    stream: u64,
    word_pos: u128,
    out: &mut [u32],
) {
    assert!(
        backend.is_available(),
        "{backend:?} is not supported by this CPU"
    );
    let input = Input::new(key, stream);
    match backend {
        Backend::Scalar => drive(&input, word_pos, out, 1, |block, words| {
            block_scalar(&input, block, words);
        }),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => drive(&input, word_pos, out, 8, |block, words| {
            // SAFETY: the assertion above checked that the CPU has AVX2.
            unsafe { x86::blocks8_avx2(&input, block, words) }
        }),
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => drive(&input, word_pos, out, 16, |block, words| {
            // SAFETY: the assertion above checked that the CPU has AVX-512F.
            unsafe { x86::blocks16_avx512(&input, block, words) }
        }),
        #[cfg(not(target_arch = "x86_64"))]
        Backend::Avx2 | Backend::Avx512 => unreachable!("not available"),
    }
}

/// The parts of the state that do not change from block to block.
struct Input {
    key: [u32; 8],
    stream: [u32; 2],
}

impl Input {
    fn new(key: &[u8; 32], stream: u64) -> Input {
        let mut words = [0u32; 8];
        for (w, b) in words.iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        Input {
            key: words,
            stream: [stream as u32, (stream >> 32) as u32],
        }
    }

    /// The initial state of block `block`.
    fn state(&self, block: u64) -> [u32; 16] {
        let mut s = [0u32; 16];
        s[..4].copy_from_slice(&CONSTANTS);
        s[4..12].copy_from_slice(&self.key);
        s[12] = block as u32;
        s[13] = (block >> 32) as u32;
        s[14..].copy_from_slice(&self.stream);
        s
    }
}

/// Fills `out` from stream position `word_pos`, computing `width` blocks at a
/// time with `kernel(first_block, words)` (`words.len() == 16 * width`); the
/// pieces that do not fill a whole aligned batch go through a buffer.
#[inline(always)]
fn drive(
    input: &Input,
    word_pos: u128,
    out: &mut [u32],
    width: usize,
    mut kernel: impl FnMut(u64, &mut [u32]),
) {
    let batch = width * BLOCK_WORDS;
    // The counter is 64 bits and wraps, as in rand_chacha's `set_word_pos`.
    let mut block = (word_pos / BLOCK_WORDS as u128) as u64;
    let mut skip = (word_pos % BLOCK_WORDS as u128) as usize;
    let mut rest = out;
    while !rest.is_empty() {
        if skip == 0 && rest.len() >= batch {
            let (head, tail) = rest.split_at_mut(batch);
            kernel(block, head);
            block = block.wrapping_add(width as u64);
            rest = tail;
            continue;
        }
        let needed = (skip + rest.len()).div_ceil(BLOCK_WORDS).min(width);
        let mut buf = [0u32; 16 * BLOCK_WORDS];
        let made = if needed <= SCALAR_BLOCKS_MAX {
            for (i, words) in buf.chunks_exact_mut(BLOCK_WORDS).take(needed).enumerate() {
                block_scalar(input, block.wrapping_add(i as u64), words);
            }
            needed * BLOCK_WORDS
        } else {
            kernel(block, &mut buf[..batch]);
            batch
        };
        let take = (made - skip).min(rest.len());
        let (head, tail) = rest.split_at_mut(take);
        head.copy_from_slice(&buf[skip..skip + take]);
        // Either `rest` is now done, or all `made` words were used.
        block = block.wrapping_add((made / BLOCK_WORDS) as u64);
        skip = 0;
        rest = tail;
    }
}

#[inline(always)]
fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

/// Block `block` of the stream into `out` (16 words).
fn block_scalar(input: &Input, block: u64, out: &mut [u32]) {
    let s = input.state(block);
    let mut x = s;
    for _ in 0..DOUBLE_ROUNDS {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for ((o, x), s) in out[..BLOCK_WORDS].iter_mut().zip(x).zip(s) {
        *o = x.wrapping_add(s);
    }
}

/// The double rounds over a state held as one vector per word (lane = block),
/// with `$add`, `$xor` and `$rol` (a rotate left by a constant) on vectors.
#[cfg(target_arch = "x86_64")]
macro_rules! double_rounds {
    ($x:ident, $add:ident, $xor:ident, $rol:ident) => {
        macro_rules! qr {
            ($a:literal, $b:literal, $c:literal, $d:literal) => {
                $x[$a] = $add($x[$a], $x[$b]);
                $x[$d] = $rol!($xor($x[$d], $x[$a]), 16);
                $x[$c] = $add($x[$c], $x[$d]);
                $x[$b] = $rol!($xor($x[$b], $x[$c]), 12);
                $x[$a] = $add($x[$a], $x[$b]);
                $x[$d] = $rol!($xor($x[$d], $x[$a]), 8);
                $x[$c] = $add($x[$c], $x[$d]);
                $x[$b] = $rol!($xor($x[$b], $x[$c]), 7);
            };
        }
        for _ in 0..DOUBLE_ROUNDS {
            qr!(0, 4, 8, 12);
            qr!(1, 5, 9, 13);
            qr!(2, 6, 10, 14);
            qr!(3, 7, 11, 15);
            qr!(0, 5, 10, 15);
            qr!(1, 6, 11, 12);
            qr!(2, 7, 8, 13);
            qr!(3, 4, 9, 14);
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK_WORDS, DOUBLE_ROUNDS, Input};
    use std::arch::x86_64::*;

    /// The low and high counter words of blocks `block .. block + N`.
    fn counters<const N: usize>(block: u64) -> ([i32; N], [i32; N]) {
        let mut lo = [0i32; N];
        let mut hi = [0i32; N];
        for i in 0..N {
            let b = block.wrapping_add(i as u64);
            lo[i] = b as u32 as i32;
            hi[i] = (b >> 32) as u32 as i32;
        }
        (lo, hi)
    }

    /// Blocks `block .. block + 16` of the stream into `out` (256 words).
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f")]
    pub(super) fn blocks16_avx512(input: &Input, block: u64, out: &mut [u32]) {
        let out: &mut [u32; 256] = out.try_into().expect("16 blocks");
        let s = input.state(0);
        let (lo, hi) = counters::<16>(block);
        let ctr_lo = _mm512_setr_epi32(
            lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7], lo[8], lo[9], lo[10], lo[11],
            lo[12], lo[13], lo[14], lo[15],
        );
        let ctr_hi = _mm512_setr_epi32(
            hi[0], hi[1], hi[2], hi[3], hi[4], hi[5], hi[6], hi[7], hi[8], hi[9], hi[10], hi[11],
            hi[12], hi[13], hi[14], hi[15],
        );
        let init = |i: usize| match i {
            12 => ctr_lo,
            13 => ctr_hi,
            _ => _mm512_set1_epi32(s[i] as i32),
        };
        let mut x: [__m512i; 16] = std::array::from_fn(init);
        let add = _mm512_add_epi32;
        let xor = _mm512_xor_si512;
        macro_rules! rol {
            ($v:expr, $n:literal) => {
                _mm512_rol_epi32::<$n>($v)
            };
        }
        double_rounds!(x, add, xor, rol);
        for (i, v) in x.iter_mut().enumerate() {
            *v = add(*v, init(i));
        }

        // Transpose: x[w] holds word w of blocks 0..16 (lane = block); each
        // block's 16 words go to one vector. First 4x4 transposes of 32-bit
        // words within each 128-bit lane: t[j][g], lane l = words
        // 4g..4g+4 of block 4l + j.
        let mut t = [[_mm512_setzero_si512(); 4]; 4];
        for g in 0..4 {
            let [a, b, c, d] = [x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]];
            let ab_lo = _mm512_unpacklo_epi32(a, b);
            let ab_hi = _mm512_unpackhi_epi32(a, b);
            let cd_lo = _mm512_unpacklo_epi32(c, d);
            let cd_hi = _mm512_unpackhi_epi32(c, d);
            t[0][g] = _mm512_unpacklo_epi64(ab_lo, cd_lo);
            t[1][g] = _mm512_unpackhi_epi64(ab_lo, cd_lo);
            t[2][g] = _mm512_unpacklo_epi64(ab_hi, cd_hi);
            t[3][g] = _mm512_unpackhi_epi64(ab_hi, cd_hi);
        }
        // Then a 4x4 transpose of 128-bit lanes for each j.
        for (j, [g0, g1, g2, g3]) in t.into_iter().enumerate() {
            let p0 = _mm512_shuffle_i32x4::<0x44>(g0, g1); // g0.l0 g0.l1 g1.l0 g1.l1
            let p1 = _mm512_shuffle_i32x4::<0xEE>(g0, g1); // g0.l2 g0.l3 g1.l2 g1.l3
            let p2 = _mm512_shuffle_i32x4::<0x44>(g2, g3);
            let p3 = _mm512_shuffle_i32x4::<0xEE>(g2, g3);
            let rows = [
                _mm512_shuffle_i32x4::<0x88>(p0, p2), // lane 0: block j
                _mm512_shuffle_i32x4::<0xDD>(p0, p2), // lane 1: block 4 + j
                _mm512_shuffle_i32x4::<0x88>(p1, p3), // lane 2: block 8 + j
                _mm512_shuffle_i32x4::<0xDD>(p1, p3), // lane 3: block 12 + j
            ];
            for (l, row) in rows.into_iter().enumerate() {
                let at = (4 * l + j) * BLOCK_WORDS;
                // SAFETY: `at + 16 <= 256 = out.len()`; unaligned store.
                unsafe { _mm512_storeu_si512(out[at..at + 16].as_mut_ptr().cast(), row) };
            }
        }
    }

    /// Blocks `block .. block + 8` of the stream into `out` (128 words).
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2")]
    pub(super) fn blocks8_avx2(input: &Input, block: u64, out: &mut [u32]) {
        let out: &mut [u32; 128] = out.try_into().expect("8 blocks");
        let s = input.state(0);
        let (lo, hi) = counters::<8>(block);
        let ctr_lo = _mm256_setr_epi32(lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7]);
        let ctr_hi = _mm256_setr_epi32(hi[0], hi[1], hi[2], hi[3], hi[4], hi[5], hi[6], hi[7]);
        let init = |i: usize| match i {
            12 => ctr_lo,
            13 => ctr_hi,
            _ => _mm256_set1_epi32(s[i] as i32),
        };
        let mut x: [__m256i; 16] = std::array::from_fn(init);
        // Byte shuffles rotating each 32-bit word left by 16 and by 8.
        const ROT16: i64 = 0x0504_0706_0100_0302;
        const ROT8: i64 = 0x0605_0407_0201_0003;
        const NEXT8: i64 = 0x0808_0808_0808_0808;
        let rot16 = _mm256_setr_epi64x(ROT16, ROT16 + NEXT8, ROT16, ROT16 + NEXT8);
        let rot8 = _mm256_setr_epi64x(ROT8, ROT8 + NEXT8, ROT8, ROT8 + NEXT8);
        let add = _mm256_add_epi32;
        let xor = _mm256_xor_si256;
        macro_rules! rol {
            ($v:expr, 16) => {
                _mm256_shuffle_epi8($v, rot16)
            };
            ($v:expr, 8) => {
                _mm256_shuffle_epi8($v, rot8)
            };
            ($v:expr, $n:literal) => {{
                let v = $v;
                _mm256_or_si256(
                    _mm256_slli_epi32::<$n>(v),
                    _mm256_srli_epi32::<{ 32 - $n }>(v),
                )
            }};
        }
        double_rounds!(x, add, xor, rol);
        for (i, v) in x.iter_mut().enumerate() {
            *v = add(*v, init(i));
        }

        // Transpose as in the AVX-512 kernel: t[j][g], lane l = words
        // 4g..4g+4 of block 4l + j.
        let mut t = [[_mm256_setzero_si256(); 4]; 4];
        for g in 0..4 {
            let [a, b, c, d] = [x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]];
            let ab_lo = _mm256_unpacklo_epi32(a, b);
            let ab_hi = _mm256_unpackhi_epi32(a, b);
            let cd_lo = _mm256_unpacklo_epi32(c, d);
            let cd_hi = _mm256_unpackhi_epi32(c, d);
            t[0][g] = _mm256_unpacklo_epi64(ab_lo, cd_lo);
            t[1][g] = _mm256_unpackhi_epi64(ab_lo, cd_lo);
            t[2][g] = _mm256_unpacklo_epi64(ab_hi, cd_hi);
            t[3][g] = _mm256_unpackhi_epi64(ab_hi, cd_hi);
        }
        for (j, [g0, g1, g2, g3]) in t.into_iter().enumerate() {
            let halves = [
                (0, _mm256_permute2x128_si256::<0x20>(g0, g1)), // block j, words 0..8
                (8, _mm256_permute2x128_si256::<0x20>(g2, g3)), // block j, words 8..16
                (64, _mm256_permute2x128_si256::<0x31>(g0, g1)), // block 4 + j, 0..8
                (72, _mm256_permute2x128_si256::<0x31>(g2, g3)), // block 4 + j, 8..16
            ];
            for (offset, half) in halves {
                let at = j * BLOCK_WORDS + offset;
                // SAFETY: `at + 8 <= 128 = out.len()`; unaligned store.
                unsafe { _mm256_storeu_si256(out[at..at + 8].as_mut_ptr().cast(), half) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    const BACKENDS: [Backend; 3] = [Backend::Scalar, Backend::Avx2, Backend::Avx512];

    fn available() -> Vec<Backend> {
        let found: Vec<Backend> = BACKENDS.into_iter().filter(|b| b.is_available()).collect();
        eprintln!("testing backends {found:?}");
        found
    }

    fn expected(seed: u64, stream: u64, word_pos: u128, len: usize) -> ([u8; 32], Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        rng.set_word_pos(word_pos);
        let key = rng.get_seed();
        (key, (0..len).map(|_| rng.next_u32()).collect())
    }

    fn check(seed: u64, stream: u64, word_pos: u128, len: usize) {
        let (key, want) = expected(seed, stream, word_pos, len);
        for backend in available() {
            let mut got = vec![0xDEAD_BEEF; len];
            fill_words_with(backend, &key, stream, word_pos, &mut got);
            if let Some(i) = (0..len).find(|&i| got[i] != want[i]) {
                panic!(
                    "{backend:?}: seed {seed} stream {stream} word_pos {word_pos} len {len}: \
                     word {i} is {:#x}, rand_chacha gives {:#x}",
                    got[i], want[i]
                );
            }
        }
        let mut got = vec![0; len];
        fill_words(&key, stream, word_pos, &mut got);
        assert_eq!(got, want, "fill_words");
    }

    const POSITIONS: [u128; 13] = [
        0,
        1,
        15,
        16,
        17,
        255,
        256,
        1000,
        (1 << 36) - 3,             // near 2^36 words
        (1 << 36) + 200,           // just past
        16 * (1 << 32) - 100,      // the counter's low word carries into its high word
        16 * (1 << 32) - 16 * 5,   // ... on a block boundary inside a batch
        16 * ((1 << 32) - 7) + 11, // ... from an unaligned start
    ];
    const LENGTHS: [usize; 9] = [0, 1, 7, 16, 100, 256, 257, 1000, 5000];

    #[test]
    fn matches_rand_chacha_at_listed_positions_and_lengths() {
        for (n, &word_pos) in POSITIONS.iter().enumerate() {
            for (m, &len) in LENGTHS.iter().enumerate() {
                let seed = (n * 31 + m) as u64;
                check(seed, (n % 3) as u64, word_pos, len);
            }
        }
    }

    #[test]
    fn matches_rand_chacha_at_pseudo_random_cases() {
        // A small LCG picks seeds, streams, positions and lengths.
        let mut state = 0x853C_49E6_748F_EA9Bu64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 11
        };
        for _ in 0..300 {
            let seed = next();
            let stream = if next() % 2 == 0 { next() % 4 } else { next() };
            let word_pos = match next() % 3 {
                0 => u128::from(next() % 10_000),
                1 => u128::from(next()) * 16 + u128::from(next() % 16),
                _ => u128::from(next()) << 20 | u128::from(next() % 1_000_000),
            };
            let len = (next() % 2_100) as usize;
            check(seed, stream, word_pos, len);
        }
    }

    #[test]
    fn the_counter_wraps_at_2_pow_68_words_like_rand_chacha() {
        let end = 1u128 << 68;
        for word_pos in [end - 16 * 3 - 5, end - 1, end, end + 37, u128::MAX - 40] {
            for len in [1, 100, 600] {
                check(5, 9, word_pos, len);
            }
        }
    }

    #[test]
    fn every_start_offset_and_length_near_a_batch() {
        for word_pos in 0..40u128 {
            for len in [250, 255, 256, 257, 511, 512, 513] {
                check(3, 2, word_pos, len);
            }
        }
    }

    #[test]
    fn consecutive_calls_continue_the_stream() {
        let (key, want) = expected(42, 2, 7, 20_000);
        for backend in available() {
            let mut got = vec![0; 20_000];
            let mut pos = 0;
            for chunk in [0, 1, 3, 256, 12_800, 100, 250, 6_000, 1_000_000] {
                let end = (pos + chunk).min(got.len());
                fill_words_with(backend, &key, 2, 7 + pos as u128, &mut got[pos..end]);
                pos = end;
            }
            assert_eq!(got, want, "{backend:?}");
        }
    }

    #[test]
    fn first_words_of_seed_0_are_pinned() {
        // The project's recorded first draws of seed_from_u64(0), stream 0.
        let key = ChaCha8Rng::seed_from_u64(0).get_seed();
        for backend in available() {
            let mut got = [0u32; 3];
            fill_words_with(backend, &key, 0, 0, &mut got);
            assert_eq!(got, [2_811_902_828, 3_045_455_719, 3_134_767_159]);
        }
    }

    #[test]
    fn simd_kernels_agree_with_scalar_at_an_arbitrary_key_and_stream() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 3) as u8);
        let mut want = vec![0; 4096];
        fill_words_with(Backend::Scalar, &key, u64::MAX, 123_456_789, &mut want);
        for backend in available() {
            let mut got = vec![0; 4096];
            fill_words_with(backend, &key, u64::MAX, 123_456_789, &mut got);
            assert_eq!(got, want, "{backend:?}");
        }
    }
}
