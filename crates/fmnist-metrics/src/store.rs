//! The results directory: where each run lives, how it gets there atomically,
//! and reading everything back.
//!
//! ```text
//! RESULTS/
//!   metrics/<run_id>.parquet     one tidy table per run (only Parquet here, so the
//!   confusion/<run_id>.parquet   directory reads as one table in polars, pandas, DuckDB)
//!   runs/<run_id>/manifest.json  every setting, the data, the code, the machine
//!   runs/<run_id>/model.safetensors  the final network, PyTorch state_dict names
//!   runs/<run_id>/mistakes.json  the validation images it gets most confidently wrong
//!   corrupt/<run_id>-<n>/        a stored run with a part that could not be read, moved aside
//!   legacy/                      results of an earlier layout, moved aside
//!   .staging/  .locks/  .checkpoints/   work in progress, never read as results
//! ```
//!
//! A run is stored when its run directory (manifest and weights) and both
//! of its table files are in place; [`Store::write_run`] (in `publish`)
//! places them in that order, so every table file in `metrics/` and
//! `confusion/` belongs to a stored run.
//!
//! A run's confusion matrix and mistakes describe its final network on its
//! validation images, the set of its `val` rows: the official test set for
//! a run of the paper's setup, the training images held out for a run with
//! a validation split (`RunConfig::validation`; a mistake's `index` is then
//! a position in `fmnist_train::validation_set`, the held-out images in the
//! order of the training files). A split run's official test-set numbers
//! are its `test` rows.
//!
//! Runs are content-addressed: the run id is a hash of everything that
//! determines the numbers, not of the experiment's name, so two experiments
//! that resolve to the same settings share one stored run.

use std::path::{Path, PathBuf};

use crate::atomic::atomic_write;
use crate::classes::{ConfusionCell, Mistake};
use crate::error::{MetricsError, io};
use crate::lock::{LockOutcome, acquire, process_alive};
use crate::manifest::RunManifest;
use crate::table::{MetricRow, read_confusion, read_parquet};

pub(crate) const MANIFEST_FILE: &str = "manifest.json";
pub(crate) const MODEL_FILE: &str = "model.safetensors";
pub(crate) const MISTAKES_FILE: &str = "mistakes.json";

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// Everything a finished run leaves, as handed to [`Store::write_run`].
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub manifest: RunManifest,
    pub rows: Vec<MetricRow>,
    pub confusion: Vec<ConfusionCell>,
    pub mistakes: Vec<Mistake>,
    /// The final network, as safetensors bytes.
    pub model: Vec<u8>,
}

