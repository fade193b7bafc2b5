//! Holm's step-down procedure (Holm 1979) over a family of p-values: it
//! controls the family-wise error rate at α under any dependence between
//! the tests.
//!
//! Sort the m p-values ascending, p(1) <= ... <= p(m); reject H(1), H(2),
//! ... while p(k) <= α / (m − k + 1), and stop at the first that is not
//! rejected. The adjusted p-value of H(k) is
//! `min(1, max_{j <= k} (m − j + 1) p(j))`, and H(k) is rejected exactly when
//! it is at most α: `statsmodels.stats.multitest.multipletests(p, alpha,
//! method="holm")`, which the tests check it against.
//!
//! Beside the rank and its threshold, each [`HolmStep`] carries the exact
//! level at which that one test is rejected with the others' p-values held
//! fixed ([`HolmStep::level`]), so a caller can say how far the adjusted
//! decision is from flipping.

use crate::error::{StatsError, check_level};

/// One p-value's place in Holm's procedure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HolmStep {
    /// The raw p-value.
    pub p: f64,
    /// Its rank among the family's p-values, 1 for the smallest (ties in
    /// input order; ties get the same adjusted p-value and decision).
    pub rank: usize,
    /// `α / (m − rank + 1)`: the threshold Holm compares it with at its rank.
    pub threshold: f64,
    /// Holm's adjusted p-value (statsmodels' `pvals_corrected`).
    pub adjusted: f64,
    /// Rejected at family-wise α: every p-value up to its rank is at most
    /// its threshold (statsmodels' `reject`).
    pub rejected: bool,
    /// The largest value this p-value could take, the others unchanged,
    /// and still be rejected: `α / (m − K)`, where K counts the other
    /// p-values, taken in ascending order, that pass their thresholds at
    /// ranks 1, 2, ..., K. It is rejected exactly when `p <= level`; when
    /// rejected, `level >= threshold` (moving up it can take a later rank
    /// with a larger threshold, behind others that pass).
    pub level: f64,
}

fn check_p(p: &[f64]) -> Result<(), StatsError> {
    match p.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        Some(&value) => Err(StatsError::NotProbability {
            what: "Holm: a p-value",
            value,
        }),
        None => Ok(()),
    }
}

/// Holm's procedure over `p` (each in [0, 1]) at family-wise `alpha`; one
/// [`HolmStep`] per p-value, in input order. An empty family gives nothing.
pub fn holm(p: &[f64], alpha: f64) -> Result<Vec<HolmStep>, StatsError> {
    check_level(alpha)?;
    check_p(p)?;
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let threshold = |rank: usize| alpha / (m - rank + 1) as f64;
    let mut steps = vec![None; m];
    let (mut running, mut passing) = (0.0f64, true);
    for (k, &i) in order.iter().enumerate() {
        let rank = k + 1;
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        passing = passing && p[i] <= threshold(rank);
        steps[i] = Some(HolmStep {
            p: p[i],
            rank,
            threshold: threshold(rank),
            adjusted: running,
            rejected: passing,
            level: alpha / (m - passes_without(p, &order, i, alpha)) as f64,
        });
    }
    Ok(steps
        .into_iter()
        .map(|s| s.expect("every index ranked"))
        .collect())
}

/// K of [`HolmStep::level`]: how many of the p-values other than `i`, in
/// ascending order (`order`), pass Holm's thresholds at ranks 1, 2, ...
fn passes_without(p: &[f64], order: &[usize], i: usize, alpha: f64) -> usize {
    let m = p.len();
    order
        .iter()
        .filter(|&&j| j != i)
        .enumerate()
        .take_while(|&(k, &j)| p[j] <= alpha / (m - k) as f64)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textbook_example_rejects_step_by_step() {
        // Thresholds 0.0125, 0.0167, 0.025, 0.05: the first two pass, the
        // third (0.03 > 0.025) stops the procedure, so 0.04 is kept too.
        let s = holm(&[0.04, 0.01, 0.03, 0.005], 0.05).unwrap();
        let rejected: Vec<bool> = s.iter().map(|x| x.rejected).collect();
        assert_eq!(rejected, [false, true, false, true]);
        let ranks: Vec<usize> = s.iter().map(|x| x.rank).collect();
        assert_eq!(ranks, [4, 2, 3, 1]);
        let adjusted: Vec<f64> = s.iter().map(|x| x.adjusted).collect();
        let want = [0.06, 0.03, 0.06, 0.02];
        for (a, w) in adjusted.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{adjusted:?}");
        }
    }

    #[test]
    fn rejected_exactly_below_its_level_with_the_others_fixed() {
        let base = [0.004, 0.011, 0.012, 0.3, 0.013];
        let alpha = 0.05;
        for i in 0..base.len() {
            let level = holm(&base, alpha).unwrap()[i].level;
            let at = |x: f64| {
                let mut p = base;
                p[i] = x;
                holm(&p, alpha).unwrap()[i].rejected
            };
            assert!(at(level), "{i}: at its level {level}");
            assert!(!at(level * (1.0 + 1e-12)), "{i}: just above {level}");
            assert!(at(level * 0.999) && at(0.0));
        }
        // 0.011 ranks 2nd (threshold α/4), but at 0.025 it would rank 4th,
        // behind 0.004, 0.012 and 0.013, which all pass: its level is α/2.
        let s = holm(&base, alpha).unwrap();
        assert!((s[1].threshold - alpha / 4.0).abs() < 1e-15);
        assert!((s[1].level - alpha / 2.0).abs() < 1e-15);
    }

    #[test]
    fn bad_p_values_and_levels_are_errors_and_an_empty_family_is_empty() {
        assert!(holm(&[0.1, 1.2], 0.05).is_err());
        assert!(holm(&[f64::NAN], 0.05).is_err());
        assert!(holm(&[0.1], 0.0).is_err());
        assert_eq!(holm(&[], 0.05).unwrap(), vec![]);
    }
}
