//! The search-comparison study (`fmnist study search`): regret against
//! epochs spent for searches of one space, and the table and sentence that
//! compare them. Pure functions of each search's trials; the binary reads
//! the trials from the store and `fmnist-figures` draws the curves.
//!
//! A trial's value is its validation accuracy at the last epoch it trained
//! (a pruned trial's at the rung where it stopped: that network exists and
//! was measured). Trials are counted in the order they stop (epochs
//! trained, then trial index, which is the order rounds and rungs complete),
//! each charged the epochs it trained, so the last point of a curve is
//! exactly the search's total cost and its best.

use fmnist_experiments::{Quantity, Split};
use fmnist_metrics::At;

use crate::aggregate::BandPoint;
use crate::panels::{Corner, Curve, PALETTE, Panel, PanelFigure};
pub use crate::pruning::Point;
use crate::pruning::stopped_at;

/// One trial of a search, as the study reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The trial's index in its search (the sweep's point index).
    pub index: usize,
    /// Epochs it trained (fewer than the full run when pruned).
    pub epochs: u32,
    /// Validation accuracy at its last epoch.
    pub value: f64,
}

/// A search's trials from its points (in index order, each with its stored
/// runs): each trial's epochs are where successive halving stopped it,
/// replayed from the stored metrics (`pruning::stopped_at`), or the full
/// run; its value is the mean over its runs of the validation accuracy at
/// that epoch (NaN when a run has none there, e.g. diverged).
pub fn trials(points: &[Point<'_>]) -> Vec<Trial> {
    let stopped = stopped_at(points);
    (points.iter().enumerate())
        .map(|(p, (exp, runs))| {
            let epochs = stopped
                .as_ref()
                .and_then(|s| s[p])
                .unwrap_or(exp.config.epochs);
            let epoch = u32::try_from(epochs).unwrap_or(u32::MAX);
            let values: Option<Vec<f64>> = (runs.iter())
                .map(|r| {
                    r.value(Split::Val, Quantity::Accuracy, At::Rung(epoch))
                        .ok()
                })
                .collect();
            let value = values
                .filter(|v| !v.is_empty())
                .map_or(f64::NAN, |v| v.iter().sum::<f64>() / v.len() as f64);
            Trial {
                index: exp.sweep.as_ref().map_or(p, |s| s.index),
                epochs: epoch,
                value,
            }
        })
        .collect()
}

/// The best value found after `epochs` epochs of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub epochs: u32,
    pub best: f64,
}

/// The best value found so far against cumulative epochs: one step per
/// trial, in the order trials stop (epochs trained, then index). Trials
/// with a non-finite value (diverged) cost their epochs and find nothing.
pub fn best_so_far(trials: &[Trial]) -> Vec<Step> {
    let mut order: Vec<&Trial> = trials.iter().collect();
    order.sort_by_key(|t| (t.epochs, t.index));
    let mut spent = 0;
    let mut best = f64::NEG_INFINITY;
    order
        .into_iter()
        .map(|t| {
            spent += t.epochs;
            if t.value.is_finite() && t.value > best {
                best = t.value;
            }
            Step {
                epochs: spent,
                best,
            }
        })
        .collect()
}

/// The best found within a budget of `epochs` (a step function of the
/// curve); `None` before any trial has stopped with a finite value.
pub fn best_within(curve: &[Step], epochs: u32) -> Option<f64> {
    curve
        .iter()
        .take_while(|s| s.epochs <= epochs)
        .last()
        .map(|s| s.best)
        .filter(|b| b.is_finite())
}

/// The first budget at which the curve reaches `target`; `None` if never.
pub fn epochs_to_reach(curve: &[Step], target: f64) -> Option<u32> {
    curve.iter().find(|s| s.best >= target).map(|s| s.epochs)
}

