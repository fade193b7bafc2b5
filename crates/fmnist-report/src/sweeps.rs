//! Hyperparameter sweeps as content: each sweep's series (points and lines),
//! its best points, its table and, for a learning rate, its findings about
//! the paper's learning rate. `draw_sweeps` draws the response figure.
//!
//! A sweep is a set of experiments that share a sweep name and differ in one
//! or more settings. The setting with the most distinct values (numbers
//! before text) is the x axis; the other settings that vary name the lines.
//! Every number is a mean over seeds with its min-max, computed through
//! `stats`, so the sweep's table agrees with the results table.

use fmnist_experiments::OptimizerConfig;
use fmnist_metrics::{RunStatus, StoredRun};

use crate::aggregate::{self as stats, SeedStats};
use crate::tables::{Align, Table, pct, setting};
use fmnist_claims as inference;
use fmnist_claims::{Paper, same_value};

/// One swept value.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepX {
    Number(f64),
    Text(String),
}

impl SweepX {
    pub fn label(&self) -> String {
        match self {
            SweepX::Number(v) => setting(*v),
            SweepX::Text(s) => s.clone(),
        }
    }
}

/// One experiment of a sweep as the experiment files describe it: its
/// swept settings (dotted key, value) and its runs.
#[derive(Debug, Clone)]
pub struct SweepInput<'a> {
    pub experiment: String,
    pub values: Vec<(String, SweepX)>,
    pub runs: Vec<&'a StoredRun>,
}

/// One point of a response curve.
#[derive(Debug, Clone)]
pub struct SeriesPoint<'a> {
    pub experiment: String,
    pub x: SweepX,
    /// The values of the line settings, in words; `None` with a single line.
    pub line: Option<String>,
    /// Every swept setting's value at this point, as the input gave them.
    pub values: Vec<(String, SweepX)>,
    pub runs: Vec<&'a StoredRun>,
}

/// A sweep ready to draw: the x setting, the settings that name the lines,
/// and the points.
#[derive(Debug, Clone)]
pub struct SweepSeries<'a> {
    pub sweep: String,
    pub x_key: String,
    /// Empty with a single line.
    pub line_keys: Vec<String>,
    pub points: Vec<SeriesPoint<'a>>,
}

