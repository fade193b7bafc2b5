//! The Slurm executor: the runs still missing are frozen into a plan file in
//! the results directory, one job array is submitted with `sbatch` (one task
//! per run), and each task runs this binary's hidden `run-task` command, which
//! trains its run and stores it exactly as a local run would (same run ids,
//! same locks, same checkpoints, same atomic publication). A task stopped by
//! Slurm (SIGTERM before a time limit, preemption, `scancel`) keeps its last
//! epoch's checkpoint, so the next submission resumes it. The results directory is the only
//! thing tasks share, and the store, not Slurm's accounting, says what is done.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fmnist_metrics::{Store, atomic_write};
use serde::{Deserialize, Serialize};

use crate::cli::{RunTaskArgs, SlurmArgs};
use crate::setup::{self, DataSet};
use fmnist_runner::{self as runner, Context, Job, Tally};

/// What every task needs, frozen at submission time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The data set's manifest (`--dataset`); `None` for the pinned one.
    #[serde(default)]
    pub dataset: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub results: PathBuf,
    pub device: String,
    pub threads: usize,
    /// `--force`: tasks retrain even if their run is stored.
    pub force: bool,
    /// The runs, one per array task, in task order.
    pub runs: Vec<Job>,
}

/// Submits the missing runs of `jobs` as one array and waits for it.
pub fn execute(
    jobs: Vec<Job>,
    ctx: &Context,
    slurm: &SlurmArgs,
    data: &DataSet,
    dataset: Option<&Path>,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    ctx.store.clean_stale();
    let pending = runner::pending(jobs, &ctx.store, ctx.force)?;
    for line in &pending.moved_aside {
        eprintln!("CORRUPT {line}");
    }
    let missing = pending.todo;
    let mut summary = Tally {
        reused: pending.reused,
        ..Tally::default()
    };
    if missing.is_empty() {
        return Ok(summary);
    }
    let cwd = std::env::current_dir()?;
    let slurm_dir = cwd.join(ctx.store.root()).join("slurm");
    let plan = Plan {
        dataset: dataset.map(|d| cwd.join(d)),
        data_dir: cwd.join(&data.dir),
        results: cwd.join(ctx.store.root()),
        device: ctx.device.to_string(),
        threads: ctx.threads,
        force: ctx.force,
        runs: missing,
    };
    let plan_json = serde_json::to_vec_pretty(&plan)?;
    let tag = &blake3::hash(&plan_json).to_hex()[..12];
    let plan_path = slurm_dir.join(format!("plan-{tag}.json"));
    atomic_write(&plan_path, &plan_json)?;
    let binary = std::env::current_exe().context("locating the fmnist binary")?;
    let script = batch_script(
        &plan_path,
        plan.runs.len(),
        &binary,
        &cwd,
        &slurm_dir,
        slurm,
    );
    let script_path = slurm_dir.join(format!("job-{tag}.sh"));
    atomic_write(&script_path, script.as_bytes())?;
    std::fs::create_dir_all(slurm_dir.join("logs"))?;

    let job_id = submit(&script_path)?;
    eprintln!(
        "slurm: submitted job array {job_id} with {} tasks ({} reused); plan {}, logs {}",
        plan.runs.len(),
        runner::stored_runs(summary.reused.len()),
        plan_path.display(),
        slurm_dir.join("logs").display()
    );
    wait(&job_id, &plan, ctx, &slurm_dir)?;

    for (i, job) in plan.runs.iter().enumerate() {
        let run = &job.spec;
        match ctx.store.finished(&run.run_id) {
            None if job.until.is_some() && job.done_in(&ctx.store) => {
                summary.trained.insert(run.run_id.clone());
                summary.rung_passes += 1;
            }
            Some(m) => {
                summary.trained.insert(run.run_id.clone());
                if let fmnist_metrics::RunStatus::Diverged { .. } = m.status {
                    let text = format!("seed {} {}", run.seed, m.status);
                    summary.diverged.push(format!("{}: {text}", run.experiment));
                }
            }
            None => {
                let log = slurm_dir.join("logs").join(format!("{job_id}_{i}.out"));
                summary.failed.push(format!(
                    "{} seed {} (task {job_id}_{i}) left no result: {}",
                    run.experiment,
                    run.seed,
                    last_words(&log)
                ));
            }
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// What a task's log says last: Slurm writes its own verdict there
/// ("*** JOB 12 ON node CANCELLED AT ... ***", time limits, OOM kills).
fn last_words(log: &Path) -> String {
    match std::fs::read_to_string(log) {
        Err(_) => format!(
            "it never started (no log at {}; cancelled while pending?)",
            log.display()
        ),
        Ok(text) => {
            let tail: Vec<&str> = text.lines().rev().take(2).collect();
            format!(
                "its log {} ends with: {}",
                log.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            )
        }
    }
}

/// The batch script of one job array over a frozen plan.
pub fn batch_script(
    plan: &Path,
    tasks: usize,
    binary: &Path,
    root: &Path,
    slurm_dir: &Path,
    slurm: &SlurmArgs,
) -> String {
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        "# Written by `fmnist ... --executor slurm`: one array task per run of the plan.".into(),
        "#SBATCH --job-name=fmnist".into(),
        match slurm.max_parallel {
            Some(k) => format!("#SBATCH --array=0-{}%{k}", tasks - 1),
            None => format!("#SBATCH --array=0-{}", tasks - 1),
        },
        format!("#SBATCH --cpus-per-task={}", slurm.cpus),
        format!("#SBATCH --mem={}", slurm.mem),
        format!("#SBATCH --time={}", slurm.time),
        // SIGTERM to the task (the batch shell execs the binary) 90 s before
        // the time limit: it stops after its batch, keeps the last epoch's
        // checkpoint, and the next submission resumes from there.
        "#SBATCH --signal=B:TERM@90".into(),
        format!(
            "#SBATCH --output={}",
            slurm_dir.join("logs").join("%A_%a.out").display()
        ),
    ];
    if let Some(p) = &slurm.partition {
        lines.push(format!("#SBATCH --partition={p}"));
    }
    lines.extend(slurm.extra.iter().map(|a| format!("#SBATCH {a}")));
    lines.push("set -euo pipefail".into());
    lines.push(format!(
        "exec {} --root {} run-task --plan {} --index \"$SLURM_ARRAY_TASK_ID\"",
        shell_quote(&binary.display().to_string()),
        shell_quote(&root.display().to_string()),
        shell_quote(&plan.display().to_string())
    ));
    lines.join("\n") + "\n"
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn submit(script: &Path) -> anyhow::Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "`sbatch` not found: --executor slurm needs Slurm's client commands on PATH (run on a login node), or use --executor local"
                )
            } else {
                anyhow::anyhow!("running sbatch: {e}")
            }
        })?;
    if !out.status.success() {
        bail!(
            "sbatch rejected the job ({}): {}; the script is {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            script.display()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id: {text:?}");
    }
    Ok(id)
}