/// Mean regret (`reference` minus the best within the budget) over several
/// searches' curves at each budget of `budgets`; `None` at a budget where a
/// search has found nothing yet.
pub fn mean_regret(curves: &[Vec<Step>], reference: f64, budgets: &[u32]) -> Vec<Option<f64>> {
    budgets
        .iter()
        .map(|&b| {
            let bests: Option<Vec<f64>> = curves.iter().map(|c| best_within(c, b)).collect();
            let bests = bests.filter(|v| !v.is_empty())?;
            Some(bests.iter().map(|v| reference - v).sum::<f64>() / bests.len() as f64)
        })
        .collect()
}

/// One search method replicated over search seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// As shown: `random`, `tpe + halving`, ...
    pub label: String,
    /// One curve per search seed, in the order of `seeds`.
    pub curves: Vec<Vec<Step>>,
    pub seeds: Vec<u64>,
}

impl Method {
    /// Each seed's final best and total epochs.
    pub fn finals(&self) -> Vec<Step> {
        (self.curves.iter())
            .filter_map(|c| c.last().copied())
            .collect()
    }
}

/// Whether `candidate` reaches `baseline`'s final best, seed by seed, with
/// at most half of `baseline`'s epochs: for each seed, the epochs
/// `candidate` needed (`None`: never) and `baseline`'s total epochs.
pub fn half_budget_goal(baseline: &Method, candidate: &Method) -> Vec<(u64, Option<u32>, u32)> {
    let mut out = Vec::new();
    for (seed, curve) in baseline.seeds.iter().zip(&baseline.curves) {
        let Some(last) = curve.last() else { continue };
        let Some(pos) = candidate.seeds.iter().position(|s| s == seed) else {
            continue;
        };
        let needed = epochs_to_reach(&candidate.curves[pos], last.best);
        out.push((*seed, needed, last.epochs));
    }
    out
}

/// The study's budgets for the figure and mean curves: every epoch from
/// the first to the largest total any search spent.
pub fn budgets(methods: &[Method]) -> Vec<u32> {
    let max = (methods.iter())
        .flat_map(|m| m.finals())
        .map(|s| s.epochs)
        .max()
        .unwrap_or(0);
    (1..=max).collect()
}

/// Each method's regret over its seeds at every budget where all of them
/// have found something, up to the most epochs one of them spent (a
/// search that stops early is not drawn as if it had gone on): mean, min
/// and max (a band), for the figure.
pub fn regret_band(method: &Method, reference: f64, budgets: &[u32]) -> Vec<BandPoint> {
    let spent = method.finals().iter().map(|s| s.epochs).max().unwrap_or(0);
    budgets
        .iter()
        .filter(|&&b| b <= spent)
        .filter_map(|&b| {
            let bests: Option<Vec<f64>> = method.curves.iter().map(|c| best_within(c, b)).collect();
            let regrets: Vec<f64> = bests?.iter().map(|v| reference - v).collect();
            if regrets.is_empty() {
                return None;
            }
            Some(BandPoint {
                epoch: b,
                mean: regrets.iter().sum::<f64>() / regrets.len() as f64,
                min: regrets.iter().copied().fold(f64::INFINITY, f64::min),
                max: regrets.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                n: regrets.len(),
            })
        })
        .collect()
}

/// The study's figure: mean regret (band: min to max over search seeds)
/// against epochs spent, one colour per sampler, dashed with halving; the
/// left panel over every budget, the right from half the epochs of the
/// cheapest method on, where the first trials' large regrets no longer
/// hide the differences and every method is still drawn.
pub fn figure(methods: &[Method], reference: f64, title: &str) -> PanelFigure {
    let budgets = budgets(methods);
    let cheapest = (methods.iter())
        .filter_map(|m| m.finals().iter().map(|s| s.epochs).max())
        .min();
    let from = cheapest.map_or(0, |e| e / 2);
    let zoom: Vec<u32> = budgets.iter().copied().filter(|&b| b >= from).collect();
    PanelFigure {
        title: title.to_string(),
        panels: vec![
            regret_panel(methods, reference, &budgets, "Every budget".into()),
            regret_panel(methods, reference, &zoom, format!("From {from} epochs on")),
        ],
    }
}

