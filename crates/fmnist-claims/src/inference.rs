//! What a check's test is and says: the claims file's `[statistics]`, the
//! methods in words, and [`Tested`], a check tested under the seed design
//! and decided within its claim (its stages from `stage`, the family's
//! decisions and flip points from `family`).
//!
//! Also the comparison of a sweep's best point with the others:
//! [`prob_beats`] (a seeded bootstrap) and [`told_apart`] (a t interval).

use fmnist_stats::{Decision, Difference, Flip, POWER_METHOD, PredictionInterval, Region};

use crate::family::Decided;
use crate::stage::Stage;

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

/// How far a flip point may lie from a threshold this repository chose, as
/// a share of that threshold, for the verdict to count as turning on it:
/// the decision changes if the chosen number moves by less than half of
/// itself.
pub const NEAR_FLIP: f64 = 0.5;

impl Statistics {
    pub fn alpha(&self) -> f64 {
        1.0 - self.level
    }

    /// The methods of the claim checks in words, for the report.
    pub fn methods(&self) -> String {
        let pct = |x: f64| format!("{:.0}%", 100.0 * x);
        format!(
            "Each check tests the difference of its two sides over seeds, and names the test \
             it ran: a one-sample t of the left side's values when the right side is a \
             number; a paired t on the per-seed differences when both sides are measured on \
             the same seeds, using exactly the seeds both ran; Welch's t (Welch–Satterthwaite \
             df) only where the sides share fewer than two seeds, which the check then says. \
             Beside each check stand the numbers it tested: the estimate, its interval and the \
             number of seeds per side. `>` and `<` (with their margin) hold when the two-sided \
             (1 − α) interval lies inside the claimed region and fail when it lies outside; \
             `approx` is an equivalence test within `tol` (two one-sided tests at α, i.e. the \
             (1 − 2α) interval inside ±tol) and fails when one one-sided test at α puts the \
             difference beyond ±tol; otherwise the check is undecided. The claims file sets \
             α = {alpha:.2} ({level}). Multiplicity: a claim's checks are one family, \
             corrected by Holm's step-down procedure at the family-wise α (separately for \
             \"holds\" and \"fails\", on each check's p-value under the seed design), and \
             the verdict follows from the adjusted decisions: reproduced when every check \
             holds, not reproduced when any fails, undecided otherwise. So within a claim the \
             chance of any false \"holds\", and of any false \"fails\", is at most α/2 = \
             {half:.3} for `>`/`<` checks and α for `approx` checks, and a verdict carries at \
             most that error rate; across the claims there is no correction. Flip point: the \
             value of a check's bound (its `tol`, `margin`, or the number on its right) at \
             which its decision would change, the data and the other checks fixed, raw and \
             after Holm. A verdict turns on a threshold this repository chose when a check it \
             rests on has such a threshold and would flip if that number moved by less than \
             {near:.0}% of itself. Seeds to decide an undecided check: the {method}, with a \
             target power of {power}, at the observed effect and spread.",
            level = pct(self.level),
            alpha = self.alpha(),
            half = self.alpha() / 2.0,
            near = 100.0 * NEAR_FLIP,
            method = POWER_METHOD,
            power = pct(self.power),
        )
    }
}

/// A check tested under the seed design and decided within its claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Tested {
    pub region: Region,
    /// The pilot, or the only stage.
    pub first: Stage,
    /// The confirmation on the new seeds, when it ran.
    pub confirm: Option<Stage>,
    /// Why there is no confirmation (when the pilot left the check
    /// undecided and one is worth saying).
    pub confirm_note: Option<String>,
    /// Raw and adjusted decisions, p-values and flip points.
    pub decided: Decided,
    /// What an undecided first stage asks for (see `stage::Prepared`).
    pub seeds_needed: Option<Result<usize, ()>>,
    /// For a check of the paper's single run: where one run of ours would
    /// fall (95% prediction interval over every seed of the left side).
    pub prediction: Option<PredictionInterval>,
}

impl Tested {
    /// The stage the raw decision rests on: the first, unless it left the
    /// check undecided and the confirmation ran.
    pub fn decisive(&self) -> &Stage {
        match (&self.confirm, self.first.check.decision) {
            (Some(c), Decision::Undecided) => c,
            _ => &self.first,
        }
    }

    /// The difference tested by [`Tested::decisive`].
    pub fn diff(&self) -> &Difference {
        &self.decisive().diff
    }

    pub fn raw(&self) -> Decision {
        self.decided.raw
    }

    pub fn adjusted(&self) -> Decision {
        self.decided.adjusted
    }

    /// The flip point of the decision (raw, or `adjusted`) on the region's
    /// scale: where the decision it has would change.
    pub fn flip_point(&self, adjusted: bool) -> f64 {
        let f: Flip = if adjusted {
            self.decided.flip_adjusted
        } else {
            self.decided.flip
        };
        f.nearest(self.region)
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
    fn the_methods_name_each_test_and_the_correction() {
        let m = Statistics::default().methods();
        for needle in [
            "one-sample t",
            "paired t",
            "Welch's t",
            "Holm",
            "α/2 = 0.025",
            "50%",
        ] {
            assert!(m.contains(needle), "{needle}: {m}");
        }
    }
}
