//! Hyperparameter sweeps: one response figure (final and best validation
//! accuracy and final validation loss against the swept value) and one
//! table per sweep, and the sweep's best point.
//!
//! A sweep is a set of experiments that share a sweep name and differ in one
//! or more settings. The setting with the most distinct values (numbers
//! before text) is the x axis; the other settings that vary name the lines.
//! Every number is a mean over seeds with its min-max, computed through
//! `stats`, so the sweep's table agrees with the results table.

use std::path::Path;

use fmnist_experiments::OptimizerConfig;
use fmnist_metrics::StoredRun;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::classes::with_ext;
use crate::error::FiguresError;
use crate::font::ensure_fonts;
use crate::paper::{Paper, same_value};
use crate::plot::{
    AXIS_DESC_FONT, LEGEND_FONT, LINE_WIDTH, PALETTE, PANEL_TITLE_FONT, TICK_FONT, TITLE_FONT,
    Written, bold, decimals, font, render_png, render_svg,
};
use crate::stats::{self, Summary};
use crate::tables::{self, Align, Table, setting};

/// One swept value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SweepX {
    Number(f64),
    Text(String),
}

impl SweepX {
    pub(crate) fn label(&self) -> String {
        match self {
            SweepX::Number(v) => setting(*v),
            SweepX::Text(s) => s.clone(),
        }
    }
}

/// One experiment of a sweep as the experiment files describe it: its
/// swept settings (dotted key, value) and its runs.
#[derive(Debug, Clone)]
pub(crate) struct SweepInput<'a> {
    pub experiment: String,
    pub values: Vec<(String, SweepX)>,
    pub runs: Vec<&'a StoredRun>,
}

/// One point of a response curve.
#[derive(Debug, Clone)]
pub(crate) struct SeriesPoint<'a> {
    pub experiment: String,
    pub x: SweepX,
    /// The values of the line settings, in words; `None` with a single line.
    pub line: Option<String>,
    pub runs: Vec<&'a StoredRun>,
}

