//! The noncentral t distribution's CDF, for power: `scipy.stats.nct.cdf`.
//!
//! `statrs` has no noncentral t. This is Lenth's algorithm AS 243 (Applied
//! Statistics 38:185–189, 1989) with the refinements of R's `pnt` (the
//! complement `s` through `expm1` when it is tiny, the stopping rule
//! guarded against rounding). For t >= 0, with y = t²/(t² + df) and
//! λ = δ²,
//!
//! ```text
//! F(t; df, δ) = Φ(−δ) + Σ_{j>=0} [ p_j I_y(j + 1/2, df/2) + q_j I_y(j + 1, df/2) ]
//! p_j = e^{−λ/2} (λ/2)^j / (2 j!),   q_j = δ e^{−λ/2} (λ/2)^j / (√2 Γ(j + 3/2))
//! ```
//!
//! where I is the regularised incomplete beta function; the I terms come
//! from one `beta_reg` call and the standard recurrences, and the sum stops
//! when the bound on the rest, 2 s (I_odd − g_odd) with s the Poisson mass
//! not yet summed, is below 1e-12. For t < 0, F(t; df, δ) = 1 − F(−t; df, −δ)
//! (so far in the lower tail only the absolute error is small). For
//! |δ| > 37.62, where e^{−δ²/2} underflows, the normal approximation of
//! Abramowitz and Stegun 26.7.10, as R does.
//!
//! Tested against scipy (Boost's implementation) over df 2..200, δ −5..10:
//! within 1e-12 absolute (`tests/data/make_reference_extra.py`).

use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

use crate::normal::normal_cdf;
use crate::t::t_cdf;

/// Stop when the bound on the terms left is below this.
const ERRMAX: f64 = 1e-12;
/// At most this many terms (δ = 10 needs about 80).
const ITRMAX: usize = 2000;

/// `P(T <= x)` for the noncentral t with `df` (> 0, possibly fractional)
/// degrees of freedom and noncentrality `nc`: `scipy.stats.nct.cdf(x, df, nc)`.
/// Infinite `x` gives 0 or 1; `nc = 0` is Student's t.
pub fn nct_cdf(x: f64, df: f64, nc: f64) -> f64 {
    assert!(df > 0.0 && df.is_finite(), "df must be positive, got {df}");
    assert!(nc.is_finite(), "noncentrality must be finite, got {nc}");
    if x.is_nan() {
        return f64::NAN;
    }
    if nc == 0.0 {
        return t_cdf(x, df);
    }
    if x >= 0.0 {
        upper_half(x, df, nc)
    } else {
        1.0 - upper_half(-x, df, -nc)
    }
}

/// Beyond this |δ| the Poisson weight e^{−δ²/2} underflows (R's `pnt`
/// bound, 2 ln 2 · 1021 = δ²).
const DEL_MAX: f64 = 37.62;

/// F(t; df, δ) for t >= 0 (AS 243).
fn upper_half(t: f64, df: f64, del: f64) -> f64 {
    if t == f64::INFINITY {
        return 1.0;
    }
    if del.abs() > DEL_MAX {
        // As R's pnt: Abramowitz and Stegun 26.7.10, T' ≈ normal. Only far
        // past any power question: there the CDF at a critical value is 0
        // or 1 to many digits.
        let s = 1.0 / (4.0 * df);
        return normal_cdf((t * (1.0 - s) - del) / (1.0 + t * t * 2.0 * s).sqrt());
    }
    (series(t, df, del) + normal_cdf(-del)).clamp(0.0, 1.0)
}

/// The Poisson-weighted sum of incomplete beta functions of AS 243.
fn series(t: f64, df: f64, del: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    let tt = t * t;
    let x = tt / (tt + df);
    let lambda = del * del;
    let mut p = 0.5 * (-0.5 * lambda).exp();
    let mut q = (2.0 / std::f64::consts::PI).sqrt() * p * del;
    let mut s = 0.5 - p;
    if s < 1e-7 {
        s = -0.5 * (-0.5 * lambda).exp_m1();
    }
    let mut a = 0.5;
    let b = 0.5 * df;
    let rxb = (df / (tt + df)).powf(b);
    let albeta = 0.5 * std::f64::consts::PI.ln() + ln_gamma(b) - ln_gamma(0.5 + b);
    let mut xodd = beta_reg(a, b, x);
    let mut godd = 2.0 * rxb * (a * x.ln() - albeta).exp();
    let bx = b * x;
    let mut xeven = if bx < f64::EPSILON { bx } else { 1.0 - rxb };
    let mut geven = bx * rxb;
    let mut tnc = p * xodd + q * xeven;
    for it in 1..=ITRMAX {
        a += 1.0;
        xodd -= godd;
        xeven -= geven;
        godd *= x * (a + b - 1.0) / a;
        geven *= x * (a + b - 0.5) / (a + 0.5);
        p *= lambda / (2 * it) as f64;
        q *= lambda / (2 * it + 1) as f64;
        tnc += p * xodd + q * xeven;
        s -= p;
        // s below 0 is rounding: every Poisson weight has been summed.
        if s <= 0.0 && it > 1 {
            break;
        }
        if (2.0 * s * (xodd - godd)).abs() < ERRMAX {
            break;
        }
    }
    tnc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_noncentrality_is_students_t_and_the_tails_are_0_and_1() {
        for x in [-3.0, 0.0, 1.7] {
            assert_eq!(nct_cdf(x, 4.0, 0.0), t_cdf(x, 4.0));
        }
        assert_eq!(nct_cdf(f64::INFINITY, 3.0, 2.0), 1.0);
        assert_eq!(nct_cdf(f64::NEG_INFINITY, 3.0, 2.0), 0.0);
        // At 0 only the normal part is left: P(Z + δ <= 0).
        assert!((nct_cdf(0.0, 7.0, 1.5) - normal_cdf(-1.5)).abs() < 1e-15);
    }

    #[test]
    fn it_is_increasing_in_x_and_decreasing_in_the_noncentrality() {
        let xs: Vec<f64> = (-40..=80).map(|i| f64::from(i) / 4.0).collect();
        for df in [2.0, 9.0, 57.5] {
            for nc in [-3.0, 0.5, 6.0] {
                let f: Vec<f64> = xs.iter().map(|&x| nct_cdf(x, df, nc)).collect();
                let worst = f.windows(2).map(|w| w[0] - w[1]).fold(0.0, f64::max);
                assert!(worst < 1e-12, "{df} {nc}: decreases by {worst:e}");
                let g: Vec<f64> = xs.iter().map(|&x| nct_cdf(x, df, nc + 0.5)).collect();
                let worst = f.iter().zip(&g).map(|(a, b)| b - a).fold(0.0, f64::max);
                assert!(worst < 1e-12, "{df} {nc}: increases by {worst:e}");
            }
        }
    }

    #[test]
    fn large_df_tends_to_the_shifted_normal() {
        // T' = (Z + δ)/sqrt(V/df) → Z + δ as df grows.
        for (x, nc) in [(1.0, 0.5), (3.0, 2.0), (-1.0, -1.5)] {
            assert!((nct_cdf(x, 1e6, nc) - normal_cdf(x - nc)).abs() < 1e-5);
        }
    }
}
