//! Synchronous successive halving for the sweeps with `[sweep.prune]`.
//!
//! Rung by rung: every live point of the sweep trains to the rung's epoch
//! (all its seeds, on any executor, resuming from checkpoints), then the
//! points are ranked by the declared metric at that epoch, averaged over
//! their seeds, and the best `ceil(n / eta)` go on ([`Prune::survivors`]).
//! The others are stored as pruned at that epoch, checkpoint kept. Each
//! decision reads only stored metrics, never timing or the order in which
//! runs finished, so it is the same with one worker or two, through Slurm,
//! and when the command is run again after an interruption (the rungs
//! already passed are decided again from the same numbers, training nothing).
//!
//! `--unprune` plans a pruned sweep as an ordinary one: every run trains to
//! the end, the pruned ones on from their checkpoints, to the numbers they
//! would have had had they never been pruned.

use fmnist_experiments::{Bracket, Experiment, Prune};

use fmnist_experiments::{Quantity, Split};
use fmnist_metrics::{At, LockOutcome, RunStatus, Store};
use fmnist_train::{Checkpoint, Outcome};

use crate::error::RunnerError;
use crate::job::Job;
use crate::pool::{Context, Tally};
use crate::record::record;

/// The executor a rung's jobs run on: the local pool, or Slurm.
pub type Executor<'e> = dyn FnMut(Vec<Job>) -> Result<Tally, RunnerError> + 'e;

/// One pruned sweep of a plan: its rule and its points' jobs, in point order.
struct PrunedSweep {
    name: String,
    prune: Prune,
    points: Vec<(String, Vec<Job>)>,
}

/// Runs `jobs` with `exec` (the local pool or Slurm): the pruned sweeps
/// first, rung by rung, then everything else (which reuses what the sweeps
/// trained, and trains on the pruned runs that another experiment needs
/// in full).
pub fn execute(
    jobs: Vec<Job>,
    experiments: &[Experiment],
    ctx: &Context,
    unprune: bool,
    exec: &mut Executor<'_>,
) -> Result<Tally, RunnerError> {
    let (sweeps, rest) = if unprune {
        (Vec::new(), jobs)
    } else {
        split(jobs, experiments)
    };
    let mut total = Tally::default();
    for sweep in &sweeps {
        if !halve(sweep, ctx, exec, &mut total)? {
            break;
        }
    }
    if !ctx.stop.load(std::sync::atomic::Ordering::SeqCst) {
        total.absorb(exec(rest)?);
    }
    Ok(total)
}

/// The pruned sweeps of `jobs` (in plan order) and the other jobs.
fn split(jobs: Vec<Job>, experiments: &[Experiment]) -> (Vec<PrunedSweep>, Vec<Job>) {
    let mut sweeps: Vec<PrunedSweep> = Vec::new();
    let mut rest = Vec::new();
    for job in jobs {
        let point = experiments
            .iter()
            .find(|e| e.name == job.spec.experiment)
            .and_then(|e| e.sweep.as_ref());
        let Some((point, prune)) = point.and_then(|p| p.prune.as_ref().map(|r| (p, r))) else {
            rest.push(job);
            continue;
        };
        let at = match sweeps.iter().position(|s| s.name == point.sweep) {
            Some(at) => at,
            None => {
                sweeps.push(PrunedSweep {
                    name: point.sweep.clone(),
                    prune: prune.clone(),
                    points: Vec::new(),
                });
                sweeps.len() - 1
            }
        };
        let points = &mut sweeps[at].points;
        match points
            .iter_mut()
            .find(|(name, _)| *name == job.spec.experiment)
        {
            Some((_, jobs)) => jobs.push(job),
            None => points.push((job.spec.experiment.clone(), vec![job])),
        }
    }
    (sweeps, rest)
}

/// Successive halving of one sweep, through the one rung loop of
/// `fmnist-experiments` (`Prune::run`, which the report's replay runs too);
/// `false` if it stopped before the end (an interruption, or a failed run,
/// which leaves a rung unranked).
fn halve(
    sweep: &PrunedSweep,
    ctx: &Context,
    exec: &mut Executor<'_>,
    total: &mut Tally,
) -> Result<bool, RunnerError> {
    let epochs = (sweep.points.iter().flat_map(|(_, jobs)| jobs))
        .map(|j| j.spec.config.epochs)
        .max()
        .unwrap_or(0);
    let brackets = sweep.prune.brackets(sweep.points.len(), epochs);
    let mut driver = Driver {
        sweep,
        ctx,
        exec,
        total,
    };
    let done = sweep
        .prune
        .run(sweep.points.len(), &brackets, &mut driver)?;
    Ok(done.is_some() && !ctx.stop.load(std::sync::atomic::Ordering::SeqCst))
}

/// One round of a TPE sweep under `[sweep.prune]` (its `points`, each a
/// trial's name and jobs, and its `bracket`), through the same rung loop as
/// a whole pruned sweep; `false` if it stopped before the end.
pub(crate) fn halve_round(
    name: &str,
    prune: &Prune,
    points: Vec<(String, Vec<Job>)>,
    bracket: Bracket,
    ctx: &Context,
    exec: &mut Executor<'_>,
    total: &mut Tally,
) -> Result<bool, RunnerError> {
    let sweep = PrunedSweep {
        name: name.to_string(),
        prune: prune.clone(),
        points,
    };
    let mut driver = Driver {
        sweep: &sweep,
        ctx,
        exec,
        total,
    };
    let done = sweep
        .prune
        .run(sweep.points.len(), &[bracket], &mut driver)?;
    Ok(done.is_some() && !ctx.stop.load(std::sync::atomic::Ordering::SeqCst))
}