impl<'a> SweepSeries<'a> {
    /// Picks the x setting (of the settings that vary, the one with the most
    /// distinct values, numbers first, then the first listed) and makes
    /// every other varying setting a line setting. Settings that are the
    /// same at every point are left out.
    pub fn from_inputs(sweep: &str, inputs: Vec<SweepInput<'a>>) -> SweepSeries<'a> {
        let mut keys: Vec<&str> = Vec::new();
        for input in &inputs {
            for (k, _) in &input.values {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        let distinct = |key: &str| {
            let mut seen: Vec<Option<&SweepX>> = Vec::new();
            for input in &inputs {
                let v = input.values.iter().find(|(k, _)| k == key).map(|(_, v)| v);
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            seen.len()
        };
        let numeric = |key: &str| {
            inputs.iter().all(|i| {
                i.values
                    .iter()
                    .all(|(k, v)| k != key || matches!(v, SweepX::Number(_)))
            })
        };
        let varying: Vec<&str> = keys.iter().copied().filter(|k| distinct(k) > 1).collect();
        let x_key = varying
            .iter()
            .copied()
            .enumerate()
            // Earliest wins a tie: max_by_key keeps the last maximum, hence the reversed index.
            .max_by_key(|&(i, k)| (numeric(k), distinct(k), std::cmp::Reverse(i)))
            .map(|(_, k)| k)
            .or(keys.first().copied())
            .unwrap_or("value")
            .to_string();
        let line_keys: Vec<String> = varying
            .iter()
            .filter(|k| **k != x_key)
            .map(|k| k.to_string())
            .collect();
        let points = inputs
            .into_iter()
            .map(|input| {
                let find = |key: &str| input.values.iter().find(|(k, _)| k == key).map(|(_, v)| v);
                let x = find(&x_key).cloned().unwrap_or(SweepX::Text("—".into()));
                let line = match line_keys.as_slice() {
                    [] => None,
                    [one] => Some(find(one).map_or("—".into(), SweepX::label)),
                    many => Some(
                        many.iter()
                            .map(|k| format!("{k} = {}", find(k).map_or("—".into(), SweepX::label)))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                };
                SeriesPoint {
                    experiment: input.experiment,
                    x,
                    line,
                    values: input.values,
                    runs: input.runs,
                }
            })
            .collect();
        SweepSeries {
            sweep: sweep.to_string(),
            x_key,
            line_keys,
            points,
        }
    }

    /// The line labels in order of first appearance.
    pub fn lines(&self) -> Vec<Option<String>> {
        let mut out: Vec<Option<String>> = Vec::new();
        for p in &self.points {
            if !out.contains(&p.line) {
                out.push(p.line.clone());
            }
        }
        out
    }
}

// ------------------------------------------------------------ numbers

/// The point of highest mean final validation accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct BestPoint {
    /// Index into `SweepSeries::points`.
    pub index: usize,
    pub experiment: String,
    pub x: SweepX,
    pub line: Option<String>,
    pub final_acc: SeedStats,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    pub overall: Option<BestPoint>,
    /// One per line that has a number, in the lines' order.
    pub per_line: Vec<BestPoint>,
}

/// Whether a point's runs were trained to the end (complete, stopped by
/// their rule, or diverged): only those are compared as final. A point
/// that successive halving pruned stopped at its rung.
pub fn finished(p: &SeriesPoint<'_>) -> bool {
    pruned_at(&p.runs).is_none()
}

/// Why a sweep's best point is provisional: points without runs yet
/// (`missing`), points with fewer seeds than others, or, in a sweep that
/// does not prune (`prunes` false), points whose runs successive halving
/// stopped (runs it shares with a pruned sweep); `None` when every point is
/// stored to the end. In a pruned sweep the pruned points are stored as its
/// halving left them, and are not compared.
pub fn provisional(series: &SweepSeries<'_>, missing: usize, prunes: bool) -> Option<String> {
    let seeds: Vec<usize> = series.points.iter().map(|p| p.runs.len()).collect();
    let most = seeds.iter().copied().max().unwrap_or(0);
    let short = seeds.iter().filter(|&&n| n < most).count();
    let stopped = series.points.iter().filter(|p| !finished(p)).count();
    let mut why = Vec::new();
    if missing > 0 {
        why.push(format!(
            "{missing} of its {} points have no runs yet",
            missing + series.points.len()
        ));
    }
    if short > 0 {
        why.push(format!("{short} points have fewer seeds than the others"));
    }
    if stopped > 0 && !prunes {
        why.push(format!(
            "{stopped} points are stored only as far as another sweep's successive halving \
             trained them"
        ));
    }
    (!why.is_empty()).then(|| format!("provisional: {}", why.join(", and ")))
}

/// The best point overall and per line, among the points trained to the
/// end ([`finished`]); the earliest point wins a tie.
pub fn best_point(series: &SweepSeries<'_>) -> Best {
    let scored: Vec<(usize, SeedStats)> = series
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| finished(p))
        .filter_map(|(i, p)| stats::point_stats(&p.runs).final_acc.map(|s| (i, s)))
        .collect();
    let best_of = |filter: &dyn Fn(&SeriesPoint<'_>) -> bool| {
        scored
            .iter()
            .filter(|(i, _)| filter(&series.points[*i]))
            .fold(None::<(usize, SeedStats)>, |best, &(i, s)| match best {
                Some((_, b)) if b.mean >= s.mean => best,
                _ => Some((i, s)),
            })
            .map(|(i, s)| {
                let p = &series.points[i];
                BestPoint {
                    index: i,
                    experiment: p.experiment.clone(),
                    x: p.x.clone(),
                    line: p.line.clone(),
                    final_acc: s,
                }
            })
    };
    Best {
        overall: best_of(&|_| true),
        per_line: series
            .lines()
            .into_iter()
            .filter_map(|l| best_of(&|p| p.line == l))
            .collect(),
    }
}

/// Each run's final validation accuracy of a point, by seed.
fn final_accs(p: &SeriesPoint<'_>) -> Vec<(u64, f64)> {
    p.runs
        .iter()
        .filter_map(|r| {
            stats::final_value(r, fmnist_metrics::Split::Val, stats::Quantity::Accuracy)
                .filter(|v| v.is_finite())
                .map(|v| (r.manifest.seed, v))
        })
        .collect()
}

/// The fewest seeds per point for which the report gives the bootstrap
/// probability that the best beats the runner-up: with 3 seeds a point has
/// 10 distinct resamples, and the probability reads 1.00 where the t test
/// cannot tell the two apart.
pub const MIN_BOOTSTRAP_SEEDS: usize = 5;

/// " The runner-up is …; P(best beats it) = 0.93 (bootstrap …)." or "".
/// The runner-up is the best of the other points trained to the end.
fn runner_up(series: &SweepSeries<'_>, b: &BestPoint) -> String {
    let second = series
        .points
        .iter()
        .enumerate()
        .filter(|(i, p)| *i != b.index && finished(p))
        .filter_map(|(i, p)| stats::point_stats(&p.runs).final_acc.map(|s| (i, s.mean)))
        .max_by(|x, y| x.1.total_cmp(&y.1));
    let Some((i, mean)) = second else {
        return String::new();
    };
    let p = &series.points[i];
    let (best, other) = (final_accs(&series.points[b.index]), final_accs(p));
    let head = format!(
        " The runner-up is `{}` ({:.2} %)",
        p.experiment,
        100.0 * mean
    );
    let n = best.len().min(other.len());
    if n < MIN_BOOTSTRAP_SEEDS {
        return format!(
            "{head}; with {n} seeds a bootstrap probability that the best beats it would be too \
             coarse to report (each point has few distinct resamples, and it is blind to how \
             little {n} seeds say about the spread): the column \"told apart from the best\" is \
             the test."
        );
    }
    let Some(prob) = inference::prob_beats(&best, &other) else {
        return String::new();
    };
    let k = best.len() as u64;
    // Multisets of k of k seeds: C(2k − 1, k).
    let distinct: u64 = (1..=k).fold(1, |c, j| c * (k - 1 + j) / j);
    format!(
        "{head}; the probability that the best beats it is {prob:.2} (percentile bootstrap \
         over seeds: each point's seeds resampled independently, {} resamples, seed {}, {distinct} \
         distinct resamples of the best; the column \"told apart from the best\" is the test).",
        inference::BOOTSTRAP.resamples,
        inference::BOOTSTRAP.seed
    )
}

/// "optimizer.lr = 0.01, optimizer.kind = adam".
pub fn describe(series: &SweepSeries<'_>, b: &BestPoint) -> String {
    let mut s = format!("{} = {}", series.x_key, b.x.label());
    match (series.line_keys.as_slice(), &b.line) {
        ([one], Some(l)) => s.push_str(&format!(", {one} = {l}")),
        (_, Some(l)) => s.push_str(&format!(", {l}")),
        _ => {}
    }
    s
}

/// The best point in words: "optimizer.lr = 0.03, optimizer.kind = sgd
/// (`lr-sweep[...]`): 88.50 % mean final validation accuracy", followed,
/// where its runs held a validation split out, by its accuracy on the
/// official test set ([`chosen_test_sentence`]).
pub fn best_sentence(series: &SweepSeries<'_>, b: &BestPoint) -> String {
    let chosen = &series.points[b.index];
    format!(
        "{} (`{}`): {:.2} % mean final validation accuracy{}",
        describe(series, b),
        b.experiment,
        100.0 * b.final_acc.mean,
        chosen_test_sentence(chosen).map_or(String::new(), |t| format!("; {t}"))
    )
}

/// The mean final accuracy of a point's runs on the official test set
/// over its seeds, with its 95 % t interval; `None` when its runs have no
/// test rows (no validation split: the test set is then their validation
/// set and was chosen on).
pub fn test_accuracy(p: &SeriesPoint<'_>) -> Option<SeedStats> {
    stats::over_runs(&p.runs, |r| {
        stats::final_value(r, fmnist_metrics::Split::Test, stats::Quantity::Accuracy)
    })
}

/// "on the official test set, never chosen on: 87.91 % [87.60, 88.22]
/// (95 % t interval over 3 seeds)", the honest number of a point chosen on
/// the validation split; `None` without test rows.
pub fn chosen_test_sentence(p: &SeriesPoint<'_>) -> Option<String> {
    let t = test_accuracy(p)?;
    let mean = 100.0 * t.mean;
    Some(match t.ci {
        Some((lo, hi)) => format!(
            "on the official test set, never chosen on: {mean:.2} % [{:.2}, {:.2}] (95 % t \
             interval over {} seeds)",
            100.0 * lo,
            100.0 * hi,
            t.n
        ),
        None => format!(
            "on the official test set, never chosen on: {mean:.2} % (one seed, no interval)"
        ),
    })
}

/// Which numbers were chosen on which images, said once for the whole
/// report: the files (by stem) that hold a validation split out of the
/// training images and choose on it, and those that validate on the
/// official test set as the paper does (where nothing beyond a run's best
/// epoch is chosen, and the claims read the last epochs).
pub fn selection_paragraph(experiments: &[fmnist_experiments::Experiment]) -> String {
    let mut split_files: Vec<String> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut paper_files = 0usize;
    let stem = |e: &fmnist_experiments::Experiment| {
        e.sweep.as_ref().map_or(e.name.clone(), |s| s.sweep.clone())
    };
    for e in experiments {
        match e.config.validation {
            Some(split) => {
                if !split_files.contains(&stem(e)) {
                    split_files.push(stem(e));
                }
                if !sizes.contains(&split.images) {
                    sizes.push(split.images);
                }
            }
            None => paper_files += 1,
        }
    }
    let paper = format!(
        "The experiments without a split ({paper_files} of this plan's {}, among them every \
         experiment of the paper's figures, Table I and claims) keep the paper's setup, so that \
         their numbers compare with its numbers: they train on the 60,000 training images and \
         validate on the official 10,000 test images, which the paper calls its validation set. Nothing is chosen on those images \
         beyond each run's best epoch in the tables' \"best\" columns; the claims read the last \
         epochs.",
        experiments.len()
    );
    if split_files.is_empty() {
        return format!("**Which set chose what.** {paper}");
    }
    let sizes: Vec<String> = sizes
        .iter()
        .map(|&n| crate::classes::thousands(n as u64))
        .collect();
    let files: Vec<String> = split_files.iter().map(|f| format!("`{f}`")).collect();
    format!(
        "**Which set chose what.** {paper} The studies beyond the paper ({}) hold {} training \
         images out, stratified by class, as their validation set: every choice they make (the \
         best epoch, early stopping, successive halving's survivors, each sweep's best point and \
         the points told apart from it) reads those images. The official test set is measured \
         each epoch beside them and read only for each sweep's chosen point: that test accuracy, \
         with its interval over seeds, is the number to quote for the best configuration found.",
        fmnist_experiments::and_list(&files.iter().map(String::as_str).collect::<Vec<_>>()),
        fmnist_experiments::or_list(&sizes.iter().map(String::as_str).collect::<Vec<_>>())
    )
}

/// Which images a sweep chose on, said once per sweep: the validation
/// split its runs held out of the training images (and that the test
/// number of its chosen point is the one to quote), or, without one, that
/// it chose on the official test set (the paper's setup) and its best
/// number is therefore optimistic.
pub fn selection_sentence(series: &SweepSeries<'_>) -> String {
    let splits: Vec<Option<fmnist_experiments::ValidationSplit>> = {
        let mut v = Vec::new();
        for r in series.points.iter().flat_map(|p| p.runs.iter()) {
            if !v.contains(&r.manifest.config.validation) {
                v.push(r.manifest.config.validation);
            }
        }
        v
    };
    match splits.as_slice() {
        [Some(split)] => format!(
            "Chosen on validation images held out of the training set ({} images, stratified \
             by class, draw {}; the runs train on the other {}): the best epoch, successive \
             halving's survivors, the best point and the points told apart from it all read \
             them. The official test set is measured each epoch and read only for the chosen \
             point, below: that is the number to quote for the best configuration found.",
            crate::classes::thousands(split.images as u64),
            split.seed,
            crate::classes::thousands((fmnist_experiments::TRAIN_SET_SIZE - split.images) as u64)
        ),
        [None] => "Chosen on the official test set, which is also these runs' validation set \
                   (the paper's setup): the best point's number is the best of several readings \
                   of the same images, and so optimistic; a validation split \
                   (`[training] validation`) would give an honest one."
            .into(),
        _ => "Its points differ in how they validate (some hold a validation split out, some \
              validate on the official test set): the best point is chosen across both, so \
              its number mixes honest and optimistic readings."
            .into(),
    }
}

// ------------------------------------------------- learning rates

/// What the learning-rate findings compare the sweep with: the paper's
/// learning rate and its accuracy of the baseline (from the `[paper]` table
/// of the claims file), and the baseline's optimizer.
#[derive(Debug, Clone)]
pub struct PaperLr<'p> {
    pub paper: &'p Paper,
    /// The verdict of the target claim in this report.
    pub verdict: String,
    /// The baseline's optimizer: a line trained with it (its learning rate
    /// aside) is checked against the paper's accuracy.
    pub optimizer: Option<&'p OptimizerConfig>,
}

/// One line of a learning-rate sweep: its points (lr, final validation
/// accuracy over seeds), sorted by lr, and its best point.
struct LrLine {
    name: String,
    points: Vec<(f64, SeedStats)>,
    best: (f64, SeedStats),
    /// Trained with the baseline's optimizer, its learning rate aside.
    baseline_optimizer: bool,
}

/// The lines of `series`, each with the points that have a number.
fn lr_lines(series: &SweepSeries<'_>, optimizer: Option<&OptimizerConfig>) -> Vec<LrLine> {
    let mut out = Vec::new();
    for line in series.lines() {
        let pts: Vec<(f64, SeedStats, &SeriesPoint<'_>)> = series
            .points
            .iter()
            .filter(|p| p.line == line && finished(p))
            .filter_map(|p| match (&p.x, stats::point_stats(&p.runs).final_acc) {
                (SweepX::Number(x), Some(s)) => Some((*x, s, p)),
                _ => None,
            })
            .collect();
        let mut points: Vec<(f64, SeedStats)> = pts.iter().map(|p| (p.0, p.1)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The lowest lr wins a tie.
        let Some(best) = points
            .iter()
            .fold(None::<(f64, SeedStats)>, |b, p| match b {
                Some(b) if b.1.mean >= p.1.mean => Some(b),
                _ => Some(*p),
            })
        else {
            continue;
        };
        let runs: Vec<&StoredRun> = pts.iter().flat_map(|p| p.2.runs.iter().copied()).collect();
        let baseline_optimizer = optimizer.is_some_and(|o| {
            !runs.is_empty()
                && runs
                    .iter()
                    .all(|r| same_but_lr(&r.manifest.config.optimizer, o))
        });
        let name = line.unwrap_or_else(|| match optimizer {
            Some(o) if baseline_optimizer => o.title().to_string(),
            _ => "this sweep".into(),
        });
        out.push(LrLine {
            name,
            points,
            best,
            baseline_optimizer,
        });
    }
    out
}

/// Whether `a` is the optimizer `b` with another learning rate.
fn same_but_lr(a: &OptimizerConfig, b: &OptimizerConfig) -> bool {
    let settings = |o: &OptimizerConfig| -> Vec<(&'static str, String)> {
        o.settings()
            .into_iter()
            .filter(|(k, _)| *k != "lr")
            .collect()
    };
    a.name() == b.name() && settings(a) == settings(b)
}

/// For a sweep over a learning rate, one sentence per line: its best
/// learning rate and mean final validation accuracy, the accuracy at the
/// paper's lr and the gap in percentage points; then, for each line trained
/// with the baseline's optimizer, which learning rates of the grid reach the
/// paper's accuracy (its target claim's band). Empty for other sweeps.
pub fn lr_findings(series: &SweepSeries<'_>, paper: &PaperLr<'_>) -> Vec<String> {
    if !is_learning_rate(&series.x_key) {
        return Vec::new();
    }
    let lines = lr_lines(series, paper.optimizer);
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| line_finding(series, l, paper.paper.learning_rate))
        .collect();
    out.extend(
        lines
            .iter()
            .filter(|l| l.baseline_optimizer)
            .map(|l| target_finding(series, l, paper)),
    );
    out
}

/// For a sweep over anything but a learning rate: which of its points reach
/// the paper's accuracy of the baseline (its target claim's band), in mean
/// final validation accuracy over seeds, or how far the best falls short.
pub fn target_reach(series: &SweepSeries<'_>, paper: &PaperLr<'_>) -> Option<String> {
    let t = &paper.paper.target;
    let lo = t.accuracy - t.tol;
    let mut points: Vec<(String, f64)> = (series.points.iter())
        .filter(|p| finished(p))
        .filter_map(|p| {
            let acc = stats::point_stats(&p.runs).final_acc?.mean;
            let line = p
                .line
                .as_ref()
                .map(|l| format!(", {l}"))
                .unwrap_or_default();
            Some((format!("{} = {}{line}", series.x_key, p.x.label()), acc))
        })
        .collect();
    points.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, best_acc) = points.first()?.clone();
    let reach: Vec<String> = (points.iter())
        .filter(|p| p.1 >= lo)
        .map(|(name, acc)| format!("{name} ({:.2} %)", 100.0 * acc))
        .collect();
    let head = format!(
        "Claim {} (`{}` ends within {:.0} pp of {:.0} %; {} in the report): ",
        t.claim,
        paper.paper.baseline,
        100.0 * t.tol,
        100.0 * t.accuracy,
        paper.verdict
    );
    Some(if reach.is_empty() {
        format!(
            "{head}no point of this sweep reaches {:.0} % mean final validation accuracy; its best, {best} at {:.2} %, is {:.2} pp short.",
            100.0 * lo,
            100.0 * best_acc,
            100.0 * (lo - best_acc)
        )
    } else {
        format!(
            "{head}{} of its {} points reach {:.0} % or more: {}.",
            reach.len(),
            points.len(),
            100.0 * lo,
            reach.join(", ")
        )
    })
}

/// "**SGD**: best optimizer.lr = 0.03 with 88.50 % ...; at the paper's lr ...".
fn line_finding(series: &SweepSeries<'_>, l: &LrLine, paper_lr: f64) -> String {
    let lr = setting(paper_lr);
    let (best_x, best) = l.best;
    let mut s = format!(
        "**{}**: best {} = {} with {:.2} % mean final validation accuracy",
        l.name,
        series.x_key,
        setting(best_x),
        100.0 * best.mean
    );
    match l.points.iter().find(|p| same_value(p.0, paper_lr)) {
        Some(p) if same_value(p.0, best_x) => {
            s.push_str(&format!("; the paper's lr {lr} is its best in this grid."));
        }
        Some(p) => s.push_str(&format!(
            "; at the paper's lr {lr} it reaches {:.2} %, {:.2} pp below that best.",
            100.0 * p.1.mean,
            100.0 * (best.mean - p.1.mean)
        )),
        None => s.push_str(&format!(
            "; the grid has no point at the paper's lr {lr}, so the gap to it cannot be read here."
        )),
    }
    s
}

/// Which learning rates of line `l` reach the paper's accuracy of the baseline.
fn target_finding(series: &SweepSeries<'_>, l: &LrLine, paper: &PaperLr<'_>) -> String {
    let p = paper.paper;
    let t = &p.target;
    let lr = setting(p.learning_rate);
    let lo = t.accuracy - t.tol;
    let reach: Vec<f64> = l
        .points
        .iter()
        .filter(|q| q.1.mean >= lo)
        .map(|q| q.0)
        .collect();
    let mut s = format!(
        "Claim {} (`{}`, {} at lr {lr}, ends within {:.0} pp of {:.0} %; {} in the report): ",
        t.claim,
        p.baseline,
        paper.optimizer.map_or("", OptimizerConfig::title),
        100.0 * t.tol,
        100.0 * t.accuracy,
        paper.verdict
    );
    let (best_x, best) = l.best;
    if reach.is_empty() {
        s.push_str(&format!(
            "no learning rate of this grid brings {} to {:.0} % (its best, {:.2} % at {}, \
             is {:.2} pp short), so the learning rate alone does not explain the paper's number \
             under these settings.",
            l.name,
            100.0 * lo,
            100.0 * best.mean,
            setting(best_x),
            100.0 * (lo - best.mean)
        ));
        return s;
    }
    let listed: Vec<String> = reach.iter().map(|&x| setting(x)).collect();
    s.push_str(&format!(
        "{} reaches {:.0} % or more at {} = {}",
        l.name,
        100.0 * lo,
        series.x_key,
        listed.join(", ")
    ));
    match l.points.iter().find(|q| same_value(q.0, p.learning_rate)) {
        Some(q) if q.1.mean >= lo => {
            s.push_str(&format!(", the paper's lr {lr} among them."));
        }
        Some(q) => {
            let which = if reach.iter().all(|&x| x > p.learning_rate) {
                "a larger"
            } else if reach.iter().all(|&x| x < p.learning_rate) {
                "a smaller"
            } else {
                "another"
            };
            s.push_str(&format!(
                ", but not at the paper's lr {lr} ({:.2} %): with these epochs, the \
                 paper's number needs {which} learning rate than the one it states.",
                100.0 * q.1.mean
            ));
        }
        None => s.push_str(&format!("; the grid has no point at the paper's lr {lr}.")),
    }
    s
}

// ------------------------------------------------------------- table

fn pct_range(s: Option<SeedStats>) -> String {
    s.map_or("—".into(), |s| {
        format!("{:.2}–{:.2}", 100.0 * s.min, 100.0 * s.max)
    })
}

/// The epoch at which successive halving stopped a point's runs, if it did.
pub fn pruned_at(runs: &[&StoredRun]) -> Option<usize> {
    runs.iter().find_map(|r| match r.manifest.status {
        RunStatus::Pruned { epoch } => Some(epoch),
        _ => None,
    })
}

/// One row per point (in the order of the lines, then of x): the swept
/// values, final validation accuracy (mean [95% t interval], and min–max, †
/// with a diverged seed), best validation accuracy and its epoch, final
/// validation loss, seeds, and whether it can be told apart from the best
/// (points trained to the end only). The overall best point is bold (so far,
/// when `provisional` says why); each line's best is marked.
pub fn response_table(series: &SweepSeries<'_>, provisional: Option<&str>) -> Table {
    let best = best_point(series);
    let mut columns = vec![
        ("experiment".to_string(), Align::Left),
        (series.x_key.clone(), Align::Right),
    ];
    if !series.line_keys.is_empty() {
        columns.push((series.line_keys.join(", "), Align::Left));
    }
    columns.extend(
        [
            "final val acc (%)",
            "range (%)",
            "best val acc (%)",
            "best epoch",
            "final val loss",
            "seeds",
            "best",
            "told apart from the best",
        ]
        .map(|h| (h.to_string(), Align::Right)),
    );
    let rows = ordered(series)
        .into_iter()
        .map(|i| response_row(series, &best, i, provisional))
        .collect();
    let mut notes = response_notes(series, &best, provisional);
    if series.points.iter().any(|p| pruned_at(&p.runs).is_some()) {
        notes.push(
            "Pruned at epoch k: successive halving stopped the point there, so its final \
             numbers are that epoch's; it is not compared with the points trained to the end \
             (neither for the best point nor in the last column)."
                .to_string(),
        );
    }
    notes.extend(crate::sweep_figure::identical_note(series));
    if series
        .points
        .iter()
        .any(|p| !crate::tables::diverged_mark(&p.runs).is_empty())
    {
        notes.push(crate::tables::DIVERGED_NOTE.to_string());
    }
    Table {
        caption: format!("Sweep `{}`: response to {}", series.sweep, series.x_key),
        label: format!("sweep-{}", crate::text::slug(&series.sweep)),
        columns,
        rows,
        notes,
    }
}

/// Point `i`'s row of the response table.
fn response_row(
    series: &SweepSeries<'_>,
    best: &Best,
    i: usize,
    provisional: Option<&str>,
) -> Vec<String> {
    let p = &series.points[i];
    let s = stats::point_stats(&p.runs);
    let is_overall = best.overall.as_ref().is_some_and(|b| b.index == i);
    // One point per line (a sampled sweep): no point is the best of its line.
    let is_line =
        best.per_line.iter().any(|b| b.index == i) && best.per_line.len() < series.points.len();
    let mark = match (is_overall, is_line, series.line_keys.is_empty()) {
        (true, _, _) if provisional.is_some() => "**overall so far**".to_string(),
        (true, _, _) => "**overall**".to_string(),
        (false, true, false) => format!("of {}", p.line.as_deref().unwrap_or("—")),
        _ => String::new(),
    };
    let mark = match (pruned_at(&p.runs), mark.is_empty()) {
        (Some(e), true) => format!("pruned at epoch {e}"),
        (Some(e), false) => format!("{mark}, pruned at epoch {e}"),
        (None, _) => mark,
    };
    let mut row = vec![p.experiment.clone(), p.x.label()];
    if !series.line_keys.is_empty() {
        row.push(p.line.clone().unwrap_or_default());
    }
    let acc = pct(s.final_acc) + crate::tables::diverged_mark(&p.runs);
    let best_values = best
        .overall
        .as_ref()
        .map(|b| final_accs(&series.points[b.index]));
    row.extend([
        if is_overall {
            format!("**{acc}**")
        } else {
            acc
        },
        pct_range(s.final_acc),
        pct(s.best_acc),
        s.best_epoch
            .map_or("—".into(), |e| format!("{:.1}", e.mean)),
        s.final_loss
            .map_or("—".into(), |l| format!("{:.4}", l.mean)),
        s.seeds.len().to_string(),
        mark,
        match (&best_values, pruned_at(&p.runs)) {
            _ if is_overall => "—".into(),
            (_, Some(e)) => format!("pruned at epoch {e}, not compared"),
            (Some(b), None) => match inference::told_apart(b, &final_accs(p), stats::LEVEL) {
                Some(true) => "yes".into(),
                Some(false) => "**no**".into(),
                None => "n < 2".into(),
            },
            (None, None) => String::new(),
        },
    ]);
    row
}

/// The notes under a response table: what its numbers are, the best point
/// with its runner-up (provisional when not every point is stored to the
/// end), and what "told apart" means.
fn response_notes(series: &SweepSeries<'_>, best: &Best, provisional: Option<&str>) -> Vec<String> {
    let mut notes = vec![
        "Final: the last recorded epoch; best: each run's epoch of highest validation \
         accuracy, averaged over seeds. Mean over seeds [95% Student's t interval]; range: \
         lowest and highest seed."
            .to_string(),
    ];
    if let Some(b) = &best.overall {
        let so_far = provisional.map_or(String::new(), |p| format!(" so far ({p})"));
        notes.push(format!(
            "Best point{so_far} (highest mean final validation accuracy among the points trained \
             to the end): {} (experiment `{}`), {:.2} %.{}",
            describe(series, b),
            b.experiment,
            100.0 * b.final_acc.mean,
            runner_up(series, b)
        ));
        notes.push(
            "Told apart from the best: whether the 95% Student's t interval of the best point's \
             mean final validation accuracy minus this point's excludes 0 (paired by seed when \
             both ran the same seeds, Welch otherwise), for points trained to the end; **no** \
             marks the points that cannot be told apart from the best."
                .to_string(),
        );
    }
    notes
}

// ------------------------------------------------------------ x axis

#[derive(Debug, Clone, PartialEq)]
pub enum Axis {
    Linear,
    Log10,
    Categorical(Vec<String>),
}

pub fn is_learning_rate(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(last, "lr" | "learning_rate" | "learning-rate")
}

pub fn axis(series: &SweepSeries<'_>) -> Axis {
    let mut numbers = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    for p in &series.points {
        let l = p.x.label();
        if !labels.contains(&l) {
            labels.push(l);
        }
        if let SweepX::Number(v) = p.x {
            numbers.push(v);
        }
    }
    if numbers.len() < series.points.len() {
        return Axis::Categorical(labels);
    }
    let positive = numbers.iter().all(|&v| v > 0.0 && v.is_finite());
    let lo = numbers.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if positive && (is_learning_rate(&series.x_key) || hi / lo > 30.0) {
        Axis::Log10
    } else {
        Axis::Linear
    }
}

/// Whether the response figure's x axis is logarithmic.
pub fn log_axis(series: &SweepSeries<'_>) -> bool {
    axis(series) == Axis::Log10
}

pub fn position(axis: &Axis, x: &SweepX) -> f64 {
    match (axis, x) {
        (Axis::Log10, SweepX::Number(v)) => v.log10(),
        (Axis::Linear, SweepX::Number(v)) => *v,
        (Axis::Categorical(labels), x) => {
            let l = x.label();
            labels.iter().position(|c| *c == l).unwrap_or(0) as f64
        }
        (_, SweepX::Text(_)) => 0.0,
    }
}

/// The point indices sorted by line (first appearance), then by x.
pub fn ordered(series: &SweepSeries<'_>) -> Vec<usize> {
    let lines = series.lines();
    let axis = axis(series);
    let mut order: Vec<usize> = (0..series.points.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&series.points[a], &series.points[b]);
        let la = lines.iter().position(|l| *l == pa.line);
        let lb = lines.iter().position(|l| *l == pb.line);
        la.cmp(&lb)
            .then(position(&axis, &pa.x).total_cmp(&position(&axis, &pb.x)))
    });
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::sweep::{acc, runs, series};

