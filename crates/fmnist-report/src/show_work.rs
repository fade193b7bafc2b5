//! "Show your work" (Dodge et al. 2019) for a sampled sweep (random, Sobol
//! or TPE): the expected best validation accuracy of a search of n trials,
//! for n = 1 to the trials run, as a table.
//!
//! Each trial's value is its validation accuracy at its last epoch,
//! averaged over its seeds (through `StoredRun::value`, as every number of
//! the report). The estimate is Tang et al. 2020's unbiased one (the mean
//! of the best over every subset of n of the N trials,
//! `fmnist_stats::expected_max`), beside Dodge et al.'s (draws with
//! replacement, biased low). Two bands: the standard deviation of the best
//! of n trials (the spread of what one search of n trials would give, which
//! Dodge et al. shade, clipped as they clip it to the observed values) and a 90% percentile bootstrap interval of the
//! estimate (2000 resamples, seed 0: the report is the same every time).
//!
//! Only trials trained to the end enter: a pruned trial has no final value,
//! and a diverged one none worth the name, so both are left out and
//! counted in the table's notes. Under pruning the trials trained to the
//! end are those the search kept, so the curve is that of the kept trials,
//! not of n fresh ones; the notes say so. For TPE the trials are not
//! independent draws either (later rounds learn from earlier ones): the
//! curve then says what a random subset of this search's trials would have
//! found, which is how Dodge et al. report any search.

use fmnist_experiments::{Experiment, Quantity, Split};
use fmnist_metrics::{At, RunStatus, StoredRun};
use fmnist_stats::{Bootstrap, expected_max, expected_max_band};

use crate::tables::{Align, Table};

/// The sizes shown: every n up to 12, then a spread of larger ones and N.
fn shown(big_n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (1..=big_n.min(12)).collect();
    let mut n = 16;
    while n < big_n {
        out.push(n);
        n = n * 3 / 2;
    }
    if big_n > 12 {
        out.push(big_n);
    }
    out
}

/// A trial's value, or why it has none.
enum Value {
    Final(f64),
    Pruned,
    Diverged,
    Unfinished,
}

/// The mean over seeds of the validation accuracy at the last epoch, for a
/// trial whose every run completed.
fn value(runs: &[&StoredRun]) -> Value {
    let mut sum = 0.0;
    for r in runs {
        match r.manifest.status {
            RunStatus::Complete => {}
            RunStatus::Pruned { .. } => return Value::Pruned,
            RunStatus::Diverged { .. } => return Value::Diverged,
        }
        match r.value(Split::Val, Quantity::Accuracy, At::Last) {
            Ok(v) => sum += v,
            Err(_) => return Value::Diverged,
        }
    }
    if runs.is_empty() {
        return Value::Unfinished;
    }
    Value::Final(sum / runs.len() as f64)
}

/// The expected-best table of the sweep `name` from its trials (each an
/// experiment and its stored runs); `None` unless the sweep is sampled and
/// at least two trials have a final value.
pub fn expected_best_table(name: &str, trials: &[(&Experiment, Vec<&StoredRun>)]) -> Option<Table> {
    expected_best(name, trials).and_then(Result::ok)
}

