//! `[sweep.prune]`: synchronous successive halving over a sweep's points,
//! in one bracket or in Hyperband's brackets.
//!
//! ```toml
//! [sweep.prune]
//! metric = "val:accuracy"   # split:quantity, averaged over the point's seeds
//! eta = 3                   # keep the best 1/eta at each rung
//! min_epochs = 3            # the first rung
//! rule = "halving"          # the default; or "hyperband"
//! ```
//!
//! `rule = "halving"`: one bracket. Every point trains to the first rung,
//! `min_epochs`; the best `ceil(n / eta)` of them train on to
//! `min_epochs * eta`, and so on, the last rung being the experiment's
//! `epochs` ([`Prune::rungs`]).
//!
//! `rule = "hyperband"` (Li et al. 2018, JMLR 18(185)): with `R` the epochs,
//! `s_max` the largest `s` with `min_epochs * eta^s <= R`, brackets
//! `s = s_max, ..., 0`; bracket `s` starts `n_s = ceil((s_max + 1) / (s + 1)
//! * eta^s)` points at `r_s = R * eta^-s` epochs (rounded to the nearest
//! epoch) and halves them at `r_s * eta^i`, up to `R` ([`Prune::hyperband`]).
//! A sweep's points are dealt to the brackets in point order, `n_{s_max}`
//! to the first, and so on, starting again at `s_max` when every bracket
//! has its points (the last bracket may get fewer); a TPE sweep's round `r`
//! is bracket `s_max - r mod (s_max + 1)` with `n_s` trials, as BOHB
//! (Falkner et al. 2018) proposes each bracket's points from the model. Each
//! bracket keeps `ceil(n / eta)` at a rung, as the single bracket does (Li
//! et al. keep `floor(n / eta)`).
//!
//! Both rules run through one rung loop, [`Prune::run`], which the runner
//! drives with a [`Halving`] that trains and stores and the report with one
//! that only reads ([`Prune::replay`]). A decision is a pure function of the
//! stored metrics at its rung ([`Prune::survivors`]): no timing, no order of
//! arrival, so the survivors are the same with any number of workers,
//! through Slurm, and after an interruption.

use std::convert::Infallible;

use crate::declare::words;
use crate::quantity::{Quantity, Split};

words! {
    /// How `[sweep.prune]` groups the points: `rule`.
    pub enum Rule {
        /// One bracket of successive halving over every point.
        Halving = "halving",
        /// Li et al.'s brackets, each a successive halving from its own first rung.
        Hyperband = "hyperband",
    }
}

/// A parsed `[sweep.prune]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prune {
    pub split: Split,
    pub quantity: Quantity,
    pub eta: usize,
    pub min_epochs: usize,
    pub rule: Rule,
}

/// One synchronous successive halving: the points it starts with and the
/// epochs at which they are ranked, the last being the end of training.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    /// Indices into the caller's points (a sweep's, or a TPE round's), ascending.
    pub points: Vec<usize>,
    /// Increasing epochs; every one but the last ranks the live points.
    pub rungs: Vec<usize>,
}

/// What [`Prune::run`] needs from whoever runs the brackets: the runner
/// trains and stores, a replay only reads stored numbers.
pub trait Halving {
    type Error;

    /// Trains each `(point, until)` of `batch`, every seed of the point:
    /// `Some(epoch)` stops after that epoch with its checkpoint kept (a
    /// rung), `None` trains to the end (the bracket's last rung). `Ok(false)`
    /// when it stopped short (an interruption, a failed run): the rung
    /// cannot be ranked and [`Prune::run`] returns `Ok(None)`.
    fn train(&mut self, batch: &[(usize, Option<usize>)]) -> Result<bool, Self::Error>;

    /// The metric of `point` at `epoch`, averaged over its seeds; `None`
    /// when a seed has none (it diverged), which ranks the point last.
    fn score(&mut self, point: usize, epoch: usize) -> Option<f64>;

