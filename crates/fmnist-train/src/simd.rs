//! Compiling the hot elementwise loops for the vector instructions the CPU
//! has (AVX-512 or AVX2), chosen at run time, so that one binary runs on any
//! x86-64 machine of a cluster and still uses the widest registers there.
//!
//! The numbers do not depend on the choice: Rust never contracts a multiply
//! and an add into an FMA, nor reorders floating-point operations, so a loop
//! compiled for 16 lanes performs exactly the IEEE operations of the scalar
//! loop, element by element. Tests run the host fast path at every level the
//! CPU offers and compare the results bit for bit.

use std::sync::atomic::{AtomicU8, Ordering};

/// The instruction sets a loop may be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only x86-64 detects the wide ones
pub(crate) enum Level {
    /// x86-64's SSE2, or any other architecture: what the target guarantees.
    Baseline = 1,
    Avx2 = 2,
    Avx512 = 3,
}

/// 0: not detected yet; otherwise a [`Level`], possibly lowered by [`cap`].
static LEVEL: AtomicU8 = AtomicU8::new(0);

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// The widest level this CPU supports (in tests, at most the thread's [`cap`]).
pub(crate) fn level() -> Level {
    let level = match LEVEL.load(Ordering::Relaxed) {
        3 => Level::Avx512,
        2 => Level::Avx2,
        1 => Level::Baseline,
        _ => {
            let level = detect();
            LEVEL.store(level as u8, Ordering::Relaxed);
            level
        }
    };
    #[cfg(test)]
    let level = level.min(CAP.get());
    level
}

#[cfg(test)]
thread_local! {
    static CAP: std::cell::Cell<Level> = const { std::cell::Cell::new(Level::Avx512) };
}

/// The vector instructions the CPU fast path uses on this machine, in words.
pub fn describe_level() -> &'static str {
    match level() {
        Level::Avx512 => "AVX-512",
        Level::Avx2 => "AVX2",
        Level::Baseline => "baseline x86-64 (SSE2) or non-x86",
    }
}

/// Uses at most `limit` on this thread from now on (the tests run the same
/// training at every level the CPU has); returns the level now in use.
#[cfg(test)]
pub(crate) fn cap(limit: Level) -> Level {
    CAP.set(limit);
    level()
}

/// Runs `f` compiled for the widest instruction set the CPU has: `f` is
/// inlined into a function with those target features (a closure called
/// once from a generic function always is), and so is every
/// `#[inline(always)]` function it calls.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    match level() {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => {
            #[allow(unsafe_code)]
            // SAFETY: `level()` returned Avx512 only after the CPU reported
            // every feature `avx512` enables.
            unsafe {
                avx512(f)
            }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            #[allow(unsafe_code)]
            // SAFETY: `level()` returned Avx2 only after the CPU reported AVX2.
            unsafe {
                avx2(f)
            }
        }
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}
