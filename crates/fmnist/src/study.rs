//! `fmnist study search`: the opt-in comparison of search methods (random,
//! Sobol and TPE, each with and without successive halving) over the files
//! of `studies/search-comparison/`, one file per method and search seed,
//! named `<method>[-halving]-s<seed>.toml`. It trains them into their own
//! results directory (`results-study/`), reads every trial back from the
//! store and writes `reports/studies/search-comparison.md` and its figure;
//! the regret curves, the table and the sentence on the goal are
//! `fmnist_report::search_study`'s. `reproduce` never trains it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use fmnist_experiments::Experiment;
use fmnist_figures::search_study::{self, Method, Point};
use fmnist_metrics::Store;

use crate::cli::StudyArgs;
use crate::setup::{DataSet, Global, known_trials, plan};

/// The study's files, results and page, relative to the repository root.
const FILES: &str = "studies/search-comparison";
const RESULTS: &str = "results-study";
const REPORTS: &str = "reports/studies";
const NAME: &str = "search-comparison";

pub fn search(global: &Global, args: &StudyArgs) -> anyhow::Result<ExitCode> {
    if args.train.quick || args.train.plan.epochs.is_some() || args.train.plan.seeds.is_some() {
        bail!(
            "the study's files declare its proxy task (epochs, seeds, image limits); \
             --quick, --epochs and --seeds are not taken: edit {FILES}/base/proxy.toml instead"
        );
    }
    let dir = args.files.clone().unwrap_or_else(|| PathBuf::from(FILES));
    let experiments = fmnist_experiments::load_dir(&dir)
        .with_context(|| format!("loading the study's files in {}", dir.display()))?;
    let mut train = args.train.clone();
    let results = train.results.get_or_insert_with(|| PathBuf::from(RESULTS));
    let store = Store::new(results.clone());
    let (summary, _) = crate::commands::train_plan(global, &experiments, &train)?;
    if !summary.failed.is_empty() {
        bail!(
            "{} run(s) of the study failed; see above",
            summary.failed.len()
        );
    }
    let data_set = DataSet::choose(global.dataset.as_deref(), train.data.data_dir.clone())?;
    let (all, _) = known_trials(&experiments, &store, &train.plan, false, &data_set)?;
    let methods = methods(&all, &store, &train.plan, &data_set)?;
    let reference = (methods.iter())
        .flat_map(|m| m.finals())
        .map(|s| s.best)
        .fold(f64::NEG_INFINITY, f64::max);
    let reports = args
        .reports
        .clone()
        .unwrap_or_else(|| PathBuf::from(REPORTS));
    write_page(&methods, reference, &proxy(&experiments), &reports)?;
    Ok(ExitCode::SUCCESS)
}

/// Every search's trials read from the store, grouped by method (random
/// search unpruned first: the baseline of the goal), seeds in order.
fn methods(
    all: &[Experiment],
    store: &Store,
    plan_args: &crate::cli::PlanArgs,
    data: &DataSet,
) -> anyhow::Result<Vec<Method>> {
    let mut runs: Vec<(usize, fmnist_metrics::StoredRun)> = Vec::new();
    for spec in plan(all, plan_args, false, data) {
        let e = (all.iter().position(|e| e.name == spec.experiment)).expect("planned from these");
        let run = store
            .read_run(&spec.run_id)?
            .with_context(|| format!("{} ({}) is not stored", spec.experiment, spec.run_id))?;
        runs.push((e, run));
    }
    // Each search's points in index order, with their runs.
    let mut searches: BTreeMap<(String, u64), Vec<Point<'_>>> = BTreeMap::new();
    for (i, exp) in all.iter().enumerate() {
        let Some(point) = &exp.sweep else {
            bail!(
                "{}: the study holds searches only (a file with a [sweep])",
                exp.path.display()
            );
        };
        let mine = runs
            .iter()
            .filter(|(e, _)| *e == i)
            .map(|(_, r)| r)
            .collect();
        let points = searches.entry(method_and_seed(&point.sweep)?).or_default();
        points.push((exp, mine));
    }
    let mut methods: Vec<Method> = Vec::new();
    for ((label, seed), mut points) in searches {
        points.sort_by_key(|(e, _)| e.sweep.as_ref().map_or(0, |s| s.index));
        let curve = search_study::best_so_far(&search_study::trials(&points));
        match methods.iter_mut().find(|m| m.label == label) {
            Some(m) => {
                m.seeds.push(seed);
                m.curves.push(curve);
            }
            None => methods.push(Method {
                label,
                curves: vec![curve],
                seeds: vec![seed],
            }),
        }
    }
    methods.sort_by_key(|m| (m.label != "random", m.label.clone()));
    Ok(methods)
}

/// `tpe-halving-s3` → (`tpe + halving`, 3).
fn method_and_seed(sweep: &str) -> anyhow::Result<(String, u64)> {
    let parsed = sweep.rsplit_once("-s").and_then(|(method, seed)| {
        let seed = seed.parse::<u64>().ok()?;
        Some((method.replace("-halving", " + halving"), seed))
    });
    parsed.with_context(|| {
        format!("the study's search `{sweep}` is not named <method>[-halving]-s<seed>")
    })
}

/// The proxy task in words, from the first search's settings.
fn proxy(experiments: &[Experiment]) -> String {
    let Some(e) = experiments.first() else {
        return "no files".into();
    };
    let c = &e.config;
    let n = |v: Option<usize>| v.map_or("all".to_string(), |v| v.to_string());
    format!(
        "{} epochs, {} training images, validation on {} of the {} training images held out \
         ({} optimizer, batch {}), training seed(s) {:?}; 16 trials per search, one search per \
         method and search seed. Every decision and the regret read the validation split.",
        c.epochs,
        n(c.train_limit),
        n(c.val_limit),
        c.validation.as_ref().map_or(0, |v| v.images),
        c.optimizer.title(),
        c.batch_size,
        e.seeds
    )
}

fn write_page(
    methods: &[Method],
    reference: f64,
    proxy: &str,
    reports: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(reports).with_context(|| format!("creating {}", reports.display()))?;
    let title = "Regret against epochs spent (mean; band: min to max over search seeds)";
    let fig = search_study::figure(methods, reference, title);
    fmnist_figures::study::write_study_figure(&fig, &reports.join(NAME))?;
    let text = search_study::markdown(methods, reference, proxy, &format!("{NAME}.svg"));
    let page = reports.join(format!("{NAME}.md"));
    fmnist_metrics::atomic_write(&page, text.as_bytes())?;
    print!("{text}");
    eprintln!("study search: wrote {}", page.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_names_give_method_and_seed() {
        assert_eq!(
            method_and_seed("tpe-halving-s3").unwrap(),
            ("tpe + halving".into(), 3)
        );
        assert_eq!(method_and_seed("random-s0").unwrap(), ("random".into(), 0));
        assert!(method_and_seed("random").is_err());
    }
}
