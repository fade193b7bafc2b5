//! Executes a plan of runs: skips what is stored, claims each run so that
//! concurrent processes never train the same one, trains on a pool of worker
//! threads, stores results atomically, and stops cleanly on Ctrl-C.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use fmnist_data::Dataset;
use fmnist_experiments::RunSpec;
use fmnist_metrics::{
    DataFile, LockOutcome, MetricRow, RunManifest, RunStatus, Split, Store, rfc3339,
};
use fmnist_train::{DeviceSpec, Event, Outcome, describe_device};

use crate::progress::Progress;

/// A run to execute, with what its manifest needs beyond the spec.
#[derive(Debug, Clone)]
pub struct Job {
    pub spec: RunSpec,
    pub experiment_file: String,
}

impl Job {
    fn name(&self) -> String {
        format!(
            "{} seed {} ({})",
            self.spec.experiment,
            self.spec.seed,
            &self.spec.run_id[..8]
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
    pub seconds: f64,
}

/// Runs every job that has no stored result (all of them with `force`).
pub fn execute(jobs: Vec<Job>, ctx: &Context) -> Summary {
    let started = Instant::now();
    ctx.store.clean_stale();
    let mut summary = Summary::default();
    let mut todo = VecDeque::new();
    for job in jobs {
        if !ctx.force
            && ctx
                .store
                .finished(&job.spec.experiment, &job.spec.run_id)
                .is_some()
        {
            summary.reused += 1;
        } else {
            todo.push_back(job);
        }
    }
    if todo.is_empty() {
        summary.seconds = started.elapsed().as_secs_f64();
        return summary;
    }
    let progress = Progress::new(todo.len());
    progress.println(format!(
        "training {} runs ({} stored runs reused) with {} worker(s) x {} thread(s) on {}",
        todo.len(),
        summary.reused,
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
    summary
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
                train_one(ctx, &job, summary, progress);
                drop(lock);
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
        if ctx
            .store
            .finished(&job.spec.experiment, &job.spec.run_id)
            .is_some()
        {
            summary.lock().expect("no panics hold it").reused += 1;
            progress.run_done();
            return;
        }
        match ctx.store.lock_run(&job.spec.run_id) {
            Ok(LockOutcome::Acquired(lock)) => {
                // Its holder finished without a result (failed or was
                // interrupted): train it here.
                train_one(ctx, &job, summary, progress);
                drop(lock);
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

fn train_one(ctx: &Context, job: &Job, summary: &Mutex<Summary>, progress: &Progress) {
    let name = job.name();
    let result = train_and_store(ctx, job, progress);
    let mut s = summary.lock().expect("no panics hold it");
    match result {
        Ok(Outcome::Complete) => s.trained += 1,
        Ok(Outcome::Diverged { epoch, batch }) => {
            s.trained += 1;
            s.diverged
                .push(format!("{name}: diverged at epoch {epoch}, batch {batch}"));
            progress.println(format!(
                "DIVERGED {name} at epoch {epoch}, batch {batch} (stored with that status)"
            ));
        }
        Ok(Outcome::Interrupted) => {
            s.interrupted += 1;
            progress.println(format!("stop   {name}: interrupted, nothing stored"));
        }
        Err(e) => {
            progress.println(format!("FAILED {name}: {e:#}"));
            s.failed.push(format!("{name}: {e:#}"));
        }
    }
    progress.run_done();
}

fn train_and_store(ctx: &Context, job: &Job, progress: &Progress) -> anyhow::Result<Outcome> {
    use anyhow::Context as _;
    let spec = &job.spec;
    let device = ctx.device.open()?;
    let bar = progress.start_run(job.name(), spec.config.epochs);
    let started_at = SystemTime::now();
    let clock = Instant::now();
    let epochs = spec.config.epochs;
    let result = fmnist_train::train(
        &spec.config,
        spec.seed,
        &ctx.data,
        &device,
        &ctx.stop,
        &mut |event| match event {
            Event::Batch { batch, batches, .. } => bar.batch(batch, batches),
            Event::Epoch(e) => bar.epoch(
                e.epoch,
                epochs,
                &format!(
                    "loss {:.4}/{:.4}  acc {:.2}%/{:.2}%  {:.2}s",
                    e.train_loss,
                    e.val_loss,
                    100.0 * e.train_accuracy,
                    100.0 * e.val_accuracy,
                    e.seconds
                ),
            ),
        },
    );
    bar.close();
    let result = result.with_context(|| format!("training {}", job.name()))?;
    let status = match result.outcome {
        Outcome::Complete => RunStatus::Complete,
        Outcome::Diverged { epoch, batch } => RunStatus::Diverged { epoch, batch },
        Outcome::Interrupted => return Ok(Outcome::Interrupted),
    };
    let rows: Vec<MetricRow> = result
        .epochs
        .iter()
        .flat_map(|e| {
            [
                (Split::Train, e.train_loss, e.train_accuracy),
                (Split::Val, e.val_loss, e.val_accuracy),
            ]
            .map(|(split, loss, accuracy)| MetricRow {
                epoch: e.epoch as u32,
                split,
                loss,
                accuracy,
                seconds: e.seconds,
            })
        })
        .collect();
    let manifest = RunManifest {
        run_id: spec.run_id.clone(),
        experiment: spec.experiment.clone(),
        experiment_file: job.experiment_file.clone(),
        seed: spec.seed,
        config: spec.config.clone(),
        status,
        data: ctx.data_files.clone(),
        started_at: rfc3339(started_at),
        finished_at: rfc3339(SystemTime::now()),
        wall_seconds: clock.elapsed().as_secs_f64(),
        device: describe_device(&device),
        threads: ctx.threads,
        training_code_version: fmnist_train::TRAINING_CODE_VERSION,
        provenance: ctx.provenance.clone(),
    };
    ctx.store
        .write_run(&manifest, &rows)
        .with_context(|| format!("storing {}", job.name()))?;
    if let Some(last) = result.epochs.last() {
        progress.println(format!(
            "done   {}  val acc {:.2}%  {:.1}s",
            job.name(),
            100.0 * last.val_accuracy,
            manifest.wall_seconds
        ));
    }
    Ok(result.outcome)
}
