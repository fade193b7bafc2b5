//! Executes a plan of runs: skips what is stored, locks each run so that
//! concurrent processes never train the same one, trains on a pool of worker
//! threads, checkpoints every epoch, resumes what an interruption left,
//! stores results atomically, and stops cleanly on Ctrl-C or SIGTERM.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fmnist_data::Dataset;
use fmnist_experiments::{Quantity, RunSpec};
use fmnist_metrics::{
    Architecture, ConfusionCell, DataFile, LockOutcome, MetricRow, Mistake, RunLock, RunManifest,
    RunRecord, RunState, RunStatus, Split, StoppedEarly, Store, rfc3339,
};
use fmnist_train::{
    Checkpoint, DeviceSpec, Event, Outcome, StopReason, TrainOptions, describe_device,
};
use serde::{Deserialize, Serialize};

use crate::progress::Progress;

/// How many of the validation images a run gets most confidently wrong are kept.
const MISTAKES_KEPT: usize = 32;

/// A run to execute, with what its manifest needs beyond the spec. This is
/// also what a Slurm plan freezes, one per array task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub spec: RunSpec,
    pub experiment_file: String,
    /// A rung of a pruned sweep: train to this epoch, keep the checkpoint
    /// and store nothing (see `halving`). `None`: train to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<usize>,
}

impl Job {
    /// The epochs this job must leave behind: its rung, or all of them.
    pub fn needed_epochs(&self) -> usize {
        self.until.unwrap_or(self.spec.config.epochs)
    }

    /// Whether the store already holds what this job is for: a stored run
    /// (pruned at an epoch no earlier than the job needs), or for a rung a
    /// checkpoint that has reached it.
    pub fn done_in(&self, store: &Store) -> bool {
        match store.finished(&self.spec.run_id) {
            Some(m) => {
                !matches!(m.status, RunStatus::Pruned { epoch } if epoch < self.needed_epochs())
            }
            None => self
                .until
                .is_some_and(|r| checkpoint_epochs(store, &self.spec.run_id) >= r),
        }
    }

    pub fn name(&self) -> String {
        format!(
            "{} seed {} ({})",
            self.spec.experiment,
            self.spec.seed,
            fmnist_experiments::short_run_id(&self.spec.run_id)
        )
    }
}

pub struct Context {
    pub store: Store,
    pub data: Arc<Dataset>,
    pub data_files: Vec<DataFile>,
    pub device: DeviceSpec,
    pub workers: usize,
    pub threads: usize,
    pub force: bool,
    pub stop: Arc<AtomicBool>,
    pub provenance: fmnist_metrics::Provenance,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub trained: usize,
    pub reused: usize,
    pub diverged: Vec<String>,
    pub failed: Vec<String>,
    pub interrupted: usize,
    /// Trained runs that continued from a checkpoint.
    pub resumed: usize,
    pub seconds: f64,
}

/// The distinct runs of a plan, first occurrence first: experiments that
/// resolve to the same settings share their runs.
pub fn unique_runs(runs: &[RunSpec]) -> Vec<&RunSpec> {
    let mut seen = std::collections::HashSet::new();
    runs.iter()
        .filter(|r| seen.insert(r.run_id.as_str()))
        .collect()
}

/// What a plan leaves to train once the store has been read.
#[derive(Debug, Default)]
pub struct Pending {
    /// One job per distinct run id that is not stored (every one with `force`).
    pub todo: Vec<Job>,
    /// Distinct runs of the plan that are stored and reused.
    pub reused: usize,
    /// One line per stored run that had a part that could not be read: the
    /// part, why, and where the run's files were moved; it is trained again.
    pub moved_aside: Vec<String>,
}

/// The epochs the run's checkpoint holds, 0 without a readable one.
pub fn checkpoint_epochs(store: &Store, run_id: &str) -> usize {
    store
        .read_checkpoint(run_id)
        .and_then(|b| Checkpoint::from_bytes(&b).ok())
        .map_or(0, |c| c.epoch())
}

