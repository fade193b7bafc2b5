//! The round loop of `mode = "tpe"` sweeps, the one entry point the binary
//! trains a plan through ([`execute`]).
//!
//! A TPE sweep's plan holds only its round 0 (the loader expands nothing
//! more). For each TPE sweep of the plan, in plan order, round `r` is
//! proposed with [`TpeSweep::round`] from the stored scores of the trials
//! of rounds `< r` (the sweep's metric, on the validation split, averaged
//! over each trial's seeds, read as [`halving`](crate::halving) reads a
//! rung), planned with the caller's overrides, and trained on the executor
//! (through its bracket of successive halving under `[sweep.prune]`, unless
//! `--unprune`), before round `r + 1` is proposed. Every round, round 0
//! included, comes from [`TpeSweep::round`], so an `--epochs` override
//! sizes Hyperband's rounds as the trials' epochs.
//!
//! Nothing here reads a clock, the order in which runs finished or the
//! number of workers, so the trials are the same on one worker or two and
//! through Slurm (one executor call per round, or per rung). After a kill
//! the command run again proposes the rounds already trained again from
//! the same stored numbers (the same trials, which the store then reuses)
//! and goes on where the kill left it; a round that stopped short (a
//! failed or interrupted run) ends the search there, since the next round
//! needs its scores. Raising `rounds` keeps every earlier trial.
//!
//! Every other job of the plan goes on to [`halving::execute`] after the
//! searches.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use fmnist_experiments::{Experiment, TpeSweep};
use fmnist_metrics::Store;

use crate::error::RunnerError;
use crate::halving::{self, Executor, halve_round, metric_at};
use crate::job::Job;
use crate::pool::{Context, Tally};

/// Plans experiments as the command does (its overrides, seeds and data):
/// one job per run, in order.
pub type Planner<'p> = dyn Fn(&[Experiment]) -> Vec<Job> + 'p;

/// One TPE sweep of the plan: its file, loaded, and the epochs its trials
/// train (the file's, or the command line's override).
struct Search {
    path: PathBuf,
    sweep: TpeSweep,
    epochs: usize,
}

/// Runs `jobs`: every TPE sweep of `experiments` round by round (see the
/// module), then the rest through [`halving::execute`]. `plan` plans the
/// experiments of each proposed round.
pub fn execute(
    jobs: Vec<Job>,
    experiments: &[Experiment],
    ctx: &Context,
    unprune: bool,
    exec: &mut Executor<'_>,
    plan: &Planner<'_>,
) -> Result<Tally, RunnerError> {
    let searches = searches(experiments, plan)?;
    let (rest_experiments, rest_jobs): (Vec<Experiment>, Vec<Job>) = {
        let is_trial = |e: &Experiment| e.sweep.as_ref().is_some_and(|p| p.round.is_some());
        let trials: std::collections::HashSet<&str> = (experiments.iter())
            .filter(|e| is_trial(e))
            .map(|e| e.name.as_str())
            .collect();
        let rest = experiments.iter().filter(|e| !is_trial(e)).cloned();
        let jobs = jobs
            .into_iter()
            .filter(|j| !trials.contains(j.spec.experiment.as_str()));
        (rest.collect(), jobs.collect())
    };
    let mut total = Tally::default();
    for search in &searches {
        if !run_search(search, ctx, unprune, exec, plan, &mut total)? {
            break;
        }
    }
    if !ctx.stop.load(Ordering::SeqCst) {
        let rest = halving::execute(rest_jobs, &rest_experiments, ctx, unprune, exec)?;
        total.absorb(rest);
    }
    Ok(total)
}

/// The TPE sweeps of `experiments` (their round 0, marked `round: Some(0)`),
/// one per file, in plan order.
fn searches(experiments: &[Experiment], plan: &Planner<'_>) -> Result<Vec<Search>, RunnerError> {
    let mut out: Vec<Search> = Vec::new();
    for e in experiments {
        let is_trial = e.sweep.as_ref().is_some_and(|p| p.round.is_some());
        if !is_trial || out.iter().any(|s| s.path == e.path) {
            continue;
        }
        let sweep = load(&e.path)?;
        // The epochs of the trials as the command plans them.
        let epochs = (plan(std::slice::from_ref(e)).first())
            .map_or_else(|| sweep.epochs(), |j| j.spec.config.epochs);
        out.push(Search {
            path: e.path.clone(),
            sweep,
            epochs,
        });
    }
    Ok(out)
}

/// The TPE sweep of the file `path`.
fn load(path: &Path) -> Result<TpeSweep, RunnerError> {
    let doing = || format!("loading the TPE sweep {}", path.display());
    match TpeSweep::load(path) {
        Ok(Some(sweep)) => Ok(sweep),
        Ok(None) => Err(RunnerError::State(format!(
            "{}: its experiments are TPE trials, but it is no longer a `mode = \"tpe\"` sweep; run the command again",
            path.display()
        ))),
        Err(source) => Err(RunnerError::Search {
            doing: doing(),
            source: Box::new(source),
        }),
    }
}