/// A finished run read back from the store.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub manifest: RunManifest,
    pub rows: Vec<MetricRow>,
    /// The final network's confusion matrix on the validation images (the
    /// held-out ones for a run with a validation split; see the module).
    pub confusion: Vec<ConfusionCell>,
    /// The validation images it gets most confidently wrong, most confident
    /// first (indices into the validation set; see the module).
    pub mistakes: Vec<Mistake>,
    /// The run's directory (manifest, model).
    pub dir: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metrics table: one Parquet file per run and nothing else, so
    /// `pandas.read_parquet(dir)` reads it whole.
    pub fn metrics_dir(&self) -> PathBuf {
        self.root.join("metrics")
    }

    /// The confusion-matrix table, laid out like [`Store::metrics_dir`].
    pub fn confusion_dir(&self) -> PathBuf {
        self.root.join("confusion")
    }

    /// Where the run's manifest, weights and mistakes live.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }

    /// The final weights of a stored run.
    pub fn model_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join(MODEL_FILE)
    }

    pub(crate) fn metrics_file(&self, run_id: &str) -> PathBuf {
        self.metrics_dir().join(format!("{run_id}.parquet"))
    }

    pub(crate) fn confusion_file(&self, run_id: &str) -> PathBuf {
        self.confusion_dir().join(format!("{run_id}.parquet"))
    }

    /// The manifest of a stored run: its run directory (manifest and weights)
    /// and both table files are in place. Cheap: the tables and weights are
    /// not read ([`Store::examine`] reads every part).
    pub fn finished(&self, run_id: &str) -> Option<RunManifest> {
        let dir = self.run_dir(run_id);
        if !dir.join(MODEL_FILE).is_file()
            || !self.metrics_file(run_id).is_file()
            || !self.confusion_file(run_id).is_file()
        {
            return None;
        }
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Locks a run for training; see [`crate::RunLock`].
    pub fn lock_run(&self, run_id: &str) -> Result<LockOutcome, MetricsError> {
        acquire(&self.root.join(".locks"), run_id)
    }

    /// Where the checkpoint of an unfinished run is kept between epochs.
    pub fn checkpoint_path(&self, run_id: &str) -> PathBuf {
        self.root
            .join(".checkpoints")
            .join(format!("{run_id}.ckpt"))
    }

    /// Replaces the run's checkpoint, atomically.
    pub fn write_checkpoint(&self, run_id: &str, bytes: &[u8]) -> Result<(), MetricsError> {
        atomic_write(&self.checkpoint_path(run_id), bytes)
    }

    /// The run's last checkpoint, if one was written.
    pub fn read_checkpoint(&self, run_id: &str) -> Option<Vec<u8>> {
        std::fs::read(self.checkpoint_path(run_id)).ok()
    }

    pub fn remove_checkpoint(&self, run_id: &str) {
        let _ = std::fs::remove_file(self.checkpoint_path(run_id));
    }

    /// Removes what killed processes left half-written: staging directories
    /// (`<run_id>.<pid>`), the temporary files of atomic writes
    /// (`.<name>.<pid>.tmp`) of checkpoints and locks, and table files whose
    /// run directory is absent (publication places the run directory first,
    /// so only a version that placed tables first leaves those).
    pub fn clean_stale(&self) {
        self.remove_orphan_tables();
        if let Ok(entries) = std::fs::read_dir(self.root.join(".staging")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let pid = name.rsplit('.').next().and_then(|p| p.parse::<u32>().ok());
                if pid.is_none_or(|p| !process_alive(p)) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        for dir in [".checkpoints", ".locks"] {
            let Ok(entries) = std::fs::read_dir(self.root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(stem) = name.strip_suffix(".tmp") else {
                    continue;
                };
                let pid = stem.rsplit('.').next().and_then(|p| p.parse::<u32>().ok());
                if pid.is_some_and(|p| !process_alive(p)) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// Gives every stored metrics table the columns of every quantity and
    /// the `images` column (see `table::upgrade_metrics`): a run stored
    /// before a quantity existed gets it as an empty column, one stored
    /// before `images` existed gets the images its `split` column implies,
    /// its other columns unchanged. Returns how many tables were rewritten.
    pub fn upgrade_tables(&self) -> Result<usize, MetricsError> {
        let Ok(entries) = std::fs::read_dir(self.metrics_dir()) else {
            return Ok(0);
        };
        let staging = self.root.join(".staging");
        std::fs::create_dir_all(&staging).map_err(crate::error::io(&staging))?;
        let mut upgraded = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "parquet") {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let tmp = staging.join(format!("{name}.{}", std::process::id()));
            upgraded += usize::from(crate::table::upgrade_metrics(&path, &tmp)?);
        }
        Ok(upgraded)
    }

    fn remove_orphan_tables(&self) {
        for dir in [self.metrics_dir(), self.confusion_dir()] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(run_id) = name.strip_suffix(".parquet") else {
                    continue;
                };
                if entry.path().is_file() && !self.run_dir(run_id).is_dir() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    /// Moves results stored by earlier versions of this program, which kept
    /// `metrics/<experiment>/<run_id>/{metrics.parquet,manifest.json}` and no
    /// weights, to `legacy/`, so that they are neither reused as if complete
    /// nor mixed into the metrics table. Returns how many runs were moved.
    pub fn move_legacy(&self) -> Result<usize, MetricsError> {
        let metrics = self.metrics_dir();
        let Ok(entries) = std::fs::read_dir(&metrics) else {
            return Ok(0);
        };
        let mut moved = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let runs = std::fs::read_dir(&path)
                .map_err(io(&path))?
                .flatten()
                .filter(|r| r.path().join(MANIFEST_FILE).is_file())
                .count();
            let target = self
                .root
                .join("legacy")
                .join("metrics")
                .join(entry.file_name());
            std::fs::create_dir_all(target.parent().expect("has a parent")).map_err(io(&target))?;
            if target.exists() {
                std::fs::remove_dir_all(&target).map_err(io(&target))?;
            }
            std::fs::rename(&path, &target).map_err(io(&path))?;
            moved += runs;
        }
        Ok(moved)
    }

    /// One finished run, read back whole.
    pub fn read_run(&self, run_id: &str) -> Result<Option<StoredRun>, MetricsError> {
        let Some(manifest) = self.finished(run_id) else {
            return Ok(None);
        };
        let dir = self.run_dir(run_id);
        let mut rows = read_parquet(&self.metrics_file(run_id))?;
        for row in &mut rows {
            if let Some(&s) = manifest.epoch_seconds.get(row.epoch as usize - 1) {
                row.seconds = s;
            }
        }
        let confusion = read_confusion(&self.confusion_file(run_id))?;
        let mistakes_path = dir.join(MISTAKES_FILE);
        let mistakes = match std::fs::read(&mistakes_path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| MetricsError::Manifest {
                    path: mistakes_path.clone(),
                    source,
                })?
            }
            Err(_) => Vec::new(),
        };
        Ok(Some(StoredRun {
            manifest,
            rows,
            confusion,
            mistakes,
            dir,
        }))
    }

    /// Every finished run, sorted by experiment, seed and run id.
    pub fn read_all(&self) -> Result<Vec<StoredRun>, MetricsError> {
        let mut runs = Vec::new();
        let dir = self.root.join("runs");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(runs);
        };
        for entry in entries {
            let entry = entry.map_err(io(&dir))?;
            let id = entry.file_name().to_string_lossy().into_owned();
            if let Some(run) = self.read_run(&id)? {
                runs.push(run);
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
pub(crate) mod tests {
    use super::*;
    use crate::manifest::RunStatus;
    use fmnist_experiments::RunConfig;
    use fmnist_experiments::{Measures, Quantity, Split};

    pub(crate) fn manifest(experiment: &str, run_id: &str, seed: u64) -> RunManifest {
        RunManifest {
            run_id: run_id.into(),
            experiment: experiment.into(),
            experiment_file: format!("experiments/{experiment}.toml"),
            seed,
            config: RunConfig {
                epochs: 2,
                ..RunConfig::table_one()
            },
            status: RunStatus::Complete,
            data: vec![],
            classes: vec!["a".into(), "b".into()],
            architecture: crate::Architecture {
                layer_sizes: vec![784, 128, 64, 10],
                torch: "nn.Sequential()".into(),
            },
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            wall_seconds: 1.0,
            epoch_seconds: vec![0.25, 0.25],
            device: "cpu".into(),
            threads: 1,
            training_code_version: 1,
            resumed_from_epoch: None,
            stopped_early: None,
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

    #[test]
    fn the_images_column_tells_held_out_validation_from_the_official_test_set() {
        use fmnist_experiments::{EpochReport, ValidationSplit};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let m = Measures::default()
            .with(Quantity::Loss, 0.5)
            .with(Quantity::Accuracy, 0.75);
        let report = |epoch, test: &Measures| EpochReport {
            epoch,
            train: m.clone().with(Quantity::GradNorm, 1.0),
            val: m.clone().with(Quantity::Accuracy, 0.8),
            test: test.clone(),
            seconds: 0.25,
        };
        // The paper's setup: no test rows, the val rows official-test,
        // even where rows are made for every split.
        let epochs = [
            report(1, &Measures::default()),
            report(2, &Measures::default()),
        ];
        let paper = RunRecord {
            rows: MetricRow::of_reports(&epochs),
            ..record("paper", "aaaa", 0, 1.0)
        };
        let splits = |rows: &[MetricRow]| rows.iter().map(|r| r.split).collect::<Vec<_>>();
        assert_eq!(
            splits(&paper.rows),
            [Split::Train, Split::Val, Split::Train, Split::Val]
        );
        let every_split: Vec<MetricRow> = (epochs.iter())
            .flat_map(|e| {
                Split::ALL.map(|split| MetricRow {
                    epoch: e.epoch as u32,
                    split,
                    values: e.split(split).clone(),
                    seconds: e.seconds,
                })
            })
            .collect();
        store
            .write_run(&RunRecord {
                rows: every_split,
                ..paper.clone()
            })
            .unwrap();
        assert_eq!(
            strings(&store, "aaaa", "split"),
            ["train", "val", "train", "val"]
        );
        assert_eq!(
            strings(&store, "aaaa", "images"),
            ["train", "official-test", "train", "official-test"]
        );
        assert_eq!(store.read_run("aaaa").unwrap().unwrap().rows, paper.rows);
        // A split run: val rows held-out, test rows official-test.
        let mut split = record("split", "bbbb", 0, 1.0);
        split.manifest.run_id = "bbbb".into();
        split.manifest.config.validation = Some(ValidationSplit {
            images: 10_000,
            seed: 0,
        });
        let test = m.clone().with(Quantity::Accuracy, 0.7);
        split.rows = MetricRow::of_reports(&[report(1, &test), report(2, &test)]);
        store.write_run(&split).unwrap();
        assert_eq!(
            strings(&store, "bbbb", "split"),
            ["train", "val", "test", "train", "val", "test"]
        );
        assert_eq!(
            strings(&store, "bbbb", "images")[..3],
            ["train", "held-out", "official-test"]
        );
        let back = store.read_run("bbbb").unwrap().unwrap();
        assert_eq!(back.rows, split.rows);
        assert_eq!(
            back.manifest.config.validation,
            split.manifest.config.validation
        );
        let test_rows: Vec<&MetricRow> = back
            .rows
            .iter()
            .filter(|r| r.split == Split::Test)
            .collect();
        assert_eq!(test_rows.len(), 2);
        assert!(test_rows.iter().all(|r| r.values == test));
        // Both tables read as one, with one images column.
        assert_eq!(store.upgrade_tables().unwrap(), 0);
    }

    fn rows(scale: f64) -> Vec<MetricRow> {
        let mut rows = Vec::new();
        for epoch in 1..=2 {
            for split in [Split::Train, Split::Val] {
                let mut values = Measures::default()
                    .with(Quantity::Loss, scale / epoch as f64)
                    .with(Quantity::Accuracy, 0.5 + 0.1 * epoch as f64);
                if split == Split::Train {
                    values.set(Quantity::GradNorm, 2.0 * scale);
                }
                rows.push(MetricRow {
                    epoch,
                    split,
                    values,
                    seconds: 0.25,
                });
            }
        }
        rows
    }

    /// A stored run with these validation accuracies, one per epoch.
    pub(crate) fn stored_run(val_acc: &[f64], status: RunStatus) -> StoredRun {
        let rows = (1..)
            .zip(val_acc)
            .map(|(epoch, &acc)| MetricRow {
                epoch,
                split: Split::Val,
                values: Measures::default()
                    .with(Quantity::Loss, 1.0)
                    .with(Quantity::Accuracy, acc),
                seconds: 0.25,
            })
            .collect();
        StoredRun {
            manifest: RunManifest {
                status,
                ..manifest("e", "r", 0)
            },
            rows,
            confusion: vec![],
            mistakes: vec![],
            dir: std::path::PathBuf::new(),
        }
    }

    /// A safetensors file of one tensor of two f32s.
    pub(crate) fn safetensors() -> Vec<u8> {
        let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0u8; 8]);
        bytes
    }

    pub(crate) fn record(experiment: &str, run_id: &str, seed: u64, scale: f64) -> RunRecord {
        RunRecord {
            manifest: manifest(experiment, run_id, seed),
            rows: rows(scale),
            confusion: (0..2u8)
                .flat_map(|t| {
                    (0..2u8).map(move |p| ConfusionCell {
                        true_class: t,
                        predicted_class: p,
                        count: if t == p { 40 } else { 10 },
                    })
                })
                .collect(),
            mistakes: vec![Mistake {
                index: 3,
                true_class: 0,
                predicted_class: 1,
                confidence: 0.75,
            }],
            model: safetensors(),
        }
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn a_run_round_trips_through_parquet_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.finished("abc").is_none());
        let r = record("baseline", "abc", 7, 1.0);
        let path = store.write_run(&r).unwrap();
        assert_eq!(path, store.run_dir("abc"));
        assert_eq!(
            listing(&path),
            ["manifest.json", "mistakes.json", "model.safetensors"]
        );
        // The table directories hold Parquet files and nothing else.
        assert_eq!(listing(&store.metrics_dir()), ["abc.parquet"]);
        assert_eq!(listing(&store.confusion_dir()), ["abc.parquet"]);
        assert_eq!(store.finished("abc"), Some(r.manifest.clone()));
        assert_eq!(
            std::fs::read(store.model_path("abc")).unwrap(),
            safetensors()
        );
        let all = store.read_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].manifest, r.manifest);
        assert_eq!(all[0].rows, r.rows);
        assert_eq!(all[0].confusion, r.confusion);
        assert_eq!(all[0].mistakes, r.mistakes);
        // Nothing is left in staging.
        assert_eq!(listing(&dir.path().join(".staging")), Vec::<String>::new());
    }

    #[test]
    fn rewriting_a_run_replaces_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write_run(&record("baseline", "abc", 0, 1.0)).unwrap();
        store.write_run(&record("baseline", "abc", 0, 3.0)).unwrap();
        let all = store.read_all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].rows, rows(3.0));
        assert_eq!(listing(&dir.path().join(".staging")), Vec::<String>::new());
    }

    #[test]
    fn a_run_missing_any_part_is_not_finished() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write_run(&record("baseline", "abc", 0, 1.0)).unwrap();
        for part in [
            store.model_path("abc"),
            store.metrics_file("abc"),
            store.confusion_file("abc"),
        ] {
            let bytes = std::fs::read(&part).unwrap();
            std::fs::remove_file(&part).unwrap();
            assert!(store.finished("abc").is_none(), "{}", part.display());
            assert!(store.read_all().unwrap().is_empty());
            std::fs::write(&part, bytes).unwrap();
            assert!(store.finished("abc").is_some());
        }
    }

    #[test]
    fn a_half_written_run_is_invisible_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        // What a process killed while staging leaves behind.
        let staging = dir.path().join(".staging").join("abc.99999999");
        std::fs::create_dir_all(staging.join("run")).unwrap();
        std::fs::write(staging.join("metrics.parquet"), b"partial").unwrap();
        assert!(store.read_all().unwrap().is_empty());
        assert!(store.finished("abc").is_none());
        // A checkpoint whose writer was killed mid-write.
        let tmp = dir.path().join(".checkpoints/.abc.ckpt.99999999.tmp");
        std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
        std::fs::write(&tmp, b"half").unwrap();
        store.write_checkpoint("abc", b"whole").unwrap();
        store.clean_stale();
        assert!(!staging.exists());
        assert!(!tmp.exists());
        assert_eq!(store.read_checkpoint("abc").as_deref(), Some(&b"whole"[..]));
    }

    #[test]
    fn checkpoints_are_replaced_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.read_checkpoint("r"), None);
        store.write_checkpoint("r", b"epoch 1").unwrap();
        store.write_checkpoint("r", b"epoch 2").unwrap();
        assert_eq!(store.read_checkpoint("r").as_deref(), Some(&b"epoch 2"[..]));
        assert_eq!(listing(&dir.path().join(".checkpoints")), ["r.ckpt"]);
        store.remove_checkpoint("r");
        assert_eq!(store.read_checkpoint("r"), None);
    }

    #[test]
    fn results_of_the_old_layout_are_moved_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let old = dir.path().join("metrics/baseline/abc");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join("manifest.json"), b"{}").unwrap();
        std::fs::write(old.join("metrics.parquet"), b"x").unwrap();
        store.write_run(&record("baseline", "def", 0, 1.0)).unwrap();
        assert_eq!(store.move_legacy().unwrap(), 1);
        assert_eq!(listing(&store.metrics_dir()), ["def.parquet"]);
        assert!(
            dir.path()
                .join("legacy/metrics/baseline/abc/manifest.json")
                .is_file()
        );
        assert_eq!(store.move_legacy().unwrap(), 0);
        assert_eq!(store.read_all().unwrap().len(), 1);
    }

    /// A column of strings of a stored metrics table.
    fn strings(store: &Store, run_id: &str, column: &str) -> Vec<String> {
        let df = crate::table::read_frame(&store.metrics_file(run_id)).unwrap();
        let c = df.column(column).unwrap().str().unwrap().clone();
        (0..c.len())
            .map(|i| c.get(i).unwrap().to_string())
            .collect()
    }

    #[test]
    fn tables_stored_before_a_quantity_existed_get_it_as_an_empty_column() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let record = record("a", "0123456789abcdef", 0, 1.0);
        store.write_run(&record).unwrap();
        let written = strings(&store, "0123456789abcdef", "images");
        // As an older version wrote it: no grad_norm column, no images column.
        let path = store.metrics_file("0123456789abcdef");
        let old = crate::table::read_frame(&path)
            .unwrap()
            .drop("grad_norm")
            .unwrap()
            .drop("images")
            .unwrap();
        crate::table::write_frame(&path, &mut old.clone()).unwrap();
        assert_eq!(store.upgrade_tables().unwrap(), 1);
        assert_eq!(store.upgrade_tables().unwrap(), 0, "already upgraded");
        let new = crate::table::read_frame(&path).unwrap();
        let names: Vec<String> = new
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names[4..9],
            ["split", "images", "loss", "accuracy", "grad_norm"]
        );
        assert_eq!(new.column("grad_norm").unwrap().null_count(), new.height());
        // The images the older run's splits held: it held none out.
        let images = strings(&store, "0123456789abcdef", "images");
        assert_eq!(images, written);
        assert_eq!(images[..2], ["train", "official-test"]);
        for name in old.get_column_names() {
            assert_eq!(
                new.column(name).unwrap(),
                old.column(name).unwrap(),
                "{name}"
            );
        }
        let run = store.read_run("0123456789abcdef").unwrap().unwrap();
        assert!(
            run.rows
                .iter()
                .all(|r| r.values.get(Quantity::GradNorm).is_none())
        );
        assert_eq!(run.rows.len(), record.rows.len());
    }

    #[test]
    fn hidden_widths_are_spelt_one_way_and_older_tables_are_respelt() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store
            .write_run(&record("a", "0123456789abcdef", 0, 1.0))
            .unwrap();
        let spelt = strings(&store, "0123456789abcdef", "hidden");
        assert!(spelt.iter().all(|h| h == "128x64"), "{spelt:?}");
        assert_eq!(store.upgrade_tables().unwrap(), 0);
        // As an older version wrote it: `128-64`.
        let path = store.metrics_file("0123456789abcdef");
        let mut old = crate::table::read_frame(&path).unwrap();
        let n = old.height();
        old.with_column(polars::prelude::Column::new(
            "hidden".into(),
            vec!["128-64"; n],
        ))
        .unwrap();
        crate::table::write_frame(&path, &mut old).unwrap();
        assert_eq!(store.upgrade_tables().unwrap(), 1);
        assert_eq!(strings(&store, "0123456789abcdef", "hidden"), spelt);
        assert_eq!(store.upgrade_tables().unwrap(), 0, "already upgraded");
    }
}
