//! `fmnist list`: the experiments, one block each (its place in the paper,
//! the settings that differ from its parent, its runs with their full ids
//! and whether they are stored), then what training the rest would cost.
//! `--ids` prints only the runs, one tab-separated line each, for scripts.

use std::process::ExitCode;

use fmnist_experiments::{Experiment, RunConfig, RunSpec};
use fmnist_metrics::{RunStatus, Store};

use crate::cli::ListArgs;
use crate::setup::{DataSet, Global, known_trials, load_experiments, plan, results_dir};

/// Lines of settings are wrapped at this width.
const WIDTH: usize = 100;

pub fn list(global: &Global, args: &ListArgs) -> anyhow::Result<ExitCode> {
    let data = DataSet::choose(global.dataset.as_deref(), None)?;
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    // A TPE sweep's trials: the rounds proposed so far (the later rounds
    // depend on the scores of these).
    let (experiments, searches) =
        known_trials(&load_experiments()?, &store, &args.plan, args.quick, &data)?;
    let runs = plan(&experiments, &args.plan, args.quick, &data);
    let mut out = String::new();
    if args.ids {
        for r in &runs {
            let state = match store.finished(&r.run_id).map(|m| m.status) {
                Some(RunStatus::Pruned { .. }) => "pruned",
                Some(_) => "stored",
                None => "missing",
            };
            out.push_str(&format!(
                "{}\t{}\t{}\t{state}\n",
                r.experiment, r.seed, r.run_id
            ));
        }
        return print(&out);
    }
    for exp in &experiments {
        let mine: Vec<&RunSpec> = runs.iter().filter(|r| r.experiment == exp.name).collect();
        block(&mut out, exp, &mine, &store, args.all);
    }
    let unique = fmnist_runner::unique_runs(&runs);
    let missing: Vec<&RunSpec> = unique
        .iter()
        .copied()
        .filter(|r| store.finished(&r.run_id).is_none())
        .collect();
    let left = to_train(&experiments, &runs, &unique, &store);
    let left: Vec<&RunSpec> = left.iter().collect();
    out.push_str(&format!(
        "{} experiments, {} ({} distinct, {} of them stored in {})\n",
        experiments.len(),
        fmnist_runner::runs(runs.len()),
        unique.len(),
        unique.len() - missing.len(),
        store.root().display()
    ));
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    out.push_str(&format!(
        "to train: {}, {}\n",
        fmnist_runner::runs(left.len()),
        fmnist_runner::estimate::describe(
            &left,
            &[store.clone(), Store::new(results_dir(None, !args.quick))],
            jobs
        )
    ));
    for line in pruning_costs(&experiments, &runs) {
        out.push_str(&line);
    }
    for line in searches {
        out.push_str(&line);
        out.push('\n');
    }
    print(&out)
}

/// The runs still to train, each with the epochs it has left: a run only
/// pruned sweeps plan counts its sweep's epochs per point (the pruned cost
/// shared out evenly, an estimate); a run stored pruned that another
/// experiment needs in full counts the epochs after its rung.
fn to_train(
    experiments: &[Experiment],
    runs: &[RunSpec],
    unique: &[&RunSpec],
    store: &Store,
) -> Vec<RunSpec> {
    let prune_of = |name: &str| {
        let point = experiments
            .iter()
            .find(|e| e.name == name)?
            .sweep
            .as_ref()?;
        point.prune.as_ref().map(|p| (p, &point.sweep))
    };
    let mut out = Vec::new();
    for &r in unique {
        let planners: Vec<&RunSpec> = runs.iter().filter(|p| p.run_id == r.run_id).collect();
        let pruned_only = planners.iter().all(|p| prune_of(&p.experiment).is_some());
        let epochs = match store.finished(&r.run_id).map(|m| m.status) {
            Some(RunStatus::Pruned { epoch }) if !pruned_only => {
                r.config.epochs - epoch.min(r.config.epochs)
            }
            Some(_) => continue,
            None if pruned_only => {
                let (prune, sweep) = prune_of(&r.experiment).expect("pruned_only");
                let points = (experiments.iter())
                    .filter(|e| e.sweep.as_ref().is_some_and(|p| &p.sweep == sweep))
                    .count();
                prune
                    .cost(points, r.config.epochs)
                    .0
                    .div_ceil(points.max(1))
            }
            None => r.config.epochs,
        };
        let mut left = r.clone();
        left.config.epochs = epochs;
        out.push(left);
    }
    out
}

