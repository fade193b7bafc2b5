//! The results directory: where each run lives, how it gets there atomically,
//! and reading everything back.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{MetricsError, io};
use crate::lock::{LockOutcome, acquire, process_alive};
use crate::manifest::RunManifest;
use crate::table::{MetricRow, read_parquet, write_parquet};

const METRICS_FILE: &str = "metrics.parquet";
const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A finished run read back from the store.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub manifest: RunManifest,
    pub rows: Vec<MetricRow>,
    /// The final network's confusion matrix on the validation images.
    pub confusion: Vec<crate::ConfusionCell>,
    /// The validation images it gets most confidently wrong, most confident first.
    pub mistakes: Vec<crate::Mistake>,
    pub dir: PathBuf,
}

/// Writes `bytes` to `path` through a temporary file in the same directory and
/// a rename, so that `path` holds either the old content or the new, whole.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), MetricsError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the Parquet files live: `polars.scan_parquet(f"{dir}/**/*.parquet")`.
    pub fn metrics_dir(&self) -> PathBuf {
        self.root.join("metrics")
    }

    fn run_dir(&self, experiment: &str, run_id: &str) -> PathBuf {
        self.metrics_dir().join(experiment).join(run_id)
    }

    /// The manifest of a finished run, if the store holds one.
    pub fn finished(&self, experiment: &str, run_id: &str) -> Option<RunManifest> {
        let dir = self.run_dir(experiment, run_id);
        if !dir.join(METRICS_FILE).is_file() {
            return None;
        }
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Locks a run for training; see [`crate::RunLock`].
    pub fn lock_run(&self, run_id: &str) -> Result<LockOutcome, MetricsError> {
        acquire(&self.root.join(".locks"), run_id)
    }

    /// Stores a finished run: both files are written into a staging directory,
    /// then the directory is renamed into place, replacing an older result.
    pub fn write_run(
        &self,
        manifest: &RunManifest,
        rows: &[MetricRow],
    ) -> Result<PathBuf, MetricsError> {
        let staging_root = self.root.join(".staging");
        std::fs::create_dir_all(&staging_root).map_err(io(&staging_root))?;
        let staging = staging_root.join(format!("{}.{}", manifest.run_id, std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        let result = self.publish(&staging, manifest, rows);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    fn publish(
        &self,
        staging: &Path,
        manifest: &RunManifest,
        rows: &[MetricRow],
    ) -> Result<PathBuf, MetricsError> {
        write_parquet(&staging.join(METRICS_FILE), manifest, rows)?;
        let json =
            serde_json::to_vec_pretty(manifest).map_err(|source| MetricsError::Manifest {
                path: staging.join(MANIFEST_FILE),
                source,
            })?;
        atomic_write(&staging.join(MANIFEST_FILE), &json)?;
        let target = self.run_dir(&manifest.experiment, &manifest.run_id);
        let parent = target.parent().expect("run dirs have a parent");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        if target.exists() {
            // A forced rerun: move the old result aside first, since a
            // directory cannot be renamed over a non-empty one.
            let old = staging.with_extension("old");
            std::fs::rename(&target, &old).map_err(io(&target))?;
            std::fs::rename(staging, &target).map_err(io(&target))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(staging, &target).map_err(io(&target))?;
        }
        Ok(target)
    }

    /// Removes what killed processes left half-written.
    pub fn clean_stale(&self) {
        let Ok(entries) = std::fs::read_dir(self.root.join(".staging")) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.split('.').nth(1).and_then(|p| p.parse::<u32>().ok());
            if pid.is_none_or(|p| !process_alive(p)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Every finished run, sorted by experiment, seed and run id.
    pub fn read_all(&self) -> Result<Vec<StoredRun>, MetricsError> {
        let mut runs = Vec::new();
        let metrics = self.metrics_dir();
        let Ok(experiments) = std::fs::read_dir(&metrics) else {
            return Ok(runs);
        };
        for exp in experiments {
            let exp = exp.map_err(io(&metrics))?.path();
            if !exp.is_dir() {
                continue;
            }
            for run in std::fs::read_dir(&exp).map_err(io(&exp))? {
                let dir = run.map_err(io(&exp))?.path();
                let manifest_path = dir.join(MANIFEST_FILE);
                if !dir.is_dir() || !manifest_path.is_file() {
                    continue;
                }
                let text = std::fs::read_to_string(&manifest_path).map_err(io(&manifest_path))?;
                let manifest: RunManifest =
                    serde_json::from_str(&text).map_err(|source| MetricsError::Manifest {
                        path: manifest_path.clone(),
                        source,
                    })?;
                let rows = read_parquet(&dir.join(METRICS_FILE))?;
                runs.push(StoredRun {
                    manifest,
                    rows,
                    confusion: Vec::new(),
                    mistakes: Vec::new(),
                    dir,
                });
            }
        }
        runs.sort_by(|a, b| {
            (&a.manifest.experiment, a.manifest.seed, &a.manifest.run_id).cmp(&(
                &b.manifest.experiment,
                b.manifest.seed,
                &b.manifest.run_id,
            ))
        });
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RunStatus;
    use crate::table::Split;
    use fmnist_experiments::{InputConfig, ModelConfig, OptimizerConfig, RunConfig};

    pub(crate) fn manifest(experiment: &str, run_id: &str, seed: u64) -> RunManifest {
        RunManifest {
            run_id: run_id.into(),
            experiment: experiment.into(),
            experiment_file: format!("experiments/{experiment}.toml"),
            seed,
            config: RunConfig {
                model: ModelConfig {
                    hidden: vec![128, 64],
                    dropout: 0.2,
                    init: "pytorch-linear".into(),
                },
                input: InputConfig {
                    mean: 0.5,
                    std: 0.5,
                },
                optimizer: OptimizerConfig::Sgd {
                    lr: 0.001,
                    momentum: 0.0,
                    dampening: 0.0,
                    nesterov: false,
                    weight_decay: 0.0,
                },
                batch_size: 100,
                epochs: 2,
                train_limit: None,
                val_limit: None,
            },
            status: RunStatus::Complete,
            data: vec![],
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            wall_seconds: 1.0,
            device: "cpu".into(),
            threads: 1,
            training_code_version: 1,

            provenance: crate::Provenance {
                git_commit: None,
                git_dirty: None,
                project_version: "0.0.0".into(),
                rustc_version: "rustc".into(),
                host: "h".into(),
                machine: String::new(),
            },
        }
    }

    fn rows(scale: f64) -> Vec<MetricRow> {
        let mut rows = Vec::new();
        for epoch in 1..=2 {
            for split in [Split::Train, Split::Val] {
                rows.push(MetricRow {
                    epoch,
                    split,
                    loss: scale / epoch as f64,
                    accuracy: 0.5 + 0.1 * epoch as f64,
                    seconds: 0.25,
                });
            }
        }
        rows
    }

    #[test]
    fn a_run_round_trips_through_parquet_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.finished("baseline", "abc").is_none());
        let m = manifest("baseline", "abc", 7);
        let path = store.write_run(&m, &rows(1.0)).unwrap();
        assert!(path.join("metrics.parquet").is_file());
        assert_eq!(store.finished("baseline", "abc"), Some(m.clone()));
        let all = store.read_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].manifest, m);
        assert_eq!(all[0].rows, rows(1.0));
        // Nothing is left in staging.
        assert_eq!(
            std::fs::read_dir(dir.path().join(".staging"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn rewriting_a_run_replaces_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let m = manifest("baseline", "abc", 0);
        store.write_run(&m, &rows(1.0)).unwrap();
        store.write_run(&m, &rows(3.0)).unwrap();
        let all = store.read_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].rows, rows(3.0));
    }

    #[test]
    fn a_half_written_run_is_invisible_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        // What a process killed while staging leaves behind.
        let staging = dir.path().join(".staging").join("abc.99999999");
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("metrics.parquet"), b"partial").unwrap();
        assert!(store.read_all().unwrap().is_empty());
        assert!(store.finished("baseline", "abc").is_none());
        store.clean_stale();
        assert!(!staging.exists());
    }

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/x.txt");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
