//! The statistical test of one claim check, from its per-seed values: the
//! difference of the two sides (paired by seed when both sides ran the same
//! seeds, Welch otherwise; a one-sample t interval against a number), the
//! interval rule of `fmnist_stats::decide` at the declared level, and, for
//! an undecided check, about how many seeds per experiment would decide it.
//!
//! The claims file declares the level and the power (`[statistics]`); the
//! report prints them with [`Statistics::methods`].
//!
//! Also the comparison of a sweep's best point with the others:
//! [`prob_beats`] (a seeded bootstrap) and [`told_apart`] (a t interval).

use fmnist_stats::{Check, Decision, Difference, POWER_METHOD, Pairing, Region, Spread};

/// What the claims file's `[statistics]` table declares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statistics {
    /// Confidence level of the claim checks, e.g. 0.95 (α = 1 − level).
    pub level: f64,
    /// The power a seed estimate aims at, e.g. 0.8.
    pub power: f64,
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics {
            level: 0.95,
            power: 0.8,
        }
    }
}

/// The most seeds per experiment a seed estimate reports; beyond it "more
/// than" is said.
pub const MAX_SEEDS_ESTIMATE: usize = 1000;

impl Statistics {
    pub fn alpha(&self) -> f64 {
        1.0 - self.level
    }

    /// The methods of the claim checks in words, for the report.
    pub fn methods(&self) -> String {
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        format!(
            "Each check is a test at level {level} (α = {alpha:.2}) on the difference of its two \
             sides over seeds: paired t on the per-seed differences when both sides ran the \
             same seeds, Welch's t (Welch–Satterthwaite df) otherwise, and a one-sample t \
             interval when the right side is a number. `>` and `<` (with their margin) hold \
             when the two-sided {level} interval lies inside the claimed region and fail when \
             it lies outside it; `approx` is an equivalence test within `tol` (two one-sided \
             tests at α, i.e. the {tost} interval inside ±tol) and fails when one one-sided \
             test at α puts the difference beyond ±tol. Otherwise the check is undecided. A \
             claim is reproduced when every check holds, not reproduced when any check fails, \
             undecided otherwise. Each check is tested at that level on its own, with no \
             correction for the number of checks: \"reproduced\" needs every check to hold (an \
             intersection–union test, at level α as it stands), while \"not reproduced\" \
             follows from any one failing check, so across a claim's k checks its error rate \
             can reach k·α. Seeds to decide an undecided check: the {method}, with a \
             target power of {power}, assuming the observed effect and spread.",
            level = pct(self.level),
            alpha = self.alpha(),
            tost = pct(1.0 - 2.0 * self.alpha()),
            method = POWER_METHOD,
            power = pct(self.power),
        )
    }
}

/// The right side of a check: a number, or per-seed values.
pub enum Side<'v> {
    Number(f64),
    Values(&'v [(u64, f64)]),
}

/// A check tested: the difference, its decision, and the seed estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tested {
    pub diff: Difference,
    pub check: Check,
    /// Seeds per experiment that would decide an undecided check at the
    /// declared power: `Some(Ok(n))`, `Some(Err(()))` when more than
    /// [`MAX_SEEDS_ESTIMATE`] (or never, on the boundary); `None` once decided.
    pub seeds_needed: Option<Result<usize, ()>>,
}

fn sd(values: &[f64]) -> f64 {
    fmnist_stats::mean_interval(values, 0.95).map_or(0.0, |m| m.sd)
}

/// Tests `left − right` against `region` (a region of that difference).
pub fn test(
    left: &[(u64, f64)],
    right: Side<'_>,
    region: Region,
    stats: Statistics,
) -> Result<Tested, String> {
    let values = |s: &[(u64, f64)]| s.iter().map(|p| p.1).collect::<Vec<f64>>();
    let (diff, spread) = match right {
        Side::Number(c) => {
            let l = values(left);
            let d = Difference::paired(&l, &vec![c; l.len()]).map_err(too_few)?;
            (d, Spread::Paired { sd: sd(&l) })
        }
        Side::Values(r) => {
            let d = Difference::by_seed(left, r).map_err(too_few)?;
            let spread = match d.pairing {
                Pairing::Paired => Spread::Paired {
                    sd: d.se * (d.n_a as f64).sqrt(),
                },
                Pairing::Welch => Spread::Independent {
                    sd_a: sd(&values(left)),
                    sd_b: sd(&values(r)),
                },
            };
            (d, spread)
        }
    };
    let check = fmnist_stats::decide(&diff, region, stats.alpha()).map_err(|e| e.to_string())?;
    let seeds_needed = (check.decision == Decision::Undecided).then(|| {
        fmnist_stats::seeds_to_decide(
            region,
            diff.estimate,
            spread,
            stats.alpha(),
            stats.power,
            MAX_SEEDS_ESTIMATE,
        )
        .ok_or(())
    });
    Ok(Tested {
        diff,
        check,
        seeds_needed,
    })
}

