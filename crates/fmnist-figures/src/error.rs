//! The one error type of this crate; every variant names the file it concerns.

use std::path::PathBuf;

use fmnist_metrics::MetricsError;

#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing through the metrics crate's `atomic_write`; its message names the file.
    #[error(transparent)]
    Write(#[from] MetricsError),
    /// The report's content could not be computed (the claims file); the
    /// message names the file, line and column.
    #[error(transparent)]
    Report(#[from] fmnist_report::ReportError),
    #[error("{path}: drawing failed: {message}")]
    Draw { path: PathBuf, message: String },
    #[error("the shipped font {name} is not a usable TrueType font")]
    Font { name: &'static str },
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FiguresError + '_ {
    move |source| FiguresError::Io {
        path: path.to_path_buf(),
        source,
    }
}