    #[test]
    fn the_numeric_setting_with_most_values_is_x_and_the_rest_name_lines() {
        let runs = runs();
        let s = series(&runs);
        assert_eq!(s.x_key, "optimizer.lr");
        assert_eq!(
            s.line_keys,
            vec!["optimizer.kind".to_string()],
            "batch_size is constant"
        );
        assert_eq!(s.points.len(), 14);
        assert_eq!(s.points[0].line.as_deref(), Some("sgd"));
        assert_eq!(s.points[0].runs.len(), 3);
        assert_eq!(s.lines(), vec![Some("sgd".into()), Some("adam".into())]);
        assert_eq!(axis(&s), Axis::Log10);
    }

    #[test]
    fn a_sweep_chosen_on_a_validation_split_quotes_its_chosen_point_on_the_test_set() {
        let split = fmnist_experiments::ValidationSplit {
            images: 10_000,
            seed: 0,
        };
        // Every run measures the test set 1 pp below its validation set.
        let mut held_out = runs();
        for r in &mut held_out {
            r.manifest.config.validation = Some(split);
            let tests: Vec<fmnist_metrics::MetricRow> = (r.rows.iter())
                .filter(|row| row.split == fmnist_metrics::Split::Val)
                .map(|row| fmnist_metrics::MetricRow {
                    split: fmnist_metrics::Split::Test,
                    values: fmnist_experiments::Measures::default().with(
                        stats::Quantity::Accuracy,
                        row.values[stats::Quantity::Accuracy] - 0.01,
                    ),
                    ..row.clone()
                })
                .collect();
            r.rows.extend(tests);
        }
        let s = series(&held_out);
        let b = best_point(&s).overall.unwrap();
        // Chosen by validation: Adam at 0.001 (the fixture's peak).
        assert_eq!(b.experiment, "adam-0.001");
        let expect = (0..3)
            .map(|seed| acc("adam", 0.001, seed) - 0.01)
            .sum::<f64>()
            / 3.0;
        let t = test_accuracy(&s.points[b.index]).unwrap();
        assert!((t.mean - expect).abs() < 1e-12, "{} vs {expect}", t.mean);
        let sentence = best_sentence(&s, &b);
        assert!(
            sentence.contains(&format!(
                "on the official test set, never chosen on: {:.2} % [",
                100.0 * expect
            )),
            "{sentence}"
        );
        assert!(
            sentence.contains("95 % t interval over 3 seeds"),
            "{sentence}"
        );
        assert!(selection_sentence(&s).starts_with("Chosen on validation images held out"));
        assert!(selection_sentence(&s).contains("10,000 images"));
        // Without a split: no test number, and the choice is said to be optimistic.
        let plain = runs();
        let s = series(&plain);
        let b = best_point(&s).overall.unwrap();
        assert!(test_accuracy(&s.points[b.index]).is_none());
        assert!(!best_sentence(&s, &b).contains("official test set"));
        assert!(selection_sentence(&s).contains("optimistic"));
    }

