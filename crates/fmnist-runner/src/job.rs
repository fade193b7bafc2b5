//! The unit of work: a [`Job`] (one run of the plan, possibly only to a
//! rung), and what a plan leaves to train once the store has been read.

use fmnist_experiments::RunSpec;
use fmnist_metrics::{RunState, RunStatus, Store};
use fmnist_train::Checkpoint;
use serde::{Deserialize, Serialize};

use crate::error::RunnerError;

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
    pub reused: std::collections::BTreeSet<String>,
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
pub fn pending(jobs: Vec<Job>, store: &Store, force: bool) -> Result<Pending, RunnerError> {
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
        let state = store.examine(&job.spec.run_id).map_err(|e| {
            RunnerError::store(format!("reading the stored run of {}", job.name()), e)
        })?;
        match state {
            // A run pruned before the epochs this job needs trains on.
            RunState::Stored(m) if matches!(m.status, RunStatus::Pruned { epoch } if epoch < job.needed_epochs()) => {
                out.todo.push(job)
            }
            RunState::Stored(_) => {
                out.reused.insert(job.spec.run_id.clone());
            }
            RunState::Absent | RunState::Partial if job.done_in(store) => {
                out.reused.insert(job.spec.run_id.clone());
            }
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

/// "1 run", "2 runs".
pub fn runs(n: usize) -> String {
    format!("{n} run{}", if n == 1 { "" } else { "s" })
}

/// "1 stored run", "2 stored runs".
pub fn stored_runs(n: usize) -> String {
    format!("{n} stored run{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_s_rung_travels_in_slurm_plans_and_older_plans_have_none() {
        let job = Job {
            spec: RunSpec {
                experiment: "baseline".into(),
                config: fmnist_experiments::RunConfig::table_one(),
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
