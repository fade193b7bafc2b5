//! `[sweep.prune]`: synchronous successive halving over a sweep's points.
//!
//! ```toml
//! [sweep.prune]
//! metric = "val:accuracy"   # split:quantity, averaged over the point's seeds
//! eta = 3                   # keep the best 1/eta at each rung
//! min_epochs = 3            # the first rung
//! ```
//!
//! Every point trains to the first rung, `min_epochs`; the best
//! `ceil(n / eta)` of them train on to `min_epochs * eta`, and so on, the
//! last rung being the experiment's `epochs`. A decision is a pure function
//! of the stored metrics at its rung ([`Prune::survivors`]): no timing, no
//! order of arrival, so the survivors are the same with any number of
//! workers, through Slurm, and after an interruption.

use crate::quantity::{Quantity, Split};

/// A parsed `[sweep.prune]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prune {
    pub split: Split,
    pub quantity: Quantity,
    pub eta: usize,
    pub min_epochs: usize,
}

impl Prune {
    /// The option keys of `[sweep.prune]`.
    pub const KEYS: [&'static str; 3] = ["metric", "eta", "min_epochs"];

    /// Accuracy is better higher; every other quantity (loss, gradient
    /// norm) lower.
    pub fn higher_is_better(&self) -> bool {
        self.quantity == Quantity::Accuracy
    }

    /// `val:accuracy`.
    pub fn metric(&self) -> String {
        format!("{}:{}", self.split, self.quantity)
    }

    /// The epochs at which points are ranked, then the last, `epochs`:
    /// `min_epochs * eta^k` below `epochs`. Just `[epochs]` when
    /// `min_epochs` reaches it (a `--quick` plan): nothing is pruned.
    pub fn rungs(&self, epochs: usize) -> Vec<usize> {
        let mut rungs = Vec::new();
        let mut r = self.min_epochs.max(1);
        while r < epochs {
            rungs.push(r);
            r = r.saturating_mul(self.eta);
        }
        rungs.push(epochs);
        rungs
    }

    /// Which of the points with `scores` (the metric at the rung averaged
    /// over each point's seeds, in point order; `None` for a point without
    /// one, e.g. diverged) go on: the best `ceil(n / eta)`, returned in
    /// point order. A point without a score, or with a non-finite one, ranks
    /// below every scored point; ties go to the lower point index.
    pub fn survivors(&self, scores: &[Option<f64>]) -> Vec<usize> {
        let keep = scores.len().div_ceil(self.eta);
        let sign = if self.higher_is_better() { 1.0 } else { -1.0 };
        let key = |i: usize| scores[i].filter(|s| s.is_finite()).map(|s| sign * s);
        let mut order: Vec<usize> = (0..scores.len()).collect();
        // Best first: scored before unscored, then by score, then by index.
        order.sort_by(|&a, &b| match (key(a), key(b)) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(a.cmp(&b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(&b),
        });
        order.truncate(keep);
        order.sort_unstable();
        order
    }

    /// Successive halving replayed on numbers already known: `score(point,
    /// epoch)` is the metric of `point` (an index among `points`) at
    /// `epoch`, averaged over its seeds. The same decisions as the runner's,
    /// which calls [`Prune::survivors`] on the same numbers rung by rung.
    pub fn replay(
        &self,
        points: usize,
        epochs: usize,
        score: impl Fn(usize, usize) -> Option<f64>,
    ) -> Replay {
        let mut alive: Vec<usize> = (0..points).collect();
        let mut pruned = vec![None; points];
        let rungs = self.rungs(epochs);
        for &rung in &rungs[..rungs.len() - 1] {
            let scores: Vec<Option<f64>> = alive.iter().map(|&p| score(p, rung)).collect();
            let keep: Vec<usize> = (self.survivors(&scores).into_iter())
                .map(|i| alive[i])
                .collect();
            for &p in alive.iter().filter(|p| !keep.contains(p)) {
                pruned[p] = Some(rung);
            }
            alive = keep;
        }
        Replay {
            survivors: alive,
            pruned,
        }
    }

    /// How many epochs of one seed the sweep costs with `points` points:
    /// `(with pruning, without)`.
    pub fn cost(&self, points: usize, epochs: usize) -> (usize, usize) {
        let mut alive = points;
        let mut done = 0;
        let mut total = 0;
        for r in self.rungs(epochs) {
            total += alive * (r - done);
            done = r;
            alive = alive.div_ceil(self.eta);
        }
        (total, points * epochs)
    }
}

/// What successive halving decided: the points trained to the end (one
/// unless the last rung keeps more), and for each point the epoch at which
/// it was pruned, `None` for the survivors.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub survivors: Vec<usize>,
    pub pruned: Vec<Option<usize>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prune(quantity: Quantity, eta: usize, min_epochs: usize) -> Prune {
        Prune {
            split: Split::Val,
            quantity,
            eta,
            min_epochs,
        }
    }

    #[test]
    fn rungs_grow_by_eta_up_to_the_epochs() {
        let p = prune(Quantity::Accuracy, 3, 3);
        assert_eq!(p.rungs(30), [3, 9, 27, 30]);
        assert_eq!(p.rungs(27), [3, 9, 27]);
        assert_eq!(p.rungs(3), [3]);
        assert_eq!(p.rungs(2), [2], "a quick plan prunes nothing");
        assert_eq!(prune(Quantity::Loss, 2, 1).rungs(8), [1, 2, 4, 8]);
    }

    #[test]
    fn the_best_third_survives_with_ties_to_the_lower_index() {
        let p = prune(Quantity::Accuracy, 3, 3);
        let scores = [
            Some(0.5),
            Some(0.9),
            None,
            Some(0.9),
            Some(f64::NAN),
            Some(0.1),
            Some(0.7),
        ];
        // ceil(7 / 3) = 3: 0.9 (point 1), 0.9 (point 3, a tie: after 1), 0.7.
        assert_eq!(p.survivors(&scores), [1, 3, 6]);
        let p = prune(Quantity::Loss, 2, 3);
        // Lower is better for a loss: 0.1, 0.5, then the first 0.9; NaN and None last.
        assert_eq!(p.survivors(&scores[..6]), [0, 1, 5]);
        assert_eq!(p.survivors(&[None, None, None]), [0, 1]);
    }

    #[test]
    fn a_replay_prunes_rung_by_rung_on_the_numbers_of_each_rung() {
        let p = prune(Quantity::Accuracy, 2, 1);
        // Point 3 starts worst and ends best: pruned at epoch 1 all the same.
        let curves = [
            [0.5, 0.6, 0.7, 0.8],
            [0.4, 0.7, 0.9, 0.95],
            [0.6, 0.65, 0.66, 0.67],
            [0.1, 0.2, 0.3, 0.99],
        ];
        let r = p.replay(4, 4, |point, epoch| Some(curves[point][epoch - 1]));
        // Rungs 1, 2, 4: after epoch 1 points 0 and 2 go on (0.5, 0.6);
        // after epoch 2, 2 (0.65 > 0.6).
        assert_eq!(r.pruned, [Some(2), Some(1), None, Some(1)]);
        assert_eq!(r.survivors, [2]);
    }

    #[test]
    fn the_cost_counts_each_point_s_epochs_until_it_is_pruned() {
        let p = prune(Quantity::Accuracy, 3, 3);
        // 14 points: 14 x 3, then 5 x 6, then 2 x 18, then 1 x 3 = 111 of 420.
        assert_eq!(p.cost(14, 30), (14 * 3 + 5 * 6 + 2 * 18 + 3, 420));
        assert_eq!(p.cost(24, 30), (24 * 3 + 8 * 6 + 3 * 18 + 3, 720));
        assert_eq!(p.cost(5, 2), (10, 10));
    }
}
