//! Sampled sweeps (`mode = "random"` and `mode = "sobol"`): the unit-cube
//! points they draw and the distributions that map a coordinate to a value.
//!
//! The points are a pure function of `(mode, seed, samples, number of swept
//! keys)`: ChaCha8 seeded by `seed` for `random`, Owen-scrambled Sobol
//! (`sobol_burley`, scrambled by `seed`) for `sobol`. Nothing here reads a
//! clock, the machine or the order in which anything runs, so the same file
//! gives the same points everywhere. Drawn numbers are rounded to
//! [`SIGNIFICANT_DIGITS`] significant digits so that a point's name, and the
//! run ids hashed from its settings, read as a person would write them.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// Significant digits kept of every number a distribution draws.
pub const SIGNIFICANT_DIGITS: usize = 3;

/// The most points one sampled sweep may have (`sobol_burley`'s sequence
/// length; random sweeps share the limit so either mode takes the same files).
pub const MAX_SAMPLES: usize = 1 << 16;

/// The most swept keys of one sampled sweep (`sobol_burley`'s dimensions).
pub const MAX_DIMENSIONS: usize = 256;

/// How a sampled sweep fills the unit cube.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sampler {
    /// Independent uniform draws from ChaCha8 seeded by the sweep's seed.
    Random,
    /// Owen-scrambled Sobol points: fewer gaps and clumps than random draws.
    Sobol,
}

impl Sampler {
    /// The sweep's `mode` that asks for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sampler::Random => "random",
            Sampler::Sobol => "sobol",
        }
    }
}

/// The unit-cube coordinates of each of `samples` points in `dims`
/// dimensions, each in [0, 1).
pub(crate) fn unit_points(
    sampler: Sampler,
    seed: u32,
    samples: usize,
    dims: usize,
) -> Vec<Vec<f64>> {
    match sampler {
        Sampler::Random => {
            let mut rng = ChaCha8Rng::seed_from_u64(u64::from(seed));
            (0..samples)
                .map(|_| {
                    (0..dims)
                        // The top 53 bits: every double of [0, 1) on a 2^-53 grid.
                        .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
                        .collect()
                })
                .collect()
        }
        Sampler::Sobol => (0..samples)
            .map(|i| {
                (0..dims)
                    .map(|d| f64::from(sobol_burley::sample(i as u32, d as u32, seed)))
                    .collect()
            })
            .collect(),
    }
}

/// The distributions a swept key may be given in a sampled sweep, beside a
/// list (a uniform choice among its values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dist {
    Uniform,
    LogUniform,
    IntUniform,
    LogIntUniform,
}

impl Dist {
    /// The names a file writes, `{ log_uniform = [1e-4, 1e-1] }`.
    pub(crate) const NAMES: [&'static str; 4] =
        ["uniform", "log_uniform", "int_uniform", "log_int_uniform"];

    /// Every distribution, in the order of [`Dist::NAMES`].
    const ALL: [Dist; 4] = [
        Dist::Uniform,
        Dist::LogUniform,
        Dist::IntUniform,
        Dist::LogIntUniform,
    ];

    pub(crate) fn named(name: &str) -> Option<Dist> {
        Dist::ALL.into_iter().find(|d| d.name() == name)
    }

    pub(crate) fn name(self) -> &'static str {
        Dist::NAMES[self as usize]
    }

    /// The distributions that draw whole numbers.
    pub(crate) fn integer_names() -> Vec<&'static str> {
        (Dist::ALL.into_iter())
            .filter(|d| d.is_int())
            .map(Dist::name)
            .collect()
    }

    pub(crate) fn is_int(self) -> bool {
        matches!(self, Dist::IntUniform | Dist::LogIntUniform)
    }

    fn is_log(self) -> bool {
        matches!(self, Dist::LogUniform | Dist::LogIntUniform)
    }
}

/// A distribution with its bounds, both included for the integer ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    pub(crate) dist: Dist,
    lo: f64,
    hi: f64,
}

