//! `reproduce --decide`: how many new seeds the experiments of undecided
//! claims run, chosen once by the two-stage design (`fmnist_claims`'s
//! `seeds` module: the experiment files' seeds are the pilot; a check the
//! pilot leaves undecided gets the new seeds its power analysis asks for,
//! on both its sides, and is later tested on those new seeds alone) and
//! recorded, with the design, in `experiments/claims/seeds.toml`.
//!
//! The file is data: a plain `reproduce` or `figures` applies it, so a fresh
//! clone trains and reports the same runs; a later `--decide` keeps it, so a
//! second call trains nothing and the number of seeds never depends on the
//! new seeds' results.

use std::path::Path;

use anyhow::bail;
use fmnist_claims::TwoStage;
use fmnist_experiments::Experiment;
use fmnist_metrics::{Store, StoredRun};

use crate::cli::TrainArgs;
use crate::setup::{DataSet, Global, plan, results_dir};

/// The committed record of the decision.
pub use crate::setup::SEEDS_FILE;
const CLAIMS_FILE: &str = "experiments/claims/paper.toml";

/// Decides, once, the new seeds of the experiments of undecided claims from
/// their stored pilot runs (at most `max_new_seeds` each), writes the
/// design and the decision and applies it; with a decision already
/// recorded, keeps it.
pub fn decide(
    global: &Global,
    experiments: &mut [Experiment],
    args: &TrainArgs,
    max_new_seeds: usize,
) -> anyhow::Result<()> {
    if args.quick {
        bail!(
            "--decide chooses the seeds of the full reproduction; it does not combine with --quick"
        );
    }
    if args.plan.seeds.is_some() {
        bail!("--decide chooses the seeds itself; it does not combine with --seeds");
    }
    let path = Path::new(SEEDS_FILE);
    if let Some((cap, decisions)) = fmnist_experiments::read_seeds_file(path)? {
        if fmnist_experiments::read_seeds_design(path)?.is_none() {
            bail!(
                "{SEEDS_FILE} records seeds chosen by the earlier design, which reused the pilot \
                 seeds in the final test (it has no [design] table); delete it and run \
                 `reproduce --decide` again to choose the seeds under the two-stage design"
            );
        }
        eprintln!(
            "decide: {SEEDS_FILE} already records the decision (at most {cap} seeds, {} \
             experiments given more); it is kept, so that the claims are tested once at those \
             seeds (delete the file to decide again)",
            decisions.len()
        );
        return Ok(());
    }
    let runs = stored_runs(global, experiments, args)?;
    let design = TwoStage {
        max_seeds: max_new_seeds,
        ..TwoStage::STANDARD
    };
    let (record, decisions) =
        fmnist_claims::choose_seeds(experiments, &runs, Path::new(CLAIMS_FILE), &design)?;
    let cap = record.pilot_seeds.len() + max_new_seeds;
    fmnist_experiments::write_seeds_file_with_design(path, cap, Some(&record), &decisions)?;
    eprintln!("decide: {}", design.describe());
    for d in &decisions {
        eprintln!(
            "decide: {} runs {} seeds: {}",
            d.experiment, d.seeds, d.reason
        );
    }
    if decisions.is_empty() {
        eprintln!("decide: no undecided check asks for more seeds; recorded in {SEEDS_FILE}");
    }
    fmnist_experiments::apply_seeds(experiments, &decisions);
    Ok(())
}

/// The stored runs of the current plan, under their experiments' names.
fn stored_runs(
    global: &Global,
    experiments: &[Experiment],
    args: &TrainArgs,
) -> anyhow::Result<Vec<StoredRun>> {
    let store = Store::new(results_dir(args.results.clone(), args.quick));
    let data_set = DataSet::choose(global.dataset.as_deref(), args.data.data_dir.clone())?;
    let specs = plan(experiments, &args.plan, args.quick, &data_set);
    let stored = crate::report::read_store(&store)?;
    let runs = crate::report::planned_runs(&specs, &stored);
    if runs.is_empty() {
        bail!(
            "--decide needs the stored runs of the current seeds to choose from: run `cargo \
             xtask reproduce` first"
        );
    }
    Ok(runs)
}
