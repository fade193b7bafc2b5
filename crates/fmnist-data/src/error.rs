//! The crate's single error type.
//!
//! Every message names the file (or manifest) concerned and what was wrong
//! with it, so a caller can print `{err}` and stop. Underlying errors are
//! folded into the message rather than exposed as `source()`, so error-chain
//! printers (`anyhow`'s `{:#}`) do not repeat them.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while reading the manifest, fetching,
/// verifying or decoding the data set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A filesystem operation failed.
    #[error("{action} {}: {error}", path.display())]
    Io {
        /// What was being done, e.g. "reading" or "creating directory".
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },

    /// The manifest is not valid TOML or does not have the expected shape;
    /// `error` carries the line and column.
    #[error("manifest {origin}: {error}")]
    ManifestParse {
        /// Path of the manifest, or a description such as `<embedded>`.
        origin: String,
        error: Box<toml::de::Error>,
    },

    /// The manifest parsed but is inconsistent (missing role, bad digest...).
    #[error("manifest {origin}: {problem}")]
    ManifestInvalid { origin: String, problem: String },

    /// A data file that `load` needs is not in the data directory.
    #[error("{file}: not found at {}; fetch the data set first", path.display())]
    Missing { file: String, path: PathBuf },

    /// A data file is present but is not the pinned one (bad gzip stream,
    /// wrong length or digest).
    #[error("{file}: {problem}")]
    Corrupt { file: String, problem: String },

    /// The decompressed payload is not a well-formed IDX file of the
    /// expected kind.
    #[error("{file}: invalid IDX data: {problem}")]
    Idx { file: String, problem: String },

    /// An image file and its label file disagree on the number of examples.
    #[error("{images_file} holds {images} images but {labels_file} holds {labels} labels")]
    CountMismatch {
        images_file: String,
        images: usize,
        labels_file: String,
        labels: usize,
    },

    /// A validation split that cannot be carved from the training images
    /// (see [`crate::split`]).
    #[error("validation split: {0}")]
    Split(String),

    /// No source could supply a verified copy of `file`. `attempts` holds
    /// `(source, reason)` for every source tried, in order.
    /// `help` is the manifest's advice on where to get the data.
    #[error("{}", AllSourcesFailedDisplay { file, attempts, help })]
    AllSourcesFailed {
        file: String,
        attempts: Vec<(String, String)>,
        help: Option<String>,
    },
}

impl DataError {
    /// Shorthand for `DataError::Io`, for use with `map_err`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |error| DataError::Io {
            action,
            path,
            error,
        }
    }

    pub(crate) fn idx(file: &str, problem: impl Into<String>) -> Self {
        DataError::Idx {
            file: file.to_owned(),
            problem: problem.into(),
        }
    }
}

struct AllSourcesFailedDisplay<'a> {
    file: &'a str,
    attempts: &'a [(String, String)],
    help: &'a Option<String>,
}

impl fmt::Display for AllSourcesFailedDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attempts.is_empty() {
            write!(
                f,
                "could not obtain {}: no source to try (the public URLs are off, \
                 as with --offline, and no mirror directory or URL was named)\nto fix: ",
                self.file
            )?;
            if let Some(help) = self.help {
                write!(f, "{help}; or ")?;
            }
            return write!(
                f,
                "copy the .gz files into a directory and pass `--mirror DIR` (or an http URL); \
                 or drop --offline to download them"
            );
        }
        write!(f, "could not obtain {} from any source:", self.file)?;
        for (source, reason) in self.attempts {
            write!(f, "\n  - {source}: {reason}")?;
        }
        write!(f, "\nto fix: ")?;
        if let Some(help) = self.help {
            write!(f, "{help}; or ")?;
        }
        write!(
            f,
            "copy the .gz files into a directory and pass `--mirror DIR` (or an http URL); \
             or check the network connection"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_sources_failed_lists_every_attempt() {
        let err = DataError::AllSourcesFailed {
            file: "x.gz".into(),
            attempts: vec![
                ("/mirror/x.gz".into(), "not present".into()),
                ("http://h/x.gz".into(), "http status 404".into()),
            ],
            help: Some("install the package".into()),
        };
        let msg = err.to_string();
        assert!(
            msg.starts_with("could not obtain x.gz from any source:"),
            "{msg}"
        );
        assert!(msg.contains("- /mirror/x.gz: not present"), "{msg}");
        assert!(msg.contains("- http://h/x.gz: http status 404"), "{msg}");
        // It ends with what to do.
        let last = msg.lines().last().unwrap();
        assert!(
            last.starts_with("to fix: install the package; or "),
            "{msg}"
        );
        assert!(
            last.contains("--mirror DIR") && last.contains("network"),
            "{msg}"
        );
    }

    #[test]
    fn all_sources_failed_without_sources_says_so() {
        let err = DataError::AllSourcesFailed {
            file: "x.gz".into(),
            attempts: vec![],
            help: None,
        };
        let msg = err.to_string();
        assert!(msg.contains("no source to try"), "{msg}");
        // It says what to do.
        let last = msg.lines().last().unwrap();
        assert!(
            last.starts_with("to fix: ")
                && last.contains("--mirror DIR")
                && last.contains("--offline"),
            "{msg}"
        );
    }
}
