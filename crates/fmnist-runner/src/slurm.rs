//! The Slurm executor: the runs still missing are frozen into a plan file in
//! the results directory, one job array is submitted with `sbatch` (one task
//! per run), and each task runs the binary's hidden `run-task` command, which
//! trains its run and stores it exactly as a local run would (same run ids,
//! same locks, same checkpoints, same atomic publication). A task stopped by
//! Slurm (SIGTERM before a time limit, preemption, `scancel`) keeps its last
//! epoch's checkpoint, so the next submission resumes it. The results
//! directory is the only thing tasks share, and the store, not Slurm's
//! accounting, says what is done.
//!
//! The binary turns its command line into [`Resources`] and a
//! [`Submission`], and runs each task of a [`Plan`] on the local pool.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fmnist_metrics::{RunStatus, atomic_write};
use serde::{Deserialize, Serialize};

use crate::error::RunnerError;
use crate::job::{Job, pending, stored_runs};
use crate::observe::Observer;
use crate::pool::{Context, Tally};

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

impl Plan {
    /// Reads a plan that [`execute`] froze.
    pub fn read(path: &Path) -> Result<Plan, RunnerError> {
        let text = std::fs::read(path).map_err(|e| {
            RunnerError::Executor(format!("reading the plan {}: {e}", path.display()))
        })?;
        serde_json::from_slice(&text)
            .map_err(|e| RunnerError::Executor(format!("parsing the plan {}: {e}", path.display())))
    }
}

/// What each array task asks of Slurm (`sbatch` options).
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// `--partition`; `None`: the cluster's default.
    pub partition: Option<String>,
    /// `--time`, per task.
    pub time: String,
    /// `--cpus-per-task`.
    pub cpus: usize,
    /// `--mem`, per task.
    pub mem: String,
    /// The `%N` of `--array`: most tasks running at once.
    pub max_parallel: Option<usize>,
    /// Extra sbatch arguments, each written as an `#SBATCH` line.
    pub extra: Vec<String>,
}

/// Where a submission's tasks find things, and who hears about it.
pub struct Submission<'a> {
    pub resources: &'a Resources,
    /// The binary each task runs (`run-task`).
    pub binary: PathBuf,
    /// The directory the tasks run in (their `--root`); the paths below and
    /// the store's root are resolved against it.
    pub root: PathBuf,
    /// The data set's manifest (`--dataset`); `None` for the pinned one.
    pub dataset: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// Hears the submission, the array's states and the runs moved aside.
    pub observer: &'a dyn Observer,
}