/// The expected-best table of a sampled sweep, or why it has none (fewer
/// than two trials trained to the end: a curve over pruned trials would
/// compare unfinished runs as if finished); `None` for a sweep that is not
/// sampled.
pub fn expected_best(
    name: &str,
    trials: &[(&Experiment, Vec<&StoredRun>)],
) -> Option<Result<Table, String>> {
    let sampled = trials
        .iter()
        .any(|(e, _)| e.sweep.as_ref().is_some_and(|s| s.sampled));
    if !sampled {
        return None;
    }
    let (mut values, mut pruned, mut diverged, mut unfinished) = (Vec::new(), 0, 0, 0);
    for (_, runs) in trials {
        match value(runs) {
            Value::Final(v) => values.push(v),
            Value::Pruned => pruned += 1,
            Value::Diverged => diverged += 1,
            Value::Unfinished => unfinished += 1,
        }
    }
    if values.len() < 2 {
        return Some(Err(too_few(
            values.len(),
            trials.len(),
            [pruned, diverged, unfinished],
        )));
    }
    let pct = |x: f64| format!("{:.2}", 100.0 * x);
    // The band is clipped to the observed values, as Dodge et al. draw it:
    // the best of n trials is never outside them.
    let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let rows = shown(values.len())
        .into_iter()
        .map(|n| {
            let e = expected_max(&values, n).expect("1 <= n <= N, finite values");
            let band = expected_max_band(&values, n, Bootstrap::new(0, 2000), 0.9)
                .map_or("—".into(), |(lo, hi)| {
                    format!("[{}, {}]", pct(lo), pct(hi))
                });
            vec![
                n.to_string(),
                pct(e.unbiased),
                format!(
                    "[{}, {}]",
                    pct((e.unbiased - e.sd_without_replacement).max(lowest)),
                    pct((e.unbiased + e.sd_without_replacement).min(highest))
                ),
                band,
                pct(e.with_replacement),
            ]
        })
        .collect();
    Some(Ok(Table {
        caption: format!(
            "Show your work, sweep `{name}`: the expected best validation accuracy (%) of a \
             search of n trials, estimated from the {} trials trained to the end",
            values.len()
        ),
        label: format!("expected-best-{}", crate::text::slug(name)),
        columns: vec![
            ("trials n".into(), Align::Right),
            (
                "expected best (Tang et al. 2020, unbiased)".into(),
                Align::Right,
            ),
            (
                "± 1 sd of the best of n (within the observed)".into(),
                Align::Right,
            ),
            (
                "90% bootstrap interval of the estimate".into(),
                Align::Right,
            ),
            ("Dodge et al. 2019 (with replacement)".into(), Align::Right),
        ],
        rows,
        notes: notes(pruned, diverged, unfinished),
    }))
}

/// Why a sampled sweep has no expected-best table: `finished` of its
/// `trials` have a final value, the others were `[pruned, diverged,
/// unfinished]`.
fn too_few(finished: usize, trials: usize, [pruned, diverged, unfinished]: [usize; 3]) -> String {
    format!(
        "No \"show your work\" curve (the expected best of n trials): {finished} of its {trials} \
         trials were trained to the end ({pruned} pruned, {diverged} diverged, {unfinished} not \
         trained yet), and a curve needs two; a pruned trial's number is that of an earlier \
         epoch and is not compared as if finished (`cargo xtask reproduce -- --unprune` trains \
         them on)."
    )
}

