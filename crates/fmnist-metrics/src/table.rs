//! The tidy table of a run: one row per (epoch, split), written with polars.
//!
//! Two columns say which set a row measures, so that a one-line read of the
//! whole directory cannot mix them up: `split` is the set's role (`train`,
//! `val`: the set every decision reads, `test`: measured apart, never
//! decided on) and `images` the images themselves (`train`, `held-out`:
//! training images held out by a validation split, `official-test`). A run
//! of the paper's setup has `val` rows of `official-test` images and no
//! `test` rows; a run with a split has `val` rows of `held-out` images and
//! `test` rows of `official-test` images. So `images == "official-test"`
//! selects every run's official test-set numbers and `split == "val"`
//! every run's validation numbers.

use std::path::Path;

use fmnist_experiments::{EpochReport, Measures, Quantity, Split};
use polars::prelude::*;

use crate::classes::ConfusionCell;
use crate::error::MetricsError;
use crate::manifest::RunManifest;

/// One row of the metrics table: an epoch of one split, with every
/// quantity of the vocabulary measured there.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// 1-based.
    pub epoch: u32,
    pub split: Split,
    pub values: Measures,
    /// Wall time of the whole epoch (training and evaluation). Kept in the
    /// manifest, not in the Parquet table, so that a run's table is the
    /// same bytes however often it is trained.
    pub seconds: f64,
}

/// The column naming the images of a row (see the module's doc).
pub(crate) const IMAGES_COLUMN: &str = "images";

impl MetricRow {
    /// The rows of a run's epoch reports: per epoch, one row for each split
    /// it measured ([`EpochReport::measured`]: train and val, and test for
    /// a run with a validation split).
    pub fn of_reports(epochs: &[EpochReport]) -> Vec<MetricRow> {
        epochs
            .iter()
            .flat_map(|e| {
                e.measured().map(|split| MetricRow {
                    epoch: e.epoch as u32,
                    split,
                    values: e.split(split).clone(),
                    seconds: e.seconds,
                })
            })
            .collect()
    }
}

/// Writes a frame to `path` and makes it durable (the caller renames it into place).
pub(crate) fn write_frame(path: &Path, df: &mut DataFrame) -> Result<(), MetricsError> {
    let mut file = std::fs::File::create(path).map_err(crate::error::io(path))?;
    ParquetWriter::new(&mut file)
        .finish(df)
        .map_err(parquet_err(path))?;
    file.sync_all().map_err(crate::error::io(path))
}

pub(crate) fn read_frame(path: &Path) -> Result<DataFrame, MetricsError> {
    let file = std::fs::File::open(path).map_err(crate::error::io(path))?;
    ParquetReader::new(file).finish().map_err(parquet_err(path))
}

fn parquet_err(path: &Path) -> impl FnOnce(PolarsError) -> MetricsError + '_ {
    move |e| MetricsError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The columns every reader can rely on, then a few settings repeated on each