/// Submits the missing runs of `jobs` as one array and waits for it.
pub fn execute(jobs: Vec<Job>, ctx: &Context, sub: &Submission<'_>) -> Result<Tally, RunnerError> {
    let started = Instant::now();
    ctx.store.clean_stale();
    let pending = pending(jobs, &ctx.store, ctx.force)?;
    for line in &pending.moved_aside {
        sub.observer.println(format!("CORRUPT {line}"));
    }
    let mut summary = Tally {
        reused: pending.reused,
        ..Tally::default()
    };
    if pending.todo.is_empty() {
        return Ok(summary);
    }
    let slurm_dir = sub.root.join(ctx.store.root()).join("slurm");
    let plan = Plan {
        dataset: sub.dataset.as_ref().map(|d| sub.root.join(d)),
        data_dir: sub.root.join(&sub.data_dir),
        results: sub.root.join(ctx.store.root()),
        device: ctx.device.to_string(),
        threads: ctx.threads,
        force: ctx.force,
        runs: pending.todo,
    };
    let (plan_path, script_path) = freeze(&plan, &slurm_dir, sub)?;
    let job_id = submit(&script_path)?;
    sub.observer.println(format!(
        "slurm: submitted job array {job_id} with {} tasks ({} reused); plan {}, logs {}",
        plan.runs.len(),
        stored_runs(summary.reused.len()),
        plan_path.display(),
        slurm_dir.join("logs").display()
    ));
    wait(&job_id, &plan, ctx, &slurm_dir, sub.observer)?;
    account(&plan, ctx, &job_id, &slurm_dir, &mut summary);
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Writes the plan and its batch script into `slurm_dir`, named by the
/// plan's hash; returns their paths.
fn freeze(
    plan: &Plan,
    slurm_dir: &Path,
    sub: &Submission<'_>,
) -> Result<(PathBuf, PathBuf), RunnerError> {
    let failed = |e: &dyn std::fmt::Display| RunnerError::Executor(e.to_string());
    let plan_json = serde_json::to_vec_pretty(plan).map_err(|e| failed(&e))?;
    let tag = &blake3::hash(&plan_json).to_hex()[..12];
    let plan_path = slurm_dir.join(format!("plan-{tag}.json"));
    atomic_write(&plan_path, &plan_json).map_err(|e| failed(&e))?;
    let script = batch_script(
        &plan_path,
        plan.runs.len(),
        &sub.binary,
        &sub.root,
        slurm_dir,
        sub.resources,
    );
    let script_path = slurm_dir.join(format!("job-{tag}.sh"));
    atomic_write(&script_path, script.as_bytes()).map_err(|e| failed(&e))?;
    std::fs::create_dir_all(slurm_dir.join("logs")).map_err(|e| failed(&e))?;
    Ok((plan_path, script_path))
}

/// Adds what the array left in the store to `summary`: each run stored (or
/// at its rung) is trained, each other a failure quoting its task's log.
fn account(plan: &Plan, ctx: &Context, job_id: &str, slurm_dir: &Path, summary: &mut Tally) {
    for (i, job) in plan.runs.iter().enumerate() {
        let run = &job.spec;
        match ctx.store.finished(&run.run_id) {
            None if job.until.is_some() && job.done_in(&ctx.store) => {
                summary.trained.insert(run.run_id.clone());
                summary.rung_passes += 1;
            }
            Some(m) => {
                summary.trained.insert(run.run_id.clone());
                if let RunStatus::Diverged { .. } = m.status {
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
    slurm: &Resources,
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

fn submit(script: &Path) -> Result<String, RunnerError> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| {
            RunnerError::Executor(if e.kind() == std::io::ErrorKind::NotFound {
                "`sbatch` not found: --executor slurm needs Slurm's client commands on PATH (run on a login node), or use --executor local".to_string()
            } else {
                format!("running sbatch: {e}")
            })
        })?;
    if !out.status.success() {
        return Err(RunnerError::Executor(format!(
            "sbatch rejected the job ({}): {}; the script is {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            script.display()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(RunnerError::Executor(format!(
            "sbatch printed no job id: {text:?}"
        )));
    }
    Ok(id)
}

/// Polls Slurm until the array has left the queue, telling `observer` its
/// states and the runs stored so far. The stop flag cancels the array.
fn wait(
    job_id: &str,
    plan: &Plan,
    ctx: &Context,
    slurm_dir: &Path,
    observer: &dyn Observer,
) -> Result<(), RunnerError> {
    let mut last = String::new();
    loop {
        if ctx.stop.load(Ordering::Relaxed) {
            let _ = Command::new("scancel").arg(job_id).status();
            return Err(RunnerError::Executor(format!(
                "interrupted: cancelled job {job_id}; stored runs are kept, submit again for the rest"
            )));
        }
        let out = Command::new("squeue")
            .args(["-h", "-r", "-j", job_id, "-o", "%T"])
            .output()
            .map_err(|e| RunnerError::Executor(format!("running squeue: {e}")))?;
        let states = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // squeue forgets a job shortly after it ends ("Invalid job id").
        if states.trim().is_empty() || (!out.status.success() && stderr.contains("Invalid job id"))
        {
            return Ok(());
        }
        if !out.status.success() {
            return Err(RunnerError::Executor(format!(
                "squeue failed for job {job_id}: {}",
                stderr.trim()
            )));
        }
        let line = queue_line(job_id, &states, plan, ctx, slurm_dir);
        if line != last {
            observer.println(line.clone());
            last = line;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `slurm: job 12: 3 running, 5 pending ; 2/10 runs stored (logs in ...)`.
fn queue_line(job_id: &str, states: &str, plan: &Plan, ctx: &Context, slurm_dir: &Path) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for s in states.split_whitespace() {
        *counts.entry(s.to_string()).or_insert(0) += 1;
    }
    let stored = plan.runs.iter().filter(|j| j.done_in(&ctx.store)).count();
    format!(
        "slurm: job {job_id}: {} ; {stored}/{} runs stored (logs in {})",
        counts
            .iter()
            .map(|(k, v)| format!("{v} {}", k.to_lowercase()))
            .collect::<Vec<_>>()
            .join(", "),
        plan.runs.len(),
        slurm_dir.join("logs").display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_script_matches_its_snapshot() {
        let slurm = Resources {
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
            &Resources {
                time: "1:00".into(),
                cpus: 1,
                mem: "1G".into(),
                ..Resources::default()
            },
        );
        assert!(script.contains("#SBATCH --array=0-0\n"), "{script}");
        assert!(!script.contains("--partition"));
    }

    #[test]
    fn a_frozen_plan_reads_back_and_a_bad_one_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan {
            dataset: None,
            data_dir: "/data".into(),
            results: "/results".into(),
            device: "cpu".into(),
            threads: 1,
            force: false,
            runs: Vec::new(),
        };
        let path = dir.path().join("plan.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
        assert_eq!(Plan::read(&path).unwrap(), plan);
        std::fs::write(&path, "{").unwrap();
        let err = Plan::read(&path).unwrap_err().to_string();
        assert!(err.starts_with("parsing the plan "), "{err}");
        assert!(err.contains("plan.json"), "{err}");
    }
}