/// What `Prune::run` asks of the runner: train a rung's points on the
/// executor, score them from the store, store the losers as pruned.
struct Driver<'s, 'e> {
    sweep: &'s PrunedSweep,
    ctx: &'s Context,
    exec: &'s mut Executor<'e>,
    total: &'s mut Tally,
}

impl fmnist_experiments::Halving for Driver<'_, '_> {
    type Error = RunnerError;

    fn train(&mut self, batch: &[(usize, Option<usize>)]) -> Result<bool, RunnerError> {
        let to = batch.iter().find_map(|(_, until)| *until);
        self.ctx.observer.println(format!(
            "prune  {}: {} point(s) to epoch {}",
            self.sweep.name,
            batch.len(),
            to.map_or("the end".to_string(), |e| e.to_string())
        ));
        let jobs: Vec<Job> = (batch.iter())
            .flat_map(|&(p, until)| {
                self.sweep.points[p]
                    .1
                    .iter()
                    .map(move |j| Job { until, ..j.clone() })
            })
            .collect();
        let pass = (self.exec)(jobs)?;
        let stopped = pass.interrupted > 0 || !pass.failed.is_empty();
        self.total.absorb(pass);
        Ok(!stopped && !self.ctx.stop.load(std::sync::atomic::Ordering::SeqCst))
    }

    fn score(&mut self, point: usize, epoch: usize) -> Option<f64> {
        score(self.sweep, point, epoch, self.ctx)
    }

    fn pruned(
        &mut self,
        epoch: usize,
        ranked: &[usize],
        survivors: &[usize],
    ) -> Result<(), RunnerError> {
        for &p in ranked.iter().filter(|p| !survivors.contains(p)) {
            for job in &self.sweep.points[p].1 {
                store_pruned(self.ctx, job, epoch)?;
            }
        }
        self.ctx.observer.println(format!(
            "prune  {}: at epoch {epoch} by {}, {} of {} go on: {}",
            self.sweep.name,
            self.sweep.prune.metric(),
            survivors.len(),
            ranked.len(),
            (survivors.iter().map(|&p| self.sweep.points[p].0.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(())
    }
}

/// The point's metric at `rung`, averaged over its seeds; `None` when a
/// seed has none (it diverged before the rung), which ranks the point last.
fn score(sweep: &PrunedSweep, point: usize, rung: usize, ctx: &Context) -> Option<f64> {
    let jobs = &sweep.points[point].1;
    let (split, quantity) = (sweep.prune.split, sweep.prune.quantity);
    let values: Option<Vec<f64>> = (jobs.iter())
        .map(|j| metric_at(&ctx.store, j, split, quantity, rung))
        .collect();
    let values = values?;
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Stores a run of a pruned sweep as pruned at `epoch` (its rung), from the
/// checkpoint that training to the rung left, which stays for a later
/// `--unprune`. A run the store already holds (trained in full by another
/// experiment, diverged) is left as it is.
fn store_pruned(ctx: &Context, job: &Job, epoch: usize) -> Result<(), RunnerError> {
    let id = &job.spec.run_id;
    if ctx.store.finished(id).is_some() {
        return Ok(());
    }
    let locked = (ctx.store.lock_run(id))
        .map_err(|e| RunnerError::store(format!("locking {}", job.name()), e))?;
    let _lock = match locked {
        LockOutcome::Acquired(lock) => lock,
        LockOutcome::HeldBy { holder } => {
            return Err(RunnerError::State(format!(
                "cannot store {} as pruned: {holder} is training it",
                job.name()
            )));
        }
    };
    let Some(bytes) = ctx.store.read_checkpoint(id) else {
        return Err(RunnerError::State(format!(
            "{} has no checkpoint at its rung, epoch {epoch}",
            job.name()
        )));
    };
    let checkpoint = Checkpoint::from_bytes(&bytes)
        .and_then(|c| c.check(&job.spec.config, job.spec.seed).map(|()| c))
        .map_err(|e| RunnerError::train(format!("reading the checkpoint of {}", job.name()), e))?;
    if checkpoint.epoch() != epoch {
        return Err(RunnerError::State(format!(
            "the checkpoint of {} holds {} epochs, not its rung's {epoch}",
            job.name(),
            checkpoint.epoch()
        )));
    }
    let device = (ctx.device.open()).map_err(|e| RunnerError::train("opening the device", e))?;
    let result = fmnist_train::RunResult {
        outcome: Outcome::Interrupted,
        epochs: checkpoint.reports().to_vec(),
        model: (checkpoint.model(&device)).map_err(|e| {
            RunnerError::train(format!("loading the checkpoint of {}", job.name()), e)
        })?,
    };
    let record = record(ctx, job, &result, RunStatus::Pruned { epoch }, &device)?;
    (ctx.store.write_run(&record))
        .map_err(|e| RunnerError::store(format!("storing {}", job.name()), e))?;
    Ok(())
}

/// The run's `quantity` on `split` at epoch `epoch`: from the store (read as
/// [`At::Rung`] reads it, as the report's replay does), or from the
/// checkpoint of a run still on its way.
pub(crate) fn metric_at(
    store: &Store,
    job: &Job,
    split: Split,
    quantity: Quantity,
    epoch: usize,
) -> Option<f64> {
    let id = &job.spec.run_id;
    if store.finished(id).is_some() {
        let run = store.read_run(id).ok()??;
        return run.value(split, quantity, At::Rung(epoch as u32)).ok();
    }
    let checkpoint = Checkpoint::from_bytes(&store.read_checkpoint(id)?).ok()?;
    checkpoint
        .reports()
        .get(epoch - 1)?
        .split(split)
        .get(quantity)
}