    #[test]
    fn axes_are_log_for_learning_rates_and_wide_ranges_only() {
        let mk = |key: &str, xs: &[SweepX]| SweepSeries {
            sweep: "s".into(),
            x_key: key.into(),
            line_keys: vec![],
            points: xs
                .iter()
                .map(|x| SeriesPoint {
                    experiment: "e".into(),
                    x: x.clone(),
                    line: None,
                    values: vec![],
                    runs: vec![],
                })
                .collect(),
        };
        let n = |v: &[f64]| v.iter().map(|&v| SweepX::Number(v)).collect::<Vec<_>>();
        assert_eq!(axis(&mk("optimizer.lr", &n(&[0.01, 0.02]))), Axis::Log10);
        assert_eq!(
            axis(&mk("model.dropout", &n(&[0.0, 0.2, 0.5]))),
            Axis::Linear
        );
        assert_eq!(
            axis(&mk("batch_size", &n(&[16.0, 64.0, 1024.0]))),
            Axis::Log10
        );
        assert_eq!(
            axis(&mk("batch_size", &n(&[50.0, 100.0, 200.0]))),
            Axis::Linear
        );
        let mixed = vec![SweepX::Text("sgd".into()), SweepX::Number(1.0)];
        assert_eq!(
            axis(&mk("k", &mixed)),
            Axis::Categorical(vec!["sgd".into(), "1".into()])
        );
    }

