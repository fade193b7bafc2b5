//! What a sweep's figure shows beyond its points, decided here so that
//! `fmnist-figures` only draws: whether the sweep is a grid (response
//! curves) or sampled (random, Sobol, TPE: one panel per swept setting,
//! points coloured by their accuracy), which points successive halving
//! stopped and where, which lines are identical to another (and why), the
//! legend's labels and the caption.

use fmnist_metrics::{Split, StoredRun};

use crate::aggregate::{self as stats, Quantity, SeedStats};
use crate::sweeps::{self, Axis, SeriesPoint, SweepSeries, SweepX, best_point, pruned_at};
use crate::text;

/// Whether `series` is a sampled sweep: it varies settings besides its x,
/// and its points are not a grid (some line lacks an x value another line
/// has), as random, Sobol and TPE draws are. Such a sweep is drawn as one
/// panel per swept setting, not as curves through points that happen to
/// share a value.
pub fn sampled(series: &SweepSeries<'_>) -> bool {
    if series.line_keys.is_empty() || series.points.len() < 3 {
        return false;
    }
    let axis = sweeps::axis(series);
    let xs_of = |line: &Option<String>| {
        let mut xs: Vec<f64> = (series.points.iter())
            .filter(|p| p.line == *line)
            .map(|p| sweeps::position(&axis, &p.x))
            .collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        xs
    };
    let lines = series.lines();
    let first = xs_of(&lines[0]);
    lines.iter().any(|l| xs_of(l) != first)
}

/// One panel of a sampled sweep's figure: a swept setting on x.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingPanel {
    /// The dotted setting, e.g. `optimizer.lr`.
    pub key: String,
    pub axis: Axis,
}

/// One point of a sampled sweep's figure.
#[derive(Debug, Clone)]
pub struct ScatterPoint {
    pub experiment: String,
    /// Its position on each panel's x axis ([`sweeps::position`]), in the
    /// panels' order.
    pub xs: Vec<f64>,
    /// Final validation accuracy over seeds: at the last epoch trained, the
    /// epoch successive halving stopped it at when `pruned`.
    pub final_acc: SeedStats,
    pub pruned: Option<usize>,
    /// The best point among those trained to the end.
    pub best: bool,
}

/// A sampled sweep's figure: one panel per swept setting, y the final
/// validation accuracy of each point.
#[derive(Debug, Clone)]
pub struct SampledFigure {
    pub title: String,
    pub subtitle: String,
    pub panels: Vec<SettingPanel>,
    pub points: Vec<ScatterPoint>,
    /// The epochs successive halving stopped points at, ascending: one
    /// marker and legend entry each.
    pub pruned_epochs: Vec<usize>,
    /// The last epoch of the points trained to the end, for the legend.
    pub full_epochs: Option<usize>,
}

/// The swept settings of `series` in the order of its first point.
fn setting_keys(series: &SweepSeries<'_>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for p in &series.points {
        for (k, _) in &p.values {
            if !keys.contains(k) && (*k == series.x_key || series.line_keys.contains(k)) {
                keys.push(k.clone());
            }
        }
    }
    if keys.is_empty() {
        keys.push(series.x_key.clone());
    }
    keys
}

/// `series` seen with `key` on x: the same points, their x that setting.
fn on_key<'a>(series: &SweepSeries<'a>, key: &str) -> SweepSeries<'a> {
    let points: Vec<SeriesPoint<'a>> = (series.points.iter())
        .map(|p| {
            let x = p
                .values
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone());
            SeriesPoint {
                x: x.unwrap_or_else(|| p.x.clone()),
                line: None,
                ..p.clone()
            }
        })
        .collect();
    SweepSeries {
        sweep: series.sweep.clone(),
        x_key: key.to_string(),
        line_keys: Vec::new(),
        points,
    }
}