impl Range {
    /// Checks the bounds as written; the error is the message to show at them.
    pub(crate) fn new(dist: Dist, bounds: &[toml::Value]) -> Result<Range, String> {
        let name = Dist::NAMES[dist as usize];
        let example = if dist.is_int() {
            "[16, 512]"
        } else {
            "[1e-4, 1e-1]"
        };
        let number = |v: &toml::Value| match v {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(x) if !dist.is_int() && x.is_finite() => Some(*x),
            _ => None,
        };
        let [lo, hi] = bounds else {
            return Err(format!(
                "`{name}` takes two bounds, `{{ {name} = {example} }}`; got {} values",
                bounds.len()
            ));
        };
        let (Some(lo), Some(hi)) = (number(lo), number(hi)) else {
            let what = if dist.is_int() {
                "integers"
            } else {
                "finite numbers"
            };
            return Err(format!(
                "the bounds of `{name}` must be {what}, e.g. `{{ {name} = {example} }}`"
            ));
        };
        if lo == hi {
            return Err(format!(
                "`{name}` over [{lo}, {hi}] is an empty range; for one value write a list, `[{lo}]`"
            ));
        }
        if lo > hi {
            return Err(format!(
                "`{name}` over [{lo}, {hi}] is reversed; write the lower bound first, `[{hi}, {lo}]`"
            ));
        }
        if dist.is_log() && lo <= 0.0 {
            let least = if dist.is_int() {
                "1"
            } else {
                "a positive number"
            };
            return Err(format!(
                "`{name}` over [{lo}, {hi}]: a logarithmic range cannot reach 0 or below; start it at {least} or use `{}`",
                if dist.is_int() {
                    "int_uniform"
                } else {
                    "uniform"
                }
            ));
        }
        Ok(Range { dist, lo, hi })
    }

    /// The value at unit coordinate `u` in [0, 1): an integer for the integer
    /// distributions, otherwise a float rounded to [`SIGNIFICANT_DIGITS`].
    pub(crate) fn value(&self, u: f64) -> toml::Value {
        let (lo, hi) = (self.lo, self.hi);
        match self.dist {
            Dist::Uniform => toml::Value::Float(round_significant(lo + u * (hi - lo))),
            Dist::LogUniform => {
                let x = (lo.ln() + u * (hi.ln() - lo.ln())).exp();
                // Rounding may step just outside; the bounds are as written.
                toml::Value::Float(round_significant(x).clamp(lo, hi))
            }
            // Each integer of [lo, hi] gets an equal share of [0, 1).
            Dist::IntUniform => int_value(lo + (u * (hi - lo + 1.0)).floor(), lo, hi),
            // k gets the share ln((k+1)/k) / ln((hi+1)/lo): uniform in log space.
            Dist::LogIntUniform => {
                let x = (lo.ln() + u * ((hi + 1.0).ln() - lo.ln())).exp();
                int_value(x.floor(), lo, hi)
            }
        }
    }
}

fn int_value(x: f64, lo: f64, hi: f64) -> toml::Value {
    toml::Value::Integer(x.clamp(lo, hi) as i64)
}