/// One line per pruned sweep: its rungs and what its runs cost in epochs,
/// pruned (at most: a point that early stopping ends costs less) and not.
fn pruning_costs(experiments: &[Experiment], runs: &[RunSpec]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for exp in experiments {
        let Some(point) = &exp.sweep else { continue };
        let Some(prune) = &point.prune else { continue };
        if seen.contains(&point.sweep.as_str()) {
            continue;
        }
        seen.push(&point.sweep);
        let points: Vec<&Experiment> = (experiments.iter())
            .filter(|e| e.sweep.as_ref().is_some_and(|p| p.sweep == point.sweep))
            .collect();
        let planned: Vec<&RunSpec> = (runs.iter())
            .filter(|r| points.iter().any(|e| e.name == r.experiment))
            .collect();
        let (Some(first), false) = (planned.first(), points.is_empty()) else {
            continue;
        };
        let seeds = planned.len() / points.len();
        let epochs = first.config.epochs;
        let (pruned, full) = prune.cost(points.len(), epochs);
        let rungs: Vec<String> = prune.rungs(epochs).iter().map(|r| r.to_string()).collect();
        lines.push(format!(
            "pruned sweep {}: {} points x {seeds} seed(s), rungs at epochs {} (eta {}, best by {} over the seeds): {} epochs pruned, {} unpruned ({:.0}%)\n",
            point.sweep,
            points.len(),
            rungs.join(", "),
            prune.eta,
            prune.metric(),
            pruned * seeds,
            full * seeds,
            100.0 * pruned as f64 / full.max(1) as f64
        ));
    }
    lines
}

/// Writes the listing; a reader that stops early (`| head`) is no error.
fn print(text: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Writes one experiment's block.
fn block(out: &mut String, exp: &Experiment, runs: &[&RunSpec], store: &Store, all: bool) {
    out.push_str(&format!("{}\n", heading(exp)));
    for line in settings_lines(exp, all) {
        out.push_str(&format!("    {line}\n"));
    }
    if let Some(planned) = runs.first() {
        let changed = differing(&exp.config, &planned.config);
        if !changed.is_empty() {
            out.push_str(&format!(
                "    this plan trains it with {}\n",
                changed.join(", ")
            ));
        }
    }
    for r in runs {
        let mark = match store.finished(&r.run_id).map(|m| m.status) {
            Some(RunStatus::Complete) => "stored".to_string(),
            Some(status) => format!("stored, {status}"),
            None => match fmnist_runner::checkpoint_epochs(store, &r.run_id) {
                0 => "missing".to_string(),
                e => format!("missing (checkpoint after epoch {e})"),
            },
        };
        out.push_str(&format!(
            "    seed {:<3} run {}  {mark}\n",
            r.seed, r.run_id
        ));
    }
}

/// "baseline  (FIG. 2, Table I, section III; claims C1, C2)", "(hypothesis)" after.
fn heading(exp: &Experiment) -> String {
    let p = &exp.paper;
    let mut place: Vec<String> = Vec::new();
    place.extend(p.figure.iter().cloned());
    place.extend(p.table.iter().cloned());
    place.extend(p.section.iter().map(|s| format!("section {s}")));
    let mut notes = place.join(", ");
    if !p.claims.is_empty() {
        if !notes.is_empty() {
            notes.push_str("; ");
        }
        notes.push_str(&format!("claims {}", p.claims.join(", ")));
    }
    let mut line = exp.name.clone();
    if !notes.is_empty() {
        line.push_str(&format!("  ({notes})"));
    }
    if exp.report.hypothesis.is_some() {
        line.push_str("  (hypothesis)");
    }
    line
}

/// The settings to show: those that differ from the parent's (all of them
/// when there is no parent, or with `all`), wrapped.
fn settings_lines(exp: &Experiment, all: bool) -> Vec<String> {
    let parent = parent(exp);
    let (intro, items) = match (parent, all) {
        (Some(parent), false) => {
            let items = differing(parent, &exp.config);
            let intro = if exp.sweep.is_some() {
                "differs from its sweep's base settings in"
            } else {
                "differs from the file it extends in"
            };
            if items.is_empty() {
                return vec![format!("{intro} nothing")];
            }
            (intro, items)
        }
        _ => (
            "settings:",
            settings(&exp.config)
                .into_iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect(),
        ),
    };
    wrap(intro, &items, WIDTH)
}

/// `key = value` for each setting of `config` whose value differs from
/// `base`'s (or that `base` lacks), in `config`'s order.
fn differing(base: &RunConfig, config: &RunConfig) -> Vec<String> {
    let base = settings(base);
    settings(config)
        .into_iter()
        .filter(|(k, v)| !base.iter().any(|(bk, bv)| bk == k && bv == v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect()
}

/// `intro item, item, ...` in lines of at most `width` characters (a single
/// item longer than that stands on its own line).
fn wrap(intro: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = vec![intro.to_string()];
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        let last = lines.last_mut().expect("never empty");
        if last.len() + 1 + item.len() + sep.len() <= width || last.trim().is_empty() {
            last.push(' ');
            last.push_str(item);
            last.push_str(sep);
        } else {
            lines.push(format!("  {item}{sep}"));
        }
    }
    lines
}

/// Every resolved setting of `config`, as (dotted key, value).
fn settings(config: &RunConfig) -> Vec<(String, String)> {
    config.settings()
}

/// The resolved settings of the experiment's parent, if it has one.
fn parent(exp: &Experiment) -> Option<&RunConfig> {
    exp.parent.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_wrap_and_short_ones_do_not() {
        let items: Vec<String> = (0..3).map(|i| format!("key.{i} = {i}")).collect();
        assert_eq!(
            wrap("settings:", &items, 100),
            ["settings: key.0 = 0, key.1 = 1, key.2 = 2"]
        );
        assert_eq!(
            wrap("settings:", &items, 30),
            ["settings: key.0 = 0,", "  key.1 = 1, key.2 = 2"]
        );
    }
}