/// How the trials without a final value entered: they did not.
fn notes(pruned: usize, diverged: usize, unfinished: usize) -> Vec<String> {
    let mut notes = vec![
        "Each trial's value is its validation accuracy at its last epoch, averaged over its \
         seeds; n trials are a random subset of those, so for a search that learns (TPE) the \
         curve is that of this search's trials taken in any order."
            .to_string(),
    ];
    if pruned > 0 {
        notes.push(format!(
            "{pruned} pruned trial(s) left out: they have no final value. The trials above are \
             those successive halving kept, so the curve is that of the kept trials, not of n \
             fresh ones."
        ));
    }
    if diverged > 0 {
        notes.push(format!(
            "{diverged} diverged trial(s) left out: no final value."
        ));
    }
    if unfinished > 0 {
        notes.push(format!("{unfinished} trial(s) not trained yet left out."));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_experiments::SweepPoint;
    use fmnist_metrics::fixture::{config, simple};

    #[test]
    fn the_sizes_shown_end_at_the_number_of_trials() {
        assert_eq!(shown(3), [1, 2, 3]);
        assert_eq!(shown(12).len(), 12);
        assert_eq!(
            shown(64),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 24, 36, 54, 64]
        );
    }

    fn trial(i: usize, sampled: bool) -> Experiment {
        Experiment {
            name: format!("s[p={i}]"),
            path: "s.toml".into(),
            description: String::new(),
            paper: Default::default(),
            report: Default::default(),
            config: config(2),
            seeds: vec![0, 1],
            sweep: Some(SweepPoint {
                sweep: "s".into(),
                index: i,
                values: Vec::new(),
                prune: None,
                round: None,
                sampled,
            }),
            parent: None,
        }
    }

    #[test]
    fn the_table_is_the_unbiased_estimate_over_the_finished_trials() {
        // Five trials of two seeds; the last is pruned.
        let finals = [
            [0.80, 0.82],
            [0.70, 0.74],
            [0.85, 0.83],
            [0.78, 0.76],
            [0.9, 0.9],
        ];
        let mut runs: Vec<Vec<StoredRun>> = (finals.iter().enumerate())
            .map(|(i, f)| {
                (0..2)
                    .map(|s| simple(&format!("s[p={i}]"), s as u64, &[0.5, f[s]]))
                    .collect()
            })
            .collect();
        for r in &mut runs[4] {
            r.manifest.status = RunStatus::Pruned { epoch: 2 };
        }
        let experiments: Vec<Experiment> = (0..5).map(|i| trial(i, true)).collect();
        let trials: Vec<(&Experiment, Vec<&StoredRun>)> = (experiments.iter())
            .zip(&runs)
            .map(|(e, rs)| (e, rs.iter().collect()))
            .collect();
        let table = expected_best_table("s", &trials).unwrap();
        assert_eq!(table.rows.len(), 4, "n = 1 to the 4 finished trials");
        // The seeds' means: 0.81, 0.72, 0.84, 0.77.
        let means = [0.81, 0.72, 0.84, 0.77];
        let cell = |n: usize| table.rows[n - 1][1].parse::<f64>().unwrap() / 100.0;
        assert!((cell(1) - means.iter().sum::<f64>() / 4.0).abs() < 5e-5);
        assert!((cell(4) - 0.84).abs() < 5e-5, "all four: their best");
        for row in &table.rows {
            let band: Vec<f64> = (row[2].trim_matches(|c| c == '[' || c == ']').split(", "))
                .map(|x| x.parse::<f64>().unwrap() / 100.0)
                .collect();
            assert!(band[0] >= 0.72 - 5e-5 && band[1] <= 0.84 + 5e-5, "{row:?}");
        }
        // n = 2 by brute force: the mean of the best of each of the 6 pairs.
        let mut pairs = Vec::new();
        for a in 0..4 {
            for b in a + 1..4 {
                pairs.push(f64::max(means[a], means[b]));
            }
        }
        let brute = pairs.iter().sum::<f64>() / 6.0;
        assert!((cell(2) - brute).abs() < 5e-5, "{} vs {brute}", cell(2));
        assert!(
            table
                .notes
                .iter()
                .any(|n| n.starts_with("1 pruned trial(s) left out")),
            "{:?}",
            table.notes
        );
        // A grid is not a search of trials.
        let grid: Vec<Experiment> = (0..5).map(|i| trial(i, false)).collect();
        let trials: Vec<(&Experiment, Vec<&StoredRun>)> = (grid.iter())
            .zip(&runs)
            .map(|(e, rs)| (e, rs.iter().collect()))
            .collect();
        assert!(expected_best_table("s", &trials).is_none());
        // A search pruned down to one finished trial says why it has no curve.
        for r in runs.iter_mut().take(4).skip(1).flatten() {
            r.manifest.status = RunStatus::Pruned { epoch: 1 };
        }
        let trials: Vec<(&Experiment, Vec<&StoredRun>)> = (experiments.iter())
            .zip(&runs)
            .map(|(e, rs)| (e, rs.iter().collect()))
            .collect();
        let why = expected_best("s", &trials).unwrap().unwrap_err();
        assert!(
            why.contains("1 of its 5 trials were trained to the end (4 pruned"),
            "{why}"
        );
    }
}
