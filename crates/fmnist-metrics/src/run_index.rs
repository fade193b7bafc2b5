//! `runs.parquet`: one row per experiment and stored run of the current
//! plan, beside `metrics/`, so that every experiment's runs are found by its
//! name with one filter and one join on `run_id` (a run shared by several
//! experiments, since runs are content-addressed, has a row under each).
//! Each row says how far the run went (`status`, `epochs`) and holds every
//! resolved setting (`RunConfig::settings`) as a column of its own.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::atomic::atomic_write;
use crate::error::MetricsError;
use crate::manifest::RunStatus;
use crate::store::{Store, StoredRun};

/// The file name of the run index in the results directory.
pub const RUN_INDEX: &str = "runs.parquet";

/// One row of the run index.
#[derive(Debug, Clone, Copy)]
pub struct IndexRow<'a> {
    /// The experiment file's name: a sweep's name for its points.
    pub experiment: &'a str,
    /// The experiment's full name: a sweep point's name with its values
    /// (`lr-sweep[optimizer.lr=0.003]`), else the experiment's name.
    pub point: &'a str,
    pub run: &'a StoredRun,
}

/// `complete`, `stopped` (by its early-stopping rule), `pruned` (by
/// successive halving) or `diverged`.
pub fn status_word(run: &StoredRun) -> &'static str {
    match run.manifest.status {
        RunStatus::Complete if run.manifest.stopped_early.is_some() => "stopped",
        RunStatus::Complete => "complete",
        RunStatus::Pruned { .. } => "pruned",
        RunStatus::Diverged { .. } => "diverged",
    }
}

/// The last epoch the run recorded.
fn epochs_reached(run: &StoredRun) -> i64 {
    run.rows
        .iter()
        .map(|r| i64::from(r.epoch))
        .max()
        .unwrap_or(0)
}

/// One column per setting, in order of first appearance: numbers where
/// every value the column holds reads as one, text otherwise; null where a
/// run has no such setting (another optimizer's, a schedule's).
fn setting_columns(rows: &[IndexRow<'_>]) -> Vec<Column> {
    let per_run: Vec<Vec<(String, String)>> = (rows.iter())
        .map(|r| r.run.manifest.config.settings())
        .collect();
    let mut keys: Vec<&str> = Vec::new();
    for s in &per_run {
        for (k, _) in s {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    keys.iter()
        .map(|key| {
            let values: Vec<Option<&str>> = (per_run.iter())
                .map(|s| s.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()))
                .collect();
            let numbers: Option<Vec<Option<f64>>> = (values.iter())
                .map(|v| match v {
                    Some(v) => v.parse::<f64>().ok().map(Some),
                    None => Some(None),
                })
                .collect();
            match numbers {
                Some(n) => Column::new((*key).into(), n),
                None => Column::new((*key).into(), values),
            }
        })
        .collect()
}

/// The run index of `rows` as a table.
pub fn run_index(rows: &[IndexRow<'_>]) -> Result<DataFrame, PolarsError> {
    let n = rows.len();
    let mut columns = vec![
        Column::new(
            "experiment".into(),
            rows.iter().map(|r| r.experiment).collect::<Vec<_>>(),
        ),
        Column::new(
            "point".into(),
            rows.iter().map(|r| r.point).collect::<Vec<_>>(),
        ),
        Column::new(
            "run_id".into(),
            (rows.iter())
                .map(|r| r.run.manifest.run_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "seed".into(),
            (rows.iter())
                .map(|r| r.run.manifest.seed as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "status".into(),
            rows.iter().map(|r| status_word(r.run)).collect::<Vec<_>>(),
        ),
        Column::new(
            "epochs".into(),
            rows.iter()
                .map(|r| epochs_reached(r.run))
                .collect::<Vec<_>>(),
        ),
    ];
    columns.extend(setting_columns(rows));
    DataFrame::new(n, columns)
}

impl Store {
    /// Where [`Store::write_run_index`] writes.
    pub fn run_index_path(&self) -> PathBuf {
        self.root().join(RUN_INDEX)
    }

    /// Writes the run index of `rows`, sorted by experiment, point and
    /// seed, to `runs.parquet` whole (a temporary file, then a rename).
    pub fn write_run_index(&self, rows: &[IndexRow<'_>]) -> Result<PathBuf, MetricsError> {
        let path = self.run_index_path();
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| {
            (a.experiment, a.point, a.run.manifest.seed).cmp(&(
                b.experiment,
                b.point,
                b.run.manifest.seed,
            ))
        });
        let err = |e: PolarsError| parquet_error(&path, e);
        let mut df = run_index(&rows).map_err(err)?;
        let mut bytes: Vec<u8> = Vec::new();
        ParquetWriter::new(&mut bytes)
            .finish(&mut df)
            .map_err(err)?;
        atomic_write(&path, &bytes)?;
        Ok(path)
    }
}

fn parquet_error(path: &Path, e: PolarsError) -> MetricsError {
    MetricsError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::simple;
    use crate::manifest::StoppedEarly;

    #[test]
    fn each_experiment_has_its_rows_with_status_epochs_and_settings() {
        let shared = simple("baseline", 0, &[0.5, 0.6]);
        let mut pruned = simple("lr-sweep[optimizer.lr=0.1]", 0, &[0.5]);
        pruned.manifest.status = RunStatus::Pruned { epoch: 1 };
        pruned.manifest.config.model.hidden = vec![256, 128];
        let mut stopped = simple("stop", 1, &[0.5, 0.6]);
        stopped.manifest.stopped_early = Some(StoppedEarly {
            epoch: 2,
            reason: "no improvement".into(),
            kept_epoch: 1,
        });
        let rows = [
            IndexRow {
                experiment: "baseline",
                point: "baseline",
                run: &shared,
            },
            // The same run, planned by a sweep too.
            IndexRow {
                experiment: "lr-sweep",
                point: "lr-sweep[optimizer.lr=0.01]",
                run: &shared,
            },
            IndexRow {
                experiment: "lr-sweep",
                point: "lr-sweep[optimizer.lr=0.1]",
                run: &pruned,
            },
            IndexRow {
                experiment: "stop",
                point: "stop",
                run: &stopped,
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let path = store.write_run_index(&rows).unwrap();
        assert_eq!(path, dir.path().join("runs.parquet"));
        let df = crate::table::read_frame(&path).unwrap();
        assert_eq!(df.height(), 4);
        let text = |c: &str| -> Vec<String> {
            let col = df.column(c).unwrap().str().unwrap().clone();
            (0..col.len())
                .map(|i| col.get(i).unwrap_or("").to_string())
                .collect()
        };
        assert_eq!(
            text("experiment"),
            ["baseline", "lr-sweep", "lr-sweep", "stop"]
        );
        assert_eq!(
            text("status"),
            ["complete", "complete", "pruned", "stopped"]
        );
        assert_eq!(
            text("model.hidden"),
            ["128x64", "128x64", "256x128", "128x64"]
        );
        let epochs = df.column("epochs").unwrap().i64().unwrap().clone();
        let epochs: Vec<Option<i64>> = (0..epochs.len()).map(|i| epochs.get(i)).collect();
        assert_eq!(epochs, [Some(2), Some(2), Some(1), Some(2)]);
        let lr = df.column("optimizer.lr").unwrap();
        assert_eq!(lr.dtype(), &DataType::Float64);
        assert!(df.column("schedule.kind").is_ok());
        // Rewritten whole, no temporary file left.
        store.write_run_index(&rows[..1]).unwrap();
        assert_eq!(crate::table::read_frame(&path).unwrap().height(), 1);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["runs.parquet"]);
    }
}
