//! `fmnist list`: the experiments, one block each (its place in the paper,
//! the settings that differ from its parent, its runs with their full ids
//! and whether they are stored), then what training the rest would cost.
//! `--ids` prints only the runs, one tab-separated line each, for scripts.
//! The wording is `fmnist_experiments::listing`'s; this reads the store.

use std::process::ExitCode;

use fmnist_experiments::{Experiment, RunSpec, listing};
use fmnist_metrics::{RunStatus, Store};

use crate::cli::ListArgs;
use crate::setup::{DataSet, Global, known_trials, load_experiments, plan, results_dir};

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
    for line in listing::pruning_costs(&experiments, &runs) {
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

/// Writes the listing; a reader that stops early (`| head`) is no error.
fn print(text: &str) -> anyhow::Result<ExitCode> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Writes one experiment's block, each run marked with what the store holds of it.
fn block(out: &mut String, exp: &Experiment, runs: &[&RunSpec], store: &Store, all: bool) {
    let marked: Vec<(&RunSpec, String)> = (runs.iter())
        .map(|&r| {
            let mark = match store.finished(&r.run_id).map(|m| m.status) {
                Some(RunStatus::Complete) => "stored".to_string(),
                Some(status) => format!("stored, {status}"),
                None => match fmnist_runner::checkpoint_epochs(store, &r.run_id) {
                    0 => "missing".to_string(),
                    e => format!("missing (checkpoint after epoch {e})"),
                },
            };
            (r, mark)
        })
        .collect();
    out.push_str(&listing::block(exp, &marked, all));
}
