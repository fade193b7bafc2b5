//! `--executor slurm` and the hidden `run-task` command, wired to the Slurm
//! executor of `fmnist-runner` (`fmnist_runner::slurm`): here only the
//! command line's options, the paths the tasks need, and each task's
//! context (its data, device, progress lines).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use fmnist_metrics::Store;
use fmnist_runner::slurm::{Plan, Resources, Submission};
use fmnist_runner::{self as runner, Context, Job, Tally};

use crate::cli::{RunTaskArgs, SlurmArgs};
use crate::setup::{self, DataSet};

/// Submits the missing runs of `jobs` as one array and waits for it.
pub fn execute(
    jobs: Vec<Job>,
    ctx: &Context,
    slurm: &SlurmArgs,
    data: &DataSet,
    dataset: Option<&Path>,
) -> anyhow::Result<Tally> {
    let resources = Resources {
        partition: slurm.partition.clone(),
        time: slurm.time.clone(),
        cpus: slurm.cpus,
        mem: slurm.mem.clone(),
        max_parallel: slurm.max_parallel,
        extra: slurm.extra.clone(),
    };
    let submission = Submission {
        resources: &resources,
        binary: std::env::current_exe().context("locating the fmnist binary")?,
        root: std::env::current_dir()?,
        dataset: dataset.map(Path::to_path_buf),
        data_dir: data.dir.clone(),
        observer: &runner::Lines,
    };
    Ok(runner::slurm::execute(jobs, ctx, &submission)?)
}

/// One array task: trains run `index` of the plan into the shared store.
pub fn run_task(args: &RunTaskArgs) -> anyhow::Result<ExitCode> {
    let index = match args.index {
        Some(i) => i,
        None => std::env::var("SLURM_ARRAY_TASK_ID")
            .context("no --index and no SLURM_ARRAY_TASK_ID")?
            .parse()
            .context("SLURM_ARRAY_TASK_ID is not a number")?,
    };
    let plan = Plan::read(&args.plan)?;
    let Some(job) = plan.runs.get(index) else {
        bail!(
            "task {index} is beyond the plan's {} runs ({})",
            plan.runs.len(),
            args.plan.display()
        );
    };
    setup::set_threads(plan.threads);
    let stop = setup::install_interrupt();
    let data_set = DataSet::choose(plan.dataset.as_deref(), Some(plan.data_dir.clone()))?;
    let data = data_set.load()?;
    let ctx = Context {
        store: Store::new(&plan.results),
        data: Arc::new(data),
        data_files: data_set.files(),
        device: plan.device.parse()?,
        workers: 1,
        threads: plan.threads,
        force: plan.force,
        stop,
        provenance: crate::provenance::collect(Path::new(".")),
        observer: Arc::new(crate::progress::Bars::default()),
    };
    let summary = runner::execute(vec![job.clone()], &ctx)?;
    eprintln!(
        "task {index}: {}: trained {}, already stored {}, resumed {}, failed {}, interrupted {}",
        job.name(),
        summary.trained_runs(),
        summary.reused_runs(),
        summary.resumed,
        summary.failed.len(),
        summary.interrupted
    );
    Ok(if summary.failed.is_empty() && summary.interrupted == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