/// The x axis of one setting's panel: [`sweeps::axis`], except that a
/// setting drawn from a range that is not a learning rate is logarithmic
/// only over three decades or more (a dropout drawn from 0.01 to 0.5 reads
/// on a linear axis), and categories sort by the numbers in them (`64x32`
/// before `128x64`).
fn scatter_axis(view: &SweepSeries<'_>) -> Axis {
    match sweeps::axis(view) {
        Axis::Log10 => {
            let xs = view.points.iter().filter_map(|p| match p.x {
                SweepX::Number(v) => Some(v),
                SweepX::Text(_) => None,
            });
            let lo = xs.clone().fold(f64::INFINITY, f64::min);
            let hi = xs.fold(f64::NEG_INFINITY, f64::max);
            if sweeps::is_learning_rate(&view.x_key) || hi / lo >= 1000.0 {
                Axis::Log10
            } else {
                Axis::Linear
            }
        }
        Axis::Categorical(mut labels) => {
            labels.sort_by_key(|l| natural_key(l));
            Axis::Categorical(labels)
        }
        Axis::Linear => Axis::Linear,
    }
}

/// `l` as its runs of digits (as numbers) and of other characters, so that
/// `64x32` sorts before `128x64`.
fn natural_key(l: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut digits = String::new();
    for c in l.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            out.push((0, c.to_string()));
        }
    }
    if !digits.is_empty() {
        out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    out
}

/// The figure of a sampled sweep (see [`sampled`]).
pub fn sampled_figure(series: &SweepSeries<'_>) -> SampledFigure {
    let keys = setting_keys(series);
    let views: Vec<SweepSeries<'_>> = keys.iter().map(|k| on_key(series, k)).collect();
    let panels: Vec<SettingPanel> = (keys.iter().zip(&views))
        .map(|(k, v)| SettingPanel {
            key: k.clone(),
            axis: scatter_axis(v),
        })
        .collect();
    let best = best_point(series).overall.map(|b| b.index);
    let points: Vec<ScatterPoint> = (series.points.iter().enumerate())
        .filter_map(|(i, p)| {
            let final_acc = stats::point_stats(&p.runs).final_acc?;
            Some(ScatterPoint {
                experiment: p.experiment.clone(),
                xs: (panels.iter().zip(&views))
                    .map(|(panel, v)| sweeps::position(&panel.axis, &v.points[i].x))
                    .collect(),
                final_acc,
                pruned: pruned_at(&p.runs),
                best: best == Some(i),
            })
        })
        .collect();
    let mut pruned_epochs: Vec<usize> = points.iter().filter_map(|p| p.pruned).collect();
    pruned_epochs.sort_unstable();
    pruned_epochs.dedup();
    let full_epochs = (series.points.iter())
        .filter(|p| sweeps::finished(p))
        .flat_map(|p| p.runs.iter().map(|r| last_epoch(r)))
        .max();
    SampledFigure {
        title: format!(
            "Sweep {}: final validation accuracy by setting",
            series.sweep
        ),
        subtitle: subtitle(series, points.len()),
        panels,
        points,
        pruned_epochs,
        full_epochs,
    }
}

fn last_epoch(r: &StoredRun) -> usize {
    r.rows.iter().map(|x| x.epoch as usize).max().unwrap_or(0)
}

fn subtitle(series: &SweepSeries<'_>, n: usize) -> String {
    let seeds: Vec<&StoredRun> = series.points.iter().flat_map(|p| p.runs.clone()).collect();
    let mut seeds: Vec<u64> = seeds.iter().map(|r| r.manifest.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let best =
        best_point(series)
            .overall
            .map_or("no point was trained to the end".to_string(), |b| {
                format!(
                    "best point trained to the end: {:.2} % at {}",
                    100.0 * b.final_acc.mean,
                    sweeps::describe(series, &b)
                )
            });
    format!(
        "{n} points, mean over seeds {} with min–max whiskers; {best}",
        text::seed_list(seeds)
    )
}

/// "pruned at epoch 6 (its value there)": the legend entry of the points
/// successive halving stopped at `epoch`.
pub fn pruned_label(epoch: usize) -> String {
    format!("pruned at epoch {epoch} (value there)")
}

// ------------------------------------------------------- identical lines

/// Whether two runs recorded the same numbers at every epoch (wall time
/// aside).
fn same_numbers(a: &StoredRun, b: &StoredRun) -> bool {
    a.rows.len() == b.rows.len()
        && (a.rows.iter().zip(&b.rows))
            .all(|(x, y)| x.epoch == y.epoch && x.split == y.split && x.values == y.values)
}

/// Whether the points of lines `a` and `b` sit at the same x values and,
/// at each, hold runs of the same seeds with the same numbers.
fn same_line(series: &SweepSeries<'_>, a: &Option<String>, b: &Option<String>) -> bool {
    let of = |l: &Option<String>| -> Vec<&SeriesPoint<'_>> {
        series.points.iter().filter(|p| p.line == *l).collect()
    };
    let (pa, pb) = (of(a), of(b));
    !pa.is_empty()
        && pa.len() == pb.len()
        && pa.iter().all(|p| {
            pb.iter().any(|q| {
                q.x == p.x
                    && q.runs.len() == p.runs.len()
                    && p.runs.iter().all(|r| {
                        (q.runs.iter())
                            .any(|s| s.manifest.seed == r.manifest.seed && same_numbers(r, s))
                    })
            })
        })
}

