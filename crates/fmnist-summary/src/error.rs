//! The one error type of the summary and the diff.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}, line {line}: {message}")]
    Parse {
        what: String,
        line: usize,
        message: String,
    },
    #[error("{what}: no column {column:?}")]
    MissingColumn { what: String, column: String },
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
}

impl SummaryError {
    pub(crate) fn parse(what: &str, line: usize, message: &str) -> Self {
        SummaryError::Parse {
            what: what.to_string(),
            line,
            message: message.to_string(),
        }
    }
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SummaryError + '_ {
    move |source| SummaryError::Io {
        path: path.to_path_buf(),
        source,
    }
}