/// `x` to [`SIGNIFICANT_DIGITS`] significant digits, as the nearest double to
/// the decimal a person would write (`0.00123`, not `0.0012300000000000002`).
pub(crate) fn round_significant(x: f64) -> f64 {
    let text = format!("{x:.*e}", SIGNIFICANT_DIGITS - 1);
    text.parse().expect("a formatted float parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_pinned_for_both_samplers() {
        // Pinned: a change here changes every sampled sweep's points and runs.
        let r = unit_points(Sampler::Random, 7, 2, 2);
        let s = unit_points(Sampler::Sobol, 7, 2, 2);
        let rounded = |p: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
            p.iter()
                .map(|q| q.iter().map(|x| round_significant(*x)).collect())
                .collect()
        };
        assert_eq!(rounded(&r), PINNED_RANDOM);
        assert_eq!(rounded(&s), PINNED_SOBOL);
        assert_eq!(unit_points(Sampler::Random, 7, 2, 2), r, "a pure function");
        assert_ne!(unit_points(Sampler::Sobol, 8, 2, 2), s, "the seed matters");
        for p in unit_points(Sampler::Sobol, 3, 64, 3).iter().chain(&r) {
            assert!(p.iter().all(|x| (0.0..1.0).contains(x)), "{p:?}");
        }
    }

    const PINNED_RANDOM: [[f64; 2]; 2] = [[0.158, 0.168], [0.704, 0.727]];
    const PINNED_SOBOL: [[f64; 2]; 2] = [[0.681, 0.593], [0.029, 0.195]];

    #[test]
    fn sobol_points_fill_each_axis_evenly() {
        // Of 16 Sobol points, exactly one falls in each sixteenth of each axis
        // (a (0, m, s)-net property); random points do not promise it.
        let points = unit_points(Sampler::Sobol, 11, 16, 3);
        for d in 0..3 {
            let mut cells: Vec<usize> = points.iter().map(|p| (p[d] * 16.0) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..16).collect::<Vec<_>>(), "axis {d}");
        }
    }

    #[test]
    fn distributions_map_the_unit_interval_onto_their_bounds() {
        let range = |d, lo: f64, hi: f64| {
            Range::new(d, &[toml::Value::Float(lo), toml::Value::Float(hi)]).unwrap()
        };
        let int = |d, lo: i64, hi: i64| {
            Range::new(d, &[toml::Value::Integer(lo), toml::Value::Integer(hi)]).unwrap()
        };
        let f = |v: toml::Value| v.as_float().unwrap();
        let i = |v: toml::Value| v.as_integer().unwrap();
        let u = range(Dist::Uniform, 0.0, 0.5);
        assert_eq!(f(u.value(0.0)), 0.0);
        assert_eq!(f(u.value(0.123456)), 0.0617);
        let l = range(Dist::LogUniform, 1e-4, 1e-1);
        assert_eq!(f(l.value(0.0)), 1e-4);
        assert_eq!(f(l.value(0.5)), 0.00316);
        assert_eq!(f(l.value(0.999_999_9)), 0.1, "rounded, then kept within");
        let n = int(Dist::IntUniform, 2, 4);
        let got: Vec<i64> = [0.0, 0.33, 0.34, 0.66, 0.67, 0.999]
            .map(|u| i(n.value(u)))
            .to_vec();
        assert_eq!(got, [2, 2, 3, 3, 4, 4]);
        let g = int(Dist::LogIntUniform, 1, 3);
        // Shares ln 2, ln 1.5, ln(4/3) of ln 4: 0.5, 0.29, 0.21.
        let got: Vec<i64> = [0.0, 0.49, 0.51, 0.78, 0.8, 0.999]
            .map(|u| i(g.value(u)))
            .to_vec();
        assert_eq!(got, [1, 1, 2, 2, 3, 3]);
        assert_eq!(round_significant(0.001234567), 0.00123);
        assert_eq!(round_significant(98765.0), 98800.0);
    }

    #[test]
    fn bad_bounds_say_what_is_wrong() {
        let f = toml::Value::Float;
        let n = toml::Value::Integer;
        let cases: &[(Dist, Vec<toml::Value>, &str)] = &[
            (Dist::Uniform, vec![f(0.1)], "takes two bounds"),
            (Dist::Uniform, vec![f(0.5), f(0.5)], "empty range"),
            (Dist::Uniform, vec![f(0.5), f(0.1)], "reversed"),
            (Dist::LogUniform, vec![f(0.0), f(0.1)], "cannot reach 0"),
            (Dist::LogUniform, vec![f(-1.0), f(0.1)], "cannot reach 0"),
            (Dist::LogIntUniform, vec![n(0), n(8)], "start it at 1"),
            (Dist::IntUniform, vec![f(1.5), n(8)], "must be integers"),
            (
                Dist::Uniform,
                vec![toml::Value::String("a".into()), f(1.0)],
                "finite numbers",
            ),
        ];
        for (dist, bounds, message) in cases {
            let err = Range::new(*dist, bounds).unwrap_err();
            assert!(err.contains(message), "{dist:?} {bounds:?}: {err}");
        }
    }
}