    #[test]
    fn point_numbers_are_means_over_seeds() {
        let runs = runs();
        let s = series(&runs);
        let p = &s.points[2]; // sgd, 1e-3
        let st = stats::point_stats(&p.runs);
        let expect = (0..3).map(|seed| acc("sgd", 1e-3, seed)).sum::<f64>() / 3.0;
        let fa = st.final_acc.unwrap();
        assert!((fa.mean - expect).abs() < 1e-12);
        assert!((fa.max - fa.min - 0.01).abs() < 1e-12);
        assert!((st.best_acc.unwrap().mean - (expect + 0.004)).abs() < 1e-12);
        assert_eq!(st.best_epoch.unwrap().mean, 2.0);
        assert!((st.final_loss.unwrap().mean - (1.05 - expect)).abs() < 1e-12);
        assert_eq!(st.seeds, vec![0, 1, 2]);
    }

    #[test]
    fn best_point_overall_and_per_line() {
        let runs = runs();
        let s = series(&runs);
        let b = best_point(&s);
        let overall = b.overall.unwrap();
        assert_eq!(overall.experiment, "adam-0.001");
        assert_eq!(overall.x, SweepX::Number(1e-3));
        assert!((overall.final_acc.mean - 0.895).abs() < 1e-12);
        assert_eq!(b.per_line.len(), 2);
        assert_eq!(b.per_line[0].experiment, "sgd-0.03");
        assert_eq!(b.per_line[1].experiment, "adam-0.001");
        assert_eq!(
            describe(&s, &overall),
            "optimizer.lr = 0.001, optimizer.kind = adam"
        );
    }