/// Reads the store for each distinct run of `jobs` (every part of it, see
/// [`Store::examine`]): stored runs are reused unless `force`; runs absent,
/// partly written or moved aside as unreadable are to train.
pub fn pending(jobs: Vec<Job>, store: &Store, force: bool) -> anyhow::Result<Pending> {
    use anyhow::Context as _;
    let mut seen = std::collections::HashSet::new();
    let mut out = Pending::default();
    for job in jobs {
        if !seen.insert(job.spec.run_id.clone()) {
            continue;
        }
        if force {
            out.todo.push(job);
            continue;
        }
        let state = store
            .examine(&job.spec.run_id)
            .with_context(|| format!("reading the stored run of {}", job.name()))?;
        match state {
            // A run pruned before the epochs this job needs trains on.
            RunState::Stored(m) if matches!(m.status, RunStatus::Pruned { epoch } if epoch < job.needed_epochs()) => {
                out.todo.push(job)
            }
            RunState::Stored(_) => out.reused += 1,
            RunState::Absent | RunState::Partial if job.done_in(store) => out.reused += 1,
            RunState::Absent | RunState::Partial => out.todo.push(job),
            RunState::MovedAside {
                path,
                problem,
                moved_to,
            } => {
                out.moved_aside.push(format!(
                    "{}: cannot read {} ({problem}); moved the run's files to {}; training it again",
                    job.name(),
                    path.display(),
                    moved_to.display()
                ));
                out.todo.push(job);
            }
        }
    }
    Ok(out)
}