/// A sweep ready to draw: the x setting, the settings that name the lines,
/// and the points.
#[derive(Debug, Clone)]
pub(crate) struct SweepSeries<'a> {
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
    pub(crate) fn from_inputs(sweep: &str, inputs: Vec<SweepInput<'a>>) -> SweepSeries<'a> {
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
    fn lines(&self) -> Vec<Option<String>> {
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
pub(crate) struct BestPoint {
    /// Index into `SweepSeries::points`.
    pub index: usize,
    pub experiment: String,
    pub x: SweepX,
    pub line: Option<String>,
    pub final_acc: Summary,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Best {
    pub overall: Option<BestPoint>,
    /// One per line that has a number, in the lines' order.
    pub per_line: Vec<BestPoint>,
}

/// The best point overall and per line; the earliest point wins a tie.
pub(crate) fn best_point(series: &SweepSeries<'_>) -> Best {
    let scored: Vec<(usize, Summary)> = series
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| stats::point_stats(&p.runs).final_acc.map(|s| (i, s)))
        .collect();
    let best_of = |filter: &dyn Fn(&SeriesPoint<'_>) -> bool| {
        scored
            .iter()
            .filter(|(i, _)| filter(&series.points[*i]))
            .fold(None::<(usize, Summary)>, |best, &(i, s)| match best {
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

/// "optimizer.lr = 0.01, optimizer.kind = adam".
fn describe(series: &SweepSeries<'_>, b: &BestPoint) -> String {
    let mut s = format!("{} = {}", series.x_key, b.x.label());
    match (series.line_keys.as_slice(), &b.line) {
        ([one], Some(l)) => s.push_str(&format!(", {one} = {l}")),
        (_, Some(l)) => s.push_str(&format!(", {l}")),
        _ => {}
    }
    s
}

/// The best point in words: "optimizer.lr = 0.03, optimizer.kind = sgd
/// (`lr-sweep[...]`): 88.50 % mean final validation accuracy".
pub(crate) fn best_sentence(series: &SweepSeries<'_>, b: &BestPoint) -> String {
    format!(
        "{} (`{}`): {:.2} % mean final validation accuracy",
        describe(series, b),
        b.experiment,
        100.0 * b.final_acc.mean
    )
}

// ------------------------------------------------- learning rates

/// What the learning-rate findings compare the sweep with: the paper's
/// learning rate and its accuracy of the baseline (from the `[paper]` table
/// of the claims file), and the baseline's optimizer.
#[derive(Debug, Clone)]
pub(crate) struct PaperLr<'p> {
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
    points: Vec<(f64, Summary)>,
    best: (f64, Summary),
    /// Trained with the baseline's optimizer, its learning rate aside.
    baseline_optimizer: bool,
}

/// The lines of `series`, each with the points that have a number.
fn lr_lines(series: &SweepSeries<'_>, optimizer: Option<&OptimizerConfig>) -> Vec<LrLine> {
    let mut out = Vec::new();
    for line in series.lines() {
        let pts: Vec<(f64, Summary, &SeriesPoint<'_>)> = series
            .points
            .iter()
            .filter(|p| p.line == line)
            .filter_map(|p| match (&p.x, stats::point_stats(&p.runs).final_acc) {
                (SweepX::Number(x), Some(s)) => Some((*x, s, p)),
                _ => None,
            })
            .collect();
        let mut points: Vec<(f64, Summary)> = pts.iter().map(|p| (p.0, p.1)).collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The lowest lr wins a tie.
        let Some(best) = points.iter().fold(None::<(f64, Summary)>, |b, p| match b {
            Some(b) if b.1.mean >= p.1.mean => Some(b),
            _ => Some(*p),
        }) else {
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
            Some(o) if baseline_optimizer => tables::optimizer_title(o).to_string(),
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
        tables::optimizer_settings(o)
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
pub(crate) fn lr_findings(series: &SweepSeries<'_>, paper: &PaperLr<'_>) -> Vec<String> {
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
        "Claim {} (`{}`, {} at lr {lr}, ends within {:.0} pp of {:.0} %; {} above): ",
        t.claim,
        p.baseline,
        paper.optimizer.map_or("", tables::optimizer_title),
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

fn pct_pm(s: Option<Summary>) -> String {
    s.map_or("—".into(), |s| {
        format!("{:.2} ± {:.2}", 100.0 * s.mean, 100.0 * s.std)
    })
}

fn pct_range(s: Option<Summary>) -> String {
    s.map_or("—".into(), |s| {
        format!("{:.2}–{:.2}", 100.0 * s.min, 100.0 * s.max)
    })
}

/// One row per point (in the order of the lines, then of x): the swept
/// values, final validation accuracy (mean ± sample std, and min–max), best
/// validation accuracy and its epoch, final validation loss, seeds. The
/// overall best point is bold; each line's best is marked.
pub(crate) fn response_table(series: &SweepSeries<'_>) -> Table {
    let best = best_point(series);
    let order = ordered(series);
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
        ]
        .map(|h| (h.to_string(), Align::Right)),
    );
    let rows = order
        .iter()
        .map(|&i| {
            let p = &series.points[i];
            let s = stats::point_stats(&p.runs);
            let is_overall = best.overall.as_ref().is_some_and(|b| b.index == i);
            let is_line = best.per_line.iter().any(|b| b.index == i);
            let mark = match (is_overall, is_line, series.line_keys.is_empty()) {
                (true, _, _) => "**overall**".to_string(),
                (false, true, false) => format!("of {}", p.line.as_deref().unwrap_or("—")),
                _ => String::new(),
            };
            let mut row = vec![p.experiment.clone(), p.x.label()];
            if !series.line_keys.is_empty() {
                row.push(p.line.clone().unwrap_or_default());
            }
            let acc = pct_pm(s.final_acc);
            row.extend([
                if is_overall {
                    format!("**{acc}**")
                } else {
                    acc
                },
                pct_range(s.final_acc),
                pct_pm(s.best_acc),
                s.best_epoch
                    .map_or("—".into(), |e| format!("{:.1}", e.mean)),
                s.final_loss
                    .map_or("—".into(), |l| format!("{:.4}", l.mean)),
                s.seeds.len().to_string(),
                mark,
            ]);
            row
        })
        .collect();
    let mut notes = vec![
        "Final: the last recorded epoch; best: each run's epoch of highest validation \
         accuracy, averaged over seeds. Mean ± sample standard deviation over seeds; range: \
         lowest and highest seed."
            .to_string(),
    ];
    if let Some(b) = &best.overall {
        notes.push(format!(
            "Best point (highest mean final validation accuracy): {} (experiment `{}`), {:.2} %.",
            describe(series, b),
            b.experiment,
            100.0 * b.final_acc.mean
        ));
    }
    Table {
        caption: format!("Sweep `{}`: response to {}", series.sweep, series.x_key),
        label: format!("sweep-{}", crate::text::slug(&series.sweep)),
        columns,
        rows,
        notes,
    }
}

// ------------------------------------------------------------ figure

#[derive(Debug, Clone, PartialEq)]
enum Axis {
    Linear,
    Log10,
    Categorical(Vec<String>),
}

fn is_learning_rate(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    matches!(last, "lr" | "learning_rate" | "learning-rate")
}

fn axis(series: &SweepSeries<'_>) -> Axis {
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
pub(crate) fn log_axis(series: &SweepSeries<'_>) -> bool {
    axis(series) == Axis::Log10
}

fn position(axis: &Axis, x: &SweepX) -> f64 {
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
fn ordered(series: &SweepSeries<'_>) -> Vec<usize> {
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

struct Line {
    label: Option<String>,
    color: RGBColor,
    /// (x position, [final acc, best acc, final loss]).
    points: Vec<(f64, [Option<Summary>; 3])>,
}

struct Response {
    title: String,
    subtitle: String,
    x_desc: String,
    legend_title: Option<String>,
    lines: Vec<Line>,
    /// Tick positions and labels; an empty label keeps the tick unlabelled.
    ticks: Vec<(f64, String)>,
    x_range: (f64, f64),
    /// (line, x position) of the overall best point.
    best: Option<(usize, f64)>,
    /// Text values have no order: points get whiskers, not lines and bands.
    categorical: bool,
}

const PANELS: [(&str, &str, bool); 3] = [
    ("Final validation accuracy", "accuracy (%)", true),
    ("Best validation accuracy", "accuracy (%)", true),
    ("Final validation loss", "cross-entropy loss", false),
];

/// Pixel size of a three-panel response figure.
const RESPONSE_SIZE: (u32, u32) = (2700, 1050);
const TITLE_H: u32 = 175;
const PANEL_Y_LABEL_W: u32 = 140;
const PANEL_MARGINS: u32 = 20 + 50;

fn build_response(series: &SweepSeries<'_>) -> Response {
    let axis = axis(series);
    let lines_labels = series.lines();
    let mut palette = PALETTE.iter().cycle();
    let lines: Vec<Line> = lines_labels
        .iter()
        .map(|label| {
            let mut points: Vec<(f64, [Option<Summary>; 3])> = series
                .points
                .iter()
                .filter(|p| p.line == *label)
                .map(|p| {
                    let s = stats::point_stats(&p.runs);
                    (
                        position(&axis, &p.x),
                        [s.final_acc, s.best_acc, s.final_loss],
                    )
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Line {
                label: label.clone(),
                color: *palette.next().expect("a cycle never ends"),
                points,
            }
        })
        .collect();
    let xs: Vec<f64> = {
        let mut xs: Vec<f64> = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs
    };
    let (lo, hi) = (
        xs.first().copied().unwrap_or(0.0),
        xs.last().copied().unwrap_or(1.0),
    );
    let pad = match axis {
        Axis::Categorical(_) => 0.5,
        _ if hi > lo => (hi - lo) * 0.06,
        _ => 0.5_f64.max(lo.abs() * 0.1),
    };
    let x_range = (lo - pad, hi + pad);
    let label_of = |x: f64| match &axis {
        Axis::Log10 => setting(sig(10f64.powf(x))),
        Axis::Linear => setting(sig(x)),
        Axis::Categorical(labels) => labels.get(x.round() as usize).cloned().unwrap_or_default(),
    };
    // Ticks at the swept values; a label that would overlap its left
    // neighbour is dropped (its tick stays).
    let plot_w = f64::from(RESPONSE_SIZE.0 / 3 - PANEL_Y_LABEL_W - PANEL_MARGINS);
    let px = |x: f64| (x - x_range.0) / (x_range.1 - x_range.0) * plot_w;
    let tick_font = font(TICK_FONT);
    let mut ticks = Vec::new();
    let mut right_edge = f64::NEG_INFINITY;
    for &x in &xs {
        let label = label_of(x);
        let w = tick_font
            .layout_box(&label)
            .map_or(label.len() as f64 * 17.0, |((a, _), (b, _))| {
                f64::from(b - a)
            });
        let left = px(x) - w / 2.0;
        if left > right_edge + 12.0 {
            right_edge = px(x) + w / 2.0;
            ticks.push((x, label));
        } else {
            ticks.push((x, String::new()));
        }
    }
    let best = best_point(series);
    let best_at = best.overall.as_ref().map(|b| {
        let line = lines_labels.iter().position(|l| *l == b.line).unwrap_or(0);
        (line, position(&axis, &b.x))
    });
    let x_desc = match axis {
        Axis::Log10 => format!("{} (log scale)", series.x_key),
        _ => series.x_key.clone(),
    };
    let seeds = {
        let mut s: Vec<u64> = series
            .points
            .iter()
            .flat_map(|p| p.runs.iter().map(|r| r.manifest.seed))
            .collect();
        s.sort_unstable();
        s.dedup();
        s.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    };
    let spread = if matches!(axis, Axis::Categorical(_)) {
        "bars"
    } else {
        "band"
    };
    let subtitle = match &best.overall {
        Some(b) => format!(
            "mean over seeds {seeds} with min–max {spread}; best final validation accuracy {:.2} % at {}",
            100.0 * b.final_acc.mean,
            describe(series, b)
        ),
        None => "no finished runs".into(),
    };
    Response {
        title: format!("Sweep {}: response to {}", series.sweep, series.x_key),
        subtitle,
        x_desc,
        legend_title: (!series.line_keys.is_empty()).then(|| series.line_keys.join(", ")),
        lines,
        ticks,
        x_range,
        best: best_at,
        categorical: matches!(axis, Axis::Categorical(_)),
    }
}

/// `x` rounded to 6 significant digits, so that 10^log10(0.003) prints as 0.003.
fn sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn y_range(lines: &[Line], k: usize, percent: bool) -> (f64, f64) {
    let scale = if percent { 100.0 } else { 1.0 };
    let (lo, hi) = lines
        .iter()
        .flat_map(|l| &l.points)
        .filter_map(|p| p.1[k])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.min * scale), hi.max(s.max * scale))
        });
    if !lo.is_finite() {
        return if percent { (0.0, 100.0) } else { (0.0, 1.0) };
    }
    let pad = if hi > lo {
        (hi - lo) * 0.08
    } else {
        (hi.abs() * 0.05).max(0.01)
    };
    let lo = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    let hi = if percent {
        (hi + pad).min(100.0)
    } else {
        hi + pad
    };
    (lo, hi)
}

fn draw_response<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Response,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let center =
        |f: FontDesc<'static>| TextStyle::from(f).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw_text(&r.title, &center(bold(TITLE_FONT)), (w as i32 / 2, 45))?;
    root.draw_text(&r.subtitle, &center(font(LEGEND_FONT)), (w as i32 / 2, 95))?;
    draw_legend(root, r, 145)?;
    let (_, body) = root.split_vertically(TITLE_H);
    let panels = body.split_evenly((1, 3));
    for (k, area) in panels.iter().enumerate() {
        draw_response_panel(area, r, k)?;
    }
    Ok(())
}

/// The shared legend: one entry per line and one for the best-point ring,
/// centred under the title.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &Response,
    y: i32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let f = font(LEGEND_FONT);
    let width = |s: &str| {
        f.layout_box(s)
            .map_or(s.len() as i32 * 17, |((a, _), (b, _))| b - a)
    };
    let mut items: Vec<(Option<RGBColor>, String)> = r
        .lines
        .iter()
        .filter_map(|l| l.label.clone().map(|s| (Some(l.color), s)))
        .collect();
    if r.best.is_some() {
        items.push((None, "best point".into()));
    }
    let prefix = r.legend_title.as_ref().map(|t| format!("{t}:"));
    let sample = 60;
    let gap = 40;
    let total: i32 = prefix.as_ref().map_or(0, |p| width(p) + 20)
        + items
            .iter()
            .map(|(_, s)| sample + 12 + width(s) + gap)
            .sum::<i32>()
        - gap;
    let (w, _) = root.dim_in_pixel();
    let mut x = (w as i32 - total) / 2;
    let left = TextStyle::from(font(LEGEND_FONT)).pos(Pos::new(HPos::Left, VPos::Center));
    if let Some(p) = &prefix {
        root.draw_text(p, &left, (x, y))?;
        x += width(p) + 20;
    }
    for (color, label) in &items {
        match color {
            Some(c) => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + sample, y)],
                    c.stroke_width(LINE_WIDTH),
                ))?;
                root.draw(&Circle::new((x + sample / 2, y), 8, c.filled()))?;
            }
            None => {
                root.draw(&Circle::new((x + sample / 2, y), 18, BLACK.stroke_width(3)))?;
            }
        }
        x += sample + 12;
        root.draw_text(label, &left, (x, y))?;
        x += width(label) + gap;
    }
    Ok(())
}

/// A linear axis whose ticks sit exactly at the swept values. Plotters'
/// `with_key_points` drops the value formatting of `f64` ranges, so the
/// mesh could not be labelled through it.
struct KeyedAxis {
    range: (f64, f64),
    keys: Vec<f64>,
}

impl Ranged for KeyedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = (value - self.range.0) / (self.range.1 - self.range.0);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.0..self.range.1
    }
}

fn draw_response_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &Response,
    k: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (title, y_desc, percent) = PANELS[k];
    let scale = if percent { 100.0 } else { 1.0 };
    let (y0, y1) = y_range(&r.lines, k, percent);
    let keys: Vec<f64> = r.ticks.iter().map(|t| t.0).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(20)
        .margin_right(50)
        .caption(title, bold(PANEL_TITLE_FONT))
        .x_label_area_size(110)
        .y_label_area_size(PANEL_Y_LABEL_W)
        .build_cartesian_2d(
            KeyedAxis {
                range: r.x_range,
                keys,
            },
            y0..y1,
        )?;
    let y_decimals = decimals(y1 - y0);
    let x_fmt = |x: &f64| {
        r.ticks
            .iter()
            .find(|t| (t.0 - x).abs() < 1e-9)
            .map(|t| t.1.clone())
            .unwrap_or_default()
    };
    let y_fmt = |y: &f64| format!("{y:.y_decimals$}");
    chart
        .configure_mesh()
        .x_desc(&r.x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(AXIS_DESC_FONT))
        .label_style(font(TICK_FONT))
        .y_labels(8)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(2))
        .set_all_tick_mark_size(10)
        .draw()?;

    let at = |line: &Line| -> Vec<(f64, Summary)> {
        line.points
            .iter()
            .filter_map(|(x, s)| s[k].map(|s| (*x, s)))
            .collect()
    };
    // Bands first, so that no band hides a line.
    for line in &r.lines {
        let pts = at(line);
        if r.categorical || pts.len() == 1 {
            // No band between unordered values, nor around a lone point:
            // whiskers show each point's range.
            for &(x, s) in &pts {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, s.min * scale), (x, s.max * scale)],
                    line.color.stroke_width(3),
                )))?;
            }
        } else if pts.iter().any(|(_, s)| s.max > s.min) {
            let mut outline: Vec<(f64, f64)> =
                pts.iter().map(|(x, s)| (*x, s.max * scale)).collect();
            outline.extend(pts.iter().rev().map(|(x, s)| (*x, s.min * scale)));
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                line.color.mix(0.18).filled(),
            )))?;
        }
    }
    for line in &r.lines {
        let pts: Vec<(f64, f64)> = at(line)
            .into_iter()
            .map(|(x, s)| (x, s.mean * scale))
            .collect();
        if !r.categorical {
            chart.draw_series(LineSeries::new(
                pts.clone(),
                line.color.stroke_width(LINE_WIDTH),
            ))?;
        }
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 8, line.color.filled())))?;
    }
    if let Some((li, x)) = r.best {
        let line = &r.lines[li];
        if let Some((_, s)) = at(line).into_iter().find(|(px, _)| (px - x).abs() < 1e-12) {
            chart.draw_series(std::iter::once(Circle::new(
                (x, s.mean * scale),
                18,
                BLACK.stroke_width(3),
            )))?;
        }
    }
    Ok(())
}

