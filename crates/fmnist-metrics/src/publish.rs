//! Publishing a finished run: every file is written into a staging
//! directory, then moved into the store by renames in an order chosen so
//! that a reader of `metrics/` or `confusion/` never sees a table of a run
//! that is not stored, however the process is stopped.
//!
//! 1. stage: tables, weights, mistakes and manifest written under
//!    `.staging/<run_id>.<pid>/`;
//! 2. retire: an older result of the same id (a forced rerun, or a run
//!    directory an interrupted publication left without its tables) loses
//!    its table files first, then its run directory is moved into staging;
//! 3. the run directory is renamed into `runs/`;
//! 4. the two table files are renamed into `metrics/` and `confusion/`, the
//!    confusion table first and the metrics table last.
//!
//! Stopped after 2 or 3, the store holds a run directory without tables (or
//! nothing): not stored, trained again, and replaced whole by the next
//! publication.

use std::path::{Path, PathBuf};

use crate::atomic::atomic_write;
use crate::error::{MetricsError, io};
use crate::store::{MANIFEST_FILE, MISTAKES_FILE, MODEL_FILE, RunRecord, Store};
use crate::table::{write_confusion, write_parquet};

/// A run's files in its staging directory, ready to be placed.
pub(crate) struct StagedRun {
    pub(crate) dir: PathBuf,
    run_id: String,
}

impl StagedRun {
    fn run(&self) -> PathBuf {
        self.dir.join("run")
    }

    fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.parquet")
    }

    fn confusion(&self) -> PathBuf {
        self.dir.join("confusion.parquet")
    }
}

impl Store {
    /// Stores a finished run, replacing an older result of the same id (see
    /// the module documentation for the order of the steps). Returns the
    /// run's directory.
    pub fn write_run(&self, record: &RunRecord) -> Result<PathBuf, MetricsError> {
        let staged = self.stage(record)?;
        let result = self
            .retire(&staged)
            .and_then(|()| self.place_run_dir(&staged))
            .and_then(|()| self.place_tables(&staged));
        let _ = std::fs::remove_dir_all(&staged.dir);
        result.map(|()| self.run_dir(&record.manifest.run_id))
    }

    /// Step 1: every file of the run, written under `.staging/`.
    pub(crate) fn stage(&self, record: &RunRecord) -> Result<StagedRun, MetricsError> {
        let manifest = &record.manifest;
        let staging_root = self.root().join(".staging");
        let staged = StagedRun {
            dir: staging_root.join(format!("{}.{}", manifest.run_id, std::process::id())),
            run_id: manifest.run_id.clone(),
        };
        if staged.dir.exists() {
            std::fs::remove_dir_all(&staged.dir).map_err(io(&staged.dir))?;
        }
        let result = (|| {
            let run = staged.run();
            std::fs::create_dir_all(&run).map_err(io(&run))?;
            write_parquet(&staged.metrics(), manifest, &record.rows)?;
            write_confusion(&staged.confusion(), manifest, &record.confusion)?;
            atomic_write(&run.join(MODEL_FILE), &record.model)?;
            atomic_write(
                &run.join(MISTAKES_FILE),
                &json(&run, MISTAKES_FILE, &record.mistakes)?,
            )?;
            atomic_write(
                &run.join(MANIFEST_FILE),
                &json(&run, MANIFEST_FILE, manifest)?,
            )
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staged.dir);
            return Err(e);
        }
        Ok(staged)
    }

