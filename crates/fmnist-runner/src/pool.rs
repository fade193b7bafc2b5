//! The local executor: skips what is stored, locks each run so that
//! concurrent processes never train the same one, trains on a pool of worker
//! threads, checkpoints every epoch, resumes what an interruption left, and
//! stops cleanly when the stop flag is raised (Ctrl-C or SIGTERM in the
//! binary). Turning a finished training into a stored record is `record`'s.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fmnist_data::Dataset;
use fmnist_experiments::Quantity;
use fmnist_metrics::{DataFile, LockOutcome, RunLock, RunStatus, StoppedEarly, Store, rfc3339};
use fmnist_train::{Checkpoint, DeviceSpec, Event, Outcome, StopReason, TrainOptions};

use crate::error::RunnerError;
use crate::job::{Job, pending, runs, stored_runs};
use crate::observe::Observer;
use crate::record::record;

/// What every run of a plan shares: the store, the data, the device and
/// workers, the stop flag, the provenance written into manifests, and who
/// watches.
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
    pub observer: Arc<dyn Observer + Send>,
}

/// What an executor pass (or several, added up) did. Runs are counted as
/// distinct run ids: a run trained to a rung and on to the next is one run
/// trained (and one more rung pass), and a run trained earlier in the same
/// command is not "reused" by a later pass.
#[derive(Debug, Default)]
pub struct Tally {
    /// The runs this command trained, to the end or to a rung.
    pub trained: BTreeSet<String>,
    /// The runs found stored (or at their rung) when a pass began.
    pub reused: BTreeSet<String>,
    /// Passes of successive halving that trained a run to a rung.
    pub rung_passes: usize,
    pub diverged: Vec<String>,
    pub failed: Vec<String>,
    pub interrupted: usize,
    /// Trained runs that continued from a checkpoint.
    pub resumed: usize,
    pub seconds: f64,
}

/// Runs every job that has no stored result (all of them with `force`).
pub fn execute(jobs: Vec<Job>, ctx: &Context) -> Result<Tally, RunnerError> {
    let started = Instant::now();
    let progress = &*ctx.observer;
    ctx.store.clean_stale();
    let upgraded = ctx.store.upgrade_tables().map_err(|e| {
        RunnerError::store(
            "adding the columns of newer quantities to the stored metrics tables",
            e,
        )
    })?;
    if upgraded > 0 {
        progress.println(format!(
            "upgraded {upgraded} stored metrics table{}: added the columns of quantities recorded since {} stored (empty for {})",
            if upgraded == 1 { "" } else { "s" },
            if upgraded == 1 { "it was" } else { "they were" },
            if upgraded == 1 {
                "that run"
            } else {
                "those runs"
            },
        ));
    }
    let pending = pending(jobs, &ctx.store, ctx.force)?;
    for line in &pending.moved_aside {
        progress.println(format!("CORRUPT {line}"));
    }
    let mut summary = Tally {
        reused: pending.reused,
        ..Tally::default()
    };
    let todo = VecDeque::from(pending.todo);
    if todo.is_empty() {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    progress.begin(todo.len());
    progress.println(format!(
        "training {} ({} reused) with {} worker(s) x {} thread(s) on {}",
        runs(todo.len()),
        stored_runs(summary.reused.len()),
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
                worker(ctx, &queue, &waiting, &summary, progress);
            });
        }
    });
    // Runs another process was training when we reached them: wait for its
    // result, or take them over if it died.
    let held = std::mem::take(&mut *waiting.lock().expect("no panics hold it"));
    for job in held {
        wait_for(ctx, job, &summary, progress);
    }
    progress.finish();
    let mut summary = summary.into_inner().expect("no panics hold it");
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

impl Tally {
    /// Distinct runs trained.
    pub fn trained_runs(&self) -> usize {
        self.trained.len()
    }

    /// Distinct runs reused that this command did not train itself.
    pub fn reused_runs(&self) -> usize {
        self.reused.difference(&self.trained).count()
    }

    /// Adds another pass's counts.
    pub fn absorb(&mut self, pass: Tally) {
        self.trained.extend(pass.trained);
        self.reused.extend(pass.reused);
        self.rung_passes += pass.rung_passes;
        self.diverged.extend(pass.diverged);
        self.failed.extend(pass.failed);
        self.interrupted += pass.interrupted;
        self.resumed += pass.resumed;
        self.seconds += pass.seconds;
    }
}

fn worker(
    ctx: &Context,
    queue: &Mutex<VecDeque<Job>>,
    waiting: &Mutex<Vec<Job>>,
    summary: &Mutex<Tally>,
    progress: &dyn Observer,
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

fn wait_for(ctx: &Context, job: Job, summary: &Mutex<Tally>, progress: &dyn Observer) {
    let mut announced = false;
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            return;
        }
        if job.done_in(&ctx.store) {
            (summary.lock().expect("no panics hold it").reused).insert(job.spec.run_id.clone());
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
    summary: &Mutex<Tally>,
    progress: &dyn Observer,
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
            s.trained.insert(job.spec.run_id.clone());
            s.rung_passes += 1;
            s.resumed += usize::from(resumed);
            progress.println(format!(
                "rung   {name}: trained to epoch {}; its checkpoint waits for the ranking",
                job.needed_epochs()
            ));
        }
        Ok((Outcome::Complete, resumed)) => {
            s.trained.insert(job.spec.run_id.clone());
            s.resumed += usize::from(resumed);
        }
        Ok((Outcome::Stopped { epoch, kept, .. }, resumed)) => {
            s.trained.insert(job.spec.run_id.clone());
            s.resumed += usize::from(resumed);
            progress.println(format!(
                "stop   {name}: early stopping ended it after epoch {epoch}; it keeps epoch {kept}'s network"
            ));
        }
        Ok((Outcome::Diverged { epoch, batch }, resumed)) => {
            s.trained.insert(job.spec.run_id.clone());
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
            progress.println(format!("FAILED {name}: {e}"));
            s.failed.push(format!("{name}: {e}"));
        }
    }
    progress.run_done();
}