fn too_few(e: fmnist_stats::StatsError) -> String {
    match e {
        fmnist_stats::StatsError::TooFew { got, .. } => {
            format!("only {got} seed on a side, and an interval needs at least 2")
        }
        e => e.to_string(),
    }
}

/// The bootstrap behind [`prob_beats`]: stated, so the report can say it.
pub const BOOTSTRAP: fmnist_stats::Bootstrap = fmnist_stats::Bootstrap {
    seed: 0,
    resamples: 4000,
};

/// The probability that the mean of `best` exceeds that of `other` (ties
/// half), by the percentile bootstrap [`BOOTSTRAP`] over seeds, each side's
/// seeds resampled independently; `None` when either side has no value.
pub fn prob_beats(best: &[(u64, f64)], other: &[(u64, f64)]) -> Option<f64> {
    let v = |s: &[(u64, f64)]| s.iter().map(|p| p.1).collect::<Vec<f64>>();
    BOOTSTRAP.prob_greater(&v(best), &v(other)).ok()
}

/// Whether the two-sided `level` t interval of `best − other` (paired by
/// seed when both ran the same seeds, Welch otherwise) excludes 0; `None`
/// with fewer than two seeds on a side.
pub fn told_apart(best: &[(u64, f64)], other: &[(u64, f64)], level: f64) -> Option<bool> {
    let d = Difference::by_seed(best, other).ok()?;
    d.significant(level).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Statistics = Statistics {
        level: 0.95,
        power: 0.8,
    };

    #[test]
    fn the_same_seeds_pair_and_a_number_is_a_one_sample_interval() {
        let a = [(0, 0.80), (1, 0.82), (2, 0.81)];
        let b = [(0, 0.70), (1, 0.73), (2, 0.71)];
        let t = test(&a, Side::Values(&b), Region::Greater(0.0), S).unwrap();
        assert_eq!(t.diff.pairing, Pairing::Paired);
        assert_eq!(t.check.decision, Decision::Holds);
        assert_eq!(t.seeds_needed, None);
        // 0.81 − 0.86 = −0.05, 90% interval ± 2.92 · 0.01 / √3: wholly below −0.03.
        let t = test(&a, Side::Number(0.86), Region::Within(0.03), S).unwrap();
        assert!((t.diff.estimate + 0.05).abs() < 1e-12);
        assert_eq!(t.check.decision, Decision::Fails);
        // −0.04: [−0.0569, −0.0231] crosses −0.03.
        let t = test(&a, Side::Number(0.85), Region::Within(0.03), S).unwrap();
        assert_eq!(t.check.decision, Decision::Undecided);
        // scipy.stats.t.interval(0.95, 2, 0.81, 0.01/sqrt(3)) = [0.78516, 0.83484].
        let c = fmnist_stats::mean_interval(&[0.8, 0.82, 0.81], 0.95).unwrap();
        assert!((c.lo() - 0.785159).abs() < 1e-5 && (c.hi() - 0.834841).abs() < 1e-5);
    }

    #[test]
    fn other_seeds_use_welch_and_an_undecided_check_gets_a_seed_estimate() {
        let a = [(0, 0.80), (1, 0.83), (2, 0.78)];
        let b = [(3, 0.79), (4, 0.80), (5, 0.81)];
        let t = test(&a, Side::Values(&b), Region::Greater(0.0), S).unwrap();
        assert_eq!(t.diff.pairing, Pairing::Welch);
        assert_eq!(t.check.decision, Decision::Undecided);
        let n = t.seeds_needed.unwrap().unwrap();
        assert!(n > 3, "{n}");
        // On the boundary: no number of seeds decides it.
        let c = [(3, 0.80), (4, 0.83), (5, 0.78)];
        let t = test(&a, Side::Values(&c), Region::Greater(0.0), S).unwrap();
        assert_eq!(t.seeds_needed, Some(Err(())));
    }

    #[test]
    fn a_clear_best_is_told_apart_and_a_close_one_is_not() {
        let best = [(0, 0.90), (1, 0.91), (2, 0.92)];
        let far = [(0, 0.80), (1, 0.81), (2, 0.80)];
        let near = [(0, 0.905), (1, 0.90), (2, 0.915)];
        assert_eq!(told_apart(&best, &far, 0.95), Some(true));
        assert_eq!(told_apart(&best, &near, 0.95), Some(false));
        assert_eq!(told_apart(&best, &[(0, 0.8)], 0.95), None);
        assert_eq!(prob_beats(&best, &far), Some(1.0));
        let p = prob_beats(&best, &near).unwrap();
        assert!(p > 0.3 && p < 1.0, "{p}");
        // Seeded: the same answer every time.
        assert_eq!(prob_beats(&best, &near), Some(p));
    }

    #[test]
    fn one_seed_has_no_interval() {
        let e = test(&[(0, 0.8)], Side::Number(0.85), Region::Within(0.03), S).unwrap_err();
        assert!(e.contains("only 1 seed"), "{e}");
    }
}
