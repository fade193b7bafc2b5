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
use crate::setup::{Global, plan, reports_dir, results_dir};

/// Figures, tables, claims and REPORT.md from the stored runs of the current
/// plan; runs of older settings that are still stored are left out. Returns
/// the number of files written (unchanged files are not).
pub fn write(
    global: &Global,
    experiments: &[Experiment],
    args: &FiguresArgs,
    command: &str,
    loaded: Option<&fmnist_data::Dataset>,
) -> anyhow::Result<usize> {
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let data_set = DataSet::choose(global.dataset.as_deref(), args.data_dir.clone())?;
    let runs = plan(experiments, &args.plan, args.quick, &data_set);
    let stored: HashMap<String, StoredRun> = store
        .read_all()
        .with_context(|| format!("reading results from {}", store.root().display()))?
        .into_iter()
        .map(|r| (r.manifest.run_id.clone(), r))
        .collect();
    let current: Vec<StoredRun> = runs
        .iter()
        .filter_map(|spec| {
            let mut run = stored.get(&spec.run_id)?.clone();
            run.manifest.experiment = spec.experiment.clone();
            Some(run)
        })
        .collect();
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
    Ok(summary.written.len())
}