    /// Located `epoch`, of the bracket's live points `ranked`, only `survivors`
    /// go on; the others stop there (the runner stores them as pruned).
    fn pruned(
        &mut self,
        epoch: usize,
        ranked: &[usize],
        survivors: &[usize],
    ) -> Result<(), Self::Error>;
}

impl Prune {
    /// The option keys of `[sweep.prune]`.
    pub const KEYS: [&'static str; 4] = ["metric", "eta", "min_epochs", "rule"];

    /// Accuracy is better higher; every other quantity (loss, gradient
    /// norm) lower.
    pub fn higher_is_better(&self) -> bool {
        self.quantity == Quantity::Accuracy
    }

    /// `val:accuracy`.
    pub fn metric(&self) -> String {
        format!("{}:{}", self.split, self.quantity)
    }

    /// The rungs of the single bracket (`rule = "halving"`): the epochs at
    /// which points are ranked, `min_epochs * eta^k` below `epochs`, then
    /// the last, `epochs`. Just `[epochs]` when `min_epochs` reaches it (a
    /// `--quick` plan): nothing is pruned.
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

    /// Hyperband's `s_max`: the largest `s` with `min_epochs * eta^s <=
    /// epochs`; 0 when `min_epochs` is above `epochs` (one bracket that
    /// trains every point to the end).
    fn s_max(&self, epochs: usize) -> usize {
        let mut s = 0;
        let mut first = self.min_epochs.max(1).saturating_mul(self.eta);
        while first <= epochs {
            s += 1;
            first = first.saturating_mul(self.eta);
        }
        s
    }

    /// Li et al.'s brackets for `epochs` = R, `s = s_max` first: each as
    /// `(n_s, rungs)` with `n_s = ceil((s_max + 1) eta^s / (s + 1))` and
    /// rungs `R eta^(i - s)`, `i = 0..=s`, rounded to the nearest epoch.
    pub fn hyperband(&self, epochs: usize) -> Vec<(usize, Vec<usize>)> {
        let s_max = self.s_max(epochs);
        (0..=s_max)
            .rev()
            .map(|s| {
                let power = |k: usize| self.eta.saturating_pow(k as u32);
                let n = ((s_max + 1) * power(s)).div_ceil(s + 1);
                let rungs = (0..=s)
                    // R / eta^(s - i), to the nearest whole epoch.
                    .map(|i| (2 * epochs + power(s - i)) / (2 * power(s - i)))
                    .collect();
                (n, rungs)
            })
            .collect()
    }

    /// The brackets of a sweep of `points` points training `epochs`
    /// epochs: one over every point (`halving`), or Hyperband's, dealt the
    /// points in order.
    pub fn brackets(&self, points: usize, epochs: usize) -> Vec<Bracket> {
        match self.rule {
            Rule::Halving => vec![Bracket {
                points: (0..points).collect(),
                rungs: self.rungs(epochs),
            }],
            Rule::Hyperband => {
                let shapes = self.hyperband(epochs);
                let mut out = Vec::new();
                let mut next = 0;
                for (n, rungs) in shapes.iter().cycle() {
                    if next == points {
                        break;
                    }
                    let end = (next + n).min(points);
                    out.push(Bracket {
                        points: (next..end).collect(),
                        rungs: rungs.clone(),
                    });
                    next = end;
                }
                out
            }
        }
    }

    /// A TPE round's bracket shape at `epochs`: how many trials the rule
    /// sets (Hyperband's `n_s`; `None` for `halving`, where `round_size`
    /// does) and its rungs.
    pub fn round_shape(&self, round: usize, epochs: usize) -> (Option<usize>, Vec<usize>) {
        match self.rule {
            Rule::Halving => (None, self.rungs(epochs)),
            Rule::Hyperband => {
                let mut shapes = self.hyperband(epochs);
                let (n, rungs) = shapes.swap_remove(round % shapes.len());
                (Some(n), rungs)
            }
        }
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

    /// Successive halving of `brackets` (over `points` points), rung by
    /// rung: at step `k` every bracket with a `k`-th rung trains its live
    /// points to it (one batch, so the brackets share the workers), then
    /// each bracket not at its last rung keeps its [`Prune::survivors`].
    /// The one rung loop of the workspace: the runner decides with it, the
    /// report replays with it. `Ok(None)` when `train` stopped short.
    pub fn run<H: Halving>(
        &self,
        points: usize,
        brackets: &[Bracket],
        h: &mut H,
    ) -> Result<Option<Replay>, H::Error> {
        let mut alive: Vec<Vec<usize>> = brackets.iter().map(|b| b.points.clone()).collect();
        let mut pruned = vec![None; points];
        let depth = brackets.iter().map(|b| b.rungs.len()).max().unwrap_or(0);
        for k in 0..depth {
            let batch: Vec<(usize, Option<usize>)> = (brackets.iter().zip(&alive))
                .filter(|(b, _)| k < b.rungs.len())
                .flat_map(|(b, live)| {
                    let until = (k + 1 < b.rungs.len()).then_some(b.rungs[k]);
                    live.iter().map(move |&p| (p, until))
                })
                .collect();
            if !h.train(&batch)? {
                return Ok(None);
            }
            for (b, live) in brackets.iter().zip(alive.iter_mut()) {
                if k + 1 >= b.rungs.len() {
                    continue;
                }
                let rung = b.rungs[k];
                let scores: Vec<Option<f64>> = live.iter().map(|&p| h.score(p, rung)).collect();
                let keep: Vec<usize> = (self.survivors(&scores).into_iter())
                    .map(|i| live[i])
                    .collect();
                for &p in live.iter().filter(|p| !keep.contains(p)) {
                    pruned[p] = Some(rung);
                }
                h.pruned(rung, live, &keep)?;
                *live = keep;
            }
        }
        let mut survivors = alive.concat();
        survivors.sort_unstable();
        Ok(Some(Replay { survivors, pruned }))
    }

    /// Successive halving replayed on numbers already known: `score(point,
    /// epoch)` is the metric of `point` (an index among `points`) at
    /// `epoch`, averaged over its seeds. The same decisions as the runner's:
    /// both go through [`Prune::run`] with the brackets of
    /// [`Prune::brackets`].
    pub fn replay(
        &self,
        points: usize,
        epochs: usize,
        score: impl FnMut(usize, usize) -> Option<f64>,
    ) -> Replay {
        self.replay_brackets(points, &self.brackets(points, epochs), score)
    }

    /// [`Prune::replay`] of given brackets (a TPE round's).
    pub fn replay_brackets(
        &self,
        points: usize,
        brackets: &[Bracket],
        score: impl FnMut(usize, usize) -> Option<f64>,
    ) -> Replay {
        let Ok(Some(replay)) = self.run(points, brackets, &mut Reading(score)) else {
            unreachable!("a replay trains nothing, so it never stops short")
        };
        replay
    }

    /// How many epochs of one seed the sweep costs with `points` points:
    /// `(with pruning, without)`.
    pub fn cost(&self, points: usize, epochs: usize) -> (usize, usize) {
        let total = (self.brackets(points, epochs).iter())
            .map(|b| self.bracket_cost(b))
            .sum();
        (total, points * epochs)
    }

    /// The epochs of one seed that `bracket` trains when every rung keeps
    /// `ceil(n / eta)`.
    pub fn bracket_cost(&self, bracket: &Bracket) -> usize {
        let mut alive = bracket.points.len();
        let mut done = 0;
        let mut total = 0;
        for &r in &bracket.rungs {
            total += alive * (r - done);
            done = r;
            alive = alive.div_ceil(self.eta);
        }
        total
    }
}

/// A [`Halving`] that trains nothing: the numbers are stored already.
struct Reading<F>(F);

impl<F: FnMut(usize, usize) -> Option<f64>> Halving for Reading<F> {
    type Error = Infallible;

    fn train(&mut self, _: &[(usize, Option<usize>)]) -> Result<bool, Infallible> {
        Ok(true)
    }

    fn score(&mut self, point: usize, epoch: usize) -> Option<f64> {
        (self.0)(point, epoch)
    }

    fn pruned(&mut self, _: usize, _: &[usize], _: &[usize]) -> Result<(), Infallible> {
        Ok(())
    }
}

/// What successive halving decided: the points trained to the end (one
/// per bracket unless the last rung keeps more), and for each point the
/// epoch at which it was pruned, `None` for the survivors.
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
            rule: Rule::Halving,
        }
    }

    fn hyperband(eta: usize, min_epochs: usize) -> Prune {
        Prune {
            rule: Rule::Hyperband,
            ..prune(Quantity::Accuracy, eta, min_epochs)
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

    #[test]
    fn hyperband_brackets_are_li_et_al_s() {
        // Li et al. 2018, Table 1: R = 81, eta = 3 (min 1): s_max = 4.
        let shapes = hyperband(3, 1).hyperband(81);
        let n: Vec<usize> = shapes.iter().map(|(n, _)| *n).collect();
        assert_eq!(n, [81, 34, 15, 8, 5]);
        let rungs: Vec<&[usize]> = shapes.iter().map(|(_, r)| r.as_slice()).collect();
        assert_eq!(
            rungs,
            [
                &[1, 3, 9, 27, 81][..],
                &[3, 9, 27, 81],
                &[9, 27, 81],
                &[27, 81],
                &[81]
            ]
        );
        // 30 epochs from 3: s_max = 2 (3 * 9 <= 30 < 3 * 27); r_2 = 30/9 = 3.33 -> 3.
        assert_eq!(
            hyperband(3, 3).hyperband(30),
            [(9, vec![3, 10, 30]), (5, vec![10, 30]), (3, vec![30])]
        );
        // min_epochs above the epochs (a quick plan): one bracket, no pruning.
        assert_eq!(hyperband(3, 3).hyperband(2), [(1, vec![2])]);
        // The single bracket keeps its own rungs, min_epochs * eta^k.
        assert_eq!(prune(Quantity::Accuracy, 3, 3).rungs(30), [3, 9, 27, 30]);
    }

    #[test]
    fn points_are_dealt_to_the_brackets_in_order_and_rounds_cycle_through_them() {
        let h = hyperband(3, 3);
        let b = h.brackets(20, 30);
        let shown: Vec<(Vec<usize>, Vec<usize>)> =
            b.into_iter().map(|b| (b.points, b.rungs)).collect();
        assert_eq!(
            shown,
            [
                ((0..9).collect(), vec![3, 10, 30]),
                ((9..14).collect(), vec![10, 30]),
                ((14..17).collect(), vec![30]),
                ((17..20).collect(), vec![3, 10, 30]),
            ]
        );
        let single = prune(Quantity::Accuracy, 3, 3).brackets(5, 30);
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].points, [0, 1, 2, 3, 4]);
        assert_eq!(single[0].rungs, [3, 9, 27, 30]);
        let rounds: Vec<(Option<usize>, Vec<usize>)> =
            (0..4).map(|r| h.round_shape(r, 30)).collect();
        assert_eq!(
            rounds,
            [
                (Some(9), vec![3, 10, 30]),
                (Some(5), vec![10, 30]),
                (Some(3), vec![30]),
                (Some(9), vec![3, 10, 30]),
            ]
        );
        let one = prune(Quantity::Loss, 2, 1).round_shape(7, 4);
        assert_eq!(one, (None, vec![1, 2, 4]));
        // 9 x 3 + 3 x 7 + 1 x 20, 5 x 10 + 2 x 20, 3 x 30, 3 x 3 + 1 x 7 + 1 x 20.
        assert_eq!(h.cost(20, 30), (68 + 90 + 90 + 36, 600));
    }

    /// A [`Halving`] that records what it is asked, scores from `curves`
    /// (point by epoch), and stops at the `stop_at`-th batch.
    struct Recorder {
        curves: Vec<Vec<Option<f64>>>,
        batches: Vec<Vec<(usize, Option<usize>)>>,
        decisions: Vec<(usize, Vec<usize>, Vec<usize>)>,
        stop_at: Option<usize>,
    }

    impl Halving for Recorder {
        type Error = String;

        fn train(&mut self, batch: &[(usize, Option<usize>)]) -> Result<bool, String> {
            self.batches.push(batch.to_vec());
            Ok(self.stop_at != Some(self.batches.len()))
        }

        fn score(&mut self, point: usize, epoch: usize) -> Option<f64> {
            self.curves[point][epoch - 1]
        }

        fn pruned(&mut self, epoch: usize, ranked: &[usize], kept: &[usize]) -> Result<(), String> {
            self.decisions.push((epoch, ranked.to_vec(), kept.to_vec()));
            Ok(())
        }
    }

    #[test]
    fn the_rung_loop_trains_each_bracket_s_live_points_together_and_replays_alike() {
        // Hyperband with eta 2 from 1 epoch over 4 epochs: s_max = 2,
        // brackets of ceil(3 * 4 / 3) = 4 points (rungs 1, 2, 4), ceil(3 * 2 / 2) = 3
        // (2, 4) and 3 (4): 10 points.
        let h = hyperband(2, 1);
        assert_eq!(
            h.hyperband(4),
            [(4, vec![1, 2, 4]), (3, vec![2, 4]), (3, vec![4])]
        );
        // Point p's accuracy at epoch e: e * (1 + p % 4) / 20, rising with
        // p within a bracket; point 4 diverges (None) from epoch 2.
        let curves: Vec<Vec<Option<f64>>> = (0..10)
            .map(|p| {
                (1..=4)
                    .map(|e| (p != 4 || e < 2).then(|| (e * (1 + p % 4)) as f64 / 20.0))
                    .collect()
            })
            .collect();
        let mut r = Recorder {
            curves: curves.clone(),
            batches: Vec::new(),
            decisions: Vec::new(),
            stop_at: None,
        };
        let brackets = h.brackets(10, 4);
        let replay = h.run(10, &brackets, &mut r).unwrap().unwrap();
        let first: Vec<(usize, Option<usize>)> = (0..4)
            .map(|p| (p, Some(1)))
            .chain((4..7).map(|p| (p, Some(2))))
            .chain((7..10).map(|p| (p, None)))
            .collect();
        assert_eq!(
            r.batches,
            [
                first,
                // Bracket 0 keeps ceil(4/2) = 2 at epoch 1 (points 2, 3); bracket 1
                // keeps 2 of 4 (diverged), 5 and 6 at epoch 2, and trains them to the end.
                vec![(2, Some(2)), (3, Some(2)), (5, None), (6, None)],
                vec![(3, None)],
            ]
        );
        assert_eq!(
            r.decisions,
            [
                (1, vec![0, 1, 2, 3], vec![2, 3]),
                (2, vec![4, 5, 6], vec![5, 6]),
                (2, vec![2, 3], vec![3]),
            ]
        );
        assert_eq!(replay.survivors, [3, 5, 6, 7, 8, 9]);
        assert_eq!(
            replay.pruned,
            [
                Some(1),
                Some(1),
                Some(2),
                None,
                Some(2),
                None,
                None,
                None,
                None,
                None
            ]
        );
        let read = h.replay(10, 4, |p, e| curves[p][e - 1]);
        assert_eq!(read, replay, "the report's replay decides as the runner");
        assert_eq!(
            h.cost(10, 4),
            (4 + 2 + 2 + 3 * 2 + 2 * 2 + 3 * 4, 40),
            "what the batches trained"
        );

        // Stopped at the second batch: nothing decided after it.
        let mut stopped = Recorder {
            curves,
            batches: Vec::new(),
            decisions: Vec::new(),
            stop_at: Some(2),
        };
        assert_eq!(h.run(10, &brackets, &mut stopped), Ok(None));
        assert_eq!(stopped.decisions.len(), 2, "only the first rung's");
    }
}
