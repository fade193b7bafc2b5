//! What successive halving did in a sweep with `[sweep.prune]`, in
//! sentences for the sweep's section: the point it keeps, the epochs it
//! saves, the runs stored as pruned, and, once every point is trained to the
//! end (`--unprune`, or another experiment with the same runs), whether it
//! picked the sweep's best point and by how much it missed.
//!
//! The decisions are replayed from the stored metrics with
//! [`fmnist_experiments::Prune::replay_brackets`], the rule the runner applies while training, so the
//! report says what the pruned search chose whatever the store holds. A
//! TPE sweep's rounds are each one bracket, as the runner trains them.

use fmnist_experiments::{Bracket, Experiment, Prune, Quantity, Split};
use fmnist_metrics::{At, RunStatus, StoredRun};

/// One point of a sweep: the experiment and its stored runs.
pub type Point<'a> = (&'a Experiment, Vec<&'a StoredRun>);

/// The sentences about pruning for a sweep's points; none unless pruned.
pub fn statements(points: &[Point<'_>]) -> Vec<String> {
    let Some((first, _)) = points.first() else {
        return Vec::new();
    };
    let Some(prune) = first.sweep.as_ref().and_then(|s| s.prune.as_ref()) else {
        return Vec::new();
    };
    let epochs = first.config.epochs;
    let score =
        |p: usize, epoch: usize| mean(&points[p].1, |r| at(r, prune.split, prune.quantity, epoch));
    let brackets = brackets(points, prune, epochs);
    let replay = prune.replay_brackets(points.len(), &brackets, score);
    let final_accuracy = |p: usize| {
        mean(&points[p].1, |r| {
            complete(r).then(|| last_val_accuracy(r))?
        })
    };
    let kept = (replay.survivors.iter().copied())
        .max_by(|&a, &b| {
            final_accuracy(a)
                .unwrap_or(f64::MIN)
                .total_cmp(&final_accuracy(b).unwrap_or(f64::MIN))
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    let cost: usize = brackets.iter().map(|b| prune.bracket_cost(b)).sum();
    let full = points.len() * epochs;
    let rungs: Vec<String> = prune.rungs(epochs).iter().map(|r| r.to_string()).collect();
    let mut out = vec![format!(
        "Successive halving (eta {}, rungs at epochs {}, ranked by the mean {} over the seeds, ties to the earlier point) keeps `{}`; it trains {cost} of the {full} epochs per seed of the whole sweep ({:.0} %), saving {} epochs per seed.",
        prune.eta,
        rungs.join(", "),
        prune.metric(),
        points[kept].0.name,
        100.0 * cost as f64 / full.max(1) as f64,
        full - cost
    )];
    let pruned_runs = (points.iter().flat_map(|(_, rs)| rs))
        .filter(|r| matches!(r.manifest.status, RunStatus::Pruned { .. }))
        .count();
    if pruned_runs > 0 {
        out.push(format!(
            "{pruned_runs} runs are stored pruned at their rung, so the table's final numbers of their points are those of that epoch; `cargo xtask reproduce -- --unprune` trains them on from their checkpoints, to the numbers they would have had unpruned."
        ));
    }
    out.push(regret(points, kept, &final_accuracy));
    out
}

/// The epoch at which successive halving stopped each point (`None`: it
/// trained to the end), replayed from the stored metrics as
/// [`statements`] does, so it holds whatever the store holds (a run pruned
/// here may be stored complete because another sweep trained it on);
/// `None` when the sweep is not pruned.
pub fn stopped_at(points: &[Point<'_>]) -> Option<Vec<Option<usize>>> {
    let (first, _) = points.first()?;
    let prune = first.sweep.as_ref()?.prune.as_ref()?;
    let epochs = first.config.epochs;
    let score =
        |p: usize, epoch: usize| mean(&points[p].1, |r| at(r, prune.split, prune.quantity, epoch));
    let brackets = brackets(points, prune, epochs);
    Some(prune.replay_brackets(points.len(), &brackets, score).pruned)
}

/// The brackets the runner trained: a TPE sweep's rounds, each its own
/// bracket (`Prune::round_shape`, as `TpeSweep::bracket` gives it), or the
/// sweep's (`Prune::brackets`).
fn brackets(points: &[Point<'_>], prune: &Prune, epochs: usize) -> Vec<Bracket> {
    let rounds: Option<Vec<usize>> = (points.iter())
        .map(|(e, _)| e.sweep.as_ref()?.round)
        .collect();
    let Some(rounds) = rounds else {
        return prune.brackets(points.len(), epochs);
    };
    let mut out: Vec<Bracket> = Vec::new();
    for (p, &r) in rounds.iter().enumerate() {
        match out.last_mut() {
            Some(b) if rounds[b.points[0]] == r => b.points.push(p),
            _ => out.push(Bracket {
                points: vec![p],
                rungs: prune.round_shape(r, epochs).1,
            }),
        }
    }
    out
}

/// Whether the kept point is the sweep's best by mean final validation
/// accuracy, once every point has been trained to the end.
fn regret(
    points: &[Point<'_>],
    kept: usize,
    final_accuracy: &dyn Fn(usize) -> Option<f64>,
) -> String {
    let finals: Option<Vec<f64>> = (0..points.len()).map(final_accuracy).collect();
    let Some(finals) = finals else {
        return "Its regret is not measured yet: not every point is trained to the end (`--unprune` does it).".into();
    };
    let best = (0..finals.len())
        .max_by(|&a, &b| finals[a].total_cmp(&finals[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    if best == kept {
        format!(
            "With every point trained to the end, it picked the sweep's best point ({:.2} % mean final validation accuracy): no regret.",
            100.0 * finals[kept]
        )
    } else {
        format!(
            "With every point trained to the end, it missed the sweep's best point `{}` ({:.2} %): `{}` ends at {:.2} %, a regret of {:.2} percentage points.",
            points[best].0.name,
            100.0 * finals[best],
            points[kept].0.name,
            100.0 * finals[kept],
            100.0 * (finals[best] - finals[kept])
        )
    }
}

/// The mean of `f` over the runs; `None` without runs or if one has none.
fn mean(runs: &[&StoredRun], f: impl Fn(&StoredRun) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = runs.iter().map(|r| f(r)).collect();
    let values = values?;
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A run's `quantity` on `split` at `epoch`, as the runner ranks it
/// (`At::Rung`: a complete run that ended earlier gives its last epoch's).
fn at(run: &StoredRun, split: Split, quantity: Quantity, epoch: usize) -> Option<f64> {
    let epoch = u32::try_from(epoch).unwrap_or(u32::MAX);
    run.value(split, quantity, At::Rung(epoch)).ok()
}

/// Trained to the end: complete (all its epochs, or early stopping's).
fn complete(run: &StoredRun) -> bool {
    run.finished()
}

fn last_val_accuracy(run: &StoredRun) -> Option<f64> {
    at(run, Split::Val, Quantity::Accuracy, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{config, simple};
    use fmnist_experiments::{Prune, SweepPoint};

    /// Four points of a sweep pruned with eta 2 from epoch 1 (rungs 1, 2, 4).
    fn experiments() -> Vec<Experiment> {
        (0..4)
            .map(|i| Experiment {
                name: format!("s[p={i}]"),
                path: "s.toml".into(),
                description: String::new(),
                paper: Default::default(),
                report: Default::default(),
                config: config(4),
                seeds: vec![0, 1],
                sweep: Some(SweepPoint {
                    sweep: "s".into(),
                    index: i,
                    values: Vec::new(),
                    prune: Some(Prune {
                        split: Split::Val,
                        quantity: Quantity::Accuracy,
                        eta: 2,
                        min_epochs: 1,
                        rule: fmnist_experiments::Rule::Halving,
                    }),
                    round: None,
                    sampled: false,
                }),
                parent: None,
            })
            .collect()
    }

    /// Point 3 starts worst and ends best; point 2 is kept.
    const CURVES: [[f64; 4]; 4] = [
        [0.5, 0.6, 0.7, 0.8],
        [0.4, 0.7, 0.9, 0.95],
        [0.6, 0.65, 0.66, 0.67],
        [0.1, 0.2, 0.3, 0.99],
    ];

    fn runs(pruned: bool) -> Vec<StoredRun> {
        let mut out = Vec::new();
        for (i, curve) in CURVES.iter().enumerate() {
            for seed in 0..2 {
                // The seeds differ by ±0.01, so the means are the curve.
                let shift = 0.01 * (2.0 * seed as f64 - 1.0);
                let epochs = match (pruned, i) {
                    (true, 0) => 2,
                    (true, 1 | 3) => 1,
                    _ => 4,
                };
                let accs: Vec<f64> = curve[..epochs].iter().map(|a| a + shift).collect();
                let mut run = simple(&format!("s[p={i}]"), seed, &accs);
                if epochs < 4 {
                    run.manifest.status = RunStatus::Pruned { epoch: epochs };
                }
                out.push(run);
            }
        }
        out
    }

    fn sentences(runs: &[StoredRun]) -> Vec<String> {
        let exps = experiments();
        let points: Vec<Point<'_>> = (exps.iter())
            .map(|e| {
                (
                    e,
                    runs.iter()
                        .filter(|r| r.manifest.experiment == e.name)
                        .collect(),
                )
            })
            .collect();
        statements(&points)
    }

    #[test]
    fn a_pruned_store_says_what_was_kept_saved_and_not_yet_measured() {
        let s = sentences(&runs(true));
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].contains("keeps `s[p=2]`"), "{}", s[0]);
        // 4 x 1 + 2 x 1 + 1 x 2 = 8 of 16 epochs.
        assert!(
            s[0].contains("trains 8 of the 16 epochs per seed of the whole sweep (50 %), saving 8"),
            "{}",
            s[0]
        );
        assert!(s[1].starts_with("6 runs are stored pruned"), "{}", s[1]);
        assert!(s[2].contains("not measured yet"), "{}", s[2]);
        // The results table says how the point's runs ended.
        let rs = runs(true);
        let point: Vec<&StoredRun> = (rs.iter())
            .filter(|r| r.manifest.experiment == "s[p=1]")
            .collect();
        assert_eq!(
            crate::tables::status(&point),
            "**seed 0 pruned at epoch 1; seed 1 pruned at epoch 1**"
        );
    }

    #[test]
    fn where_halving_stopped_each_point_is_replayed_even_from_complete_runs() {
        // Every run stored complete (another, unpruned sweep trained them
        // on): rung 1 keeps points 2 (0.6) and 0 (0.5), rung 2 keeps point
        // 2 (0.65 against 0.6). The study's trials read each point where it
        // stopped: epochs 2, 1, 4, 1; the accuracy there, mean of the seeds.
        let exps = experiments();
        let rs = runs(false);
        let points: Vec<Point<'_>> = (exps.iter())
            .map(|e| {
                let mine = rs.iter().filter(|r| r.manifest.experiment == e.name);
                (e, mine.collect())
            })
            .collect();
        assert_eq!(
            stopped_at(&points),
            Some(vec![Some(2), Some(1), None, Some(1)])
        );
        let trials = crate::search_study::trials(&points);
        let got: Vec<(usize, u32)> = trials.iter().map(|t| (t.index, t.epochs)).collect();
        assert_eq!(got, [(0, 2), (1, 1), (2, 4), (3, 1)]);
        for (t, want) in trials.iter().zip([0.6, 0.4, 0.67, 0.1]) {
            assert!((t.value - want).abs() < 1e-9, "{t:?}");
        }
        // Unpruned, every point is read at its last epoch.
        let mut plain = exps.clone();
        plain
            .iter_mut()
            .for_each(|e| e.sweep.as_mut().unwrap().prune = None);
        let points: Vec<Point<'_>> = (plain.iter())
            .zip(points.iter())
            .map(|(e, (_, r))| (e, r.clone()))
            .collect();
        assert_eq!(stopped_at(&points), None);
        assert!(
            crate::search_study::trials(&points)
                .iter()
                .all(|t| t.epochs == 4)
        );
    }

    #[test]
    fn a_tpe_sweep_s_rounds_are_replayed_each_as_its_bracket() {
        // The four points as two TPE rounds of two: round 0 keeps point 0
        // at epoch 1 (0.5 against 0.4), round 1 point 2 (0.6 against 0.1);
        // of those, point 0 ends best.
        let exps: Vec<Experiment> = (experiments().into_iter().enumerate())
            .map(|(i, mut e)| {
                e.sweep.as_mut().unwrap().round = Some(i / 2);
                e
            })
            .collect();
        let rs = runs(false);
        let points: Vec<Point<'_>> = (exps.iter())
            .map(|e| {
                (
                    e,
                    (rs.iter())
                        .filter(|r| r.manifest.experiment == e.name)
                        .collect(),
                )
            })
            .collect();
        let s = statements(&points);
        // Each round 2 x 1 + 1 x 1 + 1 x 2 = 5: 10 of 16 epochs.
        assert!(
            s[0].contains("keeps `s[p=0]`") && s[0].contains("trains 10 of the 16 epochs"),
            "{}",
            s[0]
        );
        assert!(
            s[1].contains("a regret of 19.00 percentage points"),
            "{}",
            s[1]
        );
    }

    #[test]
    fn a_full_store_gives_the_same_decision_and_its_regret() {
        let s = sentences(&runs(false));
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(
            s[0].contains("keeps `s[p=2]`"),
            "the same decision: {}",
            s[0]
        );
        assert!(
            s[1].contains("missed the sweep's best point `s[p=3]` (99.00 %): `s[p=2]` ends at 67.00 %, a regret of 32.00 percentage points"),
            "{}",
            s[1]
        );
        assert!(statements(&[]).is_empty());
    }
}
