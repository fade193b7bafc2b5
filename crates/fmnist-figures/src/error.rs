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
    /// The claims file is not valid TOML or does not follow the schema; the
    /// message is the TOML parser's, with line and column.
    #[error("{path}: {message}")]
    ClaimsSyntax { path: PathBuf, message: String },
    /// A value in the claims file that parses as TOML but means nothing
    /// (a malformed term, an unknown operator, a missing `tol`, ...).
    #[error("{path}:{line}:{column}: {message}")]
    ClaimsInvalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A term of the claims file names an experiment that is not among the
    /// report's experiments (the files in `experiments/`).
    #[error(
        "{path}:{line}:{column}: no experiment named `{name}`{}",
        did_you_mean(.nearest.as_deref())
    )]
    ClaimsUnknownExperiment {
        path: PathBuf,
        line: usize,
        column: usize,
        name: String,
        /// The experiment name closest to `name` by edit distance; `None`
        /// when there are no experiments at all.
        nearest: Option<String>,
    },
    #[error("{path}: drawing failed: {message}")]
    Draw { path: PathBuf, message: String },
    #[error("the shipped font {name} is not a usable TrueType font")]
    Font { name: &'static str },
}

fn did_you_mean(nearest: Option<&str>) -> String {
    match nearest {
        Some(n) => format!("; did you mean `{n}`?"),
        None => "; there are no experiments (each is a file in experiments/)".into(),
    }
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> FiguresError + '_ {
    move |source| FiguresError::Io {
        path: path.to_path_buf(),
        source,
    }
}