/// Polls Slurm until the array has left the queue, showing its states and
/// the runs stored so far. Ctrl-C cancels the array.
fn wait(job_id: &str, plan: &Plan, ctx: &Context, slurm_dir: &Path) -> anyhow::Result<()> {
    let mut last = String::new();
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            let _ = Command::new("scancel").arg(job_id).status();
            bail!(
                "interrupted: cancelled job {job_id}; stored runs are kept, submit again for the rest"
            );
        }
        let out = Command::new("squeue")
            .args(["-h", "-r", "-j", job_id, "-o", "%T"])
            .output()
            .context("running squeue")?;
        let states = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // squeue forgets a job shortly after it ends ("Invalid job id").
        if states.trim().is_empty() || (!out.status.success() && stderr.contains("Invalid job id"))
        {
            return Ok(());
        }
        if !out.status.success() {
            bail!("squeue failed for job {job_id}: {}", stderr.trim());
        }
        let mut counts = std::collections::BTreeMap::new();
        for s in states.split_whitespace() {
            *counts.entry(s.to_string()).or_insert(0) += 1;
        }
        let stored = plan.runs.iter().filter(|j| j.done_in(&ctx.store)).count();
        let line = format!(
            "slurm: job {job_id}: {} ; {stored}/{} runs stored (logs in {})",
            counts
                .iter()
                .map(|(k, v)| format!("{v} {}", k.to_lowercase()))
                .collect::<Vec<_>>()
                .join(", "),
            plan.runs.len(),
            slurm_dir.join("logs").display()
        );
        if line != last {
            eprintln!("{line}");
            last = line;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
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
    let text = std::fs::read(&args.plan)
        .with_context(|| format!("reading the plan {}", args.plan.display()))?;
    let plan: Plan = serde_json::from_slice(&text)
        .with_context(|| format!("parsing the plan {}", args.plan.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_script_matches_its_snapshot() {
        let slurm = SlurmArgs {
            partition: Some("cpu".into()),
            time: "00:30:00".into(),
            cpus: 2,
            mem: "2G".into(),
            max_parallel: Some(4),
            extra: vec!["--account=lab".into(), "--qos=short".into()],
        };
        let script = batch_script(
            Path::new("/data/repo/results/slurm/plan-abc.json"),
            33,
            Path::new("/data/repo/target/debug/fmnist"),
            Path::new("/data/my repo"),
            Path::new("/data/repo/results/slurm"),
            &slurm,
        );
        let expected = r#"#!/bin/bash
# Written by `fmnist ... --executor slurm`: one array task per run of the plan.
#SBATCH --job-name=fmnist
#SBATCH --array=0-32%4
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=00:30:00
#SBATCH --signal=B:TERM@90
#SBATCH --output=/data/repo/results/slurm/logs/%A_%a.out
#SBATCH --partition=cpu
#SBATCH --account=lab
#SBATCH --qos=short
set -euo pipefail
exec /data/repo/target/debug/fmnist --root '/data/my repo' run-task --plan /data/repo/results/slurm/plan-abc.json --index "$SLURM_ARRAY_TASK_ID"
"#;
        assert_eq!(script, expected);
    }

    #[test]
    fn without_a_limit_the_array_has_no_percent() {
        let script = batch_script(
            Path::new("p.json"),
            1,
            Path::new("fmnist"),
            Path::new("."),
            Path::new("s"),
            &SlurmArgs {
                time: "1:00".into(),
                cpus: 1,
                mem: "1G".into(),
                ..SlurmArgs::default()
            },
        );
        assert!(script.contains("#SBATCH --array=0-0\n"), "{script}");
        assert!(!script.contains("--partition"));
    }
}
