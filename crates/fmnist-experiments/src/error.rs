//! The one error type of this crate; every variant names the file it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Syntax errors, unknown keys and wrong types, as the TOML parser reports
    /// them (with line and column), plus a suggestion where one helps.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}:{line}:{column}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        key: String,
        message: String,
    },
    #[error(
        "{path}: `{key}` is not set in this file nor in any file it extends; add it, e.g. `{example}`"
    )]
    Missing {
        path: PathBuf,
        key: String,
        example: String,
    },
    #[error("{path}:{line}:{column}: `extends`: cannot read {target}: {reason}")]
    ExtendsNotFound {
        path: PathBuf,
        line: usize,
        column: usize,
        target: PathBuf,
        reason: String,
    },
    #[error("`extends` forms a cycle: {}", chain.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" -> "))]
    ExtendsCycle { chain: Vec<PathBuf> },
    #[error("two experiments are named `{name}`: {first} and {second}; names must be unique")]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}