    /// Step 2: whatever the store holds under this id stops being stored:
    /// its tables go first, then its run directory moves into staging.
    pub(crate) fn retire(&self, staged: &StagedRun) -> Result<(), MetricsError> {
        let id = &staged.run_id;
        for table in [self.metrics_file(id), self.confusion_file(id)] {
            match std::fs::remove_file(&table) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(&table)(e));
                }
                _ => {}
            }
        }
        let target = self.run_dir(id);
        if target.exists() {
            // A directory cannot be renamed over a non-empty one.
            std::fs::rename(&target, staged.dir.join("old")).map_err(io(&target))?;
        }
        Ok(())
    }

    /// Step 3: the run directory, renamed into `runs/`.
    pub(crate) fn place_run_dir(&self, staged: &StagedRun) -> Result<(), MetricsError> {
        let target = self.run_dir(&staged.run_id);
        let parent = target.parent().expect("run dirs have a parent");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        std::fs::rename(staged.run(), &target).map_err(io(&target))
    }

    /// Step 4: the table files, renamed into their tables; with the metrics
    /// table in place the run is stored.
    pub(crate) fn place_tables(&self, staged: &StagedRun) -> Result<(), MetricsError> {
        let id = &staged.run_id;
        for (from, to) in [
            (staged.confusion(), self.confusion_file(id)),
            (staged.metrics(), self.metrics_file(id)),
        ] {
            let parent = to.parent().expect("table files have a parent");
            std::fs::create_dir_all(parent).map_err(io(parent))?;
            std::fs::rename(&from, &to).map_err(io(&to))?;
        }
        Ok(())
    }
}

fn json<T: serde::Serialize>(dir: &Path, name: &str, value: &T) -> Result<Vec<u8>, MetricsError> {
    serde_json::to_vec_pretty(value).map_err(|source| MetricsError::Manifest {
        path: dir.join(name),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::record;

    /// Every table file in `metrics/` and `confusion/` belongs to a stored run.
    fn only_stored_tables_visible(store: &Store) -> Vec<String> {
        let mut seen = Vec::new();
        for dir in [store.metrics_dir(), store.confusion_dir()] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(".parquet").expect("only Parquet here");
                assert!(
                    store.finished(id).is_some(),
                    "{} is a table of a run that is not stored",
                    entry.path().display()
                );
                seen.push(id.to_string());
            }
        }
        seen.sort();
        seen.dedup();
        seen
    }

    #[test]
    fn a_publication_stopped_after_any_step_shows_no_table_of_an_unstored_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write_run(&record("other", "keep", 0, 1.0)).unwrap();
        // A first publication, then a replacement (a forced rerun), each
        // stopped after every step in turn: what a kill there leaves.
        for replacing in [false, true] {
            for steps in 1..=4 {
                if !replacing {
                    let _ = std::fs::remove_dir_all(store.run_dir("abc"));
                    for f in [store.metrics_file("abc"), store.confusion_file("abc")] {
                        let _ = std::fs::remove_file(f);
                    }
                } else {
                    store.write_run(&record("baseline", "abc", 0, 1.0)).unwrap();
                }
                let staged = store.stage(&record("baseline", "abc", 0, 2.0)).unwrap();
                if steps >= 2 {
                    store.retire(&staged).unwrap();
                }
                if steps >= 3 {
                    store.place_run_dir(&staged).unwrap();
                }
                if steps >= 4 {
                    store.place_tables(&staged).unwrap();
                }
                let visible = only_stored_tables_visible(&store);
                let stored = store.finished("abc").is_some();
                let expected: &[&str] = if stored { &["abc", "keep"] } else { &["keep"] };
                assert_eq!(visible, expected, "replacing {replacing}, {steps} steps");
                // Stored before the steps that retire it, and after the last.
                assert_eq!(stored, steps == 4 || (replacing && steps == 1));
                // Whatever was left, the next publication replaces it whole.
                store.clean_stale();
                store.write_run(&record("baseline", "abc", 0, 3.0)).unwrap();
                let run = store.read_run("abc").unwrap().unwrap();
                assert_eq!(run.rows, record("baseline", "abc", 0, 3.0).rows);
                assert_eq!(only_stored_tables_visible(&store), ["abc", "keep"]);
            }
        }
    }

    #[test]
    fn tables_left_without_their_run_directory_are_removed() {
        // What a version that placed the tables first left when killed.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write_run(&record("baseline", "abc", 0, 1.0)).unwrap();
        std::fs::remove_dir_all(store.run_dir("abc")).unwrap();
        store.clean_stale();
        assert!(!store.metrics_file("abc").exists());
        assert!(!store.confusion_file("abc").exists());
    }
}
