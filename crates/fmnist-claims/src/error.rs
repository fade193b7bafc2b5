//! The one error type of the claims crate; every variant names the file it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The claims or seeds file is not valid TOML or does not follow the
    /// schema; the message is the TOML parser's, with line and column.
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    /// A value in the claims file that parses as TOML but means nothing
    /// (a malformed term, an unknown operator, a missing `tol`, ...).
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The seeds file's design does not fit the claims file (another
    /// level, an unknown kind); the message says how to fix it.
    #[error("{path}: {message}")]
    Design { path: PathBuf, message: String },
    /// A term of the claims file names an experiment that is not among the
    /// report's experiments (the files in `experiments/`).
    #[error(
        "{path}:{line}:{column}: no experiment named `{name}`{}",
        did_you_mean(.nearest.as_deref())
    )]
    UnknownExperiment {
        path: PathBuf,
        line: usize,
        column: usize,
        name: String,
        /// The closest experiment name (the project's one nearest-name
        /// rule); `None` when none is close or there are no experiments.
        nearest: Option<String>,
    },
}

fn did_you_mean(nearest: Option<&str>) -> String {
    match nearest {
        Some(n) => format!("; did you mean `{n}`?"),
        None => "; no experiment has a similar name (each is a file in experiments/)".into(),
    }
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ClaimsError + '_ {
    move |source| ClaimsError::Io {
        path: path.to_path_buf(),
        source,
    }
}