    #[test]
    fn table_lists_every_point_and_marks_the_best() {
        let runs = runs();
        let s = series(&runs);
        let t = response_table(&s, None);
        assert_eq!(t.rows.len(), 14);
        assert_eq!(t.columns[1].0, "optimizer.lr");
        assert_eq!(t.columns[2].0, "optimizer.kind");
        // Sorted by line, then learning rate.
        assert_eq!(t.rows[0][0], "sgd-0.0001");
        assert_eq!(t.rows[0][1], "1e-4");
        assert_eq!(t.rows[7][0], "adam-0.0001");
        let adam_best = &t.rows[9];
        assert_eq!(adam_best[0], "adam-0.001");
        // 89.0, 89.5, 90.0: ± t(0.975, 2) · 0.5 / √3 = ± 1.24.
        assert_eq!(adam_best[3], "**89.50 [88.26, 90.74]**");
        assert_eq!(adam_best[4], "89.00–90.00");
        assert_eq!(adam_best[6], "2.0");
        assert_eq!(adam_best[8], "3");
        assert_eq!(adam_best[9], "**overall**");
        assert_eq!(adam_best[10], "—");
        assert!(
            t.rows
                .iter()
                .all(|r| ["—", "yes", "**no**"].contains(&r[10].as_str())),
            "{:?}",
            t.rows
        );
        // The fixture shifts every point by the same amount per seed, so the
        // paired differences from the best have no spread: all told apart.
        assert_eq!(t.rows[5][10], "yes");
        // Three seeds: no bootstrap probability, the t test decides.
        assert!(
            t.notes[1].contains("runner-up is `sgd-0.03` (88.50 %)")
                && t.notes[1].contains("with 3 seeds a bootstrap probability")
                && !t.notes[1].contains("beats it is"),
            "{}",
            t.notes[1]
        );
        assert_eq!(t.rows[5][9], "of sgd");
        assert_eq!(t.rows.iter().filter(|r| !r[9].is_empty()).count(), 2);
        assert!(t.notes[1].contains("`adam-0.001`") && t.notes[1].contains("89.50 %"));
        assert!(
            t.latex().contains("\\textbf{89.50 [88.26, 90.74]}"),
            "{}",
            t.latex()
        );
    }