/// Runs every job that has no stored result (all of them with `force`).
pub fn execute(jobs: Vec<Job>, ctx: &Context) -> anyhow::Result<Summary> {
    let started = Instant::now();
    ctx.store.clean_stale();
    let upgraded = anyhow::Context::context(
        ctx.store.upgrade_tables(),
        "adding the columns of newer quantities to the stored metrics tables",
    )?;
    if upgraded > 0 {
        eprintln!(
            "upgraded {upgraded} stored metrics table{}: added the columns of quantities recorded since {} stored (empty for {})",
            if upgraded == 1 { "" } else { "s" },
            if upgraded == 1 { "it was" } else { "they were" },
            if upgraded == 1 {
                "that run"
            } else {
                "those runs"
            },
        );
    }
    let pending = pending(jobs, &ctx.store, ctx.force)?;
    for line in &pending.moved_aside {
        eprintln!("CORRUPT {line}");
    }
    let mut summary = Summary {
        reused: pending.reused,
        ..Summary::default()
    };
    let todo = VecDeque::from(pending.todo);
    if todo.is_empty() {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    let progress = Progress::new(todo.len());
    progress.println(format!(
        "training {} ({} reused) with {} worker(s) x {} thread(s) on {}",
        runs(todo.len()),
        stored_runs(summary.reused),
        ctx.workers,
        ctx.threads,
        ctx.device
    ));
    let queue = Mutex::new(todo);
    let waiting: Mutex<Vec<Job>> = Mutex::new(Vec::new());
    let summary = Mutex::new(summary);
    std::thread::scope(|scope| {
        for _ in 0..ctx.workers.max(1) {
            scope.spawn(|| {
                worker(ctx, &queue, &waiting, &summary, &progress);
            });
        }
    });
    // Runs another process was training when we reached them: wait for its
    // result, or take them over if it died.
    let held = std::mem::take(&mut *waiting.lock().expect("no panics hold it"));
    for job in held {
        wait_for(ctx, job, &summary, &progress);
    }
    progress.finish();
    let mut summary = summary.into_inner().expect("no panics hold it");
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// "1 run", "2 runs".
pub fn runs(n: usize) -> String {
    format!("{n} run{}", if n == 1 { "" } else { "s" })
}

/// "1 stored run", "2 stored runs".
pub fn stored_runs(n: usize) -> String {
    format!("{n} stored run{}", if n == 1 { "" } else { "s" })
}

fn worker(
    ctx: &Context,
    queue: &Mutex<VecDeque<Job>>,
    waiting: &Mutex<Vec<Job>>,
    summary: &Mutex<Summary>,
    progress: &Progress,
) {
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        let Some(job) = queue.lock().expect("no panics hold it").pop_front() else {
            return;
        };
        match ctx.store.lock_run(&job.spec.run_id) {
            Ok(LockOutcome::Acquired(lock)) => {
                train_one(ctx, &job, lock, summary, progress);
            }
            Ok(LockOutcome::HeldBy { holder }) => {
                progress.println(format!(
                    "skip   {}: another process is training it ({holder}); will wait for it at the end",
                    job.name()
                ));
                waiting.lock().expect("no panics hold it").push(job);
            }
            Err(e) => {
                progress.println(format!("FAILED {}: cannot lock: {e}", job.name()));
                summary
                    .lock()
                    .expect("no panics hold it")
                    .failed
                    .push(format!("{}: {e}", job.name()));
                progress.run_done();
            }
        }
    }
}

fn wait_for(ctx: &Context, job: Job, summary: &Mutex<Summary>, progress: &Progress) {
    let mut announced = false;
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        if job.done_in(&ctx.store) {
            summary.lock().expect("no panics hold it").reused += 1;
            progress.run_done();
            return;
        }
        match ctx.store.lock_run(&job.spec.run_id) {
            Ok(LockOutcome::Acquired(lock)) => {
                // Its holder finished without a result (failed or was
                // interrupted): train it here, from its checkpoint if any.
                train_one(ctx, &job, lock, summary, progress);
                return;
            }
            Ok(LockOutcome::HeldBy { holder }) => {
                if !announced {
                    progress.println(format!("wait   for {} held by {holder}", job.name()));
                    announced = true;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            Err(e) => {
                summary
                    .lock()
                    .expect("no panics hold it")
                    .failed
                    .push(format!("{}: {e}", job.name()));
                return;
            }
        }
    }
}

fn train_one(
    ctx: &Context,
    job: &Job,
    mut lock: RunLock,
    summary: &Mutex<Summary>,
    progress: &Progress,
) {
    let name = job.name();
    if let Some(previous) = lock.took_over() {
        progress.println(format!("lock   {name}: took over the lock of {previous}"));
    }
    let result = train_and_store(ctx, job, &mut lock, progress);
    drop(lock);
    let mut s = summary.lock().expect("no panics hold it");
    match result {
        Ok((Outcome::Interrupted, resumed)) if job.until.is_some() && job.done_in(&ctx.store) => {
            s.trained += 1;
            s.resumed += usize::from(resumed);
            progress.println(format!(
                "rung   {name}: trained to epoch {}; its checkpoint waits for the ranking",
                job.needed_epochs()
            ));
        }
        Ok((Outcome::Complete, resumed)) => {
            s.trained += 1;
            s.resumed += usize::from(resumed);
        }
        Ok((Outcome::Stopped { epoch, kept, .. }, resumed)) => {
            s.trained += 1;
            s.resumed += usize::from(resumed);
            progress.println(format!(
                "stop   {name}: early stopping ended it after epoch {epoch}; it keeps epoch {kept}'s network"
            ));
        }
        Ok((Outcome::Diverged { epoch, batch }, resumed)) => {
            s.trained += 1;
            s.resumed += usize::from(resumed);
            let status = RunStatus::Diverged { epoch, batch };
            s.diverged.push(format!("{name}: {status}"));
            progress.println(format!(
                "DIVERGED {name}: {status} (stored with that status)"
            ));
        }
        Ok((Outcome::Interrupted, _)) => {
            s.interrupted += 1;
            progress.println(format!(
                "stop   {name}: interrupted; it resumes from its last complete epoch next time"
            ));
        }
        Err(e) => {
            let e = crate::errors::describe(&e);
            progress.println(format!("FAILED {name}: {e}"));
            s.failed.push(format!("{name}: {e}"));
        }
    }
    progress.run_done();
}

/// The checkpoint a previous attempt left for this run, if it belongs to it.
fn resume_point(ctx: &Context, job: &Job, progress: &Progress) -> Option<Checkpoint> {
    let bytes = ctx.store.read_checkpoint(&job.spec.run_id)?;
    if ctx.force {
        ctx.store.remove_checkpoint(&job.spec.run_id);
        return None;
    }
    match Checkpoint::from_bytes(&bytes)
        .and_then(|c| c.check(&job.spec.config, job.spec.seed).map(|()| c))
    {
        Ok(c) => Some(c),
        Err(e) => {
            progress.println(format!(
                "note   {}: ignoring its checkpoint ({e}); training from the start",
                job.name()
            ));
            ctx.store.remove_checkpoint(&job.spec.run_id);
            None
        }
    }
}

/// Trains a run (from its checkpoint if it has one), evaluates it and
/// stores it; returns how it ended and whether it resumed.
fn train_and_store(
    ctx: &Context,
    job: &Job,
    lock: &mut RunLock,
    progress: &Progress,
) -> anyhow::Result<(Outcome, bool)> {
    use anyhow::Context as _;
    let device = ctx.device.open()?;
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let resume = resume_point(ctx, job, progress);
    let resumed_from = resume.as_ref().map(Checkpoint::epoch);
    if job
        .until
        .is_some_and(|r| resumed_from.is_some_and(|e| e >= r))
    {
        // Another process took this rung's run there already.
        return Ok((Outcome::Interrupted, false));
    }
    if let Some(epoch) = resumed_from {
        progress.println(format!(
            "resume {}: from its checkpoint after epoch {epoch}/{}",
            job.name(),
            job.spec.config.epochs
        ));
    }
    let result = train(ctx, job, lock, progress, &device, resume)?;
    let (status, stopped_early) = match result.outcome {
        Outcome::Complete => (RunStatus::Complete, None),
        Outcome::Stopped {
            epoch,
            reason,
            kept,
        } => {
            let reason = match reason {
                StopReason::NoImprovement => "no improvement",
                StopReason::NotFinite => "not finite",
            };
            let stopped = StoppedEarly {
                epoch,
                reason: reason.into(),
                kept_epoch: kept,
            };
            (RunStatus::Complete, Some(stopped))
        }
        Outcome::Diverged { epoch, batch } => (RunStatus::Diverged { epoch, batch }, None),
        Outcome::Interrupted => return Ok((Outcome::Interrupted, resumed_from.is_some())),
    };
    let (confusion, mistakes) = evaluate(ctx, job, &result.model, &device)?;
    let mut manifest = manifest(ctx, job, &result, status, &device);
    manifest.started_at = rfc3339(started_at);
    manifest.wall_seconds = clock.elapsed().as_secs_f64();
    manifest.resumed_from_epoch = resumed_from;
    manifest.stopped_early = stopped_early;
    let record = RunRecord {
        model: result
            .model
            .to_safetensors()
            .with_context(|| format!("serialising the weights of {}", job.name()))?,
        manifest,
        rows: metric_rows(&result.epochs),
        confusion,
        mistakes,
    };
    ctx.store
        .write_run(&record)
        .with_context(|| format!("storing {}", job.name()))?;
    ctx.store.remove_checkpoint(&job.spec.run_id);
    if let Some(last) = result.epochs.last() {
        progress.println(format!(
            "done   {}  val acc {:.2}%  {:.1}s{}",
            job.name(),
            100.0 * last.val[Quantity::Accuracy],
            record.manifest.wall_seconds,
            resumed_from.map_or(String::new(), |e| format!(" (resumed after epoch {e})"))
        ));
    }
    Ok((result.outcome, resumed_from.is_some()))
}

/// The training itself, with its progress bar, a checkpoint after every
/// epoch and the lock renewed at every batch; a failure to checkpoint or to
/// renew the lock fails the run.
fn train(
    ctx: &Context,
    job: &Job,
    lock: &mut RunLock,
    progress: &Progress,
    device: &candle_core::Device,
    resume: Option<Checkpoint>,
) -> anyhow::Result<fmnist_train::RunResult> {
    use anyhow::Context as _;
    let spec = &job.spec;
    let epochs = spec.config.epochs;
    let bar = progress.start_run(job.name(), job.needed_epochs());
    // The run's own stop: Ctrl-C, or its rung reached. Stopping at a rung is
    // stopping after a complete epoch, whose checkpoint is then written, so
    // the run continues later exactly as if it had never stopped.
    let stop = AtomicBool::new(ctx.stop.load(Ordering::Relaxed));
    let mut lock_error: Option<anyhow::Error> = None;
    let mut checkpoint_error: Option<anyhow::Error> = None;
    let mut on_checkpoint = |c: &Checkpoint| {
        if let Err(e) = ctx.store.write_checkpoint(&spec.run_id, &c.to_bytes()) {
            checkpoint_error.get_or_insert(anyhow::Error::from(e).context("writing a checkpoint"));
        }
    };
    let result = fmnist_train::train_with(
        &spec.config,
        spec.seed,
        &ctx.data,
        device,
        &stop,
        TrainOptions {
            resume,
            on_checkpoint: Some(&mut on_checkpoint),
        },
        &mut |event| match event {
            Event::Batch { batch, batches, .. } => {
                bar.batch(batch, batches);
                if ctx.stop.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                }
                if let Err(e) = lock.renew() {
                    lock_error
                        .get_or_insert(anyhow::Error::from(e).context("renewing the run's lock"));
                }
            }
            Event::Epoch(e) => {
                bar.epoch(e.epoch, epochs, &epoch_line(e));
                if job.until == Some(e.epoch) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        },
    );
    bar.close();
    let result = result.with_context(|| format!("training {}", job.name()))?;
    if let Some(e) = lock_error.or(checkpoint_error) {
        return Err(e.context(format!("training {}", job.name())));
    }
    Ok(result)
}

fn epoch_line(e: &fmnist_train::EpochReport) -> String {
    format!(
        "loss {:.4}/{:.4}  acc {:.2}%/{:.2}%  {:.2}s",
        e.train[Quantity::Loss],
        e.val[Quantity::Loss],
        100.0 * e.train[Quantity::Accuracy],
        100.0 * e.val[Quantity::Accuracy],
        e.seconds
    )
}

/// The metrics table of a run: one row per epoch and split.
fn metric_rows(epochs: &[fmnist_train::EpochReport]) -> Vec<MetricRow> {
    epochs
        .iter()
        .flat_map(|e| {
            Split::ALL.map(|split| MetricRow {
                epoch: e.epoch as u32,
                split,
                values: e.split(split).clone(),
                seconds: e.seconds,
            })
        })
        .collect()
}

/// The final network's confusion matrix on the validation images, and the
/// images it gets most confidently wrong.
fn evaluate(
    ctx: &Context,
    job: &Job,
    model: &fmnist_train::Mlp,
    device: &candle_core::Device,
) -> anyhow::Result<(Vec<ConfusionCell>, Vec<Mistake>)> {
    use anyhow::Context as _;
    let evaluation =
        fmnist_train::evaluate_run(model, &job.spec.config, &ctx.data, device, MISTAKES_KEPT)
            .with_context(|| format!("evaluating {} per class", job.name()))?;
    let classes = evaluation.classes;
    let confusion = (0..classes)
        .flat_map(|t| (0..classes).map(move |p| (t, p)))
        .map(|(t, p)| ConfusionCell {
            true_class: t as u8,
            predicted_class: p as u8,
            count: evaluation.confusion[t * classes + p],
        })
        .collect();
    let mistakes = evaluation
        .mistakes
        .iter()
        .map(|m| Mistake {
            index: m.index,
            true_class: m.true_class,
            predicted_class: m.predicted_class,
            confidence: m.confidence,
        })
        .collect();
    Ok((confusion, mistakes))
}

/// The run's manifest; the caller sets when it started, its wall time and
/// the epoch it resumed from.
fn manifest(
    ctx: &Context,
    job: &Job,
    result: &fmnist_train::RunResult,
    status: RunStatus,
    device: &candle_core::Device,
) -> RunManifest {
    let spec = &job.spec;
    let sizes = result.model.sizes();
    let now = rfc3339(SystemTime::now());
    RunManifest {
        run_id: spec.run_id.clone(),
        experiment: spec.experiment.clone(),
        experiment_file: job.experiment_file.clone(),
        seed: spec.seed,
        config: spec.config.clone(),
        status,
        data: ctx.data_files.clone(),
        classes: ctx.data.classes.clone(),
        architecture: Architecture {
            torch: fmnist_train::torch_architecture(&sizes, spec.config.model.dropout),
            layer_sizes: sizes,
        },
        started_at: now.clone(),
        finished_at: now,
        wall_seconds: 0.0,
        epoch_seconds: result.epochs.iter().map(|e| e.seconds).collect(),
        device: describe_device(device),
        threads: ctx.threads,
        training_code_version: fmnist_train::TRAINING_CODE_VERSION,
        resumed_from_epoch: None,
        stopped_early: None,
        provenance: ctx.provenance.clone(),
    }
}

/// Stores a run of a pruned sweep as pruned at `epoch` (its rung), from the
/// checkpoint that training to the rung left, which stays for a later
/// `--unprune`. A run the store already holds (trained in full by another
/// experiment, diverged) is left as it is.
pub fn store_pruned(ctx: &Context, job: &Job, epoch: usize) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let id = &job.spec.run_id;
    if ctx.store.finished(id).is_some() {
        return Ok(());
    }
    let _lock = match ctx.store.lock_run(id)? {
        LockOutcome::Acquired(lock) => lock,
        LockOutcome::HeldBy { holder } => {
            anyhow::bail!(
                "cannot store {} as pruned: {holder} is training it",
                job.name()
            )
        }
    };
    let bytes = (ctx.store.read_checkpoint(id)).with_context(|| {
        format!(
            "{} has no checkpoint at its rung, epoch {epoch}",
            job.name()
        )
    })?;
    let checkpoint = Checkpoint::from_bytes(&bytes)
        .and_then(|c| c.check(&job.spec.config, job.spec.seed).map(|()| c))
        .with_context(|| format!("reading the checkpoint of {}", job.name()))?;
    anyhow::ensure!(
        checkpoint.epoch() == epoch,
        "the checkpoint of {} holds {} epochs, not its rung's {epoch}",
        job.name(),
        checkpoint.epoch()
    );
    let device = ctx.device.open()?;
    let result = fmnist_train::RunResult {
        outcome: Outcome::Interrupted,
        epochs: checkpoint.reports().to_vec(),
        model: checkpoint.model(&device)?,
    };
    let (confusion, mistakes) = evaluate(ctx, job, &result.model, &device)?;
    let record = RunRecord {
        model: (result.model.to_safetensors())
            .with_context(|| format!("serialising the weights of {}", job.name()))?,
        manifest: manifest(ctx, job, &result, RunStatus::Pruned { epoch }, &device),
        rows: metric_rows(&result.epochs),
        confusion,
        mistakes,
    };
    (ctx.store.write_run(&record)).with_context(|| format!("storing {}", job.name()))?;
    Ok(())
}

/// The run's `quantity` on `split` at epoch `epoch`: from the store, or from
/// the checkpoint of a run still on its way. A complete run that early
/// stopping ended before `epoch` gives its last epoch's; a run without the
/// epoch otherwise (diverged, not trained) gives `None`.
pub fn metric_at(
    store: &Store,
    job: &Job,
    split: Split,
    quantity: Quantity,
    epoch: usize,
) -> Option<f64> {
    let id = &job.spec.run_id;
    if store.finished(id).is_some() {
        let run = store.read_run(id).ok()??;
        let rows: Vec<&MetricRow> = run.rows.iter().filter(|r| r.split == split).collect();
        let at = rows.iter().find(|r| r.epoch as usize == epoch);
        let last = rows.iter().max_by_key(|r| r.epoch);
        let row = match (at, run.manifest.status) {
            (Some(row), _) => row,
            (None, RunStatus::Complete) => last?,
            (None, _) => return None,
        };
        return row.values.get(quantity);
    }
    let checkpoint = Checkpoint::from_bytes(&store.read_checkpoint(id)?).ok()?;
    checkpoint
        .reports()
        .get(epoch - 1)?
        .split(split)
        .get(quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_s_rung_travels_in_slurm_plans_and_older_plans_have_none() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../experiments/baseline.toml");
        let exp = fmnist_experiments::load_file(&path).unwrap().remove(0);
        let job = Job {
            spec: RunSpec {
                experiment: exp.name,
                config: exp.config,
                seed: 0,
                run_id: "r".into(),
            },
            experiment_file: "experiments/baseline.toml".into(),
            until: None,
        };
        let plain = serde_json::to_value(&job).unwrap();
        assert!(plain.get("until").is_none(), "{plain}");
        assert_eq!(serde_json::from_value::<Job>(plain).unwrap(), job);
        let rung = Job {
            until: Some(3),
            ..job
        };
        let text = serde_json::to_string(&rung).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), rung);
        assert_eq!((rung.needed_epochs(), rung.until), (3, Some(3)));
    }

    #[test]
    fn counts_read_naturally() {
        assert_eq!(runs(1), "1 run");
        assert_eq!(runs(0), "0 runs");
        assert_eq!(stored_runs(1), "1 stored run");
        assert_eq!(stored_runs(63), "63 stored runs");
    }
}
