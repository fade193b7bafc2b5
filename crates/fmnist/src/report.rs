//! The report of the current plan: the stored runs each experiment plans
//! (a run shared by several experiments, since runs are content-addressed,
//! appears under each), handed to `fmnist-figures`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use fmnist_experiments::Experiment;
use fmnist_metrics::{Store, StoredRun};

use crate::cli::FiguresArgs;
use crate::setup::DataSet;
use crate::setup::{Global, plan, relative, reports_dir, results_dir};

/// Figures, tables, claims and REPORT.md from the stored runs of the current
/// plan; runs of older settings that are still stored are left out. Returns
/// the number of files written (unchanged files are not).
pub fn write(
    global: &Global,
    experiments: &[Experiment],
    args: &FiguresArgs,
    loaded: Option<&fmnist_data::Dataset>,
) -> anyhow::Result<usize> {
    let command = regenerate_command(global.dataset.as_deref(), args);
    let command = command.as_str();
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let data_set = DataSet::choose(global.dataset.as_deref(), args.data_dir.clone())?;
    // A TPE sweep's trials: every round proposed so far.
    let (experiments, _) =
        crate::setup::known_trials(experiments, &store, &args.plan, args.quick, &data_set)?;
    let experiments = experiments.as_slice();
    let runs = plan(experiments, &args.plan, args.quick, &data_set);
    let stored = read_store(&store)?;
    let current = planned_runs(&runs, &stored);
    let missing = runs.len() - current.len();
    if current.is_empty() {
        bail!(
            "no stored results for the current experiments in {}: run `cargo xtask reproduce{}` first",
            store.root().display(),
            if args.quick { " --quick" } else { "" }
        );
    }
    if missing > 0 {
        eprintln!("note: {missing} planned runs have no stored result; the report covers the rest");
    }
    write_run_index(&store, experiments, &current)?;
    let owned = match loaded {
        Some(_) => None,
        None => data_set.load().ok(),
    };
    let dataset = loaded.or(owned.as_ref());
    if dataset.is_none() {
        eprintln!(
            "note: the data is not present, so the figures of images are skipped (run `cargo xtask fetch-data`)"
        );
    }
    let provenance = crate::provenance::collect(Path::new("."));
    let input = fmnist_figures::ReportInput {
        experiments,
        runs: &current,
        dataset,
        claims_file: Path::new("experiments/claims/paper.toml"),
        provenance: &provenance,
        command,
        quick: args.quick,
        class_names: &data_set.manifest.classes,
        dataset_name: &data_set.manifest.name,
    };
    let out = reports_dir(args.reports.clone(), args.quick);
    let summary = fmnist_figures::write_report(&input, &out)
        .with_context(|| format!("writing the report into {}", out.display()))?;
    for (id, verdict) in &summary.verdicts {
        eprintln!("  {id}: {verdict}");
    }
    let verdicts: Vec<(String, String)> = summary
        .verdicts
        .iter()
        .map(|(id, v)| (id.clone(), v.to_string()))
        .collect();
    let mut table = fmnist_summary::Summary::from_runs(&current, &verdicts, args.quick);
    table.retain_for(experiments);
    let written = table.write_dir(&out.join(fmnist_summary::DIR))?;
    Ok(summary.written.len() + written.len())
}

/// `results/runs.parquet`: one row per experiment and stored run of the
/// plan, each under its experiment file's name (a sweep's for its points)
/// and its full name.
fn write_run_index(
    store: &Store,
    experiments: &[Experiment],
    current: &[StoredRun],
) -> anyhow::Result<()> {
    let file_of = |name: &str| -> String {
        (experiments.iter())
            .find(|e| e.name == name)
            .and_then(|e| e.sweep.as_ref().map(|s| s.sweep.clone()))
            .unwrap_or_else(|| name.to_string())
    };
    let files: Vec<String> = current
        .iter()
        .map(|r| file_of(&r.manifest.experiment))
        .collect();
    let rows: Vec<fmnist_metrics::IndexRow<'_>> = (current.iter().zip(&files))
        .map(|(run, file)| fmnist_metrics::IndexRow {
            experiment: file,
            point: &run.manifest.experiment,
            run,
        })
        .collect();
    store
        .write_run_index(&rows)
        .with_context(|| format!("writing the run index into {}", store.root().display()))?;
    Ok(())
}

/// The command that regenerates this report from the stored results, as
/// REPORT.md records it: `cargo xtask figures`, with every option that
/// chose the data set, the runs and the directories. `reproduce` and
/// `figures` with the same options record the same command, so that
/// `figures` right after `reproduce` leaves REPORT.md as it is.
pub fn regenerate_command(dataset: Option<&Path>, args: &FiguresArgs) -> String {
    let mut words = vec!["cargo xtask figures".to_string()];
    let mut opt = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            words.push(format!("--{name} {}", quote(&v)));
        }
    };
    opt("dataset", dataset.map(relative));
    opt("results", args.results.as_deref().map(relative));
    opt("reports", args.reports.as_deref().map(relative));
    opt("data-dir", args.data_dir.as_deref().map(relative));
    let list = |seeds: &Vec<u64>| {
        seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    opt("seeds", args.plan.seeds.as_ref().map(list));
    opt("epochs", args.plan.epochs.map(|e| e.to_string()));
    if args.quick {
        words.push("--quick".into());
    }
    match words.len() {
        1 => words.remove(0),
        _ => format!("{} -- {}", words[0], words[1..].join(" ")),
    }
}

/// A shell word: as it is when it needs no quoting, else in single quotes.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./,=:+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Every run stored in `store`, by run id.
pub fn read_store(store: &Store) -> anyhow::Result<HashMap<String, StoredRun>> {
    Ok(store
        .read_all()
        .with_context(|| format!("reading results from {}", store.root().display()))?
        .into_iter()
        .map(|r| (r.manifest.run_id.clone(), r))
        .collect())
}

/// The stored runs of the plan `specs`, each under the name of the
/// experiment that plans it (a run shared by two experiments is stored
/// under the one that trained it).
pub fn planned_runs(
    specs: &[fmnist_experiments::RunSpec],
    stored: &HashMap<String, StoredRun>,
) -> Vec<StoredRun> {
    specs
        .iter()
        .filter_map(|spec| {
            let mut run = stored.get(&spec.run_id)?.clone();
            run.manifest.experiment = spec.experiment.clone();
            Some(run)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::PlanArgs;

    fn args() -> FiguresArgs {
        FiguresArgs {
            results: None,
            reports: None,
            quick: false,
            plan: PlanArgs::default(),
            data_dir: None,
        }
    }

    #[test]
    fn the_recorded_command_names_every_option_that_chose_the_report() {
        assert_eq!(regenerate_command(None, &args()), "cargo xtask figures");
        let cwd = std::env::current_dir().unwrap();
        let mut a = args();
        a.quick = true;
        a.results = Some(cwd.join("results-mnist"));
        a.plan.seeds = Some(vec![0, 1]);
        a.plan.epochs = Some(3);
        let dataset = cwd.join("data/mnist.toml");
        assert_eq!(
            regenerate_command(Some(&dataset), &a),
            "cargo xtask figures -- --dataset data/mnist.toml --results results-mnist \
             --seeds 0,1 --epochs 3 --quick"
        );
        a.reports = Some("/tmp/my report".into());
        assert!(regenerate_command(None, &a).contains("--reports '/tmp/my report'"));
    }
}