/// row so that a query can filter without joining the manifests. A row that
/// measured nothing (the test split of a run without a validation split,
/// where rows are made for every split) is not written.
pub(crate) fn write_parquet(
    path: &Path,
    manifest: &RunManifest,
    rows: &[MetricRow],
) -> Result<(), MetricsError> {
    let rows: Vec<&MetricRow> = rows.iter().filter(|r| !r.values.is_empty()).collect();
    let held_out = manifest.config.validation.is_some();
    let n = rows.len();
    let c = &manifest.config;
    let hidden = c.model.hidden_spelling();
    let mut columns = vec![
        Column::new("experiment".into(), vec![manifest.experiment.as_str(); n]),
        Column::new("run_id".into(), vec![manifest.run_id.as_str(); n]),
        Column::new("seed".into(), vec![manifest.seed as i64; n]),
        Column::new(
            "epoch".into(),
            rows.iter().map(|r| r.epoch as i64).collect::<Vec<_>>(),
        ),
        Column::new(
            "split".into(),
            rows.iter().map(|r| r.split.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            IMAGES_COLUMN.into(),
            (rows.iter())
                .map(|r| r.split.images(held_out))
                .collect::<Vec<_>>(),
        ),
    ];
    // One column per quantity of the vocabulary, null where it is not
    // measured (a quantity of the training split on validation rows).
    for &q in Quantity::ALL {
        let values: Vec<Option<f64>> = rows.iter().map(|r| r.values.get(q)).collect();
        columns.push(Column::new(q.name().into(), values));
    }
    columns.extend([
        Column::new("optimizer".into(), vec![c.optimizer.name(); n]),
        Column::new("lr".into(), vec![c.optimizer.lr(); n]),
        Column::new("dropout".into(), vec![c.model.dropout; n]),
        Column::new("hidden".into(), vec![hidden.as_str(); n]),
        Column::new("batch_size".into(), vec![c.batch_size as i64; n]),
    ]);
    let mut df = DataFrame::new(n, columns).map_err(parquet_err(path))?;
    write_frame(path, &mut df)
}

/// Rewrites the metrics table at `path` with every column this version
/// writes, in the writer's order: the quantity columns of the vocabulary it
/// lacks as empty (null) columns, and the `images` column, which a table
/// stored before it existed gets from its `split` column (such runs held no
/// images out: `train` rows are `train` images, `val` rows `official-test`
/// ones). So a directory mixing runs stored before and after a column
/// existed reads as one table in any Parquet reader. The `hidden` column
/// of an older table is respelt `128x64`. Writes `tmp` and
/// renames it over `path`; returns whether anything was added.
pub(crate) fn upgrade_metrics(path: &Path, tmp: &Path) -> Result<bool, MetricsError> {
    let df = read_frame(path)?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    let old_hidden = old_hidden_spelling(&df);
    if has(IMAGES_COLUMN) && Quantity::ALL.iter().all(|q| has(q.name())) && !old_hidden {
        return Ok(false);
    }
    let n = df.height();
    let mut columns: Vec<Column> = Vec::new();
    let settings_start = names
        .iter()
        .position(|c| c == "optimizer")
        .unwrap_or(names.len());
    for name in &names[..settings_start] {
        if Quantity::parse(name).is_none() && name != IMAGES_COLUMN {
            columns.push(df.column(name).map_err(parquet_err(path))?.clone());
        }
        if name == "split" {
            columns.push(images_column(&df, path)?);
        }
    }
    for &q in Quantity::ALL {
        columns.push(match df.column(q.name()) {
            Ok(c) => c.clone(),
            Err(_) => Column::new(q.name().into(), vec![None::<f64>; n]),
        });
    }
    for name in &names[settings_start..] {
        let column = df.column(name).map_err(parquet_err(path))?;
        columns.push(match (name.as_str(), column.str()) {
            // Tables stored before the one spelling wrote `128-64`.
            ("hidden", Ok(text)) => Column::new(
                "hidden".into(),
                (0..text.len())
                    .map(|i| text.get(i).map(|v| v.replace('-', "x")))
                    .collect::<Vec<_>>(),
            ),
            _ => column.clone(),
        });
    }
    let mut out = DataFrame::new(n, columns).map_err(parquet_err(path))?;
    write_frame(tmp, &mut out)?;
    std::fs::rename(tmp, path).map_err(crate::error::io(path))?;
    Ok(true)
}

/// Whether the table spells its hidden widths as tables stored before
/// `128x64` did (`128-64`).
fn old_hidden_spelling(df: &DataFrame) -> bool {
    df.column("hidden")
        .ok()
        .and_then(|c| {
            c.str()
                .ok()
                .map(|t| (0..t.len()).any(|i| t.get(i).is_some_and(|v| v.contains('-'))))
        })
        .unwrap_or(false)
}

/// The table's `images` column, or the one a table stored before it existed
/// implies (no images held out).
fn images_column(df: &DataFrame, path: &Path) -> Result<Column, MetricsError> {
    if let Ok(images) = df.column(IMAGES_COLUMN) {
        return Ok(images.clone());
    }
    let split = df
        .column("split")
        .and_then(|c| c.str())
        .map_err(parquet_err(path))?;
    let images: Vec<Option<&str>> = (0..split.len())
        .map(|i| split.get(i).and_then(Split::parse).map(|s| s.images(false)))
        .collect();
    Ok(Column::new(IMAGES_COLUMN.into(), images))
}

/// Reads a metrics table. A quantity column that the file lacks (a run
/// stored before the quantity existed) reads as absent; a null in a column
/// the file has means the quantity was not measured on that row.
pub(crate) fn read_parquet(path: &Path) -> Result<Vec<MetricRow>, MetricsError> {
    let df = read_frame(path)?;
    let col = |name: &str| df.column(name).map_err(parquet_err(path));
    let epoch = col("epoch")?.i64().map_err(parquet_err(path))?;
    let split = col("split")?.str().map_err(parquet_err(path))?;
    let quantities = Quantity::ALL
        .iter()
        .filter_map(|&q| match df.column(q.name()) {
            Err(_) => None,
            Ok(c) => Some(c.f64().map(|c| (q, c)).map_err(parquet_err(path))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let corrupt = |message: String| MetricsError::Corrupt {
        path: path.to_path_buf(),
        message,
    };
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let split = split
            .get(i)
            .and_then(Split::parse)
            .ok_or_else(|| corrupt("split must be \"train\", \"val\" or \"test\"".into()))?;
        let mut values = Measures::default();
        for (q, column) in &quantities {
            match column.get(i) {
                Some(v) => values.set(*q, v),
                None if q.measured_on(split) && q.always_recorded() => {
                    return Err(corrupt(format!("null {q} on a {split} row")));
                }
                None => {}
            }
        }
        rows.push(MetricRow {
            epoch: epoch.get(i).ok_or_else(|| corrupt("null epoch".into()))? as u32,
            split,
            values,
            // Wall time is not part of the table (see `RunManifest::epoch_seconds`).
            seconds: 0.0,
        });
    }
    Ok(rows)
}

/// The confusion matrix of a run as a tidy table: one row per (true class,
/// predicted class), zeros included, with the class names beside the indices.
pub(crate) fn write_confusion(
    path: &Path,
    manifest: &RunManifest,
    cells: &[ConfusionCell],
) -> Result<(), MetricsError> {
    let n = cells.len();
    let name = |c: u8| {
        manifest
            .classes
            .get(usize::from(c))
            .cloned()
            .unwrap_or_else(|| c.to_string())
    };
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("experiment".into(), vec![manifest.experiment.as_str(); n]),
            Column::new("run_id".into(), vec![manifest.run_id.as_str(); n]),
            Column::new("seed".into(), vec![manifest.seed as i64; n]),
            Column::new(
                "true_class".into(),
                cells
                    .iter()
                    .map(|c| i64::from(c.true_class))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "true_name".into(),
                cells.iter().map(|c| name(c.true_class)).collect::<Vec<_>>(),
            ),
            Column::new(
                "predicted_class".into(),
                cells
                    .iter()
                    .map(|c| i64::from(c.predicted_class))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "predicted_name".into(),
                cells
                    .iter()
                    .map(|c| name(c.predicted_class))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "count".into(),
                cells.iter().map(|c| i64::from(c.count)).collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(parquet_err(path))?;
    write_frame(path, &mut df)
}

pub(crate) fn read_confusion(path: &Path) -> Result<Vec<ConfusionCell>, MetricsError> {
    let df = read_frame(path)?;
    let col = |name: &str| -> Result<Vec<Option<i64>>, MetricsError> {
        df.column(name)
            .and_then(|c| c.i64().map(|c| (0..c.len()).map(|i| c.get(i)).collect()))
            .map_err(parquet_err(path))
    };
    let (t, p, n) = (col("true_class")?, col("predicted_class")?, col("count")?);
    let corrupt = || MetricsError::Corrupt {
        path: path.to_path_buf(),
        message: "null or out-of-range class or count".into(),
    };
    t.into_iter()
        .zip(p)
        .zip(n)
        .map(|((t, p), n)| {
            Ok(ConfusionCell {
                true_class: t.and_then(|v| u8::try_from(v).ok()).ok_or_else(corrupt)?,
                predicted_class: p.and_then(|v| u8::try_from(v).ok()).ok_or_else(corrupt)?,
                count: n.and_then(|v| u32::try_from(v).ok()).ok_or_else(corrupt)?,
            })
        })
        .collect()
}