/// Every round of `search`, each proposed once the rounds before it are
/// stored; `false` if a round stopped short (the search ends there).
fn run_search(
    search: &Search,
    ctx: &Context,
    unprune: bool,
    exec: &mut Executor<'_>,
    plan: &Planner<'_>,
    total: &mut Tally,
) -> Result<bool, RunnerError> {
    let sweep = &search.sweep;
    // Each trial's name and jobs, in trial-index order.
    let mut trials: Vec<(String, Vec<Job>)> = Vec::new();
    for r in 0..sweep.rounds() {
        let round = (sweep.round(r, search.epochs, |i, epoch| {
            score(&ctx.store, sweep, &trials[i].1, epoch)
        }))
        .map_err(|source| RunnerError::Search {
            doing: format!("proposing round {r} of {}", search.path.display()),
            source: Box::new(source),
        })?;
        let points: Vec<(String, Vec<Job>)> = (round.iter())
            .map(|e| (e.name.clone(), plan(std::slice::from_ref(e))))
            .collect();
        ctx.observer.println(format!(
            "tpe    {}: round {} of {}, {} trial(s)",
            sweep.name(),
            r + 1,
            sweep.rounds(),
            points.len()
        ));
        trials.extend(points.iter().cloned());
        let bracket = sweep.bracket(r, points.len(), search.epochs);
        let finished = match (sweep.prune(), bracket) {
            (Some(prune), Some(bracket)) if !unprune => {
                halve_round(sweep.name(), prune, points, bracket, ctx, exec, total)?
            }
            _ => {
                let jobs = points.into_iter().flat_map(|(_, jobs)| jobs).collect();
                let pass = exec(jobs)?;
                let finished = pass.interrupted == 0 && pass.failed.is_empty();
                total.absorb(pass);
                finished
            }
        };
        if !finished || ctx.stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A trial's score at `epoch`: the sweep's metric (never on the test
/// split: the loader refuses it), averaged over its runs; `None` when a run has none (it diverged,
/// or was never trained that far).
fn score(store: &Store, sweep: &TpeSweep, jobs: &[Job], epoch: usize) -> Option<f64> {
    let (split, quantity) = sweep.metric();
    let values: Option<Vec<f64>> = (jobs.iter())
        .map(|j| metric_at(store, j, split, quantity, epoch))
        .collect();
    let values = values?;
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// A plan's experiments with each TPE sweep's trials known from `store`
/// in place of its round 0: rounds `0..=k`, `k` the first round with a run
/// not stored (complete, pruned or diverged), as [`TpeSweep::known`] says
/// (proposed here round by round, since a round's scores need its trials'
/// runs). With them, one line per TPE sweep saying how many of its rounds
/// are known: what `list` shows and the report reads. `plan` plans
/// experiments as the command does.
pub fn expand(
    experiments: &[Experiment],
    store: &Store,
    plan: &Planner<'_>,
) -> Result<(Vec<Experiment>, Vec<String>), RunnerError> {
    let searches = searches(experiments, plan)?;
    let mut out: Vec<Experiment> = Vec::with_capacity(experiments.len());
    let mut notes = Vec::new();
    for e in experiments {
        let is_trial = e.sweep.as_ref().is_some_and(|p| p.round.is_some());
        let search = (searches.iter()).find(|s| is_trial && s.path == e.path);
        let Some(search) = search else {
            out.push(e.clone());
            continue;
        };
        if out.iter().any(|o| o.path == e.path && o.sweep.is_some()) {
            continue; // its trials are in already
        }
        let (known, rounds) = known(search, store, plan)?;
        let sweep = &search.sweep;
        notes.push(if rounds == sweep.rounds() {
            format!(
                "tpe sweep {}: all {} rounds proposed, {} trials",
                sweep.name(),
                rounds,
                known.len()
            )
        } else {
            format!(
                "tpe sweep {}: {} trials of rounds 1 to {rounds} of {} proposed so far; \
                 rounds {} to {} are proposed from the scores of the rounds before them, \
                 unknown until those are trained",
                sweep.name(),
                known.len(),
                sweep.rounds(),
                rounds + 1,
                sweep.rounds()
            )
        });
        out.extend(known);
    }
    Ok((out, notes))
}

/// The trials of `search` known from `store`, and how many rounds they make.
fn known(
    search: &Search,
    store: &Store,
    plan: &Planner<'_>,
) -> Result<(Vec<Experiment>, usize), RunnerError> {
    let sweep = &search.sweep;
    let mut experiments: Vec<Experiment> = Vec::new();
    let mut trials: Vec<Vec<Job>> = Vec::new();
    for r in 0..sweep.rounds() {
        let round = (sweep.round(r, search.epochs, |i, epoch| {
            score(store, sweep, &trials[i], epoch)
        }))
        .map_err(|source| RunnerError::Search {
            doing: format!("proposing round {r} of {}", search.path.display()),
            source: Box::new(source),
        })?;
        let planned: Vec<Vec<Job>> = round
            .iter()
            .map(|e| plan(std::slice::from_ref(e)))
            .collect();
        let stored = (planned.iter().flatten()).all(|j| store.finished(&j.spec.run_id).is_some());
        experiments.extend(round);
        trials.extend(planned);
        if !stored {
            return Ok((experiments, r + 1));
        }
    }
    Ok((experiments, sweep.rounds()))
}