/// The checkpoint a previous attempt left for this run, if it belongs to it.
fn resume_point(ctx: &Context, job: &Job, progress: &dyn Observer) -> Option<Checkpoint> {
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
    progress: &dyn Observer,
) -> Result<(Outcome, bool), RunnerError> {
    let device = (ctx.device.open()).map_err(|e| RunnerError::train("opening the device", e))?;
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
    let mut record = record(ctx, job, &result, status, &device)?;
    record.manifest.started_at = rfc3339(started_at);
    record.manifest.wall_seconds = clock.elapsed().as_secs_f64();
    record.manifest.resumed_from_epoch = resumed_from;
    record.manifest.stopped_early = stopped_early;
    (ctx.store.write_run(&record))
        .map_err(|e| RunnerError::store(format!("storing {}", job.name()), e))?;
    ctx.store.remove_checkpoint(&job.spec.run_id);
    if let Some(line) = done_line(
        &job.name(),
        &result.epochs,
        result.outcome.clone(),
        record.manifest.wall_seconds,
        resumed_from,
    ) {
        progress.println(line);
    }
    Ok((result.outcome, resumed_from.is_some()))
}

/// "done   NAME  val acc X%  Ts": the accuracy of the network the run keeps,
/// which early stopping with `keep = "best"` takes from an earlier epoch
/// than the last (as `evaluate` checks it).
fn done_line(
    name: &str,
    epochs: &[fmnist_train::EpochReport],
    outcome: Outcome,
    seconds: f64,
    resumed_from: Option<usize>,
) -> Option<String> {
    let last = epochs.last()?;
    let (kept, note) = match outcome {
        Outcome::Stopped { kept, .. } if kept != last.epoch => (
            epochs.iter().find(|e| e.epoch == kept)?,
            format!(
                " (the kept epoch {kept}; the last, {}, {:.2}%)",
                last.epoch,
                100.0 * last.val[Quantity::Accuracy]
            ),
        ),
        _ => (last, String::new()),
    };
    Some(format!(
        "done   {name}  val acc {:.2}%{note}  {:.1}s{}",
        100.0 * kept.val[Quantity::Accuracy],
        seconds,
        resumed_from.map_or(String::new(), |e| format!(" (resumed after epoch {e})"))
    ))
}

/// The training itself, with its progress bar, a checkpoint after every
/// epoch and the lock renewed at every batch; a failure to checkpoint or to
/// renew the lock fails the run.
fn train(
    ctx: &Context,
    job: &Job,
    lock: &mut RunLock,
    progress: &dyn Observer,
    device: &candle_core::Device,
    resume: Option<Checkpoint>,
) -> Result<fmnist_train::RunResult, RunnerError> {
    let spec = &job.spec;
    let epochs = spec.config.epochs;
    let bar = progress.start_run(job.name(), job.needed_epochs());
    // The run's own stop: Ctrl-C, or its rung reached. Stopping at a rung is
    // stopping after a complete epoch, whose checkpoint is then written, so
    // the run continues later exactly as if it had never stopped.
    let stop = AtomicBool::new(ctx.stop.load(Ordering::Relaxed));
    let mut lock_error: Option<RunnerError> = None;
    let mut checkpoint_error: Option<RunnerError> = None;
    let mut on_checkpoint = |c: &Checkpoint| {
        if let Err(e) = ctx.store.write_checkpoint(&spec.run_id, &c.to_bytes()) {
            checkpoint_error.get_or_insert(RunnerError::store(
                format!("writing a checkpoint of {}", job.name()),
                e,
            ));
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
                    lock_error.get_or_insert(RunnerError::store(
                        format!("renewing the lock of {}", job.name()),
                        e,
                    ));
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
    let result = result.map_err(|e| RunnerError::train(format!("training {}", job.name()), e))?;
    if let Some(e) = lock_error.or(checkpoint_error) {
        return Err(e);
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

#[cfg(test)]
mod tests {
    use super::*;
    use fmnist_experiments::{EpochReport, Measures};

    fn epoch(epoch: usize, acc: f64) -> EpochReport {
        EpochReport {
            epoch,
            train: Measures::default(),
            val: Measures::default().with(Quantity::Accuracy, acc),
            test: Measures::default(),
            seconds: 1.0,
        }
    }

    #[test]
    fn the_done_line_gives_the_kept_network_s_accuracy() {
        let epochs = [epoch(1, 0.80), epoch(2, 0.85), epoch(3, 0.83)];
        let stopped = Outcome::Stopped {
            epoch: 3,
            reason: StopReason::NoImprovement,
            kept: 2,
        };
        let line = done_line("r", &epochs, stopped, 2.0, None).unwrap();
        assert!(
            line.starts_with("done   r  val acc 85.00% (the kept epoch 2; the last, 3, 83.00%)"),
            "{line}"
        );
        let line = done_line("r", &epochs, Outcome::Complete, 2.0, Some(1)).unwrap();
        assert_eq!(
            line,
            "done   r  val acc 83.00%  2.0s (resumed after epoch 1)"
        );
    }
}