    #[test]
    fn a_pruned_point_is_not_compared_and_a_partial_sweep_is_provisional() {
        let mut runs = runs();
        // Adam at 0.01 pruned at epoch 2 (its stored numbers are that
        // epoch's), and made to look best there.
        for r in runs
            .iter_mut()
            .filter(|r| r.manifest.experiment == "adam-0.01")
        {
            r.manifest.status = RunStatus::Pruned { epoch: 2 };
            for row in &mut r.rows {
                row.values.set(stats::Quantity::Accuracy, 0.95);
            }
        }
        let s = series(&runs);
        let b = best_point(&s);
        assert_eq!(
            b.overall.unwrap().experiment,
            "adam-0.001",
            "not the pruned one"
        );
        let t = response_table(&s, None);
        let row = t.rows.iter().find(|r| r[0] == "adam-0.01").unwrap();
        assert_eq!(row[10], "pruned at epoch 2, not compared");
        assert!(row[9].contains("pruned at epoch 2"));
        assert!(
            t.notes
                .iter()
                .any(|n| n.contains("not compared with the points trained"))
        );
        // Every point stored: not provisional; a missing point or a point
        // with fewer seeds makes the best provisional, and the table says so.
        assert_eq!(provisional(&s, 0, true), None, "pruned by its own design");
        let p = provisional(&s, 0, false).unwrap();
        assert!(
            p.contains("1 points are stored only as far as another sweep's"),
            "{p}"
        );
        let p = provisional(&s, 2, true).unwrap();
        assert!(p.contains("2 of its 16 points have no runs yet"), "{p}");
        runs.retain(|r| !(r.manifest.experiment == "sgd-0.001" && r.manifest.seed == 2));
        let short = series(&runs);
        let p = provisional(&short, 0, true).unwrap();
        assert!(p.contains("1 points have fewer seeds"), "{p}");
        let t = response_table(&short, Some(&p));
        assert!(t.rows.iter().any(|r| r[9] == "**overall so far**"));
        assert!(
            t.notes[1].starts_with("Best point so far (provisional"),
            "{}",
            t.notes[1]
        );
    }

    #[test]
    fn a_point_with_a_diverged_seed_is_marked() {
        let mut runs = runs();
        let r = runs
            .iter_mut()
            .find(|r| r.manifest.experiment == "sgd-0.1" && r.manifest.seed == 1)
            .unwrap();
        r.manifest.status = RunStatus::Diverged { epoch: 3, batch: 1 };
        let s = series(&runs);
        let t = response_table(&s, None);
        let row = t.rows.iter().find(|r| r[0] == "sgd-0.1").unwrap();
        assert!(row[3].ends_with(" †"), "{}", row[3]);
        assert!(t.notes.iter().any(|n| n.starts_with("†: a seed diverged")));
        let clean = t.rows.iter().find(|r| r[0] == "sgd-0.03").unwrap();
        assert!(!clean[3].contains('†'));
    }
}