/// Draws the response figure of `series` as `<stem>.png` and `<stem>.svg`:
/// final validation accuracy, best validation accuracy and final
/// validation loss against the swept value, mean over seeds with the
/// min-max band, one line per value of the other swept settings, the
/// overall best point ringed. Returns the best points and which files were
/// written.
pub(crate) fn response_figure(
    series: &SweepSeries<'_>,
    stem: &Path,
) -> Result<(Best, Written), FiguresError> {
    ensure_fonts()?;
    let r = build_response(series);
    let png = render_png(&with_ext(stem, "png"), RESPONSE_SIZE, |root| {
        draw_response(root, &r).map_err(|e| e.to_string())
    })?;
    let svg = render_svg(&with_ext(stem, "svg"), RESPONSE_SIZE, |root| {
        draw_response(root, &r).map_err(|e| e.to_string())
    })?;
    Ok((best_point(series), [png, svg]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::look;
    use crate::fixture::simple;

    const LRS: [f64; 7] = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

    /// Final validation accuracy of a point: SGD peaks at 0.03, Adam at
    /// 0.001; `seed` shifts it by ±0.5 %.
    fn acc(kind: &str, lr: f64, seed: u64) -> f64 {
        let peak: f64 = if kind == "sgd" { 0.03 } else { 0.001 };
        let d = (lr.log10() - peak.log10()).abs();
        let top = if kind == "sgd" { 0.885 } else { 0.895 };
        top - 0.06 * d * d + 0.005 * (seed as f64 - 1.0)
    }

    fn runs() -> Vec<StoredRun> {
        let mut out = Vec::new();
        for kind in ["sgd", "adam"] {
            for lr in LRS {
                for seed in 0..3 {
                    let a = acc(kind, lr, seed);
                    // Best epoch 2, then a slight drop to the final epoch 3.
                    out.push(simple(
                        &format!("{kind}-{lr}"),
                        seed,
                        &[a - 0.1, a + 0.004, a],
                    ));
                }
            }
        }
        out
    }

    fn series(runs: &[StoredRun]) -> SweepSeries<'_> {
        let inputs: Vec<SweepInput<'_>> = ["sgd", "adam"]
            .iter()
            .flat_map(|kind| LRS.iter().map(move |lr| (*kind, *lr)))
            .map(|(kind, lr)| SweepInput {
                experiment: format!("{kind}-{lr}"),
                values: vec![
                    ("optimizer.kind".into(), SweepX::Text(kind.into())),
                    ("optimizer.lr".into(), SweepX::Number(lr)),
                    ("batch_size".into(), SweepX::Number(100.0)),
                ],
                runs: runs
                    .iter()
                    .filter(|r| r.manifest.experiment == format!("{kind}-{lr}"))
                    .collect(),
            })
            .collect();
        SweepSeries::from_inputs("lr-x-optimizer", inputs)
    }

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
        assert_eq!(sig(10f64.powf(0.003f64.log10())), 0.003);
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
        let t = response_table(&s);
        assert_eq!(t.rows.len(), 14);
        assert_eq!(t.columns[1].0, "optimizer.lr");
        assert_eq!(t.columns[2].0, "optimizer.kind");
        // Sorted by line, then learning rate.
        assert_eq!(t.rows[0][0], "sgd-0.0001");
        assert_eq!(t.rows[0][1], "1e-4");
        assert_eq!(t.rows[7][0], "adam-0.0001");
        let adam_best = &t.rows[9];
        assert_eq!(adam_best[0], "adam-0.001");
        assert_eq!(adam_best[3], "**89.50 ± 0.50**");
        assert_eq!(adam_best[4], "89.00–90.00");
        assert_eq!(adam_best[6], "2.0");
        assert_eq!(adam_best[8], "3");
        assert_eq!(adam_best[9], "**overall**");
        assert_eq!(t.rows[5][9], "of sgd");
        assert_eq!(t.rows.iter().filter(|r| !r[9].is_empty()).count(), 2);
        assert!(t.notes[1].contains("`adam-0.001`") && t.notes[1].contains("89.50 %"));
        assert!(t.latex().contains("\\textbf{89.50 $\\pm$ 0.50}"));
    }

    #[test]
    fn response_figure_is_written_as_png_and_svg() {
        let runs = runs();
        let s = series(&runs);
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-lr-x-optimizer");
        let (best, _) = response_figure(&s, &stem).unwrap();
        assert_eq!(best.overall.unwrap().experiment, "adam-0.001");
        let png = with_ext(&stem, "png");
        look(&png, "sweep");
        let b = std::fs::read(&png).unwrap();
        assert_eq!(&b[1..4], b"PNG");
        let svg = std::fs::read_to_string(with_ext(&stem, "svg")).unwrap();
        let texts = crate::fixture::svg_texts(&svg);
        for needle in [
            "Final validation loss",
            "optimizer.lr (log scale)",
            "adam",
            "3e-4",
            "0.1",
        ] {
            assert!(texts.iter().any(|t| t == needle), "{needle}: {texts:?}");
        }
        let r = build_response(&s);
        assert_eq!(r.ticks.len(), 7);
        assert!(r.ticks.iter().all(|t| !t.1.is_empty()), "{:?}", r.ticks);
        let (line, x) = r.best.unwrap();
        assert_eq!(line, 1, "adam");
        assert!((x + 3.0).abs() < 1e-12, "log10(0.001): {x}");
    }

    #[test]
    fn a_text_valued_sweep_has_a_categorical_axis_and_one_line() {
        let runs: Vec<StoredRun> = ["sgd", "adam", "rmsprop"]
            .iter()
            .enumerate()
            .flat_map(|(k, name)| {
                (0..2).map(move |seed| {
                    simple(name, seed, &[0.80 + 0.01 * k as f64 + 0.002 * seed as f64])
                })
            })
            .collect();
        let inputs = ["sgd", "adam", "rmsprop"]
            .iter()
            .map(|name| SweepInput {
                experiment: name.to_string(),
                values: vec![("optimizer.kind".into(), SweepX::Text(name.to_string()))],
                runs: runs
                    .iter()
                    .filter(|r| r.manifest.experiment == *name)
                    .collect(),
            })
            .collect();
        let s = SweepSeries::from_inputs("optimizers", inputs);
        assert_eq!(s.x_key, "optimizer.kind");
        assert!(s.line_keys.is_empty() && s.points.iter().all(|p| p.line.is_none()));
        assert_eq!(
            axis(&s),
            Axis::Categorical(vec!["sgd".into(), "adam".into(), "rmsprop".into()])
        );
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("sweep-optimizers");
        let (best, _) = response_figure(&s, &stem).unwrap();
        look(&with_ext(&stem, "png"), "sweep-categorical");
        assert_eq!(best.overall.unwrap().experiment, "rmsprop");
        assert_eq!(best.per_line.len(), 1);
        let t = response_table(&s);
        assert_eq!(t.columns.len(), 9, "no line column");
        assert_eq!(t.rows[2][8], "**overall**");
        assert_eq!(t.rows[0][2], "80.10 ± 0.14");
        let r = build_response(&s);
        let labels: Vec<&str> = r.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["sgd", "adam", "rmsprop"]);
    }
}
