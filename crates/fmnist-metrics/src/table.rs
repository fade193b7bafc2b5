//! The tidy table of a run: one row per (epoch, split), written with polars.

use std::path::Path;

use polars::prelude::*;

use crate::error::MetricsError;
use crate::manifest::RunManifest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Val,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// 1-based.
    pub epoch: u32,
    pub split: Split,
    pub loss: f64,
    pub accuracy: f64,
    /// Wall time of the whole epoch (training and evaluation).
    pub seconds: f64,
}

fn parquet_err(path: &Path) -> impl FnOnce(PolarsError) -> MetricsError + '_ {
    move |e| MetricsError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The columns every reader can rely on, then a few settings repeated on each
/// row so that a query can filter without joining the manifests.
pub(crate) fn write_parquet(
    path: &Path,
    manifest: &RunManifest,
    rows: &[MetricRow],
) -> Result<(), MetricsError> {
    let n = rows.len();
    let c = &manifest.config;
    let hidden = c
        .model
        .hidden
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join("-");
    let mut df = DataFrame::new(
        n,
        vec![
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
                "loss".into(),
                rows.iter().map(|r| r.loss).collect::<Vec<_>>(),
            ),
            Column::new(
                "accuracy".into(),
                rows.iter().map(|r| r.accuracy).collect::<Vec<_>>(),
            ),
            Column::new(
                "seconds".into(),
                rows.iter().map(|r| r.seconds).collect::<Vec<_>>(),
            ),
            Column::new("optimizer".into(), vec![c.optimizer.name(); n]),
            Column::new("lr".into(), vec![c.optimizer.lr(); n]),
            Column::new("dropout".into(), vec![c.model.dropout; n]),
            Column::new("hidden".into(), vec![hidden.as_str(); n]),
            Column::new("batch_size".into(), vec![c.batch_size as i64; n]),
        ],
    )
    .map_err(parquet_err(path))?;
    let mut file = std::fs::File::create(path).map_err(crate::error::io(path))?;
    ParquetWriter::new(&mut file)
        .finish(&mut df)
        .map_err(parquet_err(path))?;
    file.sync_all().map_err(crate::error::io(path))?;
    Ok(())
}

pub(crate) fn read_parquet(path: &Path) -> Result<Vec<MetricRow>, MetricsError> {
    let file = std::fs::File::open(path).map_err(crate::error::io(path))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(parquet_err(path))?;
    let col = |name: &str| df.column(name).map_err(parquet_err(path));
    let epoch = col("epoch")?.i64().map_err(parquet_err(path))?;
    let split = col("split")?.str().map_err(parquet_err(path))?;
    let loss = col("loss")?.f64().map_err(parquet_err(path))?;
    let accuracy = col("accuracy")?.f64().map_err(parquet_err(path))?;
    let seconds = col("seconds")?.f64().map_err(parquet_err(path))?;
    let corrupt = |message: &str| MetricsError::Corrupt {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let split = match split.get(i) {
            Some("train") => Split::Train,
            Some("val") => Split::Val,
            _ => return Err(corrupt("split must be \"train\" or \"val\"")),
        };
        rows.push(MetricRow {
            epoch: epoch.get(i).ok_or_else(|| corrupt("null epoch"))? as u32,
            split,
            loss: loss.get(i).ok_or_else(|| corrupt("null loss"))?,
            accuracy: accuracy.get(i).ok_or_else(|| corrupt("null accuracy"))?,
            seconds: seconds.get(i).ok_or_else(|| corrupt("null seconds"))?,
        });
    }
    Ok(rows)
}