/// For each line of `series` (in [`SweepSeries::lines`] order), the index
/// of the first earlier line whose runs it repeats number for number.
pub fn identical_lines(series: &SweepSeries<'_>) -> Vec<Option<usize>> {
    let lines = series.lines();
    (0..lines.len())
        .map(|i| (0..i).find(|&j| same_line(series, &lines[i], &lines[j])))
        .collect()
}

/// Whether the learning rate of every run of the points never changed
/// after the warmup (a schedule that never acted).
fn rate_never_changed(points: &[&SeriesPoint<'_>]) -> bool {
    let constant = |r: &StoredRun| {
        let warmup = r.manifest.config.schedule.warmup.as_ref();
        let skip = warmup.map_or(0, |w| w.warmup_epochs) as u32;
        let mut rates = (r.rows.iter())
            .filter(|x| x.split == Split::Train && x.epoch > skip)
            .filter_map(|x| x.values.get(Quantity::LearningRate));
        let first = rates.next();
        first.is_some() && rates.all(|x| Some(x) == first)
    };
    let runs: Vec<&StoredRun> = points.iter().flat_map(|p| p.runs.clone()).collect();
    !runs.is_empty() && runs.iter().all(|r| constant(r))
}

/// The legend labels of the lines: each line's label, and for a line
/// identical to an earlier one "plateau (identical to constant: the
/// schedule never changed the rate)". `None` for the single unnamed line.
pub fn line_labels(series: &SweepSeries<'_>) -> Vec<Option<String>> {
    let lines = series.lines();
    let same = identical_lines(series);
    (lines.iter().zip(&same))
        .map(|(line, twin)| {
            let label = line.clone()?;
            let Some(j) = twin else {
                return Some(label);
            };
            let other = lines[*j].clone().unwrap_or_default();
            let points: Vec<&SeriesPoint<'_>> =
                series.points.iter().filter(|p| p.line == *line).collect();
            let why = if rate_never_changed(&points) {
                ": the schedule never changed the rate"
            } else {
                ""
            };
            Some(format!("{label} (identical to {other}{why})"))
        })
        .collect()
}

/// The sentence of the sweep's notes on its identical lines and the
/// schedules that never changed the rate; `None` when there are none.
pub fn identical_note(series: &SweepSeries<'_>) -> Option<String> {
    let lines = series.lines();
    let mut said: Vec<String> = Vec::new();
    for (i, twin) in identical_lines(series).iter().enumerate() {
        let Some(j) = twin else { continue };
        let name = |l: &Option<String>| l.clone().unwrap_or_else(|| "—".into());
        said.push(format!(
            "{} gives the same numbers as {} at every point, epoch and seed, so its line \
             in the figure lies on {}'s",
            name(&lines[i]),
            name(&lines[*j]),
            name(&lines[*j])
        ));
    }
    for p in &series.points {
        let kinds: Vec<&str> = (p.runs.iter())
            .map(|r| r.manifest.config.schedule.kind.name())
            .collect();
        if kinds.is_empty() || kinds.contains(&"constant") || !rate_never_changed(&[p]) {
            continue;
        }
        said.push(format!(
            "`{}`: its {} schedule never changed the learning rate{} (seeds {})",
            p.experiment,
            kinds[0],
            if p.runs
                .iter()
                .any(|r| r.manifest.config.schedule.warmup.is_some())
            {
                " after the warmup"
            } else {
                ""
            },
            text::seeds_of(&p.runs)
        ));
    }
    (!said.is_empty()).then(|| format!("Identical: {}.", said.join("; ")))
}

/// The caption of a sweep's figure.
pub fn caption(series: &SweepSeries<'_>, seeds: &str) -> String {
    let name = &series.sweep;
    let pruned = series.points.iter().any(|p| pruned_at(&p.runs).is_some());
    let pruned_text = if pruned {
        " Points that successive halving stopped are drawn with their own marker (one per \
         epoch reached), at their value at that epoch: they are not final numbers and are \
         never the best point."
    } else {
        ""
    };
    let log = |key: &str, axis: &Axis| {
        if *axis == Axis::Log10 {
            format!("{key} (log scale)")
        } else {
            key.to_string()
        }
    };
    if sampled(series) {
        let fig = sampled_figure(series);
        let keys: Vec<String> = fig.panels.iter().map(|p| log(&p.key, &p.axis)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        return format!(
            "Sweep `{name}`, sampled: final validation accuracy of each point against each \
             swept setting, one panel each ({}); each point the mean over seeds {seeds}, \
             the whiskers their min–max, its colour its accuracy (colour bar), so that one \
             point can be followed across the panels.{pruned_text} Ringed: the best point \
             by mean final validation accuracy among those trained to the end.",
            text::and_list(&keys)
        );
    }
    let lines = if series.line_keys.is_empty() {
        String::new()
    } else {
        format!(" One line per value of {}.", series.line_keys.join(", "))
    };
    let twins: Vec<String> = (series.lines().iter().zip(line_labels(series)))
        .filter_map(|(l, label)| (label != *l).then_some(label).flatten())
        .collect();
    let twins = if twins.is_empty() {
        String::new()
    } else {
        format!(" Lines drawn over another: {}.", twins.join("; "))
    };
    format!(
        "Sweep `{name}`: final validation accuracy (left), best validation accuracy \
         (middle) and final validation loss (right) against {x}; each point the mean over \
         seeds {seeds}, the band their min–max.{lines}{twins}{pruned_text} Ringed: the best \
         point by mean final validation accuracy.",
        x = log(&series.x_key, &sweeps::axis(series)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::simple;
    use crate::fixture::sweep::{runs, series};
    use crate::sweeps::SweepInput;
    use fmnist_metrics::RunStatus;

    #[test]
    fn a_grid_is_not_sampled_and_a_draw_is() {
        let runs = runs();
        assert!(!sampled(&series(&runs)));
        let stored: Vec<StoredRun> = (0..6)
            .map(|i| simple(&format!("p{i}"), 0, &[0.5 + 0.05 * i as f64]))
            .collect();
        let inputs = (0..6)
            .map(|i| SweepInput {
                experiment: format!("p{i}"),
                values: vec![
                    (
                        "optimizer.lr".into(),
                        SweepX::Number(1e-3 * (1.0 + i as f64)),
                    ),
                    ("model.dropout".into(), SweepX::Number(0.05 * i as f64)),
                    (
                        "model.hidden".into(),
                        SweepX::Text(["64x32", "128x64"][i % 2].into()),
                    ),
                ],
                runs: vec![&stored[i]],
            })
            .collect();
        let s = SweepSeries::from_inputs("random", inputs);
        assert!(sampled(&s));
        let fig = sampled_figure(&s);
        let keys: Vec<&str> = fig.panels.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["optimizer.lr", "model.dropout", "model.hidden"]);
        assert_eq!(fig.panels[0].axis, Axis::Log10);
        assert_eq!(
            fig.panels[2].axis,
            Axis::Categorical(vec!["64x32".into(), "128x64".into()])
        );
        assert_eq!(fig.panels[1].axis, Axis::Linear, "0 to 0.25");
        let mut labels = vec!["256x128", "64x32", "128x64"];
        labels.sort_by_key(|l| natural_key(l));
        assert_eq!(labels, ["64x32", "128x64", "256x128"]);
        assert_eq!(fig.points.len(), 6);
        assert!((fig.points[1].xs[1] - 0.05).abs() < 1e-12);
        assert_eq!(fig.points[3].xs[2], 1.0);
        assert!(fig.points[5].best);
        assert!(
            caption(&s, "0").contains(
                "one panel each (optimizer.lr (log scale), model.dropout and model.hidden)"
            )
        );
    }

    #[test]
    fn pruned_points_are_marked_at_their_epoch_and_never_best() {
        let mut stored: Vec<StoredRun> = (0..4)
            .map(|i| simple(&format!("p{i}"), 0, &[0.5, 0.6 + 0.05 * i as f64]))
            .collect();
        stored[3].manifest.status = RunStatus::Pruned { epoch: 2 };
        stored[2].manifest.status = RunStatus::Pruned { epoch: 1 };
        stored[2].rows.retain(|r| r.epoch <= 1);
        let inputs = (0..4)
            .map(|i| SweepInput {
                experiment: format!("p{i}"),
                values: vec![
                    (
                        "optimizer.lr".into(),
                        SweepX::Number(1e-3 * (1.0 + i as f64)),
                    ),
                    ("model.dropout".into(), SweepX::Number(0.1 * i as f64)),
                ],
                runs: vec![&stored[i]],
            })
            .collect();
        let s = SweepSeries::from_inputs("random", inputs);
        let fig = sampled_figure(&s);
        assert_eq!(fig.pruned_epochs, [1, 2]);
        assert_eq!(fig.points[2].pruned, Some(1));
        assert!(
            (fig.points[2].final_acc.mean - 0.5).abs() < 1e-12,
            "epoch 1's value"
        );
        assert!(
            fig.points[1].best,
            "the best of the points trained to the end"
        );
        assert!(!fig.points[3].best);
        assert_eq!(fig.full_epochs, Some(2));
        assert!(caption(&s, "0").contains("their own marker"));
    }

    #[test]
    fn identical_lines_are_named_with_why() {
        // Two kinds, two warmups; "plateau" repeats "constant" number for
        // number with a rate that never changed, "step" differs.
        let kinds = ["constant", "plateau", "step"];
        let mut stored = Vec::new();
        for kind in kinds {
            for w in [0, 2] {
                let shift = if kind == "step" { 0.01 } else { 0.0 };
                let mut r = simple(
                    &format!("{kind}-{w}"),
                    0,
                    &[0.5 + shift, 0.6 + 0.01 * w as f64],
                );
                for row in &mut r.rows {
                    let lr = if kind == "step" && row.epoch > 1 {
                        0.01
                    } else {
                        0.1
                    };
                    row.values.set(Quantity::LearningRate, lr);
                }
                stored.push(r);
            }
        }
        let inputs = (0..6)
            .map(|i| SweepInput {
                experiment: stored[i].manifest.experiment.clone(),
                values: vec![
                    ("schedule.kind".into(), SweepX::Text(kinds[i / 2].into())),
                    (
                        "schedule.warmup_epochs".into(),
                        SweepX::Number([0.0, 2.0][i % 2]),
                    ),
                ],
                runs: vec![&stored[i]],
            })
            .collect();
        let s = SweepSeries::from_inputs("schedules", inputs);
        assert_eq!(s.x_key, "schedule.warmup_epochs");
        assert_eq!(identical_lines(&s), [None, Some(0), None]);
        let labels = line_labels(&s);
        assert_eq!(
            labels[1].as_deref(),
            Some("plateau (identical to constant: the schedule never changed the rate)")
        );
        assert_eq!(labels[2].as_deref(), Some("step"));
        let note = identical_note(&s).unwrap();
        assert!(
            note.starts_with("Identical: plateau gives the same numbers as constant"),
            "{note}"
        );
        assert!(caption(&s, "0").contains("Lines drawn over another: plateau (identical"));
        let t = sweeps::response_table(&s, None);
        assert!(t.notes.iter().any(|n| n == &note));
    }
}