fn regret_panel(methods: &[Method], reference: f64, budgets: &[u32], title: String) -> Panel {
    let sampler = |m: &Method| m.label.split(' ').next().unwrap_or("").to_string();
    let mut samplers: Vec<String> = Vec::new();
    for m in methods {
        if !samplers.contains(&sampler(m)) {
            samplers.push(sampler(m));
        }
    }
    let curves = (methods.iter())
        .map(|m| {
            let i = samplers.iter().position(|s| *s == sampler(m)).unwrap_or(0);
            Curve {
                label: m.label.clone(),
                color: PALETTE[i % PALETTE.len()],
                dashed: m.label.contains("halving"),
                points: regret_band(m, reference, budgets),
            }
        })
        .collect();
    Panel {
        title,
        y_desc: "regret (percentage points)".into(),
        percent: true,
        curves,
        legend: Corner::UpperRight,
    }
}

/// The study's page: the proxy task, a table (per method: mean final best,
/// mean final regret, mean epochs, epochs to reach random search's final
/// best per seed) and the sentence on the goal, whatever it says.
/// `methods[0]` is the baseline (random search, unpruned).
pub fn markdown(methods: &[Method], reference: f64, proxy: &str, figure: &str) -> String {
    let mut out = String::from("# Search methods compared: regret against epochs spent\n\n");
    out += &format!(
        "Written by `cargo xtask study search` from the stored runs. Proxy task: {proxy}\n\n\
         Regret is the best validation accuracy any trial of any method and seed found \
         ({:.2} %) minus the best the search has found so far; trials count in the order \
         they stop, each charged the epochs it trained.\n\n![Mean regret against epochs]({figure})\n\n",
        100.0 * reference
    );
    let Some(baseline) = methods.first() else {
        return out + "No search is stored yet.\n";
    };
    out += &format!(
        "| method | seeds | final best per seed (%) | mean final best (%) | mean final regret (pp) | \
         mean epochs | epochs to reach {}'s final best, per seed |\n|---|---|---|---|---|---|---|\n",
        baseline.label
    );
    for m in methods {
        let finals = m.finals();
        let n = finals.len().max(1) as f64;
        let best = finals.iter().map(|s| s.best).sum::<f64>() / n;
        let epochs = finals.iter().map(|s| f64::from(s.epochs)).sum::<f64>() / n;
        let reach = (half_budget_goal(baseline, m).iter())
            .map(|(_, e, _)| e.map_or("never".to_string(), |e| e.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        let per_seed = (finals.iter())
            .map(|s| format!("{:.2}", 100.0 * s.best))
            .collect::<Vec<_>>()
            .join(", ");
        out += &format!(
            "| {} | {} | {per_seed} | {:.2} | {:.2} | {:.0} | {reach} |\n",
            m.label,
            finals.len(),
            100.0 * best,
            100.0 * (reference - best),
            epochs
        );
    }
    out + "\n" + &goal_sentences(methods) + "\n"
}

/// For each TPE method, whether it reached random search's final best with
/// at most half of random search's epochs, seed by seed.
fn goal_sentences(methods: &[Method]) -> String {
    let Some(baseline) = methods.first() else {
        return String::new();
    };
    let mut out = String::new();
    for m in methods.iter().filter(|m| m.label.starts_with("tpe")) {
        let rows = half_budget_goal(baseline, m);
        let met = (rows.iter())
            .filter(|(_, e, total)| e.is_some_and(|e| 2 * e <= *total))
            .count();
        let verdict = if met == rows.len() && !rows.is_empty() {
            "met"
        } else {
            "not met"
        };
        out += &format!(
            "Goal \"{} reaches {}'s final best with at most half of its epochs\": {verdict} \
             (it does on {met} of {} search seeds).\n",
            m.label,
            baseline.label,
            rows.len()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(index: usize, epochs: u32, value: f64) -> Trial {
        Trial {
            index,
            epochs,
            value,
        }
    }

    fn s(epochs: u32, best: f64) -> Step {
        Step { epochs, best }
    }

    #[test]
    fn best_so_far_orders_trials_by_when_they_stop() {
        // Worked by hand: trial 0 stops first (1 epoch, 0.6), then trial 2
        // (1 epoch, 0.5: the best stays 0.6), then trial 3 (3 epochs, NaN:
        // nothing found), then trial 1 (9 epochs, 0.8), though its index
        // comes before trials 2 and 3.
        let trials = [t(0, 1, 0.6), t(1, 9, 0.8), t(2, 1, 0.5), t(3, 3, f64::NAN)];
        let curve = best_so_far(&trials);
        assert_eq!(curve, vec![s(1, 0.6), s(2, 0.6), s(5, 0.6), s(14, 0.8)]);
        assert_eq!(best_within(&curve, 0), None);
        assert_eq!(best_within(&curve, 4), Some(0.6));
        assert_eq!(best_within(&curve, 14), Some(0.8));
        assert_eq!(epochs_to_reach(&curve, 0.6), Some(1));
        assert_eq!(epochs_to_reach(&curve, 0.7), Some(14));
        assert_eq!(epochs_to_reach(&curve, 0.81), None);
    }

    #[test]
    fn mean_regret_averages_seeds_where_all_have_found_something() {
        let a = vec![s(2, 0.7), s(4, 0.9)];
        let b = vec![s(3, 0.8), s(6, 0.85)];
        let r = mean_regret(&[a, b], 1.0, &[2, 3, 6]);
        assert_eq!(r[0], None);
        // (1 - 0.7 + 1 - 0.8) / 2 = 0.25; (0.1 + 0.15) / 2 = 0.125.
        assert!((r[1].unwrap() - 0.25).abs() < 1e-12);
        assert!((r[2].unwrap() - 0.125).abs() < 1e-12);
    }

    #[test]
    fn half_budget_goal_compares_seed_by_seed() {
        let random = Method {
            label: "random".into(),
            curves: vec![vec![s(10, 0.7), s(20, 0.8)], vec![s(10, 0.9), s(20, 0.9)]],
            seeds: vec![0, 1],
        };
        let tpe = Method {
            label: "tpe".into(),
            curves: vec![
                vec![s(10, 0.85), s(20, 0.86)],
                vec![s(10, 0.8), s(20, 0.88)],
            ],
            seeds: vec![0, 1],
        };
        assert_eq!(
            half_budget_goal(&random, &tpe),
            vec![(0, Some(10), 20), (1, None, 20)]
        );
        assert_eq!(random.finals(), vec![s(20, 0.8), s(20, 0.9)]);
        let text = markdown(&[random.clone(), tpe.clone()], 0.95, "tiny.", "fig.svg");
        assert!(
            text.contains("| tpe | 2 | 86.00, 88.00 | 87.00 | 8.00 | 20 | 10, never |"),
            "{text}"
        );
        let fig = figure(&[random.clone(), tpe.clone()], 0.95, "t");
        let band = &fig.panels[0].curves[1].points;
        // Nothing before 10 epochs; at 10, tpe's seeds have 0.85 and 0.8:
        // regret 0.10 and 0.15; drawn up to its 20 epochs spent.
        assert_eq!((band[0].epoch, band[0].n, band.len()), (10, 2, 11));
        assert!((band[0].mean - 0.125).abs() < 1e-12 && (band[0].max - 0.15).abs() < 1e-12);
        assert!(text.contains(
            "with at most half of its epochs\": not met (it does on 1 of 2 search seeds)"
        ));
    }
}
